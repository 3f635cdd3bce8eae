"""`python -m index build --ray [local|auto|ray://HOST:PORT]`: the build's embedding spread over
a Ray cluster with Ray Data.

Reading, cleaning, chunking and sentence splitting stay in the build's process, and so does
writing. The texts of new or changed articles go to Ray Data in the build's own groups (one
group per row, so every text has the same batch-mates as in a plain build and gets the same
vector), `map_batches` hands each group to an actor of a fixed pool, and every actor loads the
embedding model once, by the same path as a plain build (the compiled int8 copy, checked
against the build's model fingerprint and weights). The vectors come back in order, one group
at a time, to the same writer; a group whose actor died is retried on a restarted one, and any
failure that remains ends the build whole, the previous index left serving."""

from __future__ import annotations

import json
import logging
import os
import socket
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.embedder import Embedder, ModelSpec, resolve_model

__all__ = ["RayBuildError", "RayEmbedder", "RaySettings"]

log = logging.getLogger(__name__)

_LOAD_FAILED = "the embedding model could not be loaded on a Ray worker"
RESTARTS = 3  # how often a dead actor is restarted (and its group retried) before the build fails


class RayBuildError(RuntimeError):
    """The Ray part of a build failed; the message says why in one sentence, with the fix."""


@dataclass(frozen=True)
class RaySettings:
    address: str = "local"       # "local" (a Ray started here), "auto" (the running cluster), or ray://HOST:PORT
    actors: int | None = None    # None: one per CPU of the cluster (CPU actors), or per GPU
    gpus_per_actor: float = 0.0  # > 0: actors ask for GPUs and embed with sentence-transformers on CUDA
    cpus_per_actor: float = 1.0


class _EmbedActor:
    """One Ray actor: loads the model once, then embeds one group of texts per call."""

    def __init__(self, model_id: str, fingerprint: str, weights: str, threads: int, on_gpu: bool) -> None:
        try:
            spec = resolve_model(model_id)
            if spec.fingerprint != fingerprint:
                raise ValueError(f"this worker's model has other weights ({spec.fingerprint[:12]}, the build's "
                                 f"{fingerprint[:12]}): install the same project version on every worker")
            if on_gpu:
                self.embedder = Embedder(spec, device="cuda")  # a device other than the CPU runs PyTorch
            else:
                self.embedder = Embedder(spec, threads=threads)
                if self.embedder.weights != weights:
                    raise ValueError(f"this worker embeds with {self.embedder.weights} weights, the build with "
                                     f"{weights}: run `python -m qa.compile` on every worker")
            self.description = json.dumps(self.embedder.description)
        except Exception as err:  # the driver sees this sentence, not a worker's traceback
            raise RuntimeError(f"{_LOAD_FAILED} ({os.uname().nodename}): {err}") from None

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = [np.ascontiguousarray(self.embedder.embed_passages([str(t) for t in texts]), dtype=np.float32)
                   for texts in batch["texts"]]
        return {"group": batch["group"], "rows": np.asarray([len(v) for v in vectors]),
                "vectors": np.asarray([v.tobytes() for v in vectors], dtype=object),
                "description": np.asarray([self.description] * len(vectors), dtype=object)}


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast on a HOST:PORT (or ray://HOST:PORT) nobody listens at: Ray itself waits for
    minutes before it gives up on an address."""
    if address in ("local", "auto"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"not a HOST:PORT address ({address!r})")
    with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
        pass


def _connect(address: str) -> Any:
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # gRPC's notes about forks, on every Ray client call
    try:
        import ray
    except ImportError:
        raise RayBuildError("--ray needs the `ray` extra: install it with `pip install -e '.[ray]'`.") from None
    try:
        _check_reachable(address)
        if address == "local":
            ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (OSError, RuntimeError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else err.__class__.__name__
        raise RayBuildError(f"cannot reach the Ray cluster at {address!r} ({first[:200]}); start one with "
                            "`ray start --head` and pass its address, or use `--ray local`.") from None
    return ray


class RayEmbedder:
    """Stands in for the build's `Embedder`: the same model, dimension, prompts and path (asked of
    a local `Embedder`, which is not loaded unless nothing is embedded), with `embed_groups`
    running on the cluster."""

    def __init__(self, spec: ModelSpec, settings: RaySettings) -> None:
        # GPU actors embed with sentence-transformers (fp32); CPU ones with the compiled copy
        self.local = Embedder(spec, path="sentence-transformers" if settings.gpus_per_actor > 0 else "auto")
        self.spec, self.settings = spec, settings
        self.path = self.local.path
        self._description: dict[str, Any] | None = None
        self._actors = 0

    dimension = property(lambda self: self.local.dimension)
    prompts = property(lambda self: self.local.prompts)
    weights = property(lambda self: self.local.weights)

    @property
    def description(self) -> dict[str, Any]:
        """What the manifest records: the actors' embedding path, and that Ray ran it."""
        found = dict(self._description or self.local.description)
        return {**found, "built_with": "ray", "ray_address": self.settings.address, "ray_actors": self._actors}

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Words for the vocabulary: few and short, embedded here rather than on the cluster."""
        return self.local.embed_queries(texts)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """One group's vectors (a Ray start for it alone: the build uses `embed_groups`)."""
        return list(self.embed_groups([texts]))[0] if texts else np.zeros((0, self.dimension), dtype=np.float32)

    def embed_groups(self, groups: list[list[str]]) -> Iterator[np.ndarray]:
        """The vectors of each group of texts, in order, as the cluster finishes them."""
        if not groups:
            return
        ray = _connect(self.settings.address)
        try:
            yield from self._run(ray, groups)
        except RayBuildError:
            raise
        except Exception as err:  # a Ray error wraps the worker's; keep its last meaningful line
            lines = [line.strip() for line in str(err).splitlines() if line.strip()] or [err.__class__.__name__]
            loading = [line[line.index(_LOAD_FAILED):] for line in lines
                       if _LOAD_FAILED in line and not line.startswith("raise")]
            cause = loading[-1] if loading else lines[-1]
            raise RayBuildError(f"the Ray build failed and nothing was written: {cause[:300]}") from None
        finally:
            ray.shutdown()

    def _pool_size(self, ray: Any) -> int:
        if self.settings.actors:
            return self.settings.actors
        resources = ray.cluster_resources()
        if self.settings.gpus_per_actor > 0:
            return max(1, int(resources.get("GPU", 0) / self.settings.gpus_per_actor))
        return max(1, int(resources.get("CPU", 1) / self.settings.cpus_per_actor))

    def _run(self, ray: Any, groups: list[list[str]]) -> Iterator[np.ndarray]:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False  # the build's own bar counts the texts written
        self._actors = self._pool_size(ray)
        threads = max(1, int(self.settings.cpus_per_actor))
        log.info("embedding %d groups on %d Ray actors at %s", len(groups), self._actors, self.settings.address)
        rows = ray.data.from_items([{"group": i, "texts": texts} for i, texts in enumerate(groups)],
                                   override_num_blocks=len(groups))
        with warnings.catch_warnings():  # Ray 2.60 deprecates passing actor options this way, with no other yet
            warnings.simplefilter("ignore", DeprecationWarning)
            out = rows.map_batches(
                _EmbedActor, batch_size=1, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=self._actors),
                fn_constructor_kwargs={"model_id": self.spec.model_id, "fingerprint": self.spec.fingerprint,
                                       "weights": self.weights, "threads": threads,
                                       "on_gpu": self.settings.gpus_per_actor > 0},
                num_cpus=self.settings.cpus_per_actor, num_gpus=self.settings.gpus_per_actor or None,
                max_restarts=RESTARTS, max_task_retries=RESTARTS)
        expected = 0
        for row in out.iter_rows():
            if int(row["group"]) != expected:
                raise RayBuildError(f"Ray returned group {int(row['group'])} where {expected} was due; "
                                    "nothing was written.")
            self._description = self._description or json.loads(str(row["description"]))
            vectors = np.frombuffer(row["vectors"], dtype=np.float32).reshape(int(row["rows"]), self.dimension)
            expected += 1
            yield vectors
        if expected != len(groups):
            raise RayBuildError(f"Ray returned {expected} of {len(groups)} groups; nothing was written.")
