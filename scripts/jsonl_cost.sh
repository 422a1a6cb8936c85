#!/usr/bin/env bash
# Counts the instructions `linkdigest extract` spends per page with the pages as JSONL on stdin
# (`--jsonl --workers 1`) and with the same pages as file paths, under valgrind's callgrind, a
# figure other work on the machine does not change. Each mode runs on the first N and the
# first 2N AEB dev pages; the difference divided by N is the cost of one more page, so start-up
# (the regexes compiled once, the runtime) drops out.
# Usage: [BIN=path] scripts/jsonl_cost.sh [N]   (N defaults to 30; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."

n="${1:-30}"
data=../shared/data/extraction/scrapinghub-aeb
if [ ! -d "$data/html" ]; then
    echo "jsonl_cost.sh: $data is absent; nothing to count" >&2
    exit 0
fi
if ! command -v valgrind >/dev/null; then
    echo "jsonl_cost.sh: valgrind is not installed" >&2
    exit 1
fi
bin=${BIN:-target/release/linkdigest}
if [ -z "${BIN:-}" ]; then
    # the pre-seeded release dependencies were built for all bins and examples
    cargo build --release --locked --bins --examples >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mapfile -t pages < <(ls "$data"/html/*.html | head -n $((2 * n)))
if [ "${#pages[@]}" -lt $((2 * n)) ]; then
    echo "jsonl_cost.sh: fewer than $((2 * n)) pages in $data/html" >&2
    exit 1
fi
# the JSONL as scripts/peers.sh writes it: id, html (UTF-8, not ASCII-escaped) and url
python3 - "$data/ground-truth.json" "$work" "$n" "${pages[@]}" <<'PY'
import json, os, sys
truth = json.load(open(sys.argv[1], encoding="utf-8"))
work, n, paths = sys.argv[2], int(sys.argv[3]), sys.argv[4:]
for count in (n, 2 * n):
    with open(f"{work}/{count}.jsonl", "w", encoding="utf-8") as out:
        for path in paths[:count]:
            id = os.path.basename(path).removesuffix(".html")
            html = open(path, "rb").read().decode("utf-8", errors="replace")
            line = {"id": id, "html": html, "url": truth.get(id, {}).get("url")}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
PY

# Instructions of one run (all threads), stdin from $1.
count() {
    local input=$1
    shift
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$@" <"$input" \
        >/dev/null 2>"$work/vg.log"
    awk '/Collected :/ { print $NF }' "$work/vg.log" | tail -n 1
}

j1=$(count "$work/$n.jsonl" "$bin" extract --jsonl --workers 1)
j2=$(count "$work/$((2 * n)).jsonl" "$bin" extract --jsonl --workers 1)
f1=$(count /dev/null "$bin" extract "${pages[@]:0:n}")
f2=$(count /dev/null "$bin" extract "${pages[@]}")

awk -v n="$n" -v j1="$j1" -v j2="$j2" -v f1="$f1" -v f2="$f2" 'BEGIN {
    jp = (j2 - j1) / n; fp = (f2 - f1) / n
    printf "%-45s %16s %16s %14s\n", "", n " pages", 2 * n " pages", "per page"
    printf "%-45s %16d %16d %14.0f\n", "extract --jsonl --workers 1 (stdin)", j1, j2, jp
    printf "%-45s %16d %16d %14.0f\n", "extract FILE... (paths)", f1, f2, fp
    printf "jsonl per page / files per page: %.3f  (target <= 1)\n", jp / fp
}'
