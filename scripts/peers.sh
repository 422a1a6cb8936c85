#!/usr/bin/env bash
# Times `linkdigest extract` against its peers over the AEB dev pages repeated 7 times, in one
# run on this machine, and prints pages/s and the ratios of issue #12:
#   - whole-process `extract --jsonl` (all cores, and --workers 1) and `extract` with the
#     files as paths (release builds; the JSONL is made before timing);
#   - trafilatura 2.3.1's extract() in a Python loop, in process (a venv under target/peers/);
#   - dom_smoothie 0.11 in a Rust loop, in process, one thread (peers/dom_smoothie/, a crate
#     with a workspace of its own, so neither peer is part of the build, the tests or CI).
# Each figure is the best of ROUNDS runs (default 3), since other work shares the machine.
# Usage: scripts/peers.sh [REPEAT]   (REPEAT defaults to 7)
set -euo pipefail
cd "$(dirname "$0")/.."

repeat="${1:-7}"
rounds="${ROUNDS:-3}"
data=../shared/data/extraction/scrapinghub-aeb
if [ ! -d "$data/html" ]; then
    echo "peers.sh: $data is absent; nothing to time" >&2
    exit 0
fi
work=target/peers
mkdir -p "$work"

echo "== building linkdigest and dom_smoothie (release)" >&2
cargo build --release --locked --bin linkdigest >&2
CARGO_TARGET_DIR="$work/cargo" cargo build --release --locked \
    --manifest-path peers/dom_smoothie/Cargo.toml >&2
if [ ! -x "$work/venv/bin/python" ]; then
    echo "== making a venv for trafilatura 2.3.1 in $work/venv" >&2
    python3 -m venv "$work/venv"
fi
if ! "$work/venv/bin/python" -c 'import trafilatura, sys; sys.exit(trafilatura.__version__ != "2.3.1")' 2>/dev/null; then
    # lxml 6.1 moved lxml.html.clean, which trafilatura's jusText imports, to its own package.
    "$work/venv/bin/pip" install --quiet "trafilatura==2.3.1" lxml_html_clean >&2
fi

# The same pages for everyone: every dev page, REPEAT times, in one order.
pages=()
for _ in $(seq "$repeat"); do
    for f in "$data"/html/*.html; do pages+=("$f"); done
done
n=${#pages[@]}
jsonl="$work/aeb-x$repeat.jsonl"
"$work/venv/bin/python" - "$data/ground-truth.json" "$jsonl" "${pages[@]}" <<'PY'
import json, os, sys
truth = json.load(open(sys.argv[1], encoding="utf-8"))
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for path in sys.argv[3:]:
        id = os.path.basename(path).removesuffix(".html")
        html = open(path, "rb").read().decode("utf-8", errors="replace")
        line = {"id": id, "html": html, "url": truth.get(id, {}).get("url")}
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
PY

bin=target/release/linkdigest
smoothie="$work/cargo/release/dom-smoothie-speed"
now() { date +%s%N; }
# Seconds of the fastest of $rounds runs of the command.
best() {
    local fastest="" start end took
    for _ in $(seq "$rounds"); do
        start=$(now)
        "$@" >/dev/null 2>&1
        end=$(now)
        took=$(( end - start ))
        if [ -z "$fastest" ] || [ "$took" -lt "$fastest" ]; then fastest=$took; fi
    done
    awk -v ns="$fastest" 'BEGIN { printf "%.3f", ns / 1e9 }'
}
# Seconds of the fastest in-process loop (the peer prints "pages seconds pages/s").
best_loop() {
    local fastest="" took
    for _ in $(seq "$rounds"); do
        took=$("$@" | awk '{ print $2 }')
        if [ -z "$fastest" ] || awk -v a="$took" -v b="$fastest" 'BEGIN { exit !(a < b) }'; then
            fastest=$took
        fi
    done
    echo "$fastest"
}
jsonl_all() { "$bin" extract --jsonl <"$jsonl"; }
jsonl_one() { "$bin" extract --jsonl --workers 1 <"$jsonl"; }
paths() { "$bin" extract "${pages[@]}"; }

cores=$(nproc)
echo "== timing $n pages (${repeat}x the $(ls "$data"/html | wc -l) AEB dev pages), best of $rounds, $cores cores" >&2
t_all=$(best jsonl_all)
t_one=$(best jsonl_one)
t_paths=$(best paths)
t_traf=$(best_loop "$work/venv/bin/python" scripts/trafilatura_speed.py "$repeat" "$data"/html/*.html)
t_smoothie=$(best_loop "$smoothie" "$repeat" "$data"/html/*.html)

awk -v n="$n" -v cores="$cores" -v all="$t_all" -v one="$t_one" -v paths="$t_paths" \
    -v traf="$t_traf" -v sm="$t_smoothie" 'BEGIN {
    printf "%-52s %8s %9s\n", "", "seconds", "pages/s"
    printf "%-52s %8.3f %9.1f\n", "linkdigest extract --jsonl (whole process, all cores)", all, n / all
    printf "%-52s %8.3f %9.1f\n", "linkdigest extract --jsonl --workers 1", one, n / one
    printf "%-52s %8.3f %9.1f\n", "linkdigest extract FILE... (whole process)", paths, n / paths
    printf "%-52s %8.3f %9.1f\n", "trafilatura 2.3.1 extract() loop (in process)", traf, n / traf
    printf "%-52s %8.3f %9.1f\n", "dom_smoothie 0.11 parse() loop (in process, 1 thread)", sm, n / sm
    print ""
    printf "jsonl (all cores) / trafilatura:              %6.2fx  (target >= 10)\n", traf / all
    printf "jsonl per core / dom_smoothie:                %6.2fx  (target >= 1.2; %d cores)\n", (sm / all) / cores, cores
    printf "jsonl --workers 1 / dom_smoothie:             %6.2fx\n", sm / one
    printf "jsonl per core / extract FILE... (one thread): %6.2fx  (target >= 1)\n", (paths / all) / cores
    printf "jsonl --workers 1 / extract FILE...:          %6.2fx\n", paths / one
}'
