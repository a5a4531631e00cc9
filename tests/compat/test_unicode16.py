"""Characters added in Unicode 15.1 and 16.0: the `tok` CLI against tiktoken 0.14 (whose Rust regex engine
follows Unicode 16.0), for every shipped vocabulary.

The scanners' class table (Sources/TokCore/Generated/UnicodeClassTables.swift, made by
scripts/gen_unicode_tables.py) is Unicode 16.0; the system ICU 72 is Unicode 15.0, so these characters are where
`--pretokenizer icu-regex` differs from tiktoken. The sample is the generated table's own diff: every code point
that the table gives a class (letter, number, mark) and that is unassigned in Unicode 15.0 (Debian's
/usr/share/unicode/UnicodeData.txt, the data of ICU 72; without it, Python's own `unicodedata`, Unicode 14.0).

CLI flags: peers.CLI. Binary: $TOK_BIN (default .build/release/tok).
"""
from __future__ import annotations

import functools
import random
import re
import unicodedata
from pathlib import Path

import pytest

import peers
from peers import check_lines, check_whole, ok

pytestmark = pytest.mark.cli

TABLE_SWIFT = peers.REPO / "Sources" / "TokCore" / "Generated" / "UnicodeClassTables.swift"
UCD_15 = Path("/usr/share/unicode")
# Class bits of the generated table (scripts/gen_unicode_tables.py CLASS_BITS).
L, N, WS, UPPER, LOWER, M = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
# Size of the 15.0 -> 16.0 difference: 4,865 Lo, 7 Lm, 27 Lu, 25 Ll, 80 Nd, 36 Mn, 15 Mc.
DELTA_SIZE = 5055

# The examples of the bug report, and a few with each kind of new character next to ASCII.
EXAMPLES = [
    "\U0002EBF0", "\u1C89", "\u1C8A", "\uA7CB", "\U00010D50", "\U0001E5D0",
    "a\U0002EBF0b", "x \U0002EBF0\U0002EBF0\U0002EBF0 y", "Hello\u1C89\u1C8Aworld", "\u1C89\u1C8A\u1C8A TJE",
    "x\uA7CBy", "ab\u1C89\u1C8A\uA7CB\U00010D50", "RAMS\uA7CBhorn's", "it's \U0001E5D0'S", " \U00010D50\U00010D50 1",
    "12\U0001E5D0", "\U0001E5D0123", "!\U0001E5D0", "e\u0897e\u0897", "\u0897abc", "abc\u0897 def",
    "\U00010D40\U00010D41\U00010D42\U00010D43 4567", "x\U00010D40y", "\U0002EBF0 \U0002EE5D\n\U0002EBF0",
    "The \U00010D50\U00010D70 word, 42 and \U0002EBF0.",
]


def _decode_table() -> list[int]:
    """Class bits of every code point from the generated Swift file."""
    src = TABLE_SWIFT.read_text(encoding="utf-8")

    def literal(name):
        m = re.search(r'static let %s: StaticString = """\n(.*?)\n\s*"""' % name, src, re.S)
        assert m, f"{TABLE_SWIFT}: no {name} literal"
        return "".join(line.strip().removesuffix("\\") for line in m.group(1).split("\n"))

    shift = int(re.search(r"static let blockShift = (\d+)", src).group(1))
    offset = int(re.search(r"static let byteOffset: UInt8 = 0x([0-9A-F]+)", src).group(1), 16)
    s1, s2 = literal("stage1"), literal("stage2")
    stage1 = [int(s1[i:i + 2], 16) for i in range(0, len(s1), 2)]
    size = 1 << shift
    return [ord(s2[stage1[cp >> shift] * size + (cp & (size - 1))]) & ~offset for cp in range(0x110000)]


def _assigned_in_15() -> set[int] | None:
    """Code points assigned in Unicode 15.0 (Debian's unicode-data), or None if it is not installed."""
    data, proplist = UCD_15 / "UnicodeData.txt", UCD_15 / "PropList.txt"
    if not (data.is_file() and proplist.is_file()):
        return None
    with open(proplist, encoding="utf-8") as f:
        if not re.match(r"#\s*PropList-15\.0\.0\.txt", f.readline()):
            return None
    assigned, first = set(), None
    with open(data, encoding="utf-8") as f:
        for line in f:
            fields = line.split(";")
            cp, name = int(fields[0], 16), fields[1]
            if name.endswith(", First>"):
                first = cp
            elif name.endswith(", Last>"):
                assigned.update(range(first, cp + 1))
            else:
                assigned.add(cp)
    return assigned


@functools.lru_cache(maxsize=None)
def delta() -> dict[int, int]:
    """New code points with a class in the generated table -> their class bits, in code point order."""
    table = _decode_table()
    assert re.search(r'unicodeVersion = "16\.0\.0"', TABLE_SWIFT.read_text(encoding="utf-8")), "table is not Unicode 16.0"
    old = _assigned_in_15()
    if old is not None:
        d = {cp: table[cp] for cp in range(0x110000) if table[cp] and cp not in old}
        assert len(d) == DELTA_SIZE, f"{len(d)} code points new in 15.1/16.0 in the table, {DELTA_SIZE} expected"
    else:  # Python's unicodedata is 14.0: the sample then also has Unicode 15.0's additions.
        d = {cp: table[cp] for cp in range(0x110000)
             if table[cp] and unicodedata.category(chr(cp)) == "Cn" and not 0xD800 <= cp <= 0xDFFF}
        assert len(d) >= DELTA_SIZE
    assert all(not bits & WS for bits in d.values())
    return d


def _groups() -> dict[str, list[str]]:
    g = {"upper": [], "lower": [], "other_letter": [], "number": [], "mark": []}
    for cp, bits in delta().items():
        c = chr(cp)
        if bits & M:
            g["mark"].append(c)
        elif bits & N:
            g["number"].append(c)
        elif bits & UPPER and bits & LOWER:
            g["other_letter"].append(c)
        elif bits & UPPER:
            g["upper"].append(c)
        else:
            g["lower"].append(c)
    assert all(g.values()), {k: len(v) for k, v in g.items()}
    return g


ASCII_WORDS = ["a", "Z", "hello", "World", "THE", "camelCase", "x", "I", "'s", "'T", "n't"]
DIGITS = ["0", "7", "42", "123", "2024", "31415"]
SPACES = [" ", " ", " ", "  ", "   ", "\t"]


@functools.lru_cache(maxsize=None)
def random_strings(n=1500, seed=160) -> list[str]:
    """ASCII letters, digits and spaces mixed with runs of new letters, numbers and marks (no newlines)."""
    rng = random.Random(seed)
    groups = _groups()
    new = list(groups.values())
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 16)):
            r = rng.random()
            if r < 0.3:
                parts.append(rng.choice(ASCII_WORDS))
            elif r < 0.42:
                parts.append(rng.choice(DIGITS))
            elif r < 0.6:
                parts.append(rng.choice(SPACES))
            else:
                g = rng.choice(new)
                parts.append("".join(rng.choice(g) for _ in range(rng.choice((1, 1, 2, 3, 5)))))
        out.append("".join(parts))
    return out


@functools.lru_cache(maxsize=None)
def coverage_strings(chunk=48, seed=1600) -> list[str]:
    """Every new code point once, in order, each after an ASCII letter, digit, space or nothing."""
    rng = random.Random(seed)
    cps = list(delta())
    joins = ["", "", " ", "a", "Q", "1", "  "]
    return ["".join(rng.choice(joins) + chr(cp) for cp in cps[i:i + chunk]) for i in range(0, len(cps), chunk)]


def test_sample_covers_the_examples():
    d = delta()
    for s in EXAMPLES[:6]:
        assert ord(s) in d, f"U+{ord(s):04X} not in the 15.0 -> 16.0 difference"
    assert {cp for s in coverage_strings() for cp in map(ord, s)} >= set(d)


def test_examples(tok, vocab, enc):
    """Each example on stdin == encode_ordinary."""
    for i, text in enumerate(EXAMPLES):
        out = ok(tok.run([*peers.CLI.encode, peers.CLI.vocab, vocab], text.encode()), f"example #{i}")
        check_whole(enc, out, enc.encode_ordinary(text), f"{vocab} example #{i} {text!r}")


def test_random_strings_lines(tok, vocab, enc, workdir):
    """1,500 random mixes, one per line (`--lines`), each == encode_ordinary(line)."""
    lines = random_strings()
    path = workdir / f"unicode16-random-{vocab}.txt"
    path.write_bytes("".join(s + "\n" for s in lines).encode())
    out = ok(tok.encode(vocab, [path], lines=True), path.name)
    check_lines(enc, out, [enc.encode_ordinary(s) for s in lines], lines, f"{vocab} unicode16 random --lines")


def test_every_new_code_point(tok, vocab, enc, workdir):
    """All new letters, numbers and marks, as one text and line by line."""
    lines = coverage_strings()
    text = "\n".join(lines) + "\n"
    path = workdir / f"unicode16-all-{vocab}.txt"
    path.write_bytes(text.encode())
    check_whole(enc, ok(tok.encode(vocab, [path]), path.name), enc.encode_ordinary(text), f"{vocab} all new code points")
    out = ok(tok.encode(vocab, [path], lines=True), path.name)
    check_lines(enc, out, [enc.encode_ordinary(s) for s in lines], lines, f"{vocab} all new code points --lines")


def test_icu_regex_differs_on_new_characters(tok, vocab, enc):
    """ICU 72 is Unicode 15.0: `--pretokenizer icu-regex` splits these texts differently from tiktoken, which
    shows that the tests above tell Unicode 15.0 from 16.0."""
    text = "\n".join(EXAMPLES + random_strings()[:200])
    out = ok(tok.run([*peers.CLI.encode, peers.CLI.vocab, vocab, "--pretokenizer", "icu-regex"], text.encode()),
             "icu-regex")
    assert peers.parse_ids(out) != enc.encode_ordinary(text), \
        f"{vocab}: --pretokenizer icu-regex agrees with tiktoken on Unicode 16.0 characters (is ICU now >= 16.0?)"
