"""Text from installed Debian packages, shared by the corpus build scripts (build-corpora.sh,
build-train-corpus.sh). Everything here is deterministic for a given set of installed packages."""
import gzip, os, re, subprocess


def run(args, data=None):
    return subprocess.run(args, input=data, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, check=False).stdout


_files = {}
def pkg_files(pkg):
    """Regular files (not symlinks, not dirs) of an installed package, sorted."""
    if pkg not in _files:
        out = run(['dpkg-query', '-L', pkg]).decode('utf-8', 'surrogateescape')
        fs = [f for f in out.splitlines() if f.startswith('/')
              and os.path.isfile(f) and not os.path.islink(f)]
        _files[pkg] = sorted(set(fs))
    return _files[pkg]


def read(path):
    with open(path, 'rb') as fh:
        b = fh.read()
    return gzip.decompress(b) if path.endswith('.gz') else b


def utf8(b):
    try:
        return b.decode('utf-8')
    except UnicodeDecodeError:
        return None


def squeeze(text):
    return re.sub(r'\n{3,}', '\n\n', text)


def render_man(path):
    """A man page rendered as plain 80-column UTF-8 text without its header and footer lines; None for `.so`
    redirects, undecodable output and near-empty pages."""
    raw = read(path)
    if raw.lstrip().startswith(b'.so ') and raw.count(b'\n') <= 3:
        return None
    out = run(['man', '--nh', '--nj', '-E', 'UTF-8', '-l', '-P', 'cat', path])
    txt = utf8(run(['col', '-bx'], out))
    if not txt:
        return None
    lines = [l.rstrip() for l in txt.split('\n')]
    nz = [i for i, l in enumerate(lines) if l]
    if len(nz) < 4:
        return None
    lines = lines[nz[0] + 1:nz[-1]]          # drop header and footer lines
    return squeeze('\n'.join(lines)).strip('\n') + '\n'
