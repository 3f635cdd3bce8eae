"""`python -m eval --generate [--limit N]`: generated answers scored on a fixed mixed list of 40
questions, against the extractive answers to the same questions.

The list: 10 seed questions (French, English over the French articles, unanswerable) and 30 of
the dev set's report half (French, English, English over French articles, French over English
ones, out-of-corpus), each group taken in the order of the sha256 of the question ids, so the
list is the same on every machine. Reported: containment (the gold answer inside what the answer
shows: its text or the spans it cites; also in its text alone),
the share of generated sentences supported by their citations (a sentence the model withdrew on
its second draft counts as unsupported; also among the sentences shown), the share of the
answers with generated text written in the question's language, the unanswerable questions still refused, and seconds to the first
token and in all (p50/p95)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eval.dataset import DEFAULT_QUESTIONS, EvalQuestion, load_questions
from eval.devset import devset_questions, split_questions
from eval.metrics import mean, percentile
from eval.runner import QuestionResult, Variant, language_pair, run_variant
from qa import ChatBackend, GenerationConfig, Pipeline

__all__ = ["SEED_QUOTAS", "DEV_QUOTAS", "MixedSet", "mixed_questions", "run_mixed", "generation_summary",
           "generation_table"]

SEED_QUOTAS = {"fr→fr": 4, "en→fr": 4, "unanswerable": 2}
DEV_QUOTAS = {"fr→fr": 8, "en→en": 8, "en→fr": 5, "fr→en": 5, "out_of_corpus": 4}


@dataclass(frozen=True)
class MixedSet:
    """Questions and the pipeline that answers them (the seeds' index, or the dev corpus's)."""

    name: str
    pipeline: Pipeline
    questions: tuple[EvalQuestion, ...]


def _pick(pipeline: Pipeline, questions: list[EvalQuestion], quotas: dict[str, int]) -> tuple[EvalQuestion, ...]:
    taken: dict[str, list[EvalQuestion]] = {group: [] for group in quotas}
    for q in sorted(questions, key=lambda q: hashlib.sha256(q.id.encode()).hexdigest()):
        group = language_pair(pipeline, q)
        if group in taken and len(taken[group]) < quotas[group]:
            taken[group].append(q)
    rounds = max(quotas.values(), default=0)  # groups in turn, so that a --limit keeps the mix
    return tuple(taken[group][i] for i in range(rounds) for group in quotas if i < len(taken[group]))


def mixed_questions(seeds: Pipeline, dev: Pipeline | None, devset: Path, limit: int | None = None) -> list[MixedSet]:
    """The fixed list (the dev set's part only when `dev` is given), cut to `limit` questions
    taken in turn from the two parts."""
    parts = [MixedSet("seeds", seeds, _pick(seeds, load_questions(DEFAULT_QUESTIONS), SEED_QUOTAS))]
    if dev is not None:
        report = split_questions(devset_questions(devset), "report")
        parts.append(MixedSet("devset", dev, _pick(dev, report, DEV_QUOTAS)))
    if limit is None:
        return parts
    order = [(i, j) for j in range(max(len(p.questions) for p in parts)) for i, p in enumerate(parts)
             if j < len(p.questions)][:limit]
    return [MixedSet(p.name, p.pipeline, tuple(p.questions[j] for i2, j in order if i2 == i))
            for i, p in enumerate(parts)]


def run_mixed(parts: list[MixedSet], hybrid: Variant, generated: Variant, backend: ChatBackend,
              generation: GenerationConfig, progress: bool) -> tuple[list[QuestionResult], list[QuestionResult]]:
    """The extractive and the generated answers to every question of `parts`."""
    extractive: list[QuestionResult] = []
    written: list[QuestionResult] = []
    for part in parts:
        questions = list(part.questions)
        extractive += run_variant(part.pipeline, questions, hybrid, progress=progress)
        written += run_variant(part.pipeline, questions, generated, progress=progress, backend=backend,
                               generation=generation)
    return extractive, written


def generation_summary(rows: list[QuestionResult], keep: Callable[[QuestionResult], bool] = lambda r: True
                       ) -> dict[str, float | None]:
    rows = [r for r in rows if keep(r)]
    answerable = [r for r in rows if r.answerable]
    unanswerable = [r for r in rows if not r.answerable]
    written = [r for r in rows if r.generated and not r.abstained]
    sentences = sum(r.sentences for r in written)
    shown = sentences - sum(r.withdrawn for r in written)
    return {
        "questions": len(rows), "answerable": len(answerable),
        "containment": mean([float(r.contains) for r in answerable]),
        "containment_text": mean([float(r.text_contains) for r in answerable]),
        "supported": 1 - sum(r.unsupported for r in written) / sentences if sentences else None,
        # answers with generated text (not those whose every sentence was withdrawn); None: no such answer
        "language_match": mean([float(r.answer_lang == r.lang) for r in written if r.answer_lang])
        if any(r.answer_lang for r in written) else None,
        "withdrawn": sum(r.withdrawn for r in written) / sentences if sentences else 0.0,
        "supported_shown": 1 - sum(r.unsupported - r.withdrawn for r in written) / shown if shown else None,
        "refused_unanswerable": mean([float(r.abstained) for r in unanswerable]),
        "false_abstention": mean([float(r.abstained) for r in answerable]),
        "first_token_p50_s": percentile([r.first_token_ms for r in written], 50) / 1000,
        "first_token_p95_s": percentile([r.first_token_ms for r in written], 95) / 1000,
        "total_p50_s": percentile([r.latency_ms for r in written], 50) / 1000,
        "total_p95_s": percentile([r.latency_ms for r in written], 95) / 1000,
    }


def generation_table(extractive: list[QuestionResult], written: list[QuestionResult], model: str) -> list[str]:
    """Markdown: the generated answers overall and per group, the extractive ones beside them."""
    lines = [f"## Generated answers on the fixed mixed list ({model})", "",
             "| answers | group | n | contains | in the text | supported | supported, shown | withdrawn | "
             "in the question's language | unanswerable refused | false abst. | first token p50 / p95 s | "
             "total p50 / p95 s |", "|---|---|" + "---|" * 11]
    groups = ["all"] + sorted({r.pair for r in written})
    for label, rows in (("generated", written), ("extractive", extractive)):
        for group in groups:
            s = generation_summary(rows, (lambda r: True) if group == "all" else (lambda r, g=group: r.pair == g))
            supported, shown, language = ("–" if s[key] is None else f"{s[key]:.3f}"
                                          for key in ("supported", "supported_shown", "language_match"))
            written_only = (f"{supported} | {shown} | {s['withdrawn']:.3f} | {language}"
                            if label == "generated" else "– | – | – | –")
            timing = (f"{s['first_token_p50_s']:.1f} / {s['first_token_p95_s']:.1f} | "
                      f"{s['total_p50_s']:.1f} / {s['total_p95_s']:.1f}") if label == "generated" else "– | –"
            lines.append(f"| {label} | {group} | {int(s['questions'])} | {s['containment']:.3f} | "
                         f"{s['containment_text']:.3f} | {written_only} | "
                         f"{s['refused_unanswerable']:.3f} | {s['false_abstention']:.3f} | {timing} |")
            if label == "extractive":
                break
    return lines + [""]
