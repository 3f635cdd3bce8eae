"""What the read side needs to know about the whole corpus, computed once when an index is
written, so that answering a question never reads every sentence: how many sentences hold each
analysed term and each long word's first letters (IDF weights; whether the corpus mentions a word
at all), and the first two moments of the sentence vectors (the mean and spread of a question's
cosine with every sentence, from two products instead of one per sentence)."""

from __future__ import annotations

import base64
import io

import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.analyzer import analyze, cognate_prefixes

__all__ = ["CorpusStats", "FILE", "sentence_terms", "pack_words", "unpack_words", "npz_text", "npz_bytes"]

log = logging.getLogger(__name__)

FILE = "corpus_stats.npz"
_BLOCK = 65536   # sentence vectors summed per step


def sentence_terms(text: str, lang: str) -> tuple[frozenset[str], frozenset[str]]:
    """A sentence's analysed terms (in its article's language) and its long words' first letters."""
    return frozenset(analyze(text, lang)), frozenset(cognate_prefixes(text))


@dataclass(frozen=True)
class CorpusStats:
    sentences: int
    df: dict[str, int]            # how many term sets (two per sentence: terms, prefixes) hold each key
    prefixes: frozenset[str]      # every long word's first letters in the corpus
    vector_sum: np.ndarray        # (dim,) float64
    vector_moment: np.ndarray     # (dim, dim) float64: the sum of the vectors' outer products

    @classmethod
    def compute(cls, sentences: Iterable[tuple[str, str]], vectors: np.ndarray) -> CorpusStats:
        """From every sentence's (text, language) and the sentence vectors, row for row."""
        df: Counter[str] = Counter()
        prefixes: set[str] = set()
        count = 0
        for text, lang in sentences:
            terms, firsts = sentence_terms(text, lang)
            df.update(terms)
            df.update(firsts)
            prefixes |= firsts
            count += 1
        dim = vectors.shape[1] if vectors.ndim == 2 else 0
        total, moment = np.zeros(dim), np.zeros((dim, dim))
        for at in range(0, len(vectors), _BLOCK):
            block = np.asarray(vectors[at : at + _BLOCK], dtype=np.float64)
            total += block.sum(axis=0)
            moment += block.T @ block
        return cls(count, dict(df), frozenset(prefixes), total, moment)

    def idf(self, key: str) -> float:
        """log(1 + term sets / holding sets); a key the corpus never holds weighs as one held once."""
        held = self.df.get(key)
        return math.log(1 + 2 * self.sentences / held) if held else math.log(1 + self.sentences)

    def cosine_moments(self, query: np.ndarray) -> tuple[float, float]:
        """The mean and standard deviation of `query`'s dot product with every sentence vector."""
        if self.sentences == 0:
            return 0.0, 0.0
        q = np.asarray(query, dtype=np.float64)
        mean = float(self.vector_sum @ q) / self.sentences
        square = float(q @ self.vector_moment @ q) / self.sentences
        return mean, math.sqrt(max(0.0, square - mean * mean))

    def to_text(self) -> str:
        """The saved file's bytes as base64 text (for stores that keep JSON, such as Qdrant's payload)."""
        return npz_text(self._write)

    @classmethod
    def from_text(cls, text: str) -> CorpusStats:
        return cls._read(npz_bytes(text))

    def save(self, folder: Path) -> None:
        self._write(folder / FILE)

    def _write(self, target) -> None:
        np.savez(target, sentences=np.array(self.sentences), keys=pack_words(self.df),
                 counts=np.array(list(self.df.values()), dtype=np.int64), prefixes=pack_words(sorted(self.prefixes)),
                 vector_sum=self.vector_sum, vector_moment=self.vector_moment)

    @classmethod
    def load(cls, folder: Path) -> CorpusStats | None:
        """The statistics a build wrote, or None for an index written before they were."""
        if not (folder / FILE).is_file():
            return None
        return cls._read(folder / FILE)

    @classmethod
    def _read(cls, source) -> CorpusStats:
        with np.load(source, allow_pickle=False) as data:
            keys, counts = unpack_words(data["keys"]), data["counts"].tolist()
            if len(keys) != len(counts):
                raise ValueError("its terms and their counts differ in number")
            return cls(int(data["sentences"]), dict(zip(keys, counts)), frozenset(unpack_words(data["prefixes"])),
                       data["vector_sum"], data["vector_moment"])


def npz_text(write: Callable[[io.BytesIO], None]) -> str:
    """What `write` saves, as base64 text (for stores that keep JSON, such as Qdrant's payload)."""
    buffer = io.BytesIO()
    write(buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def npz_bytes(text: str) -> io.BytesIO:
    """The saved bytes back from `npz_text`'s text, to read as a file."""
    return io.BytesIO(base64.b64decode(text))


def pack_words(words: Iterable[str]) -> np.ndarray:
    """Words (never holding a line break) as one UTF-8 byte array: fixed-width string arrays
    would give every word the longest one's width."""
    return np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8)


def unpack_words(blob: np.ndarray) -> list[str]:
    text = blob.tobytes().decode("utf-8")
    return text.split("\n") if text else []
