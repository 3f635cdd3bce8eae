"""The size and sha256 of every file of an index, recorded in its manifest and checked on load.

Sizes are checked at every load, and so are the contents of the files under
`SMALL_FILE_BYTES` (the JSON files, and every file of a small index); a full check hashes every
file: `python -m index verify`, and a build before it reuses any vector."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

__all__ = ["SMALL_FILE_BYTES", "file_checksums", "damaged_file", "file_sha256"]

SMALL_FILE_BYTES = 1_000_000


def file_sha256(path: Path) -> str:
    """The file's sha256, hex."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def file_checksums(folder: Path, leave_out: str) -> dict[str, dict[str, object]]:
    """`{relative path: {"size", "sha256"}}` of every file under `folder` but `leave_out`."""
    found: dict[str, dict[str, object]] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name != leave_out:
            found[name] = {"size": path.stat().st_size, "sha256": file_sha256(path)}
    return found


def _mismatch(path: Path, name: str, size: int, sha256: str, full: bool) -> str | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return f"{name} is missing"
    except OSError as err:
        return f"{name} cannot be read ({err.strerror})"
    if not stat.S_ISREG(info.st_mode):
        return f"{name} is not a regular file"
    if info.st_size != size:
        return f"{name} is {info.st_size:,} bytes, the manifest recorded {size:,}"
    if full or size < SMALL_FILE_BYTES:
        try:
            if file_sha256(path) != sha256:
                return f"the content of {name} differs from what was written"
        except OSError as err:
            return f"{name} cannot be read ({err.strerror})"
    return None


def damaged_file(folder: Path, recorded: dict[str, dict[str, object]], full: bool = False) -> str | None:
    """What is wrong with the first file of `recorded` that does not match (sizes, and contents
    of small files or, with `full`, of all), or None when every file matches."""
    if not recorded:
        return "the manifest lists no file"
    for name, info in recorded.items():
        try:
            size, sha256 = int(info["size"]), str(info["sha256"])  # type: ignore[call-overload]
        except (KeyError, TypeError, ValueError):
            return f"the manifest's entry for {name} has no size and checksum"
        problem = _mismatch(folder / name, name, size, sha256, full)
        if problem:
            return problem
    return None
