"""Swap a freshly written index folder in place of the old one, and undo a swap cut short.

A build writes into a staging folder beside the index (".NAME.building-PID-xxxx") and swaps it in
with two renames (index -> NAME.previous, staging -> index); a crash leaves the previous index in
place, or as the backup that the next load restores."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from index.lock import is_locked
from index.manifest import FILE as MANIFEST

__all__ = ["staging", "recover"]

log = logging.getLogger(__name__)

_SWAP_WAIT_S = 5.0  # a swap is two renames: longer than this, the disk is stuck


def _backup(folder: Path) -> Path:
    return folder.with_name(folder.name + ".previous")


def _abandoned(folder: Path, prefix: str) -> bool:
    """Whether the staging folder `folder` (".NAME.building-PID-xxxx") belongs to no live build.
    Only called under the build lock, so a folder of this process is a leftover too."""
    pid = folder.name[len(prefix):].split("-", 1)[0]
    if not pid.isdigit() or int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


@contextmanager
def staging(target: Path) -> Iterator[Path]:
    """A temporary folder beside `target`, swapped in when the block succeeds, removed if not.
    Call it under `build_lock(target)`; it removes the staging folders of dead builds only."""
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}.building-"
    for leftover in target.parent.glob(f"{prefix}*"):
        if _abandoned(leftover, prefix):
            log.info("removing %s, left by an interrupted build", leftover)
            shutil.rmtree(leftover, ignore_errors=True)
    temp = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=target.parent))
    try:
        yield temp
        _swap(temp, target)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _swap(temp: Path, target: Path) -> None:
    backup = _backup(target)
    shutil.rmtree(backup, ignore_errors=True)
    if target.exists():
        os.replace(target, backup)
    os.replace(temp, target)
    shutil.rmtree(backup, ignore_errors=True)


def recover(folder: Path, holding_lock: bool = False) -> None:
    """Finish a swap that was interrupted between its two renames (its build died there). While
    another build holds the lock, the missing folder is its swap in progress: wait for it."""
    backup = _backup(folder)
    if folder.exists() or not (backup / MANIFEST).is_file():
        return
    if not holding_lock and is_locked(folder):
        deadline = time.monotonic() + _SWAP_WAIT_S
        while not folder.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return
    log.warning("restoring the previous index from %s", backup)
    try:
        os.replace(backup, folder)
    except OSError as err:  # a build swapped a new index in meanwhile
        log.info("kept %s: %s", folder, err.strerror)
