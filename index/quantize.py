"""Static int8 quantisation (NNCF) of the embedder's compiled copy, calibrated on the bundled
seed articles: their chunks and sentences as passages, and sentences as queries, through the
same tokenizer and prompts as a build.

Measured on this 2-core CPU (`python -m index.bench --quick`): embedding about 1.4x faster than
the copy in the CPU's default precision (bf16 here), with a mean cosine to PyTorch fp32 of 0.998
on French and English dev-set passages (min 0.994). The calibration is deterministic, so two
setups of the same model make the same copy."""

from __future__ import annotations

import logging
from itertools import chain, zip_longest
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BUNDLED_SEEDS", "QUANTISER_VERSION", "calibration_texts", "quantise_int8"]

log = logging.getLogger(__name__)

QUANTISER_VERSION = 2  # bump when calibration or settings change, so cached copies are remade
BUNDLED_SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SAMPLES = 300


def calibration_texts(seeds: Path, prompts: dict[str, str], limit: int = SAMPLES) -> list[str]:
    """Up to `limit` prompted texts from the articles in `seeds`, taken in turn from each
    article so that every one is represented; empty when the folder holds no article."""
    from index.build import passage_text
    from index.chunking import ChunkConfig, chunk_document
    from index.documents import read_corpus
    from index.sentences import document_sentences
    from index.sources import ArticleError

    try:
        docs = read_corpus(seeds).documents
    except ArticleError as err:
        log.warning("no calibration texts: %s", err)
        return []
    passage, query = prompts.get("passage", ""), prompts.get("query", "")
    per_doc = []
    for doc in docs:
        sentences = [s.text for s in document_sentences(doc)]
        per_doc.append([passage + passage_text(doc, c) for c in chunk_document(doc, ChunkConfig())]
                       + [passage + s for s in sentences[::2]] + [query + s for s in sentences[1::2]])
    interleaved = [t for t in chain.from_iterable(zip_longest(*per_doc)) if t]
    return interleaved[:limit]


def quantise_int8(model: Any, texts: list[str], tokenize: Any) -> Any:
    """`model` (an OpenVINO model with `input_ids` and `attention_mask` inputs) with int8
    weights and activations, calibrated on `texts`, one at a time as a build would pad them;
    `tokenize(texts)` gives `tokenizers.Encoding`s."""
    import nncf

    samples = []
    for encoding in tokenize(texts):
        samples.append({"input_ids": np.asarray([encoding.ids], dtype=np.int64),
                        "attention_mask": np.asarray([encoding.attention_mask], dtype=np.int64)})
    log.info("quantising the embedder to int8 on %d calibration texts", len(samples))
    # The embedding tables stay float16: quantised, OpenVINO unpacks the 250k-row word table to
    # float32 at load (+150 MB of memory) for no speed, and the vectors come out the same.
    return nncf.quantize(model, nncf.Dataset(samples), model_type=nncf.ModelType.TRANSFORMER,
                         subset_size=len(samples), ignored_scope=nncf.IgnoredScope(types=["Gather"], validate=False))
