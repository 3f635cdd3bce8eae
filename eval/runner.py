"""Run a question set through one or more retrieval variants and summarise the metrics; a
generative variant answers with a language model (`qa.Generator`) over the hybrid retrieval."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace

from tqdm import tqdm

from eval.dataset import EvalQuestion
from eval.metrics import (Located, abstention_prf, citation_correct, contains_answer, mrr_at, ndcg_at,
                          percentile, recall_at)
from qa import ChatBackend, GenerationConfig, Generator, Mode, Pipeline, QAConfig
from qa.generate import split_claims

__all__ = ["Variant", "QuestionResult", "default_variants", "generative_variant", "run_variant", "summarize"]

_DEPTH = 10


@dataclass(frozen=True)
class Variant:
    name: str
    config: QAConfig
    generate: bool = False     # answers written by a language model, citations verified


@dataclass(frozen=True)
class QuestionResult:
    id: str
    lang: str
    type: str
    variant: str
    answerable: bool
    abstained: bool
    confidence: float
    cross_lingual: bool
    recall_1: float
    recall_5: float
    recall_10: float
    mrr_10: float
    ndcg_10: float
    contains: bool
    citations: int
    correct_citations: int
    latency_ms: float
    answer: str = ""
    cited: list[dict] = field(default_factory=list)
    signals: dict[str, float] = field(default_factory=dict)
    generated: bool = False
    sentences: int = 0         # claims of the answer: cited sentences, or generated sentences
    unsupported: int = 0       # generated sentences no cited span supports
    first_token_ms: float = 0.0


def default_variants(base: QAConfig) -> list[Variant]:
    return [Variant("bm25", replace(base, mode=Mode.BM25)), Variant("dense", replace(base, mode=Mode.DENSE)),
            Variant("hybrid", replace(base, mode=Mode.HYBRID))]


def generative_variant(base: QAConfig) -> Variant:
    return Variant("generated", replace(base, mode=Mode.HYBRID), generate=True)


def never_abstain(config: QAConfig) -> QAConfig:
    return replace(config, abstain=config.abstain.never())


def _one(pipeline: Pipeline, q: EvalQuestion, variant: str, generator: Generator | None = None) -> QuestionResult:
    started = time.perf_counter()
    answer = generator.answer(q.question) if generator is not None else pipeline.ask(q.question)
    latency = (time.perf_counter() - started) * 1000
    hits = [Located(h.doc_id, h.start, h.end) for h in pipeline.search(q.question, k=_DEPTH)]
    gold = q.gold
    correct = sum(citation_correct(Located(c.doc_id, c.start, c.end), c.quote, gold) for c in answer.citations)
    sentences = 0 if answer.abstained else len(split_claims(answer.text)) if answer.generated else len(answer.citations)
    return QuestionResult(
        id=q.id, lang=q.lang or answer.lang, type=q.type, variant=variant, answerable=gold.answerable,
        abstained=answer.abstained, confidence=answer.confidence,
        cross_lingual=bool(answer.signals.get("cross_lingual")),
        recall_1=recall_at(hits, gold, 1), recall_5=recall_at(hits, gold, 5), recall_10=recall_at(hits, gold, 10),
        mrr_10=mrr_at(hits, gold, 10), ndcg_10=ndcg_at(hits, gold, 10),
        contains=not answer.abstained and contains_answer(answer.text, gold.answers),
        citations=len(answer.citations), correct_citations=correct, latency_ms=latency, answer=answer.text,
        cited=[{"doc_id": c.doc_id, "start": c.start, "end": c.end} for c in answer.citations],
        signals=dict(answer.signals), generated=answer.generated, sentences=sentences,
        unsupported=len(answer.unsupported), first_token_ms=answer.timings_ms.get("first_token", 0.0),
    )


def run_variant(pipeline: Pipeline, questions: list[EvalQuestion], variant: Variant, progress: bool = True,
                backend: ChatBackend | None = None, generation: GenerationConfig | None = None
                ) -> list[QuestionResult]:
    """Every question through `variant`; a generative variant needs the language model `backend`."""
    configured = pipeline.with_config(variant.config)
    generator = None
    if variant.generate:
        if backend is None:
            raise ValueError(f"Variant {variant.name!r} writes answers with a language model; pass a backend.")
        generator = Generator(configured, backend, generation)
    bar: Iterable[EvalQuestion] = tqdm(questions, desc=variant.name, disable=not progress, leave=False)
    return [_one(configured, q, variant.name, generator) for q in bar]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def summarize(results: list[QuestionResult], keep: Callable[[QuestionResult], bool] = lambda r: True) -> dict[str, float]:
    rows = [r for r in results if keep(r)]
    answerable = [r for r in rows if r.answerable]
    cited = sum(r.citations for r in answerable)
    precision, recall, f1 = abstention_prf([r.abstained for r in rows], [not r.answerable for r in rows])
    latencies = [r.latency_ms for r in rows]
    return {
        "questions": len(rows), "answerable": len(answerable),
        "recall@1": _mean([r.recall_1 for r in answerable]), "recall@5": _mean([r.recall_5 for r in answerable]),
        "recall@10": _mean([r.recall_10 for r in answerable]), "mrr@10": _mean([r.mrr_10 for r in answerable]),
        "ndcg@10": _mean([r.ndcg_10 for r in answerable]),
        "containment": _mean([float(r.contains) for r in answerable]),
        "citation_precision": sum(r.correct_citations for r in answerable) / cited if cited else 0.0,
        "answers_with_correct_citation": _mean([float(r.correct_citations > 0) for r in answerable]),
        "abstain_precision": precision, "abstain_recall": recall, "abstain_f1": f1,
        "latency_p50_ms": percentile(latencies, 50), "latency_p95_ms": percentile(latencies, 95),
        "sentences": float(sum(r.sentences for r in rows)),
        "unsupported_share": sum(r.unsupported for r in rows) / max(1, sum(r.sentences for r in rows)),
        "first_token_p50_ms": percentile([r.first_token_ms for r in rows if r.generated], 50),
    }


def as_dicts(results: list[QuestionResult]) -> list[dict]:
    return [asdict(r) for r in results]
