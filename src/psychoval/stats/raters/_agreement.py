"""One agreement table for every rated item of a framework (ICC, kappas, Krippendorff's alpha).

A rubric-scored competency item is scored by several assessors, each in a column of the
response table. ``agreement_table(data, raters={item: [columns]})`` returns one summary row
per item; ``Framework`` will pass the rater columns it knows.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._results import Result, Summary
from psychoval.exceptions import SpecificationError
from psychoval.stats.raters._icc import ICCResult, icc
from psychoval.stats.raters._kappa import (
    FleissKappaResult,
    PairwiseKappaResult,
    fleiss_kappa,
    pairwise_kappa,
)
from psychoval.stats.raters._krippendorff import KrippendorffResult, krippendorff_alpha
from psychoval.stats.raters._ratings import as_ratings, check_scale

__all__ = ["agreement_table", "AgreementTable"]


@dataclasses.dataclass(frozen=True, repr=False)
class AgreementTable(Result):
    """Rater agreement of each rated item.

    Attributes
    ----------
    table : DataFrame
        One row per item: counts, ``icc_method``, ``icc1``, ``icc2`` (with ``icc2_lower``,
        ``icc2_upper``), ``icc2k``, ``icc3``, ``icc3k``, ``kappa_mean`` and
        ``weighted_kappa_mean`` (means over rater pairs, quadratic weights), ``fleiss_kappa``
        (NaN when candidates have unequal numbers of ratings), ``alpha_ordinal``,
        ``alpha_interval`` with ``alpha_lower`` / ``alpha_upper`` (bootstrap, interval level).
    icc, kappa, fleiss, krippendorff_ordinal, krippendorff_interval : dict
        The full result objects by item (``fleiss`` lacks items with unequal ratings).
    """

    table: pd.DataFrame
    icc: dict[str, ICCResult]
    kappa: dict[str, PairwiseKappaResult]
    fleiss: dict[str, FleissKappaResult]
    krippendorff_ordinal: dict[str, KrippendorffResult]
    krippendorff_interval: dict[str, KrippendorffResult]
    confidence_level: float

    _schema: ClassVar[str] = "psychoval.agreement_table/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"items": len(self.table), "min_icc2": float(self.table["icc2"].min())}

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index()

    def summary(self) -> Summary:
        cols = ["n_targets", "n_raters", "n_missing", "icc2", "icc2_lower", "icc2_upper",
                "icc2k", "weighted_kappa_mean", "fleiss_kappa", "alpha_ordinal"]
        return Summary(
            title="Rater agreement by item", facts=(("items", len(self.table)),),
            tables=(("Agreement", self.table[cols]),),
            notes=("icc2: single rater, absolute agreement (two-way random); icc2k: mean of "
                   "the raters. Kappas are means over rater pairs (quadratic weights for the "
                   "weighted one).",))


def _from_framework(data: Any, framework: Any, raters: Any, scale: Any):
    """Rater columns, rubric ranges and decoded ratings of a framework's rated items."""
    from psychoval.framework import Framework
    from psychoval.framework._scoring import ScoredResponses

    if not isinstance(framework, Framework):
        raise SpecificationError(
            f"framework= takes a psychoval Framework, not {type(framework).__name__}"
        )
    if raters is not None:
        raise SpecificationError("give framework= or raters=, not both")
    rated = [i for i in framework.items if i.raters]
    if not rated:
        raise SpecificationError(
            "the framework has no rated item with rater columns (type: rating, raters: [...])"
        )
    scored = data if isinstance(data, ScoredResponses) else framework.score(data)
    raters = {i.id: list(i.raters) for i in rated}
    if scale is None:
        scale = {i.id: (i.min, i.max) for i in rated}
    return scored.ratings, raters, scale


def agreement_table(
    data: Any,
    *,
    raters: Mapping[str, Any] | None = None,
    framework: Any = None,
    targets: str | None = None,
    scale: Any = None,
    n_boot: int = 0,
    seed: int | None = None,
    confidence_level: float = 0.95,
) -> AgreementTable:
    """Agreement of the raters of each rated item: ICC, Cohen's and Fleiss' kappa, alpha.

    Parameters
    ----------
    data : DataFrame or ResponseTable
        Wide table: one row per candidate, one column per (item, rater).
    raters : mapping of item -> list of column names
        The rater columns of each rated item, e.g. ``{"presenting": ["pres_r1", "pres_r2"]}``.
    framework : Framework, optional
        Instead of ``raters=``: every ``rating`` item of the framework with rater columns, its
        declared range as ``scale``; ``data`` (raw responses or ``framework.score()`` output)
        has its rating labels decoded by the framework first.
    targets : str, optional
        Candidate-id column (named in messages).
    scale : (min, max) or mapping of item -> (min, max), optional
        The rubric's declared range (one for all items, or per item); also gives the kappa
        categories when its ends are integers.
    n_boot, seed : int
        Bootstrap resamples and seed of Krippendorff's alpha interval (0: no interval).
    confidence_level : float
        Level of the ICC and alpha intervals.

    Returns
    -------
    AgreementTable

    Raises
    ------
    SpecificationError
        ``raters`` is empty or not a mapping of item -> list of at least two columns.
    DataError
        As :func:`psychoval.icc` for any item (the message names the item's rater column).

    Notes
    -----
    ICC: :func:`psychoval.icc` (ANOVA when complete, REML otherwise); kappas:
    :func:`psychoval.pairwise_kappa` (means over pairs) and :func:`psychoval.fleiss_kappa`
    (treating the categories as nominal; only when every candidate has the same number of
    ratings); :func:`psychoval.krippendorff_alpha` at the ordinal and interval levels.

    Examples
    --------
    >>> import pandas as pd, psychoval as pv
    >>> df = pd.DataFrame({"p1": [1, 2, 3, 4, 2, 3], "p2": [1, 2, 3, 3, 2, 4],
    ...                    "t1": [2, 2, 3, 4, 1, 3], "t2": [2, 3, 3, 4, 1, 3]})
    >>> tab = pv.agreement_table(df, raters={"presenting": ["p1", "p2"],
    ...                                      "teamwork": ["t1", "t2"]}, scale=(1, 4))
    >>> tab.table.index.tolist()
    ['presenting', 'teamwork']
    """
    if framework is not None:
        data, raters, scale = _from_framework(data, framework, raters, scale)
    if not isinstance(raters, Mapping) or not raters:
        raise SpecificationError(
            "raters= must map each rated item to its rater columns, e.g. "
            "raters={'presenting': ['pres_r1', 'pres_r2']}"
        )
    rows = []
    res_icc: dict[str, ICCResult] = {}
    res_kappa: dict[str, PairwiseKappaResult] = {}
    res_fleiss: dict[str, FleissKappaResult] = {}
    res_ord: dict[str, KrippendorffResult] = {}
    res_int: dict[str, KrippendorffResult] = {}
    for item, cols in raters.items():
        if isinstance(cols, str) or len(list(cols)) < 2:
            raise SpecificationError(
                f"item {item!r}: raters= needs a list of at least two rater columns; got {cols!r}"
            )
        cols = [str(c) for c in cols]
        item_scale = scale.get(item) if isinstance(scale, Mapping) else scale
        check_scale(item_scale)
        r = as_ratings(data, targets=targets, raters=cols, scale=item_scale,
                       what=f"item {item!r}")
        common = {"targets": targets, "raters": cols, "scale": item_scale}
        ic = icc(data, confidence_level=confidence_level, **common)
        pk = pairwise_kappa(data, **common)
        m_i = np.count_nonzero(~np.isnan(r.values), axis=1)
        fk = None
        if (m_i == m_i[0]).all() and m_i[0] >= 2:
            fk = fleiss_kappa(data, confidence_level=confidence_level, **common)
            res_fleiss[item] = fk
        ko = krippendorff_alpha(data, level="ordinal", n_boot=0, **common)
        ki = krippendorff_alpha(data, level="interval", n_boot=n_boot, seed=seed,
                                confidence_level=confidence_level, **common)
        res_icc[item], res_kappa[item], res_ord[item], res_int[item] = ic, pk, ko, ki
        t = ic.results
        rows.append({
            "item": item, "n_targets": r.n_targets, "n_raters": r.n_raters,
            "n_ratings": r.n_ratings, "n_missing": r.n_missing, "icc_method": ic.method,
            "icc1": t.loc["ICC1", "icc"], "icc2": t.loc["ICC2", "icc"],
            "icc2_lower": t.loc["ICC2", "lower"], "icc2_upper": t.loc["ICC2", "upper"],
            "icc2k": t.loc["ICC2k", "icc"], "icc3": t.loc["ICC3", "icc"],
            "icc3k": t.loc["ICC3k", "icc"], "kappa_mean": pk.av_kappa,
            "weighted_kappa_mean": pk.av_weighted,
            "fleiss_kappa": math.nan if fk is None else fk.kappa,
            "alpha_ordinal": ko.alpha, "alpha_interval": ki.alpha,
            "alpha_lower": ki.lower, "alpha_upper": ki.upper,
        })
    table = pd.DataFrame(rows).set_index("item")
    return AgreementTable(table=table, icc=res_icc, kappa=res_kappa, fleiss=res_fleiss,
                          krippendorff_ordinal=res_ord, krippendorff_interval=res_int,
                          confidence_level=float(confidence_level))
