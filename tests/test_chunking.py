"""Chunks keep exact offsets, respect their size, and never reach into excluded text."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.chunking import Chunk, ChunkConfig, chunk_document
from index.documents import Document, Span, read_corpus

SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"
DOCS = read_corpus(SEEDS_DIR).documents
CONFIGS = [ChunkConfig(), ChunkConfig(size=200, overlap=40), ChunkConfig(size=60, overlap=0)]


def config_id(config: ChunkConfig) -> str:
    return f"{config.size}-{config.overlap}"


@pytest.fixture(params=CONFIGS, ids=config_id)
def config(request: pytest.FixtureRequest) -> ChunkConfig:
    return request.param


@pytest.fixture(params=DOCS, ids=lambda d: d.doc_id[:3])
def doc(request: pytest.FixtureRequest) -> Document:
    return request.param


def test_chunk_text_is_the_raw_text_at_its_offsets(doc: Document, config: ChunkConfig) -> None:
    chunks = chunk_document(doc, config)
    assert chunks
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.doc_id == doc.doc_id and chunk.lang == doc.lang
        assert chunk.text == chunk.text.strip()


def test_chunks_are_no_longer_than_the_chunk_size(doc: Document, config: ChunkConfig) -> None:
    lengths = [len(c.text) for c in chunk_document(doc, config)]
    assert max(lengths) <= config.size


def test_chunks_never_overlap_an_excluded_range(doc: Document, config: ChunkConfig) -> None:
    for chunk in chunk_document(doc, config):
        assert any(s.start <= chunk.start and chunk.end <= s.end for s in doc.body)
        for gap in doc.excluded:
            assert chunk.end <= gap.start or gap.end <= chunk.start, (chunk, gap)


def test_chunks_cover_the_whole_body_in_order(doc: Document, config: ChunkConfig) -> None:
    chunks = chunk_document(doc, config)
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    covered = [False] * len(doc.text)
    for chunk in chunks:
        covered[chunk.start : chunk.end] = [True] * (chunk.end - chunk.start)
    missed = [i for s in doc.body for i in range(s.start, s.end) if not covered[i] and not doc.text[i].isspace()]
    assert missed == []


def test_default_chunks_of_the_seeds_overlap_and_fill_their_size() -> None:
    config = ChunkConfig()
    chunks = [c for d in DOCS for c in chunk_document(d, config)]
    same_span = [(a, b) for a, b in zip(chunks, chunks[1:]) if a.doc_id == b.doc_id and b.start < a.end]
    assert same_span, "consecutive chunks of a long paragraph run should share some overlap"
    assert all(b.start >= a.start for a, b in same_span)
    long_chunks = [c for c in chunks if len(c.text) > config.size // 2]
    assert len(long_chunks) >= len(chunks) * 0.7


def test_title_is_its_own_chunk_when_a_navigation_block_follows_it() -> None:
    doc = next(d for d in DOCS if d.doc_id.startswith("000"))
    first = chunk_document(doc, ChunkConfig())[0]
    assert first == Chunk(doc.doc_id, 0, len(doc.title), doc.title, "fr")


def test_repeated_text_is_located_at_its_own_occurrence() -> None:
    """A sentence that occurs twice gets two chunks with two different offsets."""
    line = "Moscou et Pyongyang renforcent leurs liens militaires depuis deux ans."
    text = f"Titre\n\n{line}\n\nUn autre paragraphe sans rapport.\n\n{line}\n"
    doc = Document("x.txt", "Titre", None, "fr", "0", text, body=(Span(0, 5), Span(7, len(text) - 1)))
    chunks = chunk_document(doc, ChunkConfig(size=80, overlap=0))
    starts = [c.start for c in chunks if c.text == line]
    assert starts == [text.index(line), text.rindex(line)]


@pytest.mark.parametrize(("size", "overlap", "message"), [
    (20, 0, "chunk size 20 is too small"),
    (100, 100, "chunk overlap 100 must be between 0 and the size 100"),
    (100, -1, "chunk overlap -1 must be between 0"),
])
def test_invalid_chunk_config_is_refused_with_a_clear_message(size: int, overlap: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ChunkConfig(size=size, overlap=overlap)
