"""pytest wiring for the tiktoken compatibility suite (tests/compat).

- tiktoken encodings are built offline from vocabularies/ (see peers.encoding); its cache
  dir is a private temp dir and outbound network connections are refused for the session.
- Tests that run the CLI carry the `cli` marker and use the `tok` fixture; the binary is
  $TOK_BIN (default .build/release/tok). `pytest -m "not cli" tests/compat` checks the
  harness and the corpora without the CLI.
"""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import sys
import tempfile

import pytest

os.environ.setdefault("TIKTOKEN_CACHE_DIR", tempfile.mkdtemp(prefix="tok-compat-tiktoken-"))
# tok's vocabulary image cache: one fresh directory per test session, so no test depends on the user's cache.
os.environ["TOK_CACHE_DIR"] = tempfile.mkdtemp(prefix="tok-compat-cache-")
atexit.register(shutil.rmtree, os.environ["TOK_CACHE_DIR"], True)
sys.path.insert(0, os.path.dirname(__file__))

import peers  # noqa: E402


def _no_network(*args, **kwargs):
    raise RuntimeError("tests/compat must not touch the network (build encodings from vocabularies/)")


_REAL_CONNECT = socket.socket.connect


def _connect(self, addr):
    if self.family == getattr(socket, "AF_UNIX", None):
        return _REAL_CONNECT(self, addr)
    _no_network()


def pytest_configure(config):
    config.addinivalue_line("markers", "cli: runs the tok CLI binary ($TOK_BIN)")
    socket.create_connection = _no_network
    socket.socket.connect = _connect


@pytest.fixture(scope="session")
def tok() -> peers.Tok:
    b = peers.tok_bin()
    if not (b.is_file() and os.access(b, os.X_OK)):
        pytest.fail(f"tok binary not found at {b} (set TOK_BIN, or build it: "
                    f"swift build -c release --product tok)", pytrace=False)
    return peers.Tok(b)


@pytest.fixture(scope="session", params=peers.VOCABS)
def vocab(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def enc(vocab):
    return peers.encoding(vocab)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("compat")
