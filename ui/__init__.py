"""Web interface: `build_app(pipeline)` builds the Gradio page; `python -m ui` serves it."""

from __future__ import annotations

__all__ = ["build_app"]


def __getattr__(name: str) -> object:
    """Import gradio only when the app is asked for, so `ui.render` stays light."""
    if name == "build_app":
        from ui.app import build_app

        return build_app
    raise AttributeError(f"module 'ui' has no attribute {name!r}")
