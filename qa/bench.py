"""`python -m qa.bench`: answer latency on this machine, per retrieval mode, in one run.

Prints warm `ask` latency p50/p95 and its split (embed, search, sentence scoring) for hybrid,
dense-only and BM25-only retrieval, the ratio of each to hybrid, and the cold starts of
`python -m qa ask` and of a `python -m index build` that finds nothing changed (process start
to exit, best of 3). Question embeddings are not cached
between repetitions (the cache is cleared), so every ask pays for its embedding. Last, the
translation search (`Vocabulary.nearest`) of the questions' words over a vocabulary at its size
limit (200,000 words, synthetic vectors), reading the most frequent 50,000 as shipped against
reading them all."""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from index.vocabulary import LIMIT, SEARCHED, Vocabulary, content_words
from qa.pipeline import DEFAULT_INDEX_DIR, Pipeline
from qa.types import Mode

__all__ = ["main"]

QUESTIONS = (
    "Combien de conteneurs la Corée du Nord a-t-elle envoyés à la Russie ?",
    "Who met Kim Jong Un in Pyongyang?",
    "Quel est le rôle de Sergueï Choïgou aujourd'hui ?",
    "Why does Russia need North Korean ammunition?",
    "Quand la Corée du Nord a-t-elle lancé un satellite ?",
    "What do analysts say China thinks about the rapprochement?",
    "Quelles sanctions visent la Corée du Nord ?",
    "How many soldiers did North Korea send?",
)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round((len(ordered) - 1) * q / 100)))]


def _measure(pipeline: Pipeline, mode: Mode, rounds: int, reader: bool = True) -> dict[str, list[float]]:
    configured = pipeline.with_config(replace(pipeline.config, mode=mode, use_reader=reader))
    configured.ask(QUESTIONS[0])  # warm-up
    times: dict[str, list[float]] = {"total": [], "embed": [], "search": [], "sentences": []}
    for _ in range(rounds):
        for question in QUESTIONS:
            configured.clear_cache()
            answer = configured.ask(question)
            for key in times:
                times[key].append(answer.timings_ms.get(key, 0.0))
    return times


def _cold_start(command: list[str]) -> float:
    """Seconds from process start to exit of `python -m <command>`."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", *command], check=True, capture_output=True)
    return time.perf_counter() - started


def _cold_starts(index_dir: Path, rounds: int = 3) -> None:
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    commands = {"python -m qa ask": ["qa", "ask", "Qui est John Kirby ?", "--index-dir", str(index_dir)],
                "python -m index build (no change)": ["index", "build", "--index-dir", str(index_dir),
                                                      "--seeds", manifest["seeds_dir"]]}
    for label, command in commands.items():
        best = min(_cold_start(command) for _ in range(rounds))
        print(f"cold start of `{label}` (process start to exit): {best:.2f}s best of {rounds}")


def _translation_search(pipeline: Pipeline, rounds: int) -> None:
    """`Vocabulary.nearest` for the questions' words over LIMIT synthetic words, as shipped and
    reading every word."""
    asked = [(content_words(q), pipeline.question_words(q)) for q in QUESTIONS]
    asked = [(words, vectors) for words, vectors in asked if vectors is not None]
    if not asked:
        print("translation search: the index keeps no vocabulary")
        return
    vectors = np.random.default_rng(0).standard_normal((LIMIT, asked[0][1].shape[1])).astype(np.float32)
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float16)
    words = tuple(f"w{i}" for i in range(LIMIT))
    medians = {}
    for label, vocabulary in (("shipped", Vocabulary(words, vectors)), ("all", Vocabulary(words, vectors, LIMIT))):
        vocabulary.nearest(*asked[0], 0.9)  # builds its search index
        times = []
        for _ in range(rounds):
            for question_words, question_vectors in asked:
                started = time.perf_counter()
                vocabulary.nearest(question_words, question_vectors, 0.9)
                times.append((time.perf_counter() - started) * 1000)
        medians[label] = statistics.median(times)
    print(f"translation search over {LIMIT:,} words: p50 {medians['shipped']:.1f} ms reading the "
          f"{SEARCHED:,} most frequent, {medians['all']:.1f} ms reading all "
          f"({medians['shipped'] / medians['all']:.2f}x)")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(prog="python -m qa.bench", description=__doc__)
    parser.add_argument("--index-dir", type=Path, default=DEFAULT_INDEX_DIR)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the question list")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    pipeline = Pipeline.load(args.index_dir)
    load = time.perf_counter() - started
    results = {mode.value: _measure(pipeline, mode, args.rounds) for mode in (Mode.HYBRID, Mode.DENSE, Mode.BM25)}
    results["hybrid, no reader"] = _measure(pipeline, Mode.HYBRID, args.rounds, reader=False)
    base = statistics.median(results["hybrid"]["total"])
    print(f"{len(QUESTIONS) * args.rounds} asks per mode; pipeline load {load:.1f}s (in process)")
    print(f"{'mode':17} {'p50 ms':>8} {'p95 ms':>8} {'vs hybrid':>9} {'embed p50':>10} {'search p50':>11} {'sentences p50':>14}")
    for mode, times in results.items():
        p50 = statistics.median(times["total"])
        print(f"{mode:17} {p50:8.1f} {_percentile(times['total'], 95):8.1f} {p50 / base:9.2f} "
              f"{statistics.median(times['embed']):10.1f} {statistics.median(times['search']):11.2f} "
              f"{statistics.median(times['sentences']):14.2f}")
    _cold_starts(args.index_dir)
    _translation_search(pipeline, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
