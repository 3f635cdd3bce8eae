"""The training command's cache of out-of-fold readings (eval.fit_reader): what --refit reuses."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eval.fit_reader import _load_readings, _save_readings
from qa.reader import Reading


def test_readings_round_trip_with_numpy_values_and_refuse_another_key(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "readings.json"
    readings = [[Reading(np.float32(1.5), (np.int64(2), np.int64(9)), np.float64(0.25)), Reading(-2.0, None, -10.0)], []]
    _save_readings(path, "key-a", readings)
    loaded = _load_readings(path, "key-a")
    assert loaded == [[Reading(1.5, (2, 9), 0.25), Reading(-2.0, None, -10.0)], []]
    assert isinstance(loaded[0][0].span, tuple)
    assert _load_readings(path, "key-b") is None
    assert _load_readings(tmp_path / "absent.json", "key-a") is None
