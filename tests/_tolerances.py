"""Every tolerance used against R references, in one place (CONVENTIONS.md).

Each entry is (rtol, atol). A looser entry carries a comment with the gap measured against R
and why. Compare with :func:`assert_close`; never with round(x, k) or "most cells close".
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class Tol:
    rtol: float
    atol: float


TOL: dict[str, Tol] = {
    # closed forms: alpha family, KR-20/21, item statistics, Pearson r, KMO, Bartlett,
    # eigenvalues, Guttman lambda 1-3 and 6, split-half on <= 16 items, ICC (lmer=FALSE), kappa
    "closed_form": Tol(rtol=1e-8, atol=1e-10),
    # R's stats::integrate at its default rel.tol (~1.2e-4), as betafunctions 1.9.0 computes
    # every cell of HB.CA / LL.CA.MC: measured gaps of our quadrature (checked against
    # scipy.integrate.quad to 1e-9) to its accuracy/consistency 1.3e-6 / 9.8e-6 and kappa
    # 4.8e-5 (HB.CA example); LL.CA.MC 8e-8 overall, 2.9e-5 in the top level's accuracy
    "r_integrate": Tol(rtol=0.0, atol=1e-4),
    # Duhachek interval in psych-compatible mode (z = 1.96 as psych's print method)
    "duhachek": Tol(rtol=1e-8, atol=1e-10),
    # polychoric / tetrachoric rho against lavaan::lavCor (lavCor itself is exact to ~4e-8)
    "polychoric_lavaan": Tol(rtol=0.0, atol=1e-6),
    # polychoric rho against psych::polychoric: psych's optimizer stops at ~1.2e-4
    "polychoric_psych": Tol(rtol=0.0, atol=5e-5),
    "thresholds": Tol(rtol=0.0, atol=1e-10),
    # EFA minres / ml loadings, communalities, Phi after alignment (GPArotation eps 1e-5)
    "efa": Tol(rtol=0.0, atol=1e-4),
    # psych::fa chi-square-scale fit statistics (STATISTIC, chi, BIC): n times a discrepancy
    # that inherits psych's early L-BFGS-B stop (factr 1e7); measured gap to our converged
    # fits up to 5e-6 relative (ability tetrachoric 4-factor STATISTIC 367.596 vs 367.594)
    "efa_fit": Tol(rtol=1e-4, atol=1e-6),
    # psych fm="pa" stops at min.err .001
    "efa_pa": Tol(rtol=0.0, atol=1e-2),
    # EFA's wide path (over WIDE_K items: leading eigenpairs + L-BFGS-B) against its small
    # path (full eigendecomposition + Newton), both to a projected gradient of 1e-10
    # (tests/test_efa_wide.py): measured gaps 7e-13 in communalities, 5e-11 in ML loadings,
    # 3e-8 in GPA-rotated loadings (GPA's own stopping rule), 1e-8 relative in the objective
    # of a singular (smoothed) R
    "efa_wide": Tol(rtol=1e-7, atol=1e-7),
    # the same on a singular R (fewer respondents than items): the chi-square-based fit
    # statistics go through log|.| of the cor.smooth-ed R (condition ~1e10), which the small
    # path's own solve resolves to ~1e-6 relative; measured gap 1.5e-7 (BIC)
    "efa_wide_singular": Tol(rtol=1e-5, atol=1e-7),
    # CFA estimates, SEs, fit measures (ML, FIML) against lavaan
    "cfa": Tol(rtol=1e-4, atol=1e-6),
    # MLR scaled / robust statistics
    "mlr": Tol(rtol=1e-3, atol=1e-6),
    # ICC lmer=TRUE, omega, compRelSEM, AVE, HTMT, modification indices
    "iterative": Tol(rtol=0.0, atol=1e-5),
    # modification indices of our own (tightly converged) CFA fit vs lavaan's. MIs are score
    # tests, so they inherit the optimizer's stopping error: lavaan's nlminb stops with
    # gradients up to ~1e-6, and the measured gap is up to 1.8e-4 relative (ability 2nd-order
    # model; 1e-5..4e-5 on the others). Evaluated at lavaan's own estimates our MIs agree to
    # 1e-12, and the checker asserts that too at "iterative" (atol 1e-5).
    "modindices_fitted": Tol(rtol=5e-4, atol=1e-6),
    # every candidate of modindices() (not only the top 10) of our fitted solution vs lavaan's
    # (tests/test_cfa_output_extra.py; at lavaan's estimates they agree at "iterative"). Small
    # MIs carry the stopping error as an absolute gap in the score, and some are ill-
    # conditioned: bfi second-order model with the two-indicator factor beta, beta =~ E1 MI
    # 75.027 ours vs 75.099 lavaan (9.5e-4 relative) while lavaan refitted by BFGS from its own
    # solution (gradient 1e-7) gives 74.910, with all three chi-squares within 7e-10 of each
    # other (ours lowest); largest relative gap 3.2e-3 on MIs below .01 (absolute < 1e-5);
    # HS fits: absolute gaps up to 2.1e-4.
    "modindices_fitted_all": Tol(rtol=2e-3, atol=1e-4),
    # psych::ICC(lmer=TRUE) outputs that carry lme4's stopping error. psych calls lme4 1.1.31
    # with its default tolerances, which stop short of the REML optimum; our REML reproduces
    # the exact ANOVA on complete data to 1e-8 and lme4 re-run with tight tolerances to 1e-6
    # relative (tests/test_raters_icc.py::test_reml_matches_tightly_converged_lme4 - the real
    # accuracy check). Measured gaps to psych's defaults: rubric_ratings ICC.lmer (complete)
    # F 3.8e-6, MS and SumSq 2.8e-6 relative (ICCs within "iterative"); raters_extra
    # ICC.lmer.missing MS/SumSq 2.5e-4 relative (the small rater variance 0.047 is 1e-5 off),
    # F 1.9e-5, bounds 1.6e-5, ICCs 5.7e-6, MSW 2.7e-5 relative. Used for F/MS/SumSq of the
    # shared check and for every value of psych lmer=TRUE on data with missing ratings.
    "reml_lme4": Tol(rtol=5e-4, atol=1e-10),
    # CFA convergence stress suite (tests/test_cfa_stress.py): our chi-square against lavaan's
    # refit from its own solution at rel.tol 1e-14 (chisq_tight). chisq is N times the
    # minimum of F, so both optimizers' stopping error enters only to second order; 1e-6
    # relative tells "the same optimum" from "another point" (atol for df = 0 models, where
    # chisq is 0 up to rounding). Measured on the 488 problems where both reach the same
    # optimum: largest gap 8.4e-9 relative (p0417, bifactor), median 1.3e-11; different
    # local optima differ by 8e-5 relative or more (p0484).
    "cfa_stress_chisq": Tol(rtol=1e-6, atol=1e-8),
    # IRT against published results printed to 3 decimals (LSAT-6 under ltm: Rizopoulos
    # 2006): half a unit in the last printed digit; our fits match ltm's printed values at
    # GHk = 15, 21 and at 61 equally spaced points (the LSAT slopes are small)
    "irt_published": Tol(rtol=0.0, atol=5e-4 + 1e-9),
    "irt_published_loglik": Tol(rtol=0.0, atol=5e-4 + 1e-9),
    # conditional ML against psychotools 0.7.2 (raschmodel / pcmodel, reltol 1e-12, itempar /
    # threshpar sum zero): measured gaps 2e-11 relative in the loglik, 1.6e-6 in thresholds
    # (prompting PCM: psychotools' BFGS stops there), 2.2e-7 in SEs
    "irt_cml_psychotools": Tol(rtol=0.0, atol=5e-6),
    "irt_cml_loglik": Tol(rtol=1e-9, atol=1e-7),
    # eRm 1.0.2 (RM / PCM): its nlm stops earlier: gaps 2.4e-6 in b and SE, 9e-8 in the loglik
    "irt_cml_erm": Tol(rtol=0.0, atol=2e-5),
}

# p-values below this are compared only as "below it" (CONVENTIONS.md)
# mergeable sufficient statistics (psychoval.stats.core._suffstats): moments of chunks added
# with ``+`` against the moments of the concatenated rows, in units of each item's SD. Only
# the order of the floating-point sums differs: measured at most 3e-14 on random chunks with
# missing cells, offsets of 1e6 and SDs from 1e-3 to 1e3
TOL["merged_moments"] = Tol(rtol=1e-12, atol=1e-12)
# statistics from merged Moments against the in-memory computation on the concatenated rows:
# closed forms (alpha and its intervals, item statistics) agree to ~1e-15
TOL["merged_statistics"] = Tol(rtol=1e-10, atol=1e-10)
# EFA from merged Moments: minres / ml stop at their optimizer's criterion (L-BFGS-B), so
# correlation matrices differing by ~1e-15 can stop apart: measured 3.5e-9 in the ml loadings
# of a 9-item, 500-row case (minres: 2e-15)
TOL["merged_efa"] = Tol(rtol=0.0, atol=1e-7)
# psych-style omega from merged Moments: the one-factor fit of the factor correlations stops at
# its optimizer's tolerance, so inputs differing by ~1e-15 can stop ~2e-9 apart (measured)
TOL["merged_omega"] = Tol(rtol=0.0, atol=1e-8)
# CFA (ML) from merged Moments / PatternMoments: the listwise fit goes through the sample_cov
# route, whose starting covariance differs from the data route's by rounding (~1e-16); Fisher
# scoring then stops one step apart within its convergence criterion: measured 2.1e-8 in the
# estimates and 3e-9 in the SEs of the Holzinger-Swineford model (FIML: 4e-15). MLR from
# FourthMoments (same engine route, inputs ~1e-15 apart): 3.6e-8 in the HS estimates, 1.5e-7
# in the SEs, 4.9e-7 in pvalue_scaled (4.3e-9) - the in-memory fit moves by 3.6e-8 itself when
# its rows are reversed; at the same estimates everything agrees to 6e-12 (merged_statistics)
TOL["merged_cfa"] = Tol(rtol=1e-6, atol=1e-7)

PVALUE_FLOOR = 1e-6


def _as_float(x: Any) -> float:
    if x is None:
        return math.nan
    if isinstance(x, str):
        if x in ("Inf", "-Inf"):
            return math.inf if x == "Inf" else -math.inf
        raise TypeError(f"not a number: {x!r}")
    return float(x)


def assert_close(actual: Any, expected: Any, kind: str, *, what: str = "") -> None:
    """Assert ``actual`` equals the R reference ``expected`` within ``TOL[kind]``.

    ``expected`` may hold None (R's NA: actual must be NaN) and "Inf"/"-Inf" strings.
    Scalars, sequences and arrays are compared elementwise with matching shapes.
    """
    tol = TOL[kind]
    exp = np.vectorize(_as_float, otypes=[float])(np.asarray(expected, dtype=object))
    act = np.asarray(actual, dtype=float)
    assert act.shape == exp.shape, f"{what}: shape {act.shape} != reference {exp.shape}"
    np.testing.assert_allclose(act, exp, rtol=tol.rtol, atol=tol.atol, equal_nan=True,
                               err_msg=f"{what} [{kind}: rtol={tol.rtol}, atol={tol.atol}]")


def assert_pvalue(actual: float, expected: Any, kind: str, *, what: str = "") -> None:
    """p-values: exact within tolerance, or both below PVALUE_FLOOR."""
    exp = _as_float(expected)
    if exp < PVALUE_FLOOR:
        assert actual < PVALUE_FLOOR, f"{what}: p = {actual} but R has {exp} (< {PVALUE_FLOOR})"
    else:
        assert_close(actual, exp, kind, what=what)
