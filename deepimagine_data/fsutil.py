"""File writes that a reader never sees half done."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import hashlib
import os
import shutil
import sys
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


@functools.lru_cache(maxsize=1)
def _renameat2():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # glibc before 2.28, or another libc
        return None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where the system or the
    filesystem cannot, and the caller falls back to two renames."""
    fn = _renameat2()
    if fn is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), os.fspath(a), None, os.fspath(b))


def swap_into_place(tmp: Path, final: Path, old: Path) -> None:
    """Put the finished folder ``tmp`` at ``final``: a reader sees the old folder or the new one, never half of
    either. The two are swapped in one step where the system can (``final`` is never missing, and ``tmp`` then holds
    the previous folder for the caller to remove); elsewhere by two renames through ``old``, which the caller's next
    run puts back if this process dies between them."""
    if not os.path.lexists(final):
        os.rename(tmp, final)
        return
    if _exchange(tmp, final):
        return
    os.replace(final, old)
    try:
        os.replace(tmp, final)
    except BaseException:
        os.replace(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)
