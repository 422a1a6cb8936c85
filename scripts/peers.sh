#!/usr/bin/env bash
# Times `linkdigest extract` against its peers over the AEB dev pages repeated 7 times, in one
# run on this machine, and prints pages/s and the ratios of issue #12:
#   - whole-process `extract --jsonl` (all cores, and --workers 1) and `extract` with the
#     files as paths (release builds; the JSONL is made before timing);
#   - trafilatura 2.3.1's extract() in a Python loop, in process (a venv under target/peers/);
#   - dom_smoothie 0.11 in a Rust loop, in process, one thread (peers/dom_smoothie/, a crate
#     with a workspace of its own, so neither peer is part of the build, the tests or CI).
# Every side does the same job: parse the HTML, pick the article Readability-style, give its
# text. Ours is timed as a whole process (reading the JSONL, writing JSON lines out), the peers
# as their in-process loops, which flatters them a little.
# Per core is given two ways: wall-clock pages/s divided by the threads that do the work (the
# issue's figure; other work on a shared machine lowers it), and pages per CPU-second
# (user + sys of the whole process, which other work does not change).
# Each figure is the best of ROUNDS runs (default 3), since other work shares the machine.
# Usage: [BIN=path] [ROUNDS=n] scripts/peers.sh [REPEAT]   (REPEAT defaults to 7)
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

# BIN=path times another build of linkdigest (an older one, say) instead of building this one.
bin=${BIN:-target/release/linkdigest}
echo "== building linkdigest and dom_smoothie (release)" >&2
if [ -z "${BIN:-}" ]; then
    # the pre-seeded release dependencies were built for all bins and examples: `--bin` alone
    # would build them again
    cargo build --release --locked --bins --examples >&2
fi
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

smoothie="$work/cargo/release/dom-smoothie-speed"
times="$work/times"
# Runs the command ROUNDS times with stdin from the file $1; prints "wall cpu loop" in seconds:
# the fastest wall clock, the least user+sys CPU of the whole process, and (when the command
# prints "pages seconds pages/s", as the in-process peers do) the fastest loop.
best() {
    local input=$1 wall="" cpu="" loop="" w c l out
    shift
    for _ in $(seq "$rounds"); do
        out=$(/usr/bin/time -f "%e %U %S" -o "$times" "$@" <"$input" 2>/dev/null | tail -n 1)
        w=$(awk '{ print $1 }' "$times")
        c=$(awk '{ print $2 + $3 }' "$times")
        l=$(awk '{ print $2 }' <<<"$out")
        wall=$(awk -v a="$w" -v b="$wall" 'BEGIN { print (b == "" || a < b) ? a : b }')
        cpu=$(awk -v a="$c" -v b="$cpu" 'BEGIN { print (b == "" || a < b) ? a : b }')
        if [ -n "$l" ]; then
            loop=$(awk -v a="$l" -v b="$loop" 'BEGIN { print (b == "" || a < b) ? a : b }')
        fi
    done
    echo "$wall $cpu ${loop:-$wall}"
}

cores=$(nproc)
echo "== timing $n pages (${repeat}x the $(ls "$data"/html | wc -l) AEB dev pages), best of $rounds, $cores cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
read -r w_all c_all _ < <(best "$jsonl" "$bin" extract --jsonl)
read -r w_one c_one _ < <(best "$jsonl" "$bin" extract --jsonl --workers 1)
read -r w_paths c_paths _ < <(best /dev/null "$bin" extract "${pages[@]}")
read -r _ c_traf l_traf < <(best /dev/null "$work/venv/bin/python" scripts/trafilatura_speed.py "$repeat" "$data"/html/*.html)
read -r _ c_sm l_sm < <(best /dev/null "$smoothie" "$repeat" "$data"/html/*.html)

awk -v n="$n" -v cores="$cores" \
    -v wa="$w_all" -v ca="$c_all" -v wo="$w_one" -v co="$c_one" -v wp="$w_paths" -v cp="$c_paths" \
    -v lt="$l_traf" -v ct="$c_traf" -v ls="$l_sm" -v cs="$c_sm" 'BEGIN {
    f = "%-55s %7s %8s %9s %8s %9s\n"
    g = "%-55s %7s %8.3f %9.1f %8.3f %9.1f\n"
    printf f, "", "threads", "wall s", "pages/s", "CPU s", "pages/CPU-s"
    printf g, "linkdigest extract --jsonl (whole process, all cores)", cores "+io", wa, n / wa, ca, n / ca
    printf g, "linkdigest extract --jsonl --workers 1 (whole process)", "1+io", wo, n / wo, co, n / co
    printf g, "linkdigest extract FILE... (whole process)", 1, wp, n / wp, cp, n / cp
    printf g, "trafilatura 2.3.1 extract() loop (in process)", 1, lt, n / lt, ct, n / ct
    printf g, "dom_smoothie 0.11 parse() loop (in process)", 1, ls, n / ls, cs, n / cs
    print "(threads: workers doing the pages; \"+io\" is the thread that reads stdin and writes stdout."
    print " CPU s is user+sys of the whole process, start-up and reading the input included.)"
    print ""
    printf "jsonl (all cores) / trafilatura, wall:                 %6.2fx  (target >= 10)\n", lt / wa
    printf "jsonl per core / dom_smoothie, wall / %d cores:         %6.2fx  (target >= 1.2)\n", cores, (ls / wa) / cores
    printf "jsonl per core / dom_smoothie, pages per CPU-second:   %6.2fx  (target >= 1.2)\n", cs / ca
    printf "jsonl --workers 1 / dom_smoothie, wall, one thread each: %4.2fx\n", ls / wo
    printf "jsonl per core / extract FILE... (one thread), wall:   %6.2fx  (target >= 1)\n", (wp / wa) / cores
    printf "jsonl --workers 1 / extract FILE..., wall:             %6.2fx\n", wp / wo
    printf "jsonl (all cores) / extract FILE..., pages per CPU-s:  %6.2fx  (target >= 1)\n", cp / ca
    printf "jsonl --workers 1 / extract FILE..., pages per CPU-s:  %6.2fx  (target >= 1)\n", cp / co
}'
