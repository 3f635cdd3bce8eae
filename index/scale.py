"""`python -m index.bench --scale N`: a synthetic archive of N chunks (`index.synthetic`), built
without the model, then measured in a fresh process: load time, memory, disk, whole-`ask` latency
(hybrid, through qa's `Pipeline`, real question embeddings) and ANN recall@10 against exact search.

The measuring process is a child (`python -m index.scale DIR QUESTIONS`) so that its memory and
load time are those of a server starting on the archive, not of the process that built it."""

from __future__ import annotations

import json
import logging
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from index.bm25 import LexicalIndex
from index.embedder import Embedder, resolve_model
from index.manifest import Manifest
from index.storage import finish_index, load_index
from index.store import exact_search, new_store
from index.synthetic import base_sentences, write_archive

__all__ = ["build_archive", "measure", "run_scale"]

log = logging.getLogger(__name__)

KEYS = ("chunks", "index_type", "build_s", "load_s", "rss_mb", "disk_mb", "query_p50_ms", "query_p95_ms",
        "recall_at_10")


def build_archive(folder: Path, chunks: int, embedder: Embedder, sources: list[Path], cache_dir: Path,
                  kind: str | None = None, progress: bool = True) -> dict[str, object]:
    """Write a complete index of `chunks` synthetic chunks into the new folder `folder`; returns
    the build's figures (seconds exclude embedding the real sentences, done once and cached)."""
    base = base_sentences(sources, embedder, cache_dir)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    writer, tokens, langs, docs = write_archive(folder, base, chunks, progress=progress)
    vectors = writer.close()
    rows_s = time.perf_counter() - started
    store = new_store(vectors, kind)
    store_s = time.perf_counter() - started - rows_s
    lexical = LexicalIndex.from_tokens(tokens, langs)
    del tokens
    lexical_s = time.perf_counter() - started - rows_s - store_s
    manifest = Manifest(
        model_id=embedder.spec.model_id, model_fingerprint=embedder.spec.fingerprint, dimension=embedder.dimension,
        prompts=embedder.prompts, chunking={"size": 800, "overlap": 0}, documents=docs,
        seeds_dir=str(folder / "no-articles"), counts={"documents": len(docs), "chunks": chunks,
                                                       "sentences": writer.sentences},
        store=store.describe())
    finish_index(folder, manifest, store, lexical)
    return {"build_s": round(time.perf_counter() - started, 1), "rows_s": round(rows_s, 1),
            "store_s": round(store_s, 1), "bm25_s": round(lexical_s, 1), "index_type": store.describe()["kind"]}


def _rss_mb() -> tuple[float, float]:
    """Current and peak resident memory of this process (VmRSS, VmHWM), in MB."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            found[line.split(":")[0]] = int(line.split()[1]) / 1024
    return found.get("VmRSS", 0.0), found.get("VmHWM", 0.0)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]




def _timed(run, questions: list[str], clear) -> list[float]:
    """Milliseconds of `run(question)`, each question asked once untimed first (its pages read)."""
    timings = []
    for question in questions:
        run(question)
        clear()
        asked = time.perf_counter()
        run(question)
        timings.append((time.perf_counter() - asked) * 1000)
    return timings


def measure(folder: Path, questions: list[str]) -> dict[str, object]:
    """Load the archive as a server would; time `search` and `ask` through qa's Pipeline,
    question embeddings not cached; compare ANN with exact search on the questions' vectors."""
    from qa.pipeline import Pipeline  # the read side lives in qa; imported only when measuring
    from qa.retrieval import RetrievalConfig, Retriever
    from qa.types import Mode

    embedder = Embedder(resolve_model(None))
    started = time.perf_counter()
    data = load_index(folder)
    load_s = time.perf_counter() - started
    retriever = Retriever(data, RetrievalConfig())

    def search(question: str) -> None:
        retriever.hits(retriever.rank(question, embedder.embed_query(question), "fr", Mode.HYBRID), 5)

    figures: dict[str, object] = {"load_s": round(load_s, 3)}
    searched = _timed(search, questions, lambda: None)
    figures.update(search_p50_ms=round(statistics.median(searched), 1),
                   search_p95_ms=round(_percentile(searched, 0.95), 1))
    started = time.perf_counter()
    pipeline = Pipeline.load(folder, check_seeds=False, embedder=embedder)
    figures["pipeline_start_s"] = round(time.perf_counter() - started, 2)
    asked = _timed(pipeline.ask, questions, pipeline.clear_cache)
    figures.update(query_p50_ms=round(statistics.median(asked), 1), query_p95_ms=round(_percentile(asked, 0.95), 1))
    if pipeline.reader is not None:   # the same `ask` without the reader (QAConfig(use_reader=False))
        fast = pipeline.with_config(replace(pipeline.config, use_reader=False))
        asked = _timed(fast.ask, questions, fast.clear_cache)
        figures.update(no_reader_p50_ms=round(statistics.median(asked), 1),
                       no_reader_p95_ms=round(_percentile(asked, 0.95), 1))
    serving, _ = _rss_mb()   # a server's memory: before exact search reads every vector for recall
    found = total = 0
    for question in questions:
        vector = embedder.embed_query(question)
        _, ann = data.store.search(vector, 10)
        _, exact = exact_search(data.store.vectors(), vector, 10)
        found, total = found + len(set(ann.tolist()) & set(exact.tolist())), total + len(exact)
    figures["recall_at_10"] = round(found / max(1, total), 4)
    rss, peak = _rss_mb()
    figures.update(rss_after_recall_mb=round(rss))
    return {**figures, "rss_mb": round(serving), "peak_rss_mb": round(peak), "questions": len(questions)}


def run_scale(folder: Path, chunks: int, embedder: Embedder, sources: list[Path], cache_dir: Path,
              questions: list[str], kind: str | None = None, progress: bool = True) -> dict[str, object]:
    """Build the archive, then measure it in a child process; the figures, `KEYS` first."""
    built = build_archive(folder, chunks, embedder, sources, cache_dir, kind, progress)
    questions_file = folder.parent / f"{folder.name}.questions.json"
    questions_file.write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
    child = subprocess.run([sys.executable, "-m", "index.scale", str(folder), str(questions_file)],
                           capture_output=True, text=True, check=False)
    if child.returncode != 0:
        raise RuntimeError(f"measuring the archive failed: {child.stderr.strip().splitlines()[-1:]}")
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
    figures = {"chunks": chunks, "index_type": built["index_type"], "build_s": built["build_s"],
               "disk_mb": round(disk), **measured}
    figures.update({k: v for k, v in built.items() if k not in figures})
    return {**{k: figures[k] for k in KEYS}, **{k: v for k, v in figures.items() if k not in KEYS}}


def _child(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING)
    folder, questions = Path(argv[0]), json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    print(json.dumps(measure(folder, questions)))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
