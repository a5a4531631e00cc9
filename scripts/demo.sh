#!/bin/sh
# The main job on shipped data: encode and decode with every shipped vocabulary, check the round trip,
# and compare token counts on the shipped corpora.
set -e
TOK=${1:-.build/release/tok}
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

say "tok $($TOK --version): encode a sentence with cl100k_base (ids, then tokens)"
S='Tokenizers split text: "Hello, world!" — Привет, мир! 你好，世界！ مرحبا بالعالم 🙂👍🏽'
printf '%s\n' "$S"
printf '%s' "$S" | $TOK encode -t cl100k_base
printf '%s' "$S" | $TOK encode -t cl100k_base --format tokens

say "decode the ids back (streaming: characters split across tokens come out whole)"
printf '%s' "$S" | $TOK encode -t cl100k_base | $TOK decode -t cl100k_base; echo

say "special tokens: plain (default, ordinary text) vs allow (their ids)"
printf 'end<|endoftext|>' | $TOK encode -t cl100k_base
printf 'end<|endoftext|>' | $TOK encode -t cl100k_base --special allow

say "a model name as tiktoken maps it (gpt-oss: o200k_harmony), its chat tokens allowed, and back"
printf '<|start|>user<|message|>Hello!<|end|>' | $TOK encode -t gpt-oss-120b --special allow
printf '<|start|>user<|message|>Hello!<|end|>' | $TOK encode -t gpt-oss-120b --special allow | $TOK decode -t gpt-oss-120b; echo

say "one output line per input line, as JSON lines with byte offsets"
printf 'first line\nsecond, longer line\n' | $TOK encode -t o200k_base --lines --format jsonl

say "token counts of the shipped corpora (zstd read directly), per vocabulary"
for v in cl100k_base o200k_base llama3; do
    echo "-- $v"
    $TOK encode -t $v --count corpora/prose-en.txt.zst corpora/code.txt.zst corpora/multilingual.txt.zst
done

say "round trip of every shipped corpus through encode | decode, with each vocabulary"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for v in cl100k_base o200k_base llama3; do
    for c in corpora/prose-en.txt.zst corpora/code.txt.zst corpora/multilingual.txt.zst; do
        $TOK encode -t $v "$c" | $TOK decode -t $v > "$tmp"
        if zstd -dcq "$c" | cmp -s - "$tmp"; then echo "identical  $v  $c"; else echo "DIFFERENT  $v  $c"; exit 1; fi
    done
done

say "train an 8k vocabulary on the shipped training corpus (corpora/train/mixed.txt.zst: English prose and code)"
work=$(mktemp -d)
trap 'rm -f "$tmp"; rm -rf "$work"' EXIT
$TOK train corpora/train/mixed.txt.zst -o "$work/mixed-8k" --vocab-size 8192 --progress plain
if cmp -s "$work/mixed-8k.tiktoken" vocabularies/mixed-8k.tiktoken; then
    echo "identical to the shipped vocabularies/mixed-8k.tiktoken (training is deterministic)"
else
    echo "DIFFERENT from the shipped vocabularies/mixed-8k.tiktoken"; exit 1
fi

say "encode with the new vocabulary"
printf '%s' "$S" | $TOK encode -t "$work/mixed-8k.tiktoken" --format tokens

say "metrics of the new vocabulary next to the shipped ones, on the English test corpora (tok eval)"
$TOK eval -t "$work/mixed-8k.tiktoken" -t cl100k_base -t o200k_base corpora/prose-en.txt.zst corpora/code.txt.zst

say "parity across the 16 languages of corpora/parallel, Turkish morphology, and an HTML report"
mkdir -p bench-out
$TOK eval -t "$work/mixed-8k.tiktoken" -t cl100k_base -t o200k_base --parallel corpora/parallel \
    --segmentation corpora/morph/tr-segmentation.tsv.zst --html bench-out/demo-report.html | sed -n '1,60p'
echo "report with charts: bench-out/demo-report.html"
