"""Inputs that check what API clients send, so that a wrong value gets one sentence saying what
to send instead of Gradio's generic error (and a traceback in the server's log)."""

from __future__ import annotations

from typing import Any

import gradio as gr

__all__ = ["PassageCount"]


class PassageCount(gr.Slider):
    """The page's "passages to show" slider. Over the API, null means its default, a number
    written as a string is read as the number, and anything else is refused in one sentence
    (Gradio's own check fails on them with a bare TypeError)."""

    def get_block_name(self) -> str:   # the page draws it as the slider it is
        return "slider"

    def get_block_class(self) -> str:
        return "slider"

    def preprocess(self, payload: Any) -> float:
        if payload is None:
            return float(self.value)
        if isinstance(payload, str):
            try:
                payload = float(payload)
            except ValueError:
                pass
        if isinstance(payload, bool) or not isinstance(payload, (int, float)):
            raise gr.Error(f"k, the number of passages, must be a number from {self.minimum:g} to {self.maximum:g} "
                           f"(got {payload!r}); send 5 for the default.")
        return super().preprocess(payload)
