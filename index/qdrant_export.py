"""Write a built index into a new Qdrant collection, then move the readers' alias to it.

Chunks carry the dense vector and the BM25 weights bm25s computed for them as a sparse vector
(so a sparse dot product with the query's term counts is the file store's BM25 score, to the
float), with payload doc_id, date, lang, offsets and text; sentences carry their vector and
offsets; articles carry their record and row ranges; one meta point carries the manifest, the
BM25 vocabulary and the corpus statistics. Payload indexes on kind, doc_id and date."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np

from index.qdrant_target import KIND_BASE, QdrantTarget, QdrantUnavailable
from index.rows import document_json
from index.storage import IndexData

__all__ = ["export_index", "sparse_rows", "sync_index"]

log = logging.getLogger(__name__)

_BATCH = 256


def sparse_rows(data: IndexData) -> list[tuple[list[int], list[float]]]:
    """Each chunk's BM25 weights as (term ids, scores), from bm25s's per-term score matrix."""
    scores = data.lexical.retriever.scores
    values, docs, indptr = (np.asarray(scores[k]) for k in ("data", "indices", "indptr"))
    terms = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    order = np.lexsort((terms, docs))
    rows: list[tuple[list[int], list[float]]] = [([], []) for _ in range(len(data.chunks))]
    for doc, term, value in zip(docs[order].tolist(), terms[order].tolist(), values[order].tolist()):
        if value > 0:
            rows[doc][0].append(term)
            rows[doc][1].append(value)
    return rows


def _points(data: IndexData) -> Iterator:
    from qdrant_client import models

    sparse = sparse_rows(data)
    chunk_vectors = data.store.vectors()
    for row, chunk in enumerate(data.chunks):
        doc_id = chunk.doc_id
        yield models.PointStruct(
            id=KIND_BASE["chunk"] + row,
            vector={"dense": np.asarray(chunk_vectors[row], dtype=np.float32).tolist(),
                    "bm25": models.SparseVector(indices=sparse[row][0], values=sparse[row][1])},
            payload={"kind": "chunk", "row": row, "doc_id": doc_id, "start": chunk.start, "end": chunk.end,
                     "text": chunk.text, "lang": chunk.lang, "date": data.documents.date(doc_id)})
    for row, sentence in enumerate(data.sentences):
        yield models.PointStruct(
            id=KIND_BASE["sentence"] + row,
            vector={"dense": np.asarray(data.sentence_vectors[row], dtype=np.float32).tolist()},
            payload={"kind": "sentence", "row": row, "doc_id": sentence.doc_id, "start": sentence.start,
                     "end": sentence.end, "text": sentence.text})
    for row, doc_id in enumerate(data.documents):
        chunks, sentences = data.documents.row_ranges(doc_id)
        doc = data.documents[doc_id]
        yield models.PointStruct(
            id=KIND_BASE["document"] + row, vector={},
            payload={"kind": "document", "row": row, "doc_id": doc_id, "date": doc.date, "lang": doc.lang,
                     "chunks": [chunks.start, chunks.stop], "sentences": [sentences.start, sentences.stop],
                     "record": document_json(doc)})
    yield models.PointStruct(
        id=KIND_BASE["meta"], vector={},
        payload={"kind": "meta", "manifest": json.dumps(asdict(data.manifest), ensure_ascii=False),
                 "vocab": json.dumps(data.lexical.retriever.vocab_dict, ensure_ascii=False),
                 "stats_npz": data.stats.to_text(),
                 "vocabulary_npz": data.vocabulary.to_text() if data.vocabulary is not None else None})


def _create(client, name: str, dimension: int, target: QdrantTarget) -> None:
    from qdrant_client import models

    client.create_collection(
        name, shard_number=target.shards, replication_factor=target.replicas,
        vectors_config={"dense": models.VectorParams(size=dimension, distance=models.Distance.COSINE,
                                                     on_disk=target.on_disk or None)},
        sparse_vectors_config={"bm25": models.SparseVectorParams(
            index=models.SparseIndexParams(on_disk=target.on_disk) if target.on_disk else None)})
    if target.path is None:  # local mode has no payload indexes (and says so)
        for field in ("kind", "doc_id", "date", "lang"):
            client.create_payload_index(name, field, models.PayloadSchemaType.KEYWORD)


def _drop(client, name: str) -> None:
    try:
        client.delete_collection(name)
    except Exception as err:  # the server went away: the orphan is named after the alias and the time
        log.warning("could not drop the unfinished collection %s: %s", name, err)


def export_index(data: IndexData, target: QdrantTarget) -> str:
    """Write `data` to a new collection and point `target.collection` (an alias) at it; the
    collection it pointed at is kept (replicas may still read it), older ones are dropped.
    Returns the new collection's name."""
    client = target.client()
    try:
        return _export(client, data, target)
    finally:
        client.close()  # local mode lets one client at a time open the folder


def _export(client, data: IndexData, target: QdrantTarget) -> str:
    from qdrant_client import models

    try:
        existing = {a.alias_name: a.collection_name for a in client.get_aliases().aliases}
        names = {c.name for c in client.get_collections().collections}
    except Exception as err:  # transport errors of several libraries
        raise target.unreachable(err) from None
    if target.collection in names:
        raise QdrantUnavailable(f"{target.collection!r} in Qdrant at {target.where()} is a collection, not an "
                                "alias this app manages; pass another ?collection=NAME.")
    name = target.new_collection_name()
    _create(client, name, data.manifest.dimension, target)
    try:
        batch: list = []
        for point in _points(data):
            batch.append(point)
            if len(batch) >= _BATCH:
                client.upsert(name, points=batch, wait=True)
                batch = []
        if batch:
            client.upsert(name, points=batch, wait=True)
        old = existing.get(target.collection)
        operations = ([models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=target.collection))]
                      if old else [])
        operations.append(models.CreateAliasOperation(
            create_alias=models.CreateAlias(collection_name=name, alias_name=target.collection)))
        client.update_collection_aliases(change_aliases_operations=operations)
    except BaseException as err:
        _drop(client, name)  # nothing half-written stays behind
        if isinstance(err, Exception) and not isinstance(err, QdrantUnavailable):
            raise QdrantUnavailable(f"Writing the index to Qdrant at {target.where()} failed ({type(err).__name__}: "
                                    f"{str(err).splitlines()[0][:160] if str(err) else 'no detail'}); readers still "
                                    "get the index they had; try again.") from None
        raise
    # The collection the alias left stays for replicas still answering from it (until they
    # restart); older builds of this alias go (never a collection an alias points at).
    ours = re.compile(rf"{re.escape(target.collection)}-\d{{8}}-\d{{6}}-[0-9a-f]{{8}}")
    for stale in sorted(names - {name, old} - set(existing.values())):
        if ours.fullmatch(stale):
            _drop(client, stale)
    log.info("wrote %d chunks and %d sentences to Qdrant collection %s (alias %s)", len(data.chunks),
             len(data.sentences), name, target.collection)
    return name


def _content(manifest: dict) -> str:
    """What an index holds, whenever it was built: two builds of the same articles agree."""
    keys = ("format_version", "model_fingerprint", "embedding", "chunking", "analyzer", "documents", "counts")
    return json.dumps({k: manifest.get(k) for k in keys}, sort_keys=True, ensure_ascii=False)


def _written(target: QdrantTarget) -> str | None:
    """What the index in Qdrant holds (`_content`), or None when there is none."""
    client = target.client()
    try:
        collection = target.resolve(client)
        meta = client.retrieve(collection, ids=[KIND_BASE["meta"]], with_payload=True)
    except QdrantUnavailable as err:
        if "cannot be reached" in str(err):
            raise
        return None
    except Exception as err:  # transport errors of several libraries
        raise target.unreachable(err) from None
    finally:
        client.close()  # local mode lets one client at a time open the folder
    return _content(json.loads(meta[0].payload["manifest"])) if meta else None


def sync_index(folder: Path, target: QdrantTarget) -> bool:
    """Write the index built in `folder` to Qdrant unless it holds that very build; True when written."""
    from index.storage import load_index

    data = load_index(folder)
    if _written(target) == _content(asdict(data.manifest)):
        return False
    export_index(data, target)
    return True
