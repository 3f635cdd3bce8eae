"""The index in Qdrant (`--store qdrant+local:DIR`, the client's local mode: no server binary is
installable here) answers as the file store does: on the seed questions and on a 30-article slice
of the dev set, the top-10 passages overlap at least 90 % and at least 95 % of the answers cite
the same sentences. Its failures are one sentence each, and a failed write leaves the index the
readers had. Skips without the `qdrant` extra; the dev-set slice skips without ../shared."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("qdrant_client", reason="the qdrant extra is not installed (pip install -e '.[qdrant]')")

from eval.dataset import DEFAULT_QUESTIONS, load_questions  # noqa: E402
from eval.devset import DEVSET_DIR, devset_questions  # noqa: E402
from index import BuildConfig, build_index, load_index  # noqa: E402
from index.qdrant_export import export_index  # noqa: E402
from index.qdrant_target import QdrantUnavailable, open_index, parse_store  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _agreement(file_pipeline, qdrant_pipeline, questions: list[str]) -> tuple[float, float]:
    """(mean top-10 passage overlap, share of answers citing the same sentences)."""
    overlaps, same = [], []
    for q in questions:
        a = {(h.doc_id, h.start) for h in file_pipeline.search(q, k=10)}
        b = {(h.doc_id, h.start) for h in qdrant_pipeline.search(q, k=10)}
        overlaps.append(len(a & b) / max(1, len(a)))
        x, y = file_pipeline.ask(q), qdrant_pipeline.ask(q)
        same.append((x.abstained, [(c.doc_id, c.start, c.end) for c in x.citations])
                    == (y.abstained, [(c.doc_id, c.start, c.end) for c in y.citations]))
    return sum(overlaps) / len(overlaps), sum(same) / len(same)


def _pair(index_dir: Path, store: Path, embedder):
    from qa import Pipeline

    file_pipeline = Pipeline.load(index_dir, embedder=embedder)
    export_index(load_index(index_dir), parse_store(f"qdrant+local:{store}"))
    qdrant = Pipeline(open_index(f"qdrant+local:{store}"), embedder, file_pipeline.config, file_pipeline.reader)
    return file_pipeline, qdrant


def test_the_seed_questions_get_the_same_answers_from_qdrant(seed_index: Path, embedder, tmp_path: Path) -> None:
    file_pipeline, qdrant = _pair(seed_index, tmp_path / "qdrant", embedder)
    assert set(qdrant.documents) == set(file_pipeline.documents)
    doc = next(iter(qdrant.documents))
    assert qdrant.documents[doc] == file_pipeline.documents[doc]  # the stored record, whole
    overlap, same = _agreement(file_pipeline, qdrant, [q.question for q in load_questions(DEFAULT_QUESTIONS)])
    assert overlap >= 0.90 and same >= 0.95, (overlap, same)


@pytest.mark.skipif(not (DEVSET_DIR / "questions.jsonl").is_file(),
                    reason=f"the dev set is not at {DEVSET_DIR} (../shared is beside the project in CI)")
def test_a_dev_set_slice_gets_the_same_answers_from_qdrant(embedder, tmp_path: Path) -> None:
    questions = [q for q in devset_questions(DEVSET_DIR) if q.gold.answerable]
    docs = sorted({q.gold.docs[0] for q in questions}, key=lambda d: hashlib.sha256(d.encode()).hexdigest())[:30]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for doc in docs:
        shutil.copyfile(DEVSET_DIR / "corpus" / doc, corpus / doc)
    build_index(BuildConfig(corpus, tmp_path / "index", progress=False), embedder=embedder)
    file_pipeline, qdrant = _pair(tmp_path / "index", tmp_path / "qdrant", embedder)
    asked = [q.question for q in questions if q.gold.docs[0] in set(docs)][::3][:80]
    overlap, same = _agreement(file_pipeline, qdrant, asked)
    assert len(asked) >= 40 and overlap >= 0.90 and same >= 0.95, (len(asked), overlap, same)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_failures_are_one_sentence_each(seed_index: Path, tmp_path: Path, monkeypatch) -> None:
    port = _free_port()
    with pytest.raises(QdrantUnavailable, match=rf"Qdrant at 127.0.0.1:{port} cannot be reached .*; start it"):
        open_index(f"qdrant://127.0.0.1:{port}?timeout=2")
    with pytest.raises(QdrantUnavailable, match=r"No index named 'newsqa' in Qdrant at .*; build it with "
                                                r"`python -m index build --store qdrant\+local:"):
        open_index(f"qdrant+local:{tmp_path / 'empty'}")
    with socket.socket() as silent:  # accepts connections, never answers: the client's timeout
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        with pytest.raises(QdrantUnavailable, match=rf"Qdrant at 127.0.0.1:{port} cannot be reached \(.*[Tt]imed? ?out"):
            open_index(f"qdrant://127.0.0.1:{port}?timeout=1")
    with pytest.raises(QdrantUnavailable, match=r"^--store bogus://x names no kind of store this app knows; use "
                                                r"qdrant\+local:DIR or qdrant://HOST:PORT, or --index-dir for a folder\.$"):
        parse_store("bogus://x")
    assert parse_store("var/index") is None and parse_store("C:/data/index") is None   # folders stay folders
    with pytest.raises(QdrantUnavailable, match=r"is not understood; write qdrant://HOST:PORT"):
        parse_store("qdrant://127.0.0.1:6333?api_key=secret")
    monkeypatch.delenv("NEWSQA_TEST_KEY", raising=False)
    with pytest.raises(QdrantUnavailable, match=r"NEWSQA_TEST_KEY named by api_key_env is not set"):
        parse_store("qdrant://127.0.0.1:6333?api_key_env=NEWSQA_TEST_KEY").client()


def test_a_collection_of_other_dimensions_is_refused(seed_index: Path, tmp_path: Path) -> None:
    from qdrant_client import models

    from index.qdrant_target import KIND_BASE

    target = parse_store(f"qdrant+local:{tmp_path / 'q'}")
    export_index(load_index(seed_index), target)
    client = target.client()
    meta = client.retrieve(target.resolve(client), ids=[KIND_BASE["meta"]], with_payload=True)[0]
    client.create_collection("narrow", vectors_config={"dense": models.VectorParams(
        size=8, distance=models.Distance.COSINE)})
    client.upsert("narrow", points=[models.PointStruct(id=KIND_BASE["meta"], vector={}, payload=meta.payload)])
    client.update_collection_aliases(change_aliases_operations=[
        models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name="newsqa")),
        models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name="narrow", alias_name="newsqa"))])
    client.close()
    with pytest.raises(QdrantUnavailable, match=r"holds 8-dimension vectors but its manifest says 384; rebuild"):
        open_index(target.spec)


def test_a_failed_write_leaves_the_index_readers_had(seed_index: Path, tmp_path: Path, monkeypatch) -> None:
    import index.qdrant_export as export

    target = parse_store(f"qdrant+local:{tmp_path / 'q'}")
    first = export_index(load_index(seed_index), target)
    real = export._points

    def broken(data):
        for n, point in enumerate(real(data)):
            if n == 100:
                raise ConnectionError("the server went away")
            yield point

    monkeypatch.setattr(export, "_points", broken)
    with pytest.raises(QdrantUnavailable, match=r"Writing the index to Qdrant at .* failed \(ConnectionError: the "
                                                r"server went away\); readers still get the index they had"):
        export_index(load_index(seed_index), target)
    client = target.client()
    assert [c.name for c in client.get_collections().collections] == [first]  # nothing half-written left
    assert target.resolve(client) == first
    client.close()
    assert len(open_index(target.spec).chunks) == len(load_index(seed_index).chunks)


def test_a_build_drops_only_its_own_older_collections(seed_index: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    target = parse_store(f"qdrant+local:{tmp_path / 'q'}")
    other = replace(target, collection="newsqa-fr")  # another index whose alias starts like this one
    data = load_index(seed_index)
    kept_by_other = export_index(data, other)
    first = export_index(data, target)
    second = export_index(data, target)
    third = export_index(data, target)
    client = target.client()
    names = {c.name for c in client.get_collections().collections}
    client.close()
    assert names == {kept_by_other, second, third} and first not in names


def test_builds_update_the_qdrant_index_from_the_command_line(tmp_path: Path) -> None:
    seeds, index_dir, store = tmp_path / "articles", tmp_path / "index", f"qdrant+local:{tmp_path / 'q'}"
    shutil.copytree(ROOT / "seeds", seeds)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600,
                              env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})

    built = run("index", "build", "--seeds", str(seeds), "--index-dir", str(index_dir), "--store", store, "--quiet")
    assert built.returncode == 0 and "index 'newsqa' written" in built.stdout, built.stderr
    again = run("index", "build", "--seeds", str(seeds), "--index-dir", str(index_dir), "--store", store, "--quiet")
    assert "already up to date" in again.stdout, again.stderr
    (seeds / "extra.txt").write_text("Un nouvel article\n\nLe port de Rajin a reçu 40 navires en mars, selon "
                                     "les autorités locales.\n", encoding="utf-8")
    added = run("index", "build", "--seeds", str(seeds), "--index-dir", str(index_dir), "--store", store, "--quiet")
    assert "added: extra.txt" in added.stdout and "written" in added.stdout, added.stderr
    target = parse_store(store)
    client = target.client()
    kept = sorted(c.name for c in client.get_collections().collections)
    assert len(kept) == 2 and target.resolve(client) in kept  # the one replicas may still read, and the new
    client.close()
    info = run("index", "info", "--store", store)
    assert info.returncode == 0 and "extra.txt" in info.stdout
    asked = run("qa", "ask", "Combien de navires le port de Rajin a-t-il reçus ?", "--store", store, "--json")
    assert asked.returncode == 0 and '"doc_id": "extra.txt"' in asked.stdout, asked.stderr
    wrong = run("qa", "ask", "Qui ?", "--store", f"qdrant+local:{tmp_path / 'none'}")
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and "No index named" in wrong.stderr
