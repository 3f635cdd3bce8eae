"""`python -m qa.compile [--force]`: make the compiled copies (OpenVINO) of the embedding model
and of the shipped reader, once, at setup (`make setup` runs it).

Each copy is made from its PyTorch reference (sentence-transformers for the embedder, the torch
reader over the same weights) and cached beside the converted model in ~/.cache/newsqa/models/,
stamped with the fingerprint of what it was made from; an up-to-date copy is kept as it is.
Builds and questions use the copies and fall back to PyTorch, saying so, when one is missing
or cannot run; a missing copy is also made at the first build or question that needs it."""

from __future__ import annotations

import argparse
import logging
import sys

from index.embedder import resolve_model
from index.fast_embed import compile_embedder, compiled_copy
from qa.reader import READER_DIR, WEIGHTS, Reader, ReaderSpec
from qa.reader_fast import compile_reader, reader_copy

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m qa.compile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="compile again even when the copies are current")
    args = parser.parse_args(argv)
    try:
        spec = resolve_model(None)
        embedder = compiled_copy(spec.path, spec.fingerprint)
        fresh = args.force or not embedder.is_current()
        if fresh:
            compile_embedder(spec.path, spec.fingerprint)
        print(f"embedding model: {embedder.folder} ({'compiled' if fresh else 'up to date'})")
        shipped = ReaderSpec.load(READER_DIR)
        if shipped is None or shipped.base_fingerprint != spec.fingerprint:
            print(f"reader: none usable in {READER_DIR}; nothing to compile")
            return 0
        reader = reader_copy(spec.path, spec.fingerprint, READER_DIR / WEIGHTS)
        fresh = args.force or not reader.is_current()
        if fresh:
            compile_reader(Reader.load(spec.path, shipped, READER_DIR), reader)
        print(f"reader: {reader.folder} ({'compiled' if fresh else 'up to date'})")
        return 0
    except (ImportError, OSError, RuntimeError, ValueError) as err:
        print(f"error: the compiled copies could not be made ({err}); builds and questions will use PyTorch.",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
