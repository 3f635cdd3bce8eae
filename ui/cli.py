"""`python -m ui`: serve the question-answering page on this machine (127.0.0.1 by default)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa import ChatBackend, Pipeline

__all__ = ["main"]

STORE_HELP = ("an index in Qdrant instead of the folder: qdrant+local:DIR or qdrant://HOST:PORT[?collection=NAME"
              "&api_key_env=VAR] (see index.qdrant_target)")

log = logging.getLogger(__name__)

_WARM_UP = "Corée du Nord"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ui", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (default: 7860)")
    parser.add_argument("--index-dir", type=Path, default=None, help="index folder (default: var/index)")
    parser.add_argument("--store", help=STORE_HELP)
    parser.add_argument("--lang", choices=["fr", "en"], default="en", help="initial interface language")
    parser.add_argument("--verbose", action="store_true", help="log each answer")
    parser.add_argument("--allow-upload", action="store_true",
                        help="show a panel that adds article files to the index and removes them; anyone who can "
                             "open the page can then change the index (off by default)")
    llm = parser.add_argument_group("generated answers (optional; off unless one of these is given)")
    llm.add_argument("--gguf", type=Path, help="a local GGUF model file, or a model name of `python -m qa.models list` "
                     "(`default`: the one make generate-setup fetches)")
    llm.add_argument("--llm-url", help="an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1")
    llm.add_argument("--llm-model", help="with --llm-url: the model name the server knows")
    return parser


def _backend(args: argparse.Namespace) -> ChatBackend | None:
    """The language model for the "generate" option, or None when none was asked for."""
    if args.gguf is None and not args.llm_url and not args.llm_model:
        return None
    from qa import make_backend

    return make_backend(args.gguf, args.llm_url, args.llm_model)


def _port_taken(host: str, port: int) -> str | None:
    """Why `host:port` cannot be served, or None; checked before the slow model load."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            sock.bind((host, port))
        except OSError as err:
            return err.strerror or str(err)
    return None


def _load(index_dir: Path | str | None) -> Pipeline:
    from qa import DEFAULT_INDEX_DIR, Pipeline

    pipeline = Pipeline.load(index_dir or DEFAULT_INDEX_DIR)
    pipeline.ask(_WARM_UP, k=1)  # the first query pays for lazy set-up, not the first user
    return pipeline


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _serve(pipeline: Pipeline, backend: ChatBackend | None, args: argparse.Namespace, started: float) -> int:
    from qa import DEFAULT_INDEX_DIR
    from ui.app import build_app, launch_options
    from ui.library import Library
    from ui.source import PageSource

    # Follows the index folder: a build swapped in is served from the next question on. An index
    # in Qdrant is served as loaded (its alias moves under it; restart to follow).
    index_dir = args.index_dir or DEFAULT_INDEX_DIR
    if args.store:
        from qa import Generator

        source = PageSource.fixed(pipeline, Generator(pipeline, backend) if backend is not None else None)
    else:
        source = PageSource.follow(pipeline, index_dir, backend)
    library = Library.of(source, index_dir) if args.allow_upload else None
    demo = build_app(source, lang=args.lang, library=library)
    try:
        demo.launch(server_name=args.host, server_port=args.port, prevent_thread_lock=True,
                    **launch_options(allow_upload=library is not None))
    except OSError as err:
        print(f"error: cannot serve on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 2
    print(f"Serving on http://{args.host}:{args.port} (ready in {time.perf_counter() - started:.1f} s); "
          "Ctrl+C stops.", flush=True)
    if library is not None:
        print(f"Uploads are on: anyone who can open http://{args.host}:{args.port} can add articles to "
              f"{library.config.seeds_dir} and remove them, and so change the index.", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # stop as cleanly as on Ctrl+C
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    started = time.perf_counter()
    if args.store and args.allow_upload:
        print("error: --allow-upload works with an index folder, not with --store; add articles with `python -m "
              "index add` and write them to Qdrant with `python -m index build --store`.", file=sys.stderr)
        return 2
    reason = _port_taken(args.host, args.port)
    if reason:
        print(f"error: cannot serve on {args.host}:{args.port} ({reason}); pass another --port.", file=sys.stderr)
        return 2
    try:
        backend = _backend(args)
        pipeline = _load(args.store or args.index_dir)
        if backend is not None and hasattr(backend, "load"):
            backend.load()  # a broken model file fails here, not at the first question
    except (RuntimeError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return _serve(pipeline, backend, args, started)
