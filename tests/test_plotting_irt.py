"""IRT plots (issue 20): item characteristic and category curves, information with the SEM
and the cut scores, the test characteristic curve mapping summed-score cuts to theta. The
drawn data are checked against the result's own methods at the plotted theta."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import psychoval as pv  # noqa: E402
from psychoval import plotting  # noqa: E402
from psychoval.exceptions import SpecificationError  # noqa: E402

ITEMS = [f"i{j}" for j in range(1, 6)]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fit_2pl():
    rng = np.random.default_rng(2020)
    theta = rng.standard_normal(500)
    a = np.array([0.8, 1.2, 1.5, 1.0, 2.0])
    b = np.array([-1.5, -0.5, 0.0, 0.7, 1.3])
    p = 1 / (1 + np.exp(-a * (theta[:, None] - b)))
    x = (rng.random((500, 5)) < p).astype(float)
    return pv.irt(pd.DataFrame(x, columns=ITEMS), model="2PL")


@pytest.fixture(scope="module")
def fit_grm():
    rng = np.random.default_rng(2021)
    theta = rng.standard_normal(500)
    a = np.array([1.0, 1.4, 0.9, 1.7, 1.2])
    bounds = np.array([[-1.5, -0.3, 1.0], [-1.0, 0.0, 1.2], [-2.0, -0.5, 0.5],
                       [-1.2, 0.2, 1.5], [-0.8, 0.4, 1.8]])
    # P(X >= k) = logistic(a (theta - b_k)); categories 1..4 (Likert-like values)
    cum = 1 / (1 + np.exp(-a[None, :, None] * (theta[:, None, None] - bounds[None])))
    x = 1 + (rng.random((500, 5))[:, :, None] < cum).sum(axis=2).astype(float)
    return pv.irt(pd.DataFrame(x, columns=ITEMS), model="GRM")


GRID = np.linspace(-4, 4, 201)


def test_exported():
    for name in ("plot_item_curves_irt", "plot_information", "plot_test_characteristic"):
        assert name in plotting.__all__ and callable(getattr(plotting, name))


@pytest.mark.parametrize("fit", ["fit_2pl", "fit_grm"])
def test_item_curves_expected(fit, request):
    res = request.getfixturevalue(fit)
    fig, ax = plt.subplots()
    out = plotting.plot_item_curves_irt(res, ax=ax)
    assert out is ax and len(ax.lines) == 5
    es = res.expected_scores(GRID)
    for line, item in zip(ax.lines, ITEMS, strict=True):
        np.testing.assert_allclose(line.get_xdata(), GRID)
        np.testing.assert_allclose(line.get_ydata(), es[item].to_numpy())
        assert line.get_label() == item
    assert ax.get_legend() is not None
    assert ax.get_xlabel() == "theta" and ax.get_ylabel() == "expected item score"
    # a subset on a coarser, narrower grid; one item: no legend
    ax = plotting.plot_item_curves_irt(res, items="i3", theta=(-2, 3), n_points=11)
    assert len(ax.lines) == 1 and ax.get_legend() is None
    grid = np.linspace(-2, 3, 11)
    np.testing.assert_allclose(ax.lines[0].get_ydata(),
                               res.expected_scores(grid)["i3"].to_numpy())


def test_item_curves_categories(fit_2pl, fit_grm):
    ax = plotting.plot_item_curves_irt(fit_grm, items=["i2"], kind="categories")
    pr = fit_grm.probabilities(GRID)
    assert len(ax.lines) == 4
    for line, cat in zip(ax.lines, [1.0, 2.0, 3.0, 4.0], strict=True):
        np.testing.assert_allclose(line.get_ydata(), pr[("i2", cat)].to_numpy())
        assert line.get_label() == f"{cat:g}"
    total = np.sum([line.get_ydata() for line in ax.lines], axis=0)
    np.testing.assert_allclose(total, 1.0, atol=1e-12)
    # several items: all their categories, labelled with the item
    ax = plotting.plot_item_curves_irt(fit_grm, items=["i1", "i5"], kind="categories")
    assert len(ax.lines) == 8 and ax.lines[4].get_label() == "i5: 1"
    # 0/1 items: the (item, 1) curve is the item characteristic curve
    ax = plotting.plot_item_curves_irt(fit_2pl, items="i4", kind="categories")
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[1].get_ydata(),
                               fit_2pl.expected_scores(GRID)["i4"].to_numpy())


@pytest.mark.parametrize("fit", ["fit_2pl", "fit_grm"])
def test_information_sem_and_cuts(fit, request):
    res = request.getfixturevalue(fit)
    fig, ax = plt.subplots()
    out = plotting.plot_information(res, items=["i1", "i4"], cuts=[-0.5, 1.25], ax=ax)
    assert out is ax
    info = res.information(GRID)
    # test information, two items, two cut lines
    assert len(ax.lines) == 5
    np.testing.assert_allclose(ax.lines[0].get_xdata(), GRID)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), info["test"].to_numpy())
    np.testing.assert_allclose(ax.lines[1].get_ydata(), info["i1"].to_numpy())
    np.testing.assert_allclose(ax.lines[2].get_ydata(), info["i4"].to_numpy())
    assert [line.get_xdata()[0] for line in ax.lines[3:]] == [-0.5, 1.25]
    assert [t.get_text() for t in ax.texts] == ["cut -0.5", "cut 1.25"]
    # the SEM on the twin axis
    assert len(fig.axes) == 2
    twin = fig.axes[1]
    assert len(twin.lines) == 1 and twin.get_ylabel() == "conditional SEM"
    np.testing.assert_allclose(twin.lines[0].get_ydata(), res.sem(GRID).to_numpy())
    np.testing.assert_allclose(twin.lines[0].get_ydata(),
                               1 / np.sqrt(info["test"].to_numpy()))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["test information", "i1", "i4", "SEM"]
    assert ax.get_xlabel() == "theta" and ax.get_ylabel() == "information"


def test_information_without_sem(fit_2pl):
    fig, ax = plt.subplots()
    plotting.plot_information(fit_2pl, show_sem=False, cuts=0.3, ax=ax)
    assert len(fig.axes) == 1 and len(ax.lines) == 2 and ax.get_legend() is None
    assert ax.lines[1].get_xdata()[0] == 0.3


@pytest.mark.parametrize("fit", ["fit_2pl", "fit_grm"])
def test_test_characteristic_maps_raw_cuts(fit, request):
    res = request.getfixturevalue(fit)
    tcc = res.expected_scores(GRID)["test"].to_numpy()
    lo, hi = tcc[0], tcc[-1]
    cuts_raw = [lo + 0.3 * (hi - lo), lo + 0.75 * (hi - lo), round((lo + hi) / 2)]
    fig, ax = plt.subplots()
    out = plotting.plot_test_characteristic(res, cuts_raw=cuts_raw, ax=ax)
    assert out is ax
    # the curve, then per cut a horizontal and a vertical line
    assert len(ax.lines) == 1 + 2 * len(cuts_raw)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), GRID)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), tcc)
    for k, cut in enumerate(cuts_raw):
        horizontal, vertical = ax.lines[1 + 2 * k], ax.lines[2 + 2 * k]
        assert horizontal.get_ydata()[0] == cut
        at = vertical.get_xdata()[0]
        assert -4 < at < 4
        np.testing.assert_allclose(res.expected_scores(at)["test"].iloc[0], cut, atol=1e-6)
        # and close to the linear interpolation on the drawn curve
        assert abs(at - np.interp(cut, tcc, GRID)) < 0.01
    assert len(ax.texts) == len(cuts_raw)
    assert ax.texts[0].get_text().startswith(f"{cuts_raw[0]:g} -> theta")
    assert ax.get_ylabel() == "expected summed score"
    # the theta equivalents go on to the information plot
    thetas = [line.get_xdata()[0] for line in ax.lines[2::2]]
    ax2 = plotting.plot_information(res, cuts=thetas, show_sem=False)
    assert [line.get_xdata()[0] for line in ax2.lines[1:]] == thetas


def test_errors(fit_2pl):
    f = fit_2pl
    with pytest.raises(SpecificationError, match=r"unknown item\(s\) 'zz'.*'i1'"):
        plotting.plot_item_curves_irt(f, items=["i1", "zz"])
    with pytest.raises(SpecificationError, match=r"unknown item\(s\) 'q9'"):
        plotting.plot_information(f, items="q9")
    with pytest.raises(SpecificationError, match="items= is empty"):
        plotting.plot_information(f, items=[])
    with pytest.raises(SpecificationError, match="kind='icc' is not one of"):
        plotting.plot_item_curves_irt(f, kind="icc")
    with pytest.raises(SpecificationError, match="must be finite and increasing"):
        plotting.plot_item_curves_irt(f, theta=(3, -3))
    with pytest.raises(SpecificationError, match="must be finite and increasing"):
        plotting.plot_information(f, theta=(0, np.inf))
    with pytest.raises(SpecificationError, match="must be a range"):
        plotting.plot_test_characteristic(f, theta=4)
    with pytest.raises(SpecificationError, match="n_points=1 must be an integer"):
        plotting.plot_information(f, n_points=1)
    with pytest.raises(SpecificationError, match="cuts=.* must be finite numbers"):
        plotting.plot_information(f, cuts=[0.0, np.nan])
    with pytest.raises(SpecificationError, match="cuts='high' must be"):
        plotting.plot_information(f, cuts="high")
    with pytest.raises(SpecificationError, match="cuts 5 outside the plotted theta range"):
        plotting.plot_information(f, cuts=[0, 5])
    with pytest.raises(SpecificationError, match="cuts_raw=.* must be finite numbers"):
        plotting.plot_test_characteristic(f, cuts_raw=[np.inf])
    with pytest.raises(SpecificationError, match="cuts_raw 6 outside the expected summed"):
        plotting.plot_test_characteristic(f, cuts_raw=[2, 6])
    # nothing was drawn by a call that failed
    assert plt.get_fignums() == []


def test_tcc_not_increasing_cannot_map_cuts():
    class Falling:  # the public face the plot uses: a curve falling on part of the range
        items = ("x",)
        model = "2PL"

        @staticmethod
        def expected_scores(theta):
            th = np.atleast_1d(np.asarray(theta, dtype=float))
            return pd.DataFrame({"x": np.cos(th), "test": np.cos(th)},
                                index=pd.Index(th, name="theta"))

    ax = plotting.plot_test_characteristic(Falling(), theta=(-1, 1))
    assert len(ax.lines) == 1
    with pytest.raises(SpecificationError, match="not increasing over the theta range"):
        plotting.plot_test_characteristic(Falling(), theta=(-1, 1), cuts_raw=0.9)
