"""result.plot() on EFA, CFA, omega, parallel analysis and item analysis results (the
report's figures from Python): every drawn number is the result's own."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Ellipse, Rectangle  # noqa: E402

import psychoval as pv  # noqa: E402
from psychoval.exceptions import SpecificationError  # noqa: E402
from psychoval.plotting import plot_loadings  # noqa: E402

ITEMS = ["PRM1", "PRM2", "PRM3", "PRM4", "TOO1", "TOO2", "TOO3", "TOO4", "EVA1", "EVA2",
         "EVA3"]


@pytest.fixture(scope="module")
def scores():
    from psychoval.datasets import sample_framework

    return sample_framework().score(pv.load_sample()).scores[ITEMS].iloc[:400]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_efa_plot_is_the_loadings_heat_map(scores):
    res = pv.efa(scores, n_factors=3)
    fig, ax = plt.subplots()
    assert res.plot(ax=ax) is ax
    shown = np.ma.filled(ax.images[0].get_array(), np.nan)
    np.testing.assert_array_equal(shown, np.abs(res.loadings.to_numpy()))
    assert _texts(ax) == [f"{v:.2f}" for v in res.loadings.to_numpy().ravel()]
    assert [t.get_text() for t in ax.get_yticklabels()] == ITEMS
    assert plot_loadings(res) is not None  # a new figure without ax=


def test_cfa_plot_path_diagram_and_loadings(scores):
    res = pv.cfa({"prompting": ITEMS[:4], "tools": ITEMS[4:8]}, scores, missing="fiml")
    std = res.standardized()
    lam = std[std["op"] == "=~"]
    ax = res.plot()
    assert sum(isinstance(p, Ellipse) for p in ax.patches) == 2
    assert sum(isinstance(p, Rectangle) for p in ax.patches) == 8
    texts = _texts(ax)
    for v in lam["est_std"]:
        assert f"{v:.2f}" in texts
    r = std[(std["op"] == "~~") & (std["lhs"] == "prompting") & (std["rhs"] == "tools")]
    assert f"{float(r['est_std'].iloc[0]):.2f}" in texts
    ax = res.plot(kind="loadings")
    shown = np.ma.filled(ax.images[0].get_array(), np.nan)
    assert shown.shape == (8, 2)
    np.testing.assert_array_equal(shown[:4, 0], np.abs(lam["est_std"].to_numpy()[:4]))
    assert np.isnan(shown[:4, 1]).all() and np.isnan(shown[4:, 0]).all()
    with pytest.raises(ValueError, match="kind"):
        res.plot(kind="pie")


def test_omega_plot_schmid_leiman_and_reliability(scores):
    res = pv.omega(scores, n_factors=3)
    ax = res.plot()
    cols = ["g", "F1*", "F2*", "F3*"]
    shown = np.ma.filled(ax.images[0].get_array(), np.nan)
    np.testing.assert_array_equal(shown, np.abs(res.sl[cols].to_numpy()))
    assert [t.get_text() for t in ax.get_xticklabels()] == cols
    ax = res.plot(kind="reliability")
    widths = [p.get_width() for p in ax.patches]
    assert widths == [res.omega_h, res.omega_total,
                      *res.omega_group["total"].drop("g").to_list()]


def test_parallel_analysis_plot_is_the_scree(scores):
    res = pv.parallel_analysis(scores, seed=1, n_iter=5)
    ax = res.plot()
    observed, reference = ax.lines[0], ax.lines[1]
    np.testing.assert_array_equal(observed.get_ydata(), res.fa_values)
    np.testing.assert_array_equal(reference.get_ydata(), res.fa_threshold)
    assert len(ax.collections[0].get_offsets()) == res.n_factors
    ax = res.plot(components=True)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), res.pc_values)


def test_item_analysis_plot(scores):
    res = pv.item_analysis(scores)
    ax = res.plot()
    xy = ax.collections[0].get_offsets()
    np.testing.assert_array_equal(xy[:, 0], res.items["difficulty"].to_numpy())
    np.testing.assert_array_equal(xy[:, 1], res.items["r_drop"].to_numpy())


def test_plot_loadings_refuses_other_results(scores):
    with pytest.raises(SpecificationError, match="EFA, CFA or omega result, not AlphaResult"):
        plot_loadings(pv.alpha(scores))
