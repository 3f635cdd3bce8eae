"""The reader's compiled copy (OpenVINO): its whole forward, token ids and mask in, relevance
and start/end logits out, with no torch at query time.

It is made from the shipped weights (`qa/reader/`) laid over the converted model, by the torch
reader itself (`compile_reader`, which imports torch), and cached beside the model as
`reader-openvino-<key>/`, the key and stamp tied to the model's fingerprint and the sha256 of
the reader's weights: a retrained reader gets a new copy. It runs in the CPU's default precision
(bf16 where the CPU has it): against float32 it reads three sentences in 24 ms instead of 50,
with the same span for 98 % of the seed sentences and the same report-half figures to the third
decimal (containment, citations, abstention: docs/EVALUATION.md)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from index.compiled import CompiledCopy, export_openvino, open_compiled
from index.integrity import file_sha256

__all__ = ["CompiledReaderNet", "compile_reader", "reader_copy"]

log = logging.getLogger(__name__)

PRECISION: str | None = None   # OpenVINO's inference precision hint; None: the CPU's default


def reader_copy(model_path: str, fingerprint: str, weights: Path) -> CompiledCopy:
    """Where the compiled reader for this model and these weights lives (it may not exist yet)."""
    source = f"{fingerprint}/reader-{file_sha256(weights)}"
    key = hashlib.sha256(source.encode()).hexdigest()[:12]
    return CompiledCopy(Path(model_path).parent / f"reader-openvino-{key}", source)


def compile_reader(reader, copy: CompiledCopy) -> CompiledCopy:
    """Export the torch `reader` (a `qa.reader.Reader` with its torch net) to `copy`."""
    from qa.reader import encode_pairs

    enc = encode_pairs(reader.tokenizer, ["Qui est John Kirby ?"] * 2,
                       ["John Kirby est le porte-parole.", "Le Pentagone a publié un long communiqué hier soir."],
                       reader.spec.max_length)
    import torch

    example = {"input_ids": torch.from_numpy(enc["input_ids"]), "attention_mask": torch.from_numpy(enc["attention_mask"])}
    export_openvino(reader.net, example, copy, precision=PRECISION)
    return copy


class CompiledReaderNet:
    """The compiled reader: `(input_ids, attention_mask)` int64 arrays -> relevance, start, end."""

    def __init__(self, copy: CompiledCopy) -> None:
        self._model = open_compiled(copy, PRECISION)
        self._request = self._model.create_infer_request()
        self.copy = copy

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        out = self._request.infer({"input_ids": input_ids.astype(np.int64), "attention_mask": attention_mask.astype(np.int64)})
        relevance, start, end = (np.asarray(out[i], dtype=np.float32) for i in range(3))
        return relevance, start, end
