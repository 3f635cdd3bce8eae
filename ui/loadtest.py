"""`python -m ui.loadtest`: send N questions at once to a running `python -m ui` through its `/ask`
API and print errors, p50/p95 latency and total time. Bounded: each request has a timeout and the
whole run a deadline, after which unfinished requests count as errors and the run stops."""

from __future__ import annotations

import argparse
import logging
import os
import queue
import sys
import time
from concurrent.futures import ALL_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

__all__ = ["main", "Result", "percentile"]

log = logging.getLogger(__name__)

QUESTIONS = (
    "Combien de conteneurs la Corée du Nord a-t-elle envoyés à la Russie ?",
    "Who met Kim Jong Un in Pyongyang?",
    "How many containers of munitions did North Korea send to Russia?",
    "Qui a rencontré Kim Jong Un à Pyongyang ?",
    "What does North Korea want from Russia in exchange?",
    "Pourquoi la Russie se rapproche-t-elle de la Corée du Nord ?",
    "When did Sergei Shoigu visit Pyongyang?",
    "Quelles sanctions visent la Corée du Nord ?",
    "What did John Kirby say about the arms transfers?",
    "Que pense la Chine du rapprochement entre Moscou et Pyongyang ?",
    "Which territories in Ukraine did North Korea recognise?",
    "Quel rôle joue l’Union soviétique dans l’histoire de ces liens ?",
    "Did Kim Jong Un and Putin exchange letters?",
    "Combien de conteneurs d’armes selon le ministre sud-coréen de la Défense ?",
    "What technologies does Kim Jong Un want from Russia?",
    "Quelle est la position des États-Unis sur les livraisons d’armes ?",
    "Who is Shin Won-sik?",
    "Pyongyang a-t-il envoyé des travailleurs dans l’Ukraine occupée ?",
    "Why is Russia isolated internationally?",
    "Qu’a dit Natalia Matiaszczyk sur cette relation ?",
)


@dataclass(frozen=True)
class Result:
    question: str
    seconds: float
    error: str | None = None


def percentile(values: list[float], q: float) -> float:
    """The `q`-th percentile (0-100) of `values`, interpolating linearly; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * max(0.0, min(100.0, q)) / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ui.loadtest", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:7860/", help="the running server")
    parser.add_argument("--n", type=int, default=40, help="number of questions (at most 1000)")
    parser.add_argument("--concurrency", type=int, default=40, help="simultaneous clients (at most 100)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per request")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds allowed for the whole run")
    parser.add_argument("--k", type=int, default=5, help="passages per question")
    return parser


def _ask(clients: queue.Queue[Any], question: str, k: int, timeout: float) -> Result:
    """One question through one client (each client is one session, like one browser tab)."""
    client = clients.get(timeout=timeout)
    started = time.perf_counter()
    try:
        job = client.submit(question, k, [], "en", api_name="/ask")
        answer_html = job.result(timeout=timeout)[0]
        error = None if 'class="qa-card"' in answer_html or "qa-abstain" in answer_html else "no source card"
        return Result(question, time.perf_counter() - started, error)
    except TimeoutError:
        return Result(question, time.perf_counter() - started, f"no answer within {timeout:g} s")
    except Exception as err:  # noqa: BLE001 - any failure of a request is a result to report
        return Result(question, time.perf_counter() - started, f"{type(err).__name__}: {err}")
    finally:
        clients.put(client)


def _clients(url: str, count: int) -> queue.Queue[Any]:
    from gradio_client import Client

    pool: queue.Queue[Any] = queue.Queue()
    for _ in range(count):
        client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
        client.view_api(print_info=False, return_format="dict")  # fetched lazily otherwise: not a question's cost
        pool.put(client)
    return pool


def run(url: str, n: int, concurrency: int, timeout: float, deadline: float, k: int) -> tuple[list[Result], float]:
    """Ask `n` questions with `concurrency` clients at once; returns the results and the seconds the
    asking took. Questions unfinished by `deadline` count as errors."""
    clients = _clients(url, concurrency)
    questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(n)]
    started = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="loadtest")
    futures = {pool.submit(_ask, clients, q, k, timeout): q for q in questions}
    done, pending = wait(futures, timeout=deadline, return_when=ALL_COMPLETED)
    elapsed = time.perf_counter() - started
    pool.shutdown(wait=False, cancel_futures=True)
    results = [f.result() for f in done] + [Result(futures[f], deadline, "deadline passed") for f in pending]
    while not clients.empty():
        clients.get().close()
    return results, elapsed


def _report(results: list[Result], total: float) -> str:
    ok = sorted(r.seconds for r in results if r.error is None)
    errors = [r for r in results if r.error is not None]
    lines = [f"questions: {len(results)}  ok: {len(ok)}  errors: {len(errors)}"]
    lines += [f"  error: {r.error} ({r.question})" for r in errors[:10]]
    if ok:
        lines.append(f"latency p50 {percentile(ok, 50):.2f} s  p95 {percentile(ok, 95):.2f} s  "
                     f"max {ok[-1]:.2f} s")
    lines.append(f"total {total:.2f} s  ({len(results) / total if total else 0:.1f} questions/s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    if not (1 <= args.n <= 1000 and 1 <= args.concurrency <= 100):
        print("error: --n must be 1-1000 and --concurrency 1-100.", file=sys.stderr)
        return 2
    try:
        results, total = run(args.url, args.n, min(args.concurrency, args.n), args.timeout, args.deadline, args.k)
    except Exception as err:  # noqa: BLE001 - the server may be down: one clear sentence
        print(f"error: cannot reach {args.url}: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    print(_report(results, total))
    return 0 if all(r.error is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
