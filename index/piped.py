"""Run a command's `main` so that a reader that stops early (`python -m qa ask - | head`) ends it
quietly, as the shell's own commands end, instead of with a BrokenPipeError traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

__all__ = ["run"]

BROKEN_PIPE = 141   # what a shell reports for a command ended by SIGPIPE (128 + 13)


def run(main: Callable[[], int]) -> int:
    """`main()`'s exit status, or `BROKEN_PIPE` when its output was closed before it finished."""
    try:
        status = main()
        sys.stdout.flush()   # inside the try: a closed pipe often shows only at this last flush
        return status
    except BrokenPipeError:
        # the interpreter flushes stdout again on exit: point it at /dev/null so that flush is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE
