"""`python -m index.ray_bench [--articles N] [--actors 1,2] [--address local]`: the same
synthetic corpus (see `index.synthetic`) built plainly and with `--ray` at each actor count, in
one run: embedded texts per second of each whole build, its ratio to the plain build, and the
largest difference between the Ray build's stored vectors and the plain build's. Needs the
`ray` extra. It prints figures; it asserts nothing."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np

from index.build import BuildConfig, build_index
from index.embedder import Embedder, resolve_model
from index.ray_embed import RayBuildError, RayEmbedder, RaySettings
from index.storage import load_index
from index.synthetic import synthetic_corpus

__all__ = ["main"]

log = logging.getLogger(__name__)


def _texts_per_second(seeds: Path, index_dir: Path, embedder) -> tuple[float, int]:
    report = build_index(BuildConfig(seeds, index_dir, progress=False), embedder=embedder)
    texts = report.chunks + len(load_index(index_dir).sentences)
    return texts / report.seconds, texts


def _largest_difference(a: Path, b: Path) -> float:
    x, y = load_index(a), load_index(b)
    return max(float(np.abs(np.asarray(p, np.float32) - np.asarray(q, np.float32)).max())
               for p, q in ((x.store.vectors(), y.store.vectors()), (x.sentence_vectors, y.sentence_vectors)))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m index.ray_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=Path, default=Path("seeds"), help="articles the synthetic ones are cut from")
    parser.add_argument("--articles", type=int, default=60, help="synthetic articles (default: %(default)s)")
    parser.add_argument("--actors", default="1,2", help="actor counts to time, comma-separated")
    parser.add_argument("--address", default="local", help="the cluster: local, auto or ray://HOST:PORT")
    args = parser.parse_args(argv)
    try:
        counts = [int(n) for n in args.actors.split(",")]
        if min(counts) < 1:
            raise ValueError
    except ValueError:
        parser.error(f"--actors takes positive counts separated by commas, not {args.actors!r}")
    spec = resolve_model(None)
    with tempfile.TemporaryDirectory(prefix="newsqa-ray-bench-") as temp:
        work = Path(temp)
        synthetic_corpus(args.seeds, work / "corpus", args.articles)
        embedder = Embedder(spec)
        embedder.embed_query("warm up")  # the plain build's model load is not timed, nor are the actors'
        plain, texts = _texts_per_second(work / "corpus", work / "plain", embedder)
        print(f"{'build':<28}{'texts/s':>10}{'ratio':>8}{'max |diff|':>12}")
        print(f"{'plain, ' + embedder.path.value:<28}{plain:>10.1f}{1.0:>8.2f}{'-':>12}")
        for count in counts:
            folder = work / f"ray-{count}"
            try:
                rate, _ = _texts_per_second(work / "corpus", folder, RayEmbedder(spec, RaySettings(args.address, count)))
            except RayBuildError as err:
                print(f"error: {err}", file=sys.stderr)
                return 2
            print(f"{f'ray {args.address}, {count} actor(s)':<28}{rate:>10.1f}{rate / plain:>8.2f}"
                  f"{_largest_difference(work / 'plain', folder):>12.1e}")
        print(f"{args.articles} synthetic articles, {texts} embedded texts (chunks and sentences); Ray's rate "
              "includes starting the cluster and loading the model in every actor.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
