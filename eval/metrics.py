"""Pure metric functions: retrieval, answers, citations, abstention, latency."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Gold", "Located", "normalize", "relevant_gold", "recall_at", "mrr_at", "ndcg_at", "contains_answer",
    "citation_correct", "abstention_prf", "mean", "percentile", "answer_tokens", "exact_match", "token_f1",
]


@dataclass(frozen=True)
class Located:
    """Anything with a document and character offsets: a gold span, a hit, a citation."""

    doc: str
    start: int
    end: int


@dataclass(frozen=True)
class Gold:
    answers: tuple[str, ...]
    docs: tuple[str, ...]
    spans: tuple[Located, ...]
    answer_spans: tuple[Located, ...] = ()   # exact gold answer offsets, when known

    @property
    def answerable(self) -> bool:
        return bool(self.answers or self.docs or self.spans)


def normalize(text: str) -> str:
    """Case-, accent-, apostrophe- and space-insensitive form; digit groups joined."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("’", "'")
    text = re.sub(r"(?<=\d)[\s,.](?=\d{3}\b)", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _overlaps(a: Located, b: Located) -> bool:
    return a.doc == b.doc and a.start < b.end and b.start < a.end


def relevant_gold(hit: Located, gold: Gold) -> set[int]:
    """Indexes of the gold spans a hit overlaps; without spans, {0} when the hit's doc is gold."""
    if gold.spans:
        return {i for i, span in enumerate(gold.spans) if _overlaps(hit, span)}
    return {0} if hit.doc in gold.docs else set()


def _gold_count(gold: Gold) -> int:
    return len(gold.spans) if gold.spans else (1 if gold.docs else 0)


def recall_at(hits: Sequence[Located], gold: Gold, k: int) -> float:
    """Share of the gold evidence covered by the first `k` hits."""
    total = _gold_count(gold)
    if total == 0:
        return 0.0
    covered: set[int] = set()
    for hit in hits[:k]:
        covered |= relevant_gold(hit, gold)
    return len(covered) / total


def mrr_at(hits: Sequence[Located], gold: Gold, k: int) -> float:
    for rank, hit in enumerate(hits[:k], start=1):
        if relevant_gold(hit, gold):
            return 1.0 / rank
    return 0.0


def ndcg_at(hits: Sequence[Located], gold: Gold, k: int) -> float:
    """Binary gains, counting a hit only when it covers gold evidence not covered above it."""
    total = _gold_count(gold)
    if total == 0:
        return 0.0
    covered: set[int] = set()
    dcg = 0.0
    for rank, hit in enumerate(hits[:k]):
        new = relevant_gold(hit, gold) - covered
        if new:
            dcg += 1.0 / math.log2(rank + 2)
            covered |= new
    ideal = sum(1.0 / math.log2(r + 2) for r in range(min(k, total)))
    return dcg / ideal


_EDGES = " .,;:!?\"'«»“”()[]"


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    """A gold answer is in `text` (`normalize`d), its own leading and trailing punctuation aside
    (answers cut from a sentence keep some: "the Amazon Jungle,"). Not as whole words: some gold
    spans are cut inside a word ("ince, Lucifer se rend…" for "Vince, Lucifer…")."""
    norm = normalize(text)
    return any(gold in norm for gold in (normalize(a).strip(_EDGES) for a in answers) if gold)


def citation_correct(citation: Located, quote: str, gold: Gold) -> bool:
    """A citation is correct when it overlaps gold evidence or quotes a gold answer."""
    return any(_overlaps(citation, s) for s in gold.spans) or contains_answer(quote, gold.answers)


_ARTICLES = {"a", "an", "the", "le", "la", "les", "l", "un", "une", "des", "du", "de", "d"}


def answer_tokens(text: str) -> list[str]:
    """SQuAD's answer normalisation (lower case, no punctuation, no articles), with French
    articles and elisions ("l'", "d'") dropped too and digit groups joined ("1 000" = "1000")."""
    text = unicodedata.normalize("NFC", text.casefold()).replace("’", "'")
    text = re.sub(r"(?<=\d)[\s\u00a0\u202f,.](?=\d{3}\b)", "", text)
    text = "".join(" " if unicodedata.category(c).startswith("P") or c in "'`" else c for c in text)
    return [t for t in text.split() if t not in _ARTICLES]


def exact_match(prediction: str, answers: Sequence[str]) -> bool:
    tokens = answer_tokens(prediction)
    return any(tokens == answer_tokens(a) for a in answers if a.strip())


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """The best token-overlap F1 of `prediction` against any gold answer."""
    best = 0.0
    predicted = answer_tokens(prediction)
    for answer in answers:
        gold = answer_tokens(answer)
        common = sum(min(predicted.count(t), gold.count(t)) for t in set(predicted) & set(gold))
        if common:
            precision, recall = common / len(predicted), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def abstention_prf(predicted: Sequence[bool], unanswerable: Sequence[bool]) -> tuple[float, float, float]:
    """Precision, recall and F1 of abstaining, unanswerable questions being the positives."""
    tp = sum(p and u for p, u in zip(predicted, unanswerable))
    fp = sum(p and not u for p, u in zip(predicted, unanswerable))
    fn = sum(u and not p for p, u in zip(predicted, unanswerable))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean; 0.0 for no values."""
    return sum(values) / len(values) if values else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
