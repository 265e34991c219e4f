"""Fit measures of an ML CFA, every one lavaan 0.6.14's ``fitMeasures()`` returns (stats layer).

Formulas follow lavaan's ``lav_fit_*`` functions (names with ``.`` -> ``_``):

- ``chisq = 2 N fmin``, ``baseline_chisq`` from the independence model (diagonal Sigma);
- CFI = 1 - max(X2 - df, 0) / max(X2 - df, X2_b - df_b, 0) (Bentler 1990); TLI/NNFI
  = 1 - (X2 - df) df_b / ((X2_b - df_b) df); RFI, NFI, PNFI, IFI, RNI as lavaan;
- RMSEA = sqrt(max(X2/N/df - 1/N, 0)) (Steiger 1990) with the 90% interval from the
  noncentral chi-square, p(close) at .05 and p(not close) at .08;
- RMR / SRMR (Bentler) / CRMR / SRMR (Mplus) from the residual covariances;
- Hoelter's critical N, GFI/AGFI/PGFI (normal-theory weights from the implied covariance),
  McDonald's MFI, ECVI, AIC, BIC, sample-size adjusted BIC.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from psychoval.stats.sem import _robust
from psychoval.stats.sem._fiml import vech

__all__ = ["FIT_MEASURE_NAMES", "compute_fit_measures"]

FIT_MEASURE_NAMES = (
    "npar", "fmin", "chisq", "df", "pvalue", "baseline_chisq", "baseline_df",
    "baseline_pvalue", "cfi", "tli", "nnfi", "rfi", "nfi", "pnfi", "ifi", "rni", "logl",
    "unrestricted_logl", "aic", "bic", "ntotal", "bic2", "rmsea", "rmsea_ci_lower",
    "rmsea_ci_upper", "rmsea_ci_level", "rmsea_pvalue", "rmsea_close_h0",
    "rmsea_notclose_pvalue", "rmsea_notclose_h0", "rmr", "rmr_nomean", "srmr", "srmr_bentler",
    "srmr_bentler_nomean", "crmr", "crmr_nomean", "srmr_mplus", "srmr_mplus_nomean", "cn_05",
    "cn_01", "gfi", "agfi", "pgfi", "mfi", "ecvi",
)


def information_criteria(logl: float, logl_sat: float, npar: int, n: int) -> dict[str, Any]:
    """lavaan's log-likelihoods, AIC, BIC and sample-size adjusted BIC (bic2)."""
    return {"logl": logl, "unrestricted_logl": logl_sat, "aic": -2 * logl + 2 * npar,
            "bic": -2 * logl + npar * math.log(n), "ntotal": n,
            "bic2": -2 * logl + npar * math.log((n + 2) / 24)}


def compute_fit_measures(
    *,
    fmin: float,
    npar: int,
    df: int,
    n: int,
    cov: np.ndarray,
    sigma: np.ndarray,
    logl: float,
    logl_sat: float,
    mean: np.ndarray | None = None,
    mu: np.ndarray | None = None,
) -> dict[str, Any]:
    """All of lavaan's ML fit measures from the fitted moments (one group, complete data)."""
    from scipy import stats

    p = cov.shape[0]
    x2 = 2.0 * n * fmin
    pval = float(stats.chi2.sf(x2, df)) if df > 0 else math.nan
    # baseline (independence) model: Sigma = diag(S) [mu = ybar]
    sign, logdet = np.linalg.slogdet(cov)
    fb = float(np.sum(np.log(np.diag(cov))) - logdet)
    x2b = n * fb
    dfb = p * (p - 1) // 2
    pb = float(stats.chi2.sf(x2b, dfb)) if dfb > 0 else math.nan
    out: dict[str, Any] = {
        "npar": npar, "fmin": fmin, "chisq": x2, "df": df, "pvalue": pval,
        "baseline_chisq": x2b, "baseline_df": dfb, "baseline_pvalue": pb,
        "cfi": _robust.cfi(x2, df, x2b, dfb), "tli": _robust.tli(x2, df, x2b, dfb),
    }
    out["nnfi"] = out["tli"]
    out["rfi"] = _robust.rfi(x2, df, x2b, dfb)
    out["nfi"] = _robust.nfi(x2, df, x2b, dfb)
    out["pnfi"] = _robust.pnfi(x2, df, x2b, dfb)
    out["ifi"] = _robust.ifi(x2, df, x2b, dfb)
    out["rni"] = _robust.rni(x2, df, x2b, dfb)
    out.update(information_criteria(logl, logl_sat, npar, n))
    out["rmsea"] = _robust.rmsea(x2, df, n)
    out["rmsea_ci_lower"], out["rmsea_ci_upper"] = _robust.rmsea_ci(x2, df, n)
    out["rmsea_ci_level"] = 0.90
    out["rmsea_pvalue"] = _robust.rmsea_pvalue_close(x2, df, n)
    out["rmsea_notclose_pvalue"] = _robust.rmsea_pvalue_notclose(x2, df, n)
    out["rmsea_close_h0"] = 0.05
    out["rmsea_notclose_h0"] = 0.08
    # residual-based measures
    res = cov - sigma
    sd = np.sqrt(np.diag(cov))
    sres = res / np.outer(sd, sd)
    s_cor = cov / np.outer(sd, sd)
    sig_sd = np.sqrt(np.diag(sigma))
    cres = s_cor - sigma / np.outer(sig_sd, sig_sd)
    rmr_cov = math.sqrt(np.mean(vech(res) ** 2))
    srmr_cov = math.sqrt(np.mean(vech(sres) ** 2))
    crmr_cov = math.sqrt(np.mean(vech(cres, diag=False) ** 2)) if p > 1 else math.nan
    e = p * (p + 1) / 2
    diag_term = np.sum(((np.diag(cov) - np.diag(sigma)) / np.diag(cov)) ** 2)
    mplus_nomean = math.sqrt((np.sum(vech(cres, diag=False) ** 2) + diag_term) / e)
    if mean is not None and mu is not None:
        rm = mean - mu
        rmr_tot = math.sqrt((np.sum(vech(res) ** 2) + np.sum(rm**2)) / (e + p))
        srm = rm / sd
        srmr_tot = math.sqrt((np.sum(vech(sres) ** 2) + np.sum(srm**2)) / (e + p))
        crm = mean / sd - mu / sig_sd
        # lavaan's cor.bollen mean residuals scale both means by the observed sd
        crm_bollen = (mean - mu) / sd
        crmr_tot = math.sqrt((np.sum(vech(cres, diag=False) ** 2) + np.sum(crm_bollen**2))
                             / (p * (p - 1) / 2 + p))
        mplus = math.sqrt((np.sum(vech(cres, diag=False) ** 2) + np.sum(crm**2) + diag_term)
                          / (e + p))
    else:
        rmr_tot, srmr_tot, crmr_tot, mplus = rmr_cov, srmr_cov, crmr_cov, mplus_nomean
    out["rmr"], out["rmr_nomean"] = rmr_tot, rmr_cov
    out["srmr"], out["srmr_bentler"], out["srmr_bentler_nomean"] = srmr_tot, srmr_tot, srmr_cov
    out["crmr"], out["crmr_nomean"] = crmr_tot, crmr_cov
    out["srmr_mplus"], out["srmr_mplus_nomean"] = mplus, mplus_nomean
    for key, alpha in (("cn_05", 0.05), ("cn_01", 0.01)):
        if df == 0 and x2 < np.finfo(float).eps:
            out[key] = math.nan
        else:
            out[key] = float(stats.chi2.ppf(1 - alpha, df) / (x2 / n) + 1) if x2 > 0 else math.inf
    # GFI with normal-theory weights W = Sigma^-1 (x) Sigma^-1 at the estimates (lavaan's
    # WLS.V for ML after fitting)
    sinv = np.linalg.inv(sigma)
    a = sinv @ res
    b = sinv @ cov
    t1 = np.sum(a * a.T)
    t2 = float(np.sum(b * b.T))
    if mean is not None and mu is not None:
        rm = mean - mu
        t1 += 2.0 * rm @ sinv @ rm  # mean part weighted by Sigma^-1 (x2 for the 1/2 in W)
        t2 += 2.0 * mean @ sinv @ mean
    gfi = 1.0 - t1 / t2
    nel = e + (p if mean is not None and mu is not None else 0)
    out["gfi"] = gfi
    out["agfi"] = 1 - (nel / df) * (1 - gfi) if df > 0 else 1.0
    out["pgfi"] = (df / nel) * gfi if nel else math.nan
    out["mfi"] = math.exp(-0.5 * (x2 - df) / n)
    out["ecvi"] = x2 / n + 2 * npar / n
    return {k: out[k] for k in FIT_MEASURE_NAMES}
