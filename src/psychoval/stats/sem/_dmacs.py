"""dMACS (Nye & Drasgow 2011): the size of an item's measurement non-equivalence between two
groups of a multi-group CFA, in pooled item standard deviations, and the expected bias it puts
into item and scale scores.

Lives beside the CFA (not in ``stats/items``) so that the invariance ladder in this room can
report it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._results import Result, Summary
from psychoval.exceptions import SpecificationError
from psychoval.stats.sem._cfa import CFAResult, OrdinalCFAResult

__all__ = ["dmacs", "DMACSResult"]

_ITEM_COLUMNS = ["item", "factor", "reference", "focal", "lambda_reference", "lambda_focal",
                 "nu_reference", "nu_focal", "kappa_focal", "phi_focal", "sd_pooled", "dmacs",
                 "mean_difference"]
_FACTOR_COLUMNS = ["factor", "reference", "focal", "n_items", "sum_score_bias",
                   "mean_score_bias"]


@dataclasses.dataclass(frozen=True, repr=False)
class DMACSResult(Result):
    """dMACS per item and expected score bias per factor, each focal group against a reference.

    Attributes
    ----------
    items : DataFrame
        One row per item and focal group: ``item``, ``factor``, ``reference``, ``focal``, the
        two groups' loadings (``lambda_*``) and intercepts (``nu_*``), the focal group's
        latent mean and variance (``kappa_focal``, ``phi_focal``), ``sd_pooled`` (the item's
        pooled within-group SD), ``dmacs`` and ``mean_difference`` (focal minus reference
        expected item score over the focal group's latent distribution, in item units).
    factors : DataFrame
        One row per factor and focal group: ``n_items``, ``sum_score_bias`` (the sum of its
        items' ``mean_difference``: the expected bias in the focal group's sum score) and
        ``mean_score_bias`` (the same for the mean of the items).
    reference : str
        The reference group's label.
    focal : tuple of str
        The other groups, in the fit's order.
    n_obs_per_group : dict
        Rows used per group (they weight the pooled SDs).
    n_obs, n_total : int
        Rows used and rows given in the fit.
    missing, estimator : str
        The fit's missing-data method and estimator.
    converged, admissible : bool
        From the fit: dMACS of a fit that did not converge or is inadmissible is not to be
        trusted.
    """

    _schema: ClassVar[str] = "psychoval.dmacs/1"
    items: pd.DataFrame
    factors: pd.DataFrame
    reference: str
    focal: tuple[str, ...]
    n_obs_per_group: dict[str, int]
    n_obs: int
    n_total: int
    missing: str
    estimator: str
    converged: bool
    admissible: bool

    def _repr_fields(self) -> dict[str, Any]:
        d = self.items["dmacs"].to_numpy(dtype=float)
        worst = self.items.iloc[int(np.nanargmax(d))] if np.isfinite(d).any() else None
        return {"reference": self.reference, "focal": len(self.focal),
                "items": self.items["item"].nunique(),
                "max_dmacs": float(np.nanmax(d)) if worst is not None else float("nan"),
                "item": worst["item"] if worst is not None else None}

    def to_frame(self) -> pd.DataFrame:
        return self.items.copy()

    def summary(self) -> Summary:
        facts = [("Reference group", self.reference), ("Focal groups", ", ".join(self.focal)),
                 ("Estimator", self.estimator), ("Missing data", self.missing),
                 ("Number of observations", self.n_obs)]
        facts += [(f"  group {g}", n) for g, n in self.n_obs_per_group.items()]
        items = self.items.set_index(["focal", "item"])[
            ["factor", "lambda_reference", "lambda_focal", "nu_reference", "nu_focal",
             "sd_pooled", "dmacs", "mean_difference"]]
        factors = self.factors.set_index(["focal", "factor"])[
            ["n_items", "sum_score_bias", "mean_score_bias"]]
        notes = ["dMACS = sqrt(E_F[(mu_F(eta) - mu_R(eta))^2]) / SD_pooled over the focal "
                 "group's latent distribution (Nye & Drasgow 2011); mean_difference and the "
                 "score biases are focal minus reference, in item / score units",
                 "the groups' latent scales must be linked (e.g. by invariant marker items or "
                 "constraints) for the parameters to be comparable"]
        if not self.converged:
            notes.append("the fit did not converge: these values are not trustworthy")
        if not self.admissible:
            notes.append("the fit is inadmissible: these values are not trustworthy")
        return Summary(title=f"dMACS (reference group {self.reference})", facts=tuple(facts),
                       tables=(("Items", items), ("Expected bias in scale scores", factors)),
                       notes=tuple(notes))


def _structure(est: pd.DataFrame, latent: set[str]) -> dict[str, str]:
    """item -> its factor, the same in every group; raises for other model shapes."""
    if (est["op"] == "~").any():
        raise SpecificationError("dMACS needs a measurement model: this fit has regressions "
                                 "(~); fit the CFA of the items alone")
    loads = est[est["op"] == "=~"]
    higher = sorted(set(loads["rhs"]) & latent)
    if higher:
        raise SpecificationError(f"dMACS needs first-order factors only; {higher} are "
                                 "indicators of a higher-order factor: fit the first-order model")
    out: dict[str, str] = {}
    for (item, _), rows in loads.groupby(["rhs", "group"], sort=False):
        factors = list(rows["lhs"])
        if len(factors) != 1:
            raise SpecificationError(f"dMACS needs each item to load on one factor; {item!r} "
                                     f"loads on {factors}: drop the cross-loading")
        if out.setdefault(item, factors[0]) != factors[0]:
            raise SpecificationError(f"item {item!r} loads on different factors in different "
                                     "groups; dMACS compares one item's parameters")
    return out


def _values(est: pd.DataFrame, op: str, g: int, self_cov: bool = False) -> dict[str, float]:
    rows = est[(est["op"] == op) & (est["group"] == g)]
    if self_cov:
        rows = rows[rows["lhs"] == rows["rhs"]]
    return dict(zip(rows["lhs"], rows["est"].astype(float), strict=True))


def dmacs(fit: CFAResult, *, reference: str | None = None) -> DMACSResult:
    """dMACS effect sizes of measurement non-equivalence per item (Nye & Drasgow 2011).

    For each item and each focal group F against the reference group R, the expected item
    score at latent value eta in group g is ``nu_g + lambda_g * eta``; dMACS is the root mean
    squared difference of the two groups' expected scores over the focal group's latent
    distribution, in units of the item's pooled within-group standard deviation. It assumes a
    linear factor model with normal factors and latent scales linked across groups (a fit
    whose latent means and variances are comparable: marker items or invariance constraints).

    Parameters
    ----------
    fit : CFAResult
        A multi-group CFA (``pv.cfa(model, data, group=...)``) of continuous indicators, each
        loading on one factor.
    reference : str, optional
        The reference group's label; the first group of the fit by default.

    Returns
    -------
    DMACSResult
        ``items`` (dMACS and the signed mean difference per item and focal group) and
        ``factors`` (expected bias in each factor's sum and mean score).

    Raises
    ------
    SpecificationError
        For a one-group fit, ordered indicators, cross-loadings, higher-order factors or
        regressions, or an unknown reference group.

    Notes
    -----
    With ``a = nu_F - nu_R`` and ``b = lambda_F - lambda_R`` the difference at eta is
    ``a + b * eta``, and with eta ~ N(kappa_F, phi_F) in the focal group

    .. math::

        d_{MACS} = \\frac{1}{SD_p}\\sqrt{\\int (a + b\\eta)^2 f_F(\\eta)\\,d\\eta}
                 = \\frac{\\sqrt{(a + b\\kappa_F)^2 + b^2\\phi_F}}{SD_p},
        \\qquad SD_p = \\sqrt{\\frac{(n_R - 1)s_R^2 + (n_F - 1)s_F^2}{n_R + n_F - 2}}

    (the closed form of Nye & Drasgow's integral, exact for continuous indicators;
    ``s_g`` are the items' sample SDs with divisor ``n_g - 1``, under FIML the SDs of the
    EM-estimated covariance matrix). ``mean_difference`` is ``a + b * kappa_F`` (their
    equation 4, focal minus reference: negative means the focal group's item scores are
    expected lower than the reference group's would be at the same latent values), and a
    factor's sum-score bias is the sum of its items' mean differences.

    References
    ----------
    Nye, C. D., & Drasgow, F. (2011). Effect size indices for analyses of measurement
    equivalence: Understanding the practical importance of differences between groups.
    Journal of Applied Psychology, 96(5), 966-980. https://doi.org/10.1037/a0022955

    Examples
    --------
    >>> import psychoval as pv
    >>> from psychoval.datasets import sample_framework
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     scored = sample_framework().score(pv.load_sample())
    >>> x = scored.scores.assign(job_family=scored.covariates["job_family"])
    >>> fit = pv.cfa("data =~ DAT1 + DAT2 + DAT3 + DAT4", x, group="job_family",
    ...              missing="fiml")
    >>> res = pv.dmacs(fit)
    >>> res.reference, len(res.items) == 4 * len(res.focal)
    ('product', True)
    """
    if not isinstance(fit, CFAResult):
        raise SpecificationError(f"dmacs needs a multi-group CFA result (pv.cfa(model, data, "
                                 f"group=...)); got {type(fit).__name__}")
    if isinstance(fit, OrdinalCFAResult):
        raise SpecificationError("dmacs is for continuous indicators; this fit has ordered "
                                 "indicators (their expected item score is not linear in the "
                                 "factor)")
    labels = list(fit.group_labels)
    if len(labels) < 2:
        raise SpecificationError("dmacs compares groups: fit the CFA with group= (a column "
                                 "naming each respondent's group)")
    if reference is None:
        reference = labels[0]
    reference = str(reference)
    if reference not in labels:
        raise SpecificationError(f"reference group {reference!r} is not a group of the fit; "
                                 f"its groups are {labels}")
    est = fit.estimates()
    item_factor = _structure(est, set(fit.latent))
    n_g = fit.n_obs_per_group
    covs = fit.sample_cov
    r = labels.index(reference) + 1
    lam_r = {(lhs, rhs): v for lhs, rhs, v in zip(
        *(est.loc[(est["op"] == "=~") & (est["group"] == r), c] for c in ("lhs", "rhs", "est")),
        strict=True)}
    nu_r = _values(est, "~1", r)
    var_r = np.diag(covs[reference].to_numpy()) * n_g[reference]  # (n - 1) * s^2
    observed = list(covs[reference].index)
    items_rows: list[dict[str, Any]] = []
    factor_rows: list[dict[str, Any]] = []
    for g, focal in enumerate(labels, start=1):
        if focal == reference:
            continue
        lam_f = {(lhs, rhs): v for lhs, rhs, v in zip(
            *(est.loc[(est["op"] == "=~") & (est["group"] == g), c]
              for c in ("lhs", "rhs", "est")), strict=True)}
        nu_f = _values(est, "~1", g)
        kappa = _values(est, "~1", g)
        phi = _values(est, "~~", g, self_cov=True)
        var_f = np.diag(covs[focal].to_numpy()) * n_g[focal]
        sd_p = np.sqrt((var_r + var_f) / (n_g[reference] + n_g[focal] - 2))
        for item, factor in item_factor.items():
            a = nu_f.get(item, 0.0) - nu_r.get(item, 0.0)
            b = lam_f[(factor, item)] - lam_r[(factor, item)]
            k = kappa.get(factor, 0.0)
            diff = a + b * k
            sd = float(sd_p[observed.index(item)])
            items_rows.append({
                "item": item, "factor": factor, "reference": reference, "focal": focal,
                "lambda_reference": lam_r[(factor, item)], "lambda_focal": lam_f[(factor, item)],
                "nu_reference": nu_r.get(item, 0.0), "nu_focal": nu_f.get(item, 0.0),
                "kappa_focal": k, "phi_focal": phi[factor], "sd_pooled": sd,
                "dmacs": float(np.sqrt(diff ** 2 + b ** 2 * phi[factor])) / sd,
                "mean_difference": diff})
        here = pd.DataFrame(items_rows[-len(item_factor):])
        for factor, rows in here.groupby("factor", sort=False):
            bias = float(rows["mean_difference"].sum())
            factor_rows.append({"factor": factor, "reference": reference, "focal": focal,
                                "n_items": len(rows), "sum_score_bias": bias,
                                "mean_score_bias": bias / len(rows)})
    return DMACSResult(
        items=pd.DataFrame(items_rows, columns=_ITEM_COLUMNS),
        factors=pd.DataFrame(factor_rows, columns=_FACTOR_COLUMNS),
        reference=reference, focal=tuple(lab for lab in labels if lab != reference),
        n_obs_per_group=dict(n_g), n_obs=fit.n_obs, n_total=fit.n_total, missing=fit.missing,
        estimator=fit.estimator, converged=fit.converged, admissible=fit.admissible)
