#!/usr/bin/env bash
# Regenerates the committed PDF fixtures in tests/fixtures/pdf/ (our own text, see README there).
# Needs qpdf from Debian's packages (apt-get install qpdf) for the two encrypted copies.
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/fixtures/pdf
cargo run --quiet --example pdf_fixtures -- "$out"
# Encrypted with an empty user password (opens without asking, as many published PDFs do).
qpdf --encrypt "" fixture-owner 256 -- "$out/report.pdf" "$out/encrypted-empty.pdf"
# Encrypted with a user password: cannot be read without it.
qpdf --encrypt fixture-reader fixture-owner 256 -- "$out/report.pdf" "$out/encrypted-password.pdf"
ls -l "$out"
