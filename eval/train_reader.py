"""Train the reader (qa.reader) on the candidates of the tune-half and seed questions.

Pairs are (question, candidate sentence): the ranker's best few candidates of each question and
the sentence holding its gold answer; a pair is relevant when the sentence holds the answer,
and then its answer span is the target (the first token otherwise, SQuAD 2.0 style). The
embedding matrix and the lowest layers stay as converted; the rest is fine-tuned. Two readers
trained on halves of the questions (split by article) read the other half, so that what is
fitted on the readings (eval.train) sees readings of questions the reader never trained on."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

import numpy as np

from eval.metrics import Gold
from qa.reader import Reader, Reading, ReaderSpec, encode_pairs

__all__ = ["Pair", "Prepared", "make_pairs", "prepare", "train", "read_probes", "TRAIN_TOP", "FROZEN_LAYERS"]

log = logging.getLogger("eval.train")

TRAIN_TOP = 3        # candidates per question used as training pairs
FROZEN_LAYERS = 8    # lowest encoder layers kept as converted (their output is cached in training)
EPOCHS = 3
BATCH = 16
LR, HEAD_LR = 2e-4, 1e-3
MAX_LENGTH = 160
SEED = 0


@dataclass(frozen=True)
class Pair:
    probe: int                   # which question (index into the probes)
    fold: int                    # 0 or 1: the half of the questions, split by article
    question: str
    sentence: str
    relevant: bool
    span: tuple[int, int] | None  # answer offsets inside the sentence


def fold_of_key(key: str) -> int:
    """0 or 1: the half a question (by its article, else its id) or a cloze sentence's article is in."""
    return hashlib.sha256(key.encode("utf-8")).digest()[0] % 2


def fold_of(q) -> int:
    return fold_of_key(q.gold.docs[0] if q.gold.docs else q.id)


def _span(text: str, doc_id: str, start: int, gold: Gold) -> tuple[int, int] | None:
    for s in gold.answer_spans:
        if s.doc == doc_id and s.start >= start and s.end <= start + len(text):
            return s.start - start, s.end - start
    folded = text.casefold()
    for answer in gold.answers:
        at = folded.find(answer.casefold()) if answer.strip() else -1
        if at >= 0:
            return at, at + len(answer)
    return None


def _gold_rows(pipeline, gold: Gold) -> list[int]:
    sentences = pipeline.data.sentences
    return [i for i, s in enumerate(sentences) for a in gold.answer_spans
            if s.doc_id == a.doc and s.start <= a.start and a.end <= s.end]


def make_pairs(probes) -> list[Pair]:
    pairs = []
    for n, p in enumerate(probes):
        sentences = p.pipeline.data.sentences
        rows = [s.index for s in p.found.scored[:TRAIN_TOP]]
        if p.question.gold.answerable:
            rows += [r for r in _gold_rows(p.pipeline, p.question.gold) if r not in rows]
        for row in rows:
            s = sentences[row]
            span = _span(s.text, s.doc_id, s.start, p.question.gold) if p.question.gold.answerable else None
            relevant = p.question.gold.answerable and (span is not None or any(
                label for c, label in zip(p.found.scored, p.labels) if c.index == row))
            pairs.append(Pair(n, fold_of(p.question), p.question.question, s.text, relevant,
                              span if relevant else None))
    return pairs


def _targets(offsets: list, span: tuple[int, int] | None) -> tuple[int, int]:
    if span is None:
        return 0, 0
    start = next((t for t, o in enumerate(offsets) if o is not None and o[0] <= span[0] < o[1]), None)
    end = next((t for t, o in reversed(list(enumerate(offsets))) if o is not None and o[0] < span[1] <= o[1]), None)
    if start is None or end is None or end < start:
        return 0, 0
    return start, end


@dataclass(frozen=True)
class Prepared:
    """Every pair tokenised, with its targets and the (frozen) lower layers' output cached."""

    model_path: str
    hidden: list        # per pair: tensor [tokens, hidden] entering layer FROZEN_LAYERS
    relevant: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


def prepare(pairs: list[Pair], model_path: str) -> Prepared:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from qa.reader_net import ReaderNet, lower_states

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    net = ReaderNet(AutoModel.from_pretrained(model_path)).eval()
    hidden: list = [None] * len(pairs)
    starts, ends = np.zeros(len(pairs), dtype=np.int64), np.zeros(len(pairs), dtype=np.int64)
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i].question) + len(pairs[i].sentence))
    for at in range(0, len(order), 32):
        rows = order[at : at + 32]
        enc = encode_pairs(tokenizer, [pairs[i].question for i in rows], [pairs[i].sentence for i in rows], MAX_LENGTH)
        mask = torch.from_numpy(enc["attention_mask"])
        states = lower_states(net, torch.from_numpy(enc["input_ids"]), mask, FROZEN_LAYERS)
        for k, i in enumerate(rows):
            hidden[i] = states[k, : int(mask[k].sum())]
            starts[i], ends[i] = _targets(enc["offsets"][k], pairs[i].span)
    return Prepared(model_path, hidden, np.array([p.relevant for p in pairs], dtype=np.float32), starts, ends)


def _batches(prepared: Prepared, rows: list[int], rng: np.random.Generator):
    """Batches of pairs of similar length (less padding), in random order."""
    import torch

    by_length = sorted(rows, key=lambda i: (len(prepared.hidden[i]), rng.random()))
    batches = [by_length[at : at + BATCH] for at in range(0, len(by_length), BATCH)]
    for n in rng.permutation(len(batches)):
        chunk = batches[n]
        width = max(len(prepared.hidden[i]) for i in chunk)
        hidden = torch.zeros(len(chunk), width, prepared.hidden[chunk[0]].shape[1])
        mask = torch.zeros(len(chunk), width, dtype=torch.long)
        for k, i in enumerate(chunk):
            hidden[k, : len(prepared.hidden[i])] = prepared.hidden[i]
            mask[k, : len(prepared.hidden[i])] = 1
        yield (hidden, mask, torch.from_numpy(prepared.relevant[chunk]), torch.from_numpy(prepared.starts[chunk]),
               torch.from_numpy(prepared.ends[chunk]))


def train(prepared: Prepared, rows: list[int], epochs: int = EPOCHS):
    """A ReaderNet whose upper layers and heads are fine-tuned on the pairs `rows`."""
    import torch
    from transformers import AutoModel, get_linear_schedule_with_warmup

    from qa.reader_net import ReaderNet, upper_forward

    torch.manual_seed(SEED)
    net = ReaderNet(AutoModel.from_pretrained(prepared.model_path))
    for name, param in net.named_parameters():
        param.requires_grad = trainable(name)
    heads = [p for n, p in net.named_parameters() if not n.startswith("encoder.")]
    body = [p for n, p in net.named_parameters() if n.startswith("encoder.") and p.requires_grad]
    optimiser = torch.optim.AdamW([{"params": body, "lr": LR}, {"params": heads, "lr": HEAD_LR}], weight_decay=0.01)
    steps = epochs * ((len(rows) + BATCH - 1) // BATCH)
    schedule = get_linear_schedule_with_warmup(optimiser, steps // 10, steps)
    bce, ce = torch.nn.BCEWithLogitsLoss(), torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(SEED)
    net.train()
    started = time.perf_counter()
    for epoch in range(epochs):
        total = 0.0
        for hidden, mask, relevant, start, end in _batches(prepared, rows, rng):
            logit, start_logits, end_logits = upper_forward(net, hidden, mask, FROZEN_LAYERS)
            loss = bce(logit, relevant) + (ce(start_logits, start) + ce(end_logits, end)) / 2
            loss.backward()
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            total += float(loss.detach()) * len(hidden)
        log.warning("reader epoch %d/%d: loss %.3f (%d pairs, %.0fs)", epoch + 1, epochs, total / len(rows),
                    len(rows), time.perf_counter() - started)
    return net.eval()


def trainable(name: str) -> bool:
    """Heads and the encoder layers above the frozen ones; never the embedding matrix."""
    if not name.startswith("encoder."):
        return True
    if ".layer." in name:
        return int(name.split(".layer.")[1].split(".")[0]) >= FROZEN_LAYERS
    return "pooler" not in name and "embeddings" not in name


def read_probes(net, probes, top: int) -> list[list[Reading]]:
    """The readings of each probe's `top` best candidates, as the shipped reader would read them."""
    from transformers import AutoTokenizer

    reader = Reader(net, AutoTokenizer.from_pretrained(net.encoder.name_or_path),
                    ReaderSpec("", FROZEN_LAYERS, MAX_LENGTH))
    return [reader.read(p.question.question, [p.pipeline.data.sentences[s.index].text for s in p.found.scored[:top]])
            for p in probes]
