#!/bin/bash
# Builds one fuzz target (or all of them) with libFuzzer and AddressSanitizer and fuzzes it.
#   fuzz/run.sh TARGET [SECONDS]   TARGET is a directory name under fuzz/Sources (FuzzEncode, ...), or all.
# Seeds go to fuzz/corpus/TARGET (made by make_seeds.py on first use; libFuzzer adds what it finds there),
# crashing inputs and the logs to fuzz/findings. Exits non-zero if any target found something.
set -euo pipefail

usage() { echo "usage: $0 TARGET|all [SECONDS]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
target=$1
seconds=${2:-60}
[[ $seconds =~ ^[0-9]+$ ]] || usage
fuzz=$(cd "$(dirname "$0")" && pwd)
targets=(FuzzEncode FuzzScanners FuzzDecode FuzzUTF8 FuzzJSON FuzzTiktoken FuzzImage FuzzCorpus)

run_one() {
    local name=$1
    [ -d "$fuzz/Sources/$name" ] || { echo "no such target: $name (have: ${targets[*]})" >&2; return 2; }
    # One comma-joined -sanitize= flag: separate -sanitize=fuzzer -sanitize=address (what `swift build --sanitize`
    # passes) drop the coverage instrumentation. -enable-testing lets FuzzEncode import TokCore's internals;
    # -parse-as-library because each harness defines its own entry point (see FuzzSupport/Driver.swift).
    # -j 1: builds share the machine with other work.
    echo "== $name: building"
    mkdir -p "$fuzz/.build"
    (cd "$fuzz" && swift build -c release --scratch-path .build -j 1 --product "$name" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing -Xswiftc -parse-as-library \
        -Xcc -fsanitize=fuzzer-no-link,address) >"$fuzz/.build/$name-build.log" 2>&1 ||
        { tail -30 "$fuzz/.build/$name-build.log" >&2; echo "== $name: build failed" >&2; return 2; }
    local corpus=$fuzz/corpus/$name findings=$fuzz/findings
    mkdir -p "$findings"
    [ -n "$(ls -A "$corpus" 2>/dev/null)" ] || "$fuzz/make_seeds.py" "$name" "$corpus"
    local log=$findings/$name.log
    echo "== $name: fuzzing for $seconds s (log $log)"
    # Swift's backtracer would otherwise intercept the crash signals libFuzzer needs; leaks are not findings here
    # (the harnesses keep caches for the process's lifetime).
    local status=0
    (cd "$findings" && SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 \
        "$fuzz/.build/release/$name" "$corpus" -jobs=1 -workers=1 -timeout=10 -rss_limit_mb=4096 \
        -max_total_time="$seconds" -artifact_prefix="$findings/$name-" -print_final_stats=1) >"$log" 2>&1 || status=$?
    # -jobs=1 makes libFuzzer run the fuzzing in a child whose output goes to fuzz-0.log.
    if [ -f "$findings/fuzz-0.log" ]; then cat "$findings/fuzz-0.log" >>"$log"; rm "$findings/fuzz-0.log"; fi
    local summary
    summary=$(grep -E '^#[0-9]+.*(cov:|DONE)' "$log" | tail -1 || true)
    if [ $status -ne 0 ] || grep -qE '^==[0-9]+== ?ERROR|^FUZZ CHECK FAILED|^SUMMARY: |Test unit written' "$log"; then
        echo "== $name: FOUND SOMETHING (exit $status): see $log and $findings/$name-*" >&2
        grep -E 'ERROR|FUZZ CHECK FAILED|^SUMMARY|Test unit written' "$log" | head -5 >&2
        return 1
    fi
    echo "== $name: no findings; $summary"
}

if [ "$target" = all ]; then
    failed=()
    for name in "${targets[@]}"; do run_one "$name" || failed+=("$name"); done
    [ ${#failed[@]} -eq 0 ] || { echo "== findings or failures in: ${failed[*]}" >&2; exit 1; }
else
    run_one "$target"
fi
