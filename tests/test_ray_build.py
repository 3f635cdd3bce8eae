"""`index build --ray local`: the same index as a plain build, on the real model and the real
seeds (and on the dev set's corpus where ../shared is beside the project), the manifest saying
that Ray built it; and the clear one-sentence errors when the cluster cannot be reached or the
model cannot be loaded on a worker, the previous index left as it was."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from eval.devset import DEVSET_DIR
from index import BuildConfig, Embedder, build_index, load_index
from index.embedder import ModelSpec
from index.ray_embed import RayBuildError, RayEmbedder, RaySettings

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="the `ray` extra is not installed (`pip install -e '.[ray]'`; `make test` installs it)")]


def _same_index(plain: Path, distributed: Path) -> None:
    a, b = load_index(plain), load_index(distributed)
    assert a.chunks.range(0, len(a.chunks)) == b.chunks.range(0, len(b.chunks))
    assert a.sentences.range(0, len(a.sentences)) == b.sentences.range(0, len(b.sentences))
    for ours, theirs in ((a.store.vectors(), b.store.vectors()), (a.sentence_vectors, b.sentence_vectors)):
        assert ours.shape == theirs.shape
        assert float(np.abs(np.asarray(ours, np.float32) - np.asarray(theirs, np.float32)).max()) <= 1e-4


def _ray_build(seeds: Path, index_dir: Path, embedder: Embedder, actors: int = 2):
    ray = RayEmbedder(embedder.spec, RaySettings("local", actors=actors))
    return build_index(BuildConfig(seeds_dir=seeds, index_dir=index_dir, progress=False, batch_texts=64),
                       embedder=ray)  # type: ignore[arg-type]


def test_a_ray_build_of_the_seeds_equals_a_plain_build(tmp_path: Path, seeds_dir: Path, embedder: Embedder) -> None:
    plain = tmp_path / "plain"
    build_index(BuildConfig(seeds_dir=seeds_dir, index_dir=plain, progress=False, batch_texts=64), embedder=embedder)
    report = _ray_build(seeds_dir, tmp_path / "ray", embedder)
    assert report.embedded == report.chunks > 0
    _same_index(plain, tmp_path / "ray")
    recorded = load_index(tmp_path / "ray").manifest.embedding
    assert recorded["built_with"] == "ray" and recorded["ray_actors"] == 2
    assert (recorded["path"], recorded["weights"]) == (embedder.path.value, embedder.weights)
    again = _ray_build(seeds_dir, tmp_path / "ray", embedder)
    assert again.embedded == 0 and len(again.kept) == 5, "unchanged articles are not sent to the cluster"


@pytest.mark.skipif(not (DEVSET_DIR / "corpus").is_dir(),
                    reason=f"the dev set is not at {DEVSET_DIR} (../shared is beside the project in CI)")
def test_a_ray_build_of_the_dev_corpus_equals_a_plain_build(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(DEVSET_DIR / "corpus", corpus)
    build_index(BuildConfig(seeds_dir=corpus, index_dir=tmp_path / "plain", progress=False), embedder=embedder)
    ray = RayEmbedder(embedder.spec, RaySettings("local"))  # one actor per core
    build_index(BuildConfig(seeds_dir=corpus, index_dir=tmp_path / "ray", progress=False), embedder=ray)  # type: ignore[arg-type]
    _same_index(tmp_path / "plain", tmp_path / "ray")


def test_an_unreachable_cluster_is_one_clear_sentence_and_changes_nothing(index_copy: Path, seeds_copy: Path,
                                                                         embedder: Embedder) -> None:
    (seeds_copy / "new.txt").write_text("Un nouvel article.\n\nIl parle d'autre chose que les autres.", "utf-8")
    before = load_index(index_copy).manifest.counts
    ray = RayEmbedder(embedder.spec, RaySettings("ray://127.0.0.1:9"))
    with pytest.raises(RayBuildError, match=r"cannot reach the Ray cluster at 'ray://127.0.0.1:9' .*ray start --head"):
        build_index(BuildConfig(seeds_dir=seeds_copy, index_dir=index_copy, progress=False), embedder=ray)  # type: ignore[arg-type]
    assert load_index(index_copy).manifest.counts == before


def test_a_model_that_cannot_be_loaded_on_a_worker_fails_the_build_whole(seeds_dir: Path, embedder: Embedder,
                                                                         tmp_path: Path) -> None:
    # the build's model has other weights than the one the workers find: they refuse to embed
    other = ModelSpec(embedder.spec.model_id, embedder.spec.path, "0" * 64 + "/v2")
    ray = RayEmbedder(other, RaySettings("local", actors=1))
    ray.local = embedder  # the build's view of the path and dimension (its fingerprint is `other`'s)
    with pytest.raises(RayBuildError, match="could not be loaded on a Ray worker.*other weights"):
        build_index(BuildConfig(seeds_dir=seeds_dir, index_dir=tmp_path / "index", progress=False),
                    embedder=ray)  # type: ignore[arg-type]
    assert not (tmp_path / "index").exists(), "nothing half-written"


def test_the_command_line_says_so_in_one_sentence(tmp_path: Path, seeds_dir: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from index.cli import main

    code = main(["build", "--seeds", str(seeds_dir), "--index-dir", str(tmp_path / "index"), "--quiet",
                 "--ray", "127.0.0.1:9"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith("error: cannot reach the Ray cluster at '127.0.0.1:9'") and "ray start --head" in lines[0]
    assert not (tmp_path / "index").exists()
