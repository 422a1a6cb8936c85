#!/usr/bin/env bash
# Regenerates the committed PDF fixtures in tests/fixtures/pdf/ (our own text, see README there).
# Needs qpdf from Debian's packages (apt-get install qpdf) for the encrypted and object-stream copies.
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/fixtures/pdf
cargo run --quiet --example pdf_fixtures -- "$out"
# Encrypted with an empty user password (opens without asking, as many published PDFs do).
qpdf --encrypt "" fixture-owner 256 -- "$out/report.pdf" "$out/encrypted-empty.pdf"
# Encrypted with a user password: cannot be read without it.
qpdf --encrypt fixture-reader fixture-owner 256 -- "$out/report.pdf" "$out/encrypted-password.pdf"
# The same with its objects packed into object streams, which lopdf inflates while loading.
qpdf --object-streams=generate --encrypt "" fixture-owner 256 -- "$out/report.pdf" \
    "$out/encrypted-objstm.pdf"
# The report beside an object stream that inflates to 8 MiB, plain and encrypted with an empty
# user password: the reader must measure the stream before lopdf inflates it.
qpdf --object-streams=generate -- "$out/padded.pdf" "$out/objstm-bomb.pdf"
qpdf --object-streams=generate --encrypt "" fixture-owner 256 -- "$out/padded.pdf" \
    "$out/encrypted-objstm-bomb.pdf"
rm "$out/padded.pdf"
ls -l "$out"
