#!/usr/bin/env bash
# Counts the instructions `linkdigest extract` spends per page with the pages as JSONL on stdin
# (`--jsonl --workers 1`) and with the same pages as file paths, under valgrind's callgrind, a
# figure other work on the machine does not change. Each mode runs on the first N and the
# first 2N AEB dev pages; the difference divided by N is the cost of one more page, so start-up
# (the regexes compiled once, the runtime) drops out. Then the same per page for the steps only
# one mode has (reading and parsing the JSON line, reading and decoding the file) and for the
# extraction both share.
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

# Instructions of one run (all threads), stdin from $2; the profile is kept as $work/$1.out.
count() {
    local name=$1 input=$2
    shift 2
    valgrind --tool=callgrind --callgrind-out-file="$work/$name.out" "$@" <"$input" \
        >/dev/null 2>"$work/vg.log"
    awk '/Collected :/ { print $NF }' "$work/vg.log" | tail -n 1
}

j1=$(count j1 "$work/$n.jsonl" "$bin" extract --jsonl --workers 1)
j2=$(count j2 "$work/$((2 * n)).jsonl" "$bin" extract --jsonl --workers 1)
f1=$(count f1 /dev/null "$bin" extract "${pages[@]:0:n}")
f2=$(count f2 /dev/null "$bin" extract "${pages[@]}")

awk -v n="$n" -v j1="$j1" -v j2="$j2" -v f1="$f1" -v f2="$f2" 'BEGIN {
    jp = (j2 - j1) / n; fp = (f2 - f1) / n
    printf "%-45s %16s %16s %14s\n", "", n " pages", 2 * n " pages", "per page"
    printf "%-45s %16d %16d %14.0f\n", "extract --jsonl --workers 1 (stdin)", j1, j2, jp
    printf "%-45s %16d %16d %14.0f\n", "extract FILE... (paths)", f1, f2, fp
    printf "jsonl per page / files per page: %.3f  (target <= 1)\n", jp / fp
}'

# Where the difference goes: instructions per page of the steps only one mode has (inclusive:
# each with what it calls); the rest is the extraction both modes share.
inclusive() {
    callgrind_annotate --inclusive=yes --auto=no --threshold=100 "$work/$1.out" 2>/dev/null |
        awk -v f="$2" '!done && index($0, f " [") { gsub(",", "", $1); print $1; done = 1 }'
}
per_page() {
    local a b
    a=$(inclusive "${1}1" "$2")
    b=$(inclusive "${1}2" "$2")
    awk -v n="$n" -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { printf "%.0f", (b - a) / n }'
}
j_read=$(per_page j "linkdigest::cli::ordered::Lines<R>::next_line")
j_parse=$(per_page j "linkdigest::cli::batch::Scratch::read")
j_stage1=$(per_page j "simd_json::Deserializer::find_structural_bits::find_structural_bits_avx2")
j_strings=$(per_page j "simd_json::impls::avx2::deser::parse_str")
j_write=$(per_page j "linkdigest::cli::batch::article_json")
f_read=$(per_page f "linkdigest::cli::input::read_local")
f_write=$(per_page f "linkdigest::cli::extract::text")
awk -v n="$n" -v j1="$j1" -v j2="$j2" -v f1="$f1" -v f2="$f2" \
    -v jr="$j_read" -v jp="$j_parse" -v js="$j_stage1" -v jt="$j_strings" -v jw="$j_write" \
    -v fr="$f_read" -v fw="$f_write" 'BEGIN {
    j = (j2 - j1) / n; f = (f2 - f1) / n
    print "per page, by step:"
    printf "  %-56s %12.0f\n", "jsonl: reading stdin into lines", jr
    printf "  %-56s %12.0f\n", "jsonl: parsing the line (one copy, simd-json)", jp
    printf "  %-56s %12.0f\n", "    of which simd-json stage 1 (structure, UTF-8 check)", js
    printf "  %-56s %12.0f\n", "    of which simd-json string unescaping", jt
    printf "  %-56s %12.0f\n", "jsonl: writing the JSON line", jw
    printf "  %-56s %12.0f\n", "jsonl: the rest (extraction)", j - jr - jp - jw
    printf "  %-56s %12.0f\n", "files: reading and decoding the file", fr
    printf "  %-56s %12.0f\n", "files: writing the text", fw
    printf "  %-56s %12.0f\n", "files: the rest (extraction)", f - fr - fw
}'
