"""Compiled copies of PyTorch models (OpenVINO IR), made once and cached with a fingerprint.

The PyTorch model stays the reference; this module turns it into an OpenVINO model file that
runs without torch (the fast path for builds and queries), writes it beside the converted model
under ~/.cache/newsqa/models/, and says whether a cached copy still matches what it was made
from. A copy is written into a staging folder and renamed into place whole; its stamp
(`compiled.json`) is written last, so a present stamp means a complete copy."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable

__all__ = ["COMPILER_VERSION", "STAMP", "CompiledCopy", "compiled_precision", "export_openvino", "open_compiled",
           "openvino_version"]

log = logging.getLogger(__name__)

COMPILER_VERSION = 1  # bump when the exported graph changes, so cached copies are remade
STAMP = "compiled.json"
MODEL_XML = "model.xml"


def openvino_version() -> str | None:
    """The installed OpenVINO's version, without importing it; None when it is not installed."""
    if importlib.util.find_spec("openvino") is None:
        return None
    try:
        return version("openvino")
    except PackageNotFoundError:
        return None


@dataclass(frozen=True)
class CompiledCopy:
    """A cached compiled model: its folder and the fingerprint of what it was made from."""

    folder: Path
    source: str  # fingerprint of the source (model weights, and reader weights for the reader)

    @property
    def fingerprint(self) -> str:
        return f"{self.source}/openvino-{openvino_version()}/c{COMPILER_VERSION}"

    @property
    def model_file(self) -> Path:
        return self.folder / MODEL_XML

    @property
    def weights(self) -> str:
        """How the copy stores its weights: "int8" when quantised, else "fp16"."""
        return str((self.stamp() or {}).get("weights", "fp16"))

    def stamp(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.folder / STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def is_current(self) -> bool:
        """The copy is complete and was made from this source with this OpenVINO."""
        stamp = self.stamp()
        return (stamp is not None and stamp.get("fingerprint") == self.fingerprint
                and self.model_file.is_file() and self.model_file.with_suffix(".bin").is_file())


def export_openvino(module: Any, example: dict[str, Any], copy: CompiledCopy,
                    transform: Callable[[Any], Any] | None = None, **info: Any) -> Path:
    """Convert the torch `module` (traced on the `example` inputs, every axis dynamic) into an
    OpenVINO model in `copy.folder`, weights stored in float16 (after `transform`, e.g. a
    quantisation, when given), and stamp it with `info`."""
    import openvino as ov
    import torch

    started = time.perf_counter()
    copy.folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{copy.folder.name}.tmp-", dir=copy.folder.parent))
    retired = copy.folder.with_name(f".{copy.folder.name}.old-{os.getpid()}-{time.time_ns()}")
    try:
        inputs = [(name, [-1] * value.dim(), ov.Type.i64) for name, value in example.items()]
        with torch.inference_mode():
            model = ov.convert_model(module.eval(), example_input=tuple(example.values()), input=inputs)
        if transform is not None:  # on the float16 model, so that what it leaves alone stays float16
            half = staging / "float16" / MODEL_XML  # a file of its own: the model read maps it
            ov.save_model(model, str(half), compress_to_fp16=True)
            model = transform(ov.Core().read_model(str(half)))
        ov.save_model(model, str(staging / MODEL_XML), compress_to_fp16=True)
        shutil.rmtree(staging / "float16", ignore_errors=True)
        stamp = {"fingerprint": copy.fingerprint, "source": copy.source, "openvino": openvino_version(),
                 "compiler_version": COMPILER_VERSION, "seconds": round(time.perf_counter() - started, 1), **info}
        (staging / STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        staging.chmod(0o755)
        if copy.folder.exists():
            os.replace(copy.folder, retired)
        os.replace(staging, copy.folder)
    except OSError:
        if not copy.is_current():  # else a concurrent compile won the race
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)
    log.info("compiled %s in %.1fs", copy.folder, time.perf_counter() - started)
    return copy.folder


def open_compiled(copy: CompiledCopy, precision: str | None = None, threads: int | None = None) -> Any:
    """The copy compiled for this CPU (`precision`: OpenVINO's inference precision hint, e.g.
    "f32"; None for the CPU's default, bf16 where it has AVX512-BF16 or AMX; `threads`: how many
    CPU threads, None for every core). OpenVINO keeps the compiled kernels in the copy's
    `kernels/` folder, so later starts skip compiling."""
    import openvino as ov

    config: dict[str, Any] = {"CACHE_DIR": str(copy.folder / "kernels"), "PERFORMANCE_HINT": "LATENCY"}
    if precision:
        config["INFERENCE_PRECISION_HINT"] = precision
    if threads:  # a share of the machine: unpinned, or every process with one thread runs on core 0
        config.update({"INFERENCE_NUM_THREADS": threads, "ENABLE_CPU_PINNING": False})
    return ov.Core().compile_model(str(copy.model_file), "CPU", config)


def compiled_precision(compiled: Any) -> str:
    """The precision OpenVINO runs a compiled model in ("bf16", "f32"...)."""
    try:
        return str(compiled.get_property("INFERENCE_PRECISION_HINT")).lower().replace("<type: '", "").rstrip("'>")
    except RuntimeError:
        return "unknown"
