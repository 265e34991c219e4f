"""Added value of subscores (Haberman 2008): does a competency score predict the competency's
true score better than the total score does?"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import apply_missing, as_item_matrix, check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.core._moments import alpha_from_cov

__all__ = ["subscore_value", "SubscoreValueResult"]

_COLUMNS = ["subscore", "n_items", "alpha", "prmse_s", "prmse_x", "prmse_sx",
            "value_added_ratio", "report_separately", "decision"]


@dataclasses.dataclass(frozen=True, repr=False)
class SubscoreValueResult(Result):
    """Haberman's PRMSE of each subscore from the subscore, the total and both.

    Attributes
    ----------
    table : DataFrame
        One row per subscore: ``n_items``, ``alpha`` (the reliability used, Cronbach's alpha
        of the subscore's items), ``prmse_s`` (proportional reduction in mean squared error of
        the true subscore predicted from the observed subscore; equals its reliability),
        ``prmse_x`` (from the total score), ``prmse_sx`` (from both: Haberman's augmented
        subscore), ``value_added_ratio`` (prmse_s / prmse_x; Feinberg & Wainer 2014),
        ``report_separately`` (prmse_s > prmse_x) and ``decision`` ("report separately" /
        "do not report separately"). NaN, with a note, where a subscore's alpha is not
        positive (no true-score variance to predict).
    true_correlations : DataFrame
        Correlations of the true subscores (disattenuated by the alphas); values near 1 say
        the subscores measure the same thing.
    total_alpha : float
        Alpha of all items together (information; the PRMSEs use the subscores' alphas).
    stratified_alpha : float
        Reliability of the total implied by the subscores' alphas (stratified alpha), the one
        consistent with the PRMSEs.
    n_total, n_used : int
    rows_dropped : tuple of int
        Rows left out because an item was missing (listwise), as 0-based positions.
    missing : str
    notes : tuple of str
    """

    _schema: ClassVar[str] = "psychoval.subscore_value/1"
    table: pd.DataFrame
    true_correlations: pd.DataFrame
    total_alpha: float
    stratified_alpha: float
    n_total: int
    n_used: int
    rows_dropped: tuple[int, ...]
    missing: str
    notes: tuple[str, ...]

    def _repr_fields(self) -> dict[str, Any]:
        return {"subscores": len(self.table),
                "report_separately": int(self.table["report_separately"].sum()),
                "n_used": self.n_used}

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        facts = (("Subscores", len(self.table)), ("Alpha of all items", self.total_alpha),
                 ("Stratified alpha of the total", self.stratified_alpha),
                 ("Respondents used", self.n_used),
                 ("Rows dropped (listwise)", len(self.rows_dropped)))
        notes = ("PRMSE: proportional reduction in mean squared error of the true subscore "
                 "(Haberman 2008); a subscore adds value over the total when PRMSE_s > "
                 "PRMSE_x",) + self.notes
        return Summary(title="Added value of subscores (Haberman 2008)", facts=facts,
                       tables=(("Subscores", self.table.set_index("subscore")),
                               ("True-score correlations", self.true_correlations)),
                       notes=notes)


def _subscore_map(data: Any, framework: Any, subscores: Any, tier: str | None
                  ) -> tuple[Any, dict[str, list[str]]]:
    if framework is not None and subscores is not None:
        raise SpecificationError("give framework= or subscores=, not both")
    if framework is not None:
        from psychoval.framework import Framework
        from psychoval.framework._scoring import ScoredResponses

        if not isinstance(framework, Framework):
            raise SpecificationError("framework= must be a Framework (pv.read_framework)")
        if not isinstance(data, ScoredResponses):
            data = framework.score(data)
        data = data.scores
        comps = framework.tier(tier).competencies if tier is not None else \
            framework.competencies
        return data, {c.id: list(c.item_ids) for c in comps}
    if tier is not None:
        raise SpecificationError("tier= selects competencies of framework=; give framework=")
    if not isinstance(subscores, Mapping) or not subscores:
        raise SpecificationError(
            "give subscores={name: [items]} (e.g. {'data': ['d1', 'd2', 'd3'], 'tools': "
            "['t1', 't2', 't3']}) or framework=")
    out: dict[str, list[str]] = {}
    for name, members in subscores.items():
        if isinstance(members, str) or not isinstance(members, Sequence):
            raise SpecificationError(f"subscores[{name!r}] must be a list of item names")
        out[str(name)] = [str(i) for i in members]
    return data, out


def subscore_value(data: Any, *, framework: Any = None,
                   subscores: Mapping[str, Sequence[str]] | None = None,
                   tier: str | None = None, missing: str = "listwise") -> SubscoreValueResult:
    """Added value of subscores: Haberman's (2008) PRMSE of each subscore from the observed
    subscore, the total score and both.

    Each subscore's true score is predicted linearly from (a) the observed subscore, (b) the
    total score (sum of all subscores) and (c) both (Haberman's augmented subscore). PRMSE is
    the proportional reduction in mean squared error of that prediction, relative to
    predicting the mean. A subscore is worth reporting on its own when it predicts its true
    score better than the total does: PRMSE_s > PRMSE_x. Classical test theory with
    uncorrelated errors across subscores; alpha of each subscore is the reliability used.

    Parameters
    ----------
    data : DataFrame, ResponseTable, scored responses or 2-d array
        Item scores, respondents x items (raw responses with ``framework=`` are scored by it).
    framework : Framework, optional
        The competencies are the subscores (all of them, or those of ``tier``).
    subscores : mapping of str to list of str, optional
        Subscore name -> its items, when no framework is given. Each subscore needs at least
        2 items, items may not be shared, and at least two subscores are needed.
    tier : str, optional
        With ``framework=``: only this tier's competencies (the total is their sum).
    missing : {"listwise", "raise"}
        Rows with a missing item are left out (counted and recorded), or raise.

    Returns
    -------
    SubscoreValueResult

    Raises
    ------
    SpecificationError
        Neither or both of framework / subscores; a subscore with fewer than 2 items; an item
        in two subscores; fewer than two subscores.
    DataError
        Items not in the data, non-numeric responses, too few complete rows, a subscore or
        total without variance.

    Notes
    -----
    With observed subscores s_k (sums of their items), total x = sum_k s_k, alpha_k, and the
    true-score covariance matrix T (the observed covariances, with alpha_k var(s_k) on the
    diagonal): var(tau_k) = alpha_k var(s_k), cov(tau_k, x) = sum_l T_kl.

    - PRMSE_s = alpha_k (the squared correlation of s_k with tau_k);
    - PRMSE_x = cov(tau_k, x)^2 / (var(tau_k) var(x));
    - PRMSE_sx = c' S^-1 c / var(tau_k), c = (var(tau_k), cov(tau_k, x)), S the covariance
      matrix of (s_k, x) - the best linear predictor from both.

    These equal the R package subscore's (CTTsub, method "Haberman"): its PRMSE.x and
    PRMSE.sx are algebraically the same expressions (the total's reliability cancels).

    References
    ----------
    Haberman, S. J. (2008). When can subscores have value? Journal of Educational and
    Behavioral Statistics, 33(2), 204-229. https://doi.org/10.3102/1076998607302636
    Sinharay, S. (2010). How often do subscores have added value? Results from operational
    and simulated data. Journal of Educational Measurement, 47(2), 150-174.
    https://doi.org/10.1111/j.1745-3984.2010.00106.x
    Feinberg, R. A., & Wainer, H. (2014). A simple equation to predict a subscore's value.
    Educational Measurement: Issues and Practice, 33(3), 55-56.
    https://doi.org/10.1111/emip.12035

    Examples
    --------
    >>> import numpy as np, pandas as pd, psychoval as pv
    >>> rng = np.random.default_rng(3)
    >>> t = rng.multivariate_normal([0, 0], [[1, .5], [.5, 1]], size=3000)
    >>> x = np.repeat(t, 6, axis=1) + rng.normal(size=(3000, 12))
    >>> df = pd.DataFrame(x, columns=[f"a{i}" for i in range(6)] + [f"b{i}" for i in range(6)])
    >>> res = pv.subscore_value(df, subscores={"a": list(df.columns[:6]),
    ...                                        "b": list(df.columns[6:])})
    >>> res.table["decision"].tolist()
    ['report separately', 'report separately']
    """
    check_choice("missing", missing, ("listwise", "raise"))
    data, subs = _subscore_map(data, framework, subscores, tier)
    if len(subs) < 2:
        raise SpecificationError(
            f"subscore value compares a subscore with the total of at least two subscores; got "
            f"{len(subs)} ({list(subs)})")
    seen: dict[str, str] = {}
    for name, members in subs.items():
        if len(members) < 2:
            raise SpecificationError(f"subscore {name!r} has {len(members)} item(s); alpha "
                                     "needs at least 2")
        for i in members:
            if i in seen:
                raise SpecificationError(f"item {i!r} is in subscores {seen[i]!r} and {name!r}; "
                                         "each item may count in one subscore only")
            seen[i] = name
    items = list(seen)
    m = as_item_matrix(data, items=items, min_items=2, what="data")
    m, info = apply_missing(m, missing, allowed=("listwise", "raise"), min_rows=3)
    notes: list[str] = []
    if info.rows_dropped:
        notes.append(f"listwise deletion left out {len(info.rows_dropped)} of {info.n_total} "
                     f"rows ({len(info.rows_dropped) / info.n_total:.0%}) with a missing item")
    col = {name: j for j, name in enumerate(m.items)}
    names = list(subs)
    v = m.values
    s = np.column_stack([v[:, [col[i] for i in subs[k]]].sum(axis=1) for k in names])
    x = s.sum(axis=1)
    cov_s = np.cov(s, rowvar=False)
    var_x = float(np.var(x, ddof=1))
    if var_x <= 0 or np.any(np.diag(cov_s) <= 0):
        k = names[int(np.argmin(np.diag(cov_s)))] if np.any(np.diag(cov_s) <= 0) else "total"
        raise DataError(f"subscore {k!r} does not vary in the rows used: no PRMSE exists")
    alphas = np.array([float(alpha_from_cov(np.cov(v[:, [col[i] for i in subs[k]]],
                                                   rowvar=False))) for k in names])
    true_cov = cov_s.copy()
    np.fill_diagonal(true_cov, alphas * np.diag(cov_s))
    vt = np.diag(true_cov)
    cov_tx = true_cov.sum(axis=1)
    rows = []
    for k, name in enumerate(names):
        if not alphas[k] > 0:
            notes.append(f"{name}: alpha {alphas[k]:.4g} is not positive - no true-score "
                         "variance to predict; its PRMSEs are NaN")
            ps = px = psx = math.nan
        else:
            ps = float(alphas[k])
            px = float(cov_tx[k] ** 2 / (vt[k] * var_x))
            sig = np.array([[cov_s[k, k], cov_s[k].sum()], [cov_s[k].sum(), var_x]])
            c = np.array([vt[k], cov_tx[k]])
            try:
                psx = float(c @ np.linalg.solve(sig, c) / vt[k])
            except np.linalg.LinAlgError:
                psx = math.nan
                notes.append(f"{name}: the subscore and the total are collinear; PRMSE_sx NaN")
        report = bool(ps > px) if math.isfinite(ps) and math.isfinite(px) else False
        rows.append({"subscore": name, "n_items": len(subs[name]), "alpha": float(alphas[k]),
                     "prmse_s": ps, "prmse_x": px, "prmse_sx": psx,
                     "value_added_ratio": ps / px if px and math.isfinite(px) else math.nan,
                     "report_separately": report,
                     "decision": ("report separately" if report else "do not report separately")
                     if math.isfinite(ps) else "not estimable"})
        if math.isfinite(px) and px > 1:
            notes.append(f"{name}: PRMSE_x {px:.4g} exceeds 1 (alpha underestimates a "
                         "reliability here); read the decision with care")
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(np.where(vt > 0, vt, np.nan))
        tc = true_cov / np.outer(sd, sd)
    total_alpha = float(alpha_from_cov(np.cov(v, rowvar=False)))
    strat = float(1 - np.sum((1 - alphas) * np.diag(cov_s)) / var_x)
    return SubscoreValueResult(
        table=pd.DataFrame(rows, columns=_COLUMNS),
        true_correlations=pd.DataFrame(tc, index=names, columns=names),
        total_alpha=total_alpha, stratified_alpha=strat, n_total=info.n_total,
        n_used=info.n_used, rows_dropped=info.rows_dropped, missing=missing,
        notes=tuple(notes))
