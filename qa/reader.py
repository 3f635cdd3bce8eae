"""The reader: multilingual-e5-small fine-tuned to read a question and one sentence, and say
whether the sentence answers it (a relevance logit) and where the answer is (start/end logits
over the sentence's tokens, SQuAD 2.0 style, the first token standing for "no answer here").

Only the top encoder layers and the two small heads are trained (`python -m eval.train
reader`); they ship in `qa/reader/` (float16, a few tens of MB) and are laid over the converted
embedding model at load, which supplies the embedding matrix and the lower layers unchanged.
The reader runs on the few best candidate sentences of each question only."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from index.analyzer import fold
from index.fast_embed import SharedTokenizer

__all__ = ["READER_DIR", "Reading", "ReaderSpec", "Reader", "encode_pairs", "best_span"]

log = logging.getLogger(__name__)

READER_DIR = Path(__file__).with_name("reader")
WEIGHTS = "reader.safetensors"
CONFIG = "reader.json"
QUERY, PASSAGE = "query: ", "passage: "
_WORD = re.compile(r"\w", re.UNICODE)
_EDGE = " \t\n,;:.!?()[]«»\"“”'’-–—"


@dataclass(frozen=True)
class ReaderSpec:
    """What the shipped reader records about itself (`reader.json`)."""

    base_fingerprint: str
    frozen_layers: int
    max_length: int = 160
    max_answer_tokens: int = 24
    combination: dict = field(default_factory=dict)   # qa.reading.Combination's fields
    evidence: dict = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path = READER_DIR) -> ReaderSpec | None:
        path = folder / CONFIG
        if not (path.is_file() and (folder / WEIGHTS).is_file()):
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["base_fingerprint"], int(data["frozen_layers"]), int(data["max_length"]),
                   int(data["max_answer_tokens"]), data.get("combination", {}), data.get("evidence", {}))

    def save(self, folder: Path = READER_DIR) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG).write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Reading:
    """The reader's view of one (question, sentence) pair; offsets are relative to the sentence."""

    relevance: float                 # logit: the sentence answers the question
    span: tuple[int, int] | None     # best answer span that is not the question's own words
    span_margin: float               # best span's score minus the "no answer" score


def _encode_raw(tokenizer: SharedTokenizer, questions: list[str], sentences: list[str], max_length: int) -> dict:
    """`encode_pairs` with the `tokenizers` library alone (the compiled reader's: no transformers)."""
    encs = tokenizer.encode([(QUERY + q, PASSAGE + s) for q, s in zip(questions, sentences)], max_length, pad=True)
    offsets = [[(a - len(PASSAGE), b - len(PASSAGE)) if ids == 1 and b > len(PASSAGE) else None
                for ids, (a, b) in zip(e.sequence_ids, e.offsets)] for e in encs]
    return {"input_ids": np.array([e.ids for e in encs], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64), "offsets": offsets}


def encode_pairs(tokenizer, questions: list[str], sentences: list[str], max_length: int) -> dict:
    """Token ids for (question, sentence) pairs, with each token's character offsets in its
    sentence (None for question and special tokens). `tokenizer`: a transformers tokenizer, or
    a `SharedTokenizer` over the same tokenizer.json (the same ids and offsets)."""
    if isinstance(tokenizer, SharedTokenizer):
        return _encode_raw(tokenizer, questions, sentences, max_length)
    enc = tokenizer([QUERY + q for q in questions], [PASSAGE + s for s in sentences], truncation="longest_first",
                    max_length=max_length, padding=True, return_offsets_mapping=True, return_tensors="np")
    offsets = []
    for row in range(len(sentences)):
        ids = enc.sequence_ids(row)
        offsets.append([(a - len(PASSAGE), b - len(PASSAGE)) if ids[t] == 1 and b > len(PASSAGE) else None
                        for t, (a, b) in enumerate(enc["offset_mapping"][row])])
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "offsets": offsets}


def _snap(sentence: str, start: int, end: int) -> tuple[int, int]:
    """Widen to whole words, then trim spaces and punctuation at the edges."""
    start = max(0, start)
    while start > 0 and _WORD.match(sentence[start - 1]) and _WORD.match(sentence[start]):
        start -= 1
    while end < len(sentence) and end > 0 and _WORD.match(sentence[end - 1]) and _WORD.match(sentence[end]):
        end += 1
    while start < end and sentence[start] in _EDGE:
        start += 1
    while end > start and sentence[end - 1] in _EDGE:
        end -= 1
    return start, end


def _echoes(answer: str, question: str) -> bool:
    """Every word of the answer is already in the question."""
    words = re.findall(r"\w+", fold(answer))
    asked = set(re.findall(r"\w+", fold(question)))
    return not words or all(w in asked for w in words)


def best_span(sentence: str, question: str, start: np.ndarray, end: np.ndarray, offsets: list,
              max_tokens: int) -> tuple[tuple[int, int] | None, float]:
    """The best-scoring span of sentence tokens that is not the question's own words, and its
    score minus the "no answer" score (first token)."""
    tokens = [t for t, o in enumerate(offsets) if o is not None and o[1] > o[0]]
    null = float(start[0] + end[0])
    if not tokens:
        return None, -1e4
    order = np.argsort(-start[tokens])[:12]
    pairs = []
    for i in order:
        s = tokens[i]
        for e in tokens[i : i + max_tokens]:
            pairs.append((float(start[s] + end[e]), s, e))
    for score, s, e in sorted(pairs, reverse=True):
        span = _snap(sentence, offsets[s][0], offsets[e][1])
        if span[1] > span[0] and not _echoes(sentence[span[0] : span[1]], question):
            return span, score - null
    return None, -1e4


class Reader:
    """Loads the base encoder and the shipped layers once; `read` is thread-safe under the
    caller's lock. `net` is the torch `ReaderNet` (the reference) or its compiled copy
    (`qa.reader_fast.CompiledReaderNet`, numpy in and out, no torch)."""

    def __init__(self, net, tokenizer, spec: ReaderSpec) -> None:
        self.net = net.eval() if hasattr(net, "eval") else net
        self.tokenizer = tokenizer
        self.spec = spec

    @property
    def compiled(self) -> bool:
        return not hasattr(self.net, "eval")

    @classmethod
    def load(cls, model_path: str, spec: ReaderSpec, folder: Path = READER_DIR) -> Reader:
        """The converted model with the shipped layers and heads of `folder` laid over it."""
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer

        from qa.reader_net import ReaderNet

        net = ReaderNet(AutoModel.from_pretrained(model_path))
        shipped = {k: v.float() for k, v in load_file(str(folder / WEIGHTS)).items()}
        missing = set(shipped) - set(net.state_dict())
        if missing:
            raise ValueError(f"The reader in {folder} does not fit this model ({len(missing)} unknown tensors); "
                             "retrain it with `python -m eval.train`.")
        net.load_state_dict(shipped, strict=False)
        return cls(net, AutoTokenizer.from_pretrained(model_path), spec)

    @classmethod
    def shipped(cls, model_path: str, fingerprint: str, folder: Path = READER_DIR, compiled: bool = True,
                tokenizer: SharedTokenizer | None = None) -> Reader | None:
        """The shipped reader, or None (with a log line) when absent or made for other weights;
        `compiled`: its compiled copy when it can be used (else the torch reader)."""
        spec = ReaderSpec.load(folder)
        if spec is None:
            log.info("no reader in %s: short answers come from patterns", folder)
            return None
        if spec.base_fingerprint != fingerprint:
            log.warning("the reader in %s was trained on other embedding weights; it is not used", folder)
            return None
        return (cls.load_compiled(model_path, fingerprint, spec, folder, tokenizer) if compiled else None) or \
            cls.load(model_path, spec, folder)

    @classmethod
    def load_compiled(cls, model_path: str, fingerprint: str, spec: ReaderSpec, folder: Path = READER_DIR,
                      tokenizer: SharedTokenizer | None = None) -> Reader | None:
        """The reader's compiled copy, made once (with torch) when missing or stale; None, with a
        log line saying why, when it cannot be used (the torch reader is then loaded).
        `tokenizer`: the embedder's, when it has loaded the same tokenizer.json."""
        from qa.reader_fast import CompiledReaderNet, compile_reader, reader_copy

        try:
            copy = reader_copy(model_path, fingerprint, folder / WEIGHTS)
            if not copy.is_current():
                log.warning("compiling the reader's fast copy once into %s (about a minute)", copy.folder)
                compile_reader(cls.load(model_path, spec, folder), copy)
            net = CompiledReaderNet(copy)
        except Exception as err:  # any failure of the fast path falls back to the reference
            log.warning("reading with the torch reader: its compiled copy could not be used (%s: %s)",
                        err.__class__.__name__, str(err)[:200])
            return None
        log.info("reading with the compiled reader in %s", copy.folder)
        return cls(net, tokenizer or SharedTokenizer(Path(model_path) / "tokenizer.json"), spec)

    def read(self, question: str, sentences: list[str]) -> list[Reading]:
        if not sentences:
            return []
        enc = encode_pairs(self.tokenizer, [question] * len(sentences), sentences, self.spec.max_length)
        relevance, start, end = self.forward(enc["input_ids"], enc["attention_mask"])
        readings = []
        for row, sentence in enumerate(sentences):
            span, margin = best_span(sentence, question, start[row], end[row], enc["offsets"][row],
                                     self.spec.max_answer_tokens)
            readings.append(Reading(float(relevance[row]), span, margin))
        return readings

    def forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Relevance logits and start/end logits for a batch of encoded pairs, as numpy arrays."""
        if self.compiled:
            return self.net(input_ids, attention_mask)
        import torch

        with torch.inference_mode():
            out = self.net(torch.from_numpy(input_ids), torch.from_numpy(attention_mask))
        return tuple(t.float().numpy() for t in out)
