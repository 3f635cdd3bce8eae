"""One build at a time per index folder.

The lock is a file beside the index, `.NAME.lock`, locked with `fcntl.flock` for the whole
build; the kernel releases it when the process ends, however it ends, so a killed build never
leaves it held. The file is never deleted (deleting a lock file lets two processes hold two
different files); it records who holds it, for the message a second build shows."""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from index.manifest import IndexNotReady

__all__ = ["DEFAULT_WAIT_S", "IndexLocked", "lock_path", "build_lock", "is_locked"]

log = logging.getLogger(__name__)

DEFAULT_WAIT_S = 600.0
_POLL_S = 0.1


class IndexLocked(IndexNotReady):
    """Another build holds the index folder's lock."""


def lock_path(index_dir: Path) -> Path:
    return index_dir.parent / f".{index_dir.name}.lock"


def _holder(path: Path) -> str:
    """Who holds the lock, as its holder wrote it ("pid 123 on host since 10:52:01")."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        text = ""
    return text or "a process that did not say which"


def _acquire(fd: int, index_dir: Path, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = _holder(lock_path(index_dir))
        if time.monotonic() >= deadline:
            raise IndexLocked(f"Another build ({holder}) is writing {index_dir}; wait for it to end, or pass "
                              f"--wait SECONDS to wait longer than {wait_s:g} s.")
        if not told:
            log.warning("another build (%s) is writing %s; waiting up to %g s for it to end", holder, index_dir, wait_s)
            told = True
        time.sleep(max(0.0, min(_POLL_S, deadline - time.monotonic())))


@contextmanager
def build_lock(index_dir: Path, wait_s: float = DEFAULT_WAIT_S) -> Iterator[None]:
    """Hold the lock of `index_dir` for the block, waiting up to `wait_s` seconds for another
    build to release it; raises `IndexLocked`, naming the holder, when it does not."""
    path = lock_path(index_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        _acquire(fd, index_dir, wait_s)
        since = datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {since}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def is_locked(index_dir: Path) -> bool:
    """Whether a build holds the lock of `index_dir` now (False when there is no lock file)."""
    try:
        fd = os.open(lock_path(index_dir), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
