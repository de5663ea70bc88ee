#!/usr/bin/env bash
# Builds the libFuzzer targets in build-fuzz (clang, ASan + UBSan) and runs each
# for SECONDS (default 300) on its corpus, then minimises what was found back
# into tests/fuzz/corpus/<target>/ (the seed-* files are always kept).
#
# usage: tests/fuzz/run_fuzz.sh [SECONDS] [TARGET...]     targets: config labels
# Crashes are written to build-fuzz/fuzz-work/<target>/artifacts/; the script
# exits non-zero if any target found one. Reproduce with
#   build-fuzz/tests/fuzz/fuzz-<target> <artifact>
set -euo pipefail

seconds=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config labels)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$root/build-fuzz
here=$root/tests/fuzz

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DSLIPSTREAM_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only the fuzz binaries: the rest of the tree need not build with clang.
ninja -C "$build" "${targets[@]/#/fuzz-}"

status=0
for target in "${targets[@]}"; do
    fuzzer=$build/tests/fuzz/fuzz-$target
    corpus=$here/corpus/$target
    work=$build/fuzz-work/$target
    mkdir -p "$work/new" "$work/artifacts"
    export SLIPSTREAM_FUZZ_SCRATCH=$work/scratch  # the files the entry point writes and reads
    dict=()
    [ -f "$here/$target.dict" ] && dict=(-dict="$here/$target.dict")

    echo "== fuzz-$target for ${seconds}s"
    # New inputs go to the first folder (the work folder), the repo corpus is only read.
    if ! "$fuzzer" -max_total_time="$seconds" -max_len=2048 -timeout=10 -print_final_stats=1 \
            -artifact_prefix="$work/artifacts/" "${dict[@]}" "$work/new" "$corpus"; then
        echo "fuzz-$target FOUND A CRASH: see $work/artifacts/" >&2
        status=1
        continue
    fi

    # Minimise: start from the seeds, add only inputs that reach new code edges
    # (-use_counters=0: hit counts do not count, which keeps the committed corpus
    # to tens of KB; the full corpus stays in $work/new for the next run).
    rm -rf "$work/min"
    mkdir -p "$work/min"
    cp "$corpus"/seed-* "$work/min/"
    "$fuzzer" -merge=1 -use_counters=0 -max_len=2048 "$work/min" "$corpus" "$work/new" 2>"$work/merge.log" ||
        { cat "$work/merge.log" >&2; status=1; continue; }
    find "$corpus" -type f ! -name 'seed-*' -delete
    find "$work/min" -type f ! -name 'seed-*' -exec cp {} "$corpus/" \;
    echo "fuzz-$target: corpus now $(find "$corpus" -type f | wc -l) files, $(du -sb --apparent-size "$corpus" | cut -f1) bytes"
done
exit $status
