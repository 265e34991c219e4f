"""IRT plots of a fitted :func:`~psychoval.irt` result: item characteristic and category
curves, item and test information with the conditional SEM and the cut scores marked, and the
test characteristic curve mapping summed-score cuts to theta. Only the result's public methods
are used; matplotlib is imported lazily and every function takes ``ax=`` and returns it."""

from __future__ import annotations

from typing import Any

import numpy as np

from psychoval.exceptions import SpecificationError

__all__ = ["plot_item_curves_irt", "plot_information", "plot_test_characteristic"]


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure().add_subplot()


def _grid(theta: Any, n_points: Any) -> np.ndarray:
    """The plotted theta values: ``n_points`` equally spaced over ``theta=(low, high)``."""
    try:
        lo, hi = (float(v) for v in theta)
    except (TypeError, ValueError):
        raise SpecificationError(
            f"theta={theta!r} must be a range (low, high) of two numbers, e.g. (-4, 4)"
        ) from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise SpecificationError(
            f"theta=({lo:g}, {hi:g}) must be finite and increasing (low < high), e.g. (-4, 4)"
        )
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) \
            or n_points < 2:
        raise SpecificationError(f"n_points={n_points!r} must be an integer of at least 2")
    return np.linspace(lo, hi, int(n_points))


def _items(result: Any, items: Any) -> list[str]:
    """The items to draw, checked against the result's items (None: none)."""
    if items is None:
        return []
    names = [items] if isinstance(items, str) else list(items)
    if not names:
        raise SpecificationError("items= is empty: give item names of the result, or None")
    unknown = [n for n in names if n not in result.items]
    if unknown:
        raise SpecificationError(
            f"unknown item(s) {', '.join(map(repr, unknown))}: the result's items are "
            f"{', '.join(map(repr, result.items))}"
        )
    return names


def _cuts(cuts: Any, name: str) -> np.ndarray:
    """``cuts`` as a 1-d array of finite numbers (None: no cuts)."""
    if cuts is None:
        return np.empty(0)
    try:
        arr = np.atleast_1d(np.asarray(cuts, dtype=float))
    except (TypeError, ValueError):
        raise SpecificationError(f"{name}={cuts!r} must be a number or a list of numbers") \
            from None
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise SpecificationError(
            f"{name}={cuts!r} must be finite numbers (a number or a 1-d list)"
        )
    return arr


def _in_range(values: np.ndarray, grid: np.ndarray, name: str) -> None:
    outside = values[(values < grid[0]) | (values > grid[-1])]
    if outside.size:
        raise SpecificationError(
            f"{name} {', '.join(f'{v:g}' for v in outside)} outside the plotted theta range "
            f"({grid[0]:g}, {grid[-1]:g}): widen theta="
        )


def _mark_theta(ax: Any, x: float, text: str) -> None:
    """A labelled vertical line at ``x`` (theta scale)."""
    ax.axvline(x, color="black", linestyle=":", linewidth=1)
    ax.annotate(text, (x, 1.0), xycoords=ax.get_xaxis_transform(), xytext=(2, -2),
                textcoords="offset points", rotation=90, va="top", ha="left",
                fontsize="x-small")


def plot_item_curves_irt(result: Any, *, items: Any = None, theta: Any = (-4, 4),
                         n_points: int = 201, kind: str = "expected", ax: Any = None) -> Any:
    """Model-implied item curves of an :func:`~psychoval.irt` result against theta.

    ``kind="expected"``: item characteristic curves, the expected item score (the
    probability of a correct answer for a 0/1 item), one curve per item (all items by
    default). ``kind="categories"``: the category response probability curves of each
    given item (all its categories; sensible for one or a few items). ``items=`` one name or
    a list; ``theta=(low, high)`` the plotted range with ``n_points`` points.
    """
    from psychoval._input import check_choice

    check_choice("kind", kind, ("expected", "categories"))
    grid = _grid(theta, n_points)
    names = _items(result, items) or list(result.items)
    ax = _axes(ax)
    if kind == "expected":
        es = result.expected_scores(grid)
        for name in names:
            ax.plot(grid, es[name].to_numpy(), label=str(name))
        ax.set_ylabel("expected item score")
        ax.set_title(f"Item characteristic curves ({result.model})")
    else:
        pr = result.probabilities(grid)
        for name in names:
            sub = pr[name]
            for cat in sub.columns:
                label = f"{cat:g}" if len(names) == 1 else f"{name}: {cat:g}"
                ax.plot(grid, sub[cat].to_numpy(), label=label)
        ax.set_ylabel("category probability")
        ax.set_ylim(-0.02, 1.02)
        title = names[0] if len(names) == 1 else f"{len(names)} items"
        ax.set_title(f"Category response curves, {title} ({result.model})")
    ax.set_xlabel("theta")
    if len(ax.lines) > 1:
        ax.legend(fontsize="small", title="category" if kind == "categories"
                  and len(names) == 1 else None)
    return ax


def plot_information(result: Any, *, items: Any = None, theta: Any = (-4, 4),
                     n_points: int = 201, cuts: Any = None, show_sem: bool = True,
                     ax: Any = None) -> Any:
    """Test information of an :func:`~psychoval.irt` result against theta, with the cut
    scores marked.

    ``items=``: also draw these items' information curves (dashed). ``show_sem``: the
    conditional standard error of measurement, 1 / sqrt(test information), on a secondary
    y axis (a twin of ``ax``, the figure's last axes right after the call). ``cuts``:
    cut scores on the theta scale (map summed-score cuts with
    :func:`plot_test_characteristic`), drawn as labelled vertical lines. Returns ``ax``.
    """
    grid = _grid(theta, n_points)
    names = _items(result, items)
    cut = _cuts(cuts, "cuts")
    _in_range(cut, grid, "cuts")
    info = result.information(grid)
    ax = _axes(ax)
    handles = ax.plot(grid, info["test"].to_numpy(), color="black", linewidth=2,
                      label="test information")
    for name in names:
        handles += ax.plot(grid, info[name].to_numpy(), linestyle="--", linewidth=1,
                           label=f"{name}")
    ax.set_xlabel("theta")
    ax.set_ylabel("information")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Test information ({result.model})")
    if show_sem:
        with np.errstate(divide="ignore"):  # information underflowing far out: SEM inf
            sem = result.sem(grid).to_numpy()
        twin = ax.twinx()
        handles += twin.plot(grid, sem, color="tab:red", linestyle="-.", label="SEM")
        twin.set_ylabel("conditional SEM", color="tab:red")
        twin.set_ylim(bottom=0)
    for c in cut:
        _mark_theta(ax, float(c), f"cut {c:.3g}")
    if len(handles) > 1:
        ax.legend(handles, [h.get_label() for h in handles], fontsize="small")
    return ax


def _tcc_inverse(result: Any, cuts: np.ndarray, grid: np.ndarray, tcc: np.ndarray
                 ) -> np.ndarray:
    """The theta at which the expected summed score equals each cut: np.interp on the
    plotted curve, refined by bisection on ``result.expected_scores`` (to 1e-12 in theta)."""
    if np.any(np.diff(tcc) <= 0):
        raise SpecificationError(
            "the test characteristic curve is not increasing over the theta range (an item "
            "with a negative slope?): summed-score cuts cannot be mapped to theta"
        )
    outside = cuts[(cuts <= tcc[0]) | (cuts >= tcc[-1])]
    if outside.size:
        raise SpecificationError(
            f"cuts_raw {', '.join(f'{v:g}' for v in outside)} outside the expected summed "
            f"scores over theta ({grid[0]:g}, {grid[-1]:g}), {tcc[0]:.3g} to {tcc[-1]:.3g}: "
            "widen theta="
        )
    approx = np.interp(cuts, tcc, grid)
    idx = np.clip(np.searchsorted(grid, approx), 1, grid.size - 1)
    lo, hi = grid[idx - 1], grid[idx]
    for _ in range(60):  # bracket width (hi - lo) / 2**60
        mid = (lo + hi) / 2
        below = result.expected_scores(mid)["test"].to_numpy() < cuts
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
        if np.max(hi - lo) < 1e-12:
            break
    return (lo + hi) / 2


def plot_test_characteristic(result: Any, *, theta: Any = (-4, 4), n_points: int = 201,
                             cuts_raw: Any = None, ax: Any = None) -> Any:
    """The test characteristic curve of an :func:`~psychoval.irt` result: the expected
    summed score (in the items' category values) against theta.

    ``cuts_raw``: summed-score cut scores, drawn as horizontal lines, and their theta
    equivalents (the curve inverted: np.interp on the plotted curve, refined by bisection)
    as labelled vertical lines - the theta-scale cuts to give :func:`plot_information`.
    Returns ``ax``.
    """
    grid = _grid(theta, n_points)
    cut = _cuts(cuts_raw, "cuts_raw")
    tcc = result.expected_scores(grid)["test"].to_numpy()
    at = _tcc_inverse(result, cut, grid, tcc) if cut.size else np.empty(0)
    ax = _axes(ax)
    ax.plot(grid, tcc, color="black", linewidth=2, label="expected summed score")
    for c, t in zip(cut, at, strict=True):
        ax.axhline(c, color="grey", linestyle="--", linewidth=1)
        _mark_theta(ax, float(t), f"{c:g} -> theta {t:.2f}")
    ax.set_xlabel("theta")
    ax.set_ylabel("expected summed score")
    ax.set_title(f"Test characteristic curve ({result.model})")
    return ax
