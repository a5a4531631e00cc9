"""`tok eval` against numbers computed here with tiktoken, its HTML report in headless Chromium, and bad input.

The parallel corpus and the morphology files are the shipped ones (corpora/parallel, corpora/morph).
"""
from __future__ import annotations

import html.parser
import json
import shutil
import subprocess

import pytest

import peers

pytestmark = pytest.mark.cli

PARALLEL = peers.REPO / "corpora" / "parallel"
MORPH = peers.REPO / "corpora" / "morph"


def language_files():
    return sorted(PARALLEL.glob("*.txt.zst"))


def run_json(tok, args):
    return json.loads(peers.ok(tok.run(["eval", "--json", *map(str, args)]), "tok eval"))


def test_parallel_corpus_is_aligned_and_varied():
    langs = [p.name.split(".")[0] for p in language_files()]
    assert len(langs) >= 12 and "en" in langs
    lines = {p.name: peers.corpus_bytes(p).count(b"\n") for p in language_files()}
    assert len(set(lines.values())) == 1, lines
    # At least six scripts, by the first letter of each file.
    import unicodedata
    scripts = set()
    for p in language_files():
        text = peers.corpus_bytes(p).decode("utf-8")
        letter = next(ch for ch in text if ch.isalpha())
        scripts.add(unicodedata.name(letter).split()[0])
    assert len(scripts) >= 6, scripts


def test_parity_and_fertility_match_tiktoken(tok):
    report = run_json(tok, ["-t", "cl100k_base", "-t", "o200k_base", "--parallel", PARALLEL])
    assert report["pivot"] == "en"
    for k, name in enumerate(["cl100k_base", "o200k_base"]):
        enc = peers.encoding(name)
        counts, words, texts = {}, {}, {}
        for p in language_files():
            lang = p.name.split(".")[0]
            text = peers.corpus_bytes(p).decode("utf-8")
            counts[lang] = len(enc.encode_ordinary(text))
            words[lang] = len(text.split())
            texts[lang] = text
        by_lang = {s["name"]: s["tokenizers"][name] for s in report["languages"]}
        assert set(by_lang) == set(counts)
        for lang, got in by_lang.items():
            assert got["tokens"] == counts[lang], (name, lang)
            assert got["premium"] == pytest.approx(counts[lang] / counts["en"], rel=1e-12), (name, lang)
            assert got["fertility_whitespace"] == pytest.approx(counts[lang] / words[lang], rel=1e-12), (name, lang)
            assert got["bytes_per_token"] == pytest.approx(len(texts[lang].encode()) / counts[lang], rel=1e-12)
            assert got["chars_per_token"] == pytest.approx(len(texts[lang]) / counts[lang], rel=1e-12)
        premiums = [counts[l] / counts["en"] for l in counts]
        n, mean = len(premiums), sum(premiums) / len(premiums)
        gini = sum(abs(a - b) for a in premiums for b in premiums) / (2 * n * n * mean)
        assert report["gini"][name] == pytest.approx(gini, rel=1e-9)


def test_corpus_metrics_match_tiktoken(tok):
    path = next(p for p in peers.corpus_files() if p.name.startswith("prose-en"))
    report = run_json(tok, ["-t", "o200k_base", path])
    enc = peers.encoding("o200k_base")
    text = peers.corpus_bytes(path).decode("utf-8")
    ids = enc.encode_ordinary(text)
    got = report["corpus"]["tokenizers"]["o200k_base"]
    assert got["tokens"] == len(ids)
    assert got["fertility_whitespace"] == pytest.approx(len(ids) / len(text.split()), rel=1e-12)
    used = len(set(i for i in ids if i < enc.max_token_value))
    assert got["unused_tokens"] == 199998 - used
    import math
    from collections import Counter
    c = Counter(ids)
    entropy = -sum(v / len(ids) * math.log2(v / len(ids)) for v in c.values())
    assert got["entropy_bits"] == pytest.approx(entropy, rel=1e-9)
    renyi = math.log(sum((v / len(ids)) ** 2.5 for v in c.values())) / (1 - 2.5) / math.log(199998)
    assert got["renyi_efficiency"] == pytest.approx(renyi, rel=1e-9)
    lengths = [len(enc.decode_single_token_bytes(i)) for i in ids]
    hist = [sum(1 for l in lengths if min(l, 16) == k) for k in range(1, 17)]
    assert got["token_length_histogram"] == hist


@pytest.mark.parametrize("corpus", peers.corpus_files(), ids=lambda p: p.name)
def test_corpus_token_counts_match_tiktoken(tok, corpus):
    """eval reads a corpus in segments cut at safe places: the token counts must be tiktoken's on the whole text
    (o200k's count on the multilingual corpus was one off when a segment was cut between "\n" and "/")."""
    names = ["cl100k_base", "o200k_base", "llama3"]
    report = run_json(tok, [*sum((["-t", n] for n in names), []), corpus])
    text = peers.corpus_bytes(corpus).decode("utf-8")
    for n in names:
        got = report["corpus"]["tokenizers"][n]["tokens"]
        assert got == len(peers.encoding(n).encode_ordinary(text)), (n, corpus.name)


class _Charts(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.metrics = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "chart" in (a.get("class") or "").split():
            self.metrics.append(a.get("data-metric"))


def chromium():
    for name in ["chromium", "chromium-browser", "google-chrome"]:
        if shutil.which(name):
            return shutil.which(name)
    pytest.fail("chromium is not installed (make test installs Debian's chromium package)", pytrace=False)


def test_html_report_renders_with_a_chart_per_metric(tok, workdir):
    page = workdir / "report.html"
    report = run_json(tok, ["-t", "cl100k_base", "-t", "o200k_base", "-t", "mixed-8k", "--parallel", PARALLEL,
                            "--segmentation", MORPH / "tr-segmentation.tsv.zst", "--lexicon",
                            MORPH / "tr-lexicon.txt.zst", PARALLEL / "tr.txt.zst", "--html", page])
    cp = subprocess.run([chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                         "--v=0", "--dump-dom", page.as_uri()], capture_output=True, timeout=120)
    assert cp.returncode == 0, cp.stderr.decode(errors="replace")[-2000:]
    err = cp.stderr.decode(errors="replace")
    assert "CONSOLE" not in err and "Uncaught" not in err, err[-2000:]
    dom = cp.stdout.decode("utf-8")
    charts = _Charts()
    charts.feed(dom)
    # One chart for every metric with a value on the corpus, and the parity charts.
    metrics = {m for t in report["corpus"]["tokenizers"].values() for m in t
               if m not in ("tokens", "token_length_histogram")}
    expected = metrics | {"premium", "gini", "token_length_histogram"}
    assert expected <= set(charts.metrics), expected - set(charts.metrics)
    assert len(charts.metrics) == len(set(charts.metrics)), "a metric has two charts"
    # The summary names the cheapest tokenizer for each language.
    for s in report["languages"]:
        if s["name"] == "en":
            continue
        best = min(s["tokenizers"], key=lambda t: s["tokenizers"][t]["premium"])
        assert f'<td class="l">{s["name"]}</td>' in dom
        row = dom.split(f'<td class="l">{s["name"]}</td>', 1)[1].split("</tr>", 1)[0]
        assert row.rstrip().endswith(f'<td class="l">{best}</td>'), (s["name"], best)


def test_csv_has_every_json_value(tok):
    args = ["-t", "cl100k_base", "--parallel", PARALLEL]
    report = run_json(tok, args)
    rows = peers.ok(tok.run(["eval", "--csv", *map(str, args)]), "csv").decode().splitlines()
    assert rows[0] == "scope,tokenizer,metric,value"
    values = {(r.split(",")[0], r.split(",")[2]): float(r.split(",")[3]) for r in rows[1:]}
    for s in report["languages"]:
        for m, v in s["tokenizers"]["cl100k_base"].items():
            if m != "token_length_histogram" and v is not None:
                assert values[(s["name"], m)] == pytest.approx(v), (s["name"], m)


def one_line_error(cp, *needles):
    err = cp.stderr.decode("utf-8", "replace").strip()
    assert cp.returncode != 0, "expected failure"
    assert err.startswith("tok eval: ") and len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, (n, err)


def test_bad_input(tok, workdir):
    d = workdir / "par-missing"
    d.mkdir()
    (d / "de.txt").write_text("a\nb\n", encoding="utf-8")
    (d / "fr.txt").write_text("a\nb\n", encoding="utf-8")
    one_line_error(tok.run(["eval", "--parallel", d]), "en")            # no pivot file

    d = workdir / "par-misaligned"
    d.mkdir()
    (d / "en.txt").write_text("a\nb\nc\n", encoding="utf-8")
    (d / "de.txt").write_text("a\nb\n", encoding="utf-8")
    one_line_error(tok.run(["eval", "--parallel", d]), "de.txt", "en.txt", "2", "3")

    empty = workdir / "empty.txt"
    empty.write_bytes(b"")
    one_line_error(tok.run(["eval", empty]), "empty")

    one_line_error(tok.run(["eval", "-t", "no-such-tokenizer", empty]), "no-such-tokenizer")
    one_line_error(tok.run(["eval", workdir / "missing.txt"]), "missing.txt")

    html = workdir / "never.html"
    cp = tok.run(["eval", "--parallel", workdir / "par-misaligned", "--html", html])
    assert cp.returncode != 0 and not html.exists()

    # A score over no words is no score: empty gold files are errors, not 0.0.
    text = workdir / "some-text.txt"
    text.write_text("ev kitap\n", encoding="utf-8")
    blank = workdir / "blank-gold.tsv"
    blank.write_text("# only a comment\n\n", encoding="utf-8")
    one_line_error(tok.run(["eval", "--segmentation", blank, text]), "blank-gold.tsv", "no segmented words")
    one_line_error(tok.run(["eval", "--lexicon", blank, text]), "blank-gold.tsv", "no entries")


def test_every_metric_is_defined_in_the_man_page(tok):
    report = run_json(tok, ["-t", "cl100k_base", "--parallel", PARALLEL])
    man = (peers.REPO / "man" / "tok.1").read_text(encoding="utf-8").replace("\\-", "-")
    missing = [m for m in report["definitions"] if m not in man]
    assert not missing, missing


def test_results_do_not_depend_on_threads(tok):
    args = ["eval", "--json", "-t", "cl100k_base", "-t", "mixed-8k", "--parallel", PARALLEL,
            *[p for p in peers.corpus_files()]]
    outs = [peers.ok(tok.run([*args, "--threads", n]), "eval") for n in (1, 3)]
    assert outs[0] == outs[1]


def test_word_counts_do_not_depend_on_what_icu_segmented_first(tok, workdir):
    """ICU loads its dictionary engines when a text first needs them, and the text segmented then came out
    differently from the same text later in the process: "xy\u00a0ー𠀀\x1f  qq" had three UAX #29 words when it was
    the process's first text with kana or Han, four after any other (so eval's word counts depended on which file and
    thread came first; found by differential fuzzing). tok loads every engine before it segments a caller's text."""
    path = workdir / "first-dictionary-text.txt"
    path.write_bytes("xy\u00a0ー𠀀\x1f  qq".encode())
    got = run_json(tok, ["-t", "o200k_base", path])["corpus"]["tokenizers"]["o200k_base"]
    assert got["tokens"] / got["fertility_words"] == pytest.approx(4, rel=1e-12)


def test_eval_options_edges(tok, workdir):
    """Renyi efficiency of a large order is the min-entropy's (p^alpha underflowed: the value vanished from
    alpha 400 on), --alpha inf is refused (it wrote `inf` into the JSON); a language with two files, --pivot
    without --parallel and a tokenizer given twice are errors; unused_tokens is an integer; `--html -` writes
    the page to standard output (it made a file named "-")."""
    import math
    from collections import Counter
    text = workdir / "alpha.txt"
    text.write_text(peers.corpus_bytes(peers.corpus_files()[0]).decode("utf-8")[:200_000], encoding="utf-8")
    ids = peers.encoding("cl100k_base").encode_ordinary(text.read_text(encoding="utf-8"))
    counts, total = Counter(ids), len(ids)
    n_vocab = 100256
    for alpha in (2.5, 400, 1000, 1e6):
        got = run_json(tok, ["-t", "cl100k_base", "--alpha", alpha, text])["corpus"]["tokenizers"]["cl100k_base"]
        most = max(counts.values())
        s = sum((c / most) ** alpha for c in counts.values())
        want = (math.log(s) + alpha * math.log(most / total)) / (1 - alpha) / math.log(n_vocab)
        assert abs(got["renyi_efficiency"] - want) < 1e-9, (alpha, got.get("renyi_efficiency"), want)
        assert isinstance(got["unused_tokens"], int)
    min_entropy = -math.log(max(counts.values()) / total) / math.log(n_vocab)
    assert abs(run_json(tok, ["-t", "cl100k_base", "--alpha", 1e6, text])["corpus"]["tokenizers"]["cl100k_base"]
               ["renyi_efficiency"] - min_entropy) < 1e-4
    for bad in (["--alpha", "inf"], ["--alpha", "nan"], ["--pivot", "de"], ["-t", "o200k_base", "-t", "o200k_base"],
                ["--html", "-", "--json"]):
        cp = tok.run(["eval", *bad, text])
        assert cp.returncode == 64, (bad, cp.returncode, cp.stderr)
    d = workdir / "par-twice"
    d.mkdir(exist_ok=True)
    for name in ("en.txt", "fr.txt"):
        (d / name).write_text("a\nb\n", encoding="utf-8")
    (d / "fr.txt.zst").write_bytes(subprocess.run(["zstd", "-qc"], input=b"a\nb\n", capture_output=True).stdout)
    cp = tok.run(["eval", "--parallel", d])
    assert cp.returncode != 0 and b"two files for the language fr" in cp.stderr, cp.stderr
    cwd = workdir / "html-dash"
    cwd.mkdir(exist_ok=True)
    cp = subprocess.run([tok.binary, "eval", "--html", "-", str(text)], cwd=cwd, capture_output=True, timeout=120)
    assert cp.returncode == 0 and cp.stdout.startswith(b"<!DOCTYPE html") and list(cwd.iterdir()) == []


def test_segmentation_file_with_crlf(tok, workdir):
    """A gold segmentation with CRLF line ends scores as the same file with LF (it was rejected: "the morphs do
    not spell the word", as Swift's String keeps "\\r\\n" as one character)."""
    text = workdir / "seg-text.txt"
    text.write_text("walking books unhappiness\n", encoding="utf-8")
    rows = ["walking\twalk ing", "books\tbook s", "unhappiness\tun happi ness"]
    reports = []
    for name, sep in (("seg-lf.tsv", "\n"), ("seg-crlf.tsv", "\r\n")):
        path = workdir / name
        path.write_bytes((sep.join(rows) + sep).encode())
        reports.append(run_json(tok, ["-t", "o200k_base", "--segmentation", path, text])["corpus"])
    assert reports[0] == reports[1]
    assert "morph_recall" in reports[0]["tokenizers"]["o200k_base"]


def test_segmentation_word_of_many_morphs(tok, workdir):
    """A gold word of 300,000 one-byte morphs (reading it copied a growing array per morph, and %Pure searched
    the morphs per token: 63 s for 500,000): every token boundary is a morph boundary, so precision is 1 and
    recall is the share of the word's byte boundaries that tiktoken's tokens of " word" put a boundary at."""
    import random
    rng = random.Random(3)
    word = "".join(rng.choice("abcdefgh") for _ in range(300_000))
    gold = workdir / "many-morphs.tsv"
    gold.write_text(word + "\t" + " ".join(word) + "\n", encoding="utf-8")
    text = workdir / "many-morphs-text.txt"
    text.write_text("hello\n", encoding="utf-8")
    got = run_json(tok, ["-t", "cl100k_base", "--segmentation", gold, text])["corpus"]["tokenizers"]["cl100k_base"]
    ids = peers.encoding("cl100k_base").encode_ordinary(" " + word)
    ends, pos = [], -1
    for i in ids:
        pos += len(peers.encoding("cl100k_base").decode_single_token_bytes(i))
        ends.append(pos)
    inner = [e for e in ends[:-1] if 0 < e < len(word)]
    assert got["morph_precision"] == 1.0
    assert abs(got["morph_recall"] - len(inner) / (len(word) - 1)) < 1e-12
    one_byte_tokens = sum(1 for i in ids if len(peers.encoding("cl100k_base").decode_single_token_bytes(i).strip()) == 1)
    assert abs(got["morph_pure"] - one_byte_tokens / len(ids)) < 1e-12
