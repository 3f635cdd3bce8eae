"""Vectors of finished articles, kept beside the index while a build runs, so that a build
killed midway (`kill -9`, a power cut) is resumed by the next one instead of started over.

Each file holds one article's chunk and sentence vectors (float16), named by the sha256 of the
model fingerprint and of the exact texts embedded: a file is only ever reused for the same texts
embedded by the same model. Files are written under a temporary name, then renamed. The folder
is removed when a build has swapped its index in."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path

import numpy as np

__all__ = ["Checkpoints"]

log = logging.getLogger(__name__)


class Checkpoints:
    def __init__(self, index_dir: Path, fingerprint: str) -> None:
        self.folder = index_dir.with_name(f".{index_dir.name}.resume")
        self._fingerprint = fingerprint

    def key(self, texts: list[str]) -> str:
        digest = hashlib.sha256(self._fingerprint.encode())
        for text in texts:
            digest.update(b"\x00" + text.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def get(self, key: str, rows: int, dimension: int) -> np.ndarray | None:
        """The saved vectors for `key` when they are whole and of the expected shape."""
        return self._load(key, rows, dimension)

    def holds(self, key: str, rows: int, dimension: int) -> bool:
        """Whether `get` would find the vectors, reading only the file's header (memory-mapped)."""
        return self._load(key, rows, dimension, mmap_mode="r") is not None

    def _load(self, key: str, rows: int, dimension: int, mmap_mode: str | None = None) -> np.ndarray | None:
        path = self.folder / f"{key}.npy"
        try:
            vectors = np.load(path, allow_pickle=False, mmap_mode=mmap_mode)
        except (OSError, ValueError, EOFError):
            return None
        return vectors if vectors.shape == (rows, dimension) and vectors.dtype == np.float16 else None

    def put(self, key: str, vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temp = self.folder / f".{key}.{os.getpid()}.tmp"
        with temp.open("wb") as fh:
            np.save(fh, np.asarray(vectors, dtype=np.float16), allow_pickle=False)
        os.replace(temp, self.folder / f"{key}.npy")

    def count(self) -> int:
        return sum(1 for _ in self.folder.glob("*.npy")) if self.folder.is_dir() else 0

    def clear(self) -> None:
        if self.folder.exists():
            shutil.rmtree(self.folder, ignore_errors=True)
