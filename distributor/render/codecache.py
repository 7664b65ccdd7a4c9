"""Compiled templates kept on disk between runs, so a CLI call does not compile them again.

Compiling the example channels' nine templates is about half of what `preview` does after its
imports. A compiled template is its Python code object plus the slots fitting may fill, stored
with `marshal` (as Python stores `.pyc` files) under the user's cache directory:

- `DISTRIBUTOR_CACHE_DIR` when set (empty: no cache at all), else `$XDG_CACHE_HOME/distributor`,
  else `~/.cache/distributor`; the files live in its `templates/` folder.
- The key covers the template's name, file name and source, the Python bytecode version, the
  Jinja2 version and the source of `distributor/render/` (the compiler and its guards): a change
  to any of them compiles afresh, never reuses stale code.
- Code loaded from disk runs, so the folder must be this user's own and writable by nobody
  else, and so must each file; anything else is ignored. The cache only ever saves time: a
  folder that cannot be created or written (a read-only home) just means compiling every time.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import marshal
import os
import stat
import tempfile
from pathlib import Path
from types import CodeType

import jinja2

FORMAT = b"distributor-templates-1"
MAX_FILES = 256  # a newsroom has a few dozen templates; past this the oldest half goes
_HERE = Path(__file__).resolve().parent


def folder() -> Path | None:
    """Where compiled templates are kept, or None when the cache is off or unsafe to use."""
    root = os.environ.get("DISTRIBUTOR_CACHE_DIR")
    if root is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "distributor")
    if not root:
        return None
    path = Path(root, "templates")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(path)  # not through a symlink someone else may point elsewhere
    except OSError:
        return None
    return path if stat.S_ISDIR(info.st_mode) and _private(info) else None


def load(
    where: Path, name: str, filename: str, source: str
) -> tuple[CodeType, frozenset[str]] | None:
    """The code and fillable slots compiled earlier from exactly this template, or None."""
    try:
        fd = os.open(where / _key(name, filename, source), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        try:
            if not _private(os.fstat(fd)):
                return None
            stored = marshal.loads(file.read())
        except (OSError, EOFError, ValueError, TypeError):
            return None
    return _checked(stored)


def store(
    where: Path, name: str, filename: str, source: str, code: CodeType, slots: frozenset[str]
) -> None:
    """Keep a compiled template in `where` for the next run (written whole or not at all)."""
    data = marshal.dumps((FORMAT, code, tuple(sorted(slots))))
    try:
        fd, temp = tempfile.mkstemp(dir=where, prefix=".", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temp, where / _key(name, filename, source))
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return
    _prune(where)


def _prune(where: Path) -> None:
    """Keep at most `MAX_FILES`: every edit of a template leaves its old compilation behind."""
    with contextlib.suppress(OSError):
        entries = [e for e in os.scandir(where) if e.name.endswith(".bin")]
        if len(entries) <= MAX_FILES:
            return
        entries.sort(key=lambda e: e.stat().st_mtime)
        for entry in entries[: len(entries) - MAX_FILES // 2]:
            os.unlink(entry.path)


def _checked(stored: object) -> tuple[CodeType, frozenset[str]] | None:
    if not (isinstance(stored, tuple) and len(stored) == 3 and stored[0] == FORMAT):
        return None
    _, code, slots = stored
    if not isinstance(code, CodeType) or not isinstance(slots, tuple):
        return None
    if not all(isinstance(s, str) for s in slots):
        return None
    return code, frozenset(slots)


def _private(info: os.stat_result) -> bool:
    """Owned by this user, writable by no one else."""
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _key(name: str, filename: str, source: str) -> str:
    digest = hashlib.sha256(_compiler_fingerprint())
    for part in (name, filename, source):
        digest.update(b"\0" + part.encode("utf-8", "surrogatepass"))
    return digest.hexdigest() + ".bin"


@functools.cache
def _compiler_fingerprint() -> bytes:
    """What else decides the compiled code: bytecode and Jinja2 versions, our compiler's source."""
    digest = hashlib.sha256(FORMAT + importlib.util.MAGIC_NUMBER + jinja2.__version__.encode())
    for module in sorted(_HERE.glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.digest()
