#!/usr/bin/env python3
"""Writes a starting corpus for one fuzz target: make_seeds.py TARGET DIR.

Seeds are slices of the repository's corpora (corpora/**/*.zst) and the strings of Tests/Data/adversarial.json,
put in the input format each target reads (see the harnesses: most take a flags byte first). Seeded with a
constant, so every run starts from the same corpus.
"""
import glob, json, os, random, subprocess, sys

target, out = sys.argv[1], sys.argv[2]
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
rng = random.Random(1)
os.makedirs(out, exist_ok=True)
count = 0

def write(data):
    global count
    with open(os.path.join(out, f'seed{count:05d}'), 'wb') as f:
        f.write(data)
    count += 1

corpora = sorted(glob.glob(os.path.join(repo, 'corpora', '**', '*.zst'), recursive=True))
texts = [subprocess.run(['zstd', '-dc', path], capture_output=True, check=True).stdout[:3_000_000] for path in corpora]

def slices(n, lo=50, hi=2000):
    for _ in range(n):
        data = rng.choice(texts)
        length = rng.randint(lo, hi)
        start = rng.randint(0, max(0, len(data) - length))
        yield data[start:start + length]

adversarial_path = os.path.join(repo, 'Tests', 'Data', 'adversarial.json')
adversarial = []
if os.path.exists(adversarial_path):
    with open(adversarial_path, encoding='utf-8') as f:
        adversarial = [s.encode('utf-8', 'surrogatepass') for s in json.load(f)]

if target in ('FuzzEncode', 'FuzzScanners'):
    # Byte 0 is the input form of FuzzSupport's expandInput: 0 as is, 1 and 5 a repeated fragment.
    for s in list(slices(300)) + adversarial:
        write(b'\x00' + s)
    for fragment, k in [(b'a', 255), (b'ab', 150), ('中'.encode(), 255), ('ก'.encode(), 200), (b' ', 255),
                        ('😀'.encode(), 100), ('é'.encode(), 255), (b'1', 200), (b'\r\n', 120), ("ab'".encode(), 100)]:
        write(bytes([1, k - 1]) + fragment)
        write(bytes([5, k - 1]) + fragment)
elif target == 'FuzzUTF8':
    for s in list(slices(150, 10, 400)) + adversarial:
        write(s)
    for s in list(slices(50, 10, 200)):   # torn multi-byte sequences
        cut = rng.randint(1, len(s))
        write(s[:cut] + s[cut + 1:])
elif target == 'FuzzDecode':
    # Flags byte 1 renders the body as ids; without it the body is the id text itself.
    for s in slices(100, 5, 200):
        write(bytes([rng.choice([1, 3, 5, 7, 9, 0x41])]) + s)
    for s in slices(40, 5, 50):
        ids = ' '.join(str(b) for b in s)
        write(bytes([rng.choice([0, 2, 4, 8])]) + ids.encode())
elif target == 'FuzzJSON':
    specials = {'special_tokens': {'<|endoftext|>': 100257, '<|fim|>': 100258}}
    write(json.dumps(specials).encode())
    write(json.dumps(specials, indent=1, ensure_ascii=False).encode())
    for s in adversarial:
        write(json.dumps(s.decode('utf-8', 'surrogatepass')).encode())
    for s in slices(60, 10, 300):
        text = s.decode('utf-8', 'replace')
        write(json.dumps({'text': text, 'n': [1, -2.5e3, True, None]}, ensure_ascii=rng.random() < 0.5).encode())
    if adversarial:
        with open(adversarial_path, 'rb') as f:
            write(f.read())
elif target == 'FuzzTiktoken':
    for name in ('cl100k_base', 'o200k_base', 'llama3'):
        path = os.path.join(repo, 'vocabularies', name + '.tiktoken')
        if os.path.exists(path):
            with open(path, 'rb') as f:
                lines = f.read().splitlines(keepends=True)
            for n in (260, 400, 1000):
                write(b''.join(lines[:n]))
elif target == 'FuzzImage':
    # Flags byte, then records of (section, offset high, offset low, value).
    for s in slices(100, 4, 64):
        write(bytes([rng.randrange(256)]) + s)
elif target == 'FuzzCorpus':
    # Flags byte, then the file: text, JSON lines, and the start of each zstd corpus file.
    for s in slices(60, 10, 1000):
        write(bytes([rng.choice([0, 2, 4, 0x30])]) + s)
    for s in slices(30, 10, 300):
        line = json.dumps({'text': s.decode('utf-8', 'replace')}).encode() + b'\n'
        write(bytes([rng.choice([1, 3])]) + line * 3)
    for path in corpora[:4]:
        with open(path, 'rb') as f:
            write(bytes([0x20]) + f.read(4096))
else:
    sys.exit(f'make_seeds.py: unknown target {target}')
print(f'{target}: {count} seeds in {out}')
