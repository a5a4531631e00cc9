#!/usr/bin/env bash
# Rebuild the shipped test corpora (corpora/{prose-en,code,multilingual}.txt.zst)
# deterministically from Debian 12 packages. Installs the packages it needs.
#
#   scripts/build-corpora.sh            # rebuild corpora/*.txt.zst + corpora/MANIFEST
#   RAW_DIR=/tmp/raw scripts/build-corpora.sh   # also keep the uncompressed .txt files there
#
# Same package versions (listed in corpora/MANIFEST) => byte-identical .txt files.
# Inputs are taken only from the packages named below, via `dpkg -L`, in sorted
# order; sampling is a fixed stride interleave with fixed byte budgets.
# Provenance and licences: corpora/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PKGS=(
  # tools
  man-db groff-base bsdextrautils zstd python3 dpkg
  # prose-en
  base-files bash coreutils git manpages manpages-dev
  # code
  libpython3.11-stdlib libc6-dev perl-modules-5.36 libjs-jquery
  gzip bzip2 xz-utils libc-bin debianutils ca-certificates
  # multilingual
  manpages-ja manpages-zh manpages-ru manpages-uk manpages-el
  iso-codes apt libapt-pkg6.0 libglib2.0-data libgtk2.0-common libpam-runtime
  shared-mime-info xkb-data grep sed findutils tar diffutils gettext-base
  libc-l10n locales unicode-data
)

scripts/ensure-packages.sh "${PKGS[@]}"

export LC_ALL=C.UTF-8 LANG=C.UTF-8 TZ=UTC MANWIDTH=80 PYTHONHASHSEED=0
unset MANPATH MANOPT MAN_KEEP_FORMATTING GROFF_SGR PAGER MANPAGER || true
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

/usr/bin/python3 -I - "$tmp" "${PKGS[@]}" <<'PYEOF'
import gettext, os, re, sys
from concurrent.futures import ThreadPoolExecutor

sys.dont_write_bytecode = True          # keep scripts/ free of __pycache__
sys.path.insert(0, 'scripts')
from debian_text import pkg_files, read, render_man, run, squeeze, utf8

OUT = sys.argv[1]
PKGS = sys.argv[2:]


def interleave(items, k):
    """Deterministic spread-out order: i, i+k, i+2k, ... for i = 0..k-1."""
    return [items[j] for i in range(k) for j in range(i, len(items), k)]


def man_pages(files, budget, k=7):
    """Render pages in interleaved order until `budget` bytes of text."""
    files = interleave(files, k)
    parts, size = [], 0
    with ThreadPoolExecutor(2) as ex:
        for i in range(0, len(files), 8):
            for t in ex.map(render_man, files[i:i + 8]):
                if t and size < budget:
                    parts.append(t)
                    size += len(t.encode())
            if size >= budget:
                break
    return parts


def man_files(pkg, subdir, sections=None):
    fs = [f for f in pkg_files(pkg) if f.startswith(subdir + '/man') and f.endswith('.gz')]
    if sections:
        fs = [f for s in sections for f in fs if f.startswith(f'{subdir}/man{s}/')]
    return fs


def write(name, text):
    with open(os.path.join(OUT, name), 'w', encoding='utf-8', newline='') as fh:
        fh.write(text)


def dedupe(text, strip_indent=False, maxlen=2000):
    seen, out = set(), []
    for l in text.split('\n'):
        l = l.strip() if strip_indent else l.rstrip()
        if not l:
            if out and out[-1]:
                out.append('')
            continue
        if l in seen or len(l) > maxlen:
            continue
        seen.add(l)
        out.append(l)
    return '\n'.join(out).strip('\n') + '\n'


# ---------------------------------------------------------------- prose-en
prose = []
for f in pkg_files('base-files'):
    if f.startswith('/usr/share/common-licenses/'):
        prose.append(read(f).decode('utf-8'))
for pkg, names in [('bash', ['INTRO.gz', 'README.gz', 'NEWS.gz', 'COMPAT.gz', 'POSIX.gz']),
                   ('coreutils', ['README.gz', 'NEWS.gz'])]:
    for n in names:
        p = f'/usr/share/doc/{pkg}/{n}'
        if p in pkg_files(pkg):
            t = utf8(read(p))
            if t:
                prose.append(t)
relnotes = [f for f in pkg_files('git') if f.startswith('/usr/share/doc/git/RelNotes/')]
size = 0
for f in interleave(relnotes, 5):
    t = utf8(read(f))
    if t and size < 600_000:
        prose.append(t)
        size += len(t.encode())
head = sum(len(p.encode()) for p in prose)
mans = (man_files('manpages', '/usr/share/man', ['7', '1', '5', '4'])
        + man_files('manpages-dev', '/usr/share/man', ['2', '3']))
prose += man_pages(mans, 3_600_000 - head, k=3)
write('prose-en.txt', squeeze('\n'.join(p.rstrip() + '\n' for p in prose)))

# ---------------------------------------------------------------- code
def code_files(files, budget, k):
    parts, size = [], 0
    for f in interleave(files, k):
        t = utf8(read(f))
        if not t or '\0' in t or size >= budget:
            continue
        parts.append(f'==> {f} <==\n' + t.rstrip('\n') + '\n')
        size += len(parts[-1].encode())
    return parts

def shebang_sh(f):
    with open(f, 'rb') as fh:
        first = fh.readline(200)
    return re.match(rb'#!\s*/(usr/)?bin/(env\s+)?(ba|da|k)?sh\b', first) is not None

code = []
py = [f for f in pkg_files('libpython3.11-stdlib')
      if f.endswith('.py') and '/test/' not in f and '/tests/' not in f
      and '/idle_test/' not in f and os.path.getsize(f) < 100_000]
code += code_files(py, 650_000, 11)
hdr = [f for f in pkg_files('libc6-dev') if f.endswith('.h')]
code += code_files(hdr, 330_000, 7)
sh = [f for p in ['gzip', 'bzip2', 'xz-utils', 'libc-bin', 'debianutils', 'ca-certificates',
                  'dpkg', 'man-db', 'git']
      for f in pkg_files(p) if shebang_sh(f)]
code += code_files(sorted(set(sh)), 200_000, 3)
pm = [f for f in pkg_files('perl-modules-5.36') if f.endswith('.pm') and os.path.getsize(f) < 60_000]
code += code_files(pm, 220_000, 13)
js = [f for f in pkg_files('libjs-jquery') if f.endswith('/jquery.js')]
code += code_files(js, 200_000, 1)
write('code.txt', '\n'.join(code))

# ---------------------------------------------------------------- multilingual
ml = []
for pkg, sub, budget in [('manpages-ja', '/usr/share/man/ja', 330_000),
                         ('manpages-zh', '/usr/share/man/zh_CN', 260_000),
                         ('manpages-zh', '/usr/share/man/zh_TW', 120_000),
                         ('manpages-ru', '/usr/share/man/ru', 260_000),
                         ('manpages-uk', '/usr/share/man/uk', 160_000),
                         ('manpages-el', '/usr/share/man/el', 120_000)]:
    ml += man_pages(man_files(pkg, sub), budget, k=7)

MO_PKGS = ['apt', 'libapt-pkg6.0', 'dpkg', 'libglib2.0-data', 'libgtk2.0-common',
           'libpam-runtime', 'shared-mime-info', 'xkb-data', 'coreutils', 'grep', 'sed',
           'findutils', 'tar', 'diffutils', 'gettext-base', 'libc-l10n', 'bash', 'man-db',
           'iso-codes']
MO_LANGS = [  # (locale dir, byte budget)
    ('ar', 160_000), ('fa', 60_000), ('he', 160_000), ('hi', 140_000), ('mr', 120_000),
    ('ne', 110_000), ('bn', 60_000), ('ta', 60_000), ('th', 160_000), ('el', 160_000),
    ('ko', 200_000), ('ka', 60_000), ('hy', 40_000), ('am', 30_000), ('km', 40_000),
    ('si', 40_000), ('vi', 60_000), ('ja', 60_000), ('zh_CN', 60_000), ('zh_TW', 40_000),
    ('ru', 60_000), ('uk', 50_000), ('bg', 40_000), ('sr', 40_000), ('tr', 30_000),
    ('pl', 30_000), ('de', 30_000), ('fr', 30_000), ('es', 30_000)]

def mo_lines(path):
    try:
        with open(path, 'rb') as fh:
            cat = gettext.GNUTranslations(fh)._catalog
    except Exception:
        return []
    out = []
    for key, msgstr in cat.items():
        msgid = key[0] if isinstance(key, tuple) else key
        if not msgid or not msgstr or msgstr == msgid:
            continue
        out += [l for l in msgstr.split('\n') if len(l.strip()) >= 2]
    return out

for lang, budget in MO_LANGS:
    lines, size = [], 0
    for pkg in MO_PKGS:
        for f in pkg_files(pkg):
            if f.startswith(f'/usr/share/locale/{lang}/LC_MESSAGES/') and f.endswith('.mo'):
                for l in mo_lines(f):
                    if size < budget:
                        lines.append(l)
                        size += len(l.encode()) + 1
    ml.append('\n'.join(lines) + '\n')

# glibc locale data: native language/country names, months, weekdays
def loc_strings(text, key):
    m = re.search(r'^' + key + r'\s+((?:[^\n]*/\n)*[^\n]*)', text, re.M)
    if not m:
        return []
    v = m.group(1).replace('/\n', '')
    vals = re.findall(r'"([^"]*)"', v)
    return [re.sub(r'<U([0-9A-Fa-f]{4,8})>', lambda u: chr(int(u.group(1), 16)), s)
            for s in vals]

loc = []
for f in pkg_files('locales'):
    if not f.startswith('/usr/share/i18n/locales/') or '/translit_' in f:
        continue
    t = utf8(read(f))
    if not t:
        continue
    ln, cn = loc_strings(t, 'lang_name'), loc_strings(t, 'country_name')
    mon, day = loc_strings(t, 'mon'), loc_strings(t, 'day')
    if ln and mon and day:
        loc.append(f"{ln[0]} ({cn[0] if cn else ''}): {', '.join(mon)}; {', '.join(day)}")
ml.append('\n'.join(loc) + '\n')

# Unicode emoji test data: "emoji name" lines and per-subgroup runs
emo, runs, cur, group = [], [], [], ''
for f in pkg_files('unicode-data'):
    if f.endswith('/emoji/emoji-test.txt'):
        for l in read(f).decode('utf-8').split('\n'):
            if l.startswith('# subgroup:'):
                if cur:
                    runs.append(''.join(cur)); runs.append(' '.join(cur))
                cur = []
            m = re.match(r'^[0-9A-F ]+;\s*(fully-qualified|component)\s*#\s*(\S+)\s+E\d+\.\d+\s+(.*)$', l)
            if m:
                emo.append(f'{m.group(2)} {m.group(3)}')
                cur.append(m.group(2))
        if cur:
            runs.append(''.join(cur)); runs.append(' '.join(cur))
ml.append('\n'.join(emo) + '\n')
ml.append('\n'.join(runs) + '\n')
write('multilingual.txt', dedupe('\n'.join(ml), strip_indent=True))

# ---------------------------------------------------------------- manifest
vers = run(['dpkg-query', '-W', '-f', '${Package} ${Version}\n'] + sorted(set(PKGS))).decode()
write('packages.txt', vers)
PYEOF

mkdir -p corpora
for n in prose-en code multilingual; do
  zstd -19 -q -f --no-progress "$tmp/$n.txt" -o "corpora/$n.txt.zst"
done
if [[ -n "${RAW_DIR:-}" ]]; then mkdir -p "$RAW_DIR" && cp "$tmp"/*.txt "$RAW_DIR"/; fi
{
  echo "# Generated by scripts/build-corpora.sh; do not edit."
  echo "# file raw_bytes sha256(raw)"
  for n in prose-en code multilingual; do
    echo "$n.txt.zst $(stat -c %s "$tmp/$n.txt") $(sha256sum <"$tmp/$n.txt" | cut -d' ' -f1)"
  done
  echo "# zstd: $(zstd -V)"
  echo "# Debian packages used (name version):"
  cat "$tmp/packages.txt"
} >corpora/MANIFEST
ls -l corpora/*.zst >&2
