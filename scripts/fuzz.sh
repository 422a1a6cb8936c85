#!/usr/bin/env bash
# Runs each cargo-fuzz target in fuzz/ for the given seconds (default 180), one after another.
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 lets the stable toolchain provide them.
# Crashing inputs land in fuzz/artifacts/<target>/; keep each as a unit test next to the code.
# `scripts/fuzz.sh --check` only checks that every target compiles (stable toolchain, no
# cargo-fuzz needed), sharing the root crate's target/ so its dependencies are reused.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

if [ "${1:-}" = --check ]; then
    exec env CARGO_TARGET_DIR=../target cargo check --locked --manifest-path Cargo.toml --bins
fi

seconds="${1:-180}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(extract links render hostile pdf)
fi
export RUSTC_BOOTSTRAP=1

for target in "${targets[@]}"; do
    echo "== fuzzing $target for ${seconds}s"
    mkdir -p "corpus/$target"
    # The extractor starts from a real page rather than from nothing.
    if [ "$target" = extract ] && [ -z "$(ls -A corpus/extract)" ]; then
        cp ../tests/fixtures/seed.html corpus/extract/
    fi
    # The PDF reader starts from the committed fixtures.
    if [ "$target" = pdf ] && [ -z "$(ls -A corpus/pdf)" ]; then
        cp ../tests/fixtures/pdf/*.pdf corpus/pdf/
    fi
    # One job on a shared 2-core machine; -rss_limit_mb guards against blow-ups in the target.
    dict=()
    if [ "$target" = extract ]; then
        dict=(-dict=html.dict)
    fi
    cargo fuzz run "$target" "corpus/$target" -- "${dict[@]}" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=20 -print_final_stats=1
done
