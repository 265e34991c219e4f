"""Split-half reliability over all (or sampled) splits of the items, as psych::splitHalf."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval._input import check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import SpecificationError
from psychoval.stats.core._moments import alpha_from_cov, pairwise_moments
from psychoval.stats.reliability._common import prepare, psych_smc

__all__ = ["split_half", "SplitHalfResult"]

ENUMERATIONS = ("exhaustive", "psych")


@dataclasses.dataclass(frozen=True)
class _Splits:
    method: str  # "exhaustive", "psych" or "sampled"
    a: np.ndarray  # (S, k) 0/1 indicator of half A
    divisor: float  # what the sum of the split coefficients is divided by for the mean


def _enumerate(k: int, enumeration: str, n_sample: int, max_exhaustive: int,
               rng: np.random.Generator | None) -> _Splits:
    m = k // 2
    if k <= max_exhaustive:
        if enumeration == "psych":
            # psych enumerates the first choose(k, m)/2 combinations of size m in lexicographic
            # order and divides the sum by choose(k, m)/2 (not an integer when it is odd).
            count = math.comb(k, m) / 2.0
            n_eval = math.ceil(count)
            combos = list(itertools.islice(itertools.combinations(range(k), m), n_eval))
            divisor = count
            method = "psych"
        elif k % 2 == 0:
            # each split once: the halves that hold the first item
            combos = [(0, *c) for c in itertools.combinations(range(1, k), m - 1)]
            divisor = float(len(combos))
            method = "exhaustive"
        else:
            combos = list(itertools.combinations(range(k), m))
            divisor = float(len(combos))
            method = "exhaustive"
        a = np.zeros((len(combos), k))
        rows = np.repeat(np.arange(len(combos)), m)
        a[rows, np.asarray(combos, dtype=np.intp).ravel()] = 1.0
        return _Splits(method, a, divisor)
    assert rng is not None
    order = np.argsort(rng.random((n_sample, k)), axis=1)[:, :m]
    a = np.zeros((n_sample, k))
    a[np.repeat(np.arange(n_sample), m), order.ravel()] = 1.0
    return _Splits("sampled", a, float(n_sample))


def _split_coefficients(r: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Guttman split-half 4 r_AB / sum(R) and the correlation r_AB/sqrt(V_A V_B) per split."""
    b = 1.0 - a
    ar = a @ r
    vab = np.einsum("sk,sk->s", ar, b)
    va = np.einsum("sk,sk->s", ar, a)
    vb = np.einsum("sk,sk->s", b @ r, b)
    rab = 4.0 * vab / r.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = vab / np.sqrt(va * vb)
    return rab, corr


@dataclasses.dataclass(frozen=True)
class _SplitCore:
    max_split: float
    min_split: float
    mean_split: float
    max_a: tuple[str, ...]
    max_b: tuple[str, ...]
    min_a: tuple[str, ...]
    min_b: tuple[str, ...]
    method: str
    n_splits: int
    quantiles: tuple[float, float, float]
    sb_max: float
    sb_min: float
    sb_mean: float


def split_half_core(r: np.ndarray, items: Sequence[str], *, enumeration: str, n_sample: int,
                    max_exhaustive: int, seed: Any) -> _SplitCore:
    k = r.shape[0]
    rng = np.random.default_rng(seed) if k > max_exhaustive else None
    sp = _enumerate(k, enumeration, n_sample, max_exhaustive, rng)
    rab, corr = _split_coefficients(r, sp.a)
    sb = 2.0 * corr / (1.0 + corr)
    imax, imin = int(np.argmax(rab)), int(np.argmin(rab))

    def halves(i: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        sel = sp.a[i].astype(bool)
        return (tuple(it for it, s in zip(items, sel, strict=True) if s),
                tuple(it for it, s in zip(items, sel, strict=True) if not s))

    max_a, max_b = halves(imax)
    min_a, min_b = halves(imin)
    q = np.quantile(rab, [0.025, 0.5, 0.975])
    return _SplitCore(
        max_split=float(rab[imax]), min_split=float(rab[imin]),
        mean_split=float(rab.sum() / sp.divisor), max_a=max_a, max_b=max_b, min_a=min_a,
        min_b=min_b, method=sp.method, n_splits=int(rab.size),
        quantiles=(float(q[0]), float(q[1]), float(q[2])),
        sb_max=float(np.max(sb)), sb_min=float(np.min(sb)), sb_mean=float(np.mean(sb)),
    )


def lambda_family(r: np.ndarray) -> dict[str, float]:
    """Standardized alpha, lambda 2, lambda 6, mean and median inter-item r of R."""
    k = r.shape[0]
    sumr = float(r.sum())
    off = r - np.diag(np.diag(r))
    sum_off = sumr - float(np.trace(r))
    sumsq_off = float((off * off).sum())
    low = r[np.tril_indices(k, -1)]
    return {
        "alpha": alpha_from_cov(r),
        "lambda2": (sum_off + math.sqrt(sumsq_off * k / (k - 1))) / sumr,
        "lambda6": (sum_off + float(psych_smc(r).sum())) / sumr,
        "average_r": float(low.mean()),
        "median_r": float(np.median(low)),
    }


@dataclasses.dataclass(frozen=True, repr=False)
class SplitHalfResult(Result):
    """Split-half reliabilities (see :func:`split_half`)."""

    max_split: float
    min_split: float
    mean_split: float
    alpha: float
    lambda2: float
    lambda6: float
    average_r: float
    median_r: float
    max_split_halves: tuple[tuple[str, ...], tuple[str, ...]]
    min_split_halves: tuple[tuple[str, ...], tuple[str, ...]]
    spearman_brown_max: float
    spearman_brown_min: float
    spearman_brown_mean: float
    split_quantiles: tuple[float, float, float]
    method: str
    n_splits: int
    items: tuple[str, ...]
    reverse: tuple[str, ...]
    n_obs: int
    missing: str
    min_pairwise_n: int
    seed: Any = None

    _schema = "psychoval.split_half/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"max_split": self.max_split, "min_split": self.min_split,
                "mean_split": self.mean_split, "method": self.method, "n_splits": self.n_splits}

    def summary(self) -> Summary:
        facts = (
            ("maximum split half (lambda 4)", self.max_split),
            ("minimum split half (beta)", self.min_split),
            ("mean split half", self.mean_split),
            ("standardized alpha", self.alpha),
            ("Guttman lambda 2", self.lambda2),
            ("Guttman lambda 6", self.lambda6),
            ("average r", self.average_r),
            ("median r", self.median_r),
            ("Spearman-Brown (max / min / mean)",
             f"{self.spearman_brown_max:.3f} / {self.spearman_brown_min:.3f} / "
             f"{self.spearman_brown_mean:.3f}"),
            ("splits", f"{self.n_splits} ({self.method})"),
        )
        notes = [f"max split: {', '.join(self.max_split_halves[0])} | "
                 f"{', '.join(self.max_split_halves[1])}",
                 f"min split: {', '.join(self.min_split_halves[0])} | "
                 f"{', '.join(self.min_split_halves[1])}"]
        if self.method == "sampled":
            notes.append(f"{self.n_splits} random splits (seed={self.seed!r}): max, min and "
                         "mean are estimates, not exact")
        return Summary(title="Split-half reliability", facts=facts, notes=tuple(notes))

    def to_frame(self) -> pd.DataFrame:
        rows = [("max_split", self.max_split), ("min_split", self.min_split),
                ("mean_split", self.mean_split), ("alpha", self.alpha),
                ("lambda2", self.lambda2), ("lambda6", self.lambda6),
                ("average_r", self.average_r), ("median_r", self.median_r),
                ("spearman_brown_max", self.spearman_brown_max),
                ("spearman_brown_min", self.spearman_brown_min),
                ("spearman_brown_mean", self.spearman_brown_mean)]
        return pd.DataFrame(rows, columns=["statistic", "value"])


def split_half(
    data: Any,
    *,
    reverse: Sequence[str] | str | None = None,
    missing: str = "pairwise",
    enumeration: str = "exhaustive",
    max_exhaustive: int = 16,
    n_sample: int = 10000,
    seed: Any = None,
    reverse_range: tuple[float, float] | None = None,
) -> SplitHalfResult:
    """Maximum, minimum and mean split-half reliability (Guttman's lambda 4 and beta).

    For each split of the k items into halves A and B (sizes floor(k/2) and ceil(k/2)), the
    split-half reliability of the standardized total is ``4 r_AB / sum(R)``. The maximum is
    Guttman's lambda 4, the minimum Revelle's beta. As ``psych::splitHalf`` (psych 2.2.9).

    Parameters
    ----------
    data : DataFrame, ResponseTable or 2-d array
        Respondents in rows, items in columns.
    reverse : sequence of str, optional
        Items reverse-keyed (``lo + hi - x``) first; nothing is reversed automatically
        (psych's ``check.keys = TRUE`` reverses silently).
    missing : {"pairwise", "listwise", "raise"}
        Correlations as psych: ``cov2cor`` of the pairwise covariance matrix.
    enumeration : {"exhaustive", "psych"}
        ``"exhaustive"``: every split exactly once. ``"psych"``: psych's enumeration, which
        visits the first choose(k, k//2)/2 combinations in lexicographic order and divides the
        sum by that number; for an even k it equals ``"exhaustive"``, for an odd k it misses
        splits (so its max/min can differ) and its mean is not the mean over splits.
    max_exhaustive : int
        Up to this many items every split is evaluated (choose(16, 8)/2 = 6435 splits);
        beyond it ``n_sample`` random splits are drawn and ``method`` says ``"sampled"``.
    n_sample : int
        Random splits when sampling.
    seed : int or Generator, optional
        Seed of the sampled splits.
    reverse_range : (float, float), optional
        Scale endpoints for reverse-keying instead of the observed min and max.

    Returns
    -------
    SplitHalfResult
        ``max_split``, ``min_split``, ``mean_split``, the halves attaining max and min,
        ``alpha`` (standardized), ``lambda2``, ``lambda6``, ``average_r``, ``median_r``,
        Spearman-Brown corrected half-score correlations (max, min, mean over splits),
        quantiles of the split distribution, ``method`` and ``n_splits``.

    Raises
    ------
    DataError
        Fewer than 2 items, no variance, non-numeric data.
    SpecificationError
        Unknown ``enumeration`` or bad ``n_sample``/``max_exhaustive``.

    Notes
    -----
    With R the inter-item correlation matrix and a the 0/1 indicator of half A (b = 1 - a):
    ``split = 4 a'Rb / 1'R1``; Spearman-Brown of the half-score correlation
    ``r = a'Rb / sqrt(a'Ra b'Rb)`` is ``2r/(1+r)``.

    References
    ----------
    Guttman, L. (1945). A basis for analyzing test-retest reliability. Psychometrika, 10,
    255-282. https://doi.org/10.1007/BF02288892

    Revelle, W. (1979). Hierarchical cluster analysis and the internal structure of tests.
    Multivariate Behavioral Research, 14, 57-74. https://doi.org/10.1207/s15327906mbr1401_4

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> x = np.array([[5, 5, 5, 5], [1, 1, 1, 1], [4, 3, 3, 5], [3, 2, 2, 3], [4, 2, 2, 3],
    ...               [2, 3, 3, 3], [1, 2, 1, 2], [2, 1, 3, 3], [2, 1, 2, 2], [5, 5, 5, 5]])
    >>> res = pv.split_half(x)
    >>> round(res.max_split, 6)   # psych::splitHalf(as.data.frame(x))$maxrb
    0.968195
    """
    check_choice("enumeration", enumeration, ENUMERATIONS)
    for name, val, least in (("max_exhaustive", max_exhaustive, 2), ("n_sample", n_sample, 1)):
        if not isinstance(val, (int, np.integer)) or val < least:
            raise SpecificationError(f"{name}={val!r} must be an integer of at least {least}")
    m, info, rev, _ = prepare(data, reverse=reverse, missing=missing,
                              reverse_range=reverse_range)
    mom = pairwise_moments(m.values)
    r = mom.cor
    core = split_half_core(r, m.items, enumeration=enumeration, n_sample=int(n_sample),
                           max_exhaustive=int(max_exhaustive), seed=seed)
    lam = lambda_family(r)
    return SplitHalfResult(
        max_split=core.max_split, min_split=core.min_split, mean_split=core.mean_split,
        alpha=lam["alpha"], lambda2=lam["lambda2"], lambda6=lam["lambda6"],
        average_r=lam["average_r"], median_r=lam["median_r"],
        max_split_halves=(core.max_a, core.max_b), min_split_halves=(core.min_a, core.min_b),
        spearman_brown_max=core.sb_max, spearman_brown_min=core.sb_min,
        spearman_brown_mean=core.sb_mean, split_quantiles=core.quantiles, method=core.method,
        n_splits=core.n_splits, items=m.items, reverse=rev, n_obs=m.n, missing=info.policy,
        min_pairwise_n=int(mom.n_pairwise.min()),
        seed=seed if isinstance(seed, (int, np.integer, type(None))) else repr(seed),
    )
