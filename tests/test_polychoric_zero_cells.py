"""lavaan 0.6.14's empty-cell treatment in ``polychoric(method="lavaan")`` (and
``tetrachoric(method="lavaan")``), against ``lavCor`` (tests/reference/r/zero_cells.R).

lavaan (``lav_bvord_cor_twostep_fit``, defaults ``zero.add = c(0.5, 0)``,
``zero.keep.margins = TRUE``): in the 2 x 2 table of two dichotomous items, one empty cell
gets 0.5 added to it and to the other cell of its diagonal and 0.5 subtracted from the other
two (margins and thresholds unchanged); two empty cells give rho = +-1; larger tables are
not corrected; rho is bounded to [-0.999, 0.999]. Achieved: 3e-8 (lavaan's nlminb precision).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from tests.reference import _refs

CHECKS = _refs.extra_checks("zero_cells")


def _ref(cid: str, names) -> np.ndarray:
    rows = {r["_row"]: r for r in CHECKS[cid]["values"]["cor"]}
    return np.array([[rows[a][b] for b in names] for a in names])


def _data() -> pd.DataFrame:
    return _refs.extra_data("zero_cells")


@pytest.mark.parametrize(("cid", "correct"), [("zero_cells.lavCor", 0.5),
                                              ("zero_cells.lavCor.add025", 0.25)])
def test_lavaan_zero_cell_correction_matches_lavcor(cid, correct):
    d = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = pv.polychoric(d, method="lavaan", correct=correct)
    ref = _ref(cid, list(d.columns))
    np.testing.assert_allclose(res.rho.to_numpy(), ref, rtol=0, atol=1e-7)
    # the data do have corrected tables: four 2 x 2 tables with one empty cell
    assert res.corrected_cells == 4 == len(CHECKS["zero_cells.lavCor"]["values"]["empty_tables"])
    assert res.converged


def test_thresholds_unchanged_by_the_correction():
    d = _data()
    res = pv.polychoric(d, method="lavaan")
    th = CHECKS["zero_cells.lavCor"]["values"]["th"]
    for item in d.columns:
        for t in range(d[item].nunique() - 1):
            assert res.thresholds.loc[item, f"t{t + 1}"] == pytest.approx(
                th[f"{item}|t{t + 1}"], abs=1e-7)


def test_correction_changes_the_empty_cell_pairs_only():
    d = _data()
    a = pv.polychoric(d, method="lavaan").rho.to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = pv.polychoric(d, method="lavaan", correct=0.0).rho.to_numpy()
    changed = {tuple(sorted(p)) for p in zip(*np.nonzero(np.abs(a - b) > 1e-9), strict=True)}
    names = list(d.columns)
    empty = {tuple(sorted((names.index(t[0]), names.index(t[1]))))
             for t in CHECKS["zero_cells.lavCor"]["values"]["empty_tables"]}
    assert changed == empty
    # uncorrected, the likelihood of such a table rises towards |rho| = 1 (very flat there)
    iu, ju = zip(*sorted(empty), strict=True)
    assert (np.abs(b[iu, ju]) > np.abs(a[iu, ju]) + 0.05).all()


def test_two_empty_cells_give_plus_minus_one():
    d = _data()[["y1", "y2", "y3"]].copy()
    d["y9"] = d["y1"]
    d["y10"] = 3 - d["y1"]
    res = pv.polychoric(d, method="lavaan")
    np.testing.assert_allclose(res.rho.to_numpy(), _ref("zero_cells.lavCor.two_empty",
                                                        list(d.columns)), rtol=0, atol=1e-7)
    assert res.rho.loc["y1", "y9"] == 1.0
    assert res.rho.loc["y1", "y10"] == -1.0
    assert res.rho.loc["y9", "y10"] == -1.0
    assert res.converged


def test_tetrachoric_lavaan_uses_the_same_correction():
    d = _data()[[f"y{i}" for i in range(1, 7)]]
    tet = pv.tetrachoric(d, method="lavaan").rho.to_numpy()
    ref = _ref("zero_cells.lavCor", list(_data().columns))[:6, :6]
    np.testing.assert_allclose(tet, ref, rtol=0, atol=1e-7)


def test_hand_made_table_keeps_margins():
    # table [[30, 10], [0, 20]]: the empty cell is off the main diagonal, so lavaan fits
    # [[29.5, 10.5], [0.5, 19.5]] (0.5 moved from the main diagonal to the other one)
    x = np.array([[0, 0]] * 30 + [[0, 1]] * 10 + [[1, 1]] * 20, dtype=float)
    y = np.array([[0, 0]] * 59 + [[0, 1]] * 21 + [[1, 0]] * 1 + [[1, 1]] * 39, dtype=float)
    # doubling the corrected table gives integer counts with the same MLE
    r_corr = pv.polychoric(x, method="lavaan").rho.iloc[0, 1]
    r_int = pv.polychoric(y, method="lavaan").rho.iloc[0, 1]
    assert r_corr == pytest.approx(r_int, abs=1e-9)


def test_independent_2x2_table_is_exactly_zero():
    x = np.array([[0, 0]] * 10 + [[0, 1]] * 20 + [[1, 0]] * 5 + [[1, 1]] * 10, dtype=float)
    assert pv.polychoric(x, method="lavaan").rho.iloc[0, 1] == 0.0


def test_psych_conventions_untouched():
    d = _data()[[f"y{i}" for i in range(1, 7)]]
    res = pv.tetrachoric(d)  # psych: correct added to every empty cell of every table
    assert res.method == "psych"
    assert res.corrected_cells == 4


def test_wlsmv_fit_with_corrected_tables_matches_lavaan():
    """lavaan's whole WLSMV fit on the data (one factor, y1..y8 ordered): with the refusal
    lifted (checked on a patched copy) NACOV 2.0e-7 of a largest element of 8.4, WLS.obs
    3e-8, estimates 6.6e-7, SEs 7e-8, chisq / scaled chisq / shift 4e-8 relative."""
    from psychoval.stats.sem._cfa_ordinal import fit_dwls

    ref = CHECKS["zero_cells.wlsmv"]
    v = ref["values"]
    fit = fit_dwls(ref["model"], _data().astype(float))
    ss = fit.sample
    assert list(ss.names) == v["gamma_names"]
    np.testing.assert_allclose(ss.wls_obs, v["wls_obs"], rtol=0, atol=1e-7)
    gam = np.array(v["gamma"])
    assert np.abs(ss.nacov - gam).max() <= 1e-7 * np.abs(gam).max()
    pe = v["parameterEstimates"]
    for r in fit.estimates.itertuples():
        k = f"{r.lhs}{r.op}{r.rhs}"
        assert r.est == pytest.approx(pe[k]["est"], abs=1e-6 * max(1.0, abs(r.est))), k
        assert r.se == pytest.approx(pe[k]["se"], abs=1e-6), k
    fm = v["fitMeasures"]
    assert fit.chisq == pytest.approx(fm["chisq"], rel=1e-6)
    assert fit.chisq_scaled == pytest.approx(fm["chisq.scaled"], rel=1e-6)
    assert fit.shift == pytest.approx(v["shift_parameter"], rel=1e-6)
