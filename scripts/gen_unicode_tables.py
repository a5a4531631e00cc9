#!/usr/bin/env python3
"""Generate Sources/TokCore/Generated/UnicodeClassTables.swift from the Unicode Character Database.

Usage (from the repository root, offline once the inputs are installed, deterministic):

    .venv/bin/pip install unicodedata2==16.0.0      # once; unicodedata2.unidata_version must be "16.0.0"
    .venv/bin/python scripts/gen_unicode_tables.py [--ucd /usr/share/unicode] [--out Sources/TokCore/Generated/UnicodeClassTables.swift]

The generated file is committed; builds and tests do not need this script or its inputs.

Inputs:
- General_Category: Unicode 16.0.0, from the PyPI package `unicodedata2` version 16.0.0 (a backport of Python's
  `unicodedata` module with newer data; Python's own `unicodedata` is too old). 16.0 is the Unicode version of
  tiktoken 0.14's regex engine (Rust `regex`), the compatibility reference: the scanners must classify characters
  added in Unicode 15.1 and 16.0 as tiktoken does. The script refuses any other version.
- White_Space: PropList.txt from Debian's `unicode-data` package (`apt-get install -y unicode-data`; Unicode 15.0.0,
  the version of the system ICU 72). White_Space has not changed since Unicode 6.x; the script checks that the file
  is version 15.0.0 and that the set is exactly the expected 25 code points (WHITE_SPACE below).

The system ICU 72 is Unicode 15.0, so the table differs from ICU's classes exactly on the letters, numbers and marks
added in 15.1 and 16.0 (unassigned for ICU 72); Tests/TokICUTests/ScannerVsICUTests.swift checks that.

Per code point the table stores a bitset (see CLASS_BITS). It is a two-stage table: the code point's high bits
(cp >> 8) select a deduplicated 256-entry block. Both stages are emitted as ASCII StaticString literals rather than
array literals: a 38k-element [UInt8] literal took 16 s to compile with -O, a string literal takes well under a
second, and the bytes can be copied out without decoding.
"""
import argparse
import os
import re
import sys

# Must match the constants in Sources/TokCore/Scanners/ScannerSupport.swift.
CLASS_BITS = {
    "L": 0x01,        # \p{L}
    "N": 0x02,        # \p{N}
    "WS": 0x04,       # White_Space (= \s in ICU and Rust regex)
    "UPPER": 0x08,    # o200k [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
    "LOWER": 0x10,    # o200k [\p{Ll}\p{Lm}\p{Lo}\p{M}]
    "M": 0x20,        # \p{M}
}
# Class bytes are stored as 0x40 | bits so that every byte is a printable ASCII character.
BYTE_OFFSET = 0x40
BLOCK_SHIFT = 8
BLOCK_SIZE = 1 << BLOCK_SHIFT
MAX_CP = 0x10FFFF
# General_Category version (unicodedata2) and the PropList.txt version (White_Space).
EXPECTED_VERSION = "16.0.0"
UNICODEDATA2_VERSION = "16.0.0"
PROPLIST_VERSION = "15.0.0"
# White_Space, unchanged since Unicode 6.x.
WHITE_SPACE = frozenset([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
                         0x2028, 0x2029, 0x202F, 0x205F, 0x3000])
assert len(WHITE_SPACE) == 25
INSTALL_HINT = (f"install it into the repository venv: .venv/bin/pip install unicodedata2=={UNICODEDATA2_VERSION} "
                f"(then run .venv/bin/python scripts/gen_unicode_tables.py)")


def load_unicodedata2():
    try:
        import unicodedata2
    except ImportError:
        sys.exit(f"the Python package unicodedata2 {UNICODEDATA2_VERSION} is missing; {INSTALL_HINT}")
    if unicodedata2.unidata_version != EXPECTED_VERSION:
        sys.exit(f"unicodedata2 has Unicode {unicodedata2.unidata_version}, {EXPECTED_VERSION} expected (tiktoken's); "
                 f"{INSTALL_HINT}")
    return unicodedata2


def general_categories(ucd):
    """General_Category of every code point 0...U+10FFFF (surrogates are Cs, unassigned Cn)."""
    return [ucd.category(chr(cp)) for cp in range(MAX_CP + 1)]


def read_version_and_property(path, prop):
    version = None
    cps = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if version is None:
                m = re.match(r"#\s*PropList-(\d+\.\d+\.\d+)\.txt", line)
                if m:
                    version = m.group(1)
            data = line.split("#", 1)[0].strip()
            if not data:
                continue
            rng, name = (x.strip() for x in data.split(";"))
            if name != prop:
                continue
            lo, _, hi = rng.partition("..")
            for c in range(int(lo, 16), int(hi or lo, 16) + 1):
                cps.add(c)
    return version, cps


def class_bits(cat, is_ws):
    bits = 0
    if cat[0] == "L":
        bits |= CLASS_BITS["L"]
    if cat[0] == "N":
        bits |= CLASS_BITS["N"]
    if is_ws:
        bits |= CLASS_BITS["WS"]
    if cat in ("Lu", "Lt", "Lm", "Lo") or cat[0] == "M":
        bits |= CLASS_BITS["UPPER"]
    if cat in ("Ll", "Lm", "Lo") or cat[0] == "M":
        bits |= CLASS_BITS["LOWER"]
    if cat[0] == "M":
        bits |= CLASS_BITS["M"]
    return bits


def swift_string_literal(text, indent, width):
    # A multi-line literal with a backslash at each line end: the line breaks are not part of the value.
    lines = [text[i:i + width] for i in range(0, len(text), width)]
    body = "\\\n".join(indent + line for line in lines)
    return '"""\n' + body + "\n" + indent + '"""'


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ucd", default="/usr/share/unicode", help="directory with PropList.txt (Unicode 15.0.0)")
    ap.add_argument("--out", default=os.path.join(root, "Sources/TokCore/Generated/UnicodeClassTables.swift"))
    args = ap.parse_args()

    ucd = load_unicodedata2()
    cats = general_categories(ucd)
    version = ucd.unidata_version
    proplist_version, white_space = read_version_and_property(os.path.join(args.ucd, "PropList.txt"), "White_Space")
    if proplist_version != PROPLIST_VERSION:
        sys.exit(f"PropList.txt is Unicode {proplist_version}, {PROPLIST_VERSION} expected (Debian's unicode-data)")
    if white_space != WHITE_SPACE:
        sys.exit(f"White_Space in PropList.txt differs from the expected {len(WHITE_SPACE)} code points: "
                 f"{sorted(white_space ^ WHITE_SPACE)}")
    for cp in WHITE_SPACE:
        if cats[cp][0] in "LNM":
            sys.exit(f"U+{cp:04X} is White_Space and {cats[cp]}")

    values = [class_bits(cats[cp], cp in white_space) for cp in range(MAX_CP + 1)]

    block_ids = {}
    blocks = []
    stage1 = []
    for start in range(0, MAX_CP + 1, BLOCK_SIZE):
        block = tuple(values[start:start + BLOCK_SIZE])
        if block not in block_ids:
            block_ids[block] = len(blocks)
            blocks.append(block)
        stage1.append(block_ids[block])
    if len(blocks) > 256:
        sys.exit(f"{len(blocks)} distinct blocks do not fit a one-byte stage-1 index")

    stage1_text = "".join("%02X" % b for b in stage1)
    stage2_text = "".join(chr(BYTE_OFFSET | v) for block in blocks for v in block)
    assert "\\" not in stage2_text and '"' not in stage2_text, "class byte would need escaping"
    counts = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    legend = ", ".join(f"'{chr(BYTE_OFFSET | v)}'=0x{v:02X}" for v in sorted(counts))

    out = f"""// GENERATED FILE, DO NOT EDIT. Regenerate from the repository root with:
//     .venv/bin/python scripts/gen_unicode_tables.py
//     (needs `.venv/bin/pip install unicodedata2=={UNICODEDATA2_VERSION}`; see the script's header)
// Input: General_Category from Unicode {version} (Python package unicodedata2 {UNICODEDATA2_VERSION}), the Unicode
// version of tiktoken 0.14's regex engine; White_Space from PropList.txt {proplist_version} (Debian's `unicode-data`;
// unchanged since Unicode 6.x). Unassigned code points (Cn) and surrogates have no bits. The system ICU 72 is
// Unicode 15.0, so ICU's classes differ from this table on the characters added in Unicode 15.1 and 16.0.
//
// Per code point a class bitset: L 0x01, N 0x02, White_Space 0x04, o200k upper [Lu Lt Lm Lo M] 0x08,
// o200k lower [Ll Lm Lo M] 0x10, M 0x20. Stage 1 has one entry per {BLOCK_SIZE} code points (cp >> {BLOCK_SHIFT}),
// {len(stage1)} entries written as two hex digits each, giving a block number; stage 2 holds {len(blocks)} deduplicated
// blocks of {BLOCK_SIZE} class bytes, each written as the ASCII character 0x40 | bits ({legend}).

/// Compressed Unicode class tables; see `ClassTable` for the decoded form.
enum UnicodeClassTables {{
    /// Unicode version of the General_Category data.
    static let unicodeVersion = "{version}"
    /// Code points per stage-2 block, as a shift.
    static let blockShift = {BLOCK_SHIFT}
    /// Number of distinct stage-2 blocks.
    static let blockCount = {len(blocks)}
    /// Added to every class bitset in `stage2` to keep it printable ASCII.
    static let byteOffset: UInt8 = 0x{BYTE_OFFSET:02X}

    /// Block number of each {BLOCK_SIZE}-code-point block, two hex digits per block.
    static let stage1: StaticString = {swift_string_literal(stage1_text, "        ", 128)}

    /// The class bytes of all blocks, {BLOCK_SIZE} per block.
    static let stage2: StaticString = {swift_string_literal(stage2_text, "        ", 128)}
}}
"""
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(out)
    print(f"wrote {args.out}: Unicode {version} (White_Space {proplist_version}), {len(blocks)} blocks, {len(stage1_text) + len(stage2_text)} table characters")


if __name__ == "__main__":
    main()
