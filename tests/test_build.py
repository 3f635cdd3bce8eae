"""Building the index: manifest, round trip, incremental rebuilds, load checks, crash safety.

All of it runs the real model on the real seeds (the session's `seed_index`); tests that change an
index or the articles work on copies."""

from __future__ import annotations

import copy
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from index import (BuildConfig, BuildReport, Embedder, IndexData, IndexNotReady, ModelSpec, StaleIndex,
                   build_index, load_index, passage_text)
import index.build as build_module
from index.synthetic import synthetic_corpus
from index.bm25 import LexicalIndex
from index.chunking import ChunkConfig, chunk_document
from index.documents import Document, read_corpus
from index.manifest import FORMAT_VERSION
from index.sentences import Sentence, document_sentences

ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = ROOT / "seeds"
SEED_NAMES = tuple(sorted(p.name for p in SEEDS_DIR.glob("*.txt")))
ENGLISH_NAME = "005_english.txt"
ENGLISH = (
    "North Korea ships artillery shells to Russia\n\n"
    "North Korea has shipped artillery shells to Russia by rail, US officials said on Tuesday. "
    "Analysts expect more deliveries before winter.\n"
)


def build(seeds: Path, index_dir: Path, embedder: Embedder) -> BuildReport:
    return build_index(BuildConfig(seeds_dir=seeds, index_dir=index_dir, progress=False), embedder=embedder)


def seed_name(prefix: str) -> str:
    return next(name for name in SEED_NAMES if name.startswith(prefix))


def leftovers(index_dir: Path) -> list[str]:
    """Staging or backup folders left beside an index (its lock file stays, by design)."""
    return sorted(p.name for p in index_dir.parent.iterdir()
                  if (p.name.startswith(f".{index_dir.name}.") and p.name != f".{index_dir.name}.lock")
                  or p.name == f"{index_dir.name}.previous")


def rows_of(data: IndexData, doc_id: str) -> tuple[np.ndarray, np.ndarray]:
    """The chunk and sentence vectors of one document."""
    chunk_rows = [i for i, c in enumerate(data.chunks) if c.doc_id == doc_id]
    sentence_rows = [i for i, s in enumerate(data.sentences) if s.doc_id == doc_id]
    return data.store.vectors()[chunk_rows], data.sentence_vectors[sentence_rows]


def forbid_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Embedder, texts: list[str], progress: bool = False) -> np.ndarray:
        raise AssertionError(f"{len(texts)} texts were embedded")

    monkeypatch.setattr(Embedder, "embed_passages", refuse)


# --- what the index records -----------------------------------------------------------------


def test_manifest_records_how_the_index_was_built(seed_data: IndexData, embedder: Embedder) -> None:
    manifest = seed_data.manifest
    assert manifest.format_version == FORMAT_VERSION
    assert manifest.model_id == "multilingual-e5-small"
    assert manifest.model_fingerprint == embedder.spec.fingerprint
    assert re.fullmatch(r"[0-9a-f]{64}/v\d+", manifest.model_fingerprint)
    assert manifest.dimension == embedder.dimension == 384
    assert manifest.prompts == {"query": "query: ", "passage": "passage: "}
    assert manifest.chunking == {"size": 800, "overlap": 120}
    assert manifest.seeds_dir == str(SEEDS_DIR)
    assert tuple(manifest.documents) == SEED_NAMES
    for name, info in manifest.documents.items():
        assert info["sha256"] == hashlib.sha256((SEEDS_DIR / name).read_bytes()).hexdigest()
        assert info["lang"] == "fr"
        assert info["chunks"] == sum(1 for c in seed_data.chunks if c.doc_id == name) > 0
    assert manifest.documents[seed_name("004")]["date"] == "2024-03"
    assert manifest.counts == {"documents": 5, "chunks": len(seed_data.chunks), "sentences": len(seed_data.sentences)}
    assert manifest.store == {"kind": "faiss-flat-ip", "dimension": 384, "rows": len(seed_data.chunks)}
    created = datetime.fromisoformat(manifest.created)
    assert timedelta(0) <= datetime.now(timezone.utc) - created < timedelta(hours=2)
    assert manifest.libraries["sentence-transformers"] == importlib.metadata.version("sentence-transformers")
    assert manifest.libraries["faiss-cpu"] == importlib.metadata.version("faiss-cpu")


def test_manifest_file_is_readable_json_with_plain_accents(seed_index: Path) -> None:
    text = (seed_index / "manifest.json").read_text(encoding="utf-8")
    assert "Corée du Nord" in text
    assert json.loads(text)["counts"]["documents"] == 5


def test_load_index_round_trip(seed_data: IndexData, embedder: Embedder) -> None:
    docs = read_corpus(SEEDS_DIR).documents
    assert seed_data.documents == {d.doc_id: d for d in docs}
    assert seed_data.chunks == tuple(c for d in docs for c in chunk_document(d, ChunkConfig()))
    assert seed_data.sentences == tuple(s for d in docs for s in document_sentences(d))
    vectors = seed_data.store.vectors()
    # Stored as float16, memory-mapped: a component is off by at most half a float16 step.
    assert vectors.shape == (len(seed_data.chunks), 384) and vectors.dtype == np.float16
    assert isinstance(vectors, np.memmap) and isinstance(seed_data.sentence_vectors, np.memmap)
    assert seed_data.sentence_vectors.shape == (len(seed_data.sentences), 384)
    assert np.allclose(np.linalg.norm(vectors.astype(np.float32), axis=1), 1.0, atol=1e-3)
    # Row i is chunk i: re-embedding a few chunks and sentences gives the stored rows (to a cosine of
    # 0.999, not bit for bit: the compiled path computes in bf16, a text's batch-mates set its padding,
    # and the rows are stored in float16).
    picks = [0, 1, len(seed_data.chunks) - 1]
    texts = [passage_text(seed_data.documents[seed_data.chunks[i].doc_id], seed_data.chunks[i]) for i in picks]
    assert ((embedder.embed_passages(texts) * vectors[picks].astype(np.float32)).sum(axis=1) > 0.999).all()
    stored = seed_data.sentence_vectors[5].astype(np.float32)
    assert float(embedder.embed_passages([seed_data.sentences[5].text])[0] @ stored) > 0.999
    scores, rows = seed_data.store.search(vectors[7], 3)
    assert rows[0] == 7 and scores[0] == pytest.approx(1.0, abs=1e-3)


def test_headline_is_embedded_with_the_chunks_after_it(seed_data: IndexData) -> None:
    doc = seed_data.documents[seed_name("001")]
    first, second = [c for c in seed_data.chunks if c.doc_id == doc.doc_id][:2]
    assert passage_text(doc, first) == first.text and first.text.startswith(doc.title)
    assert passage_text(doc, second) == f"{doc.title}\n{second.text}"


@pytest.mark.parametrize("word", ["Nvidia", "oignon", "Disney", "Barbiecore", "ttn-fr-56", "Et aussi"])
def test_a_question_about_nvidia_finds_nothing_in_the_index(seed_data: IndexData, word: str) -> None:
    assert not [c.doc_id for c in seed_data.chunks if word in c.text]
    assert not [s.doc_id for s in seed_data.sentences if word in s.text]
    assert not seed_data.lexical.scores(word).any()


def test_bm25_scores_zero_for_nvidia_but_finds_real_words(seed_data: IndexData) -> None:
    assert not seed_data.lexical.scores("Nvidia").any()
    assert not seed_data.lexical.scores("Nvidia, oignon, Barbiecore, Disney").any()
    shoigu = seed_data.lexical.scores("Shoigu")
    assert "Shoigu" in seed_data.chunks[int(shoigu.argmax())].text
    containers = seed_data.lexical.scores("1000 conteneurs")
    assert "1 000 conteneurs" in seed_data.chunks[int(containers.argmax())].text


# --- incremental rebuilds --------------------------------------------------------------------


def test_rebuild_of_unchanged_folder_embeds_nothing(index_copy: Path, embedder: Embedder,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    before = load_index(index_copy)
    files = {p.name: p.stat().st_mtime_ns for p in index_copy.iterdir()}
    forbid_embedding(monkeypatch)
    report = build(SEEDS_DIR, index_copy, embedder)
    assert (report.added, report.changed, report.removed) == ((), (), ())
    assert report.kept == SEED_NAMES and report.embedded == 0
    assert {p.name: p.stat().st_mtime_ns for p in index_copy.iterdir()} == files, "an up-to-date index is not rewritten"
    after = load_index(index_copy)
    assert after.chunks == before.chunks and after.sentences == before.sentences
    assert np.array_equal(after.store.vectors(), before.store.vectors())
    assert np.array_equal(after.sentence_vectors, before.sentence_vectors)
    assert leftovers(index_copy) == []


def test_changed_article_is_the_only_one_reembedded(index_copy: Path, seeds_copy: Path, embedder: Embedder,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    name = seed_name("003")
    path = seeds_copy / name
    path.write_text(path.read_text(encoding="utf-8") + "\n\nLes négociations reprendront à Vladivostok en décembre.\n",
                    encoding="utf-8")
    embedded: list[str] = []
    real = Embedder.embed_passages

    def spy(self: Embedder, texts: list[str], progress: bool = False) -> np.ndarray:
        embedded.extend(texts)
        return real(self, texts, progress)

    monkeypatch.setattr(Embedder, "embed_passages", spy)
    before = load_index(index_copy)
    report = build(seeds_copy, index_copy, embedder)
    after = load_index(index_copy)
    doc = after.documents[name]
    chunks = [c for c in after.chunks if c.doc_id == name]
    assert report.changed == (name,) and report.added == () and report.removed == ()
    assert report.kept == tuple(n for n in SEED_NAMES if n != name)
    assert report.embedded == len(chunks)
    assert embedded == [passage_text(doc, c) for c in chunks] + [s.text for s in after.sentences if s.doc_id == name]
    assert any("Vladivostok" in c.text for c in chunks)
    assert after.manifest.documents[name]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    for other in report.kept:
        for old, new in zip(rows_of(before, other), rows_of(after, other)):
            assert np.array_equal(old, new)


def test_deleted_article_is_dropped(index_copy: Path, seeds_copy: Path, embedder: Embedder,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    name = seed_name("004")
    (seeds_copy / name).unlink()
    before = load_index(index_copy)
    forbid_embedding(monkeypatch)
    report = build(seeds_copy, index_copy, embedder)
    assert report.removed == (name,) and report.embedded == 0
    assert report.kept == tuple(n for n in SEED_NAMES if n != name)
    after = load_index(index_copy)
    assert name not in after.documents and name not in after.manifest.documents
    assert all(c.doc_id != name for c in after.chunks) and all(s.doc_id != name for s in after.sentences)
    assert after.manifest.counts["documents"] == 4
    for other in report.kept:  # rows moved up with their chunks
        for old, new in zip(rows_of(before, other), rows_of(after, other)):
            assert np.array_equal(old, new)


def test_added_article_is_reported_and_embedded(index_copy: Path, seeds_copy: Path, embedder: Embedder) -> None:
    (seeds_copy / ENGLISH_NAME).write_text(ENGLISH, encoding="utf-8")
    report = build(seeds_copy, index_copy, embedder)
    after = load_index(index_copy)
    chunks = [c for c in after.chunks if c.doc_id == ENGLISH_NAME]
    assert report.added == (ENGLISH_NAME,) and report.kept == SEED_NAMES
    assert report.embedded == len(chunks) == 1
    assert after.documents[ENGLISH_NAME].lang == "en" and chunks[0].lang == "en"
    assert after.lexical.langs == ("en", "fr")
    vector = embedder.embed_passages([passage_text(after.documents[ENGLISH_NAME], chunks[0])])
    assert float(np.asarray(rows_of(after, ENGLISH_NAME)[0], dtype=np.float32)[0] @ vector[0]) > 0.999  # as above
    assert "1 added, 0 changed, 0 removed, 5 kept" in report.summary()


def test_vectors_are_reused_only_when_the_article_is_cut_the_same_way(
        index_copy: Path, seeds_copy: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    """An index built by older code that split an article differently must not lend its vectors
    to the new sentences of the same bytes."""
    (seeds_copy / ENGLISH_NAME).write_text(ENGLISH, encoding="utf-8")

    def older_splitter(doc: Document) -> list[Sentence]:
        found = document_sentences(doc)
        return found[:1] if doc.doc_id == ENGLISH_NAME else found

    monkeypatch.setattr(build_module, "document_sentences", older_splitter)
    build(seeds_copy, index_copy, embedder)
    monkeypatch.undo()
    report = build(seeds_copy, index_copy, embedder)
    assert report.changed == (ENGLISH_NAME,) and report.kept == SEED_NAMES
    after = load_index(index_copy)  # consistent: as many sentence vectors as sentences
    sentences = [s.text for s in after.sentences if s.doc_id == ENGLISH_NAME]
    assert len(sentences) == 3
    # each stored vector is its sentence's (to a cosine of 0.999, as above: int8 and bf16 arithmetic,
    # and a text's batch-mates set its padding); two different sentences are far below that
    stored = np.asarray(rows_of(after, ENGLISH_NAME)[1], dtype=np.float32)
    cosines = stored @ embedder.embed_passages(sentences).T
    assert (np.diag(cosines) > 0.999).all() and (cosines - np.eye(3) * cosines < 0.99).all(), cosines


# --- load checks -----------------------------------------------------------------------------


def test_other_model_or_dimension_is_refused_with_the_rebuild_command(seed_data: IndexData, seed_index: Path,
                                                                      embedder: Embedder) -> None:
    manifest = seed_data.manifest
    manifest.check_model(embedder.spec.model_id, embedder.spec.fingerprint, embedder.dimension)
    with pytest.raises(IndexNotReady, match=r"rebuild it with `python -m index build --model other/model`"):
        manifest.check_model("other/model", "0" * 64, 384)
    with pytest.raises(IndexNotReady, match=r"384 dimensions.*python -m index build"):
        manifest.check_model(manifest.model_id, manifest.model_fingerprint, 768)
    from qa import Pipeline

    other = copy.copy(embedder)
    other.spec = ModelSpec("multilingual-e5-small", embedder.spec.path, "f" * 64 + "/v9")
    with pytest.raises(IndexNotReady, match=r"python -m index build"):
        Pipeline.load(seed_index, embedder=other)


def test_missing_index_names_the_build_command(tmp_path: Path) -> None:
    with pytest.raises(IndexNotReady, match=rf"No index in {tmp_path / 'none'}; build it with "
                                            rf"`python -m index build --index-dir {tmp_path / 'none'}`"):
        load_index(tmp_path / "none")


def test_other_format_version_is_refused(index_copy: Path) -> None:
    path = index_copy / "manifest.json"
    path.write_text(path.read_text(encoding="utf-8").replace(f'"format_version": {FORMAT_VERSION}', '"format_version": 99'),
                    encoding="utf-8")
    with pytest.raises(IndexNotReady, match=rf"format 99, this version reads format {FORMAT_VERSION}; "
                                            rf"rebuild it with `python -m index build --index-dir "
                                            rf"{re.escape(str(index_copy))}`\.$"):
        load_index(index_copy)


def test_damaged_or_inconsistent_index_is_refused(index_copy: Path) -> None:
    manifest = json.loads((index_copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["counts"]["chunks"] += 1
    (index_copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexNotReady, match=r"damaged \(chunks\.f16\.npy, the chunks of rows\.sqlite and the "
                                            r"manifest count different passages\); rebuild it with `python -m index build"):
        load_index(index_copy)
    (index_copy / "chunks.f16.npy").unlink()
    with pytest.raises(IndexNotReady, match=r"damaged \(chunks\.f16\.npy is missing\); rebuild it with "
                                            r"`python -m index build"):
        load_index(index_copy)


def test_changed_seeds_make_the_index_stale(seed_data: IndexData, seeds_copy: Path) -> None:
    manifest = seed_data.manifest
    manifest.check_seeds(SEEDS_DIR)
    manifest.check_seeds(seeds_copy)  # same bytes elsewhere: not stale
    (seeds_copy / "README.md").write_text("notes\n", encoding="utf-8")
    (seeds_copy / f"{seed_name('002')}~").write_text("an editor's backup\n", encoding="utf-8")
    manifest.check_seeds(seeds_copy)  # files no build reads: not stale either
    changed = seeds_copy / seed_name("001")
    changed.write_text(changed.read_text(encoding="utf-8") + "\nUne phrase de plus.\n", encoding="utf-8")
    (seeds_copy / seed_name("004")).unlink()
    (seeds_copy / ENGLISH_NAME).write_text(ENGLISH, encoding="utf-8")
    with pytest.raises(StaleIndex) as caught:
        manifest.check_seeds(seeds_copy)
    message = str(caught.value)
    assert f"changed: {seed_name('001')}" in message
    assert f"added: {ENGLISH_NAME}" in message
    assert f"removed: {seed_name('004')}" in message
    assert message.endswith(f"update it with `python -m index build --seeds {seeds_copy}`.")
    assert isinstance(caught.value, IndexNotReady)


# --- crash safety ----------------------------------------------------------------------------


def test_failed_embedding_leaves_the_previous_index(index_copy: Path, seeds_copy: Path, embedder: Embedder,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    changed = seeds_copy / seed_name("003")
    changed.write_text(changed.read_text(encoding="utf-8") + "\nUne phrase de plus.\n", encoding="utf-8")
    before = load_index(index_copy)

    def crash(self: Embedder, texts: list[str], progress: bool = False) -> np.ndarray:
        raise RuntimeError("the model crashed")

    monkeypatch.setattr(Embedder, "embed_passages", crash)
    with pytest.raises(RuntimeError, match="the model crashed"):
        build(seeds_copy, index_copy, embedder)
    after = load_index(index_copy)
    assert after.manifest == before.manifest and after.chunks == before.chunks
    assert leftovers(index_copy) == []


def test_failure_while_writing_leaves_the_previous_index_and_no_staging_folder(
        index_copy: Path, seeds_copy: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    changed = seeds_copy / seed_name("003")   # something to write (an unchanged folder rewrites nothing)
    changed.write_text(changed.read_text(encoding="utf-8") + "\nUne phrase de plus.\n", encoding="utf-8")
    before = load_index(index_copy)
    seen: list[list[str]] = []

    def disk_full(self: LexicalIndex, folder: Path) -> None:
        seen.append(leftovers(index_copy))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(LexicalIndex, "save", disk_full)
    with pytest.raises(OSError, match="No space left"):
        build(seeds_copy, index_copy, embedder)
    assert len(seen) == 1 and seen[0][0].startswith(".index.building-"), "the failure happened while staging"
    after = load_index(index_copy)
    assert after.manifest == before.manifest
    assert np.array_equal(after.store.vectors(), before.store.vectors())
    # the changed article's vectors stay checkpointed for the next build to resume from
    assert leftovers(index_copy) == [".index.resume"]


def test_interrupted_swap_is_recovered_on_load(tmp_path: Path, seed_index: Path) -> None:
    """Killed between the swap's two renames: the index folder is gone, its backup is there."""
    folder = tmp_path / "index"
    shutil.copytree(seed_index, tmp_path / "index.previous")
    data = load_index(folder)
    assert data.manifest.counts["documents"] == 5
    assert (folder / "manifest.json").is_file()
    assert not (tmp_path / "index.previous").exists()


class QuickVectors:
    """Stands in for the model only to build the *previous* index of the kill test fast: it has
    the real model's spec, so the real model in the killed build reuses these vectors."""

    def __init__(self, real: Embedder) -> None:
        self.spec, self.dimension, self.prompts = real.spec, real.dimension, real.prompts
        self.path, self.description, self.weights = real.path, real.description, real.weights  # the same path

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        vectors = np.random.default_rng(len(texts)).standard_normal((len(texts), self.dimension))
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_build_killed_while_writing_leaves_the_previous_index(tmp_path: Path, embedder: Embedder) -> None:
    """`python -m index build` is SIGKILLed while its staging folder exists; the index it was
    replacing still loads, with its old counts."""
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    synthetic_corpus(SEEDS_DIR, corpus, 200)
    stand_in = QuickVectors(embedder)
    build(corpus, index_dir, stand_in)  # type: ignore[arg-type]
    previous = load_index(index_dir).manifest.counts
    (corpus / "synthetic_0000.txt").unlink()  # the rebuild embeds nothing and writes the whole index
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with (tmp_path / "out.txt").open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "index", "build", "--seeds", str(corpus), "--index-dir", str(index_dir), "--quiet"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            staging = _wait_for_staging(proc, index_dir)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(timeout=60)
    log = (tmp_path / "out.txt").read_text()
    assert staging, f"the build ended (exit {proc.returncode}) before its staging folder was seen:\n{log}"
    assert proc.returncode == -signal.SIGKILL
    data = load_index(index_dir)
    assert data.manifest.counts == previous
    assert "synthetic_0000.txt" in data.documents
    # The next build is not disturbed by the killed one's leftovers.
    report = build(corpus, index_dir, stand_in)  # type: ignore[arg-type]
    assert report.removed == ("synthetic_0000.txt",) and report.embedded == 0
    assert load_index(index_dir).manifest.counts["documents"] == previous["documents"] - 1


def _wait_for_staging(proc: subprocess.Popen, index_dir: Path, timeout: float = 240.0) -> list[str]:
    """Poll for the build's staging folder; return its name(s), or [] if the build ended first."""
    pattern = f".{index_dir.name}.building-"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        found = [name for name in os.listdir(index_dir.parent) if name.startswith(pattern)]
        if found:
            return found
        time.sleep(0.002)
    return []


def test_a_build_killed_midway_is_resumed_and_equals_a_clean_build(tmp_path: Path, embedder: Embedder) -> None:
    """`python -m index build` is SIGKILLed once some batches are embedded: nothing is served,
    the next build reuses the checkpointed articles and writes what a clean build writes."""
    from index.resume import Checkpoints

    corpus, index_dir, clean_dir = tmp_path / "corpus", tmp_path / "index", tmp_path / "clean"
    synthetic_corpus(SEEDS_DIR, corpus, 24)
    checkpoints = Checkpoints(index_dir, embedder.spec.fingerprint)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "index", "build", "--seeds", str(corpus), "--index-dir",
                             str(index_dir), "--quiet"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while checkpoints.count() == 0 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the build ended before it was killed"
    finished = checkpoints.count()
    assert 0 < finished < 24 and not (index_dir / "manifest.json").exists()
    with pytest.raises(IndexNotReady):
        load_index(index_dir)
    report = build(corpus, index_dir, embedder)
    assert len(report.resumed) >= finished and report.embedded < report.chunks
    assert "resumed from an interrupted build" in report.summary()
    assert checkpoints.count() == 0 and leftovers(index_dir) == []
    build(corpus, clean_dir, embedder)
    resumed, clean = load_index(index_dir, full_check=True), load_index(clean_dir)
    assert resumed.documents == clean.documents and resumed.chunks == clean.chunks
    assert resumed.sentences == clean.sentences and resumed.manifest.counts == clean.manifest.counts
    # Batches of other sizes embed the same texts to the same vectors, up to what padding a text
    # among others of other lengths changes (elementwise up to 0.0022 was seen: 2e-3 was flaky).
    for a, b in ((resumed.store.vectors(), clean.store.vectors()), (resumed.sentence_vectors, clean.sentence_vectors)):
        a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
        assert a.shape == b.shape and float(np.min(np.sum(a * b, axis=1))) >= 0.999


def test_an_index_of_the_previous_format_is_rebuilt_with_a_note(index_copy: Path, embedder: Embedder) -> None:
    path = index_copy / "manifest.json"
    path.write_text(path.read_text(encoding="utf-8").replace(f'"format_version": {FORMAT_VERSION}', '"format_version": 2'),
                    encoding="utf-8")
    report = build(SEEDS_DIR, index_copy, QuickVectors(embedder))  # type: ignore[arg-type]
    assert report.notes == (f"The index in {index_copy} has format 2, this version reads format {FORMAT_VERSION}; "
                            "every article is indexed again from scratch.",)
    assert report.kept == () and load_index(index_copy).manifest.format_version == FORMAT_VERSION


def test_chunk_languages_come_from_the_article_table() -> None:
    from index.storage import _chunk_langs

    class Table(dict):   # doc_id -> (lang, chunk rows): what _chunk_langs reads of a DocumentTable
        def lang(self, doc_id):
            return self[doc_id][0]

        def row_ranges(self, doc_id):
            return self[doc_id][1], range(0)

    table = Table({"a.txt": ("fr", range(0, 2)), "b.txt": ("en", range(2, 5))})
    assert _chunk_langs(table, 5, ("en", "fr")).tolist() == [1, 1, 0, 0, 0]
    assert _chunk_langs(table, 6, ("en", "fr")).tolist()[5] == 2     # no article: no language
    with pytest.raises(ValueError, match="b.txt is in 'en', which the manifest does not list"):
        _chunk_langs(table, 5, ("fr",))
