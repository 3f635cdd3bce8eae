"""The values the question-answering core returns: small, frozen, carrying provenance."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date as Date
from enum import Enum

__all__ = ["Mode", "Filters", "Hit", "Citation", "Answer"]


class Mode(str, Enum):
    """Which retrieval signals to use."""

    HYBRID = "hybrid"
    DENSE = "dense"
    BM25 = "bm25"


_ISO = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _check_date(value: str | None, name: str) -> None:
    """Raise ValueError unless `value` is None or a real date written YYYY, YYYY-MM or YYYY-MM-DD."""
    if value is None:
        return
    found = _ISO.fullmatch(value)
    if found is not None:
        try:
            Date(int(found[1]), int(found[2] or 1), int(found[3] or 1))
            return
        except ValueError:   # a month or day that does not exist
            pass
    raise ValueError(f"{name} {value!r} is not a date; write it as YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2024-03).")


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some articles and/or a date range (ISO dates compared at the
    precision both give: "2024" or "2024-03" match any date in that year or month, and an
    article dated "2024-03" is within a range starting 2024-03-15)."""

    doc_ids: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    def __post_init__(self) -> None:
        _check_date(self.date_from, "The start date")
        _check_date(self.date_to, "The end date")
        if self.date_from and self.date_to and self.date_to < self.date_from[: len(self.date_to)]:
            raise ValueError(f"The date range ends ({self.date_to}) before it starts ({self.date_from}); "
                             "swap the two dates.")

    def allows(self, doc_id: str, date: str | None) -> bool:
        if self.doc_ids and doc_id not in self.doc_ids:
            return False
        if self.date_from or self.date_to:
            if date is None:
                return False
            if self.date_from and date[: len(self.date_from)] < self.date_from[: len(date)]:
                return False
            if self.date_to and date[: len(self.date_to)] > self.date_to[: len(date)]:
                return False
        return True


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk: `raw_text(doc_id)[start:end] == text`."""

    rank: int
    doc_id: str
    start: int
    end: int
    text: str
    score: float
    dense: float | None = None
    bm25: float | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    """A cited sentence; `quote == raw_text(doc_id)[start:end]`. The optional short answer
    `[answer_start, answer_end)` lies inside `[start, end)`, in the same raw-text offsets."""

    n: int
    doc_id: str
    title: str
    date: str | None
    start: int
    end: int
    quote: str
    score: float
    answer_start: int | None = None
    answer_end: int | None = None
    url: str | None = None     # the article's address, when its source gave one

    @property
    def short_answer(self) -> str | None:
        if self.answer_start is None or self.answer_end is None:
            return None
        offset = self.answer_start - self.start
        return self.quote[offset : offset + self.answer_end - self.answer_start]

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "short_answer": self.short_answer}


@dataclass(frozen=True)
class Answer:
    question: str
    lang: str
    abstained: bool
    text: str
    citations: tuple[Citation, ...] = ()
    related: tuple[Citation, ...] = ()
    notices: tuple[str, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    confidence: float = 0.0     # 1 - p(unanswerable) from the abstention model
    signals: dict[str, float] = field(default_factory=dict)
    generated: bool = False     # written by a language model (qa.generate), each sentence verified
    unsupported: tuple[str, ...] = ()  # generated sentences no cited span supports (marked "[?]" in text)
    withdrawn: tuple[str, ...] = ()    # generated sentences the model withdrew on a second draft (not shown)

    def to_dict(self) -> dict[str, object]:
        return {
            "question": self.question, "lang": self.lang, "abstained": self.abstained,
            "answer": self.text, "confidence": round(self.confidence, 4),
            "citations": [c.to_dict() for c in self.citations],
            "related": [c.to_dict() for c in self.related],
            "notices": list(self.notices), "timings_ms": self.timings_ms,
            "signals": {k: round(v, 4) for k, v in self.signals.items()},
            "generated": self.generated, "unsupported": list(self.unsupported),
            "withdrawn": list(self.withdrawn),
        }
