"""Cut a document's body spans into overlapping, sentence-aware chunks with exact offsets."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from index.documents import Document, Span

if TYPE_CHECKING:  # imported when chunking, not when an index is only loaded (a second on a cold start)
    from langchain_text_splitters import RecursiveCharacterTextSplitter

__all__ = ["ChunkConfig", "Chunk", "chunk_document"]

# Paragraphs, lines, sentence ends, clause ends, words: the splitter tries them in this order.
_SEPARATORS = ["\n\n", "\n", r"(?<=[.!?…»])\s+", r"(?<=[;:,])\s+", r"\s+", ""]


@dataclass(frozen=True)
class ChunkConfig:
    """Sizes in characters; e5-small reads 512 tokens, about 1,500 French characters."""

    size: int = 800
    overlap: int = 120

    def __post_init__(self) -> None:
        if self.size < 50:
            raise ValueError(f"chunk size {self.size} is too small; use at least 50 characters.")
        if not 0 <= self.overlap < self.size:
            raise ValueError(f"chunk overlap {self.overlap} must be between 0 and the size {self.size}.")

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Chunk:
    """A passage of one document; `doc.text[start:end] == text`."""

    doc_id: str
    start: int
    end: int
    text: str
    lang: str


def _splitter(config: ChunkConfig) -> RecursiveCharacterTextSplitter:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        separators=_SEPARATORS,
        is_separator_regex=True,
        keep_separator=True,
        chunk_size=config.size,
        chunk_overlap=config.overlap,
        add_start_index=True,
        strip_whitespace=True,
    )


def _locate(raw: str, piece: str, span: Span, hint: int) -> int:
    """Offset of `piece` in `raw` inside `span`, at or after `hint` (the splitter's estimate)."""
    for origin in (hint, span.start):
        found = raw.find(piece, max(origin, span.start), span.end)
        if found >= 0:
            return found
    raise ValueError(f"chunk text not found in its span {span}; this is a bug in chunking.")


def chunk_document(doc: Document, config: ChunkConfig) -> list[Chunk]:
    """Chunks of every body span in order; no chunk crosses an excluded range."""
    splitter = _splitter(config)
    chunks: list[Chunk] = []
    for span in doc.body:
        for piece in splitter.create_documents([doc.span_text(span)]):
            text = piece.page_content
            if not text.strip():
                continue
            hint = span.start + int(piece.metadata.get("start_index", 0))
            start = _locate(doc.text, text, span, hint)
            chunks.append(Chunk(doc.doc_id, start, start + len(text), text, doc.lang))
    return chunks
