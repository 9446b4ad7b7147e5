"""File writes that a reader never sees half done."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path


def umask() -> int:
    """The process umask (read by setting it and setting it back: Python has no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temp_dir(prefix: str, dir: Path) -> Path:
    """``tempfile.mkdtemp`` in ``dir``, then given the mode a plain ``mkdir`` would get (0755 under umask 022).

    mkdtemp makes ``drwx------`` whatever the umask; a folder that is renamed into place as a dataset or a table
    folder must be readable like any other the user makes (a web server serving a leaderboard page, a colleague).
    """
    d = Path(tempfile.mkdtemp(prefix=prefix, dir=dir))
    os.chmod(d, 0o777 & ~umask())
    return d


def atomic_write_bytes(path: Path, data: bytes, suffix: str = ".tmp") -> None:
    """Write ``data`` to ``path`` through a temp file in the same directory and a rename.

    Same directory, so ``os.replace`` is a same-filesystem rename: readers see the old file or the new one, never a
    torn one. The leading dot and ``suffix`` let a later run recognise and remove leftovers.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    try:
        # mkstemp makes 0600 whatever the umask; the file gets what open() would have given it (0644 under 022)
        os.fchmod(fd, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    # Persist the rename itself; not possible on every platform (Windows), hence best effort.
    with contextlib.suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (shards and prediction files can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
