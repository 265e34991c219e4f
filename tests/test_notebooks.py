"""Every notebook in notebooks/ runs top to bottom (nbclient), with warnings as errors.

The tutorials teach; they do not assert. What they claim is checked here: after a notebook's
own cells have run, the check in ``CHECKS`` runs as one more cell in the same kernel and
reads the notebook's variables (recomputing by hand where a number is shown as a claim). A
check may end by printing ``EXPORT <json>``; ``COMPARE`` then holds the numbers the notebook
showed against the R references (lavaan 0.6.14, psych 2.2.9) within tests/_tolerances.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests._tolerances import assert_close
from tests.reference import _refs

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))

CHECKS: dict[str, str] = {}
COMPARE: dict[str, Callable[[dict[str, Any]], None]] = {}

CHECKS["00_reading_responses"] = """
assert same == table and same is not table
"""

CHECKS["01_quickstart"] = """
# the planted defects are the items that fail
assert sorted(report.flagged_items) == ["CON3", "ETH4", "WRK3"]
item_fails = report.verdicts.query("level == 'item' and verdict == 'fail'")
assert set(item_fails["target"]) == {"CON3", "ETH4", "WRK3"}
assert counts["fail"] == len(report.verdicts.query("verdict == 'fail'")) > 0
assert sum(counts.values()) == len(report.verdicts)
assert {"check_key", "revise_item", "move_item", "review_dif"} <= set(report.actions["kind"])
"""

CHECKS["02_walkthrough"] = """
# every respondent is used: 948 complete cases of 1,500, but the EFA is pairwise and the CFA FIML
assert len(scores) == 1500 and n_complete == 948
assert efa.n_obs == 1500 and fit.n_obs == 1500 and fit.rows_dropped == () and fit.missing == "fiml"
cfa_rows = before.fit
assert (cfa_rows["n_obs"] == 1500).all(), cfa_rows
assert set(cfa_rows.query("estimator in ['ML', 'MLR']")["missing"]) == {"fiml"}
assert set(cfa_rows.query("estimator == 'WLSMV'")["missing"]) == {"pairwise"}
assert (cfa_rows["level"] == "tier").any()
# WRK3 loads with the prompting items, not with the workflow items
prm = loadings.loc[["PRM1", "PRM2", "PRM3"]].abs().mean().idxmax()
wrk = loadings.loc[["WRK1", "WRK4"]].abs().mean().idxmax()
assert loadings.loc["WRK3"].abs().idxmax() == prm != wrk
# the largest modification index moves WRK3 to prompting, under ML (FIML) and WLSMV
top = mi[mi["op"] == "=~"].iloc[0]
assert (top["lhs"], top["rhs"]) == ("prompting", "WRK3")
assert top["mi"] > 10.83 and top["sepc_all"] > 0.2
otop = omi[omi["op"] == "=~"].iloc[0]
assert (otop["lhs"], otop["rhs"]) == ("prompting", "WRK3") and otop["sepc_all"] > 0.2
# validate flags WRK3 and asks to move it; after the move it no longer does
assert "WRK3" in before.flagged_items
assert before.actions.query("kind == 'move_item'")["target"].tolist() == ["WRK3"]
assert "move_item" not in set(after.actions["kind"])
cross = after.cross_loadings.set_index("item")
if "WRK3" in cross.index:
    assert cross.loc["WRK3", "sepc_all"] < cross.loc["WRK3", "own_loading"]
assert after.counts["fail"] <= before.counts["fail"]
"""


CHECKS["04_reliability"] = """
import json as _json
import numpy as _np
# pairwise: the interval's n is every respondent
assert a.n_obs == 1500 and a.missing == "pairwise" and a.min_pairwise_n < 1500
# the three intervals contain alpha and agree to two decimals at this n
assert ((intervals["lower"] < a.raw_alpha) & (a.raw_alpha < intervals["upper"])).all()
assert intervals[["lower", "upper"]].max().sub(intervals[["lower", "upper"]].min()).max() < 0.01
# ETH4: dropping it raises alpha, and only it; its loading is the smallest
drops = a.alpha_drop["raw_alpha"]
assert drops.idxmax() == "ETH4" and drops["ETH4"] > a.raw_alpha > drops.drop("ETH4").max()
assert a.item_stats["r_drop"].idxmin() == "ETH4"
load = std[std["op"] == "=~"].set_index("rhs")["est_std"]
assert load.idxmin() == "ETH4" and load["ETH4"] < 0.35 < load.drop("ETH4").min()
# omega total of the one-factor CFA is above alpha; recomputed from the estimates by hand:
# (sum lambda)^2 phi / 1'S1, S the observed (FIML saturated) covariance
assert fit.n_obs == 1500 and omega_ethics["ethics"] > a.raw_alpha
_e = fit.estimates()
_lam = _e[_e["op"] == "=~"]["est"].to_numpy()
_phi = _e[(_e["op"] == "~~") & (_e["lhs"] == "ethics")]["est"].iloc[0]
assert abs(_lam.sum() ** 2 * _phi / _np.asarray(fit.sample_cov).sum() - omega_ethics["ethics"]) < 1e-10
# HS: omega_h < .5 < alpha < omega_total, the intervals contain the estimates
t = om.to_frame().set_index("statistic")
assert t.loc["omega_h", "estimate"] < 0.5 < t.loc["alpha", "estimate"] < t.loc["omega_total", "estimate"]
ok = t.dropna()
assert ((ok["lower"] <= ok["estimate"]) & (ok["estimate"] <= ok["upper"])).all()
# Spearman-Brown at k = 4 is the standardized alpha (closed form)
r = a.average_r
assert abs(4 * r / (1 + 3 * r) - a.std_alpha) < 1e-12
print("EXPORT " + _json.dumps({k: float(t.loc[k, "estimate"]) for k in ("omega_h", "omega_total", "omega_lim", "alpha", "g6", "ecv")}))
"""


def _compare_04(exported: dict[str, Any]) -> None:
    ref = _refs.checks("HolzingerSwineford1939")["omega.all9.minres"]["values"]
    names = {"omega_h": "omega_h", "omega_total": "omega.tot", "omega_lim": "omega.lim",
             "alpha": "alpha", "g6": "G6", "ecv": "ECV"}
    for ours, theirs in names.items():
        assert_close(exported[ours], ref[theirs], "iterative", what=f"notebook 04 {ours}")


COMPARE["04_reliability"] = _compare_04

CHECKS["05_cfa_for_lavaan_users"] = """
import json as _json
import numpy as _np
# the largest modification index frees visual =~ x9, and the LRT rejects the smaller model
top = fit.modindices().iloc[0]
assert (top["lhs"], top["op"], top["rhs"]) == ("visual", "=~", "x9")
cmp = pv.compare(fit, fit_x9).to_frame().dropna(subset=["pvalue"])
assert len(cmp) == 1 and cmp["pvalue"].iloc[0] < 1e-6 and cmp["df_diff"].iloc[0] == 1
# MLR: the ML estimates with other standard errors
assert _np.allclose(fit.estimates()["est"], fit_mlr.estimates()["est"], rtol=1e-6, atol=1e-8)
assert not _np.allclose(fit.estimates()["se"], fit_mlr.estimates()["se"])
# FIML keeps all 301 pupils where listwise would keep the complete ones
assert fit_fiml.n_obs == 301 and fit_fiml.missing == "fiml" and n_complete < 200
assert int(hs_missing[tests].isna().to_numpy().sum()) > 0 and hs[tests].notna().all().all()
# := is b - a with its delta-method SE (linear: sqrt(var a + var b - 2 cov), SE of a - b equals
# the SE under a == b's Wald test); the LRT of a == b agrees that they do not differ
e = est.set_index("label")
assert abs(e.loc["diff", "est"] - (e.loc["b", "est"] - e.loc["a", "est"])) < 1e-10
assert abs(e.loc["diff", "z"]) < 1.96
lrt = pv.compare(fit_eq, fit_lab).to_frame().dropna(subset=["pvalue"])
assert lrt["pvalue"].iloc[0] > 0.05 and lrt["df_diff"].iloc[0] == 1
assert fit_eq.fit_measures["df"] == fit.fit_measures["df"] + 1
out = {"ml": {k: float(fit.fit_measures[k]) for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic", "bic")},
       "mlr": {k: float(fit_mlr.fit_measures[k]) for k in ("chisq_scaled", "chisq_scaling_factor", "cfi_robust", "tli_robust", "rmsea_robust")},
       "est": {f"{r.lhs}{r.op}{r.rhs}": [float(r.est), float(r.se)] for r in fit.estimates().itertuples()},
       "se_mlr": {f"{r.lhs}{r.op}{r.rhs}": float(r.se) for r in fit_mlr.estimates().itertuples()},
       "std": {f"{r.lhs}{r.op}{r.rhs}": float(r.est_std) for r in std.itertuples()},
       "mi_top": float(top["mi"])}
print("EXPORT " + _json.dumps(out))
"""


def _compare_05(exported: dict[str, Any]) -> None:
    refs = _refs.checks("HolzingerSwineford1939")
    ml, mlr = refs["cfa.3f.ML.marker"]["values"], refs["cfa.3f.MLR"]["values"]
    for k, v in exported["ml"].items():
        assert_close(v, ml["fitMeasures"][k], "cfa", what=f"notebook 05 {k}")
    for k, v in exported["mlr"].items():
        assert_close(v, mlr["fitMeasures"][k.replace("_", ".")], "mlr", what=f"notebook 05 {k}")
    for key, (est, se) in exported["est"].items():
        if key in ml["parameterEstimates"]:
            assert_close([est, se], [ml["parameterEstimates"][key]["est"],
                                     ml["parameterEstimates"][key]["se"]], "cfa", what=key)
            assert_close(exported["se_mlr"][key], mlr["parameterEstimates"][key]["se"], "mlr",
                         what=f"{key} MLR se")
    # every row (21 free parameters, 3 fixed marker loadings) has its lavaan counterpart
    assert set(exported["est"]) == set(ml["parameterEstimates"]) and len(exported["est"]) == 24
    for key, v in exported["std"].items():
        assert_close(v, ml["standardizedSolution"][key]["est.std"], "cfa", what=f"{key} std")
    assert_close(exported["mi_top"], ml["modindices_top10"][0]["mi"], "modindices_fitted",
                 what="top MI")


COMPARE["05_cfa_for_lavaan_users"] = _compare_05

CHECKS["06_items_and_dif"] = """
import numpy as _np
items = ia.items
# CON3: the only negative discrimination; r_drop recomputed by hand on the scale's complete cases
assert items["r_drop"].idxmin() == "CON3" and (items["r_drop"] < 0).sum() == 1
cc = scores[concepts].dropna()
rest = cc.drop(columns="CON3").sum(axis=1)
assert abs(_np.corrcoef(cc["CON3"], rest)[0, 1] - items.loc["CON3", "r_drop"]) < 1e-10
assert items.loc["CON3", "alpha_gain"] > 0.2
# ETH4 is the weakest Likert item
likert = items[~items["dichotomous"]]
assert likert["r_drop"].idxmin() == "ETH4"
# CON3's key C has a negative rest correlation, B the largest, rising from lower to upper third
t = dis.to_frame().query("item == 'CON3'").set_index("option")
assert t.loc["C", "is_key"] and t.loc["C", "r_rest"] < 0 and t["r_rest"].idxmax() == "B"
assert t.loc["B", "p_g3"] > t.loc["B", "p_g1"]
# DIF: none on the 0/1 concepts items; PRM4 only on prompting, uniform, against the focal group
m = mh.to_frame()
assert not m["flagged"].any() and set(m["ets_class"]) == {"A"}
o = olr.to_frame().set_index("item")
assert o.index[o["flagged"]].tolist() == ["PRM4"]
assert o.loc["PRM4", "b_group"] < 0 and o.loc["PRM4", "favours"] == "reference"
assert o.loc["PRM4", "p_nonuniform"] > 0.05
# the flags name the three planted defects
f = flags.to_frame()
pairs = set(zip(f["item"], f["flag"]))
assert {("CON3", "negative_discrimination"), ("CON3", "likely_miskey"),
        ("ETH4", "alpha_rises_when_dropped")} <= pairs
assert "PRM4" in set(f["item"])
other = f[~f["item"].isin(["CON3", "ETH4", "PRM4"])]
assert set(other["flag"]) <= {"floor_effect", "ceiling_effect"}
"""


def _run(path: Path, check: str | None):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    # the first cell turns every warning into an error, as in the test suite
    nb.cells.insert(0, nbformat.v4.new_code_cell("import warnings; warnings.simplefilter('error')"))
    if check is not None:
        nb.cells.append(nbformat.v4.new_code_cell(check))
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def _exported(nb) -> dict[str, Any]:
    lines = [line for out in nb.cells[-1].get("outputs", []) if out.get("output_type") == "stream"
             for line in out["text"].splitlines() if line.startswith("EXPORT ")]
    assert len(lines) == 1, "the check cell prints one EXPORT line"
    return json.loads(lines[0][len("EXPORT "):])


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path):
    nb = _run(path, CHECKS.get(path.stem))
    if path.stem in COMPARE:
        COMPARE[path.stem](_exported(nb))


def test_tutorials_teach_without_asserts():
    # checks live in CHECKS above, not in the teaching text
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        assert not any("assert " in src for src in code), path.name
        assert not any(c.get("outputs") for c in cells if c["cell_type"] == "code"), (
            f"{path.name} is committed with outputs; clear them")


def test_every_check_names_a_notebook():
    assert set(CHECKS) <= {p.stem for p in NOTEBOOKS}
    assert set(COMPARE) <= set(CHECKS)


def test_bundled_holzinger_swineford_is_lavaans():
    # the tutorials say the bundled data are lavaan's HolzingerSwineford1939, unchanged: equal
    # to the file the R references were made from
    from psychoval.datasets import load_holzinger_swineford

    ours = load_holzinger_swineford()
    assert ours.equals(_refs.load_data("HolzingerSwineford1939"))
    assert ours.shape == (301, 15)
