#!/usr/bin/env bash
# Memory and thread checks (`make sanitize`, about 20 minutes on 2 cores; not part of `make test`):
#  - AddressSanitizer: the unit tests of the unsafe-pointer code, then the CLI suite against the ASan binary;
#  - ThreadSanitizer: the concurrency tests, then encode (one input, and many small files), count, eval and train on
#    two and three threads.
# Leaks are not checked (tests keep small scaffolding, and some tables live for the whole process). TSan cannot see
# inside Swift's Synchronization.Mutex on Linux (its futex lock is not instrumented), so accesses made under one
# are suppressed (scripts/tsan.supp); a plain program that only uses a Mutex shows the same reports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
SWIFT=${SWIFT:-swift}
export ASAN_OPTIONS=detect_leaks=0
export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan.supp halt_on_error=1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The first 3 MB of a corpus (zstd ends on SIGPIPE when head has enough).
first3mb() { (zstd -dc "$1" || true) | head -c 3000000 > "$2"; [[ $(stat -c %s "$2") == 3000000 ]]; }
first3mb corpora/multilingual.txt.zst "$work/ml.txt"
first3mb corpora/train/mixed.txt.zst "$work/train.txt"

echo "== AddressSanitizer"
$SWIFT build --build-tests --sanitize=address --build-path .build/asan
$SWIFT test --skip-build --disable-swift-testing --sanitize=address --build-path .build/asan --filter \
  'BytePairEncoderTests|DecodingTests|LongPieceStreamTests|RankTableImageTests|RankTableTests|SafeCutTests|SpecialTokenTests|TiktokenFileTests|UTF8ValidationTests|JSONQuotingTests|BlockScannerTests|ScannerTests|ByteBuilderTests|InputSourceTests|OutputWriterTests|LongStretchTests|InertCutTests|NormalizedStretchTests|NormalizerTests|ManyInputsTests'
# TOK_SANITIZED: tests leave out their memory and page-fault bounds, which ASan's allocator breaks.
TOK_SANITIZED=1 TOK_BIN=$PWD/.build/asan/debug/tok .venv/bin/python -m pytest -q -p no:cacheprovider tests/compat/test_cli_behaviour.py \
  -k "not memory and not bounded and not cost_little"

echo "== ThreadSanitizer"
$SWIFT build --build-tests --sanitize=thread --build-path .build/tsan
$SWIFT test --skip-build --disable-swift-testing --sanitize=thread --build-path .build/tsan --filter \
  'TokenizerAPITests|testConcurrent|ParallelEncodingTests|PreTokenizationFailureTests|testFailuresOnWorkerThreadsAreCaught|ManyInputsTests'
tok=.build/tsan/debug/tok
for v in cl100k_base o200k_base; do
  $tok encode -t "$v" --threads 2 "$work/ml.txt" > "$work/a" && .build/release/tok encode -t "$v" "$work/ml.txt" | cmp - "$work/a"
done
$tok encode -t cl100k_base --threads 3 --format jsonl --lines "$work/ml.txt" > /dev/null
# Many small files: batches on the workers, written in order by the reading thread.
mkdir "$work/parts" && split -C 20000 "$work/ml.txt" "$work/parts/p" && ls "$work"/parts/p* > "$work/list"
$tok encode -t o200k_base --threads 3 --files-from "$work/list" > "$work/a" \
  && .build/release/tok encode -t o200k_base --threads 1 --files-from "$work/list" | cmp - "$work/a"
$tok count --threads 2 "$work/ml.txt" > /dev/null
$tok eval --threads 2 -t cl100k_base -t o200k_base "$work/ml.txt" > /dev/null
$tok train --threads 2 --vocab-size 2000 -q -o "$work/v" "$work/train.txt"
echo "sanitize: no reports"
