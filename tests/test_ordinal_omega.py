"""Categorical omega (src/psychoval/stats/sem/_ordinal_omega.py) against semTools 0.5.6
``compRelSEM`` on lavaan 0.6.14 WLSMV fits (tests/reference/r/ordinal_omega.R; bfi A1-A5,
C1-C5, the models of tests/reference/r/wlsmv_core.R).

Achieved: 1.2e-7 on our own fit_dwls fits (the loadings differ from lavaan's by up to 1e-6,
lavaan's nlminb stopping point); 1e-12 when fed lavaan's own estimates and polychorics.
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

from psychoval.stats.sem._cfa_ordinal import fit_dwls
from psychoval.stats.sem._ordinal_omega import categorical_omega
from tests.reference import _refs
from tests.test_wlsmv_core import ITEMS, _data

CHECKS = {"bfi.AC.wlsmv.omegaCat": "bfi.AC.wlsmv",
          "bfi.AC.wlsmv.collapsed.omegaCat": "bfi.AC.wlsmv.collapsed",
          "bfi_r.AC.wlsmv.omegaCat": "reversed"}
KINDS = (("omega", {}), ("omega_fitted", {"obs_var": False}),
         ("omega_linear", {"ord_scale": False}))


def _dataset(kind: str) -> pd.DataFrame:
    if kind == "reversed":  # A1, C4, C5 rescored 7 - x (the reference setup's dat_r)
        d = _data("bfi.AC.wlsmv").copy()
        for v in ("A1", "C4", "C5"):
            d[v] = 7 - d[v]
        return d
    return _data(kind)


@pytest.fixture(scope="module")
def fits():
    refs = _refs.extra_checks("ordinal_omega")
    return {cid: (refs[cid], fit_dwls(refs[cid]["model"], _dataset(kind), ordered_items=ITEMS))
            for cid, kind in CHECKS.items()}


@pytest.mark.parametrize("cid", list(CHECKS))
@pytest.mark.parametrize(("key", "kw"), KINDS, ids=[k for k, _ in KINDS])
def test_categorical_omega_matches_semtools(fits, cid, key, kw):
    ref, fit = fits[cid]
    om = categorical_omega(fit, **kw)
    want = ref["values"][key]
    assert list(om.index) == list(want)
    for f, v in want.items():
        assert om[f] == pytest.approx(v, rel=0, abs=1e-6), (f, om[f], v)


def test_formula_exact_on_lavaans_own_estimates():
    """Fed lavaan's estimates, thresholds and polychorics, omegaCat is reproduced to 1e-12."""
    core = _refs.extra_checks("wlsmv_core")["bfi.AC.wlsmv"]["values"]
    rows = []
    for key, v in core["parameterEstimates"].items():
        for op in ("=~", "~~", "|"):
            if op in key and "~*~" not in key:
                lhs, rhs = key.split(op, 1)
                rows.append((lhs, op, rhs, v["est"]))
                break
    est = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "est"])
    cor = np.array([[row[c] for c in ITEMS] for row in core["sampstat_cor"]])
    fake = types.SimpleNamespace(estimates=est,
                                 sample=types.SimpleNamespace(items=tuple(ITEMS), cor=cor))
    ref = _refs.extra_checks("ordinal_omega")["bfi.AC.wlsmv.omegaCat"]["values"]
    for key, kw in KINDS:
        om = categorical_omega(fake, **kw)
        for f, v in ref[key].items():
            assert om[f] == pytest.approx(v, rel=0, abs=1e-12), (key, f)


def test_single_indicator_factor_is_left_out(fits):
    _ref, fit = fits["bfi_r.AC.wlsmv.omegaCat"]
    est = fit.estimates.copy()
    keep = ~((est.op == "=~") & (est.lhs == "C") & (est.rhs != "C1"))
    fake = types.SimpleNamespace(estimates=est[keep], sample=fit.sample)
    assert list(categorical_omega(fake).index) == ["A"]


FIVE = {"agree": [f"A{i}" for i in range(1, 6)], "conscientious": [f"C{i}" for i in range(1, 6)],
        "extraversion": [f"E{i}" for i in range(1, 6)],
        "neuroticism": [f"N{i}" for i in range(1, 6)], "openness": [f"O{i}" for i in range(1, 6)]}


def test_five_factor_reference_of_the_shared_set():
    """bfi/semTools.5f.WLSMV.compRelSEM (tests/reference/ref/bfi.json): the 5-factor WLSMV fit
    on dat_r, fitted by fit_dwls directly."""
    items = [v for vs in FIVE.values() for v in vs]
    model = "\n".join(f"{f} =~ {' + '.join(vs)}" for f, vs in FIVE.items())
    fit = fit_dwls(model, _refs.dat_r("bfi")[items], ordered_items=items)
    om = categorical_omega(fit)
    ref = _refs.checks("bfi")["semTools.5f.WLSMV.compRelSEM"]["values"]["omega"]
    for f, v in ref.items():
        assert om[f] == pytest.approx(v, rel=0, abs=1e-6), (f, om[f], v)
