"""Question answering over the index: hybrid retrieval, evidence sentences, citations."""

from __future__ import annotations

from qa.abstain import AbstainConfig
from qa.evidence import EvidenceConfig
from qa.pipeline import DEFAULT_INDEX_DIR, Pipeline, QAConfig
from qa.question import QuestionError
from qa.retrieval import RetrievalConfig
from qa.types import Answer, Citation, Filters, Hit, Mode

__all__ = [
    "AbstainConfig", "Answer", "Citation", "DEFAULT_INDEX_DIR", "EvidenceConfig", "Filters", "Hit",
    "Mode", "Pipeline", "QAConfig", "QuestionError", "RetrievalConfig",
]
