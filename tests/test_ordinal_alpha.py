"""Ordinal alpha (``OrdinalCFAResult.ordinal_alpha``): alpha of the polychoric correlations
per factor with a delta-method interval from the fit's NACOV.

Against psych 2.2.9 ``alpha(lavCor(ordered))`` (tests/reference/r/ordinal_alpha.R): bfi
A1-A5, C1-C5 and ability (4 factors), at "iterative" (achieved 1e-8: the polychorics agree with
lavCor to 3e-8). The delta-method SE against a bootstrap of the same statistic on simulated
data (seeded; N = 500, five 4-category items): delta 0.01696 vs bootstrap 0.01765 over 200
replicates (Monte Carlo SE 0.0009); asserted within three Monte Carlo SEs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.exceptions import SpecificationError
from tests._tolerances import assert_close
from tests.test_ordinal_omega_se import MODEL, _simulated

REF = json.loads((Path(__file__).parent / "reference" / "ref_extra" / "ordinal_alpha.json")
                 .read_text())["checks"]
DATA = Path(__file__).parent / "reference" / "data"


@pytest.mark.parametrize("check", REF, ids=[c["id"] for c in REF])
def test_matches_psych_alpha_of_the_lavaan_polychorics(check):
    items = [v.strip() for line in check["model"].splitlines()
             for v in line.split("=~")[1].split("+")]
    data = pd.read_csv(DATA / f"{check['data']}.csv")[items].dropna()
    fit = pv.cfa(check["model"], data, ordered=True)
    assert fit.n_obs == check["nobs"]
    out = fit.ordinal_alpha().set_index("factor")
    assert sorted(out.index) == sorted(check["values"])
    for f, v in check["values"].items():
        assert_close(out.loc[f, "alpha"], v["std_alpha"], "iterative", what=f"{check['id']} {f}")
        assert out.loc[f, "ci_lower"] < out.loc[f, "alpha"] < out.loc[f, "ci_upper"]


def test_delta_method_se_agrees_with_the_bootstrap():
    x = _simulated(seed=5, n=500)
    fit = pv.cfa(MODEL, x, ordered=True)
    out = fit.ordinal_alpha()
    alpha, se = out["alpha"].item(), out["se"].item()
    rng = np.random.default_rng(11)
    n_boot, k = 200, x.shape[1]
    boots = np.empty(n_boot)
    for b in range(n_boot):
        r = pv.polychoric(x.iloc[rng.integers(0, len(x), len(x))], method="lavaan").rho
        rbar = r.to_numpy()[np.triu_indices(k, 1)].mean()
        boots[b] = k * rbar / (1 + (k - 1) * rbar)
    boot_se = boots.std(ddof=1)
    mc_se = boot_se / math.sqrt(2 * (n_boot - 1))  # SE of a normal SD estimate
    assert abs(se - boot_se) < 3 * mc_se, (se, boot_se, mc_se)
    assert abs(boots.mean() - alpha) < 3 * boot_se / math.sqrt(n_boot) + 0.01


def test_face_and_refusals():
    x = _simulated()
    fit = pv.cfa(MODEL, x, ordered=True)
    out = fit.ordinal_alpha(confidence_level=0.9)
    assert list(out.columns) == ["factor", "n_items", "alpha", "se", "ci_lower", "ci_upper"]
    assert out["n_items"].item() == 5
    assert out["ci_lower"].item() == pytest.approx(out["alpha"].item()
                                                   - 1.6448536269514722 * out["se"].item())
    with pytest.raises(SpecificationError, match="confidence_level"):
        fit.ordinal_alpha(confidence_level=0)
    mixed = pv.cfa(MODEL, x.assign(y5=x["y5"] + 0.5), ordered=["y1", "y2", "y3", "y4"])
    with pytest.raises(NotImplementedError, match="continuous: y5"):
        mixed.ordinal_alpha()
