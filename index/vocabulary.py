"""The corpus's content words and their vectors, embedded once at build time by the index's own
model. The model maps a word and its translation close together ("war" / "guerre", "ship" /
"bateau"), so a question's words can be matched against a sentence's words across languages and
synonyms, which term overlap and cognate prefixes miss (qa.evidence reads it), and a question's
words bring their translations to lexical retrieval (`nearest`, read by qa.retrieval).

Kept as `vocabulary.npz` beside the index: the words (most frequent first, at most `LIMIT`) and
their vectors in float16. A build reuses the vectors of the words the previous index held."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np

from index.analyzer import STOP_WORDS
from index.corpus_stats import npz_bytes, npz_text, pack_words, unpack_words

__all__ = ["Vocabulary", "FILE", "LIMIT", "SEARCHED", "content_words"]

log = logging.getLogger(__name__)

FILE = "vocabulary.npz"
LIMIT = 200_000          # the most frequent words kept (rare ones still match by their letters)
SEARCHED = 50_000        # the most frequent words `nearest` searches (all 200,000: 15 ms a question)
_WORD = re.compile(r"[^\W\d_]{4,}")
_BATCH = 512


def content_words(text: str) -> list[str]:
    """The text's words of four letters or more that are not stop words, lower-cased, once each."""
    return list(dict.fromkeys(w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in STOP_WORDS))


@dataclass(frozen=True)
class Vocabulary:
    words: tuple[str, ...]
    vectors: np.ndarray                       # (len(words), dim) float16, unit length
    searched: int = field(default=SEARCHED, compare=False)   # `nearest` reads the first this many
    _rows: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.words) != len(self.vectors):
            raise ValueError("its words and vectors differ in number")
        object.__setattr__(self, "_rows", {w: i for i, w in enumerate(self.words)})

    @classmethod
    def build(cls, texts: Iterable[str], embed: Callable[[list[str]], np.ndarray],
              known: Vocabulary | None = None, limit: int = LIMIT) -> Vocabulary:
        """The `limit` most frequent content words of `texts`; the vectors of words `known` holds
        are reused, the others embedded with `embed` (a batch of words to their vectors)."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(content_words(text))
        words = tuple(w for w, _ in counts.most_common(limit))
        fresh = [w for w in words if known is None or w not in known]
        embedded = {}
        for at in range(0, len(fresh), _BATCH):
            batch = fresh[at : at + _BATCH]
            embedded.update(zip(batch, np.asarray(embed(batch), dtype=np.float16)))
        if fresh:
            log.info("embedded %d new words of %d", len(fresh), len(words))
        dim = next(iter(embedded.values())).shape[0] if embedded else (known.vectors.shape[1] if known else 0)
        vectors = np.zeros((len(words), dim), dtype=np.float16)
        for i, w in enumerate(words):
            vectors[i] = embedded[w] if w in embedded else known.vector(w)  # type: ignore[union-attr]
        return cls(words, vectors)

    def __contains__(self, word: str) -> bool:
        return word in self._rows

    def __len__(self) -> int:
        return len(self.words)

    def vector(self, word: str) -> np.ndarray:
        return self.vectors[self._rows[word]]

    def rows(self, words: Sequence[str]) -> np.ndarray:
        """The rows of those of `words` it holds, in order."""
        return np.array([self._rows[w] for w in words if w in self._rows], dtype=np.int64)

    def matrix(self, words: Sequence[str]) -> np.ndarray:
        """The vectors (float32) of those of `words` it holds, in order."""
        return np.asarray(self.vectors[self.rows(words)], dtype=np.float32)

    def nearest(self, words: Sequence[str], vectors: np.ndarray, cosine: float) -> list[str]:
        """The corpus words among the two closest to each of `words` (row i of `vectors` is word
        i's vector), other than the word itself, at `cosine` or closer: often its translation
        ("army" -> "armée") or a close form ("kings"). Only the `searched` most frequent words are
        read: the words a translation is needed for are common ones (names are shared)."""
        if not len(self.words) or not len(words):
            return []
        scores, rows = self._index.search(np.ascontiguousarray(vectors, dtype=np.float32), 2)
        return [self.words[r] for word, row_scores, row_ids in zip(words, scores, rows)
                for s, r in zip(row_scores, row_ids) if r >= 0 and s >= cosine and self.words[r] != word]

    @cached_property
    def _index(self) -> faiss.Index:
        """An inner-product index over the searched vectors, kept in float16 as they are stored;
        built at the first search."""
        index = faiss.IndexScalarQuantizer(self.vectors.shape[1], faiss.ScalarQuantizer.QT_fp16,
                                           faiss.METRIC_INNER_PRODUCT)
        index.add(np.asarray(self.vectors[: self.searched], dtype=np.float32))
        return index

    def save(self, folder: Path) -> None:
        self._write(folder / FILE)

    @classmethod
    def load(cls, folder: Path) -> Vocabulary | None:
        return cls._read(folder / FILE) if (folder / FILE).is_file() else None

    def to_text(self) -> str:
        """The saved file's bytes as base64 text (for stores that keep JSON, such as Qdrant's payload)."""
        return npz_text(self._write)

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        return cls._read(npz_bytes(text))

    def _write(self, target) -> None:
        np.savez(target, words=pack_words(self.words), vectors=self.vectors)

    @classmethod
    def _read(cls, source) -> Vocabulary:
        with np.load(source, allow_pickle=False) as data:
            return cls(tuple(unpack_words(data["words"])), data["vectors"].astype(np.float16))
