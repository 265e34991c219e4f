"""Robust (MLR) standard errors, scaled test statistics and scaled / robust fit indices.

Engine-agnostic: everything is a function of matrices in the moment space ``(mu, vech Sigma)``
(from :mod:`psychoval.stats.sem._fiml`, which covers complete data as the one-pattern case) and of
what a CFA engine supplies - the Jacobian ``Delta = d(mu, vech Sigma)/d theta``, the
information matrix of theta and the test statistic with its degrees of freedom. Formulas and
defaults are those of lavaan 0.6.14 (files ``lav_model_vcov.R``, ``lav_test_yuan_bentler.R``,
``lav_fit_cfi.R``, ``lav_fit_rmsea.R``, ``lav_fit_measures.R``, ``lav_test_diff.R``):

* MLR standard errors: ``se = "robust.huber.white"`` -
  ``vcov = E^-1 B0 E^-1 / N`` with E the (observed, by default) information of theta per
  observation and ``B0 = Delta' B1 Delta`` the first-order information, B1 the mean outer
  product of casewise scores at the model-implied moments (``h1.information = "structured"``).
* ``test = "yuan.bentler.mplus"``: ``c = (tr(A1^-1 B1) - tr(B0 E^-1)) / df`` with A1 and B1
  the *unstructured* H1 information (observed; at the EM / sample moments) and first-order
  information; ``scaling.factor.h1 = tr(A1^-1 B1)/ndat``, ``scaling.factor.h0 = tr(B0 E^-1)/npar``.
* Robust CFI / TLI / RMSEA as Brosseau-Liard & Savalei (2014) / Brosseau-Liard, Savalei & Li
  (2012) with complete data, and the FIML-corrected versions of Zhang & Savalei (2023)
  (lavaan's ``lav_fit_fiml_corrected``, version V3 with a scaled test, V6 without) under
  ``missing = "ml"``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from psychoval.stats.sem import _fiml

__all__ = [
    "ScaledTest",
    "FimlCorrected",
    "sandwich_vcov",
    "gamma",
    "yuan_bentler_mplus",
    "fiml_corrected",
    "chisq_ml",
    "h1_information_complete",
    "cfi",
    "tli",
    "rni",
    "nfi",
    "rfi",
    "pnfi",
    "ifi",
    "rmsea",
    "rmsea_ci",
    "rmsea_pvalue_close",
    "rmsea_pvalue_notclose",
    "scaled_fit_measures",
]


def _chi2():
    from scipy import stats

    return stats.chi2, stats.ncx2


# ---------------------------------------------------------------------------------------------
# standard errors


def sandwich_vcov(information: np.ndarray, first_order: np.ndarray, n: int) -> np.ndarray:
    """Huber-White sandwich covariance of the estimates: ``E^-1 B0 E^-1 / N``.

    Parameters
    ----------
    information : (q, q) information of theta per observation (E; lavaan's "observed" default
        for MLR is the Hessian of the objective, "expected" is ``Delta' A1_expected Delta``).
    first_order : (q, q) ``B0 = Delta' B1 Delta``, B1 from :func:`_fiml.information_firstorder`
        at the model-implied moments.
    n : number of observations used.
    """
    e_inv = np.linalg.inv(information)
    e_inv = 0.5 * (e_inv + e_inv.T)
    v = e_inv @ first_order @ e_inv / n
    return 0.5 * (v + v.T)


def gamma(a1: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """Asymptotic covariance (per observation) of the sample moments, ``A1^-1 B1 A1^-1``.

    With complete data and A1, B1 taken at the sample moments this is the usual fourth-moment
    matrix Gamma (divisor N, lavaan's ``lavTech(fit, "gamma")``); with missing data it is the
    sandwich estimate lavaan uses for FIML (``lav_mvnorm_missing_h1_omega_sw``).
    """
    a_inv = np.linalg.inv(a1)
    g = a_inv @ b1 @ a_inv
    return 0.5 * (g + g.T)


# ---------------------------------------------------------------------------------------------
# scaled test statistic


@dataclasses.dataclass(frozen=True)
class ScaledTest:
    """A scaled test statistic (lavaan's ``fit@test[[2]]``)."""

    stat: float
    df: float
    pvalue: float
    scaling_factor: float
    scaling_factor_h1: float
    scaling_factor_h0: float
    trace_ugamma: float


def _inv_skip_zero(a: np.ndarray) -> tuple[np.ndarray, int]:
    """Inverse of A1 over the rows/columns with a non-zero diagonal; their number."""
    keep = np.flatnonzero(np.diag(a) != 0)
    out = np.zeros_like(a)
    out[np.ix_(keep, keep)] = np.linalg.inv(a[np.ix_(keep, keep)])
    return out, len(keep)


def yuan_bentler_mplus(
    chisq: float,
    df: int,
    *,
    a1: np.ndarray | Sequence[np.ndarray],
    b1: np.ndarray | Sequence[np.ndarray],
    b0: np.ndarray | Sequence[np.ndarray],
    e_inv: np.ndarray,
    group_fractions: Sequence[float] | None = None,
    npar: int | None = None,
) -> ScaledTest:
    """Yuan-Bentler (Mplus variant) scaled chi-square, as ``test = "yuan.bentler.mplus"``.

    Parameters
    ----------
    chisq, df : the standard (ML) test statistic and its degrees of freedom.
    a1, b1 : per group, the unstructured H1 information (observed, at the saturated moments:
        :func:`_fiml.information_observed` at the EM or sample moments) and the first-order H1
        information (:func:`_fiml.information_firstorder` at the same moments).
    b0 : per group, ``Delta_g' B1_g Delta_g`` with B1 at the model-implied moments (the meat
        of the sandwich, lavaan's ``B0.group``).
    e_inv : inverse of the information of theta per observation (the bread; all groups).
    group_fractions : N_g / N per group (default: one group).
    npar : divisor of ``scaling.factor.h0``: lavaan uses the number of free parameters
        *before* equality constraints (``nx.free``; e.g. 60 for the two-group metric model
        whose 6 equal loadings leave 54); default the size of ``e_inv``.

    Notes
    -----
    ``trace.h1 = sum_g tr(A1_g^-1 B1_g)``, ``trace.h0 = sum_g f_g tr(B0_g E^-1)``,
    ``c = (trace.h1 - trace.h0) / df``, ``T_scaled = T / c``; ``scaling.factor.h1 =
    trace.h1 / ndat``, ``scaling.factor.h0 = trace.h0 / npar``. With ``df = 0`` the statistic is
    returned unscaled with NaN factors and a NaN ``trace_ugamma`` (lavaan stores no
    ``trace.UGamma`` then, so its ``rmsea.scaled`` is NA); a negative c is reported as NaN
    (lavaan does the same).
    """
    if isinstance(a1, np.ndarray) and a1.ndim == 2:
        a1, b1, b0 = [a1], [b1], [b0]
    fg = [1.0] if group_fractions is None else list(group_fractions)
    if not (len(a1) == len(b1) == len(b0) == len(fg)):
        raise ValueError("a1, b1, b0 and group_fractions must have one entry per group")
    chi2, _ = _chi2()
    npar = e_inv.shape[0] if npar is None else int(npar)
    trace_h1 = 0.0
    trace_h0 = 0.0
    ndat = 0
    for a1_g, b1_g, b0_g, f in zip(a1, b1, b0, fg, strict=True):
        a_inv, nd = _inv_skip_zero(np.asarray(a1_g))
        trace_h1 += float(np.sum(np.asarray(b1_g) * a_inv.T))
        trace_h0 += f * float(np.sum(np.asarray(b0_g) * e_inv.T))
        ndat += nd
    trace_ug = trace_h1 - trace_h0
    if df <= 0:
        return ScaledTest(chisq, df, math.nan, math.nan, math.nan, math.nan, math.nan)
    c = trace_ug / df
    if c < 0:
        c = math.nan
    stat = chisq / c
    return ScaledTest(stat=stat, df=df, pvalue=float(chi2.sf(stat, df)), scaling_factor=c,
                      scaling_factor_h1=trace_h1 / ndat, scaling_factor_h0=trace_h0 / npar,
                      trace_ugamma=trace_ug)


# ---------------------------------------------------------------------------------------------
# FIML-corrected robust indices (lavaan's lav_fit_fiml_corrected)


def chisq_ml(n: int, mean: np.ndarray, cov: np.ndarray, mu: np.ndarray,
             sigma: np.ndarray) -> float:
    """Complete-data ML chi-square ``N F_ML`` of implied (mu, Sigma) against sample moments
    (``cov`` with divisor N): ``N [log|Sigma| - log|S| + tr(S Sigma^-1) - p + d' Sigma^-1 d]``."""
    p = len(mean)
    sinv = np.linalg.inv(sigma)
    d = mean - mu
    _, ld_sigma = np.linalg.slogdet(sigma)
    _, ld_s = np.linalg.slogdet(cov)
    f = ld_sigma - ld_s + np.sum(cov * sinv) - p + d @ sinv @ d
    return float(n * f)


def h1_information_complete(sigma: np.ndarray) -> np.ndarray:
    """Complete-data (expected = observed at the saturated solution) H1 information per
    observation: ``blockdiag(Sigma^-1, 1/2 D'(Sigma^-1 (x) Sigma^-1) D)``."""
    p = sigma.shape[0]
    x = np.zeros((1, p))
    pat = _fiml.missing_patterns(x)
    return _fiml.information_expected(pat, np.zeros(p), sigma)


@dataclasses.dataclass(frozen=True)
class FimlCorrected:
    """lavaan's FIML-corrected quantities for robust CFI/TLI/RMSEA under missing = "ml"."""

    xx3: float
    df3: float
    c_hat3: float
    xx3_scaled: float
    xx3_null: float
    df3_null: float
    c_hat3_null: float


def fiml_corrected(
    data: _fiml.MissingPatterns | np.ndarray,
    *,
    mu: np.ndarray,
    sigma: np.ndarray,
    delta: np.ndarray,
    df: int,
    h1: _fiml.H1Moments | None = None,
    baseline: _fiml.IndependenceModel | None = None,
    version: str = "V3",
    wm: np.ndarray | None = None,
    jm: np.ndarray | None = None,
) -> FimlCorrected:
    """FIML-corrected chi-squares and scaling factors (Zhang & Savalei, 2023), as lavaan 0.6.14
    ``lav_fit_fiml_corrected`` (version ``"V3"`` for a scaled test, ``"V6"`` without).

    Parameters
    ----------
    data : the item matrix (NaN = missing) or its :class:`_fiml.MissingPatterns`.
    mu, sigma : model-implied moments at the FIML estimates.
    delta : model Jacobian ``d(mu, vech Sigma)/d theta`` at the estimates.
    df : the model's degrees of freedom.
    h1, baseline : EM saturated moments and FIML independence model (computed if omitted).
    wm, jm : the unstructured observed and first-order H1 information (at the EM moments) if
        already computed for the scaled test (computed if omitted).

    Notes
    -----
    With (m~, S~) the EM moments, ``XX3`` is the complete-data ML chi-square of the model's
    implied moments against (m~, S~); ``Wm`` and ``Jm`` are the unstructured observed and
    first-order H1 information, ``Wc`` the complete-data information at (m~, S~), and
    ``U = Wm - Wm Delta (Delta' Wm Delta)^-1 Delta' Wm``. Then
    ``k = tr(U Wm^-1 Wc Wm^-1 U Gamma)`` with ``Gamma = Wm^-1 Jm Wm^-1`` (V3) or
    ``k = tr(Wc Wm^-1 U Wm^-1)`` (V6), and ``c_hat3 = k / df``. The same with the independence
    model's Delta gives the baseline values.
    """
    version = version.upper()
    if version not in ("V3", "V6"):
        raise ValueError(f"version={version!r} is not one of 'V3', 'V6'")
    pat = data if isinstance(data, _fiml.MissingPatterns) else _fiml.missing_patterns(data)
    if h1 is None:
        h1 = _fiml.em_saturated(pat)
    if baseline is None:
        baseline = _fiml.independence_model(pat)
    n = pat.n
    if wm is None:
        wm = _fiml.information_observed(pat, h1.mu, h1.sigma)
    wc = h1_information_complete(h1.sigma)
    wmi = np.linalg.inv(wm)
    wmi = 0.5 * (wmi + wmi.T)
    mid = wmi @ wc @ wmi
    gam = None
    if version == "V3":
        if jm is None:
            jm = _fiml.information_firstorder(pat, h1.mu, h1.sigma)
        gam = wmi @ jm @ wmi

    def k_of(dlt: np.ndarray) -> float:
        wd = wm @ dlt
        u = wm - wd @ np.linalg.solve(dlt.T @ wd, wd.T)
        if version == "V3":  # tr(U M U Gamma) with M = Wm^-1 Wc Wm^-1
            return float(np.sum((u @ mid @ u) * gam.T))
        return float(np.sum(mid * u.T))  # tr(Wc Wm^-1 U Wm^-1) = tr(M U)

    xx3 = chisq_ml(n, h1.mu, h1.sigma, np.asarray(mu), np.asarray(sigma))
    c3 = k_of(np.asarray(delta)) / df if df > 0 else math.nan
    xx3_null = chisq_ml(n, h1.mu, h1.sigma, baseline.mu, baseline.sigma)
    c3_null = k_of(baseline.delta()) / baseline.df
    return FimlCorrected(xx3=xx3, df3=df, c_hat3=c3, xx3_scaled=xx3 / c3, xx3_null=xx3_null,
                         df3_null=baseline.df, c_hat3_null=c3_null)


# ---------------------------------------------------------------------------------------------
# incremental and RMSEA indices (lav_fit_cfi.R, lav_fit_rmsea.R)


def _all_close(a: float, b: float) -> bool:
    """R's isTRUE(all.equal(a, b)) for scalars (mean relative difference < 1.5e-8)."""
    tol = 1.5e-8
    if abs(a) > tol:
        return abs(a - b) / abs(a) < tol
    return abs(a - b) < tol


def _robust(df, c_hat, c_hat_null) -> bool:
    return c_hat is not None and c_hat_null is not None and df > 0 and c_hat != 1 \
        and c_hat_null != 1


def _nan(*xs) -> bool:
    return any(x is None or (isinstance(x, float) and math.isnan(x)) for x in xs)


def _bad(x2, df, x2_null, df_null, c_hat, c_hat_null) -> bool:
    """NA in any input (a given c_hat that is NaN counts, an omitted one does not)."""
    return _nan(x2, df, x2_null, df_null) or (c_hat is not None and _nan(c_hat)) or (
        c_hat_null is not None and _nan(c_hat_null))


def cfi(x2, df, x2_null, df_null, c_hat=None, c_hat_null=None) -> float:
    """Comparative fit index; with ``c_hat``/``c_hat_null`` the robust version
    (Brosseau-Liard & Savalei, 2014): chi-squares minus c_hat * df."""
    if _bad(x2, df, x2_null, df_null, c_hat, c_hat_null):
        return math.nan
    if _robust(df, c_hat, c_hat_null):
        t1 = max(x2 - c_hat * df, 0.0)
        t2 = max(x2 - c_hat * df, x2_null - c_hat_null * df_null, 0.0)
    else:
        t1 = max(x2 - df, 0.0)
        t2 = max(x2 - df, x2_null - df_null, 0.0)
    if _all_close(t1, 0.0) and _all_close(t2, 0.0):
        return 1.0
    return 1.0 - t1 / t2


def tli(x2, df, x2_null, df_null, c_hat=None, c_hat_null=None) -> float:
    """Tucker-Lewis index (= NNFI); robust version with ``c_hat``/``c_hat_null``."""
    if _bad(x2, df, x2_null, df_null, c_hat, c_hat_null):
        return math.nan
    if _robust(df, c_hat, c_hat_null):
        t1 = (x2 - c_hat * df) * df_null
        t2 = (x2_null - c_hat_null * df_null) * df
    else:
        t1 = (x2 - df) * df_null
        t2 = (x2_null - df_null) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    if not (math.isfinite(t1) and math.isfinite(t2)):
        return math.nan
    return 1.0


def rni(x2, df, x2_null, df_null, c_hat=None, c_hat_null=None) -> float:
    """Relative noncentrality index; robust version with ``c_hat``/``c_hat_null``."""
    if _bad(x2, df, x2_null, df_null, c_hat, c_hat_null):
        return math.nan
    if _robust(df, c_hat, c_hat_null):
        t1 = x2 - c_hat * df
        t2 = x2_null - c_hat_null * df_null
    else:
        t1 = x2 - df
        t2 = x2_null - df_null
    if _all_close(t2, 0.0) or not (math.isfinite(t1) and math.isfinite(t2)):
        return math.nan
    return 1.0 - t1 / t2


def nfi(x2, df, x2_null, df_null) -> float:
    """Normed fit index."""
    if _nan(x2, df, x2_null, df_null):
        return math.nan
    if df > df_null or _all_close(x2_null, 0.0):
        return math.nan
    if df > 0:
        return (x2_null - x2) / x2_null
    return 1.0


def rfi(x2, df, x2_null, df_null) -> float:
    """Relative fit index."""
    if _nan(x2, df, x2_null, df_null):
        return math.nan
    if df > df_null:
        return math.nan
    if df > 0 and df_null > 0:
        t1 = x2_null / df_null - x2 / df
        t2 = x2_null / df_null
        if not (math.isfinite(t1) and math.isfinite(t2)):
            return math.nan
        if t1 < 0 or t2 < 0:
            return 1.0
        return t1 / t2
    return 1.0


def pnfi(x2, df, x2_null, df_null) -> float:
    """Parsimony normed fit index."""
    if _nan(x2, df, x2_null, df_null):
        return math.nan
    if df_null > 0 and x2_null > 0:
        return (df / df_null) * (x2_null - x2) / x2_null
    return math.nan


def ifi(x2, df, x2_null, df_null) -> float:
    """Incremental fit index (Bollen)."""
    if _nan(x2, df, x2_null, df_null):
        return math.nan
    t1 = x2_null - x2
    t2 = x2_null - df
    if not (math.isfinite(t1) and math.isfinite(t2)):
        return math.nan
    if t2 < 0:
        return 1.0
    if _all_close(t2, 0.0):
        return math.nan
    return t1 / t2


def rmsea(x2, df, n, *, c_hat=1.0, groups=1) -> float:
    """RMSEA ``sqrt(G) sqrt(max(X2/(N df) - c_hat/N, 0))``; 0 when df = 0 whatever X2 and
    c_hat are (lavaan's ``ifelse(df > 0, ..., 0)``: the robust RMSEA of a saturated MLR fit is
    0 although its scaling factor is NA)."""
    if _nan(df):
        return math.nan
    if df > 0:
        if _nan(x2, c_hat):
            return math.nan
        return math.sqrt(max((x2 / n) / df - c_hat / n, 0.0)) * math.sqrt(groups)
    return 0.0


def rmsea_ci(x2, df, n, *, c_hat=1.0, groups=1, level=0.90) -> tuple[float, float]:
    """Confidence interval of the RMSEA from the noncentral chi-square (lav_fit_rmsea_ci)."""
    from scipy import special
    from scipy.optimize import brentq

    if _nan(x2, df, n) or not (math.isfinite(x2) and math.isfinite(df)):
        return math.nan, math.nan
    upper_p = 1 - (1 - level) / 2
    lower_p = (1 - level) / 2

    def cdf(lam: float) -> float:
        # the ufuncs behind scipy.stats' chi2.cdf / ncx2.cdf (same values, no per-call
        # distribution machinery: the root search calls this ~30 times); those give 0
        # below 0, the ufuncs NaN
        if x2 <= 0:
            return 0.0
        if lam <= 0:
            return float(special.chdtr(df, x2))
        return float(special.chndtr(x2, df, lam))

    if df < 1 or cdf(0.0) - upper_p < 0:
        lo = 0.0
    else:
        lam = brentq(lambda v: cdf(v) - upper_p, 0.0, x2, xtol=1e-12, rtol=1e-14)
        lo = math.sqrt(c_hat * lam / (n * df)) * (math.sqrt(groups) if groups > 1 else 1.0)
    n_rmsea = max(n, x2 * 4)
    if df < 1 or cdf(n_rmsea) - lower_p > 0 or cdf(0.0) - lower_p < 0:
        hi = 0.0
    else:
        lam = brentq(lambda v: cdf(v) - lower_p, 0.0, n_rmsea, xtol=1e-12, rtol=1e-14)
        hi = math.sqrt(c_hat * lam / (n * df)) * (math.sqrt(groups) if groups > 1 else 1.0)
    return lo, hi


def rmsea_pvalue_close(x2, df, n, *, c_hat=1.0, groups=1, h0=0.05) -> float:
    """P(RMSEA <= h0) test of close fit: ``1 - F(X2; df, ncp = N df h0^2 / (c_hat G))``."""
    if _nan(x2, df) or df <= 0:
        return math.nan
    from scipy.stats import chi2, ncx2

    ncp = (n * df / c_hat * h0**2) / groups
    return float(chi2.sf(x2, df) if ncp == 0 else ncx2.sf(x2, df, ncp))


def rmsea_pvalue_notclose(x2, df, n, *, c_hat=1.0, groups=1, h0=0.08) -> float:
    """Test of not-close fit (``F(X2; df, ncp)``, lav_fit_rmsea_notclosefit)."""
    if _nan(x2, df) or df <= 0:
        return math.nan
    from scipy.stats import chi2, ncx2

    ncp = (n * df / c_hat * h0**2) / groups
    return float(chi2.cdf(x2, df) if ncp == 0 else ncx2.cdf(x2, df, ncp))


def scaled_fit_measures(
    *,
    chisq: float,
    df: int,
    baseline_chisq: float,
    baseline_df: int,
    n: int,
    scaled: ScaledTest | None = None,
    baseline_scaled: ScaledTest | None = None,
    fiml: FimlCorrected | None = None,
    groups: int = 1,
    ci_level: float = 0.90,
    close_h0: float = 0.05,
    notclose_h0: float = 0.08,
) -> dict[str, float]:
    """The baseline, incremental and RMSEA fit measures lavaan's ``fitMeasures`` reports,
    with the ``_scaled`` and ``_robust`` variants (names with ``.`` turned into ``_``).

    ``scaled``/``baseline_scaled`` are the Yuan-Bentler tests of the model and of the
    independence model (MLR); ``fiml`` the FIML-corrected quantities (``missing = "ml"``: the
    robust indices then use them, also without a scaled test, as lavaan does).
    """
    chi2, _ = _chi2()
    out: dict[str, float] = {}
    out["baseline_chisq"] = baseline_chisq
    out["baseline_df"] = baseline_df
    out["baseline_pvalue"] = float(chi2.sf(baseline_chisq, baseline_df))
    sc = scaled is not None
    robust = sc or fiml is not None
    if sc:
        if baseline_scaled is None:
            raise ValueError("baseline_scaled is needed with a scaled test")
        out["baseline_chisq_scaled"] = baseline_scaled.stat
        out["baseline_df_scaled"] = baseline_scaled.df
        out["baseline_pvalue_scaled"] = baseline_scaled.pvalue
        out["baseline_chisq_scaling_factor"] = baseline_scaled.scaling_factor
    if robust:
        if fiml is not None:
            xx3, df3, c3, xx3s = fiml.xx3, fiml.df3, fiml.c_hat3, fiml.xx3_scaled
            xx3n, c3n = fiml.xx3_null, fiml.c_hat3_null
            df3n = fiml.df3_null
            if df3 == 0:
                # saturated model: lavaan's c.hat3 = k / df3 divides a rounding-level k by 0,
                # so it is +-Inf and XX3.scaled = XX3 / c.hat3 = 0; the robust indices then
                # take their df = 0 values (CFI, TLI, RNI 1; RMSEA 0 with interval (0, 0))
                c3, xx3s = math.inf, 0.0
        else:
            xx3, df3, c3, xx3s = chisq, df, scaled.scaling_factor, scaled.stat
            xx3n, c3n, df3n = baseline_chisq, baseline_scaled.scaling_factor, baseline_df
    x2s = scaled.stat if sc else None
    x2ns = baseline_scaled.stat if sc else None

    out["cfi"] = cfi(chisq, df, baseline_chisq, baseline_df)
    out["tli"] = tli(chisq, df, baseline_chisq, baseline_df)
    if sc:
        out["cfi_scaled"] = cfi(x2s, df, x2ns, baseline_df)
        out["tli_scaled"] = tli(x2s, df, x2ns, baseline_df)
    if robust:
        # lavaan passes the standard df and baseline df here, with the (FIML-corrected) X2
        out["cfi_robust"] = cfi(xx3, df, xx3n, baseline_df, c3, c3n)
        out["tli_robust"] = tli(xx3, df, xx3n, baseline_df, c3, c3n)
    out["nnfi"] = out["tli"]
    out["rfi"] = rfi(chisq, df, baseline_chisq, baseline_df)
    out["nfi"] = nfi(chisq, df, baseline_chisq, baseline_df)
    out["pnfi"] = pnfi(chisq, df, baseline_chisq, baseline_df)
    out["ifi"] = ifi(chisq, df, baseline_chisq, baseline_df)
    out["rni"] = rni(chisq, df, baseline_chisq, baseline_df)
    if sc:
        out["nnfi_scaled"] = out["tli_scaled"]
        out["rfi_scaled"] = rfi(x2s, df, x2ns, baseline_df)
        out["nfi_scaled"] = nfi(x2s, df, x2ns, baseline_df)
        out["pnfi_scaled"] = pnfi(x2s, df, x2ns, baseline_df)
        out["ifi_scaled"] = ifi(x2s, df, x2ns, baseline_df)
        out["rni_scaled"] = rni(x2s, df, x2ns, baseline_df)
    if robust:
        out["nnfi_robust"] = out["tli_robust"]
        out["rni_robust"] = rni(xx3, df, xx3n, baseline_df, c3, c3n)
    if robust:
        del df3n  # (kept for symmetry with lavaan's argument list)

    # RMSEA family
    g = groups
    out["rmsea"] = rmsea(chisq, df, n, groups=g)
    lo, hi = rmsea_ci(chisq, df, n, groups=g, level=ci_level)
    out["rmsea_ci_lower"], out["rmsea_ci_upper"] = lo, hi
    out["rmsea_ci_level"] = ci_level
    out["rmsea_pvalue"] = rmsea_pvalue_close(chisq, df, n, groups=g, h0=close_h0)
    out["rmsea_close_h0"] = close_h0
    out["rmsea_notclose_pvalue"] = rmsea_pvalue_notclose(chisq, df, n, groups=g, h0=notclose_h0)
    out["rmsea_notclose_h0"] = notclose_h0
    if sc:
        df2 = scaled.trace_ugamma
        if not math.isfinite(df2) or df2 == 0:
            df2 = math.nan
        out["rmsea_scaled"] = rmsea(chisq, df2, n, groups=g)
        lo, hi = rmsea_ci(chisq, df2, n, groups=g, level=ci_level)
        out["rmsea_ci_lower_scaled"], out["rmsea_ci_upper_scaled"] = lo, hi
        out["rmsea_pvalue_scaled"] = rmsea_pvalue_close(chisq, df2, n, groups=g, h0=close_h0)
        out["rmsea_notclose_pvalue_scaled"] = rmsea_pvalue_notclose(chisq, df2, n, groups=g,
                                                                    h0=notclose_h0)
    if robust:
        out["rmsea_robust"] = rmsea(xx3, df3, n, c_hat=c3, groups=g)
        lo, hi = rmsea_ci(xx3s, df3, n, c_hat=c3, groups=g, level=ci_level)
        out["rmsea_ci_lower_robust"], out["rmsea_ci_upper_robust"] = lo, hi
        out["rmsea_pvalue_robust"] = rmsea_pvalue_close(xx3s, df3, n, c_hat=c3, groups=g,
                                                        h0=close_h0)
        out["rmsea_notclose_pvalue_robust"] = rmsea_pvalue_notclose(xx3s, df3, n, c_hat=c3,
                                                                    groups=g, h0=notclose_h0)
    return out
