"""pv.plotting.plot_skills_gap: the competency x role heat map of a skills-gap result."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import psychoval as pv  # noqa: E402
from psychoval.exceptions import SpecificationError  # noqa: E402
from psychoval.plotting import plot_skills_gap  # noqa: E402


@pytest.fixture(scope="module")
def gaps():
    from psychoval.datasets import sample_framework

    return pv.skills_gap(pv.load_sample(), framework=sample_framework(),
                         exclude={"ethics": "alpha fails"})


def test_heat_map_cells_are_the_role_table(gaps):
    fig, ax = plt.subplots()
    assert plot_skills_gap(gaps, ax=ax) is ax
    g = gaps.groups
    roles = list(dict.fromkeys(g["role"]))
    comps = list(dict.fromkeys(g["competency"]))
    shown = np.ma.filled(ax.images[0].get_array(), np.nan)
    assert shown.shape == (len(comps), len(roles))
    for r in g[g["used"]].itertuples():
        assert shown[comps.index(r.competency), roles.index(r.role)] == r.share_below
    # the excluded competency: masked in the value layer, grey layer and "not used" label
    i, j = comps.index("ethics"), roles.index("sales")
    assert np.isnan(shown[i, j]) and len(ax.images) == 2
    texts = {(t.get_position(), t.get_text()) for t in ax.texts}
    assert ((j, i), "not used") in texts
    assert [t.get_text() for t in ax.get_xticklabels()] == roles
    plt.close(fig)


def test_mean_gap_is_centred_and_errors(gaps):
    fig, ax = plt.subplots()
    plot_skills_gap(gaps, value="mean_gap", annotate=False, ax=ax)
    lo, hi = ax.images[0].get_clim()
    assert lo == -hi and hi == pytest.approx(gaps.groups.loc[gaps.groups["used"],
                                                             "mean_gap"].abs().max())
    assert not ax.texts
    with pytest.raises(SpecificationError, match="value="):
        plot_skills_gap(gaps, value="need", ax=ax)
    with pytest.raises(SpecificationError, match="skills_gap result"):
        plot_skills_gap(object(), ax=ax)
    plt.close(fig)
    assert isinstance(plot_skills_gap(gaps), matplotlib.axes.Axes)
    plt.close("all")
