"""Categorical omega and AVE of a second-order WLSMV fit against semTools 0.5.6 / lavaan 0.6.14
(tests/reference/r/ordinal_higher.R on ref_extra/second_order_ordinal.csv: 1,500 rows of
a simulated tier, 4 competencies x 5 five-point items). A first-order factor's omega uses its
total variance (lavaan's cov.lv), not its disturbance under the tier factor; the estimates
path once read the disturbance and failed on the factor-on-factor loadings."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import psychoval as pv
from tests._tolerances import assert_close

# WLSMV numerics (20 s and more): run in the main CI pass only (the pandas 2.2 pass skips
# slow tests), to keep CI short
pytestmark = pytest.mark.slow

REF = Path(__file__).parent / "reference" / "ref_extra"
CHECKS = {c["id"]: c for c in json.loads((REF / "ordinal_higher.json").read_text())["checks"]}


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "second_order_ordinal.csv")


@pytest.mark.parametrize("cid", sorted(CHECKS))
def test_omega_and_ave_match_semtools(data, cid):
    check = CHECKS[cid]
    fit = pv.cfa(check["model"], data, ordered=True)
    assert fit.converged
    vals = check["values"]
    omega = fit.composite_reliability()
    assert sorted(omega.index) == sorted(vals["omega"])
    for f, v in vals["omega"].items():
        assert_close(omega[f], v, "iterative", what=f"{cid} omega {f}")
    interval = fit.omega_interval().set_index("factor")["omega"]
    pd.testing.assert_series_equal(interval.rename("omega"), omega.rename("omega"),
                                   check_names=False, check_index_type=False, rtol=1e-12)
    if "omega_fitted" in vals:
        fitted = fit.composite_reliability(obs_var=False)
        for f, v in vals["omega_fitted"].items():
            assert_close(fitted[f], v, "iterative", what=f"{cid} omega obs_var=False {f}")
    if "ave" in vals:
        ave = fit.ave()
        for f, v in vals["ave"].items():
            assert_close(ave[f], v, "iterative", what=f"{cid} AVE {f}")
        assert_close(fit.fit_measures["chisq_scaled"], vals["chisq_scaled"], "cfa",
                     what=f"{cid} chisq_scaled")


def test_higher_order_omega_is_refused_with_the_reason(data):
    fit = pv.cfa(CHECKS["second_order.wlsmv"]["model"], data, ordered=True)
    with pytest.raises(NotImplementedError, match="higher-order"):
        fit.composite_reliability(higher=["foundation"])


def test_theta_fits_refuse_reliability_on_the_wrong_scale():
    """semTools gives the same categorical omega for delta and theta fits (bfi A/C: .597);
    ours is computed on the delta scales, so a theta fit is refused, naming the refit."""
    data = pd.read_csv(REF / "second_order_ordinal.csv")
    model = CHECKS["correlated.wlsmv"]["model"]
    fit = pv.cfa(model, data, ordered=True, parameterization="theta")
    for call in (fit.composite_reliability, fit.omega_interval, fit.ave, fit.fornell_larcker):
        with pytest.raises(NotImplementedError, match="parameterization='delta'"):
            call()
