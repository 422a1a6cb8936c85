#!/usr/bin/env bash
# Times two builds of linkdigest against each other in one run: `extract --jsonl` over the AEB
# dev pages repeated REPEAT times (the JSONL scripts/peers.sh makes), with all cores and with
# --workers 1, rounds interleaved so that other work on the machine hits both alike. Prints the
# best wall clock and the least CPU (user + sys) of each, and new/old speed ratios.
# Usage: scripts/ab_speed.sh OLD_BINARY NEW_BINARY [REPEAT]   (ROUNDS=5 by default)
set -euo pipefail
cd "$(dirname "$0")/.."

old=$1 new=$2 repeat="${3:-7}" rounds="${ROUNDS:-5}"
jsonl=target/peers/aeb-x$repeat.jsonl
if [ ! -f "$jsonl" ]; then
    echo "ab_speed.sh: $jsonl is absent: run scripts/peers.sh $repeat once first" >&2
    exit 1
fi
n=$(wc -l <"$jsonl")
times=$(mktemp)
trap 'rm -f "$times"' EXIT

# Best wall and least CPU of every (binary, workers) pair, over interleaved rounds.
declare -A wall cpu
for _ in $(seq "$rounds"); do
    for side in old new; do
        for workers in all 1; do
            args=(extract --jsonl)
            [ "$workers" = 1 ] && args+=(--workers 1)
            bin=${!side}
            /usr/bin/time -f "%e %U %S" -o "$times" "$bin" "${args[@]}" <"$jsonl" >/dev/null 2>&1
            read -r w u s <"$times"
            key=$side-$workers
            c=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')
            wall[$key]=$(awk -v a="$w" -v b="${wall[$key]:-}" 'BEGIN { print (b == "" || a < b) ? a : b }')
            cpu[$key]=$(awk -v a="$c" -v b="${cpu[$key]:-}" 'BEGIN { print (b == "" || a < b) ? a : b }')
        done
    done
done

echo "$n pages, best of $rounds interleaved rounds, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-28s %8s %9s %8s %11s\n" "" "wall s" "pages/s" "CPU s" "pages/CPU-s"
for workers in all 1; do
    for side in old new; do
        key=$side-$workers
        awk -v label="$side, workers: $workers" -v n="$n" -v w="${wall[$key]}" -v c="${cpu[$key]}" \
            'BEGIN { printf "%-28s %8.2f %9.1f %8.2f %11.1f\n", label, w, n / w, c, n / c }'
    done
done
for workers in all 1; do
    awk -v label="new/old speed, --workers $workers" \
        -v wo="${wall[old-$workers]}" -v wn="${wall[new-$workers]}" \
        -v co="${cpu[old-$workers]}" -v cn="${cpu[new-$workers]}" \
        'BEGIN { printf "%-34s wall %.2fx, CPU %.2fx\n", label ":", wo / wn, co / cn }'
done
