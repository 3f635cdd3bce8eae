"""The corpus statistics a build keeps (index.corpus_stats): what qa's sentence scorer would
otherwise read every sentence for, on the real seed index."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from index import load_index
from index.analyzer import analyze, cognate_prefixes
from index.corpus_stats import FILE, CorpusStats
from index.manifest import FILE as MANIFEST, IndexDamaged


def _brute_force(data):
    """Every sentence analysed, every cosine computed: what the statistics stand for."""
    terms, prefixes = [], []
    for s in data.sentences:
        terms.append(set(analyze(s.text, data.documents.lang(s.doc_id))))
        prefixes.append(set(cognate_prefixes(s.text)))
    df: dict[str, int] = {}
    for held in terms + prefixes:
        for t in held:
            df[t] = df.get(t, 0) + 1
    return df, set().union(*prefixes), len(terms)


def test_a_build_keeps_statistics_equal_to_reading_every_sentence(seed_index, seed_data):
    assert (seed_index / FILE).is_file()
    df, prefixes, count = _brute_force(seed_data)
    stats = seed_data.stats
    assert stats.sentences == count == len(seed_data.sentences)
    assert stats.df == df and stats.prefixes == prefixes
    assert all(math.isclose(stats.idf(t), math.log(1 + 2 * count / n)) for t, n in df.items())
    assert stats.idf("zzzunseenword") == pytest.approx(math.log(1 + count))


@pytest.mark.parametrize("row", [0, 7, 40])
def test_cosine_moments_match_the_cosines_with_every_sentence(seed_data, row):
    query = np.asarray(seed_data.sentence_vectors[row], dtype=np.float32)
    cosines = seed_data.sentence_vectors @ query
    mean, std = seed_data.stats.cosine_moments(query)
    assert mean == pytest.approx(float(cosines.mean()), abs=1e-5)
    assert std == pytest.approx(float(cosines.std()), abs=1e-5)


def test_statistics_survive_saving_and_loading(tmp_path):
    stats = CorpusStats.compute([("Le président Poutine a rencontré Kim Jong-un à Pyongyang.", "fr"),
                                 ("Vladimir Putin met Kim Jong Un in Pyongyang on Wednesday.", "en")],
                                np.eye(2, 4, dtype=np.float16))
    stats.save(tmp_path)
    loaded = CorpusStats.load(tmp_path)
    assert loaded.df == stats.df and loaded.prefixes == stats.prefixes and loaded.sentences == 2
    assert np.array_equal(loaded.vector_moment, stats.vector_moment)
    assert CorpusStats.load(tmp_path / "nowhere") is None


def test_an_index_written_before_the_statistics_still_loads(index_copy):
    (index_copy / FILE).unlink()
    manifest = json.loads((index_copy / MANIFEST).read_text(encoding="utf-8"))
    del manifest["files"][FILE]
    (index_copy / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    data = load_index(index_copy)
    df, prefixes, count = _brute_force(data)
    assert data.stats.df == df and data.stats.sentences == count


def test_damaged_statistics_are_reported_with_the_fix(index_copy):
    (index_copy / FILE).write_bytes(b"not an npz file")
    with pytest.raises(IndexDamaged, match="python -m index"):
        load_index(index_copy, full_check=True)
