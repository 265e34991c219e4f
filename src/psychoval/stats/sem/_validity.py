"""Validity evidence around a CFA: HTMT and the per-competency (one-factor) omega.

``htmt`` follows semTools 0.5.6 ``htmt()``: correlations of the listwise-complete data, absolute
values, HTMT2 (geometric means; Roemer, Schuberth & Henseler 2021) by default or the original
HTMT (arithmetic means; Henseler, Ringle & Sarstedt 2015).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import apply_missing, as_item_matrix, check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import SpecificationError
from psychoval.framework._syntax import model_to_formulas

__all__ = ["htmt", "HTMTResult", "one_factor_omega", "OneFactorOmega"]


@dataclasses.dataclass(frozen=True, repr=False)
class HTMTResult(Result):
    """Heterotrait-monotrait ratios between the factors of a measurement model.

    Attributes
    ----------
    htmt : DataFrame
        Symmetric factors x factors matrix (1 on the diagonal).
    method : str
        ``"htmt2"`` (geometric means) or ``"htmt"`` (arithmetic means).
    n_obs : int
        Complete rows used (listwise).
    """

    _schema: ClassVar[str] = "psychoval.htmt/1"
    htmt: pd.DataFrame
    method: str
    absolute: bool
    n_obs: int
    rows_dropped: tuple[int, ...]

    def _repr_fields(self) -> dict[str, Any]:
        vals = self.htmt.to_numpy()
        off = vals[~np.eye(len(vals), dtype=bool)]
        return {"method": self.method, "factors": len(vals),
                "max": float(np.nanmax(off)) if off.size else float("nan")}

    def to_frame(self) -> pd.DataFrame:
        rows = []
        names = list(self.htmt.index)
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                rows.append({"factor_1": names[i], "factor_2": names[j],
                             "htmt": self.htmt.iloc[i, j]})
        return pd.DataFrame(rows, columns=["factor_1", "factor_2", "htmt"])

    def summary(self) -> Summary:
        return Summary(
            f"Heterotrait-monotrait ratio ({self.method.upper()})",
            facts=(("Method", self.method), ("Absolute correlations", self.absolute),
                   ("Complete rows used", self.n_obs)),
            tables=(("HTMT", self.htmt),),
            notes=("Cutoffs: 0.85 (Kline; Henseler et al. 2015) and 0.90 (Gold et al. 2001) "
                   "were defined for the original HTMT; Roemer et al. (2021) apply the same "
                   "values to HTMT2.",),
        )


def htmt(data: Any, model: Any, *, method: str = "htmt2", absolute: bool = True,
         missing: str = "listwise") -> HTMTResult:
    """Heterotrait-monotrait ratio of correlations (semTools::htmt).

    For factors i and j, the mean correlation between their items divided by the geometric
    mean of the mean correlations within each factor. A discriminant-validity statistic that
    needs no fitted model.

    Parameters
    ----------
    data : DataFrame or ResponseTable
        Responses; columns include every item of the model.
    model : str, dict or Framework
        The measurement model (only its ``=~`` lines are used).
    method : {"htmt2", "htmt"}
        ``"htmt2"`` (semTools 0.5.6's default, ``htmt2 = TRUE``): geometric means of the
        absolute correlations; ``"htmt"``: arithmetic means (Henseler et al. 2015).
    absolute : bool
        Use absolute correlations (semTools' default; always the case for HTMT2).
    missing : {"listwise", "raise"}

    Returns
    -------
    HTMTResult

    Raises
    ------
    SpecificationError
        An item of the model is not a column of the data; a bad option.

    Notes
    -----
    ``HTMT_ij = m(R_ij) / sqrt(m(R_ii) m(R_jj))`` with ``m`` the arithmetic (HTMT) or
    geometric (HTMT2) mean over the heterotrait block R_ij and the off-diagonal monotrait
    block R_ii. The 0.85 / 0.90 cutoffs were proposed for HTMT; Roemer et al. use them for
    HTMT2 as well.

    References
    ----------
    Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing
    discriminant validity in variance-based structural equation modeling. Journal of the
    Academy of Marketing Science, 43(1), 115-135. https://doi.org/10.1007/s11747-014-0403-8

    Roemer, E., Schuberth, F., & Henseler, J. (2021). HTMT2 - an improved criterion for
    assessing discriminant validity in structural equation modeling. Industrial Management &
    Data Systems, 121(12), 2637-2650. https://doi.org/10.1108/IMDS-02-2021-0082

    Examples
    --------
    >>> import psychoval as pv
    >>> from psychoval.datasets import load_holzinger_swineford
    >>> res = pv.htmt(load_holzinger_swineford(), "visual =~ x1 + x2 + x3\\n textual =~ x4 + x5 + x6")
    >>> round(float(res.htmt.loc["visual", "textual"]), 4)  # semTools::htmt(model, data = dat)
    0.3841
    """
    check_choice("method", method, ("htmt2", "htmt"))
    check_choice("missing", missing, ("listwise", "raise"))
    formulas, _ = model_to_formulas(model)
    blocks: dict[str, list[str]] = {}
    for f in formulas:
        if f.op == "=~":
            blocks.setdefault(f.lhs, []).extend(t.name for t in f.rhs)
    if not blocks:
        raise SpecificationError("htmt needs a measurement model with 'factor =~ items' lines")
    items: list[str] = []
    for v in blocks.values():
        for it in v:
            if it not in items:
                items.append(it)
    cols = [str(c) for c in data.columns] if isinstance(data, pd.DataFrame) else None
    if cols is not None:
        absent = [i for i in items if i not in cols]
        if absent:
            raise SpecificationError(
                f"item(s) {', '.join(map(repr, absent))} of the model are not columns of the "
                "data; check the spelling"
            )
    m = as_item_matrix(data, items=items, min_rows=3, what="data")
    m, info = apply_missing(m, missing, allowed=("listwise", "raise"), min_rows=3)
    x = m.values - m.values.mean(axis=0)
    c = x.T @ x
    sd = np.sqrt(np.diag(c))
    r = c / np.outer(sd, sd)
    geo = method == "htmt2"
    if absolute or geo:
        r = np.abs(r)
    np.fill_diagonal(r, np.nan)
    idx = {i: k for k, i in enumerate(items)}
    names = list(blocks)

    def mean(block: np.ndarray) -> float:
        v = block[~np.isnan(block)]
        if v.size == 0:
            return float("nan")
        return float(np.exp(np.mean(np.log(v)))) if geo else float(np.mean(v))

    ix = [[idx[i] for i in blocks[f]] for f in names]
    within = [mean(r[np.ix_(a, a)]) for a in ix]
    out = np.empty((len(names), len(names)))
    for i, a in enumerate(ix):
        for j, b in enumerate(ix):
            out[i, j] = mean(r[np.ix_(a, b)]) / np.sqrt(within[i] * within[j])
    return HTMTResult(htmt=pd.DataFrame(out, index=names, columns=names), method=method,
                      absolute=bool(absolute or geo), n_obs=m.n, rows_dropped=info.rows_dropped)


@dataclasses.dataclass(frozen=True, repr=False)
class OneFactorOmega(Result):
    """McDonald's omega of one competency from a one-factor CFA (semTools::compRelSEM)."""

    _schema: ClassVar[str] = "psychoval.one_factor_omega/1"
    omega: float
    ave: float
    items: tuple[str, ...]
    std_loadings: pd.Series
    n_obs: int
    fit: Any = dataclasses.field(repr=False)

    def _repr_fields(self) -> dict[str, Any]:
        return {"omega": self.omega, "ave": self.ave, "items": len(self.items),
                "n_obs": self.n_obs}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"item": list(self.items),
                             "std_loading": self.std_loadings.to_numpy()})

    def summary(self) -> Summary:
        return Summary("Omega from a one-factor CFA (compRelSEM, obs.var = TRUE)",
                       facts=tuple(self._repr_fields().items()),
                       tables=(("Standardized loadings", self.to_frame().set_index("item")),))

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.pop("fit", None)
        return out


def one_factor_omega(data: Any, *, items: list[str] | None = None,
                     missing: str = "listwise") -> OneFactorOmega:
    """Per-competency omega: composite reliability of a one-factor ML CFA of ``items``.

    Equals ``semTools::compRelSEM(cfa("f =~ items", data))`` (obs.var = TRUE). With 3 items
    the model is just-identified (df = 0); 2 items cannot be fitted (SpecificationError).

    Examples
    --------
    >>> from psychoval.stats import one_factor_omega
    >>> from psychoval.datasets import load_holzinger_swineford
    >>> round(one_factor_omega(load_holzinger_swineford(), items=["x4", "x5", "x6"]).omega, 4)
    0.8859
    """
    from psychoval.stats.sem._cfa import cfa

    if items is None:
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError("give items= (the competency's columns)")
        items = [str(c) for c in data.columns]
    items = list(items)
    fit = cfa({"f": items}, data, missing=missing)
    std = fit.standardized()
    load = std[std["op"] == "=~"].set_index("rhs")["est_std"]
    return OneFactorOmega(omega=float(fit.composite_reliability()["f"]),
                          ave=float(fit.ave()["f"]), items=tuple(items),
                          std_loadings=load.rename("std_loading"), n_obs=fit.n_obs, fit=fit)
