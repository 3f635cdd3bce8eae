"""Question answering over the index: hybrid retrieval, evidence sentences, citations, and
optional generated answers whose citations are verified."""

from __future__ import annotations

from qa.abstain import AbstainConfig
from qa.evidence import EvidenceConfig
from qa.generate import GenerationConfig, Generator, Partial
from qa.live import IndexNotice, LivePipeline, Served
from qa.llm import ChatBackend, LLMError, make_backend
from qa.pipeline import DEFAULT_INDEX_DIR, Pipeline, QAConfig
from qa.question import QuestionError
from qa.retrieval import RetrievalConfig
from qa.types import Answer, Citation, Filters, Hit, Mode
from qa.verify import VerifyConfig

__all__ = [
    "AbstainConfig", "Answer", "ChatBackend", "Citation", "DEFAULT_INDEX_DIR", "EvidenceConfig", "Filters",
    "GenerationConfig", "Generator", "Hit", "IndexNotice", "LLMError", "LivePipeline", "Mode", "Partial",
    "Pipeline", "QAConfig", "QuestionError", "RetrievalConfig", "Served", "VerifyConfig", "make_backend",
]
