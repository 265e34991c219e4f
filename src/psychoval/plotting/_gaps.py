"""The skills-gap heat map of a :func:`~psychoval.skills_gap` result: competency x role,
shaded by the share of each role below its target (or another column of the role table).
Competencies not used (they failed validation) are drawn grey and labelled "not used", never
as findings. matplotlib is imported lazily; the function takes ``ax=`` and returns it."""

from __future__ import annotations

from typing import Any

import numpy as np

from psychoval.exceptions import SpecificationError

__all__ = ["plot_skills_gap"]

_VALUES = ("share_below", "share_cannot_tell", "share_meets", "mean_gap")


def plot_skills_gap(result: Any, *, value: str = "share_below", annotate: bool = True,
                    cmap: str = "Blues", ax: Any = None) -> Any:
    """Heat map of a skills-gap result: one row per competency, one column per role.

    ``value``: ``"share_below"`` (default: the share of the role whose score interval lies
    below the target), ``"share_cannot_tell"``, ``"share_meets"`` or ``"mean_gap"``
    (target - score, on the mean-score scale). Cells without a target are blank; a
    competency that is not used (``exclude=``, e.g. failed validation) is grey with
    "not used". ``annotate`` writes each value in its cell.
    """
    from psychoval._input import check_choice

    check_choice("value", value, _VALUES)
    g = getattr(result, "groups", None)
    if g is None or not {"role", "competency", value, "used"} <= set(g.columns):
        raise SpecificationError("plot_skills_gap takes a pv.skills_gap result")
    if not len(g):
        raise SpecificationError("the skills-gap result has no role x competency rows")
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure().add_subplot()
    from matplotlib.colors import ListedColormap

    roles = list(dict.fromkeys(g["role"]))
    comps = list(dict.fromkeys(g["competency"]))
    data = np.full((len(comps), len(roles)), np.nan)
    unused = np.zeros(data.shape, dtype=bool)
    for r in g.itertuples():
        i, j = comps.index(r.competency), roles.index(r.role)
        if bool(r.used):
            data[i, j] = float(getattr(r, value))
        else:
            unused[i, j] = True
    ok = data[~np.isnan(data)]
    if value == "mean_gap":
        top = float(np.max(np.abs(ok))) if ok.size else 1.0
        lo, hi, cmap = -top, top, "RdBu_r"
    else:
        lo, hi = 0.0, 1.0
    image = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=lo, vmax=hi,
                      aspect="auto")
    if unused.any():
        ax.imshow(np.ma.masked_where(~unused, np.ones(data.shape)),
                  cmap=ListedColormap(["#d9d9d9"]), vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(roles)), [str(r) for r in roles], rotation=30, ha="right")
    ax.set_yticks(range(len(comps)), [str(c) for c in comps])
    ax.set_xlabel("role")
    ax.set_ylabel("competency")
    ax.set_title(value.replace("_", " "))
    if annotate:
        mid = (lo + hi) / 2
        for i in range(len(comps)):
            for j in range(len(roles)):
                if unused[i, j]:
                    ax.text(j, i, "not used", ha="center", va="center", fontsize="x-small",
                            color="#555555")
                elif not np.isnan(data[i, j]):
                    v = data[i, j]
                    dark = (v > mid) if value != "mean_gap" else abs(v) > hi / 2
                    ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize="small",
                            color="white" if dark else "black")
    ax.figure.colorbar(image, ax=ax, label=value.replace("_", " "))
    return ax
