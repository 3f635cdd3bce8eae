"""Session fixtures shared by the index, qa and eval tests.

The real embedding model is loaded once (`embedder`) and the real seeds are built once into a
temporary index (`seed_index`); `pipeline` answers questions over that index. These three are
read-only: a test that changes an index or the articles works on `index_copy` / `seeds_copy`.
The converted model cache (~/.cache/newsqa) is deliberately not redirected, so it is reused
across runs.
"""

from __future__ import annotations

import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import index
from index import BuildConfig, Embedder, IndexData, load_index

if TYPE_CHECKING:
    from qa import Pipeline

ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = ROOT / "seeds"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The real seed articles (absolute path; never modify them)."""
    return SEEDS_DIR


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The default embedding model (multilingual-e5-small), converted once, loaded once."""
    return index.Embedder(index.resolve_model(None))


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """An index folder built once from the seeds with the real model."""
    folder = tmp_path_factory.mktemp("seed-index") / "index"
    index.build_index(BuildConfig(seeds_dir=SEEDS_DIR, index_dir=folder, progress=False), embedder=embedder)
    return folder


@pytest.fixture(scope="session")
def seed_data(seed_index: Path) -> IndexData:
    """The seed index as loaded from disk."""
    return load_index(seed_index)


@pytest.fixture(scope="session")
def pipeline(seed_index: Path, embedder: Embedder) -> Pipeline:
    """`qa.Pipeline` over the seed index, sharing the session's model."""
    from qa import Pipeline

    return Pipeline.load(seed_index, embedder=embedder)


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A writable copy of the seeds, for tests that edit, add or delete articles."""
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, folder)
    for path in folder.iterdir():
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return folder


@pytest.fixture
def index_copy(tmp_path: Path, seed_index: Path) -> Path:
    """A copy of the seed index that a test may rebuild, break or delete."""
    folder = tmp_path / "index"
    shutil.copytree(seed_index, folder)
    return folder
