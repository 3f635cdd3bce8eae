"""What the page's handlers receive as API clients send it (the page hands its inputs over
unprocessed: Gradio's own checks fail on a null or a word with a bare TypeError and a
traceback), read into what the handlers need, or None with the reason shown to the client."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["DEFAULT_K", "MAX_K", "passage_count", "question_text", "article_names"]

DEFAULT_K = 5
MAX_K = 20


def passage_count(k: Any) -> int | None:
    """The number of passages asked for: the slider's number, or over the API null or "" (the
    default), a number written as a string ("3"); None for anything else or out of 1..MAX_K."""
    if k is None or k == "":
        return DEFAULT_K
    if isinstance(k, bool):
        return None
    try:
        value = float(k)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value) or not 1 <= round(value) <= MAX_K:
        return None
    return int(round(value))


def question_text(question: Any) -> str:
    """The question as text (null is an empty question, which gets its own message)."""
    return "" if question is None else question if isinstance(question, str) else str(question)


def article_names(doc_ids: Any) -> list[str]:
    """The articles to search in: one name or a list of them (null or empty: every article)."""
    if doc_ids is None or doc_ids == "":
        return []
    if isinstance(doc_ids, str):
        return [doc_ids]
    if isinstance(doc_ids, (list, tuple)):
        return [str(d) for d in doc_ids if d is not None and d != ""]
    return [str(doc_ids)]
