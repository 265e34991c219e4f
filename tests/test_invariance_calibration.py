"""Smoke test of benchmarks/calibrate_invariance.py (issue 19's simulation): two seeded
replicates per condition at n = 1,500 run end to end; an invariant population reaches
scalar and a planted intercept shift (.4 item SD) is the one parameter freed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load():
    spec = importlib.util.spec_from_file_location(
        "calibrate_invariance", ROOT / "benchmarks" / "calibrate_invariance.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_calibration_smoke(tmp_path, capsys):
    cal = _load()
    out = tmp_path / "cal.json"
    assert cal.main(["--reps", "2", "--out", str(out)]) == 0
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["invariant"]["ladder_reaches_scalar"]["count"] == 2
    assert res["planted"]["frees_exactly_planted_and_holds"]["count"] == 2
    assert res["planted"]["frees_other_parameter"]["count"] == 0
    lo, hi = res["planted"]["frees_planted"]["ci95"]
    assert 0 <= lo <= 1 == hi


def test_clopper_pearson():
    cal = _load()
    assert cal.clopper_pearson(0, 10)[0] == 0.0
    assert cal.clopper_pearson(10, 10)[1] == 1.0
    lo, hi = cal.clopper_pearson(180, 200)
    assert lo == pytest.approx(0.84979, abs=1e-4) and hi == pytest.approx(0.93784, abs=1e-4)
