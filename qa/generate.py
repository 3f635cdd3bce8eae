"""Generated answers: a language model writes a short answer in the question's language from the
best evidence passages, and every sentence it writes is checked against the passages it cites.

The extractive pipeline runs first; when it abstains, the model is not called. Otherwise the
passages (the evidence sentences the extractive step cited, each with its neighbours) are
numbered in a prompt kept under `prompt_tokens`, after a fixed system prompt that llama.cpp
keeps evaluated between questions. A grammar (`qa.claims.citation_grammar`) makes every sentence
the model writes end with markers of those passages (`qa.prompt` builds the prompt). Each
generated sentence keeps only the citations whose passage supports it (`qa.verify`), mapped to
the exact sentence span of the article. A sentence without one (up to `repair` per answer) gets a
second draft from its passages (`qa.repair`): the model restates it as they state it, or withdraws
it; one still unsupported is marked "[?]" and listed in `Answer.unsupported`, one withdrawn in
`Answer.withdrawn`. When the model withdraws every sentence, the extractive answer is shown with a
notice."""

from __future__ import annotations

import logging
import time
from collections.abc import Generator as Steps, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace

import numpy as np

from qa.answer import figure_notice
from qa.claims import (UNSUPPORTED_MARK, Claim, citation_grammar, claim_key, closed, split_claims,
                       without_passage_mentions)
from qa.llm import ChatBackend, LLMError
from qa.pipeline import Pipeline
from qa.question import prepare_question
from qa.prompt import LANGUAGES, SYSTEM, Passage, PromptPassages, build_messages
from qa.repair import parse_redraft, repair_grammar, repair_messages
from qa.types import Answer, Citation, Filters, Mode
from qa.verify import SupportingSpan, Verifier, VerifyConfig

__all__ = ["GenerationConfig", "Passage", "Claim", "Partial", "Generator", "split_claims", "build_messages",
           "UNSUPPORTED_MARK"]

log = logging.getLogger(__name__)

_NO_TEXT = {"fr": "Le modèle de langue n’a rien écrit ; voici les phrases citées des articles.",
            "en": "The language model wrote nothing; here are the quoted sentences of the articles."}
_WITHDRAWN = {"fr": "Le modèle de langue a retiré sa réponse, que les articles n’étayaient pas ; voici les phrases "
                    "citées des articles.",
              "en": "The language model withdrew its answer, which the articles did not support; here are the "
                    "quoted sentences of the articles."}


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
    repair: int = 2                 # up to this many such sentences get a second draft from their
                                    # passages (qa.repair); 0: none
    verify: VerifyConfig = field(default_factory=VerifyConfig)


@dataclass(frozen=True)
class Partial:
    """The model's text so far (not verified yet, markers are prompt passage numbers)."""

    text: str


class Generator:
    """Answers with a language model over a `Pipeline`; safe to share between threads (the
    backend serialises generations)."""

    def __init__(self, pipeline: Pipeline, backend: ChatBackend, config: GenerationConfig | None = None) -> None:
        self.pipeline = pipeline
        self.backend = backend
        self.config = config or GenerationConfig()
        self.verifier = Verifier(pipeline.data, pipeline.embedder, self.config.verify)
        self._prompt = PromptPassages(pipeline.data, backend, self.config.passages, self.config.passage_chars,
                                      self.config.prompt_tokens)

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
        passages = self._prompt.passages(extractive, scores)
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
        answer, redrafting = yield from self._verified(extractive, text, passages)
        done = time.perf_counter()
        timings = {**extractive.timings_ms, "prompt": (prompted - started) * 1000,
                   "first_token": ((first or generated) - prompted) * 1000, "generate": (generated - prompted) * 1000,
                   "repair": redrafting * 1000, "verify": (done - generated - redrafting) * 1000,
                   "total": (done - started) * 1000}
        log.info("generated %d characters with %s in %.0f ms", len(text), self.backend.name, timings["generate"])
        yield replace(answer, timings_ms={name: round(ms, 2) for name, ms in timings.items()})

    def _verified(self, extractive: Answer, text: str, passages: Sequence[Passage]
                  ) -> Steps[Partial, None, tuple[Answer, float]]:
        """The answer with each sentence's supporting spans cited, and the seconds spent on second
        drafts; while one is written, the first draft again (so that closing the stream stops it)."""
        claims = split_claims(without_passage_mentions(text, [p.n for p in passages], [p.text for p in passages]))
        if not claims:
            log.warning("the language model wrote no sentence (%r)", text[:80])
            return replace(extractive, notices=extractive.notices + (_NO_TEXT.get(extractive.lang, _NO_TEXT["en"]),)), 0.0
        vectors = self.verifier.embed([c.text for c in claims])
        by_n = {p.n: p for p in passages}
        spans: dict[tuple[str, int, int], SupportingSpan] = {}
        parts: list[str] = []
        unsupported: list[str] = []
        withdrawn: list[str] = []
        redrafting = 0.0
        redrafts = self.config.repair
        redrafted: list[str] = []  # second drafts shown
        for claim, written, vector in zip(claims, closed(claims), vectors):
            found = self._supports(claim, extractive.lang, vector, by_n)
            if not found and redrafts > 0:
                redrafts -= 1
                started = time.perf_counter()
                second, found = yield from self._redraft(claim, extractive, by_n, text)
                redrafting += time.perf_counter() - started
                others = {claim_key(c.text) for c in claims if c is not claim} | set(redrafted)
                if second is None or (found and claim_key(second.text) in others):  # withdrawn, or repeats another
                    withdrawn.append(written)
                    continue
                if found:
                    written = closed([second])[0]
                    redrafted.append(claim_key(second.text))
            numbers = []
            for span in found:
                key = (span.doc_id, span.start, span.end)
                spans.setdefault(key, span)
                numbers.append(list(spans).index(key) + 1)
            if numbers:
                parts.append(written + " " + "".join(f"[{n}]" for n in dict.fromkeys(numbers)))
            else:
                unsupported.append(written)
                parts.append(f"{written} {UNSUPPORTED_MARK}")
        if not parts:
            notice = _WITHDRAWN.get(extractive.lang, _WITHDRAWN["en"])
            return replace(extractive, notices=extractive.notices + (notice,), withdrawn=tuple(withdrawn)), redrafting
        citations = tuple(self._citation(n, s, extractive) for n, s in enumerate(spans.values(), start=1))
        quoted = figure_notice(extractive.question, extractive.lang, [c.quote for c in extractive.citations])
        notices = tuple(n for n in extractive.notices if n not in quoted) + figure_notice(
            extractive.question, extractive.lang, [c.quote for c in citations])  # of the spans it cites
        if unsupported:
            notices += (_unsupported_notice(extractive.lang, len(unsupported), len(parts)),)
        if withdrawn:
            notices += (_withdrawn_notice(extractive.lang, len(withdrawn)),)
        return replace(extractive, text=" ".join(parts), citations=citations, related=(), notices=notices,
                       generated=True, unsupported=tuple(unsupported), withdrawn=tuple(withdrawn)), redrafting

    def _redraft(self, claim: Claim, extractive: Answer, by_n: dict[int, Passage], draft: str
                 ) -> Steps[Partial, None, tuple[Claim | None, list[SupportingSpan]]]:
        """The model's second draft of an unsupported sentence from the passages it cited (all of
        the prompt's when it cited none), and the spans supporting it; None when withdrawn."""
        cited = [by_n[n] for n in claim.cited if n in by_n] or list(by_n.values())
        language = LANGUAGES.get(extractive.lang, "the language of the question")
        numbered = [(p.n, p.text) for p in cited]
        missing = self.verifier.missing(claim.text, " ".join(p.text for p in cited))
        messages = repair_messages(SYSTEM, claim.text, missing, language, extractive.question, numbered)
        text = ""
        try:
            with closing(iter(self.backend.stream(messages, self.config.max_tokens, self.config.temperature,
                                                  repair_grammar([n for n, _ in numbered])))) as pieces:
                for piece in pieces:
                    text += piece
                    yield Partial(draft)
        except LLMError as err:  # the first draft stands, flagged
            log.warning("no second draft (%s): %s", err, claim.text[:80])
            return claim, []
        second = parse_redraft(text, numbered)
        if second is None:
            log.info("generated sentence withdrawn: %s", claim.text[:80])
            return None, []
        vector = self.verifier.embed([second.text])[0]
        found = self._supports(second, extractive.lang, vector, by_n)
        log.info("second draft %s: %s", "supported" if found else "still unsupported", second.text[:80])
        return second, found

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


def _withdrawn_notice(lang: str, count: int) -> str:
    if lang == "fr":
        return f"{count} phrase(s) de la réponse générée, que les articles n’étayaient pas, ont été retirées."
    return f"{count} generated sentence(s) that the articles did not support were withdrawn."


def _unsupported_notice(lang: str, count: int, total: int) -> str:
    if lang == "fr":
        return (f"{count} phrase(s) sur {total} de la réponse générée ne sont pas étayées par les articles cités "
                f"et sont marquées {UNSUPPORTED_MARK}.")
    return (f"{count} of the {total} generated sentences are not supported by the cited articles and are marked "
            f"{UNSUPPORTED_MARK}.")
