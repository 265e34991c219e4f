"""Factor-model and reliability plots: the figures of the HTML report drawn with matplotlib.
matplotlib is imported lazily; every function takes ``ax=`` and returns it.

- :func:`plot_loadings`: items x factors heat map (EFA pattern, CFA standardized loadings,
  omega's Schmid-Leiman loadings), white to blue by absolute value, each cell printed.
- :func:`plot_scree`: eigenvalues against the parallel-analysis reference.
- :func:`plot_path_diagram`: a CFA as factors (ellipses), items (boxes) and standardized
  loadings on the arrows, factor correlations as arcs.
- :func:`plot_reliability`: an estimate per scale with its interval and a threshold line.

Colours are Okabe-Ito's (the report's palette, ``psychoval.report._palette``, which this
optional layer may not import: the statistics' ``plot()`` methods reach it):
blue ``#0072B2`` for magnitude, vermillion ``#D55E00`` for the reference line.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_loadings", "plot_scree", "plot_path_diagram", "plot_reliability"]

BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREEN = "#009E73"


def _axes(ax: Any, size: tuple[float, float] | None = None) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure(figsize=size).add_subplot()


def _loading_frame(result: Any) -> tuple[pd.DataFrame, str]:
    """Items x factors loadings of an EFA, CFA or omega result, and a title."""
    from psychoval.exceptions import SpecificationError

    if isinstance(getattr(result, "sl", None), pd.DataFrame):
        sl = result.sl
        cols = ["g", *[c for c in sl.columns if str(c).endswith("*")]]
        return sl[cols], "Schmid-Leiman loadings"
    if hasattr(result, "standardized") and callable(result.standardized):
        std = result.standardized()
        lam = std[std["op"] == "=~"]
        frame = lam.pivot_table(index="rhs", columns="lhs", values="est_std", sort=False)
        frame = frame.reindex(index=list(dict.fromkeys(lam["rhs"])),
                              columns=list(dict.fromkeys(lam["lhs"])))
        frame.index.name = frame.columns.name = None
        return frame, "Standardized loadings (CFA)"
    if isinstance(getattr(result, "loadings", None), pd.DataFrame):
        return result.loadings, "Loadings (EFA)"
    raise SpecificationError(f"plot_loadings needs an EFA, CFA or omega result, not "
                             f"{type(result).__name__}")


def plot_loadings(result: Any, *, ax: Any = None, annotate: bool = True) -> Any:
    """Heat map of the loadings of an :func:`~psychoval.efa`, :func:`~psychoval.cfa` or
    :func:`~psychoval.omega` result: rows items, columns factors, white to blue by absolute
    value (the sign is printed), empty where the model has no loading (CFA)."""
    from matplotlib.colors import LinearSegmentedColormap

    frame, title = _loading_frame(result)
    values = frame.to_numpy(dtype=float)
    ax = _axes(ax, (1.6 + 0.9 * values.shape[1], 1.0 + 0.32 * values.shape[0]))
    cmap = LinearSegmentedColormap.from_list("psychoval_loadings",
                                             ["#FFFFFF", BLUE]).with_extremes(bad="#FFFFFF")
    ax.imshow(np.ma.masked_invalid(np.abs(values)), cmap=cmap, vmin=0, vmax=1,
              aspect="auto")
    ax.set_xticks(range(values.shape[1]), [str(c) for c in frame.columns], rotation=35,
                  ha="right")
    ax.set_yticks(range(values.shape[0]), [str(i) for i in frame.index])
    if annotate:
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize="small",
                        color="white" if abs(v) > 0.55 else "black")
    ax.set_title(title)
    return ax


def plot_scree(result: Any, *, ax: Any = None, components: bool = False) -> Any:
    """Scree plot of a :func:`~psychoval.parallel_analysis` result: the observed eigenvalues
    (factor eigenvalues, or principal components with ``components=True``) and the
    parallel-analysis reference they are compared with; retained factors filled."""
    obs = np.asarray(result.pc_values if components else result.fa_values, dtype=float)
    ref = np.asarray(result.pc_threshold if components else result.fa_threshold, dtype=float)
    kept = int(result.n_components if components else result.n_factors)
    ax = _axes(ax)
    x = np.arange(1, len(obs) + 1)
    ax.plot(x, obs, color="black", linewidth=1.5, label="observed")
    ax.scatter(x[:kept], obs[:kept], color=GREEN, edgecolor="black", zorder=3,
               label=f"retained ({kept})")
    ax.scatter(x[kept:], obs[kept:], color="white", edgecolor="black", zorder=3)
    ax.plot(x, ref, color=VERMILLION, linestyle="--", linewidth=1.5,
            label="parallel analysis")
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.set_xlabel("factor number" if not components else "component number")
    ax.set_ylabel("eigenvalue")
    ax.set_title("Scree plot with parallel analysis")
    ax.legend(fontsize="small")
    return ax


def plot_path_diagram(result: Any, *, ax: Any = None) -> Any:
    """Path diagram of a :func:`~psychoval.cfa` result: factors (ellipses, left), items
    (boxes, right), an arrow per loading labelled with its standardized value (width by
    size), factor correlations as arcs on the left labelled with their value."""
    from matplotlib.patches import Ellipse, FancyArrowPatch, Rectangle

    std = result.standardized()
    lam = std[std["op"] == "=~"]
    items = list(dict.fromkeys(lam["rhs"]))
    factors = list(dict.fromkeys(lam["lhs"]))
    ax = _axes(ax, (6.5, 0.8 + 0.36 * len(items)))
    n = len(items)
    y_item = {it: n - 1 - k for k, it in enumerate(items)}
    y_fac = {f: float(np.mean([y_item[r] for r in lam.loc[lam["lhs"] == f, "rhs"]]))
             for f in factors}
    fx, ix = 0.0, 3.0
    for r in lam.itertuples():
        y0, y1 = y_fac[r.lhs], y_item[r.rhs]
        ax.plot([fx + 0.55, ix - 0.4], [y0, y1], color="#555555",
                linewidth=0.8 + 2.5 * min(abs(r.est_std), 1.0))
        t = 0.72
        ax.text(fx + 0.55 + t * (ix - 0.4 - fx - 0.55), y0 + t * (y1 - y0), f"{r.est_std:.2f}",
                fontsize="x-small", ha="center", va="center",
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none"})
    cov = std[(std["op"] == "~~") & std["lhs"].isin(factors) & std["rhs"].isin(factors)
              & (std["lhs"] != std["rhs"])]
    for r in cov.itertuples():
        ya, yb = y_fac[r.lhs], y_fac[r.rhs]
        rad = 0.35 + 0.05 * abs(ya - yb)
        ax.add_patch(FancyArrowPatch((fx - 0.55, ya), (fx - 0.55, yb),
                                     connectionstyle=f"arc3,rad={rad if ya > yb else -rad}",
                                     arrowstyle="<->", color="#555555", linewidth=0.8,
                                     mutation_scale=8))
        ax.text(fx - 0.75 - 0.18 * abs(ya - yb) * rad, (ya + yb) / 2, f"{r.est_std:.2f}",
                fontsize="x-small", ha="center", va="center",
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none"})
    for f in factors:
        ax.add_patch(Ellipse((fx, y_fac[f]), 1.1, 0.7, facecolor="white", edgecolor="black",
                             zorder=3))
        ax.text(fx, y_fac[f], str(f), ha="center", va="center", fontsize="small", zorder=4)
    for it in items:
        ax.add_patch(Rectangle((ix - 0.4, y_item[it] - 0.3), 0.8, 0.6, facecolor="white",
                               edgecolor="black", zorder=3))
        ax.text(ix, y_item[it], str(it), ha="center", va="center", fontsize="small",
                zorder=4)
    span = max((abs(y_fac[a] - y_fac[b]) for a in factors for b in factors), default=0)
    ax.set_xlim(fx - 1.2 - 0.25 * span, ix + 0.6)
    ax.set_ylim(-0.8, n - 0.2)
    ax.set_aspect("auto")
    ax.axis("off")
    ax.set_title("Path diagram (standardized estimates)")
    return ax


def plot_reliability(result: Any, *, ax: Any = None, threshold: float | None = 0.70) -> Any:
    """An :func:`~psychoval.omega` (omega hierarchical, omega total and each group
    factor's omega) or :func:`~psychoval.alpha` result as horizontal bars, intervals as
    whiskers where the result has them, and a dashed threshold line."""
    rows = _reliability_rows(result)
    ax = _axes(ax, (6, 1.0 + 0.4 * len(rows)))
    y = np.arange(len(rows))[::-1]
    values = np.array([r[1] for r in rows], dtype=float)
    ax.barh(y, values, color=BLUE, alpha=0.85)
    for yy, (_, v, lo, hi) in zip(y, rows, strict=True):
        if lo is not None and hi is not None and np.isfinite(lo) and np.isfinite(hi):
            ax.plot([lo, hi], [yy, yy], color="black", linewidth=1.5)
        ax.text(max(v, hi if hi is not None and np.isfinite(hi) else v) + 0.01, yy,
                f"{v:.2f}", va="center", fontsize="small")
    ax.set_yticks(y, [r[0] for r in rows])
    if threshold is not None:
        ax.axvline(threshold, color=VERMILLION, linestyle="--", linewidth=1,
                   label=f"threshold {threshold:g}")
        ax.legend(fontsize="small", loc="lower right")
    ax.set_xlim(0, 1.08)
    ax.set_xlabel("reliability")
    ax.set_title("Reliability")
    return ax


def _reliability_rows(result: Any) -> list[tuple[str, float, float | None, float | None]]:
    from psychoval.exceptions import SpecificationError

    ci = getattr(result, "ci", None)

    def interval(name: str) -> tuple[float | None, float | None]:
        if isinstance(ci, pd.DataFrame) and name in ci.index:
            row = ci.loc[name]
            return float(row.iloc[0]), float(row.iloc[-1])
        return None, None

    if hasattr(result, "omega_h"):
        rows = [("omega hierarchical", float(result.omega_h), *interval("omega_h")),
                ("omega total", float(result.omega_total), *interval("omega_total"))]
        og = getattr(result, "omega_group", None)
        if isinstance(og, pd.DataFrame) and "total" in og:
            rows += [(f"{name} (omega)", float(v), None, None)
                     for name, v in og["total"].items() if str(name) != "g"]
        return rows
    if hasattr(result, "raw_alpha"):
        lo, hi = (getattr(result, "ci_lower", None), getattr(result, "ci_upper", None))
        return [("alpha", float(result.raw_alpha), lo, hi)]
    raise SpecificationError(f"plot_reliability needs an omega or alpha result, not "
                             f"{type(result).__name__}")
