"""Dimensionality: KMO, Bartlett's sphericity test, parallel analysis, Schmid-Leiman.

All follow psych 2.2.9 (``KMO``, ``cortest.bartlett``, ``fa.parallel``, ``schmid``) on the
pairwise-complete correlations of raw data (or a correlation matrix with ``n_obs``).

Length: four related procedures (KMO, Bartlett, parallel analysis, Schmid-Leiman) with their
result classes.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import as_item_matrix, check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import (
    DataError,
    DegenerateDataWarning,
    ImproperSolutionWarning,
    SpecificationError,
    warn,
)

__all__ = ["KMOResult", "BartlettResult", "ParallelAnalysisResult", "SchmidLeimanResult",
           "kmo", "bartlett", "parallel_analysis", "schmid_leiman"]


def _cor(data, *, cor, missing, items, n_obs):
    from psychoval.stats.factor._efa import correlation_input

    return correlation_input(data, cor=cor, missing=missing, items=items, n_obs=n_obs)


# ----------------------------------------------------------------------------------------
# KMO


@dataclasses.dataclass(frozen=True, repr=False)
class KMOResult(Result):
    """Kaiser-Meyer-Olkin measure of sampling adequacy: overall ``msa`` and per item
    ``msa_items`` (psych's MSA and MSAi)."""

    msa: float
    msa_items: pd.Series
    image: pd.DataFrame = dataclasses.field(repr=False)

    _schema: ClassVar[str] = "psychoval.kmo/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"msa": self.msa, "items": len(self.msa_items)}

    def summary(self) -> Summary:
        return Summary(title="Kaiser-Meyer-Olkin measure of sampling adequacy",
                       facts=(("overall MSA", self.msa),),
                       tables=(("MSA per item", self.msa_items.to_frame("msa")),))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"item": list(self.msa_items.index) + ["(overall)"],
                             "msa": list(self.msa_items.to_numpy()) + [self.msa]})


def _dependent_items(R: np.ndarray, names: Sequence[str]) -> list[str]:
    """Items in an exact linear dependency: R is (numerically) singular, its smallest
    eigenvalue within 1e-12 of its largest (R's ``solve`` - behind psych::KMO's "matrix is
    not invertible" - stops near 1e-16, where the inverse has long lost every digit; rounding
    decides on which side of that a duplicated item falls). The items are those with weight
    in the eigenvectors of the (numerically) zero eigenvalues. Empty when R is regular; a
    cheap condition estimate (LU) settles the usual case without an eigendecomposition."""
    from scipy.linalg import lapack

    if not np.isfinite(R).all():
        return []
    lu, _piv, info = lapack.dgetrf(R)
    if info == 0:
        rcond, _info = lapack.dgecon(lu, float(np.abs(R).sum(axis=0).max()), norm="1")
        if rcond >= 1e-10:
            return []
    w, v = np.linalg.eigh(R)
    aw = np.abs(w)
    null = aw <= 1e-12 * aw.max()
    if not null.any():
        return []
    weight = np.sqrt((v[:, null] ** 2).sum(axis=1))
    return [names[j] for j in np.flatnonzero(weight > 1e-6)]


def kmo(data: Any, *, cor: str = "pearson", missing: str = "pairwise",
        items: Sequence[str] | None = None) -> KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy (overall and per item).

    Compares the correlations with the partial (anti-image) correlations: values near 1 mean
    the correlations are explained by common factors.

    Parameters
    ----------
    data : DataFrame, ResponseTable, 2-d array or a correlation matrix
    cor : {"pearson", "polychoric", "tetrachoric", "mixed"}
    missing : {"pairwise", "listwise", "raise"}
    items : sequence of str, optional

    Returns
    -------
    KMOResult
        ``msa`` (overall) and ``msa_items``.

    Raises
    ------
    DataError
        Invalid data.

    Warns
    -----
    DegenerateDataWarning
        The correlation matrix is singular (linearly dependent items, named in the message;
        the statistic is then undefined and returned as NaN, where psych::KMO reports 0.5),
        or, with pairwise correlations, not positive definite (the items with a negative
        anti-image variance get NaN).

    Notes
    -----
    With :math:`Q` the correlations of :math:`R^{-1}` (anti-image, up to sign),
    :math:`MSA = \\sum_{i\\ne j} r_{ij}^2 / (\\sum_{i\\ne j} r_{ij}^2 + \\sum_{i\\ne j} q_{ij}^2)`,
    and per item the same sums over column i.

    References
    ----------
    Kaiser, H. F. (1970). A second generation little jiffy. Psychometrika 35, 401-415.
    https://doi.org/10.1007/BF02291817

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> r = np.array([[1, .5, .4], [.5, 1, .3], [.4, .3, 1]])
    >>> round(pv.kmo(r).msa, 4)  # psych::KMO(r)$MSA: 0.6279
    0.6279
    """
    R, names, _n, _np = _cor(data, cor=cor, missing=missing, items=items, n_obs=None)
    k = R.shape[0]
    dependent = _dependent_items(R, names)
    if dependent:
        shown = ", ".join(map(repr, dependent))
        warn(f"the correlation matrix is singular: items {shown} are linearly dependent (one "
             "is an exact weighted sum of the others, or a copy). KMO compares the "
             "correlations with the partial correlations, which need the inverse of that "
             "matrix, so it is undefined here: msa, msa_items and image are NaN (psych::KMO "
             "reports 0.5 for every item, with 'matrix is not invertible, image not found'). "
             f"Drop one of these items (e.g. {dependent[-1]!r}) and run again",
             DegenerateDataWarning, stacklevel=2)
        nan_image = np.full((k, k), np.nan)
        names = list(names)
        return KMOResult(math.nan, pd.Series(np.full(k, np.nan), index=names, name="msa"),
                         pd.DataFrame(nan_image, index=names, columns=names))
    Q = np.linalg.inv(R)
    dq = np.diag(Q)
    bad = [names[j] for j in np.flatnonzero(~(dq > 0))]
    if bad:
        warn("the correlation matrix is not positive definite (pairwise-complete "
             f"correlations can be): item(s) {', '.join(map(repr, bad))} have a negative "
             "anti-image variance, so their partial correlations and the overall msa are NaN "
             "(as psych::KMO). Use missing='listwise', or smooth the matrix, for a KMO of "
             "every item", DegenerateDataWarning, stacklevel=2)
    with np.errstate(invalid="ignore"):
        d = np.sqrt(dq)
        image = Q / np.outer(d, d)
    Q0 = image.copy()
    np.fill_diagonal(Q0, 0.0)
    R0 = R.copy()
    np.fill_diagonal(R0, 0.0)
    sr = (R0 ** 2).sum()
    sq = (Q0 ** 2).sum()
    msa = float(sr / (sr + sq))
    with np.errstate(invalid="ignore"):
        msai = (R0 ** 2).sum(axis=0) / ((R0 ** 2).sum(axis=0) + (Q0 ** 2).sum(axis=0))
    names = list(names)
    return KMOResult(msa, pd.Series(msai, index=names, name="msa"),
                     pd.DataFrame(image, index=names, columns=names))


# ----------------------------------------------------------------------------------------
# Bartlett


@dataclasses.dataclass(frozen=True, repr=False)
class BartlettResult(Result):
    """Bartlett's test that the correlation matrix is an identity matrix."""

    chisq: float
    df: int
    pvalue: float
    n_obs: int

    _schema: ClassVar[str] = "psychoval.bartlett/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"chisq": self.chisq, "df": self.df, "pvalue": self.pvalue}

    def summary(self) -> Summary:
        return Summary(title="Bartlett's test of sphericity",
                       facts=(("chi-square", self.chisq), ("df", self.df),
                              ("p", self.pvalue), ("n", self.n_obs)))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"chisq": self.chisq, "df": self.df, "pvalue": self.pvalue,
                              "n_obs": self.n_obs}])


def bartlett(data: Any, *, n_obs: int | None = None, cor: str = "pearson",
             missing: str = "pairwise", items: Sequence[str] | None = None) -> BartlettResult:
    """Bartlett's test of sphericity (psych::cortest.bartlett).

    Tests whether the items are uncorrelated in the population (R = I); a factor analysis
    makes sense only when this is rejected.

    Parameters
    ----------
    data : DataFrame, ResponseTable, 2-d array or a correlation matrix
    n_obs : int, optional
        Sample size; required for a matrix (raw data: all rows, as psych).
    cor, missing, items
        As :func:`efa`.

    Returns
    -------
    BartlettResult
        ``chisq``, ``df``, ``pvalue``, ``n_obs``.

    Raises
    ------
    SpecificationError
        A correlation matrix without ``n_obs`` (psych silently uses 100; we do not).

    Notes
    -----
    :math:`\\chi^2 = -\\log|R| \\,(n - 1 - (2p + 5)/6)` with :math:`p(p-1)/2` df.

    References
    ----------
    Bartlett, M. S. (1951). The effect of standardization on a chi square approximation in
    factor analysis. Biometrika 38, 337-344. https://doi.org/10.1093/biomet/38.3-4.337

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> r = np.array([[1, .5, .4], [.5, 1, .3], [.4, .3, 1]])
    >>> round(pv.bartlett(r, n_obs=100).chisq, 3)  # psych::cortest.bartlett(r, n = 100)
    46.449
    """
    from scipy.stats import chi2

    R, _names, n, _np = _cor(data, cor=cor, missing=missing, items=items, n_obs=n_obs)
    if n is None:
        raise SpecificationError("bartlett() of a correlation matrix needs n_obs= (the "
                                 "number of respondents)")
    p = R.shape[0]
    sign, logdet = np.linalg.slogdet(R)
    stat = float(-logdet * (n - 1 - (2 * p + 5) / 6))
    df = p * (p - 1) // 2
    return BartlettResult(stat, df, float(chi2.sf(stat, df)), int(n))


# ----------------------------------------------------------------------------------------
# parallel analysis


@dataclasses.dataclass(frozen=True, repr=False)
class ParallelAnalysisResult(Result):
    """Horn's parallel analysis with psych::fa.parallel's semantics.

    ``fa_values``: eigenvalues of the correlation matrix with one-factor communalities on the
    diagonal (psych: from a one-factor ``fa()`` fit, not SMCs); ``pc_values``: eigenvalues of
    R. ``*_sim``: means over normal simulated data; ``*_simr``: means over resampled data;
    ``*_threshold``: the ``quantile`` of the reference distribution each observed value is
    compared with (resampled for raw data, as psych; simulated for a matrix input).
    """

    fa_values: np.ndarray
    pc_values: np.ndarray
    fa_sim: np.ndarray
    pc_sim: np.ndarray
    fa_simr: np.ndarray | None
    pc_simr: np.ndarray | None
    fa_threshold: np.ndarray
    pc_threshold: np.ndarray
    n_factors: int
    n_components: int
    n_iter: int
    quantile: float
    n_obs: int
    method: str

    _schema: ClassVar[str] = "psychoval.parallel_analysis/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"n_factors": self.n_factors, "n_components": self.n_components,
                "n_iter": self.n_iter}

    def summary(self) -> Summary:
        return Summary(
            title="Parallel analysis",
            facts=(("suggested factors", self.n_factors),
                   ("suggested components", self.n_components),
                   ("iterations", self.n_iter), ("quantile", self.quantile)),
            tables=(("Eigenvalues", self.to_frame().set_index("number")),))

    def plot(self, *, components: bool = False, ax: Any = None) -> Any:
        """Scree plot: the observed eigenvalues (factors, or principal components with
        ``components=True``) against the parallel-analysis reference; needs matplotlib (the
        ``plots`` extra). Returns the matplotlib axes."""
        from psychoval.plotting._factor import plot_scree

        return plot_scree(self, components=components, ax=ax)

    def to_frame(self) -> pd.DataFrame:
        k = len(self.pc_values)
        return pd.DataFrame({
            "number": np.arange(1, k + 1), "fa_values": self.fa_values,
            "fa_threshold": self.fa_threshold, "fa_sim": self.fa_sim,
            "pc_values": self.pc_values, "pc_threshold": self.pc_threshold,
            "pc_sim": self.pc_sim})


# Above this many cells (n_obs x items) parallel_analysis draws its replicates for speed:
# simulated correlation matrices from their exact Wishart distribution (O(p^3) instead of
# O(n p^2)) and resampled data column-major. Below it the draws stay those of psych's recipe as
# psychoval always made them, so seeded results of small analyses do not change.
_LARGE_CELLS = 1_000_000


def _first_not_above(obs: np.ndarray, ref: np.ndarray) -> int:
    fail = np.flatnonzero(~(obs > ref))
    return int(fail[0]) if fail.size else len(obs)


def parallel_analysis(data: Any, *, n_iter: int = 20, seed: int | None = None,
                      quantile: float = 0.95, method: str = "minres", cor: str = "pearson",
                      missing: str = "pairwise", n_obs: int | None = None,
                      items: Sequence[str] | None = None) -> ParallelAnalysisResult:
    """Parallel analysis (psych::fa.parallel, ``fa="both"``): how many factors / components
    have eigenvalues above those of random data.

    Parameters
    ----------
    data : DataFrame, ResponseTable, 2-d array, or a correlation matrix (with ``n_obs``)
    n_iter : int
        Number of simulated (and resampled) data sets (psych: 20).
    seed : int, optional
        Seed of numpy's generator (results are random; R's streams are not reproduced).
    quantile : float
        Quantile of the reference eigenvalues (psych: .95).
    method : {"minres", "ml", "uls", "pa"}
        Extraction for the factor eigenvalues (one-factor fit, as psych).
    cor, missing, n_obs, items
        As :func:`efa`.

    Returns
    -------
    ParallelAnalysisResult
        Observed, simulated and resampled eigenvalues; ``n_factors`` and ``n_components``.

    Raises
    ------
    SpecificationError
        A matrix without ``n_obs``, or n_iter < 1.

    Notes
    -----
    For raw data the suggestions compare each observed eigenvalue with the ``quantile`` of
    the eigenvalues of data resampled column by column (psych's rule); ``n_factors`` is the
    number of leading factor eigenvalues above it.

    For large data (more than a million cells, n_obs x items) each simulated correlation
    matrix is drawn from its exact distribution instead of from n_obs x items normal
    deviates: the centred cross-products of n iid N(0, I) rows are Wishart(n - 1, I), drawn
    as ``A A'`` with ``A`` lower triangular, ``A_ii^2 ~ chi2(n - i)``, ``A_ij ~ N(0, 1)``
    (Bartlett's decomposition), in O(p^3) instead of O(n p^2) per replicate; the resampled
    data are drawn column by column in the layout of the cross-products. Both have exactly
    the distributions of psych's recipe (simulated data, row-major resamples), which smaller
    data keep; only the random draws differ, so a seed gives other numbers on either side of
    the limit.

    References
    ----------
    Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
    Psychometrika 30, 179-185. https://doi.org/10.1007/BF02289447

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> rng = np.random.default_rng(3)
    >>> f = rng.standard_normal((400, 2))
    >>> x = f @ np.kron(np.eye(2), np.full((4, 1), .7)).T + rng.standard_normal((400, 8)) * .6
    >>> pv.parallel_analysis(x, seed=1).n_factors  # psych::fa.parallel(x)$nfact
    2
    """
    from psychoval.stats.factor._efa import fit_fa

    check_choice("method", method, ("minres", "ml", "uls", "pa"))
    if not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise SpecificationError(f"n_iter={n_iter!r} must be a positive integer")
    if not 0 < quantile < 1:
        raise SpecificationError(f"quantile={quantile!r} must lie strictly between 0 and 1")
    R, names, n, _np = _cor(data, cor=cor, missing=missing, items=items, n_obs=n_obs)
    if n is None:
        raise SpecificationError("parallel_analysis() of a correlation matrix needs n_obs=")
    from psychoval.stats.factor._efa import is_square_matrix

    raw = None if is_square_matrix(data) else _raw_values(data, items, missing)
    p = R.shape[0]
    pc_values = np.linalg.eigvalsh(R)[::-1]
    fa_values = fit_fa(R, 1, method).values
    rng = np.random.default_rng(seed)
    large = n * p > _LARGE_CELLS and n > p
    columns = None if raw is None or not large else _ColumnResampler(raw, cor)
    sim_pc = np.empty((n_iter, p))
    sim_fa = np.empty((n_iter, p))
    res_pc = np.empty((n_iter, p)) if raw is not None else None
    res_fa = np.empty((n_iter, p)) if raw is not None else None
    for it in range(n_iter):
        if raw is not None:
            C = _resampled_cor(raw, columns, rng, cor)
            res_pc[it] = np.linalg.eigvalsh(C)[::-1]
            res_fa[it] = fit_fa(C, 1, method).values
        C = _simulated_cor(rng, int(n), p, wishart=large)
        sim_pc[it] = np.linalg.eigvalsh(C)[::-1]
        sim_fa[it] = fit_fa(C, 1, method).values
    if raw is not None:
        pc_thr = np.quantile(res_pc, quantile, axis=0)
        fa_thr = np.quantile(res_fa, quantile, axis=0)
    else:
        pc_thr = np.quantile(sim_pc, quantile, axis=0)
        fa_thr = np.quantile(sim_fa, quantile, axis=0)
    return ParallelAnalysisResult(
        fa_values=fa_values, pc_values=pc_values, fa_sim=sim_fa.mean(axis=0),
        pc_sim=sim_pc.mean(axis=0),
        fa_simr=None if res_fa is None else res_fa.mean(axis=0),
        pc_simr=None if res_pc is None else res_pc.mean(axis=0),
        fa_threshold=fa_thr, pc_threshold=pc_thr,
        n_factors=_first_not_above(fa_values, fa_thr),
        n_components=_first_not_above(pc_values, pc_thr), n_iter=int(n_iter),
        quantile=float(quantile), n_obs=int(n), method=method)


class _ColumnResampler:
    """Column-major resampling of large data: column j of a resample takes the rows
    ``rng.integers(0, n, size=(p, n))[j]`` of column j, built p x n, the layout of the
    cross-products, in buffers reused across replicates.

    Pearson correlations of integer scores (Likert, 0/1) take the exact route: scores shifted
    by their rounded column means are stored as float32 (0 where missing) beside a float32
    observed indicator when every cross-product sum of a resample is an integer below 2^24
    (n V^2 < 2^24, V the largest shifted score). float32 sums of such integers are exact, so
    the sums equal those of float64 arithmetic at half the cost. Other data and correlation
    types resample float64 scores and use :func:`_sample_cor`.
    """

    def __init__(self, raw: np.ndarray, cor: str) -> None:
        self.cor = cor
        n, p = raw.shape
        obs = ~np.isnan(raw)
        vals = raw[obs]
        self.scores = None
        if cor == "pearson" and vals.size and np.array_equal(vals, np.round(vals)):
            mean = np.where(obs, raw, 0.0).sum(axis=0) / np.maximum(obs.sum(axis=0), 1)
            shifted = np.where(obs, raw - np.round(mean), 0.0)
            v = float(np.abs(shifted).max())
            if n * v * v < 2.0**24:
                self.scores = np.ascontiguousarray(shifted.T, dtype=np.float32)
                self.observed = np.ascontiguousarray(obs.T, dtype=np.float32)
                self.gram_rows = np.empty((2 * p, n), dtype=np.float32)
                self.squares = np.empty((p, n), dtype=np.float32)
        if self.scores is None:
            self.columns = np.ascontiguousarray(raw.T)
            self.sample = np.empty((p, n))
        self.shape = (p, n)

    def __call__(self, rng: np.random.Generator) -> np.ndarray | None:
        """Correlations of one resample (None or non-finite when undefined)."""
        p, n = self.shape
        idx = rng.integers(0, n, size=(p, n))
        # mode="clip" only skips the bounds check: the indices lie in [0, n)
        if self.scores is None:
            for j in range(p):
                np.take(self.columns[j], idx[j], out=self.sample[j], mode="clip")
            return _sample_cor(self.sample.T, self.cor)
        g = self.gram_rows
        for j in range(p):
            np.take(self.scores[j], idx[j], out=g[j], mode="clip")
            np.take(self.observed[j], idx[j], out=g[p + j], mode="clip")
        return _cor_from_sums(g, self.squares)


def _cor_from_sums(g: np.ndarray, squares: np.ndarray) -> np.ndarray:
    """R's ``cor(x, use = "pairwise")`` from ``g`` = [y0; o] (2p x n float32): y0 the integer
    scores (0 where missing), o the observed indicators; ``squares`` a p x n buffer.

    P = y0 y0', S = y0 o' (S_ij: the sum of y_i over the rows where both are observed),
    N = o o' and Q = (y0^2) o' are exact integer sums (see :class:`_ColumnResampler`); then
    cov_ij = P_ij - S_ij S_ji / N_ij and var_i(j) = Q_ij - S_ij^2 / N_ij in float64.
    """
    p = g.shape[0] // 2
    gram = (g @ g.T).astype(np.float64)      # [[P, S], [S', N]]: one symmetric product
    np.multiply(g[:p], g[:p], out=squares)
    q = (squares @ g[p:].T).astype(np.float64)
    cross, s, npair = gram[:p, :p], gram[:p, p:], gram[p:, p:]
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = cross - s * s.T / npair
        var_i = q - s * s / npair
        r = cov / np.sqrt(var_i * var_i.T)
    np.fill_diagonal(r, 1.0)
    return r


def _resampled_cor(raw: np.ndarray, columns: _ColumnResampler | None,
                   rng: np.random.Generator, cor: str) -> np.ndarray:
    """Correlations (type ``cor``) of one data set with each column of ``raw`` resampled on its
    own, with replacement (psych); a new data set while the correlations are undefined.

    Without ``columns`` (the column-major draw of large data) the indices are drawn n x p, as
    psychoval always drew them.
    """
    for _attempt in range(100):
        if columns is None:
            idx = rng.integers(0, raw.shape[0], size=raw.shape)
            C = _sample_cor(np.take_along_axis(raw, idx, axis=0), cor)
        else:
            C = columns(rng)
        if C is not None and np.isfinite(C).all():
            return C
    raise DataError("100 resampled data sets in a row gave undefined "
                    "correlations (constant items); use a matrix input with n_obs")


def _simulated_cor(rng: np.random.Generator, n: int, p: int, *, wishart: bool) -> np.ndarray:
    """Pearson correlations of n iid N(0, I_p) rows.

    ``wishart=False`` simulates the n x p data (psych's recipe). ``wishart=True`` draws the
    same distribution in O(p^2) random numbers (needs n > p): the centred cross-products are
    W ~ Wishart_p(n - 1, I) = A A' with A lower triangular, A_ij ~ N(0, 1) below the diagonal
    and A_ii^2 ~ chi2(n - 1 - i) for i = 0, ..., p - 1 (Bartlett, 1933); the correlations are
    those of W.
    """
    if not wishart:
        return np.corrcoef(rng.standard_normal((n, p)), rowvar=False)
    a = np.zeros((p, p))
    a[np.tril_indices(p, -1)] = rng.standard_normal(p * (p - 1) // 2)
    a[np.diag_indices(p)] = np.sqrt(rng.chisquare(n - 1 - np.arange(p)))
    a /= np.sqrt(np.einsum("ij,ij->i", a, a))[:, None]
    C = a @ a.T
    np.fill_diagonal(C, 1.0)
    return C


def _sample_cor(sample: np.ndarray, cor: str) -> np.ndarray | None:
    """Correlations of a resampled data set, or None when they are undefined."""
    from psychoval.stats.core._pearson import pairwise_cor

    if cor == "pearson":
        return pairwise_cor(sample)[0]
    from psychoval.exceptions import PsychovalError

    try:
        return _cor(sample, cor=cor, missing="pairwise", items=None, n_obs=None)[0]
    except PsychovalError:
        return None


def _raw_values(data, items, missing) -> np.ndarray:
    from psychoval._input import apply_missing

    m = as_item_matrix(data, items=items, min_items=2, what="data")
    m, _ = apply_missing(m, missing)
    return m.values


# ----------------------------------------------------------------------------------------
# Schmid-Leiman


@dataclasses.dataclass(frozen=True, repr=False)
class SchmidLeimanResult(Result):
    """Schmid-Leiman orthogonalisation of a higher-order factor solution (psych::schmid).

    ``sl``: items x (g, F1*, ..., Fm*, h2, u2, p2) as psych's ``$sl``; ``oblique`` and
    ``phi``: the oblique first-order solution; ``g_loadings``: loadings of the first-order
    factors on g (``$gloading``); ``orthogonal``: the varimax solution it started from.
    ``ultra_heywood``: the first-order factors whose loading on g exceeds 1 in absolute value
    (an inadmissible solution; psych's fa of the factor correlations warns "An ultra-Heywood
    case was detected"); empty when admissible.
    """

    sl: pd.DataFrame
    oblique: pd.DataFrame
    phi: pd.DataFrame
    g_loadings: pd.Series
    orthogonal: pd.DataFrame
    n_factors: int
    method: str
    rotation: str
    option: str
    ultra_heywood: tuple[str, ...] = ()

    _schema: ClassVar[str] = "psychoval.schmid_leiman/1"

    @property
    def general(self) -> pd.Series:
        return self.sl["g"]

    def _repr_fields(self) -> dict[str, Any]:
        return {"n_factors": self.n_factors, "method": self.method}

    def summary(self) -> Summary:
        notes: tuple[str, ...] = ()
        if self.n_factors == 2:
            notes = ("Two group factors: the general loadings are not identified; psych's "
                     f"option={self.option!r} rule was applied.",)
        if self.ultra_heywood:
            notes += (ultra_heywood_message(self.g_loadings, self.ultra_heywood),)
        return Summary(title="Schmid-Leiman solution",
                       facts=(("group factors", self.n_factors), ("method", self.method),
                              ("rotation", self.rotation)),
                       tables=(("Loadings", self.sl), ("g loadings of the factors",
                                                      self.g_loadings.to_frame("g"))),
                       notes=notes)

    def to_frame(self) -> pd.DataFrame:
        return self.sl.reset_index(names="item")


def general_loadings(gload: np.ndarray) -> tuple[pd.Series, tuple[str, ...]]:
    """The first-order factors' loadings on g (named F1, F2, ...) and those above 1 in
    absolute value (an ultra-Heywood case), with an ImproperSolutionWarning naming them."""
    fcols = [f"F{j + 1}" for j in range(len(gload))]
    series = pd.Series(np.asarray(gload), index=fcols, name="g")
    ultra = tuple(fcols[j] for j in np.flatnonzero(np.abs(np.asarray(gload)) > 1.0))
    if ultra:
        warn(ultra_heywood_message(series, ultra), ImproperSolutionWarning,
                      stacklevel=3)
    return series, ultra


def ultra_heywood_message(gload: pd.Series, names: Sequence[str]) -> str:
    which = ", ".join(f"{f} ({float(gload[f]):.3f})" for f in names)
    return (f"ultra-Heywood case: the general-factor loading of {which} exceeds 1 (psych "
            "warns 'An ultra-Heywood case was detected'); the Schmid-Leiman split of that "
            "factor's items is inadmissible (their group loadings are set to 0). Consider "
            "another number of group factors or a bifactor CFA (pv.omega_sem)")


def schmid_from_loadings(orth: np.ndarray, rotation: str, method: str, option: str,
                          diag_model: np.ndarray) -> dict[str, np.ndarray]:
    """psych::schmid's core from the (varimax) orthogonal loadings."""
    from psychoval.stats.core._rotation import rotate_loadings
    from psychoval.stats.factor._efa import fit_fa

    nf = orth.shape[1]
    rot = rotate_loadings(orth, rotation)
    fload = rot.loadings
    phi = rot.phi if rot.phi is not None else np.eye(nf)
    if nf > 2:
        gfit = fit_fa(phi, 1, method)
        gload = gfit.loadings[:, 0]
    else:
        r12 = phi[0, 1]
        if option == "equal":
            gload = np.array([math.sqrt(abs(r12)), math.copysign(math.sqrt(abs(r12)), r12)])
        elif option == "first":
            gload = np.array([1.0, r12])
        else:
            gload = np.array([r12, 1.0])
    g = fload @ gload
    h2 = (orth * orth).sum(axis=1)
    u2 = diag_model - h2
    uniq = diag_model[:, None] - fload ** 2
    prime = fload * gload[None, :]
    uniq2 = diag_model[:, None] - uniq - prime ** 2
    uniq2 = np.maximum(uniq2, 0.0)
    sm = np.sign(fload) * np.sqrt(uniq2)
    return {"g": g, "sm": sm, "h2": h2, "u2": u2, "p2": g ** 2 / h2, "fload": fload,
            "phi": phi, "gload": gload}


def schmid_leiman(data: Any, *, n_factors: int = 3, method: str = "minres",
                  rotation: str = "oblimin", cor: str = "pearson", missing: str = "pairwise",
                  n_obs: int | None = None, items: Sequence[str] | None = None,
                  option: str = "equal") -> SchmidLeimanResult:
    """Schmid-Leiman transformation (psych::schmid): general factor plus orthogonal group
    factors from an oblique solution.

    psych's steps: a ``n_factors`` varimax solution (``fa(..., rotate="varimax")``), rotated
    obliquely (``rotation``, oblimin by default) without reordering; a one-factor fa of the
    factor correlations gives the general loadings; the first-order loadings are split into
    general and residualised group parts.

    Parameters
    ----------
    data : DataFrame, ResponseTable, 2-d array, or a correlation matrix
    n_factors : int
        Number of group factors (at least 3 for an identified general factor; 2 uses psych's
        ``option`` rule).
    method : {"minres", "ml", "pa", "uls"}
    rotation : {"oblimin", "quartimin", "geominQ", "promax"}
    cor, missing, n_obs, items
        As :func:`efa`.
    option : {"equal", "first", "second"}
        psych's rule for two group factors.

    Returns
    -------
    SchmidLeimanResult
        ``sl`` (g, F1*.., h2, u2, p2), ``oblique``, ``phi``, ``g_loadings``, ``orthogonal``.

    Raises
    ------
    SpecificationError
        n_factors < 2, or an unknown option.

    Warns
    -----
    ImproperSolutionWarning
        A first-order factor loads above 1 on the general factor (an ultra-Heywood case,
        named in ``ultra_heywood``).

    Notes
    -----
    With oblique loadings :math:`F` and g loadings :math:`\\gamma` of the factors,
    :math:`g = F\\gamma` and group loadings are :math:`\\operatorname{sign}(F)
    \\sqrt{F^2(1 - \\gamma^2)}`.

    References
    ----------
    Schmid, J., & Leiman, J. M. (1957). The development of hierarchical factor solutions.
    Psychometrika 22, 53-61. https://doi.org/10.1007/BF02289209

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> rng = np.random.default_rng(4)
    >>> g = rng.standard_normal((600, 1)); s = rng.standard_normal((600, 3))
    >>> x = .6 * g + np.repeat(s, 3, axis=1) * .5 + rng.standard_normal((600, 9)) * .6
    >>> sl = pv.schmid_leiman(x, n_factors=3)  # psych::schmid(x, 3)
    >>> list(sl.sl.columns)
    ['g', 'F1*', 'F2*', 'F3*', 'h2', 'u2', 'p2']
    """
    from psychoval.stats.factor._efa import fit_fa, orient_factors

    check_choice("method", method, ("minres", "ml", "pa", "uls"))
    check_choice("rotation", rotation, ("oblimin", "quartimin", "geominQ", "promax"))
    check_choice("option", option, ("equal", "first", "second"))
    if not isinstance(n_factors, (int, np.integer)) or n_factors < 2:
        raise SpecificationError(f"n_factors={n_factors!r}: Schmid-Leiman needs at least 2 "
                                 "group factors (3 for an identified general factor)")
    R, names, _n, _np = _cor(data, cor=cor, missing=missing, items=items, n_obs=n_obs)
    if n_factors >= R.shape[0]:
        raise SpecificationError(f"n_factors={n_factors} is too many for {R.shape[0]} items")
    from psychoval.stats.core._rotation import rotate_loadings

    fit = fit_fa(R, int(n_factors), method)
    vm = rotate_loadings(fit.loadings, "varimax").loadings
    orth, _phi, _order = orient_factors(vm, None)
    parts = schmid_from_loadings(orth, rotation, method, option, np.diag(R))
    names = list(names)
    gcols = [f"F{j + 1}*" for j in range(n_factors)]
    sl = pd.DataFrame(np.column_stack([parts["g"], parts["sm"], parts["h2"], parts["u2"],
                                       parts["p2"]]),
                      index=names, columns=["g", *gcols, "h2", "u2", "p2"])
    fcols = [f"F{j + 1}" for j in range(n_factors)]
    gload, ultra = general_loadings(parts["gload"])
    return SchmidLeimanResult(
        sl=sl, oblique=pd.DataFrame(parts["fload"], index=names, columns=fcols),
        phi=pd.DataFrame(parts["phi"], index=fcols, columns=fcols), g_loadings=gload,
        orthogonal=pd.DataFrame(orth, index=names, columns=fcols), n_factors=int(n_factors),
        method=method, rotation=rotation, option=option, ultra_heywood=ultra)
