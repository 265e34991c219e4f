"""factor_analyzer's ``FactorAnalyzer``, ``calculate_kmo`` and ``calculate_bartlett_sphericity``
on psychoval's engine (``pv.efa``, ``pv.kmo``, ``pv.bartlett``): same names, arguments,
attributes and return shapes, psych's numbers.

factor_analyzer (0.5.1) aims at psych::fa and is inexact in places; where it departs from psych
we return psych's value and say so in the docstring (communalities, factor variance and the
factor order under oblique rotations). factor_analyzer is not imported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError, PsychovalWarning, SpecificationError, warn

__all__ = ["FactorAnalyzer", "calculate_bartlett_sphericity", "calculate_kmo"]

# factor_analyzer's rotation names -> psychoval's (psych's / GPArotation's)
ROTATIONS = {"varimax": "varimax", "promax": "promax", "oblimin": "oblimin",
             "quartimin": "quartimin", "quartimax": "quartimax", "geomin_obl": "geominQ",
             "geomin_ort": "geominT"}
OBLIQUE = ("promax", "oblimin", "quartimin", "geomin_obl")
_MISSING_ROTATIONS = ("oblimax", "equamax")
METHODS = {"minres": "minres", "uls": "minres", "ml": "ml", "mle": "ml", "principal": "principal"}
IMPUTATIONS = ("mean", "median", "drop")
SVD_METHODS = ("randomized", "lapack")
# rotation_kwargs factor_analyzer accepts, at the values psych (and so psychoval) uses
_ROTATION_DEFAULTS = {"power": 4, "gamma": 0, "delta": 0.01, "normalize": True}
_PARAMS = ("n_factors", "rotation", "method", "use_smc", "is_corr_matrix", "bounds", "impute",
           "svd_method", "rotation_kwargs")
_DEFAULTS: dict[str, Any] = {"n_factors": 3, "rotation": "promax", "method": "minres",
                             "use_smc": True, "is_corr_matrix": False, "bounds": (0.005, 1),
                             "impute": "median", "svd_method": "randomized",
                             "rotation_kwargs": None}


def _lower(name: str, value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class FactorAnalyzer:
    """Exploratory factor analysis with factor_analyzer's interface and psych::fa's numbers.

    A drop-in replacement for ``factor_analyzer.FactorAnalyzer``: change the import to
    ``from psychoval.compat import FactorAnalyzer``. Fitting is :func:`psychoval.efa` (psych
    2.2.9 conventions, converged tightly); the scikit-learn estimator conventions hold
    (``get_params`` / ``set_params``, ``fit`` returns ``self``, ``fit_transform``), without
    needing scikit-learn.

    Parameters
    ----------
    n_factors : int
        Number of factors (default 3).
    rotation : str or None
        factor_analyzer's names: ``"promax"`` (default), ``"varimax"``, ``"oblimin"``,
        ``"quartimin"``, ``"quartimax"``, ``"geomin_obl"`` (GPArotation's geominQ),
        ``"geomin_ort"`` (geominT), or None. ``"oblimax"`` and ``"equamax"`` are not
        available (psych has neither as ``fa`` rotations) and raise.
    method : {"minres", "ml", "principal"}
        ``"uls"`` is ``"minres"``, ``"mle"`` is ``"ml"``. ``"principal"``: principal
        components of the correlation matrix (psych::principal).
    use_smc : bool
        factor_analyzer's start (1 - SMC, or .5 when False). psychoval always starts from
        1 - SMC and converges to the optimum, so the solution does not depend on it.
    is_corr_matrix : bool
        ``X`` given to ``fit`` is a correlation matrix.
    bounds : tuple
        Bounds of the uniquenesses; only factor_analyzer's and psych's ``(0.005, 1)``.
    impute : {"median", "mean", "drop"}
        Missing cells in raw data: column median (factor_analyzer's default), column mean, or
        listwise deletion. Imputation is done only because this is factor_analyzer's
        behaviour, and a :class:`PsychovalWarning` says how many cells it filled
        (``pv.efa`` uses pairwise correlations instead).
    svd_method : {"randomized", "lapack"}
        Accepted for compatibility; principal components always use the full
        eigendecomposition (factor_analyzer's ``"lapack"``).
    rotation_kwargs : dict, optional
        Only psych's settings are available: ``power=4`` (promax), ``gamma=0`` (oblimin),
        ``delta=0.01`` (geomin), ``normalize=True``; other values raise.

    Attributes
    ----------
    loadings_ : ndarray (items x factors)
        Rotated loadings (pattern matrix), psych's signs (positive column sums) and order.
    corr_ : ndarray
        The correlation matrix analysed.
    phi_ : ndarray or None
        Factor correlations (oblique rotations only).
    structure_ : ndarray or None
        Structure matrix ``loadings_ @ phi_`` (oblique rotations only).
    rotation_matrix_ : ndarray or None
        ``T`` with ``loadings_ = unrotated @ T`` (for an oblique rotation
        ``phi_ = inv(T' T)``).
    mean_, std_ : ndarray or None
        Column means and standard deviations (divisor n) of the raw data, for ``transform``.
    weights_ : ndarray or None
        Factor score weights, set by ``transform``.
    result_ : EFAResult or None
        The full psychoval result (fit statistics, ``summary()``); None for principal
        components.

    Notes
    -----
    Differences from factor_analyzer 0.5.1, each towards psych::fa: under an oblique rotation
    ``get_communalities()`` is psych's :math:`h^2` (the diagonal of
    :math:`\\Lambda\\Phi\\Lambda'`; factor_analyzer sums the squared pattern loadings),
    ``get_factor_variance()`` uses psych's :math:`\\operatorname{diag}(\\Phi\\Lambda'\\Lambda)`
    and factors are ordered by it; promax is psych's (``kaiser(L, "Promax")``, m = 4).
    ``transform`` is factor_analyzer's: regression (Thurstone) scores
    :math:`Z R^{-1} S` from data standardized with the fit's means and standard deviations
    (divisor n; psych's ``factor.scores`` uses n - 1, so psych's scores are these times
    :math:`\\sqrt{(n-1)/n}`).

    Examples
    --------
    >>> import numpy as np
    >>> from psychoval.compat import FactorAnalyzer
    >>> r = np.array([[1, .56, .48, .40], [.56, 1, .42, .35],
    ...               [.48, .42, 1, .30], [.40, .35, .30, 1]])
    >>> fa = FactorAnalyzer(n_factors=1, rotation=None, is_corr_matrix=True).fit(r)
    >>> np.round(fa.loadings_[:, 0], 3).tolist()  # psych::fa(r, 1): .8 .7 .6 .5
    [0.8, 0.7, 0.6, 0.5]
    >>> np.round(fa.get_communalities(), 2).tolist()
    [0.64, 0.49, 0.36, 0.25]
    """

    def __init__(self, n_factors: int = 3, rotation: str | None = "promax",
                 method: str = "minres", use_smc: bool = True, is_corr_matrix: bool = False,
                 bounds: tuple[float, float] = (0.005, 1), impute: str = "median",
                 svd_method: str = "randomized",
                 rotation_kwargs: Mapping[str, Any] | None = None) -> None:
        self.n_factors = n_factors
        self.rotation = rotation
        self.method = method
        self.use_smc = use_smc
        self.is_corr_matrix = is_corr_matrix
        self.bounds = bounds
        self.impute = impute
        self.svd_method = svd_method
        self.rotation_kwargs = rotation_kwargs
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None
        self.phi_: np.ndarray | None = None
        self.structure_: np.ndarray | None = None
        self.corr_: np.ndarray | None = None
        self.loadings_: np.ndarray | None = None
        self.rotation_matrix_: np.ndarray | None = None
        self.weights_: np.ndarray | None = None
        self.result_: Any = None

    # -- scikit-learn estimator conventions -------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters (scikit-learn's ``get_params``)."""
        return {name: getattr(self, name) for name in _PARAMS}

    def set_params(self, **params: Any) -> FactorAnalyzer:
        """Set constructor parameters (scikit-learn's ``set_params``); returns ``self``."""
        for name, value in params.items():
            if name not in _PARAMS:
                raise SpecificationError(
                    f"invalid parameter {name!r} for estimator FactorAnalyzer; valid "
                    f"parameters are {', '.join(_PARAMS)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        changed = [f"{k}={v!r}" for k, v in self.get_params().items()
                   if not _same(v, _DEFAULTS[k])]
        return f"FactorAnalyzer({', '.join(changed)})"

    def _checked(self) -> tuple[int, str | None, str, str]:
        nf = self.n_factors
        if isinstance(nf, bool) or not isinstance(nf, (int, np.integer)) or nf < 1:
            raise SpecificationError(f"n_factors={nf!r} must be a positive integer")
        rotation = _lower("rotation", self.rotation)
        if rotation in _MISSING_ROTATIONS:
            raise SpecificationError(
                f"rotation={self.rotation!r} is a factor_analyzer rotation psychoval does not "
                "offer (psych::fa has no such rotation); use one of "
                + ", ".join(map(repr, ROTATIONS)) + " or None")
        if rotation is not None and rotation not in ROTATIONS:
            raise SpecificationError(
                f"rotation={self.rotation!r} is not one of "
                + ", ".join(map(repr, ROTATIONS)) + " or None")
        method = _lower("method", self.method)
        if method not in METHODS:
            raise SpecificationError(
                f"method={self.method!r} is not one of {', '.join(map(repr, METHODS))}")
        impute = _lower("impute", self.impute)
        if impute not in IMPUTATIONS:
            raise SpecificationError(
                f"impute={self.impute!r} is not one of {', '.join(map(repr, IMPUTATIONS))}")
        if _lower("svd_method", self.svd_method) not in SVD_METHODS:
            raise SpecificationError(
                f"svd_method={self.svd_method!r} is not one of "
                f"{', '.join(map(repr, SVD_METHODS))}")
        if self.bounds is None or not _same(tuple(self.bounds), (0.005, 1)):
            raise SpecificationError(
                f"bounds={self.bounds!r}: psychoval bounds the uniquenesses as psych::fa, "
                "at (0.005, 1) (factor_analyzer's default); other bounds are not available")
        for key, value in dict(self.rotation_kwargs or {}).items():
            if key not in _ROTATION_DEFAULTS or not _same(value, _ROTATION_DEFAULTS[key]):
                raise SpecificationError(
                    f"rotation_kwargs {key}={value!r}: psychoval rotates with psych's fixed "
                    "settings (" + ", ".join(f"{k}={v!r}" for k, v in _ROTATION_DEFAULTS.items())
                    + "); other values are not available")
        if method == "principal" and self.is_corr_matrix:
            raise SpecificationError(
                "method='principal' needs the raw data (as factor_analyzer); pass the data "
                "with is_corr_matrix=False")
        return int(nf), rotation, METHODS[method], impute

    # -- fitting ----------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> FactorAnalyzer:
        """Fit the factor model to raw data (or to a correlation matrix when
        ``is_corr_matrix``); returns ``self``."""
        from psychoval.stats import efa

        nf, rotation, method, impute = self._checked()
        x = _as_array(X)
        if self.is_corr_matrix:
            if x.shape[0] != x.shape[1]:
                raise DataError(
                    f"is_corr_matrix=True but X has shape {x.shape}; a correlation matrix is "
                    "square")
            corr = x
            self.mean_ = self.std_ = None
        else:
            x = _impute(x, impute)
            if x.shape[0] < 2:
                raise DataError(f"X has {x.shape[0]} complete row(s); at least 2 are needed")
            self.mean_ = x.mean(axis=0)
            self.std_ = x.std(axis=0)
            const = np.flatnonzero(self.std_ == 0)
            if const.size:
                raise DataError(
                    f"column {int(const[0])} of X is constant; its correlations are undefined: "
                    "drop it")
            corr = np.corrcoef(x, rowvar=False)
        if rotation is not None and nf == 1:
            warn("No rotation will be performed when the number of factors equals 1.",
                 PsychovalWarning, stacklevel=2)
            rotation = None
        phi = None
        if method == "principal":
            unrotated, loadings, phi = _principal(corr, nf, ROTATIONS.get(rotation or ""))
            self.result_ = None
        else:
            res = efa(corr, n_factors=nf, method=method,
                      rotation=None if rotation is None else ROTATIONS[rotation],
                      n_obs=None if self.is_corr_matrix else x.shape[0])
            self.result_ = res
            unrotated = res.unrotated.to_numpy()
            loadings = res.loadings.to_numpy()
            if rotation in OBLIQUE:
                phi = res.phi.to_numpy()
            corr = res.r.to_numpy()
        self.corr_ = corr
        self.loadings_ = loadings
        self.phi_ = phi
        self.structure_ = loadings @ phi if phi is not None else None
        self.rotation_matrix_ = (None if rotation is None
                                 else np.linalg.lstsq(unrotated, loadings, rcond=None)[0])
        self.n_features_in_ = corr.shape[0]
        if isinstance(X, pd.DataFrame) and not self.is_corr_matrix:
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        return self

    def _check_fitted(self) -> np.ndarray:
        if self.loadings_ is None:
            raise SpecificationError(
                "This FactorAnalyzer instance is not fitted yet; call fit(X) first")
        return self.loadings_

    def transform(self, X: Any) -> np.ndarray:
        """Factor scores of ``X`` (n x items): regression (Thurstone) scores as
        factor_analyzer, ``((X - mean_) / std_) @ solve(corr_, structure)``."""
        loadings = self._check_fitted()
        x = _as_array(X)
        bad = np.argwhere(~np.isfinite(x))
        if bad.size:
            r, c = bad[0]
            raise DataError(
                f"X has a missing or infinite value at row {int(r)}, column {int(c)}; "
                "transform needs complete rows (impute or drop them first)")
        if x.shape[1] != loadings.shape[0]:
            raise DataError(f"X has {x.shape[1]} columns; the model was fitted to "
                            f"{loadings.shape[0]}")
        if self.mean_ is None or self.std_ is None:
            warn("Could not find original mean and standard deviation; using the mean and "
                 "standard deviation from the current data set.", PsychovalWarning,
                 stacklevel=2)
            mean, std = x.mean(axis=0), x.std(axis=0)
        else:
            mean, std = self.mean_, self.std_
        structure = self.structure_ if self.structure_ is not None else loadings
        self.weights_ = np.linalg.solve(self.corr_, structure)
        return ((x - mean) / std) @ self.weights_

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """``fit(X).transform(X)``."""
        return self.fit(X, y).transform(X)

    # -- results ----------------------------------------------------------------------------
    def get_communalities(self) -> np.ndarray:
        """Communalities :math:`h^2` (psych's: the diagonal of :math:`\\Lambda\\Phi\\Lambda'`,
        the row sums of squared loadings for an orthogonal solution)."""
        loadings = self._check_fitted()
        if self.phi_ is None:
            return (loadings ** 2).sum(axis=1)
        return np.einsum("ij,jk,ik->i", loadings, self.phi_, loadings)

    def get_uniquenesses(self) -> np.ndarray:
        """Uniquenesses ``1 - get_communalities()``."""
        return 1.0 - self.get_communalities()

    def get_eigenvalues(self) -> tuple[np.ndarray, np.ndarray]:
        """``(original, common_factor)``: eigenvalues of ``corr_`` and of ``corr_`` with the
        communalities on the diagonal, largest first (psych's ``e.values`` and ``values``)."""
        self._check_fitted()
        e_values = np.linalg.eigvalsh(self.corr_)[::-1]
        reduced = np.array(self.corr_, dtype=float, copy=True)
        np.fill_diagonal(reduced, self.get_communalities())
        return e_values, np.linalg.eigvalsh(reduced)[::-1]

    def get_factor_variance(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(variance, proportional, cumulative)`` per factor: psych's SS loadings
        (:math:`\\operatorname{diag}(\\Phi\\Lambda'\\Lambda)`), their share of the items'
        total variance, and the cumulative share."""
        loadings = self._check_fitted()
        ss = loadings.T @ loadings
        variance = np.diag(ss) if self.phi_ is None else np.diag(self.phi_ @ ss)
        prop = variance / loadings.shape[0]
        return variance, prop, np.cumsum(prop)


    def sufficiency(self, num_observations: int) -> tuple[float, int, float]:
        """``(statistic, degrees, pvalue)``: Lawley and Maxwell's test that ``n_factors``
        factors suffice, as factor_analyzer (psych::fa's STATISTIC, dof and PVAL): the ML
        discrepancy of the fitted model times :math:`n - 1 - (2p + 5)/6 - 2m/3`, on
        :math:`((p - m)^2 - p - m)/2` degrees of freedom."""
        from scipy.stats import chi2

        loadings = self._check_fitted()
        if self.result_ is None:
            raise SpecificationError(
                "sufficiency() needs a factor model (method='minres' or 'ml'), not principal "
                "components")
        p, m = loadings.shape
        statistic = float(self.result_.objective) * (
            num_observations - 1 - (2 * p + 5) / 6 - 2 * m / 3)
        degrees = ((p - m) ** 2 - p - m) // 2
        return statistic, int(degrees), float(chi2.sf(statistic, degrees))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(float(a), float(b))
    return bool(a == b) if type(a) is type(b) or a is None or b is None else False


def _as_array(X: Any) -> np.ndarray:
    frame = X if isinstance(X, pd.DataFrame) else None
    try:
        x = (frame.to_numpy(dtype=float) if frame is not None
             else np.array(X, dtype=float, copy=True))
    except (TypeError, ValueError) as exc:
        raise DataError(f"X must be numeric (a DataFrame or 2-d array of numbers): {exc}"
                        ) from exc
    if x.ndim != 2:
        raise DataError(f"X must be 2-d (respondents x items); got shape {x.shape}")
    if np.isinf(x).any():
        r, c = np.argwhere(np.isinf(x))[0]
        raise DataError(f"X has an infinite value at row {int(r)}, column {int(c)}")
    return x


def _impute(x: np.ndarray, how: str) -> np.ndarray:
    nan = np.isnan(x)
    if not nan.any():
        return x
    if how == "drop":
        return x[~nan.any(axis=1)]
    empty = np.flatnonzero(nan.all(axis=0))
    if empty.size:
        raise DataError(f"column {int(empty[0])} of X has no values to impute from")
    fill = np.nanmedian(x, axis=0) if how == "median" else np.nanmean(x, axis=0)
    warn(f"impute={how!r} filled {int(nan.sum())} missing cell(s) in "
         f"{int(nan.any(axis=1).sum())} row(s) with the column {how} (factor_analyzer's "
         "rule); pv.efa(data) uses pairwise-complete correlations instead",
         PsychovalWarning, stacklevel=3)
    return np.where(nan, fill, x)


def _principal(corr: np.ndarray, nf: int, rotation: str | None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """psych::principal: the leading eigenvectors scaled by the square roots of their
    eigenvalues (signs to positive column sums), rotated as psych rotates fa solutions."""
    from psychoval.stats.core._rotation import rotate_loadings
    from psychoval.stats.factor._efa import orient_factors

    if nf > corr.shape[0]:
        raise SpecificationError(f"n_factors={nf} is more than the {corr.shape[0]} items")
    vals, vecs = np.linalg.eigh(corr)
    order = np.argsort(-vals, kind="stable")[:nf]
    L0 = vecs[:, order] * np.sqrt(np.maximum(vals[order], 0.0))
    sign = np.sign(L0.sum(axis=0))
    sign[sign == 0] = 1.0
    L0 = L0 * sign
    if rotation is None or nf < 2:
        return L0, L0.copy(), None
    rot = rotate_loadings(L0, rotation)
    L, phi, _order = orient_factors(rot.loadings, rot.phi)
    return L0, L, phi


def _corr_and_n(x: Any) -> tuple[np.ndarray, int]:
    frame = x if isinstance(x, pd.DataFrame) else pd.DataFrame(_as_array(x))
    values = frame.apply(pd.to_numeric, errors="raise") if not frame.empty else frame
    return values.corr().to_numpy(), values.shape[0]


def calculate_kmo(x: Any) -> tuple[np.ndarray, float]:
    """Kaiser-Meyer-Olkin measure of sampling adequacy as factor_analyzer:
    ``(kmo_per_variable, kmo_total)``, from :func:`psychoval.kmo` (psych::KMO)."""
    from psychoval.stats import kmo

    corr, _n = _corr_and_n(x)
    res = kmo(corr)
    return res.msa_items.to_numpy(dtype=float), float(res.msa)


def calculate_bartlett_sphericity(x: Any) -> tuple[float, float]:
    """Bartlett's test of sphericity as factor_analyzer: ``(statistic, p_value)``, from
    :func:`psychoval.bartlett` (psych::cortest.bartlett) with n the number of rows."""
    from psychoval.stats import bartlett

    corr, n = _corr_and_n(x)
    res = bartlett(corr, n_obs=n)
    return float(res.chisq), float(res.pvalue)
