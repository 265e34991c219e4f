"""The calibration harness of validate's verdicts (benchmarks/calibrate_verdicts.py), its fast
part: a planted and a clean replicate of each design, run exactly as the harness does.

The rates themselves (false alarms per clean file, hit rate per planted defect, with Monte
Carlo intervals over 150 replicates per condition) come from the full run and are in
docs/validate.md, "Operating characteristics of the verdicts"."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).parent
_SPEC = importlib.util.spec_from_file_location(
    "calibrate_verdicts", HERE.parent / "benchmarks" / "calibrate_verdicts.py")
cal = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(cal)


@pytest.mark.slow
@pytest.mark.parametrize("design", ["sample", "impact"])
def test_one_planted_and_one_clean_replicate(design):
    planted = cal.replicate(design, False, 0)
    assert planted["found"] and all(planted["found"].values()), planted
    assert planted["not_estimable"] == 0
    clean = cal.replicate(design, True, 0)
    assert clean["found"] == {} and not clean["any_item_fail"] and not clean["any_dif"], clean


def test_clopper_pearson_and_summary():
    lo, hi = cal.clopper_pearson(0, 150)
    assert lo == 0.0 and hi == pytest.approx(0.02428, abs=1e-4)  # the rule of three, roughly
    lo, hi = cal.clopper_pearson(6, 150)
    assert lo < 0.04 < hi and hi == pytest.approx(0.0851, abs=1e-3)
    runs = [{"design": "d", "clean": True, "any_item_fail": i == 0, "any_dif": False,
             "fail_rules": ["loading"] if i == 0 else [], "not_estimable": 0, "found": {}}
            for i in range(4)]
    runs += [{"design": "d", "clean": False, "any_item_fail": False, "any_dif": False,
              "fail_rules": [], "not_estimable": 0, "found": {"dif": i < 3}}
             for i in range(4)]
    s = cal.summarize(runs)["d"]
    assert s["clean"]["any_item_fail"]["k"] == 1 and s["planted"]["hits"]["dif"]["rate"] == 0.75
    assert "| d | clean (4) | any item fail" in cal.table(cal.summarize(runs))
