"""McDonald's omega hierarchical and total from a Schmid-Leiman solution (psych::omega 2.2.9).

The factor work is the EFA module's: ``fit_fa`` extracts, ``rotate_loadings`` rotates,
``schmid_from_loadings`` orthogonalises. This module adds psych's omega bookkeeping
(``psych:::omegah``), a row bootstrap, and the bifactor-CFA variant (``psych::omegaSem``)
fitted with :func:`psychoval.cfa`.

Length: psych::omega (Schmid-Leiman, every reported coefficient) and omega from a CFA
(semTools) share their result class.
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import check_choice, check_confidence_level
from psychoval._results import Result, Summary
from psychoval.exceptions import (
    ConvergenceWarning,
    ImproperSolutionWarning,
    PsychovalError,
    PsychovalWarning,
    SpecificationError,
    collect_warnings,
    warn,
)
from psychoval.stats.core._fourth import FourthMoments
from psychoval.stats.core._suffstats import Moments, is_distributed, refuse

__all__ = ["OmegaResult", "OmegaSemResult", "omega", "omega_sem"]

_BOOT_STATS = ("omega_h", "alpha", "omega_total", "g6", "omega_lim")


# ----------------------------------------------------------------------------------------
# the core: one correlation matrix -> psych's omega quantities


def _signs(items: Sequence[str], reverse: Any) -> tuple[np.ndarray, tuple[str, ...]]:
    if reverse is None:
        names: list[str] = []
    elif isinstance(reverse, str):
        names = [reverse]
    else:
        names = list(reverse)
    unknown = [r for r in names if r not in items]
    if unknown:
        raise SpecificationError(
            f"reverse= names item(s) {', '.join(map(repr, unknown))} that are not among the "
            f"items analysed ({', '.join(items)}); check the spelling")
    dup = sorted({r for r in names if names.count(r) > 1})
    if dup:
        raise SpecificationError(f"reverse= lists {', '.join(map(repr, dup))} more than once")
    key = np.ones(len(items))
    for r in names:
        key[list(items).index(r)] = -1.0
    return key, tuple(names)


def _schmid(R: np.ndarray, n_factors: int, method: str, rotation: str, option: str
            ) -> tuple[dict[str, np.ndarray], Any]:
    from psychoval.stats.core._rotation import rotate_loadings
    from psychoval.stats.factor._dimensionality import schmid_from_loadings
    from psychoval.stats.factor._efa import fit_fa, orient_factors

    fit = fit_fa(R, n_factors, method)
    vm = rotate_loadings(fit.loadings, "varimax").loadings
    orth, _phi, _order = orient_factors(vm, None)
    return schmid_from_loadings(orth, rotation, method, option, np.diag(R)), fit


def _omega_from_sl(R: np.ndarray, g: np.ndarray, groups: np.ndarray, u2: np.ndarray
                   ) -> dict[str, Any]:
    """psych:::omegah's arithmetic from R and the Schmid-Leiman loadings (g, groups, u2)."""
    from psychoval.stats.core._moments import alpha_from_cov
    from psychoval.stats.reliability._common import psych_smc

    nf = groups.shape[1]
    vt = float(R.sum())
    vitem = float(np.trace(R))
    gsq = float(g.sum()) ** 2
    om_tot = (vt - float(u2.sum())) / vt
    alpha = alpha_from_cov(R)
    g6 = (vt + float(psych_smc(R).sum()) - vitem) / vt
    ev = np.concatenate([[float((g * g).sum())], (groups * groups).sum(axis=0)])
    # omega per group factor: items assigned to the group factor with the largest |loading|
    sub = np.argmax(np.abs(groups), axis=1)
    total = np.full(nf + 1, np.nan)
    general = np.full(nf + 1, np.nan)
    group = np.full(nf + 1, np.nan)
    grs = 0.0
    for j in range(nf):
        idx = np.flatnonzero(sub == j)
        if idx.size:
            vgr = float(R[np.ix_(idx, idx)].sum())
            gr = float(groups[idx, j].sum())
            gg = float(g[idx].sum())
            grs += gr * gr
            group[j + 1] = gr * gr / vgr
            general[j + 1] = gg * gg / vgr
            total[j + 1] = (gr * gr + gg * gg) / vgr
    general[0] = gsq / vt
    group[0] = grs / vt
    total[0] = om_tot
    return {"omega_h": gsq / vt, "omega_total": om_tot, "omega_lim": gsq / (vt - float(u2.sum())),
            "alpha": alpha, "g6": g6, "ecv": float(ev[0] / ev.sum()),
            "group_total": total, "group_general": general, "group_group": group}


def _omega_core(R: np.ndarray, n_factors: int, method: str, rotation: str, option: str
                ) -> tuple[dict[str, Any], dict[str, np.ndarray], Any]:
    parts, fit = _schmid(R, n_factors, method, rotation, option)
    vals = _omega_from_sl(R, parts["g"], parts["sm"], parts["u2"])
    return vals, parts, fit


# ----------------------------------------------------------------------------------------
# result


@dataclasses.dataclass(frozen=True, repr=False)
class OmegaResult(Result):
    """McDonald's omega hierarchical and total from a Schmid-Leiman solution (psych::omega).

    Scalars as psych: ``omega_h``, ``alpha`` (standardized, from the correlation matrix
    analysed), ``omega_total`` (psych's ``omega.tot``), ``omega_lim`` (omega_h / omega_total),
    ``g6`` (Guttman's lambda 6), ``ecv`` (explained common variance of g). ``omega_group``:
    rows g, F1*, ... and columns total, general, group (psych's ``omega.group``). ``sl``: items
    x (g, F1*, ..., h2, u2, p2) (psych's ``$schmid$sl``); ``factor_g_loadings``: the
    first-order factors' loadings on g (``$schmid$gloading``); ``gstats``: fit of the general
    factor alone (psych's ``$gstats``: chisq, dof, rms, rmsea and its 90% interval).
    ``ordinal`` is True when the matrix analysed is polychoric/tetrachoric (then alpha and
    omega are "ordinal alpha/omega", reliabilities of the latent response variables).
    ``ci`` holds bootstrap percentile intervals when ``n_boot > 0``. ``ultra_heywood``: the
    first-order factors whose loading on g exceeds 1 in absolute value (inadmissible; see
    :func:`psychoval.schmid_leiman`).
    """

    omega_h: float
    omega_total: float
    omega_lim: float
    alpha: float
    g6: float
    ecv: float
    omega_group: pd.DataFrame
    sl: pd.DataFrame
    factor_g_loadings: pd.Series
    phi: pd.DataFrame
    gstats: dict[str, float]
    correlation: pd.DataFrame
    reverse: tuple[str, ...]
    n_factors: int
    method: str
    rotation: str
    cor: str
    sl_option: str | None
    n_obs: int | None
    missing: str
    min_pairwise_n: int | None
    converged: bool
    heywood: tuple[str, ...]
    n_boot: int
    confidence_level: float
    ci: pd.DataFrame | None
    boot_failed: int
    ultra_heywood: tuple[str, ...] = ()

    _schema: ClassVar[str] = "psychoval.omega/1"

    @property
    def ordinal(self) -> bool:
        return self.cor != "pearson"

    @property
    def general(self) -> pd.Series:
        """Items' loadings on the general factor (``sl["g"]``)."""
        return self.sl["g"]

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(self.sl.index)

    def _repr_fields(self) -> dict[str, Any]:
        return {"omega_h": self.omega_h, "omega_total": self.omega_total, "alpha": self.alpha,
                "n_factors": self.n_factors}

    def summary(self) -> Summary:
        kind = "ordinal " if self.ordinal else ""
        facts = [
            (f"{kind}omega hierarchical", round(self.omega_h, 3)),
            (f"{kind}omega total", round(self.omega_total, 3)),
            ("omega limit (omega_h / omega_total)", round(self.omega_lim, 3)),
            (f"{kind}alpha (standardized)", round(self.alpha, 3)),
            ("Guttman lambda 6", round(self.g6, 3)),
            ("explained common variance of g", round(self.ecv, 3)),
            ("group factors", self.n_factors), ("extraction", self.method),
            ("rotation", self.rotation), ("correlations", self.cor),
            ("n", self.n_obs), ("missing data", self.missing),
        ]
        if self.min_pairwise_n is not None:
            facts.append(("smallest pairwise n", self.min_pairwise_n))
        if self.reverse:
            facts.append(("reverse-keyed", ", ".join(self.reverse)))
        tables = [("Omega by factor", self.omega_group.round(3)),
                  ("Schmid-Leiman loadings", self.sl.round(3))]
        if self.ci is not None:
            tables.append((f"Bootstrap {self.confidence_level:.0%} percentile intervals "
                           f"({self.n_boot} resamples)", self.ci.round(3)))
        notes = []
        if self.sl_option is not None:
            notes.append("Two group factors: the general factor is not identified; its loadings "
                         f"were fixed by psych's option={self.sl_option!r} rule.")
        if self.ordinal:
            notes.append(f"Computed from {self.cor} correlations: ordinal alpha and omega "
                         "(reliability of the latent responses, not of the observed sum score).")
        if self.heywood:
            notes.append(f"Heywood case(s): {', '.join(self.heywood)}.")
        if self.ultra_heywood:
            from psychoval.stats.factor._dimensionality import ultra_heywood_message

            notes.append(ultra_heywood_message(self.factor_g_loadings, self.ultra_heywood))
        if not self.converged:
            notes.append("The factor extraction did not converge.")
        if self.boot_failed:
            notes.append(f"{self.boot_failed} bootstrap resample(s) could not be fitted and "
                         "were left out.")
        return Summary(title="Omega (Schmid-Leiman)", facts=tuple(facts), tables=tuple(tables),
                       notes=tuple(notes))

    def plot(self, *, kind: str = "loadings", ax: Any = None) -> Any:
        """The Schmid-Leiman loadings (general and group factors) as a heat map
        (``kind="loadings"``) or omega hierarchical, omega total and each group factor's
        omega as bars (``kind="reliability"``); needs matplotlib (the ``plots`` extra).
        Returns the matplotlib axes."""
        from psychoval._input import check_choice
        from psychoval.plotting._factor import plot_loadings, plot_reliability

        check_choice("kind", kind, ("loadings", "reliability"))
        return (plot_loadings if kind == "loadings" else plot_reliability)(self, ax=ax)

    def to_frame(self) -> pd.DataFrame:
        rows = [{"statistic": s, "estimate": float(getattr(self, s))}
                for s in ("omega_h", "omega_total", "omega_lim", "alpha", "g6", "ecv")]
        out = pd.DataFrame(rows)
        if self.ci is not None:
            out = out.merge(self.ci.reset_index(names="statistic"), on="statistic", how="left")
        return out


# ----------------------------------------------------------------------------------------
# public function


def omega(data: Any, *, n_factors: int = 3, method: str = "minres", rotation: str = "oblimin",
          cor: str = "pearson", reverse: Sequence[str] | str | None = None, n_boot: int = 0,
          seed: int | None = None, confidence_level: float = 0.95, missing: str = "pairwise",
          sl_option: str | None = None, items: Sequence[str] | None = None,
          n_obs: int | None = None) -> OmegaResult:
    """McDonald's omega hierarchical and omega total (psych::omega).

    A ``n_factors`` solution is extracted (``method``), rotated by varimax and then obliquely
    (``rotation``); a one-factor analysis of the factor correlations gives a general factor
    and the Schmid-Leiman transformation splits every loading into a general and a residual
    group part. Omega hierarchical is the share of total-score variance due to the general
    factor; omega total the share due to all common factors.

    Parameters
    ----------
    data : DataFrame, ResponseTable, 2-d array, a correlation matrix, or Moments
        Items in columns. A square symmetric matrix is taken as a correlation (or covariance,
        rescaled) matrix; give ``n_obs`` for the fit statistics. Merged :class:`Moments` (or
        a dask DataFrame / Array, a Spark DataFrame) give the same result as the
        concatenated rows (Pearson correlations, no bootstrap).
    n_factors : int
        Number of group factors, at least 3 for an identified general factor. With 2, pass
        ``sl_option`` (psych's ``option``) to accept an arbitrary identification rule.
    method : {"minres", "ml", "pa", "uls"}
        Factor extraction (psych's ``fm``).
    rotation : {"oblimin", "quartimin", "geominQ", "promax"}
        Oblique rotation before the Schmid-Leiman step.
    cor : {"pearson", "polychoric", "tetrachoric"}
        Correlations analysed. Polychoric/tetrachoric give ordinal alpha and omega.
    reverse : list of str, optional
        Items to reverse-key (their correlations change sign). psych's ``omega(flip=TRUE)``
        reverses items with a negative general loading silently; we never do (a warning
        names them).
    n_boot : int
        Bootstrap resamples of the rows (0: none) for percentile intervals of omega_h, alpha,
        omega_total, g6 and omega_lim.
    seed : int, optional
        Seed of the bootstrap (numpy ``default_rng``).
    confidence_level : float
        Of the bootstrap intervals.
    missing : {"pairwise", "listwise", "raise"}
        Pairwise-complete correlations by default (psych's).
    sl_option : {"equal", "first", "second"}, optional
        Only with ``n_factors=2``: psych's rule for the general loadings of two factors
        (``"equal"``: both sqrt(r12)). Labelled in the result.
    items : list of str, optional
        Columns to analyse.
    n_obs : int, optional
        Sample size for a matrix input.

    Returns
    -------
    OmegaResult

    Raises
    ------
    SpecificationError
        ``n_factors`` < 2, 2 without ``sl_option``, too many factors for the items, unknown
        options or reverse names, a bootstrap on a matrix input.
    DataError
        Constant items, items without common respondents.

    Warns
    -----
    PsychovalWarning
        Items with a negative general loading (consider ``reverse=``).
    ConvergenceWarning, ImproperSolutionWarning
        The extraction did not converge / has Heywood cases, or a first-order factor loads
        above 1 on the general factor (an ultra-Heywood case, named in ``ultra_heywood``).

    Notes
    -----
    With Schmid-Leiman general loadings :math:`g_i`, uniquenesses :math:`u_i^2` and the
    correlation matrix :math:`R` with total :math:`V_t = 1'R1`:

    .. math::

        \\omega_h = (\\textstyle\\sum g_i)^2 / V_t, \\qquad
        \\omega_t = (V_t - \\textstyle\\sum u_i^2) / V_t, \\qquad
        \\omega_{lim} = \\omega_h / \\omega_t.

    ``alpha`` and ``g6`` are computed from the same matrix (standardized alpha). Per group
    factor, items are assigned to the group factor with their largest absolute loading and
    the same ratios are taken within the item subset (psych's ``omega.group``).

    References
    ----------
    McDonald, R. P. (1999). *Test theory: A unified treatment.* Erlbaum.
    https://doi.org/10.4324/9781410601087

    Zinbarg, R. E., Revelle, W., Yovel, I., & Li, W. (2005). Cronbach's alpha, Revelle's
    beta, and McDonald's omega_h. Psychometrika 70, 123-133.
    https://doi.org/10.1007/s11336-003-0974-7

    Revelle, W., & Zinbarg, R. E. (2009). Coefficients alpha, beta, omega, and the glb.
    Psychometrika 74, 145-154. https://doi.org/10.1007/s11336-008-9102-z

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> rng = np.random.default_rng(4)
    >>> g = rng.standard_normal((600, 1)); s = rng.standard_normal((600, 3))
    >>> x = .6 * g + np.repeat(s, 3, axis=1) * .5 + rng.standard_normal((600, 9)) * .6
    >>> om = pv.omega(x, n_factors=3)   # psych::omega(x, 3): omega_h .74957, omega.tot .91893
    >>> round(om.omega_h, 4), round(om.omega_total, 4)
    (0.7496, 0.9189)
    """
    from psychoval.stats.factor._dimensionality import general_loadings
    from psychoval.stats.factor._efa import correlation_input, fa_stats, is_square_matrix

    check_choice("method", method, ("minres", "ml", "pa", "uls"))
    check_choice("rotation", rotation, ("oblimin", "quartimin", "geominQ", "promax"))
    check_choice("cor", cor, ("pearson", "polychoric", "tetrachoric"))
    check_choice("missing", missing, ("pairwise", "listwise", "raise"))
    if not isinstance(n_factors, (int, np.integer)) or isinstance(n_factors, bool) \
            or n_factors < 2:
        raise SpecificationError(
            f"n_factors={n_factors!r}: omega hierarchical needs at least 2 group factors (3 for "
            "an identified general factor); for a single-factor scale use "
            "pv.cfa(...).composite_reliability() or pv.alpha")
    n_factors = int(n_factors)
    if n_factors == 2:
        if sl_option is None:
            raise SpecificationError(
                "n_factors=2: with two group factors the general factor is not identified; "
                "psych fixes its loadings by a rule. Pass sl_option='equal' (psych's default), "
                "'first' or 'second' to accept that rule, or use at least 3 group factors")
        check_choice("sl_option", sl_option, ("equal", "first", "second"))
    elif sl_option is not None:
        raise SpecificationError(
            f"sl_option={sl_option!r} applies only to n_factors=2 (it is psych's rule for an "
            f"unidentified general factor); with n_factors={n_factors} leave it None")
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 0:
        raise SpecificationError(f"n_boot={n_boot!r} must be a whole number >= 0")
    if n_boot:
        confidence_level = check_confidence_level(confidence_level)
    matrix_input = is_square_matrix(data)
    if n_boot and (isinstance(data, (Moments, FourthMoments)) or is_distributed(data)):
        refuse("n_boot > 0", "resampling needs the respondents' rows; leave n_boot=0")
    if matrix_input and n_boot:
        raise SpecificationError("n_boot > 0 needs raw responses to resample; a correlation "
                                 "matrix was given")
    R, names, n, npair = correlation_input(data, cor=cor, missing=missing, items=items,
                                           n_obs=n_obs)
    names = tuple(str(x) for x in names)
    k = R.shape[0]
    if k < 3:
        raise SpecificationError(f"omega needs at least 3 items; {k} given")
    if n_factors >= k:
        raise SpecificationError(f"n_factors={n_factors} is too many for {k} items")
    key, rev = _signs(names, reverse)
    R = R * np.outer(key, key)
    option = sl_option if sl_option is not None else "equal"
    vals, parts, fit = _omega_core(R, n_factors, method, rotation, option)
    g = parts["g"]
    neg = [names[i] for i in np.flatnonzero(g < 0)]
    if neg:
        warn(
            f"item(s) {', '.join(neg)} load negatively on the general factor; psych's "
            "omega(flip=TRUE) would reverse them silently. If they are reverse-keyed, pass "
            "reverse=[...]", PsychovalWarning, stacklevel=2)
    heywood = tuple(names[i] for i in fit.heywood)
    if not fit.converged:
        warn(f"the {method} extraction of {n_factors} factors did not converge",
                      ConvergenceWarning, stacklevel=2)
    if heywood:
        warn(f"Heywood case(s) in the extraction: {', '.join(heywood)} (uniqueness "
                      "at its lower bound)", ImproperSolutionWarning, stacklevel=2)
    fcols = [f"F{j + 1}" for j in range(n_factors)]
    gload, ultra = general_loadings(parts["gload"])
    st = fa_stats(R, g[:, None], None, n, None)
    gstats = {"chisq": st["statistic"], "dof": float(st["dof"]), "rms": st["rms"],
              "rmsea": st["rmsea"], "rmsea_lower": st["rmsea_lower"],
              "rmsea_upper": st["rmsea_upper"]}
    gcols = [f"F{j + 1}*" for j in range(n_factors)]
    sl = pd.DataFrame(np.column_stack([g, parts["sm"], parts["h2"], parts["u2"], parts["p2"]]),
                      index=list(names), columns=["g", *gcols, "h2", "u2", "p2"])
    omega_group = pd.DataFrame({"total": vals["group_total"], "general": vals["group_general"],
                                "group": vals["group_group"]}, index=["g", *gcols])
    ci = None
    failed = 0
    if n_boot:
        ci, failed = _bootstrap(data, items=items, missing=missing, cor=cor, key=key,
                                n_factors=n_factors, method=method, rotation=rotation,
                                option=option, n_boot=int(n_boot), seed=seed,
                                confidence_level=confidence_level)
    return OmegaResult(
        omega_h=vals["omega_h"], omega_total=vals["omega_total"], omega_lim=vals["omega_lim"],
        alpha=vals["alpha"], g6=vals["g6"], ecv=vals["ecv"], omega_group=omega_group, sl=sl,
        factor_g_loadings=gload,
        phi=pd.DataFrame(parts["phi"], index=fcols, columns=fcols), gstats=gstats,
        correlation=pd.DataFrame(R, index=list(names), columns=list(names)), reverse=rev,
        n_factors=n_factors, method=method, rotation=rotation, cor=cor, sl_option=sl_option,
        n_obs=None if n is None else int(n), missing=missing,
        min_pairwise_n=None if npair is None else int(npair.min()),
        converged=bool(fit.converged), heywood=heywood, n_boot=int(n_boot),
        confidence_level=float(confidence_level), ci=ci, boot_failed=failed,
        ultra_heywood=ultra)


def _bootstrap(data, *, items, missing, cor, key, n_factors, method, rotation, option,
               n_boot, seed, confidence_level) -> tuple[pd.DataFrame, int]:
    """Resample rows, recompute the correlations, refit; percentile intervals."""
    from psychoval._input import apply_missing, as_item_matrix
    from psychoval.stats.core._pearson import pairwise_cor

    m = as_item_matrix(data, items=items, min_items=2, what="data")
    m, _ = apply_missing(m, missing)
    x = m.values
    n = x.shape[0]
    rng = np.random.default_rng(seed)
    kk = np.outer(key, key)
    out = np.full((n_boot, len(_BOOT_STATS)), np.nan)
    for b in range(n_boot):
        idx = rng.integers(0, n, size=n)
        xb = x[idx]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if cor == "pearson":
                    Rb = pairwise_cor(xb)[0]
                else:
                    from psychoval.stats.factor._efa import correlation_input

                    Rb = correlation_input(xb, cor=cor, missing="pairwise", items=None,
                                           n_obs=None)[0]
                if not np.isfinite(Rb).all():
                    continue
                vals, _parts, _fit = _omega_core(Rb * kk, n_factors, method, rotation, option)
        except (PsychovalError, np.linalg.LinAlgError, ValueError, FloatingPointError):
            continue
        out[b] = [vals[s] for s in _BOOT_STATS]
    ok = np.isfinite(out).all(axis=1)
    failed = int(n_boot - ok.sum())
    tail = (1.0 - confidence_level) / 2.0
    good = out[ok]
    if good.shape[0] == 0:
        lo = hi = np.full(len(_BOOT_STATS), np.nan)
    else:
        lo = np.quantile(good, tail, axis=0)
        hi = np.quantile(good, 1.0 - tail, axis=0)
    ci = pd.DataFrame({"lower": lo, "upper": hi,
                       "boot_se": good.std(axis=0, ddof=1) if good.shape[0] > 1
                       else np.full(len(_BOOT_STATS), np.nan)},
                      index=list(_BOOT_STATS))
    return ci, failed


# ----------------------------------------------------------------------------------------
# omegaSem: the Schmid-Leiman pattern refitted as a bifactor CFA


@dataclasses.dataclass(frozen=True, repr=False)
class OmegaSemResult(Result):
    """Omega from a bifactor CFA of the Schmid-Leiman pattern (psych::omegaSem).

    ``omega_h``, ``omega_total``, ``omega_group`` (rows gs, F1s*, ...) and ``gr2`` (R^2 of
    factor-score regressions, psych's ``gR2``) come from the CFA loadings ``cfa_loadings``;
    ``efa`` is the :class:`OmegaResult` the model was derived from; ``fit`` the CFA result.
    """

    omega_h: float
    omega_total: float
    omega_group: pd.DataFrame
    gr2: pd.Series
    cfa_loadings: pd.DataFrame
    model: str
    converged: bool
    admissible: bool
    fit_measures: dict[str, float]
    efa: OmegaResult
    fit: Any

    _schema: ClassVar[str] = "psychoval.omega_sem/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"omega_h": self.omega_h, "omega_total": self.omega_total,
                "converged": self.converged}

    def summary(self) -> Summary:
        facts = [("omega hierarchical (bifactor CFA)", round(self.omega_h, 3)),
                 ("omega total (bifactor CFA)", round(self.omega_total, 3)),
                 ("omega hierarchical (Schmid-Leiman)", round(self.efa.omega_h, 3)),
                 ("CFA converged", self.converged), ("CFA admissible", self.admissible)]
        for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr"):
            if k in self.fit_measures:
                facts.append((k, round(float(self.fit_measures[k]), 4)))
        notes = []
        if not self.converged:
            notes.append("The bifactor CFA did not converge: the omegas are not trustworthy.")
        if not self.admissible:
            notes.append("The bifactor CFA has improper estimates (e.g. negative residual "
                         "variances); omegas above 1 are possible.")
        return Summary(title="Omega from a bifactor CFA (omegaSem)", facts=tuple(facts),
                       tables=(("Omega by factor", self.omega_group.round(3)),
                               ("Bifactor CFA loadings", self.cfa_loadings.round(3))),
                       notes=tuple(notes))

    def to_frame(self) -> pd.DataFrame:
        return self.omega_group.reset_index(names="factor")


def _sem_model(sl: pd.DataFrame, n_factors: int) -> tuple[str, list[list[str]]]:
    names = list(sl.index)
    groups = sl.iloc[:, 1:n_factors + 1].to_numpy()
    sub = np.argmax(np.abs(groups), axis=1)
    members = [[names[i] for i in np.flatnonzero(sub == j)] for j in range(n_factors)]
    lines = ["g =~ " + " + ".join(names)]
    lines += [f"F{j + 1} =~ " + " + ".join(mem) for j, mem in enumerate(members) if mem]
    facs = ["g"] + [f"F{j + 1}" for j, mem in enumerate(members) if mem]
    for a in range(len(facs)):
        for b in range(a + 1, len(facs)):
            lines.append(f"{facs[a]} ~~ 0*{facs[b]}")
    return "\n".join(lines), members


def omega_sem(data: Any, *, n_factors: int = 3, method: str = "minres",
              rotation: str = "oblimin", reverse: Sequence[str] | str | None = None,
              missing: str = "pairwise", sl_option: str | None = None,
              items: Sequence[str] | None = None, n_obs: int | None = None) -> OmegaSemResult:
    """Omega hierarchical and total from a bifactor CFA (psych::omegaSem).

    Runs :func:`omega`, then fits the bifactor model it implies (every item on g, each item
    on the group factor with its largest Schmid-Leiman loading, all factors orthogonal with
    unit variance) to the Pearson correlation matrix by maximum likelihood with
    :func:`psychoval.cfa` (psych fits it with ``lavaan::cfa(sample.cov = R, sample.nobs = n,
    orthogonal = TRUE, std.lv = TRUE)``), and computes omega from the CFA loadings as
    ``psych::omegaFromSem``.

    Parameters
    ----------
    data, n_factors, method, rotation, reverse, missing, sl_option, items, n_obs
        As :func:`omega` (Pearson correlations only, as psych).

    Returns
    -------
    OmegaSemResult

    Raises
    ------
    SpecificationError
        As :func:`omega`; a matrix input without ``n_obs``.

    Notes
    -----
    With CFA loadings :math:`\\Lambda = [\\lambda_g, \\Lambda_s]` on the correlation matrix
    :math:`R`: :math:`\\omega_h = (1'\\lambda_g)^2 / 1'R1`, :math:`\\omega_t = 1 - (\\mathrm{tr}R
    - \\sum \\Lambda^2) / 1'R1`, and :math:`gR^2 = \\operatorname{diag}(\\Lambda' R^{-1}
    \\Lambda)`. A non-converged or improper CFA (negative residual variances) is returned
    with ``converged=False`` / ``admissible=False`` and a warning; its omegas can exceed 1.

    References
    ----------
    Revelle, W., & Zinbarg, R. E. (2009). Coefficients alpha, beta, omega, and the glb.
    Psychometrika 74, 145-154. https://doi.org/10.1007/s11336-008-9102-z

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> rng = np.random.default_rng(4)
    >>> g = rng.standard_normal((600, 1)); s = rng.standard_normal((600, 3))
    >>> x = .6 * g + np.repeat(s, 3, axis=1) * .5 + rng.standard_normal((600, 9)) * .6
    >>> om = pv.omega_sem(x, n_factors=3)   # psych::omegaSem(x, 3)$omega.efa$omega: .75893
    >>> round(om.omega_h, 4), om.converged
    (0.7589, True)
    """
    from psychoval.stats.sem._cfa import cfa

    efa = omega(data, n_factors=n_factors, method=method, rotation=rotation, cor="pearson",
                reverse=reverse, missing=missing, sl_option=sl_option, items=items,
                n_obs=n_obs)
    if efa.n_obs is None:
        raise SpecificationError("omega_sem on a correlation matrix needs n_obs= (the CFA's "
                                 "sample size)")
    R = efa.correlation.to_numpy()
    names = list(efa.sl.index)
    # lavaan names must be identifiers: fit under neutral names, report under the items'
    safe = [f"v{i + 1}" for i in range(len(names))]
    sl_safe = efa.sl.copy()
    sl_safe.index = safe
    model, members = _sem_model(sl_safe, efa.n_factors)
    cov = pd.DataFrame(R, index=safe, columns=safe)
    def rename(text: str) -> str:
        return re.sub(r"\bv(\d+)\b", lambda mo: names[int(mo.group(1)) - 1], text)

    try:
        with collect_warnings() as caught:
            fit = cfa(model, sample_cov=cov, sample_nobs=int(efa.n_obs), std_lv=True)
    except PsychovalError as exc:
        raise type(exc)(f"bifactor CFA of the Schmid-Leiman pattern: {rename(str(exc))}") \
            from exc
    for w in caught:
        warn(f"bifactor CFA: {rename(str(w.message))}", w.category, stacklevel=2)
    est = fit.estimates()
    loads = est[est["op"] == "=~"]
    facs = ["g"] + [f"F{j + 1}" for j, mem in enumerate(members) if mem]
    lam = np.zeros((len(names), len(facs)))
    for _, row in loads.iterrows():
        lam[safe.index(row["rhs"]), facs.index(row["lhs"])] = float(row["est"])
    # orientation: the general factor's sign is arbitrary in the CFA; take it positive on sum
    if lam[:, 0].sum() < 0:
        lam[:, 0] = -lam[:, 0]
    for j in range(1, lam.shape[1]):
        if lam[:, j].sum() < 0:
            lam[:, j] = -lam[:, j]
    lam = lam + 0.0  # no negative zeros
    vt = float(R.sum())
    gsum = float(lam[:, 0].sum())
    h2 = float((lam * lam).sum())
    om_h = gsum * gsum / vt
    om_t = (vt - (float(np.trace(R)) - h2)) / vt
    w = np.linalg.solve(R, lam)
    gr2 = np.einsum("ij,ij->j", w, lam)
    nf = lam.shape[1]
    total = np.full(nf, np.nan)
    general = np.full(nf, np.nan)
    group = np.full(nf, np.nan)
    sub = np.argmax(np.abs(lam[:, 1:]), axis=1)
    grs = 0.0
    for j in range(nf - 1):
        idx = np.flatnonzero(sub == j)
        if idx.size:
            vgr = float(R[np.ix_(idx, idx)].sum())
            gr = float(lam[idx, j + 1].sum())
            gg = float(lam[idx, 0].sum())
            grs += gr * gr
            group[j + 1] = gr * gr / vgr
            general[j + 1] = gg * gg / vgr
            total[j + 1] = (gr * gr + gg * gg) / vgr
    general[0] = om_h
    group[0] = grs / vt
    total[0] = om_t
    rows = ["gs"] + [f"F{j}s*" for j in range(1, nf)]
    fm = dict(fit.fit_measures)
    converged = bool(getattr(fit, "converged", True))
    admissible = bool(getattr(fit, "admissible", True))
    return OmegaSemResult(
        omega_h=om_h, omega_total=om_t,
        omega_group=pd.DataFrame({"total": total, "general": general, "group": group},
                                 index=rows),
        gr2=pd.Series(gr2, index=rows, name="gR2"),
        cfa_loadings=pd.DataFrame(lam, index=names, columns=rows),
        model=model, converged=converged, admissible=admissible,
        fit_measures={k: float(v) for k, v in fm.items() if _is_num(v)}, efa=efa, fit=fit)


def _is_num(v: Any) -> bool:
    try:
        return math.isfinite(float(v)) or math.isnan(float(v))
    except (TypeError, ValueError):
        return False
