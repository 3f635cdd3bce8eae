"""The prompt of a generated answer: numbered passages grown around the sentences the extractive
step cited, kept under a token budget, then the question and the instruction."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from index import IndexData
from index.sentences import is_closed
from qa.llm import ChatBackend
from qa.types import Answer

__all__ = ["LANGUAGES", "SYSTEM", "Passage", "PromptPassages", "build_messages"]

log = logging.getLogger(__name__)


LANGUAGES = {"fr": "French", "en": "English", "de": "German", "es": "Spanish", "it": "Italian",
              "pt": "Portuguese", "nl": "Dutch", "ru": "Russian"}
SYSTEM = "You are a careful assistant who answers questions about news articles."
_INSTRUCTION = ("Answer the question in {language} with one or two complete sentences, using only facts from the "
                "passages, stated as the passages state them. Never mention the passages themselves. End each "
                "sentence with the number of its passage in square brackets, like [1].")


@dataclass(frozen=True)
class Passage:
    """Prompt passage `[n]`: adjacent sentences (`rows` of `IndexData.sentences`) of one article."""

    n: int
    doc_id: str
    rows: tuple[int, ...]
    text: str
    seed: int                       # the row it was grown around


def build_messages(question: str, lang: str, passages: Sequence[Passage]) -> list[dict[str, str]]:
    """The chat prompt: numbered passages, the question, then the instruction (small models follow
    what they read last)."""
    language = LANGUAGES.get(lang, "the language of the question")
    numbered = "\n".join(f"[{p.n}] {p.text}" for p in passages)
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Passages:\n{numbered}\n\nQuestion: {question}\n\n"
                                        + _INSTRUCTION.format(language=language)}]


class PromptPassages:
    """Chooses and trims the passages of a prompt."""

    def __init__(self, data: IndexData, backend: ChatBackend, count: int, chars: int, tokens: int) -> None:
        self._data, self._backend = data, backend
        self._count, self._chars, self._tokens = count, chars, tokens
        self._row = {(s.doc_id, s.start): i for i, s in enumerate(data.sentences)}
        self._doc_rows: dict[str, list[int]] = {}
        for i, s in enumerate(data.sentences):
            self._doc_rows.setdefault(s.doc_id, []).append(i)

    def passages(self, extractive: Answer, scores: np.ndarray) -> list[Passage]:
        """The prompt's passages for an extractive answer, fitted to the token budget. `scores`: the
        question's cosine with every sentence of the index."""
        return self._fit(extractive.question, extractive.lang, self._seeded(extractive, scores), scores)

    def _seeded(self, extractive: Answer, scores: np.ndarray) -> list[Passage]:
        """The evidence sentences the extractive step cited, each grown with its best neighbours
        up to `passage_chars`, without repeats: a short prompt, read fast. `scores`: the
        question's cosine with every sentence of the index."""
        seeds = [self._row[(c.doc_id, c.start)] for c in extractive.citations if (c.doc_id, c.start) in self._row]
        sentences = self._data.sentences
        used: set[int] = set()
        found: list[Passage] = []
        for seed in seeds:
            if seed in used or len(found) >= self._count:
                continue
            rows = self._grow(seed, used, scores)
            used.update(rows)
            found.append(Passage(len(found) + 1, sentences[seed].doc_id, rows,
                                 " ".join(sentences[r].text for r in rows), seed))
        return found

    def _is_sentence(self, row: int) -> bool:
        """Not a heading, caption or list item (those have no closing punctuation)."""
        return is_closed(self._data.sentences[row].text)

    def _grow(self, seed: int, used: set[int], scores: np.ndarray) -> tuple[int, ...]:
        sentences = self._data.sentences
        doc = self._doc_rows[sentences[seed].doc_id]
        rows, size = [seed], len(sentences[seed].text)
        while True:
            around = [r for r in (rows[0] - 1, rows[-1] + 1) if r in doc and r not in used and self._is_sentence(r)
                      and size + len(sentences[r].text) + 1 <= self._chars]
            if not around:
                return tuple(rows)
            best = max(around, key=lambda r: scores[r])
            rows = sorted([*rows, best])
            size += len(sentences[best].text) + 1

    def _fit(self, question: str, lang: str, passages: list[Passage], scores: np.ndarray) -> list[Passage]:
        """Drop the weaker end sentence of the longest passage (never its seed), or the last
        passage, until the prompt fits in `prompt_tokens` (one sentence always stays)."""
        sentences = self._data.sentences
        while passages:
            prompt = "\n".join(m["content"] for m in build_messages(question, lang, passages))
            if self._backend.count_tokens(prompt) <= self._tokens:
                break
            longest = max(passages, key=lambda p: (len(p.rows), len(p.text)))
            if len(longest.rows) == 1:
                if len(passages) == 1:
                    log.warning("the prompt is over its %d-token budget with one sentence left",
                                self._tokens)
                    break
                passages = passages[:-1]
                continue
            ends = [r for r in (longest.rows[0], longest.rows[-1]) if r != longest.seed]
            drop = min(ends, key=lambda r: scores[r])
            rows = tuple(r for r in longest.rows if r != drop)
            trimmed = replace(longest, rows=rows, text=" ".join(sentences[r].text for r in rows))
            passages = [trimmed if p is longest else p for p in passages]
        return passages
