"""CFA convergence stress suite: pv.cfa against lavaan 0.6.14 on 532 seeded problems.

Data and problem list: tests/reference/stress/ (made by make_stress.py, read from the
committed npz, never regenerated here); lavaan's results: tests/reference/ref_extra/
cfa_stress.json (made by tests/reference/r/cfa_stress.R). Classification in
tests/reference/stress/_suite.py.

Where lavaan converged, psychoval must converge and reach lavaan's tightly converged
chi-square (``chisq_tight``) within ``TOL["cfa_stress_chisq"]``, with the same df; a chi-square
strictly lower than lavaan's (a better optimum) passes and is recorded (user properties;
``tests/reference/stress/table.py`` lists them). Where lavaan did not converge, psychoval may
do either; its outcome is recorded. Warnings of a fit are recorded, not raised.

The full run (532 problems, about 9 minutes on 2 cores) is marked ``slow`` and ``stress`` and
runs only with ``make test-stress``; ``test_stress_fast`` (every 10th problem where lavaan
converged, plus the hard ones: ``_suite.fast_ids``; about 15 s) runs in ``make test`` and
``make test-fast``.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests._tolerances import assert_close
from tests.reference.stress import _suite

PROBLEMS = {p["id"]: p for p in _suite.problems()}
FAST = _suite.fast_ids()


def _check(pid: str, request: pytest.FixtureRequest) -> None:
    problem = PROBLEMS[pid]

    def record_property(name: str, value: object) -> None:
        # what the record_property fixture does, without its warning under junit xunit2
        request.node.user_properties.append((name, value))

    fit = _suite.fit(problem)
    out = _suite.classify(problem, fit)
    record_property("status", out.status)
    record_property("psychoval", {"converged": fit.converged, "chisq": fit.chisq,
                                  "restarts": list(fit.restarts), "seconds": fit.seconds,
                                  "warnings": list(fit.warnings), "error": fit.error})
    record_property("lavaan", {"converged": out.lavaan_converged, "chisq_tight": out.lavaan_chisq})
    if out.status == "lavaan_nonconverged":
        return  # psychoval may converge or not; recorded above
    if out.status == "not_identified":
        return  # lavaan could not invert its information either; both say so
    what = f"{pid} ({problem['family']}, {problem['structure']}, missing={problem['missing']})"
    assert not fit.error, f"{what}: lavaan converged but psychoval raised {fit.error}"
    assert fit.converged, (f"{what}: lavaan converged (chisq {out.lavaan_chisq!r}) but "
                           f"psychoval did not (chisq {fit.chisq!r}, restarts {fit.restarts})")
    assert fit.df == out.lavaan_df, f"{what}: df {fit.df} != lavaan's {out.lavaan_df}"
    if out.status == "lower":
        record_property("better_optimum", out.reason)
        return
    assert_close(fit.chisq, out.lavaan_chisq, _suite.TOL_KEY, what=f"{what} chisq")


@pytest.mark.slow  # numerics only: the main CI pass runs it, the pandas 2.2 pass skips it
@pytest.mark.parametrize("pid", FAST)
def test_stress_fast(pid, request):
    _check(pid, request)


@pytest.mark.slow
@pytest.mark.stress
@pytest.mark.parametrize("pid", list(PROBLEMS))
def test_stress_full(pid, request):
    _check(pid, request)


def test_suite_files_agree():
    """npz, problem list and lavaan's results describe the same problems."""
    problems = _suite.problems()
    assert len(problems) >= 520
    with np.load(_suite.NPZ) as z:
        assert sorted(z.files) == sorted(PROBLEMS)
        for p in problems:
            x = z[p["id"]]
            assert x.dtype == np.int8 and x.shape == (p["n"], p["n_items"]), p["id"]
            allowed = {0, 1} if p["item_type"] == "binary" else {1, 2, 3, 4, 5}
            assert set(np.unique(x[x >= 0]).tolist()) <= allowed, p["id"]
            assert (p["missing"] == "fiml") == bool((x < 0).any()), p["id"]
    ref = _suite.lavaan_file()
    assert ref["software"]["lavaan"] == "0.6.14"
    assert [r["id"] for r in ref["results"]] == [p["id"] for p in problems]
    assert {p["family"] for p in problems} == {"one_factor", "correlated", "second_order",
                                               "bifactor", "weak_marker", "small_n", "hard"}
    for r in ref["results"]:
        if r["converged"]:
            assert r["chisq_tight"] <= r["chisq"] * (1 + 1e-12) + 1e-12, r["id"]


def test_fast_subset_is_stratified():
    fams = {PROBLEMS[i]["family"] for i in FAST}
    assert fams == {p["family"] for p in PROBLEMS.values()}
    assert all(i in FAST for i, p in PROBLEMS.items() if p["hard"])
