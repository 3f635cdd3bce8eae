"""The fast embedding path: a sentence-transformers folder's compiled copy (OpenVINO), fed by
the same tokenizer (`tokenizers` alone, from the folder's tokenizer.json), with the same
prompts and maximum length, mean pooling and L2 normalisation inside the graph. No torch.

The copy is made from the sentence-transformers model itself (`compile_embedder`, which does
import torch) and cached beside the model folder as `<model>-openvino/`, stamped with the
model's fingerprint and the OpenVINO version."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.compiled import CompiledCopy, compiled_precision, export_openvino, open_compiled
from index.quantize import BUNDLED_SEEDS, QUANTISER_VERSION, calibration_texts, quantise_int8

__all__ = ["FolderInfo", "OpenVinoEncoder", "SharedTokenizer", "compile_embedder", "compiled_copy"]

log = logging.getLogger(__name__)

_MEAN_POOLED = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
                "sentence_transformers.models.Normalize"]


def _json(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class FolderInfo:
    """What a sentence-transformers folder says about itself, read without loading the model."""

    dimension: int
    max_tokens: int
    prompts: dict[str, str] = field(default_factory=dict)
    compilable: bool = False  # Transformer + mean pooling + Normalize, with a tokenizer.json

    @classmethod
    def read(cls, folder: Path) -> FolderInfo | None:
        """None when the folder lacks the files that say it (the model is then loaded to ask)."""
        config, bert = _json(folder / "config.json"), _json(folder / "sentence_bert_config.json")
        pooling, modules = _json(folder / "1_Pooling" / "config.json"), _json(folder / "modules.json")
        if not (isinstance(config, dict) and isinstance(bert, dict) and isinstance(modules, list)):
            return None
        st_config = _json(folder / "config_sentence_transformers.json")
        prompts = st_config.get("prompts", {}) if isinstance(st_config, dict) else {}
        mean = isinstance(pooling, dict) and pooling.get("pooling_mode_mean_tokens") is True and not any(
            v is True for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens")
        kinds = [m.get("type") for m in modules if isinstance(m, dict)]
        try:
            return cls(int(config["hidden_size"]), int(bert.get("max_seq_length") or 512), dict(prompts or {}),
                       mean and kinds == _MEAN_POOLED and (folder / "tokenizer.json").is_file())
        except (KeyError, TypeError, ValueError):
            return None


def compiled_copy(model_path: str, fingerprint: str) -> CompiledCopy:
    folder = Path(model_path)
    return CompiledCopy(folder.with_name(f"{folder.name}-openvino"), f"{fingerprint}/int8-q{QUANTISER_VERSION}")


def compile_embedder(model_path: str, fingerprint: str, calibration: Path = BUNDLED_SEEDS) -> CompiledCopy:
    """Export the sentence-transformers model of `model_path` (encoder, mean pooling, L2 norm)
    to its compiled copy, quantised to int8 on the articles of `calibration` (left in float16,
    saying so, when that folder holds none). Imports torch; run once, at setup or at the first
    build."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_path, device="cpu", local_files_only=True)

    class Pooled(torch.nn.Module):
        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    example = model.tokenizer(["passage: un exemple", "passage: a slightly longer example sentence"],
                              padding=True, return_tensors="pt")
    copy = compiled_copy(model_path, fingerprint)
    info = FolderInfo.read(Path(model_path))
    texts = calibration_texts(calibration, info.prompts if info else {})
    if not texts:
        log.warning("no articles in %s to calibrate the int8 copy on: the copy keeps float16 weights", calibration)
    tokenizer = SharedTokenizer(Path(model_path) / "tokenizer.json")
    quantise = (lambda ov_model: quantise_int8(ov_model, texts, lambda t: tokenizer.encode(t, model.max_seq_length)))
    export_openvino(Pooled(model[0].auto_model), {"input_ids": example["input_ids"],
                                                  "attention_mask": example["attention_mask"]}, copy,
                    transform=quantise if texts else None, weights="int8" if texts else "fp16",
                    calibration_texts=len(texts))
    return copy


class SharedTokenizer:
    """A tokenizer.json loaded once (most of a second for e5's 250k pieces) and shared by the
    embedder and the compiled reader: each call sets its own truncation and padding, under a lock."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(path))
        self._lock = threading.Lock()
        self.pad_id = self._tokenizer.token_to_id("<pad>") or 0

    def encode(self, inputs: list, max_length: int, pad: bool = False, strategy: str = "longest_first") -> list:
        """`tokenizers.Encoding`s of `inputs` (texts, or pairs of texts), cut to `max_length`
        tokens and, with `pad`, padded to the longest."""
        with self._lock:
            self._tokenizer.enable_truncation(max_length, strategy=strategy)
            if pad:
                self._tokenizer.enable_padding(pad_id=self.pad_id, pad_token="<pad>")
            else:
                self._tokenizer.no_padding()
            return self._tokenizer.encode_batch(inputs)


class OpenVinoEncoder:
    """Embeds texts with the compiled copy; texts are batched by token length to limit padding."""

    def __init__(self, copy: CompiledCopy, tokenizer_file: Path, max_tokens: int, batch_size: int = 32,
                 threads: int | None = None) -> None:
        started = time.perf_counter()
        self.tokenizer = SharedTokenizer(tokenizer_file)
        self.max_tokens = max_tokens
        self._model = open_compiled(copy, threads=threads)
        self._request = self._model.create_infer_request()
        self.batch_size = batch_size
        self.precision = compiled_precision(self._model)
        self.weights = copy.weights
        self.seconds = time.perf_counter() - started

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode([text], self.max_tokens)[0].ids)

    def encode(self, texts: list[str], dimension: int, progress: bool = False) -> np.ndarray:
        ids = [e.ids for e in self.tokenizer.encode(texts, self.max_tokens)]
        order = np.argsort([len(i) for i in ids], kind="stable")
        out = np.zeros((len(texts), dimension), dtype=np.float32)
        batches = range(0, len(texts), self.batch_size)
        if progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="Embedding", unit="batch")
        for first in batches:
            rows = order[first : first + self.batch_size]
            width = max(len(ids[r]) for r in rows)
            tokens = np.full((len(rows), width), self.tokenizer.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for i, row in enumerate(rows):
                tokens[i, : len(ids[row])] = ids[row]
                mask[i, : len(ids[row])] = 1
            out[rows] = self._request.infer({"input_ids": tokens, "attention_mask": mask})[0]
        norms = np.linalg.norm(out, axis=1, keepdims=True)  # bf16 arithmetic: re-normalise in fp32
        return out / np.maximum(norms, 1e-12)
