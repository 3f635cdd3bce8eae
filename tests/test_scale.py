"""The index at scale: the synthetic archive, the IVF store with exact re-ranking and filters,
and `python -m index.bench --scale N --json` (keys and sanity, not timings)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index import Embedder, load_index
from index.scale import KEYS, build_archive
from index.store import EXACT_ALLOWED, IVFStore, exact_search

ROOT = Path(__file__).resolve().parents[1]
DEVSET_CORPUS = ROOT.parent / "shared" / "data" / "devset" / "corpus"
CACHE = Path.home() / ".cache" / "newsqa" / "bench"


@pytest.fixture(scope="module")
def ivf_archive(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    folder = tmp_path_factory.mktemp("scale") / "archive"
    build_archive(folder, 6000, embedder, [ROOT / "seeds", DEVSET_CORPUS], CACHE, kind=IVFStore.KIND, progress=False)
    return folder


def test_the_archive_is_an_index_like_any_other(ivf_archive: Path) -> None:
    data = load_index(ivf_archive, full_check=True)  # every row's text is its article's at its offsets
    assert data.manifest.store["kind"] == IVFStore.KIND and len(data.chunks) == 6000
    assert data.sentence_vectors.dtype == np.float16 and len(data.sentence_vectors) == len(data.sentences)
    first = data.chunks[0]
    assert data.documents[first.doc_id].text[first.start : first.end] == first.text


def test_ivf_finds_what_exact_search_finds_and_respects_filters(ivf_archive: Path, embedder: Embedder) -> None:
    data = load_index(ivf_archive)
    vectors = data.store.vectors()
    found = 0
    questions = ["Qui est John Kirby ?", "What is the length of the Vizzavona?", "Quand le traité a-t-il été signé ?",
                 "Who won the election?", "Combien de soldats ?"]
    for question in questions:
        query = embedder.embed_query(question)
        scores, rows = data.store.search(query, 10)
        exact_scores, exact = exact_search(vectors, query, 10)
        found += len(set(rows.tolist()) & set(exact.tolist()))
        assert np.all(np.diff(scores) <= 1e-6)  # re-ranked exactly: best first
        assert scores[0] == pytest.approx(float(vectors[rows[0]].astype(np.float32) @ query), abs=1e-5)
    assert found / (10 * len(questions)) >= 0.9
    one_doc = data.documents.chunk_ids([data.chunks[100].doc_id])
    _, rows = data.store.search(embedder.embed_query(questions[0]), 5, allowed=one_doc)
    assert len(rows) == min(5, len(one_doc)) and set(rows.tolist()) <= set(one_doc.tolist())
    many = np.arange(0, 6000, 2)
    assert len(many) <= EXACT_ALLOWED
    _, rows = data.store.search(embedder.embed_query(questions[1]), 10, allowed=many)
    assert len(rows) == 10 and all(r % 2 == 0 for r in rows)


def test_bench_at_scale_writes_the_figures_as_one_json_object(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    result = subprocess.run([sys.executable, "-m", "index.bench", "--scale", "2000", "--queries", "4", "--json",
                             str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert tuple(figures)[: len(KEYS)] == KEYS
    assert figures["chunks"] == 2000 and figures["index_type"] == "faiss-flat-ip"
    assert figures["recall_at_10"] == 1.0  # flat: exact
    assert figures["query_p50_ms"] > 0 and figures["query_p95_ms"] >= figures["query_p50_ms"]
    assert figures["load_s"] > 0 and figures["rss_mb"] > 0 and figures["disk_mb"] > 0
    assert "recall_at_10" in result.stdout
