"""What a build records of the articles in the manifest, and whether an index already holds
exactly what a build would write (then `index.build` rewrites nothing)."""

from __future__ import annotations

from pathlib import Path

from index.chunking import Chunk
from index.documents import Corpus
from index.manifest import Manifest

__all__ = ["article_records", "up_to_date"]


def article_records(corpus: Corpus, chunks: dict[str, list[Chunk]]) -> dict[str, dict[str, object]]:
    """The manifest's entry for each article."""
    exports = corpus.exports
    return {d.doc_id: {"sha256": d.sha256, "title": d.title, "date": d.date, "lang": d.lang,
                       "chunks": len(chunks[d.doc_id]), "url": d.url,
                       **({"source": d.source, "source_sha256": exports[d.source]} if d.source else {})}
            for d in corpus.documents}


def up_to_date(manifest: Manifest, seeds_dir: Path, fields: dict[str, str], corpus: Corpus,
               chunks: dict[str, list[Chunk]], kept: set[str]) -> bool:
    """Nothing to write: the index (reusable, same model and chunking) holds the same articles,
    `kept` all of them (same text, cleaning, chunks and sentences, hence the same vectors, BM25
    and vocabulary), read from the same folder the same way."""
    return (set(manifest.documents) == kept == {d.doc_id for d in corpus.documents}
            and manifest.documents == article_records(corpus, chunks)
            and manifest.seeds_dir == str(seeds_dir.resolve())
            and manifest.skipped == {s.doc_id: s.reason for s in corpus.skipped}
            and manifest.fields == fields)
