"""Generated answers: a language model writes a short answer in the question's language from the
best evidence passages, and every sentence it writes is checked against the passages it cites.

The extractive pipeline runs first; when it abstains, the model is not called. Otherwise the
passages (the evidence sentences the extractive step cited, each with its neighbours) are
numbered in a prompt kept under `prompt_tokens`, after a fixed system prompt that llama.cpp
keeps evaluated between questions. A grammar (`qa.claims.citation_grammar`) makes every sentence
the model writes end with markers of those passages. Each generated sentence keeps only the
citations whose passage supports it (`qa.verify`), mapped to the exact sentence span of the
article; a sentence left without one is marked "[?]" and listed in `Answer.unsupported`."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace

import numpy as np

from qa.claims import UNSUPPORTED_MARK, Claim, citation_grammar, closed, split_claims
from qa.llm import ChatBackend
from qa.pipeline import Pipeline
from qa.question import prepare_question
from qa.types import Answer, Citation, Filters, Mode
from qa.verify import SupportingSpan, Verifier, VerifyConfig

__all__ = ["GenerationConfig", "Passage", "Claim", "Partial", "Generator", "split_claims", "build_messages",
           "UNSUPPORTED_MARK"]

log = logging.getLogger(__name__)

_CLOSING = tuple(".!?…»\"”)’")
_LANGUAGES = {"fr": "French", "en": "English", "de": "German", "es": "Spanish", "it": "Italian",
              "pt": "Portuguese", "nl": "Dutch", "ru": "Russian"}
_SYSTEM = "You are a careful assistant who answers questions about news articles."
_INSTRUCTION = ("Answer the question in {language} with one or two complete sentences, using only facts from the "
                "passages, stated as the passages state them. Never mention the passages themselves. End each "
                "sentence with the number of its passage in square brackets, like [1].")
_NO_TEXT = {"fr": "Le modèle de langue n’a rien écrit ; voici les phrases citées des articles.",
            "en": "The language model wrote nothing; here are the quoted sentences of the articles."}


@dataclass(frozen=True)
class GenerationConfig:
    max_tokens: int = 128
    temperature: float = 0.0
    passages: int = 4
    passage_chars: int = 420        # each passage grows around its best sentence up to this size
    prompt_tokens: int = 800        # passages are trimmed until the whole prompt fits
    grammar: bool = True            # constrain the output: every sentence ends with markers of the prompt's passages
    reattribute: bool = True        # a sentence its citations do not support may be verified against
                                    # the other passages of the prompt (and cited to the one that holds)
    verify: VerifyConfig = field(default_factory=VerifyConfig)


@dataclass(frozen=True)
class Passage:
    """Prompt passage `[n]`: adjacent sentences (`rows` of `IndexData.sentences`) of one article."""

    n: int
    doc_id: str
    rows: tuple[int, ...]
    text: str
    seed: int                       # the row it was grown around


@dataclass(frozen=True)
class Partial:
    """The model's text so far (not verified yet, markers are prompt passage numbers)."""

    text: str


def build_messages(question: str, lang: str, passages: Sequence[Passage]) -> list[dict[str, str]]:
    """The chat prompt: numbered passages, the question, then the instruction (small models follow
    what they read last)."""
    language = _LANGUAGES.get(lang, "the language of the question")
    numbered = "\n".join(f"[{p.n}] {p.text}" for p in passages)
    return [{"role": "system", "content": _SYSTEM},
            {"role": "user", "content": f"Passages:\n{numbered}\n\nQuestion: {question}\n\n"
                                        + _INSTRUCTION.format(language=language)}]


class Generator:
    """Answers with a language model over a `Pipeline`; safe to share between threads (the
    backend serialises generations)."""

    def __init__(self, pipeline: Pipeline, backend: ChatBackend, config: GenerationConfig | None = None) -> None:
        self.pipeline = pipeline
        self.backend = backend
        self.config = config or GenerationConfig()
        self.verifier = Verifier(pipeline.data, pipeline.embedder, self.config.verify)
        data = pipeline.data
        self._row = {(s.doc_id, s.start): i for i, s in enumerate(data.sentences)}
        self._doc_rows: dict[str, list[int]] = {}
        for i, s in enumerate(data.sentences):
            self._doc_rows.setdefault(s.doc_id, []).append(i)

    def answer(self, question: str, k: int | None = None, filters: Filters | None = None,
               mode: Mode | None = None) -> Answer:
        """The verified generated answer (or the extractive abstention)."""
        final = None
        for step in self.stream(question, k, filters, mode):
            final = step
        assert isinstance(final, Answer)
        return final

    def stream(self, question: str, k: int | None = None, filters: Filters | None = None,
               mode: Mode | None = None) -> Iterator[Partial | Answer]:
        """`Partial` texts while the model writes, then the verified `Answer`. Raises
        `QuestionError` for an empty question and `LLMError` when the model fails."""
        started = time.perf_counter()
        extractive = self.pipeline.ask(question, k=k, filters=filters, mode=mode)
        if extractive.abstained:
            yield extractive
            return
        vector = self.pipeline.embed_question(prepare_question(question).text)
        scores = self.pipeline.data.sentence_vectors @ vector
        passages = self._fit(extractive.question, extractive.lang, self.passages(extractive, scores), scores)
        messages = build_messages(extractive.question, extractive.lang, passages)
        grammar = citation_grammar([p.n for p in passages]) if self.config.grammar and passages else None
        prompted = time.perf_counter()
        text, first = "", None
        with closing(iter(self.backend.stream(messages, self.config.max_tokens, self.config.temperature,
                                              grammar))) as pieces:
            for piece in pieces:
                first = first or time.perf_counter()
                text += piece
                yield Partial(text)
        generated = time.perf_counter()
        answer = self._verified(extractive, text, passages)
        done = time.perf_counter()
        timings = {**extractive.timings_ms, "prompt": (prompted - started) * 1000,
                   "first_token": ((first or generated) - prompted) * 1000, "generate": (generated - prompted) * 1000,
                   "verify": (done - generated) * 1000, "total": (done - started) * 1000}
        log.info("generated %d characters with %s in %.0f ms", len(text), self.backend.name, timings["generate"])
        yield replace(answer, timings_ms={name: round(ms, 2) for name, ms in timings.items()})

    def passages(self, extractive: Answer, scores: np.ndarray) -> list[Passage]:
        """The evidence sentences the extractive step cited, each grown with its best neighbours
        up to `passage_chars`, without repeats: a short prompt, read fast. `scores`: the
        question's cosine with every sentence of the index."""
        seeds = [self._row[(c.doc_id, c.start)] for c in extractive.citations if (c.doc_id, c.start) in self._row]
        sentences = self.pipeline.data.sentences
        used: set[int] = set()
        found: list[Passage] = []
        for seed in seeds:
            if seed in used or len(found) >= self.config.passages:
                continue
            rows = self._grow(seed, used, scores)
            used.update(rows)
            found.append(Passage(len(found) + 1, sentences[seed].doc_id, rows,
                                 " ".join(sentences[r].text for r in rows), seed))
        return found

    def _is_sentence(self, row: int) -> bool:
        """Not a heading, caption or list item (those have no closing punctuation)."""
        return self.pipeline.data.sentences[row].text.rstrip().endswith(_CLOSING)

    def _grow(self, seed: int, used: set[int], scores: np.ndarray) -> tuple[int, ...]:
        sentences = self.pipeline.data.sentences
        doc = self._doc_rows[sentences[seed].doc_id]
        rows, size = [seed], len(sentences[seed].text)
        while True:
            around = [r for r in (rows[0] - 1, rows[-1] + 1) if r in doc and r not in used and self._is_sentence(r)
                      and size + len(sentences[r].text) + 1 <= self.config.passage_chars]
            if not around:
                return tuple(rows)
            best = max(around, key=lambda r: scores[r])
            rows = sorted([*rows, best])
            size += len(sentences[best].text) + 1

    def _fit(self, question: str, lang: str, passages: list[Passage], scores: np.ndarray) -> list[Passage]:
        """Drop the weaker end sentence of the longest passage (never its seed), or the last
        passage, until the prompt fits in `prompt_tokens` (one sentence always stays)."""
        sentences = self.pipeline.data.sentences
        while passages:
            prompt = "\n".join(m["content"] for m in build_messages(question, lang, passages))
            if self.backend.count_tokens(prompt) <= self.config.prompt_tokens:
                break
            longest = max(passages, key=lambda p: (len(p.rows), len(p.text)))
            if len(longest.rows) == 1:
                if len(passages) == 1:
                    log.warning("the prompt is over its %d-token budget with one sentence left",
                                self.config.prompt_tokens)
                    break
                passages = passages[:-1]
                continue
            ends = [r for r in (longest.rows[0], longest.rows[-1]) if r != longest.seed]
            drop = min(ends, key=lambda r: scores[r])
            rows = tuple(r for r in longest.rows if r != drop)
            trimmed = replace(longest, rows=rows, text=" ".join(sentences[r].text for r in rows))
            passages = [trimmed if p is longest else p for p in passages]
        return passages

    def _verified(self, extractive: Answer, text: str, passages: Sequence[Passage]) -> Answer:
        claims = split_claims(text)
        if not claims:
            log.warning("the language model wrote no sentence (%r)", text[:80])
            return replace(extractive, notices=extractive.notices + (_NO_TEXT.get(extractive.lang, _NO_TEXT["en"]),))
        vectors = self.verifier.embed([c.text for c in claims])
        by_n = {p.n: p for p in passages}
        spans: dict[tuple[str, int, int], SupportingSpan] = {}
        parts: list[str] = []
        unsupported: list[str] = []
        for claim, written, vector in zip(claims, closed(claims), vectors):
            numbers = []
            for span in self._supports(claim, extractive.lang, vector, by_n):
                key = (span.doc_id, span.start, span.end)
                spans.setdefault(key, span)
                numbers.append(list(spans).index(key) + 1)
            if numbers:
                parts.append(written + " " + "".join(f"[{n}]" for n in dict.fromkeys(numbers)))
            else:
                unsupported.append(written)
                parts.append(f"{written} {UNSUPPORTED_MARK}")
        citations = tuple(self._citation(n, s, extractive) for n, s in enumerate(spans.values(), start=1))
        notices = extractive.notices
        if unsupported:
            notices += (_unsupported_notice(extractive.lang, len(unsupported), len(claims)),)
        return replace(extractive, text=" ".join(parts), citations=citations, related=(), notices=notices,
                       generated=True, unsupported=tuple(unsupported))

    def _supports(self, claim: Claim, lang: str, vector: np.ndarray, by_n: dict[int, Passage]) -> list[SupportingSpan]:
        """The spans of the cited passages that support the claim; when none does, the one span of
        another passage that does (with `reattribute`)."""
        found = [s for n in claim.cited if n in by_n
                 for s in [self.verifier.support(claim.text, lang, vector, by_n[n].rows)] if s is not None]
        if found or not self.config.reattribute:
            return found
        others = [p for n, p in sorted(by_n.items()) if n not in claim.cited]
        candidates = [s for p in others for s in [self.verifier.support(claim.text, lang, vector, p.rows)] if s]
        if candidates:
            log.info("sentence re-attributed to another passage: %s", claim.text[:80])
        return [max(candidates, key=lambda s: s.verdict.cosine)] if candidates else []

    def _citation(self, n: int, span: SupportingSpan, extractive: Answer) -> Citation:
        doc = self.pipeline.data.documents[span.doc_id]
        same = next((c for c in extractive.citations if c.doc_id == span.doc_id and span.start <= c.start
                     and c.end <= span.end and c.answer_start is not None), None)
        return Citation(n=n, doc_id=span.doc_id, title=doc.title, date=doc.date, start=span.start, end=span.end,
                        quote=span.text, score=span.verdict.cosine,
                        answer_start=same.answer_start if same else None, answer_end=same.answer_end if same else None,
                        url=doc.url)


def _unsupported_notice(lang: str, count: int, total: int) -> str:
    if lang == "fr":
        return (f"{count} phrase(s) sur {total} de la réponse générée ne sont pas étayées par les articles cités "
                f"et sont marquées {UNSUPPORTED_MARK}.")
    return (f"{count} of the {total} generated sentences are not supported by the cited articles and are marked "
            f"{UNSUPPORTED_MARK}.")
