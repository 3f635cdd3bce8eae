"""What the page's handlers receive as API clients send it (the page hands its inputs over
unprocessed: Gradio's own checks fail on a null or a word with a bare TypeError and a
traceback), read into what the handlers need, or None with the reason shown to the client."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["DEFAULT_K", "MAX_K", "passage_count"]

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
