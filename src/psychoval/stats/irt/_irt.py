"""pv.irt: unidimensional IRT models by marginal maximum likelihood (Bock-Aitkin EM), person
scores, item and test information.

Length: about 760 lines - the public function, its input checks, the model layout, the
reported parameterizations with their delta-method SEs, the conditional-ML result and the
result class with its scoring, information and item-fit methods belong together; the estimators
themselves are in ``_estimate`` (MML) and ``_cml`` (CML), the item response functions in
``_models``, the response coding in ``_data``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import (
    ConvergenceWarning,
    DataError,
    ImproperSolutionWarning,
    SpecificationError,
    warn,
)
from psychoval.stats.irt import _cml, _data, _estimate, _itemfit, _models

__all__ = ["irt", "IRTResult"]

MODELS = ("Rasch", "1PL", "2PL", "3PL", "GRM", "GPCM", "PCM")
_COMMON_SLOPE = ("Rasch", "1PL", "PCM")
_RASCH_SCALE = ("Rasch", "PCM")  # slope 1, latent standard deviation estimated
_GUESS_BOUND = 15.0


@dataclasses.dataclass(frozen=True)
class _Layout:
    """How the item parameters are laid out: per item its kind, categories and positions."""

    kinds: tuple[str, ...]
    ncat: tuple[int, ...]
    pidx: tuple[tuple[int, ...], ...]

    def blocks(self, cols_offset: np.ndarray | None = None) -> list[_estimate.Block]:
        groups: dict[tuple[str, int], list[int]] = {}
        for j, (kind, k) in enumerate(zip(self.kinds, self.ncat, strict=True)):
            groups.setdefault((kind, k), []).append(j)
        out = []
        for (kind, k), js in groups.items():
            ix = np.asarray(js)
            off = cols_offset if cols_offset is not None else np.zeros(len(self.kinds), int)
            cols = off[ix][:, None] + np.arange(k)[None, :]
            pidx = np.asarray([self.pidx[j] for j in js])
            out.append(_estimate.Block(kind, k, ix, cols, pidx))
        return out


def _layout(model: str, ncat: list[int]) -> _Layout:
    kinds, pidx, pos = [], [], 0
    for k in ncat:
        kind = "3pl" if model == "3PL" else "grm" if model == "GRM" else "gpcm"
        p = _models.n_params(kind, k)
        kinds.append(kind)
        pidx.append(tuple(range(pos, pos + p)))
        pos += p
    return _Layout(tuple(kinds), tuple(ncat), tuple(pidx))


def _constraints(model: str, lay: _Layout, slope: float | None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The map from the free parameters to the item parameters: beta = A phi + b0."""
    n = sum(len(p) for p in lay.pidx)
    if model not in _COMMON_SLOPE:
        return np.eye(n), np.zeros(n)
    others = [i for p in lay.pidx for i in p[1:]]
    shared = 0 if slope is None else -1
    free = (1 if slope is None else 0) + len(others)
    a = np.zeros((n, free))
    b0 = np.zeros(n)
    for p in lay.pidx:
        if slope is None:
            a[p[0], 0] = 1.0
        else:
            b0[p[0]] = slope
    for col, i in enumerate(others, start=shared + 1):
        a[i, col] = 1.0
    return a, b0


def _start(model: str, lay: _Layout, codes: np.ndarray, a: np.ndarray, b0: np.ndarray
           ) -> np.ndarray:
    beta = np.zeros(a.shape[0])
    for j, (kind, k, p) in enumerate(zip(lay.kinds, lay.ncat, lay.pidx, strict=True)):
        col = codes[:, j]
        col = col[col >= 0]
        n = np.bincount(col, minlength=k).astype(float) + 0.5
        beta[p[0]] = 1.0
        ge = np.cumsum(n[::-1])[::-1] / n.sum()  # P(X >= k)
        if kind == "gpcm":
            beta[list(p[1:])] = np.cumsum(np.log(n[1:] / n[:-1]))
        elif kind == "grm":
            beta[list(p[1:])] = np.log(ge[1:] / (1 - ge[1:]))
        else:
            beta[p[1]] = math.log(ge[1] / (1 - ge[1]))
            beta[p[2]] = math.log(0.1 / 0.9)
    return np.linalg.lstsq(a, beta - b0, rcond=None)[0]


def _report(model: str, items: tuple[str, ...], lay: _Layout, beta: np.ndarray
            ) -> tuple[list[tuple[str, str]], np.ndarray]:
    """The reported parameters (IRT parameterization) as (item, parameter) labels and values."""
    labels: list[tuple[str, str]] = []
    vals: list[float] = []
    rasch = model in _RASCH_SCALE
    for name, kind, k, p in zip(items, lay.kinds, lay.ncat, lay.pidx, strict=True):
        b = beta[list(p)]
        a = b[0]
        if kind == "3pl":
            c = 1.0 / (1.0 + math.exp(-b[2]))
            pairs = [("a", a), ("b", -b[1] / a), ("c", c), ("d", b[1])]
        elif kind == "grm":
            pairs = [("a", a)] + [(f"b{v}", -b[v] / a) for v in range(1, k)] \
                + [(f"d{v}", b[v]) for v in range(1, k)]
        else:
            steps = np.diff(np.concatenate([[0.0], b[1:]]))
            if rasch:  # on the Rasch scale (slope 1): step thresholds -(c_v - c_{v-1})
                names = ["b"] if k == 2 else [f"b{v}" for v in range(1, k)]
                pairs = list(zip(names, -steps, strict=True))
            elif k == 2:
                pairs = [("a", a), ("b", -b[1] / a), ("d", b[1])]
            else:
                pairs = [("a", a)] + [(f"b{v}", -steps[v - 1] / a) for v in range(1, k)] \
                    + [(f"d{v}", b[v]) for v in range(1, k)]
        for lab, v in pairs:
            labels.append((name, lab))
            vals.append(float(v))
    if rasch:
        a = beta[lay.pidx[0][0]]
        labels.append(("theta", "variance"))
        vals.append(float(a * a))
    return labels, np.asarray(vals)


@dataclasses.dataclass(frozen=True, repr=False)
class IRTResult(Result):
    """A fitted unidimensional IRT model.

    Attributes
    ----------
    model : str
        ``"Rasch"``, ``"1PL"``, ``"2PL"``, ``"3PL"``, ``"GRM"``, ``"GPCM"`` or ``"PCM"``.
    method : str
        ``"MML"`` (marginal maximum likelihood, EM) or ``"CML"`` (conditional ML).
    items : tuple of str
    estimates : DataFrame
        One row per reported parameter: ``item``, ``parameter``, ``est``, ``se`` (NaN for a
        fixed parameter or when SEs were not asked for), ``z``. Parameters: ``a`` slope,
        ``b`` difficulty (``b1``... thresholds of polytomous items), ``c`` guessing, ``d``
        intercepts (mirt's slope-intercept form: ``a theta + d``); Rasch and PCM report the
        difficulties on the Rasch scale (slope 1) and the latent ``variance`` (item
        ``"theta"``).
    categories : dict
        Each item's response values; category k of the model is the k-th value (sorted).
    loglik, aic, bic : float
        Marginal log-likelihood and the information criteria (n = respondents used).
    n_parameters : int
        Free parameters.
    n_used, n_total : int
        Respondents used and given; ``rows_dropped`` the positions of the rows without any
        response (dropped).
    n_patterns : int
        Distinct response patterns the likelihood was computed over.
    iterations, em_iterations : int
        Iterations in all, and of them EM cycles (the rest are Newton steps).
    converged : bool
        The last step changed no parameter by more than ``tol``.
    max_gradient : float
        Largest absolute gradient of the marginal log-likelihood at the estimate.
    quadrature : str
        The quadrature, e.g. ``"61 equally spaced points on [-6, 6]"``.
    se_method : str
        ``"observed"``, ``"crossprod"`` or ``"none"`` (what ``se="auto"`` chose).
    """

    _schema: ClassVar[str] = "psychoval.irt/1"
    model: str
    method: str
    items: tuple[str, ...]
    estimates: pd.DataFrame
    categories: dict[str, tuple[float, ...]]
    loglik: float
    aic: float
    bic: float
    n_parameters: int
    n_used: int
    n_total: int
    rows_dropped: tuple[int, ...]
    n_patterns: int
    iterations: int
    em_iterations: int
    converged: bool
    max_gradient: float
    quadrature: str
    se_method: str
    _beta: np.ndarray = dataclasses.field(repr=False)
    _layout: _Layout = dataclasses.field(repr=False)
    _nodes: np.ndarray = dataclasses.field(repr=False)
    _weights: np.ndarray = dataclasses.field(repr=False)
    _scale: float = dataclasses.field(repr=False)
    _cov: np.ndarray | None = dataclasses.field(repr=False)
    _codes: np.ndarray = dataclasses.field(repr=False)
    _ids: Any = dataclasses.field(repr=False)
    _kept: np.ndarray = dataclasses.field(repr=False)
    _amap: np.ndarray | None = dataclasses.field(default=None, repr=False)
    _b0: np.ndarray | None = dataclasses.field(default=None, repr=False)

    def _repr_fields(self) -> dict[str, Any]:
        return {"model": self.model, "items": len(self.items), "n_used": self.n_used,
                "loglik": self.loglik, "converged": self.converged}

    @property
    def parameters(self) -> pd.DataFrame:
        """The estimates as a table: one row per item, one column per parameter."""
        est = self.estimates[self.estimates["item"] != "theta"]
        wide = est.pivot(index="item", columns="parameter", values="est")
        order = sorted(wide.columns, key=lambda c: ("abcd".find(c[0]), len(c), c))
        return wide.loc[list(self.items), order]

    def to_frame(self) -> pd.DataFrame:
        return self.estimates.copy()

    def summary(self) -> Summary:
        how = "EM, then Newton" if self.method == "MML" else "Newton, given the raw scores"
        facts = (("Model", self.model), ("Estimation", f"{self.method} ({how})"),
                 ("Quadrature", self.quadrature), ("Respondents used", self.n_used),
                 ("Rows dropped (no responses)", len(self.rows_dropped)),
                 ("Distinct patterns", self.n_patterns), ("Log-likelihood", self.loglik),
                 ("AIC", self.aic), ("BIC", self.bic), ("Free parameters", self.n_parameters),
                 ("Iterations", self.iterations), ("Converged", self.converged),
                 ("Standard errors", self.se_method))
        tables = [("Item parameters", self.parameters)]
        if self.model in _RASCH_SCALE and self.method == "MML":
            lat = self.estimates[self.estimates["item"] == "theta"].set_index("parameter")
            tables.append(("Latent distribution", lat[["est", "se"]]))
        notes = ["slope-intercept form a*theta + d; b = -d/a (difficulty / thresholds); "
                 "theta ~ N(0, 1)" + (" times the estimated standard deviation" if self.model
                                      in _RASCH_SCALE else "")]
        if self.method == "CML":
            notes = ["conditional ML: the log-likelihood is conditional on the raw scores; "
                     "thresholds normalised to sum zero (psychotools' itempar / threshpar)"]
        return Summary(title=f"IRT: {self.model}", facts=facts, tables=tuple(tables),
                       notes=tuple(notes))

    # -- person scores -------------------------------------------------------------------
    def _item_probs(self, theta: np.ndarray) -> list[tuple[_estimate.Block, np.ndarray,
                                                           np.ndarray]]:
        out = []
        for b in self._layout.blocks():
            p, dp = _models.dtheta(b.kind, self._beta[b.pidx], theta, b.k)
            out.append((b, p, dp))
        return out

    def _pattern_grad(self, pats: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray,
                                                                          np.ndarray]:
        """log-likelihood of each pattern at its own theta (internal scale) and its
        derivative by theta."""
        ll = np.zeros(pats.shape[0])
        g = np.zeros(pats.shape[0])
        rows = np.arange(pats.shape[0])
        for b, p, dp in self._item_probs(theta):
            for jj, j in enumerate(b.items):
                x = pats[:, j]
                ok = x >= 0
                pk = np.maximum(p[jj, rows[ok], x[ok]], 1e-300)
                ll[ok] += np.log(pk)
                g[ok] += dp[jj, rows[ok], x[ok]] / pk
        return ll, g

    def _newton_theta(self, pats: np.ndarray, start: np.ndarray, prior: bool
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        th = start.copy()
        ok = np.ones(th.size, bool)
        for _ in range(100):
            _, g = self._pattern_grad(pats, th)
            h = 1e-5
            _, gu = self._pattern_grad(pats, th + h)
            _, gd = self._pattern_grad(pats, th - h)
            hess = (gu - gd) / (2 * h)
            if prior:
                g, hess = g - th, hess - 1.0
            step = np.where(hess < 0, -g / np.where(hess < 0, hess, -1.0), np.sign(g) * 0.5)
            step = np.clip(step, -1.0, 1.0)
            th = th + step
            if np.max(np.abs(step)) < 1e-10:
                break
        else:
            ok = np.abs(step) < 1e-6
        _, gu = self._pattern_grad(pats, th + 1e-5)
        _, gd = self._pattern_grad(pats, th - 1e-5)
        hess = (gu - gd) / 2e-5 - (1.0 if prior else 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.where(hess < 0, 1.0 / np.sqrt(-hess), np.nan)
        return th, se, ok

    def scores(self, data: Any = None, *, method: str = "EAP") -> pd.DataFrame:
        """Person scores on the latent scale with their standard errors.

        Parameters
        ----------
        data : optional
            Responses to score (the fitted items, coded as in the fit); by default the data
            the model was fitted to.
        method : {"EAP", "MAP", "ML"}
            EAP: posterior mean and standard deviation over the fit's quadrature nodes
            (Bock & Mislevy, 1982). MAP: posterior mode, SE from the curvature of the log
            posterior. ML: maximum likelihood, SE 1 / sqrt(observed information); a pattern
            with every answer in the lowest (or highest) category has no finite ML estimate
            and is NaN with the reason in ``note``.

        Returns
        -------
        DataFrame
            Indexed by respondent: ``theta``, ``se``, ``note`` (why a score is NaN: no
            responses, or an extreme pattern under ML; empty otherwise). Rasch and PCM scores
            are on the Rasch scale (slope 1).
        """
        check_choice("method", method, ("EAP", "MAP", "ML"))
        if self.method == "CML" and method != "ML":
            raise SpecificationError(f"method={method!r} needs a latent distribution, which a "
                                     "conditional-ML fit does not have: use method='ML' (or "
                                     "fit by MML)")
        if data is None:
            codes = np.full((self.n_total, len(self.items)), -1, dtype=np.int8)
            codes[self._kept] = self._codes
            ids = self._ids
        else:
            from psychoval._input import as_item_matrix

            m = as_item_matrix(data, items=list(self.items) if isinstance(
                data, pd.DataFrame) else None, min_items=len(self.items), min_rows=1)
            if m.k != len(self.items):
                raise DataError(f"data has {m.k} items; the model has {len(self.items)}")
            codes = _data.recode(m.values, tuple(self.categories[i] for i in self.items),
                                 self.items, m.ids)
            ids = m.ids
        pats, _, inv = _data.patterns(codes)
        theta = np.full(pats.shape[0], np.nan)
        se = np.full(pats.shape[0], np.nan)
        note = np.full(pats.shape[0], "", dtype=object)
        answered = (pats >= 0).any(axis=1)
        note[~answered] = "no responses"
        use = np.flatnonzero(answered)
        sub = pats[use]
        ncat = np.asarray(self._layout.ncat)
        y, off = _data.indicators(sub, ncat)
        logp = np.empty((self._nodes.size, y.shape[1]))
        for b, p, _ in self._item_probs(self._nodes):
            cols = off[b.items][:, None] + np.arange(b.k)[None, :]
            logp[:, cols] = np.log(np.maximum(p, 1e-300)).transpose(1, 0, 2)
        ll = y @ logp.T + np.log(self._weights)
        ll = np.exp(ll - ll.max(axis=1, keepdims=True))
        post = ll / ll.sum(axis=1, keepdims=True)
        eap = post @ self._nodes
        psd = np.sqrt(np.maximum(post @ self._nodes ** 2 - eap ** 2, 0.0))
        if method == "EAP":
            t, s = eap, psd
        else:
            t, s, ok = self._newton_theta(sub, eap, prior=method == "MAP")
            nt = note[use]
            nt[~ok] = "the Newton iterations did not converge"
            if method == "ML":
                ans = sub >= 0
                low = np.all((sub == 0) | ~ans, axis=1)
                high = np.all((sub == (ncat - 1)[None, :]) | ~ans, axis=1)
                nt[low] = "every answer in the lowest category: the ML estimate is -infinity"
                nt[high] = "every answer in the highest category: the ML estimate is +infinity"
                ok = ok & ~low & ~high
            note[use] = nt
            t = np.where(ok, t, np.nan)
            s = np.where(ok, s, np.nan)
        theta[use] = t * self._scale
        se[use] = s * self._scale
        return pd.DataFrame({"theta": theta[inv], "se": se[inv], "note": note[inv]},
                            index=ids)

    # -- item fit -------------------------------------------------------------------------
    def itemfit(self, *, min_expected: float = 1.0) -> pd.DataFrame:
        """S-X2 item fit (Orlando & Thissen, 2000; Kang & Chen, 2008) on the complete rows.

        Within each summed-score group the observed category proportions of an item are
        compared with the model's, computed by the Lord-Wingersky recursion over the fit's
        quadrature; the lowest and highest scores are left out and score groups are merged
        (mirt's rule for rows) until every expected count is at least ``min_expected``
        (polytomous categories are not merged within a group, as mirt does). df = sum over
        groups of (possible categories - 1) - the item's own free parameters (a common slope
        is not counted).

        Returns a DataFrame: ``item``, ``s_x2``, ``df``, ``pvalue``, ``rmsea_s_x2``,
        ``groups`` (score groups after merging), ``n`` (complete rows).

        References
        ----------
        Orlando, M., & Thissen, D. (2000). Likelihood-based item-fit indices for dichotomous
        item response theory models. Applied Psychological Measurement, 24(1), 50-64.
        https://doi.org/10.1177/01466216000241003
        Kang, T., & Chen, T. T. (2008). Performance of the generalized S-X2 item fit index
        for polytomous IRT models. Journal of Educational Measurement, 45(4), 391-406.
        https://doi.org/10.1111/j.1745-3984.2008.00071.x
        """
        if self.method == "CML":
            raise SpecificationError("S-X2 needs the latent distribution of an MML fit; "
                                     "refit with method='MML'")
        if not (isinstance(min_expected, (int, float)) and min_expected > 0):
            raise SpecificationError(f"min_expected={min_expected!r} must be positive")
        probs: list[np.ndarray] = [np.empty(0)] * len(self.items)
        for b, p, _ in self._item_probs(self._nodes):
            for jj, j in enumerate(b.items):
                probs[j] = p[jj]
        own = []
        for kind, k in zip(self._layout.kinds, self._layout.ncat, strict=True):
            slope = 0 if self.model in _COMMON_SLOPE else 1
            own.append(k - 1 + slope + (1 if kind == "3pl" else 0))
        return _itemfit.s_x2(self._codes, probs, self._weights, own, self.items,
                             float(min_expected))

    def q3(self) -> pd.DataFrame:
        """Yen's (1984) Q3: correlations between items of the residuals x - E[X | theta]
        at the EAP scores (pairwise complete). Values far from about -1/(k - 1) flag local
        dependence.

        References
        ----------
        Yen, W. M. (1984). Effects of local item dependence on the fit and equating
        performance of the three-parameter logistic model. Applied Psychological
        Measurement, 8(2), 125-145. https://doi.org/10.1177/014662168400800201
        """
        if self.method == "CML":
            raise SpecificationError("Q3 uses EAP scores, which need an MML fit")
        theta = self.scores(method="EAP")["theta"].to_numpy()[self._kept] / self._scale
        expected = np.zeros(self._codes.shape)
        for b, p, _ in self._item_probs(theta):
            cats = np.arange(b.k, dtype=float)
            expected[:, b.items] = (p * cats[None, None, :]).sum(axis=2).T
        return _itemfit.q3(self._codes, expected, self.items)

    # -- information ----------------------------------------------------------------------
    def information(self, theta: Any) -> pd.DataFrame:
        """Item and test information at ``theta`` (the reported latent scale).

        I_j(theta) = sum_k P_jk'(theta)^2 / P_jk(theta); the test information is their sum.
        Returns a DataFrame indexed by theta with one column per item and ``test``.
        """
        th = np.atleast_1d(np.asarray(theta, dtype=float))
        if th.ndim != 1 or not np.all(np.isfinite(th)):
            raise SpecificationError("theta must be finite numbers (a scalar or a 1-d array)")
        inner = th / self._scale
        info = np.zeros((th.size, len(self.items)))
        for b, p, dp in self._item_probs(inner):
            info[:, b.items] = (dp ** 2 / np.maximum(p, 1e-300)).sum(axis=2).T
        info /= self._scale ** 2
        out = pd.DataFrame(info, columns=list(self.items),
                           index=pd.Index(th, name="theta"))
        out["test"] = info.sum(axis=1)
        return out

    def probabilities(self, theta: Any) -> pd.DataFrame:
        """Category response probabilities at ``theta`` (the reported latent scale): one row
        per theta, columns ``(item, category)`` with the item's category values (0/1 for
        dichotomous items: the item characteristic curve is the ``(item, 1)`` column)."""
        th = np.atleast_1d(np.asarray(theta, dtype=float))
        if th.ndim != 1 or not np.all(np.isfinite(th)):
            raise SpecificationError("theta must be finite numbers (a scalar or a 1-d array)")
        cols: dict[tuple[str, float], np.ndarray] = {}
        per_item: list[np.ndarray] = [np.empty(0)] * len(self.items)
        for b, p, _ in self._item_probs(th / self._scale):
            for jj, j in enumerate(b.items):
                per_item[j] = p[jj]
        for j, item in enumerate(self.items):
            for c, val in enumerate(self.categories[item]):
                cols[(item, float(val))] = per_item[j][:, c]
        out = pd.DataFrame(cols, index=pd.Index(th, name="theta"))
        out.columns = pd.MultiIndex.from_tuples(list(cols), names=["item", "category"])
        return out

    def expected_scores(self, theta: Any) -> pd.DataFrame:
        """Expected item scores at ``theta`` (the sum of category value x probability; the
        item characteristic curve of a 0/1 item), one column per item and ``test``."""
        pr = self.probabilities(theta)
        vals = pr.columns.get_level_values("category").to_numpy(dtype=float)
        weighted = pr.to_numpy() * vals[None, :]
        items = pr.columns.get_level_values("item")
        out = pd.DataFrame({i: weighted[:, np.asarray(items == i)].sum(axis=1)
                            for i in self.items}, index=pr.index)
        out["test"] = out.to_numpy().sum(axis=1)
        return out

    def m2(self) -> pd.Series:
        """Limited-information fit of the model: Maydeu-Olivares & Joe's M2 on the
        univariate and bivariate margins of the complete rows, with df, p-value, RMSEA2 and
        the SRMSR of the item correlations (mirt's ``M2()``). Dichotomous models fitted by
        MML only.

        Returns a Series: ``m2``, ``df``, ``pvalue``, ``rmsea2``, ``srmsr``, ``n`` (complete
        rows used).

        References
        ----------
        Maydeu-Olivares, A., & Joe, H. (2005). Limited- and full-information estimation and
        goodness-of-fit testing in 2^n contingency tables. Journal of the American
        Statistical Association, 100(471), 1009-1020.
        https://doi.org/10.1198/016214504000002069
        Maydeu-Olivares, A., & Joe, H. (2014). Assessing approximate fit in categorical data
        analysis. Multivariate Behavioral Research, 49(4), 305-328.
        https://doi.org/10.1080/00273171.2014.911075
        """
        from psychoval.stats.irt._m2 import m2_statistic

        if self.method != "MML" or self._amap is None:
            raise SpecificationError("M2 needs the latent distribution of an MML fit; refit "
                                     "with method='MML'")
        if any(k != 2 for k in self._layout.ncat):
            raise NotImplementedError(
                "M2 for polytomous items (Maydeu-Olivares & Joe's M2* on collapsed margins) "
                "is not available yet; use itemfit() and q3() for the graded models")
        complete = (self._codes >= 0).all(axis=1)
        y = self._codes[complete].astype(float)
        n_items = y.shape[1]
        if n_items < 3 or len(y) < 2:
            raise DataError("M2 needs at least 3 items and 2 complete rows")
        amap, b0 = self._amap, self._b0
        phi = np.linalg.lstsq(amap, self._beta - b0, rcond=None)[0]
        blocks = self._layout.blocks()
        nodes = self._nodes

        def prob(g: np.ndarray) -> np.ndarray:
            beta = amap @ g + b0
            out = np.zeros((nodes.size, n_items))
            for b in blocks:
                out[:, b.items] = _models.probs(b.kind, beta[b.pidx], nodes, b.k)[:, :, 1].T
            return out

        w = np.asarray(self._weights, dtype=float)
        res = m2_statistic(y, prob, phi, w / w.sum())
        return pd.Series(res, name="M2")

    def sem(self, theta: Any) -> pd.Series:
        """Conditional standard error of measurement, 1 / sqrt(test information)."""
        info = self.information(theta)["test"]
        return (1.0 / np.sqrt(info)).rename("sem")


def irt(data: Any, *, model: str = "2PL", items: Any = None, method: str = "MML",
        quadpts: int | None = None,
        quadrature: str = "equally_spaced", slope: float | None = None,
        guessing_prior: tuple[float, float] | None = None, se: str = "auto",
        tol: float = 1e-8, max_iter: int = 5000) -> IRTResult:
    """Fit a unidimensional item response model by marginal maximum likelihood.

    The latent trait is N(0, 1) (Rasch and PCM: slope 1 and the variance estimated); item
    parameters maximise the marginal likelihood over a fixed quadrature by the EM algorithm
    of Bock & Aitkin (1981) with an analytic Fisher-scoring M-step over all items at once,
    then Newton steps on the marginal log-likelihood itself (the cross-product of the
    pattern scores as its Hessian) until no parameter changes by more than ``tol``.

    Parameters
    ----------
    data : DataFrame, ResponseTable or 2-d array
        Respondents in rows, items in columns. 0/1 for Rasch, 1PL, 2PL, 3PL; ordered
        integer categories for GRM, GPCM and PCM (each item's observed values, sorted, are
        its categories). Missing responses (NaN) drop out of the likelihood; a row with no
        response is dropped and recorded.
    model : {"2PL", "1PL", "Rasch", "3PL", "GRM", "GPCM", "PCM"}
        ``"1PL"``: one common slope estimated, N(0, 1) trait (ltm's ``rasch()``);
        ``"Rasch"``: slope 1, trait variance estimated (the same likelihood, reported on the
        Rasch scale); ``"3PL"``: 2PL with a guessing asymptote; ``"GRM"``: Samejima's graded
        response model; ``"GPCM"``: Muraki's generalized partial credit model; ``"PCM"``:
        partial credit (slope 1, trait variance estimated).
    items : list of str, optional
        The items to use (default: every column).
    method : {"MML", "CML"}
        Marginal ML (default) or, for Rasch and PCM, conditional ML given the raw scores
        (Andersen, 1972; psychotools' ``raschmodel`` / ``pcmodel``, eRm's ``RM`` / ``PCM``):
        no latent distribution is assumed, the log-likelihood is the conditional one, the
        thresholds are normalised to sum zero, and persons are scored by ML only.
    quadpts : int, optional
        Quadrature points; default 61 (mirt's default for one dimension: at 61 equally
        spaced points the estimates do not move at 1e-6 when points are added).
    quadrature : {"equally_spaced", "gauss_hermite"}
        ``"equally_spaced"`` on [-6, 6] with normal weights (mirt) or Gauss-Hermite
        (ltm; ltm's defaults are 21 points for ``rasch()`` and ``tpm()``, 15 for ``ltm()``).
    slope : float, optional
        Rasch, 1PL and PCM: fix the common slope at this value instead of estimating it
        (``model="1PL", slope=1`` is ltm's ``rasch(constraint = cbind(k + 1, 1))``).
    guessing_prior : (alpha, beta), optional
        3PL: a Beta(alpha, beta) prior on each guessing parameter (the estimate is then a
        posterior mode; the reported log-likelihood is without the prior). Default none:
        the guessing parameters are estimated on the logit scale, so they stay within
        (0, 1), as mirt does.
    se : {"auto", "observed", "crossprod", "none"}
        Standard errors from the observed information (central differences of the analytic
        gradient of the marginal log-likelihood: 2p E-steps), from the cross-product of the
        pattern scores (one E-step; a consistent estimate of the same information when the
        model holds), or none. ``"auto"`` (default): observed when free parameters times
        distinct patterns is at most 500,000, else cross-product; ``se_method`` of the
        result says which.
    tol : float
        Convergence: the largest change of a parameter in the last step.
    max_iter : int

    Returns
    -------
    IRTResult

    Raises
    ------
    SpecificationError
        An unknown model, quadrature or option.
    DataError
        Responses that are not integer categories (not 0/1 for the dichotomous models), an
        item everyone answered alike (its difficulty is infinite), too few respondents.

    Notes
    -----
    Category probabilities (slope-intercept form): 2PL P(X = 1) = logistic(a theta + d),
    b = -d / a; 3PL c + (1 - c) logistic(a theta + d); GRM P(X >= k) = logistic(a theta +
    d_k); GPCM P(X = k) proportional to exp(k a theta + d_k), d_0 = 0, step thresholds
    b_k = -(d_k - d_{k-1}) / a. A fit that does not converge warns (ConvergenceWarning) and
    says so in ``converged``; an information matrix that is not positive definite gives NaN
    SEs and an ImproperSolutionWarning.

    References
    ----------
    Bock, R. D., & Aitkin, M. (1981). Marginal maximum likelihood estimation of item
    parameters: Application of an EM algorithm. Psychometrika, 46(4), 443-459.
    https://doi.org/10.1007/BF02293801
    Bock, R. D., & Lieberman, M. (1970). Fitting a response model for n dichotomously scored
    items. Psychometrika, 35(2), 179-197. https://doi.org/10.1007/BF02291262
    Samejima, F. (1969). Estimation of latent ability using a response pattern of graded
    scores. Psychometrika Monograph Supplement, 34(4, Pt. 2). https://doi.org/10.1007/BF03372160
    Andersen, E. B. (1972). The numerical solution of a set of conditional estimation
    equations. Journal of the Royal Statistical Society B, 34(1), 42-54.
    https://doi.org/10.1111/j.2517-6161.1972.tb00887.x
    Masters, G. N. (1982). A Rasch model for partial credit scoring. Psychometrika, 47(2),
    149-174. https://doi.org/10.1007/BF02296272
    Muraki, E. (1992). A generalized partial credit model. Applied Psychological Measurement,
    16(2), 159-176. https://doi.org/10.1177/014662169201600206
    Rizopoulos, D. (2006). ltm: An R package for latent variable modeling and item response
    theory analyses. Journal of Statistical Software, 17(5). https://doi.org/10.18637/jss.v017.i05
    Chalmers, R. P. (2012). mirt: A multidimensional item response theory package for the R
    environment. Journal of Statistical Software, 48(6). https://doi.org/10.18637/jss.v048.i06

    Examples
    --------
    >>> import itertools, numpy as np, psychoval as pv
    >>> freq = [3, 6, 2, 11, 1, 1, 3, 4, 1, 8, 0, 16, 0, 3, 2, 15, 10, 29, 14, 81, 3, 28,
    ...         15, 80, 16, 56, 21, 173, 11, 61, 28, 298]  # LSAT-6, ltm's LSAT
    >>> lsat = np.repeat(list(itertools.product([0, 1], repeat=5)), freq, axis=0)
    >>> res = pv.irt(lsat, model="2PL", quadrature="gauss_hermite", quadpts=21)
    >>> round(res.loglik, 3)  # ltm: logLik(ltm(LSAT ~ z1, control = list(GHk = 21)))
    -2466.653
    """
    check_choice("model", model, MODELS)
    check_choice("method", method, ("MML", "CML"))
    if method == "CML" and model not in _RASCH_SCALE:
        raise SpecificationError(f"method='CML' fits model='Rasch' or 'PCM' (the raw score "
                                 f"is sufficient only there); model={model!r} needs 'MML'")
    check_choice("quadrature", quadrature, ("equally_spaced", "gauss_hermite"))
    check_choice("se", se, ("auto", "observed", "crossprod", "none"))
    npts = 61 if quadpts is None else quadpts
    if not isinstance(npts, (int, np.integer)) or npts < 5:
        raise SpecificationError(f"quadpts={quadpts!r} must be an integer of at least 5")
    if slope is not None and model not in _COMMON_SLOPE:
        raise SpecificationError(f"slope= fixes the common slope of 'Rasch', '1PL' or 'PCM'; "
                                 f"model={model!r} estimates one slope per item")
    if slope is not None and not (isinstance(slope, (int, float)) and slope > 0
                                  and math.isfinite(slope)):
        raise SpecificationError(f"slope={slope!r} must be a positive number")
    if guessing_prior is not None:
        if model != "3PL":
            raise SpecificationError("guessing_prior= is for model='3PL'")
        if len(guessing_prior) != 2 or min(guessing_prior) < 1:
            raise SpecificationError(f"guessing_prior={guessing_prior!r} must be Beta "
                                     "(alpha, beta) with both at least 1")
    if not (isinstance(tol, float) and 0 < tol < 1):
        raise SpecificationError(f"tol={tol!r} must be a number between 0 and 1")
    coded = _data.code_responses(data, items=items, model=model)
    ncat = [len(c) for c in coded.categories]
    if method == "CML":
        return _cml_result(coded, model, ncat, se, tol, max_iter)
    if model in ("1PL", "Rasch") or model in ("2PL", "3PL"):
        ncat = [2] * len(ncat)
    lay = _layout(model, ncat)
    a_map, b0 = _constraints(model, lay, slope)
    pats, counts, _ = _data.patterns(coded.codes)
    y, off = _data.indicators(pats, np.asarray(ncat))
    nodes, wts = _estimate.quadrature(quadrature, int(npts))
    prob = _estimate.Problem(lay.blocks(off), a_map, b0, y, counts, nodes, np.log(wts),
                             tuple(map(float, guessing_prior)) if guessing_prior else None)
    if model == "3PL":  # logit guessing within +-15 (c from 3e-7 to 1 - 3e-7)
        lower = np.full(a_map.shape[1], -np.inf)
        lower[[p[2] for p in lay.pidx]] = -_GUESS_BOUND
        prob.lower, prob.upper = lower, -lower
    phi0 = _start(model, lay, coded.codes, a_map, b0)
    info = _estimate.fit(prob, phi0, tol=tol, max_iter=max_iter)
    phi = info.phi
    bounded = np.zeros(phi.size, bool)
    if prob.lower is not None:
        bounded = np.isfinite(prob.lower) & (np.abs(phi) >= _GUESS_BOUND - 1e-9)
        if bounded.any():
            names = [coded.items[j] for j, p in enumerate(lay.pidx) if bounded[p[2]]]
            warn(f"irt(3PL): the guessing parameter of {', '.join(map(repr, names))} is at "
                 "its bound (c below 1e-6 or above 1 - 1e-6; the likelihood rises toward "
                 "it); its SE is NaN: fit these items as 2PL or give guessing_prior=",
                 ImproperSolutionWarning)
    runaway = [coded.items[j] for j, p in enumerate(lay.pidx)
               if np.max(np.abs(prob.item_params(phi)[list(p)])) > _estimate.DIVERGED / 2]
    if runaway:
        warn(f"irt({model}): the parameters of {', '.join(map(repr, runaway))} run to "
             "infinity (a slope of an item that is nearly a copy of another, or an item "
             "almost everyone passes or fails); leave the item out or fit a model with "
             "local dependence", ImproperSolutionWarning)
    if not info.converged:
        warn(f"irt({model}) did not converge in {info.iterations} iterations (last change "
             f"{info.max_step:.2g} > tol={tol:g}); the estimates are not the maximum",
             ConvergenceWarning)
    cov = None
    if se == "auto":
        se = "observed" if phi.size * pats.shape[0] <= 500_000 else "crossprod"
    if se != "none":
        if se == "observed":
            h = _estimate.observed_information(prob, phi)
        else:
            _, _, post = _estimate.estep(prob, phi, posterior=True)
            h = _estimate.crossproduct(prob, phi, post) + prob.prior(phi)[2]
        act = np.flatnonzero(~bounded)
        h = h[np.ix_(act, act)]
        try:
            ev = np.linalg.eigvalsh(h)
            if ev.size and ev.min() <= 1e-10 * max(1.0, ev.max()):
                raise np.linalg.LinAlgError
            cov = np.zeros((phi.size, phi.size))
            cov[np.ix_(act, act)] = np.linalg.inv(h)
        except np.linalg.LinAlgError:
            warn(f"irt({model}): the information matrix is not positive definite (a "
                 "parameter is not identified or at a boundary); standard errors are NaN",
                 ImproperSolutionWarning)
    beta = prob.item_params(phi)
    labels, est = _report(model, coded.items, lay, beta)
    se_v = np.full(est.size, np.nan)
    if cov is not None:
        jac = np.empty((est.size, phi.size))
        for i in range(phi.size):
            e = 1e-6 * max(1.0, abs(phi[i]))
            up, dn = phi.copy(), phi.copy()
            up[i] += e
            dn[i] -= e
            jac[:, i] = (_report(model, coded.items, lay, prob.item_params(up))[1]
                         - _report(model, coded.items, lay, prob.item_params(dn))[1]) / (2 * e)
        var = np.einsum("ij,jk,ik->i", jac, cov, jac)
        fixed = np.all(np.abs(jac) < 1e-12, axis=1) | np.any(np.abs(jac[:, bounded]) > 1e-12,
                                                               axis=1)
        se_v = np.where(fixed, np.nan, np.sqrt(np.maximum(var, 0.0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = est / se_v
    table = pd.DataFrame({"item": [lab[0] for lab in labels],
                          "parameter": [lab[1] for lab in labels], "est": est, "se": se_v,
                          "z": z})
    n_used = int(coded.codes.shape[0])
    p = int(phi.size)
    scale = float(beta[lay.pidx[0][0]]) if model in _RASCH_SCALE else 1.0
    qname = (f"{npts} equally spaced points on [-6, 6]" if quadrature == "equally_spaced"
             else f"{npts} Gauss-Hermite points")
    return IRTResult(
        model=model, method="MML", items=coded.items, estimates=table,
        categories=dict(zip(coded.items, coded.categories, strict=True)),
        loglik=info.loglik, aic=-2 * info.loglik + 2 * p,
        bic=-2 * info.loglik + p * math.log(n_used), n_parameters=p, n_used=n_used,
        n_total=coded.n_total, rows_dropped=coded.rows_dropped, n_patterns=int(pats.shape[0]),
        iterations=info.iterations, em_iterations=info.em_iterations,
        converged=info.converged, max_gradient=info.max_gradient, quadrature=qname,
        se_method=se, _beta=beta, _layout=lay, _nodes=nodes, _weights=wts, _scale=scale,
        _cov=cov, _codes=coded.codes, _ids=coded.ids, _kept=coded.kept, _amap=a_map,
        _b0=b0)


def _cml_result(coded: _data.Coded, model: str, ncat: list[int], se: str, tol: float,
                max_iter: int) -> IRTResult:
    fit = _cml.cml(coded.codes, ncat, tol=min(tol, 1e-10), max_iter=max_iter,
                   se=se != "none")
    if not fit.converged:
        warn(f"irt({model}, method='CML') did not converge in {fit.iterations} Newton steps",
             ConvergenceWarning)
    # cumulative eta -> thresholds delta, normalised to sum zero: a linear map of eta
    n_eta = fit.eta.size
    diff = np.zeros((n_eta, n_eta))
    pos = 0
    labels = []
    for name, k in zip(coded.items, ncat, strict=True):
        for v in range(k - 1):
            diff[pos + v, pos + v] = 1.0
            if v:
                diff[pos + v, pos + v - 1] = -1.0
            labels.append((name, "b" if k == 2 else f"b{v + 1}"))
        pos += k - 1
    center = np.eye(n_eta) - 1.0 / n_eta
    tmap = center @ diff
    est = tmap @ fit.eta
    se_v = np.full(n_eta, np.nan)
    cov = None
    if fit.cov is not None:
        cov = fit.cov
        jac = tmap[:, 1:]  # the first eta is fixed at 0
        se_v = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", jac, cov, jac), 0.0))
    elif se != "none":
        warn(f"irt({model}, method='CML'): the information matrix is not positive definite; "
             "standard errors are NaN", ImproperSolutionWarning)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = est / se_v
    table = pd.DataFrame({"item": [lab[0] for lab in labels],
                          "parameter": [lab[1] for lab in labels], "est": est, "se": se_v,
                          "z": z})
    lay = _layout("PCM", ncat)
    beta = np.zeros(sum(len(p) for p in lay.pidx))
    pos = 0
    for p, k in zip(lay.pidx, ncat, strict=True):  # slope 1, intercepts -eta (centred)
        beta[p[0]] = 1.0
        beta[list(p[1:])] = -np.cumsum(est[pos:pos + k - 1])
        pos += k - 1
    n_used = int(coded.codes.shape[0])
    p_free = n_eta - 1
    nodes, wts = _estimate.quadrature("equally_spaced", 61)
    return IRTResult(
        model=model, method="CML", items=coded.items, estimates=table,
        categories=dict(zip(coded.items, coded.categories, strict=True)),
        loglik=fit.loglik, aic=-2 * fit.loglik + 2 * p_free,
        bic=-2 * fit.loglik + p_free * math.log(n_used), n_parameters=p_free,
        n_used=n_used, n_total=coded.n_total, rows_dropped=coded.rows_dropped,
        n_patterns=int(_data.patterns(coded.codes)[0].shape[0]), iterations=fit.iterations,
        em_iterations=0, converged=fit.converged, max_gradient=math.nan,
        quadrature="none (conditional ML)", se_method="none" if se == "none" else "observed", _beta=beta, _layout=lay,
        _nodes=nodes, _weights=wts, _scale=1.0, _cov=cov, _codes=coded.codes, _ids=coded.ids,
        _kept=coded.kept)
