#!/usr/bin/env python3
"""Generate Sources/TokCore/Generated/UnicodeClassTables.swift from the Unicode Character Database.

Usage (from the repository root, offline, deterministic):

    scripts/gen_unicode_tables.py [--ucd /usr/share/unicode] [--out Sources/TokCore/Generated/UnicodeClassTables.swift]

The input is Debian's `unicode-data` package (`apt-get install -y unicode-data`): UnicodeData.txt for the general
category and PropList.txt for White_Space. The version must be the one the system ICU uses (ICU 72 = Unicode 15.0),
because the hand-written scanners are tested to split exactly like ICU's regex engine; the script refuses another
version unless --allow-version is given.

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
EXPECTED_VERSION = "15.0.0"


def read_general_categories(path):
    cats = {}
    first = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split(";")
            if len(fields) < 3:
                continue
            cp = int(fields[0], 16)
            name, cat = fields[1], fields[2]
            # Large ranges (CJK, Hangul, Tangut, private use...) are given as a First/Last pair of lines.
            if name.endswith(", First>"):
                first = cp
                continue
            if name.endswith(", Last>"):
                if first is None:
                    sys.exit(f"{path}: range end {fields[0]} without a start")
                for c in range(first, cp + 1):
                    cats[c] = cat
                first = None
                continue
            cats[cp] = cat
    return cats


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
    ap.add_argument("--ucd", default="/usr/share/unicode", help="directory with UnicodeData.txt and PropList.txt")
    ap.add_argument("--out", default=os.path.join(root, "Sources/TokCore/Generated/UnicodeClassTables.swift"))
    ap.add_argument("--allow-version", action="store_true", help=f"accept a Unicode version other than {EXPECTED_VERSION}")
    args = ap.parse_args()

    cats = read_general_categories(os.path.join(args.ucd, "UnicodeData.txt"))
    version, white_space = read_version_and_property(os.path.join(args.ucd, "PropList.txt"), "White_Space")
    if version is None:
        sys.exit("PropList.txt has no version header")
    if version != EXPECTED_VERSION and not args.allow_version:
        sys.exit(f"Unicode {version} found, {EXPECTED_VERSION} expected (the system ICU's); use --allow-version to override")

    values = [class_bits(cats.get(cp, "Cn"), cp in white_space) for cp in range(MAX_CP + 1)]

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
//     scripts/gen_unicode_tables.py
// Input: Unicode {version} UnicodeData.txt (general category) and PropList.txt (White_Space) from Debian's
// `unicode-data` package, the Unicode version of the system ICU 72. Unassigned code points (Cn) have no bits.
//
// Per code point a class bitset: L 0x01, N 0x02, White_Space 0x04, o200k upper [Lu Lt Lm Lo M] 0x08,
// o200k lower [Ll Lm Lo M] 0x10, M 0x20. Stage 1 has one entry per {BLOCK_SIZE} code points (cp >> {BLOCK_SHIFT}),
// {len(stage1)} entries written as two hex digits each, giving a block number; stage 2 holds {len(blocks)} deduplicated
// blocks of {BLOCK_SIZE} class bytes, each written as the ASCII character 0x40 | bits ({legend}).

/// Compressed Unicode class tables; see `ClassTable` for the decoded form.
enum UnicodeClassTables {{
    /// Unicode version of the data.
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
    print(f"wrote {args.out}: Unicode {version}, {len(blocks)} blocks, {len(stage1_text) + len(stage2_text)} table characters")


if __name__ == "__main__":
    main()
