"""The corpus vocabulary the build embeds: words matched across languages by the index's own
model, reused between builds, carried by the index and its stores."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.vocabulary import Vocabulary, content_words


def test_content_words_are_long_lower_cased_and_not_stop_words():
    assert content_words("La Corée du Nord a envoyé des conteneurs à la Russie, dans la Corée.") == [
        "corée", "nord", "envoyé", "conteneurs", "russie"]


def test_the_model_puts_a_word_next_to_its_translation(embedder):
    vocabulary = Vocabulary.build(["La guerre, le navire, l'église et l'armée."], embedder.embed_queries)
    english = np.asarray(embedder.embed_queries(["war", "ship", "church", "army"]), dtype=np.float32)
    nearest = [vocabulary.words[int(j)] for j in np.argmax(english @ vocabulary.matrix(vocabulary.words).T, axis=1)]
    assert nearest == ["guerre", "navire", "église", "armée"]


def test_a_build_reuses_the_known_words_vectors_and_saves_them(tmp_path: Path):
    calls: list[list[str]] = []

    def embed(words: list[str]) -> np.ndarray:
        calls.append(list(words))
        return np.eye(4, dtype=np.float32)[[len(w) % 4 for w in words]]

    first = Vocabulary.build(["guerre navire", "guerre"], embed)
    assert first.words == ("guerre", "navire") and calls == [["guerre", "navire"]]
    second = Vocabulary.build(["guerre église"], embed, known=first)
    assert calls[-1] == ["église"] and np.array_equal(second.vector("guerre"), first.vector("guerre"))
    second.save(tmp_path)
    again = Vocabulary.load(tmp_path)
    assert again is not None and again.words == second.words and np.array_equal(again.vectors, second.vectors)
    assert Vocabulary.from_text(second.to_text()).words == second.words
    assert Vocabulary.load(tmp_path / "none") is None


def test_the_seed_index_keeps_its_vocabulary(seed_data):
    vocabulary = seed_data.vocabulary
    assert vocabulary is not None and "conteneurs" in vocabulary and "pyongyang" in vocabulary
    assert vocabulary.vectors.dtype == np.float16 and len(vocabulary) > 500
