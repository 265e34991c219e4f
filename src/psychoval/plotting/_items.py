"""Item-analysis plots. matplotlib is imported lazily; every function takes ``ax=``
and returns it."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_item_curves", "plot_distractors", "plot_difficulty_discrimination"]


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure().add_subplot()


def plot_item_curves(data: Any, *, items: Any = None, n_bins: int = 10,
                     answer_key: Any = None, ax: Any = None) -> Any:
    """Empirical item characteristic curves: mean item score (difficulty units for 0/1
    items) in ``n_bins`` total-score groups (ties kept together), against the group's mean
    total. Complete cases only."""
    from scipy.stats import rankdata

    from psychoval._input import apply_missing, as_item_matrix

    if answer_key is not None:
        from psychoval.stats.items._keyed import score_with_key

        data = score_with_key(data, answer_key)
    m, _ = apply_missing(as_item_matrix(data), "listwise", allowed=("listwise",))
    x = m.values
    total = x.sum(axis=1)
    ranks = rankdata(total, method="average")
    group = np.minimum((n_bins * (ranks - 0.5) / m.n).astype(int), n_bins - 1)
    used = np.unique(group)
    centre = np.array([total[group == g].mean() for g in used])
    ax = _axes(ax)
    names = list(m.items) if items is None else list(items)
    for name in names:
        j = m.items.index(name)
        ax.plot(centre, [x[group == g, j].mean() for g in used], marker="o", label=name)
    ax.set_xlabel("total score (group mean)")
    ax.set_ylabel("mean item score")
    ax.set_title("Empirical item characteristic curves")
    ax.legend(fontsize="small")
    return ax


def plot_distractors(result: Any, item: str, *, ax: Any = None) -> Any:
    """Share choosing each option of ``item`` across the total-score groups of a
    :func:`~psychoval.distractors` result (the key drawn thick)."""
    from psychoval.exceptions import DataError

    rows = result.options[result.options["item"] == item]
    if rows.empty:
        raise DataError(f"item {item!r} is not in the distractor result")
    ax = _axes(ax)
    groups = np.arange(1, result.n_groups + 1)
    for _, row in rows.iterrows():
        shares = [row[f"p_g{g}"] for g in groups]
        ax.plot(groups, shares, marker="o", linewidth=3 if row["is_key"] else 1,
                label=f"{row['option']}{' (key)' if row['is_key'] else ''}")
    ax.set_xticks(groups)
    ax.set_xlabel("total-score group (1 = lowest)")
    ax.set_ylabel("share choosing the option")
    ax.set_ylim(0, 1)
    ax.set_title(f"Distractors of {item}")
    ax.legend(fontsize="small")
    return ax


def plot_difficulty_discrimination(result: Any, *, discrimination: str = "r_drop",
                                   ax: Any = None) -> Any:
    """Scatter of difficulty against discrimination (``"r_drop"`` or ``"d"``) from an
    :func:`~psychoval.item_analysis` result, items labelled."""
    from psychoval._input import check_choice

    check_choice("discrimination", discrimination, ("r_drop", "raw_r", "d"))
    t = result.items
    ax = _axes(ax)
    ax.scatter(t["difficulty"], t[discrimination])
    for name, xv, yv in zip(t.index, t["difficulty"], t[discrimination], strict=True):
        ax.annotate(str(name), (xv, yv), fontsize="x-small", xytext=(3, 3),
                    textcoords="offset points")
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.set_xlabel("difficulty")
    ax.set_ylabel(discrimination)
    ax.set_title("Difficulty and discrimination")
    return ax
