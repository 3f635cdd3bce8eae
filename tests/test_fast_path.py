"""The compiled fast path (OpenVINO) against its reference (sentence-transformers / torch), on
the real model and the real seeds; and the cold-start paths, which must not import torch."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index import Embedder, IndexData, passage_text
from index.chunking import ChunkConfig, chunk_document
from index.compiled import CompiledCopy
from index.embedder import EmbeddingPath
from index.sentences import document_sentences
from index.documents import read_corpus
from qa.reader import READER_DIR, WEIGHTS, Reader
from qa.reader_fast import reader_copy

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ("Qui est John Kirby ?", "Combien de conteneurs la Corée du Nord a-t-elle envoyés à la Russie ?",
             "Who met Kim Jong Un in Pyongyang?", "Quand la Corée du Nord a-t-elle lancé un satellite ?")
HEAVY = ("torch", "transformers", "sentence_transformers", "gradio")


@pytest.fixture(scope="module")
def seed_texts(seeds_dir: Path) -> tuple[list[str], list[str]]:
    docs = read_corpus(seeds_dir).documents
    chunks = [passage_text(d, c) for d in docs for c in chunk_document(d, ChunkConfig())]
    sentences = [s.text for d in docs for s in document_sentences(d)]
    return chunks[::3], sentences[::3]


@pytest.fixture(scope="module")
def reference(embedder: Embedder) -> Embedder:
    return Embedder(embedder.spec, path=EmbeddingPath.TORCH)


def test_the_fast_path_is_the_one_that_runs_here(embedder: Embedder, seed_data: IndexData) -> None:
    assert embedder.path == EmbeddingPath.OPENVINO
    assert embedder.description["path"] == "openvino"
    assert seed_data.manifest.embedding["path"] == "openvino", "the manifest says which path embedded the vectors"


def test_compiled_vectors_match_sentence_transformers(embedder: Embedder, reference: Embedder,
                                                      seed_texts: tuple[list[str], list[str]]) -> None:
    chunks, sentences = seed_texts
    for fast, slow in ((embedder.embed_passages(chunks), reference.embed_passages(chunks)),
                       (embedder.embed_passages(sentences), reference.embed_passages(sentences)),
                       (np.stack([embedder.embed_query(q) for q in QUESTIONS]),
                        np.stack([reference.embed_query(q) for q in QUESTIONS]))):
        cosine = (fast * slow).sum(axis=1)
        assert cosine.mean() >= 0.995 and cosine.min() >= 0.99  # int8 weights and activations: ~0.998
        assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert (embedder.prompts, embedder.max_tokens, embedder.dimension) == (
        reference.prompts, reference.max_tokens, reference.dimension)
    assert [embedder.count_tokens(t) for t in sentences[:20]] == [reference.count_tokens(t) for t in sentences[:20]]


def test_compiled_reader_agrees_with_the_torch_reader(embedder: Embedder, seed_texts: tuple[list[str], list[str]]
                                                      ) -> None:
    fast = Reader.shipped(embedder.spec.path, embedder.spec.fingerprint, tokenizer=embedder.shared_tokenizer)
    slow = Reader.shipped(embedder.spec.path, embedder.spec.fingerprint, compiled=False)
    assert fast is not None and fast.compiled and slow is not None and not slow.compiled
    _, sentences = seed_texts
    same = read = 0
    for question in QUESTIONS:
        for first in range(0, len(sentences), 8):
            batch = sentences[first:first + 8]
            for a, b in zip(fast.read(question, batch), slow.read(question, batch)):
                # bf16 where the CPU has it: the same span almost always, close logits always
                same, read = same + (a.span == b.span), read + 1
                assert a.relevance == pytest.approx(b.relevance, abs=0.25)
                assert a.span_margin == pytest.approx(b.span_margin, abs=1.0) or a.span != b.span
    assert same >= 0.95 * read, f"{read - same} of {read} spans differ from the torch reader's"


def test_a_retrained_reader_gets_its_own_compiled_copy(tmp_path: Path, embedder: Embedder) -> None:
    shipped = reader_copy(embedder.spec.path, embedder.spec.fingerprint, READER_DIR / WEIGHTS)
    retrained = tmp_path / WEIGHTS
    retrained.write_bytes((READER_DIR / WEIGHTS).read_bytes() + b" ")
    other = reader_copy(embedder.spec.path, embedder.spec.fingerprint, retrained)
    assert other.folder != shipped.folder and other.source != shipped.source
    assert shipped.is_current() and not other.is_current()
    stale = CompiledCopy(shipped.folder, "other model weights")
    assert not stale.is_current(), "a copy stamped for other weights is stale"


def test_a_broken_compiled_copy_falls_back_to_sentence_transformers_and_says_so(
        tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import index.embedder as module

    def refuse(model_path: str, fingerprint: str) -> None:
        raise RuntimeError("this CPU cannot run it")

    monkeypatch.setattr(module, "compiled_copy", lambda path, fp: CompiledCopy(tmp_path / "nothing", fp))
    monkeypatch.setattr(module, "compile_embedder", refuse)
    fallback = Embedder(embedder.spec)
    with caplog.at_level(logging.WARNING, logger="index.embedder"):
        vector = fallback.embed_query(QUESTIONS[0])
    assert fallback.path == EmbeddingPath.TORCH and fallback.description["path"] == "sentence-transformers"
    assert "embedding with sentence-transformers" in caplog.text and "this CPU cannot run it" in caplog.text
    assert float(vector @ embedder.embed_query(QUESTIONS[0])) > 0.995  # the int8 copy against fp32


def test_where_the_fast_path_cannot_run_an_unchanged_build_still_reuses_every_vector(
        tmp_path: Path, seeds_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    import index.embedder as module
    from index import BuildConfig, build_index, load_index

    def refuse(model_path: str, fingerprint: str) -> None:
        raise RuntimeError("this CPU cannot run it")

    monkeypatch.setattr(module, "compiled_copy", lambda path, fp: CompiledCopy(tmp_path / "nothing", fp))
    monkeypatch.setattr(module, "compile_embedder", refuse)
    config = BuildConfig(seeds_dir=seeds_dir, index_dir=tmp_path / "index", progress=False)
    first = build_index(config, embedder=Embedder(embedder.spec))
    assert first.embedded == first.chunks
    assert load_index(tmp_path / "index").manifest.embedding["path"] == "sentence-transformers"
    # the planned path (the compiled copy) differs from the manifest's: the one that loads is asked
    again = build_index(config, embedder=Embedder(embedder.spec))
    assert again.embedded == 0 and len(again.kept) == 5


def _modules_after(code: str) -> dict:
    """Run `code` in a fresh interpreter from the project folder; the heavy modules it imported."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return {"imported": json.loads(done.stdout.strip().splitlines()[-1]), "stdout": done.stdout}


def test_qa_ask_does_not_import_torch(seed_index: Path) -> None:
    found = _modules_after(f"import qa.cli; code = qa.cli.main(['ask', {QUESTIONS[0]!r}, '--index-dir', {str(seed_index)!r}])"
                           "\nassert code == 0")
    assert "Kirby" in found["stdout"]
    assert found["imported"] == []


def test_an_unchanged_build_does_not_import_torch(index_copy: Path, seeds_dir: Path) -> None:
    found = _modules_after("import index.cli; code = index.cli.main(['build', '--seeds', "
                           f"{str(seeds_dir)!r}, '--index-dir', {str(index_copy)!r}])\nassert code == 0")
    assert "0 embedded" in found["stdout"]
    assert found["imported"] == []


def test_the_compiled_copy_is_quantised_to_int8_and_the_manifest_says_so(embedder: Embedder,
                                                                          seed_data: IndexData) -> None:
    assert embedder.weights == "int8" and embedder.description["weights"] == "int8"
    assert seed_data.manifest.embedding_weights == "int8"


def test_calibration_takes_every_seed_article_in_turn_with_both_prompts(seeds_dir: Path, tmp_path: Path) -> None:
    from index.quantize import calibration_texts

    prompts = {"query": "query: ", "passage": "passage: "}
    texts = calibration_texts(seeds_dir, prompts, limit=60)
    assert len(texts) == 60 and texts == calibration_texts(seeds_dir, prompts, limit=60), "deterministic"
    heads = {d.title[:30] for d in read_corpus(seeds_dir).documents}
    assert sum(any(h in t for t in texts[:5]) for h in heads) == 5, "the first texts come from every article"
    assert {t.split(": ")[0] for t in calibration_texts(seeds_dir, prompts)} == {"query", "passage"}
    assert calibration_texts(tmp_path, prompts) == [], "no article, no calibration (the copy stays float16)"


def test_vectors_of_other_weights_are_not_reused(tmp_path: Path, seeds_dir: Path, embedder: Embedder) -> None:
    from index import BuildConfig, build_index

    class Float16Copy:  # the previous copy: float16 weights on the same path (random vectors, fast)
        spec, dimension, prompts, path = embedder.spec, embedder.dimension, embedder.prompts, embedder.path
        description, weights = {**embedder.description, "weights": "fp16"}, "fp16"

        def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
            vectors = np.random.default_rng(len(texts)).standard_normal((len(texts), self.dimension))
            return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    config = BuildConfig(seeds_dir=seeds_dir, index_dir=tmp_path / "index", progress=False)
    build_index(config, embedder=Float16Copy())  # type: ignore[arg-type]
    again = build_index(config, embedder=embedder)
    assert again.embedded == again.chunks and not again.kept
