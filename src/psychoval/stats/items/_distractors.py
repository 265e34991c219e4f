"""Distractor analysis of multiple-choice items."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from psychoval._input import check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.items._keyed import check_answer_key, option_codes, raw_frame

__all__ = ["DistractorResult", "distractors"]


def _corr(indicator: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Pearson r of each column of ``indicator`` (n, m) with ``score`` (n,)."""
    ic = indicator - indicator.mean(axis=0)
    sc = score - score.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        return (ic.T @ sc) / np.sqrt((ic * ic).sum(axis=0) * (sc @ sc))


@dataclasses.dataclass(frozen=True, repr=False)
class DistractorResult(Result):
    """Option-level statistics of multiple-choice items (see :func:`distractors`).

    Attributes
    ----------
    options : DataFrame
        One row per item and option (``item``, ``option``, ``is_key``, ``n``, ``p`` (share
        choosing it), ``p_g1`` ... ``p_g<n_groups>`` (share within each total-score group,
        g1 lowest), ``r_total`` (point-biserial of choosing it with the total score),
        ``r_rest`` (with the total minus this item's score), ``d`` (share in the highest group
        minus share in the lowest)).
    items : DataFrame
        Miskey statistics per item: ``key``, ``p_key``, ``key_r_rest``, ``key_d``,
        ``top_distractor`` (the distractor with the largest ``r_rest``), its ``r_rest`` and
        ``d`` and ``p_upper``, ``key_p_upper``, ``distractor_above_key`` (a distractor chosen
        by more of the highest group than the key) and ``key_below_in_upper`` (the key chosen
        by fewer in the highest group than in the lowest).
    group_sizes : tuple of int
        Respondents per total-score group, lowest first.
    """

    options: pd.DataFrame
    items: pd.DataFrame
    group_sizes: tuple[int, ...]
    n_groups: int
    n_used: int
    rows_dropped: int
    answer_key: dict[str, str]

    _schema = "psychoval.distractors/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"items": len(self.items), "n_used": self.n_used, "n_groups": self.n_groups}

    def summary(self) -> Summary:
        return Summary(
            title="Distractor analysis",
            facts=(("items", len(self.items)), ("n used", self.n_used),
                   ("rows dropped", self.rows_dropped),
                   ("group sizes (low to high)", ", ".join(map(str, self.group_sizes)))),
            tables=(("Miskey statistics", self.items),
                    ("Options", self.options.set_index(["item", "option"]))))

    def to_frame(self) -> pd.DataFrame:
        return self.options.copy()


def distractors(
    raw: Any,
    *,
    answer_key: Mapping[str, Any],
    n_groups: int = 3,
    missing: str = "listwise",
) -> DistractorResult:
    """Distractor analysis: who chooses each option, and does the key behave like one.

    The total score is the number of keyed items answered correctly. Respondents are split
    into ``n_groups`` groups of (nearly) equal size by their total, ties kept together
    (average ranks), so the split does not depend on row order.

    Parameters
    ----------
    raw : DataFrame, ResponseTable or 2-d array
        Raw option codes (letters or numbers); only the keyed columns are used.
    answer_key : mapping {item: option}
        The correct option of each multiple-choice item.
    n_groups : int
        Number of total-score groups (2 to 10; 3 = lower, middle, upper).
    missing : {"listwise", "raise"}
        Rows with an unanswered keyed item are dropped (and counted) or raise.

    Returns
    -------
    DistractorResult

    Raises
    ------
    DataError
        Unknown items, too few complete rows.
    SpecificationError
        A bad ``n_groups`` or ``answer_key``.

    Notes
    -----
    For option o of item i, ``r_rest`` is the Pearson (point-biserial) correlation of the
    indicator "chose o" with R_i = T - x_i, the total without item i, so the item's own
    score does not inflate the key's correlation. A correct key has ``r_rest > 0`` and
    ``d > 0``; a distractor with ``r_rest > 0`` that beats the key in the upper group is the
    classic sign of a miskey (Haladyna & Rodriguez, 2013, ch. 17).

    References
    ----------
    Haladyna, T. M., & Rodriguez, M. C. (2013). Developing and Validating Test Items.
    Routledge. doi:10.4324/9780203850381
    Attali, Y., & Fraenkel, T. (2000). The point-biserial as a discrimination index for
    distractors in multiple-choice items. Journal of Educational Measurement, 37(1), 77-86.
    doi:10.1111/j.1745-3984.2000.tb01077.x

    Examples
    --------
    >>> import pandas as pd, psychoval as pv
    >>> raw = pd.DataFrame({"q1": list("AABAC" "ABAAB"), "q2": list("CCCBA" "CCBAA")})
    >>> res = pv.distractors(raw, answer_key={"q1": "A", "q2": "C"}, n_groups=2)
    >>> float(res.items.loc["q1", "p_key"])   # R: mean(raw$q1 == "A")
    0.6
    """
    check_choice("missing", missing, ("listwise", "raise"))
    if isinstance(n_groups, bool) or not isinstance(n_groups, (int, np.integer)) \
            or not 2 <= n_groups <= 10:
        raise SpecificationError(f"n_groups={n_groups!r} must be an integer from 2 to 10")
    frame = raw_frame(raw, what="raw")
    key = check_answer_key(answer_key, frame.columns)
    items = list(key)
    codes = np.column_stack([option_codes(frame[i]) for i in items])
    answered = codes != None  # noqa: E711 - elementwise on an object array
    complete = answered.all(axis=1)
    if missing == "raise" and not complete.all():
        r, c = np.argwhere(~answered)[0]
        raise DataError(
            f"item {items[c]!r} is unanswered at row {r + 1}; choose missing='listwise' to "
            "drop incomplete rows"
        )
    codes = codes[complete]
    n = codes.shape[0]
    if n < n_groups * 2:
        raise DataError(
            f"{n} complete row(s) for {n_groups} groups; need at least {2 * n_groups}"
        )
    keys = np.array([key[i] for i in items], dtype=object)
    scored = (codes == keys).astype(float)
    total = scored.sum(axis=1)
    from scipy.stats import rankdata

    ranks = rankdata(total, method="average")
    group = np.minimum((n_groups * (ranks - 0.5) / n).astype(int), n_groups - 1)
    sizes = np.bincount(group, minlength=n_groups)
    onehot = group[:, None] == np.arange(n_groups)

    rows = []
    summaries = {}
    for j, item in enumerate(items):
        options = sorted(set(codes[:, j]) | {key[item]}, key=lambda s: (len(s), s))
        ind = (codes[:, j][:, None] == np.array(options, dtype=object)).astype(float)
        rest = total - scored[:, j]
        r_total = _corr(ind, total)
        r_rest = _corr(ind, rest)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_groups = (onehot.T.astype(float) @ ind) / sizes[:, None]
        d = p_groups[-1] - p_groups[0]
        for o, opt in enumerate(options):
            row = {"item": item, "option": opt, "is_key": opt == key[item],
                   "n": int(ind[:, o].sum()), "p": ind[:, o].mean()}
            row.update({f"p_g{g + 1}": p_groups[g, o] for g in range(n_groups)})
            row.update({"r_total": r_total[o], "r_rest": r_rest[o], "d": d[o]})
            rows.append(row)
        k = options.index(key[item])
        others = [o for o in range(len(options)) if o != k]
        if others:
            with np.errstate(invalid="ignore"):
                top = max(others, key=lambda o: (np.nan_to_num(r_rest[o], nan=-np.inf), d[o]))
            top_name, top_r, top_d, top_up = options[top], r_rest[top], d[top], p_groups[-1, top]
            above = bool((p_groups[-1, others] > p_groups[-1, k]).any())
        else:
            top_name, top_r, top_d, top_up, above = None, np.nan, np.nan, np.nan, False
        summaries[item] = {
            "key": key[item], "p_key": ind[:, k].mean(), "key_r_rest": r_rest[k],
            "key_d": d[k], "key_p_upper": p_groups[-1, k], "top_distractor": top_name,
            "top_distractor_r_rest": top_r, "top_distractor_d": top_d,
            "top_distractor_p_upper": top_up, "distractor_above_key": above,
            "key_below_in_upper": bool(d[k] < 0),
        }
    items_df = pd.DataFrame.from_dict(summaries, orient="index")
    items_df.index.name = "item"
    return DistractorResult(
        options=pd.DataFrame(rows), items=items_df, group_sizes=tuple(int(s) for s in sizes),
        n_groups=int(n_groups), n_used=n, rows_dropped=int((~complete).sum()), answer_key=key)
