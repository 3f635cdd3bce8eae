"""Index: articles -> clean spans -> chunks -> embeddings -> FAISS + BM25, with a manifest."""

from __future__ import annotations

from index.build import BuildConfig, BuildReport, build_index, passage_text
from index.chunking import Chunk, ChunkConfig
from index.documents import ArticleError, Document, Span
from index.embedder import DEFAULT_MODEL, Embedder, EmbeddingPath, ModelSpec, resolve_model
from index.manifest import IndexDamaged, IndexMissing, IndexNotReady, Manifest, StaleIndex
from index.storage import IndexData, load_index

__all__ = [
    "ArticleError", "BuildConfig", "BuildReport", "Chunk", "ChunkConfig", "DEFAULT_MODEL", "Document",
    "Embedder", "EmbeddingPath", "IndexData", "IndexDamaged", "IndexMissing", "IndexNotReady", "Manifest", "ModelSpec", "Span",
    "StaleIndex", "build_index", "load_index", "passage_text", "resolve_model",
]
