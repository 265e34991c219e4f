"""Scale scores with their reliabilities and intercorrelations, as psych::scoreItems.

The statistics layer of scoring: keys ``{scale: [items]}`` plus ``reverse=``; the framework
layer (``Framework.scale_scores``) builds on competency definitions. Nothing is imputed unless
``impute=`` names a method (psych imputes item medians by default).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval._input import apply_missing, as_item_matrix, check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.core._moments import pairwise_moments
from psychoval.stats.reliability._common import check_variances, psych_smc, reverse_items

__all__ = ["score_items", "ScoreItemsResult"]


@dataclasses.dataclass(frozen=True, repr=False)
class ScoreItemsResult(Result):
    """Scale scores and per-scale reliability (see :func:`score_items`)."""

    scores: pd.DataFrame
    alpha: pd.Series
    g6: pd.Series
    average_r: pd.Series
    median_r: pd.Series
    s_n: pd.Series
    ase: pd.Series
    n_items: pd.Series
    n_rows_missing: pd.Series
    cor: pd.DataFrame
    corrected: pd.DataFrame
    item_cor: pd.DataFrame
    keys: dict[str, tuple[str, ...]]
    reverse: tuple[str, ...]
    reverse_range: tuple[float, float] | None
    impute: str
    n_obs: int

    _schema = "psychoval.score_items/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"scales": len(self.keys), "n": self.n_obs, "impute": self.impute}

    def _scale_table(self) -> pd.DataFrame:
        return pd.DataFrame({"n_items": self.n_items, "alpha": self.alpha, "g6": self.g6,
                             "average_r": self.average_r, "median_r": self.median_r,
                             "s_n": self.s_n, "ase": self.ase,
                             "n_rows_missing": self.n_rows_missing})

    def summary(self) -> Summary:
        notes = [f"impute={self.impute!r}"
                 + ("; scores are means of the items answered" if self.impute == "none" else "")]
        if self.reverse:
            lo, hi = self.reverse_range  # type: ignore[misc]
            notes.append(f"reversed as {lo:g} + {hi:g} - x: {', '.join(self.reverse)}")
        notes.append("corrected: raw correlations below the diagonal, alpha on it, "
                     "correlations disattenuated for unreliability above it")
        return Summary(title="Scale scores", facts=(("scales", len(self.keys)),
                                                    ("respondents", self.n_obs)),
                       tables=(("Scales", self._scale_table()), ("Corrected", self.corrected)),
                       notes=tuple(notes))

    def to_frame(self) -> pd.DataFrame:
        """One row per scale."""
        out = self._scale_table()
        out.insert(0, "scale", out.index.astype(str))
        return out.reset_index(drop=True)


def _median_impute(x: np.ndarray, how: str) -> np.ndarray:
    nan = np.isnan(x)
    if not nan.any():
        return x
    fill = np.nanmedian(x, axis=0) if how == "median" else np.nanmean(x, axis=0)
    return np.where(nan, fill, x)


def score_items(
    data: Any,
    keys: Mapping[str, Sequence[str]],
    *,
    reverse: Sequence[str] | str | None = None,
    impute: str = "none",
    reverse_range: tuple[float, float] | None = None,
) -> ScoreItemsResult:
    """Score several scales at once, with alpha, lambda 6, average r and scale correlations.

    Each scale's score is the mean of its items (reverse-keyed ones rescored first). As
    ``psych::scoreItems`` (psych 2.2.9), whose results are reproduced with
    ``impute="median"`` (psych's default) and ``impute="none"``.

    Parameters
    ----------
    data : DataFrame or ResponseTable
        Respondents in rows, items in columns; every item named in ``keys`` must be present.
    keys : mapping of str to sequence of str
        ``{scale: [item, ...]}``. An item may belong to several scales.
    reverse : sequence of str, optional
        Items reverse-keyed (``lo + hi - x``) wherever they appear; ``lo``/``hi`` are the
        smallest and largest observed values over all the keyed items (psych's rule), unless
        ``reverse_range`` gives them.
    impute : {"none", "median", "mean"}
        ``"none"`` (default): a score is the mean of the items answered (NaN if none), and the
        statistics use pairwise covariances. ``"median"``/``"mean"`` fill each missing
        response with its item's median/mean first, as psych does by default.
    reverse_range : (float, float), optional
        Scale endpoints for reverse-keying.

    Returns
    -------
    ScoreItemsResult
        ``scores`` (respondents x scales); per scale ``alpha``, ``g6``, ``average_r``,
        ``median_r``, ``s_n``, ``ase``, ``n_items``, ``n_rows_missing`` (respondents with
        at least one of its items missing); ``cor`` (scale correlations), ``corrected``
        (psych's layout: raw below the diagonal, alpha on it, disattenuated above) and
        ``item_cor`` (item by scale correlations).

    Raises
    ------
    SpecificationError
        Empty keys, an empty scale, an unknown item, a bad ``impute``.
    DataError
        Non-numeric data, an item without variance.

    Notes
    -----
    With C the item covariance matrix and K the 0/1 keys matrix (items x scales):
    scale covariances ``K'CK`` (from the imputed data's scores when imputing), with
    ``V_s`` a scale's variance and k_s its length,
    ``alpha_s = k_s/(k_s-1) (V_s - sum_{i in s} C_ii)/V_s``,
    ``average_r_s = alpha_s/(k_s - alpha_s (k_s - 1))``,
    ``g6_s = (V_s - sum C_ii + sum smc_i C_ii)/V_s`` with the smc of each item on all keyed
    items (psych's definition, so it differs from :func:`alpha`'s ``g6``).

    References
    ----------
    Revelle, W. (2022). psych: Procedures for Psychological, Psychometric, and Personality
    Research (2.2.9). https://CRAN.R-project.org/package=psych

    Examples
    --------
    >>> import pandas as pd, psychoval as pv
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 3, 3, 5, 4], "c": [2, 3, 4, 4, 5]})
    >>> res = pv.score_items(df, {"all": ["a", "b", "c"]})
    >>> round(float(res.alpha["all"]), 6)   # psych::scoreItems(list(all = c("a","b","c")), df)$alpha
    0.933333
    """
    check_choice("impute", impute, ("none", "median", "mean"))
    if not isinstance(keys, Mapping) or not keys:
        raise SpecificationError("keys must be a non-empty mapping {scale: [item, ...]}")
    order: list[str] = []
    for scale, its in keys.items():
        if isinstance(its, str) or not len(its):
            raise SpecificationError(
                f"scale {scale!r} must list its items as a non-empty sequence, got {its!r}")
        for it in its:
            if it not in order:
                order.append(it)
    m = as_item_matrix(data, items=order, min_items=1, min_rows=2)
    m, _ = apply_missing(m, "pairwise")
    check_variances(m)
    m, rev, rng = reverse_items(m, reverse, reverse_range)
    x = m.values
    n, p = x.shape
    scales = list(keys)
    kmat = np.zeros((p, len(scales)))
    for s, scale in enumerate(scales):
        for it in keys[scale]:
            kmat[order.index(it), s] = 1.0
    num = kmat.sum(axis=0)
    nan = np.isnan(x)
    n_missing_rows = (nan.astype(float) @ kmat > 0).sum(axis=0)
    if impute != "none":
        xi = _median_impute(x, impute)
        mean_ = xi.mean(axis=0)
        xc = xi - mean_
        c = xc.T @ xc / (n - 1)
        totals = xi @ kmat
        tc = totals - totals.mean(axis=0)
        cov_s = tc.T @ tc / (n - 1)
        scores = totals / num
    else:
        mom = pairwise_moments(x)
        if (mom.n_pairwise < 2).any():
            i, j = np.argwhere(mom.n_pairwise < 2)[0]
            raise DataError(f"items {order[i]!r} and {order[j]!r} are answered together by "
                            f"{int(mom.n_pairwise[i, j])} respondent(s); at least 2 are needed")
        c = mom.cov
        cov_s = kmat.T @ c @ kmat
        obs = (~nan).astype(float)
        cnt = obs @ kmat
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = (np.where(nan, 0.0, x) @ kmat) / cnt
        xi = x
    item_var = np.diag(c)
    var_s = np.diag(cov_s)
    sd_s = np.sqrt(var_s)
    cor_s = cov_s / np.outer(sd_s, sd_s)
    np.fill_diagonal(cor_s, 1.0)
    sum_item_var = item_var @ kmat
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = (var_s - sum_item_var) * num / ((num - 1) * var_s)
    alpha = np.where(np.isnan(alpha), 1.0, alpha)  # psych sets 1-item scales' NaN alpha to 1
    with np.errstate(invalid="ignore", divide="ignore"):
        av_r = alpha / (num - alpha * (num - 1))
        s_n = av_r * num / (1 - av_r)
    c_smc = psych_smc(c) * item_var
    g6 = (var_s - sum_item_var + c_smc @ kmat) / var_s
    r_items = c / np.sqrt(np.outer(item_var, item_var))
    med_r = np.array([
        float(np.median(r_items[np.ix_(kmat[:, s] > 0, kmat[:, s] > 0)][
            np.tril_indices(int(num[s]), -1)])) if num[s] > 1 else math.nan
        for s in range(len(scales))])
    # Duhachek's Q per scale, as alpha(): tr(C_s C_s) = sum of squared entries, sum(C_s C_s)
    # = squared length of C_s 1 (psych's scoreItems uses the squared diagonal instead; see docs)
    tr_cc = np.diag(kmat.T @ (c**2) @ kmat)
    sum_cc = ((c @ kmat) ** 2 * kmat).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = (2 * num**2 / ((num - 1) ** 2 * var_s**3)) * (
            var_s * (tr_cc + sum_item_var**2) - 2 * sum_item_var * sum_cc)
        ase = np.sqrt(q / n)
    corrected = cor_s.copy()
    iu = np.triu_indices(len(scales), 1)
    corrected[iu] = cor_s[iu] / np.sqrt(alpha[iu[0]] * alpha[iu[1]])
    np.fill_diagonal(corrected, alpha)
    # item-scale correlations (on the data the scores come from)
    item_cor = np.empty((p, len(scales)))
    for s in range(len(scales)):
        sc = scores[:, s]
        for j in range(p):
            ok = ~np.isnan(xi[:, j]) & ~np.isnan(sc)
            item_cor[j, s] = np.corrcoef(xi[ok, j], sc[ok])[0, 1]
    idx = pd.Index(scales, name="scale")
    return ScoreItemsResult(
        scores=pd.DataFrame(scores, index=m.ids, columns=idx),
        alpha=pd.Series(alpha, index=idx, name="alpha"),
        g6=pd.Series(g6, index=idx, name="g6"),
        average_r=pd.Series(av_r, index=idx, name="average_r"),
        median_r=pd.Series(med_r, index=idx, name="median_r"),
        s_n=pd.Series(s_n, index=idx, name="s_n"),
        ase=pd.Series(ase, index=idx, name="ase"),
        n_items=pd.Series(num.astype(int), index=idx, name="n_items"),
        n_rows_missing=pd.Series(n_missing_rows.astype(int), index=idx, name="n_rows_missing"),
        cor=pd.DataFrame(cor_s, index=idx, columns=idx),
        corrected=pd.DataFrame(corrected, index=idx, columns=idx),
        item_cor=pd.DataFrame(item_cor, index=pd.Index(order, name="item"), columns=idx),
        keys={s: tuple(keys[s]) for s in scales}, reverse=rev, reverse_range=rng,
        impute=impute, n_obs=n,
    )
