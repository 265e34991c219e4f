"""Estimation blocks of a CFA fit: groups, FIML, MLR (the wiring of the CFA engine).

A fit is a list of :class:`Block` s, one per group (lavaan's blocks), sharing one free-parameter
vector ``x``. A block holds its group's ``MatrixModel`` and data: the complete-data moments
(``cov`` with divisor N, ``mean``) or, under ``missing="fiml"``, the missingness patterns
(:mod:`psychoval.stats.sem._fiml`) with the EM saturated moments. Everything the estimator needs
is a ``n_g / N``-weighted sum of block pieces (lavaan's multi-group objective); robust
(MLR) pieces come from :mod:`psychoval.stats.sem._robust`.

Conventions (lavaan 0.6.14):

- group order = first appearance in the data; ``group.equal`` makes rows of groups 2.. share
  the parameter of group 1 (labels ``.p<row>.``), and equal intercepts free the latent means of
  groups 2..;
- ``fmin = sum_g (n_g / N) F_g / 2``, ``chisq = 2 N fmin``;
- information: expected for complete-data ML, observed (the Hessian) for FIML and MLR;
- MLR: ``vcov = E^-1 (sum_g f_g B0_g) E^-1 / N``, Yuan-Bentler (Mplus) scaled test with the
  unstructured H1 pieces, ``scaling.factor.h0`` over the free parameters *before* equality
  constraints (lavaan's ``npar`` of lavInspect).

Length: the estimation blocks (groups, FIML, MLR) and the content-keyed cache of data-side
quantities they share.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from psychoval.exceptions import SpecificationError
from psychoval.framework._partable import ParTable, assign_free
from psychoval.framework._syntax import syntax_error
from psychoval.stats.sem import _fiml, _robust
from psychoval.stats.sem._estimate import start_rows
from psychoval.stats.sem._model import MatrixModel, MLDiscrepancy

__all__ = ["GROUP_EQUAL", "Block", "GroupSum", "FitMeasures", "multigroup_partable", "check_group_partial", "start_rows", "start_x",
           "information_theta", "robust_pieces", "MLR_FIT_MEASURE_NAMES"]

GROUP_EQUAL = ("loadings", "intercepts", "means", "residuals", "residual.covariances",
               "lv.variances", "lv.covariances", "regressions")

# lavaan 0.6.14 fitMeasures() order under MLR (names with . -> _); ML + FIML uses the subset
MLR_FIT_MEASURE_NAMES = (
    "npar", "fmin", "chisq", "df", "pvalue", "chisq_scaled", "df_scaled", "pvalue_scaled",
    "chisq_scaling_factor", "baseline_chisq", "baseline_df", "baseline_pvalue",
    "baseline_chisq_scaled", "baseline_df_scaled", "baseline_pvalue_scaled",
    "baseline_chisq_scaling_factor", "cfi", "tli", "cfi_scaled", "tli_scaled", "cfi_robust",
    "tli_robust", "nnfi", "rfi", "nfi", "pnfi", "ifi", "rni", "nnfi_scaled", "rfi_scaled",
    "nfi_scaled", "pnfi_scaled", "ifi_scaled", "rni_scaled", "nnfi_robust", "rni_robust",
    "logl", "unrestricted_logl", "aic", "bic", "ntotal", "bic2", "scaling_factor_h1",
    "scaling_factor_h0", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_ci_level",
    "rmsea_pvalue", "rmsea_close_h0", "rmsea_notclose_pvalue", "rmsea_notclose_h0",
    "rmsea_scaled", "rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled", "rmsea_pvalue_scaled",
    "rmsea_notclose_pvalue_scaled", "rmsea_robust", "rmsea_ci_lower_robust",
    "rmsea_ci_upper_robust", "rmsea_pvalue_robust", "rmsea_notclose_pvalue_robust", "rmr",
    "rmr_nomean", "srmr", "srmr_bentler", "srmr_bentler_nomean", "crmr", "crmr_nomean",
    "srmr_mplus", "srmr_mplus_nomean", "cn_05", "cn_01", "gfi", "agfi", "pgfi", "mfi", "ecvi",
)


# ---------------------------------------------------------------------------------------------
# parameter table of a multi-group model


def _equal_kind(lhs: str, op: str, rhs: str, observed: set[str]) -> str | None:
    if op == "=~":
        return "loadings"
    if op == "~":
        return "regressions"
    if op == "~1":
        return "intercepts" if lhs in observed else "means"
    if op == "~~":
        if lhs in observed:
            return "residuals" if lhs == rhs else "residual.covariances"
        return "lv.variances" if lhs == rhs else "lv.covariances"
    return None


def multigroup_partable(pt: ParTable, n_groups: int, group_equal: Sequence[str],
                        group_partial: Sequence[tuple[str, str, str]] = ()) -> ParTable:
    """The single-group table ``pt`` (with a mean structure) repeated for ``n_groups`` groups,
    rows of groups 2.. constrained equal to group 1 for the ``group_equal`` kinds (lavaan's
    ``group.equal``) except the ``(lhs, op, rhs)`` rows of ``group_partial`` (lavaan's
    ``group.partial``: free in every group); with equal intercepts the latent means of
    groups 2.. are free, and with ``std_lv`` and equal loadings the factor variances of
    groups 2.. are free (as lavaan)."""
    equal = set(group_equal)
    partial = set(group_partial)
    observed = set(pt.observed)
    k = len(pt)
    cols: dict[str, list[Any]] = {f: [] for f in ("lhs", "op", "rhs", "group", "user",
                                                  "ustart", "start", "label", "line", "col",
                                                  "group_mods")}
    mods = pt.group_mods if len(pt.group_mods) == k else ((),) * k
    user_ustart = pt.ustart_user if len(pt.ustart_user) == k else pt.ustart
    lines = pt.source.split("\n")
    for r in range(k):
        if mods[r] and len(mods[r]) != n_groups:
            raise syntax_error(lines, pt.line[r], pt.col[r], f"c(...) gives {len(mods[r])} "
                               f"value(s) for {pt.lhs[r]} {pt.op[r]} {pt.rhs[r]}".rstrip() +
                               f" but the data have {n_groups} groups; give one per group")
    for g in range(1, n_groups + 1):
        for r in range(k):
            lhs, op, rhs = pt.lhs[r], pt.op[r], pt.rhs[r]
            ustart = user_ustart[r]  # constraints are applied to the whole table below
            label = pt.label[r]
            if mods[r]:  # c(...): this group's own fixed value / label
                fixed, free_forced, label = mods[r][g - 1]
                ustart = math.nan if fixed is None else float(fixed)
                if (math.isnan(ustart) and not free_forced and op == "=~" and not pt.std_lv
                        and pt.user[r] == 1 and _first_indicator(pt, r)):
                    ustart = 1.0
            kind = _equal_kind(lhs, op, rhs, observed)
            if (g > 1 and op == "~1" and lhs not in observed and "intercepts" in equal
                    and "means" not in equal and pt.user[r] == 0):
                ustart = math.nan  # lavaan frees latent means when intercepts are equal
            elif (g > 1 and op == "~~" and lhs == rhs and lhs not in observed and pt.std_lv
                  and "loadings" in equal and "lv.variances" not in equal
                  and pt.user[r] == 0):
                ustart = math.nan  # std.lv with equal loadings: later groups' variances free
            elif (kind in equal and not label and math.isnan(ustart)
                  and (lhs, op, rhs) not in partial):
                label = f".p{r + 1}."
            cols["lhs"].append(lhs), cols["op"].append(op), cols["rhs"].append(rhs)
            cols["group"].append(g), cols["user"].append(pt.user[r])
            cols["ustart"].append(ustart), cols["start"].append(pt.start[r])
            cols["label"].append(label), cols["line"].append(pt.line[r])
            cols["col"].append(pt.col[r]), cols["group_mods"].append(mods[r])
    out = pt.replace(**{f: tuple(v) for f, v in cols.items()}, free=(0,) * len(cols["lhs"]),
                     ustart_user=())
    return assign_free(out, pt.active)


def _first_indicator(pt: ParTable, r: int) -> bool:
    """Row r is the first loading of its factor (lavaan's marker)."""
    return next(k for k in range(len(pt)) if pt.op[k] == "=~" and pt.lhs[k] == pt.lhs[r]) == r


def n_free_rows(pt: ParTable) -> int:
    """Free rows before equality constraints (lavaan's lavInspect npar with ceq.simple),
    counting the rows a constraint fixed (``v == 1``, an active ``a > 0``)."""
    return int(sum(1 for f in pt.free if f > 0)) + len(pt.eq_fixed)


def start_x(pt: ParTable, blocks: Sequence[Block]) -> np.ndarray:
    """lavaan's starting values of the free parameters, each group's rows from its moments."""
    rows0 = np.zeros(len(pt))
    grp = np.array(pt.group)
    for b in blocks:
        sel = grp == b.group
        rows0[sel] = start_rows(pt, b.cov, b.mean if pt.meanstructure else None)[sel]
    return MatrixModel(pt, blocks[0].group).x_from_table(rows0)


def em_moment_start(pt: ParTable, blocks: Sequence[Block],
                    x0: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Under FIML: the ML fit to each group's EM (saturated) moments, started from ``x0``
    (with the engine's restarts: std.lv mapped back, perturbed starts).

    It costs no pass over the data (p x p work per iteration) and lands next to the FIML
    solution (the two coincide without missing data), so the FIML iterations, each a pass
    over the data, start close to their end - and a path that would slide along a ridge
    from lavaan's starts does so here, cheaply, not over the data. Returns the start and the
    restarts that fit needed; ``x0`` itself when it fails."""
    from psychoval.stats.sem._optimize import fit_with_restarts

    def ml(bl: Sequence[Block]) -> GroupSum:
        return GroupSum([dataclasses.replace(b, disc=MLDiscrepancy(
            b.model, b.h1.sigma, b.n, b.h1.mu if b.model.meanstructure else None))
            for b in bl])

    def rebuild(table: ParTable):
        bl = [b.with_table(table) for b in blocks]
        return ml(bl), start_x(table, bl)

    try:
        with np.errstate(all="ignore"):
            est = fit_with_restarts(pt, ml(blocks), x0, rebuild=rebuild)
    except np.linalg.LinAlgError:
        return x0, ()
    if not est.converged or not np.all(np.isfinite(est.x)):
        return x0, ()
    return est.x, est.restarts


# ---------------------------------------------------------------------------------------------
# blocks (groups) and the summed discrepancy


def _sat_loglik(cov: np.ndarray, n: int) -> float:
    p = cov.shape[0]
    _, logdet = np.linalg.slogdet(cov)
    return float(-0.5 * n * (p * _fiml.LOG_2PI + logdet + p))


class DataSide:
    """What a fit needs from one group's data and nothing from the model: the missingness
    patterns, the saturated (H1) moments - EM under missing data, the sample moments with
    divisor N otherwise - and, computed when first needed, the saturated model's observed
    and first-order information (MLR, lavaan's FIML-corrected indices).

    :meth:`of` keeps the few most recent ones, keyed by the data's content, so that models
    fitted to the same items (a tier's correlated and second-order models, a refit with
    another option) share them. Bounded: at most 4 entries and 800 MB of arrays."""

    _cache: OrderedDict[tuple, DataSide] = OrderedDict()
    _lock = threading.Lock()
    MAX_ENTRIES = 4
    MAX_BYTES = 800e6

    def __init__(self, x: np.ndarray):
        self.pat = _fiml.missing_patterns(x)
        if self.pat.complete:  # the sample moments, computed centred (as the ML engine did)
            mean = x.mean(axis=0)
            xc = x - mean
            cov = xc.T @ xc / len(x)
            self.h1 = _fiml.H1Moments(mu=mean, sigma=cov, loglik=_sat_loglik(cov, len(x)),
                                      iterations=0, converged=True)
        else:
            self.h1 = _fiml.em_saturated(self.pat)
        self._lazy: dict[str, np.ndarray] = {}

    @classmethod
    def from_patterns(cls, pat: _fiml.MissingPatterns) -> DataSide:
        """A data side from pattern statistics alone (merged chunks; not cached)."""
        side = cls.__new__(cls)
        side.pat = pat
        if pat.complete:
            z = pat.zrows
            cov = z.T @ z / pat.n
            side.h1 = _fiml.H1Moments(mu=pat.means[0].copy(), sigma=cov,
                                      loglik=_sat_loglik(cov, pat.n), iterations=0,
                                      converged=True)
        else:
            side.h1 = _fiml.em_saturated(pat)
        side._lazy = {}
        return side

    @property
    def nbytes(self) -> int:
        return int(self.pat.x.nbytes + self.pat.zrows.nbytes)

    @classmethod
    def of(cls, x: np.ndarray) -> DataSide:
        x = np.ascontiguousarray(x, dtype=float)
        key = (x.shape, hashlib.blake2b(x.view(np.uint8), digest_size=20).hexdigest())
        with cls._lock:
            hit = cls._cache.get(key)
            if hit is not None:
                cls._cache.move_to_end(key)
                return hit
        side = cls(x.copy())  # its own copy: the caller may change theirs later
        with cls._lock:
            cls._cache[key] = side
            while (len(cls._cache) > cls.MAX_ENTRIES
                   or sum(s.nbytes for s in cls._cache.values()) > cls.MAX_BYTES):
                cls._cache.popitem(last=False)
                if not cls._cache:
                    break
        return side

    def _get(self, name: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        if name not in self._lazy:
            self._lazy[name] = compute()
        return self._lazy[name]

    @property
    def h1_observed(self) -> np.ndarray:
        """Observed (unstructured) information of the saturated model at the H1 moments."""
        return self._get("observed", lambda: _fiml.information_observed(
            self.pat, self.h1.mu, self.h1.sigma))

    @property
    def h1_firstorder(self) -> np.ndarray:
        """First-order information of the saturated model at the H1 moments."""
        return self._get("firstorder", lambda: _fiml.information_firstorder(
            self.pat, self.h1.mu, self.h1.sigma))


@dataclasses.dataclass
class Block:
    """One group: its model, data and discrepancy."""

    model: MatrixModel
    label: str | None
    x: np.ndarray  # (n_g, p) rows used (NaN allowed under FIML)
    fiml: bool
    pat: _fiml.MissingPatterns
    h1: _fiml.H1Moments  # EM moments (complete data: the sample moments, divisor N)
    disc: Any
    n: int
    group: int = 1
    side: DataSide | None = None

    @property
    def cov(self) -> np.ndarray:
        return self.h1.sigma

    @property
    def mean(self) -> np.ndarray:
        return self.h1.mu

    @staticmethod
    def _discrepancy(mm: MatrixModel, pat, h1, n: int, fiml: bool):
        if fiml:
            return _fiml.FIMLDiscrepancy(mm, pat, h1)
        return MLDiscrepancy(mm, h1.sigma, n, h1.mu if mm.meanstructure else None)

    @classmethod
    def make(cls, pt: ParTable, group: int, x: np.ndarray, *, fiml: bool,
             label: str | None = None) -> Block:
        mm = MatrixModel(pt, group)
        side = DataSide.of(x)
        pat, h1 = side.pat, side.h1
        # the block keeps the shared private copy, not the caller's array
        return cls(mm, label, pat.x, fiml, pat, h1,
                   cls._discrepancy(mm, pat, h1, pat.n, fiml), pat.n, group, side)

    @classmethod
    def from_patterns(cls, pt: ParTable, pat: _fiml.MissingPatterns, *,
                      fiml: bool = True) -> Block:
        """A block from missingness-pattern statistics without rows (merged chunks): FIML,
        or (``fiml=False``, one complete pattern carrying fourth-order sums) ML with MLR."""
        mm = MatrixModel(pt, 1)
        side = DataSide.from_patterns(pat)
        return cls(mm, None, pat.x, fiml, pat, side.h1,
                   cls._discrepancy(mm, pat, side.h1, pat.n, fiml), pat.n, 1, side)

    @classmethod
    def from_cov(cls, pt: ParTable, cov: np.ndarray, n: int) -> Block:
        """A complete-data block from a covariance matrix (divisor N) without raw data."""
        mm = MatrixModel(pt, 1)
        p = cov.shape[0]
        h1 = _fiml.H1Moments(mu=np.zeros(p), sigma=cov, loglik=_sat_loglik(cov, n),
                             iterations=0, converged=True)
        return cls(mm, None, None, False, None, h1, MLDiscrepancy(mm, cov, n), n)

    @property
    def h1_observed(self) -> np.ndarray:
        """Observed (unstructured) information of the saturated model at the EM moments."""
        return self.side.h1_observed

    @property
    def h1_firstorder(self) -> np.ndarray:
        """First-order information of the saturated model at the EM moments."""
        return self.side.h1_firstorder

    def with_table(self, pt: ParTable) -> Block:
        """The same group's data under another parameter table (e.g. a reparameterization)."""
        mm = MatrixModel(pt, self.group)
        return dataclasses.replace(self, model=mm, disc=self._discrepancy(
            mm, self.pat, self.h1, self.n, self.fiml))

    def baseline_loglik(self) -> float:
        """Log-likelihood of the independence model (FIML: fitted by FIML)."""
        if self.fiml:
            return _fiml.independence_model(self.pat).loglik
        d = np.diag(self.cov)
        return float(-0.5 * self.n * np.sum(_fiml.LOG_2PI + np.log(d) + 1.0))

    def implied(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mu, Sigma); without a mean structure mu is the sample means (lavaan's MLR)."""
        sigma, mu = self.model.implied(x)
        return (self.mean if mu is None else mu), sigma

    @property
    def rows(self) -> slice:
        """Moment rows the model uses: all, or vech only without a mean structure."""
        return slice(None) if self.model.meanstructure else slice(self.model.p, None)

    def delta(self, x: np.ndarray) -> np.ndarray:
        return _fiml.model_delta(self.model, x, meanstructure=self.model.meanstructure)

    def _moment_weights(self, g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """A moment-space vector g as (g_mu or None, G): G symmetric with the off-diagonal
        vech entries halved, so that g' m = g_mu' mu + tr(G Sigma)."""
        p = self.model.p
        if self.model.meanstructure:
            g_mu, g_v = g[:p], g[p:]
        else:
            g_mu, g_v = None, g
        gm = _fiml.unvech(g_v, p)
        gm[~np.eye(p, dtype=bool)] *= 0.5
        return g_mu, gm

    def vjp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Delta(x)' g without building Delta: tr(G dSigma_a) = 2 x_a' G y_a."""
        m = self.model
        g_mu, gm = self._moment_weights(g)
        xm, ym, kk = m.xy(x)
        out = np.bincount(kk, weights=2.0 * np.einsum("pr,pr->r", xm, gm @ ym), minlength=m.q)
        if g_mu is not None:
            out = out + m.dmu(x) @ g_mu
        return out

    def hvp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray | None:
        """The Jacobian of ``x -> Delta(x)' g`` (the Hessian of ``m(x)' g``), analytic for
        models without regressions; None otherwise."""
        return self.model.hess_moments(x, *self._moment_weights(g))

    def loglik(self, x: np.ndarray) -> float:
        return float(self.disc.loglik(x))


class GroupSum:
    """``F = sum_g (n_g / N) F_g`` with gradient and expected Hessian (the optimizer's view)."""

    def __init__(self, blocks: Sequence[Block]):
        self.blocks = list(blocks)
        n = np.array([b.n for b in self.blocks], dtype=float)
        self.n = int(n.sum())
        self.fractions = n / n.sum()

    def value(self, x):
        return float(sum(f * b.disc.value(x) for f, b in zip(self.fractions, self.blocks,
                                                             strict=True)))

    def pieces(self, x, hessian: bool = True):
        ftot, gtot, htot = 0.0, 0.0, 0.0
        for f, b in zip(self.fractions, self.blocks, strict=True):
            fv, g, h, _ = b.disc.pieces(x, hessian=hessian)
            if not np.isfinite(fv):
                return np.inf, None, None, None
            ftot += f * fv
            gtot = gtot + f * g
            if hessian:
                htot = htot + f * h
        return ftot, gtot, (htot if hessian else None), None


# ---------------------------------------------------------------------------------------------
# information, standard errors, robust test


def information_theta(blocks: Sequence[Block], fractions: np.ndarray, x: np.ndarray,
                      kind: str) -> np.ndarray:
    """Unit information of the free parameters, ``sum_g f_g I_g``: ``"expected"`` (structured,
    at the implied moments) or ``"observed"`` (minus the Hessian of the log-likelihood)."""
    out = 0.0
    for f, b in zip(fractions, blocks, strict=True):
        mu, sigma = b.implied(x)
        d = b.delta(x)
        sl = b.rows
        if kind == "expected":
            if b.fiml:
                a = _fiml.information_expected(b.pat, mu, sigma)[sl, sl]
            else:
                a = _robust.h1_information_complete(sigma)[sl, sl]
            info = d.T @ a @ d
        else:
            info = _fiml.information_observed_theta(b.pat, mu, sigma, d, theta=x, rows=sl,
                                                    vjp_fn=b.vjp, hvp_fn=b.hvp)
        out = out + f * info
    return 0.5 * (out + out.T)


@dataclasses.dataclass
class RobustPieces:
    vcov: np.ndarray
    scaled: _robust.ScaledTest
    baseline_scaled: _robust.ScaledTest


def robust_pieces(blocks: Sequence[Block], fractions: np.ndarray, x: np.ndarray,
                  info: np.ndarray, *, chisq: float, df: int, npar_rows: int,
                  bases: Sequence[_fiml.IndependenceModel], baseline_chisq: float,
                  baseline_df: int, null_space: np.ndarray | None = None) -> RobustPieces:
    """Huber-White vcov and the Yuan-Bentler (Mplus) tests of the model and the baseline.
    ``null_space``: K of linear equality constraints ``x = K z + x_p`` (the sandwich is taken
    over z and mapped back; ``E^-1`` is ``K (K' E K)^-1 K'``)."""
    n = sum(b.n for b in blocks)
    b0, a1, b1 = [], [], []
    for b in blocks:
        mu, sigma = b.implied(x)
        sl = b.rows
        xm, ym, kk = b.model.xy(x)
        b0.append(_fiml.firstorder_factored(
            b.pat, mu, sigma, np.real(xm), np.real(ym), kk, b.model.q,
            b.model.dmu(x) if b.model.meanstructure else None))
        a1.append(b.h1_observed[sl, sl])
        b1.append(b.h1_firstorder[sl, sl])
    meat = sum(f * m for f, m in zip(fractions, b0, strict=True))
    if null_space is None:
        vcov = _robust.sandwich_vcov(info, meat, n)
        e_inv = np.linalg.inv(info)
    else:
        k = null_space
        vcov = k @ _robust.sandwich_vcov(k.T @ info @ k, k.T @ meat @ k, n) @ k.T
        e_inv = k @ np.linalg.inv(k.T @ info @ k) @ k.T
    e_inv = 0.5 * (e_inv + e_inv.T)
    scaled = _robust.yuan_bentler_mplus(chisq, df, a1=a1, b1=b1, b0=b0, e_inv=e_inv,
                                        group_fractions=list(fractions), npar=npar_rows)
    # baseline: the independence model of each group, its own parameters
    sizes, eb, b0b = [], [], []
    for b, base in zip(blocks, bases, strict=True):
        sl = b.rows
        off = 0 if b.model.meanstructure else b.model.p
        db = base.delta()[sl][:, off:]
        eb.append(base.information_observed(b.n)[off:, off:])
        b0b.append(_fiml.firstorder_theta(b.pat, base.mu, base.sigma, db))
        sizes.append(db.shape[1])
    tot = int(sum(sizes))
    offs = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    e_full = np.zeros((tot, tot))
    b0_full = []
    for g, f in enumerate(fractions):
        s = slice(offs[g], offs[g + 1])
        e_full[s, s] = f * eb[g]
        m = np.zeros((tot, tot))
        m[s, s] = b0b[g]
        b0_full.append(m)
    bscaled = _robust.yuan_bentler_mplus(baseline_chisq, baseline_df, a1=a1, b1=b1, b0=b0_full,
                                         e_inv=np.linalg.inv(e_full),
                                         group_fractions=list(fractions))
    return RobustPieces(vcov, scaled, bscaled)


def _bdiag(mats: Sequence[np.ndarray]) -> np.ndarray:
    r = sum(m.shape[0] for m in mats)
    c = sum(m.shape[1] for m in mats)
    out = np.zeros((r, c))
    i = j = 0
    for m in mats:
        out[i:i + m.shape[0], j:j + m.shape[1]] = m
        i += m.shape[0]
        j += m.shape[1]
    return out


def fiml_corrected_groups(blocks: Sequence[Block], fractions: np.ndarray, x: np.ndarray,
                          df: int, version: str) -> _robust.FimlCorrected:
    """lavaan's ``lav_fit_fiml_corrected`` for several groups: the one-group formulas of
    :func:`_robust.fiml_corrected` with block-diagonal ``f_g Wm_g``, ``f_g Wc_g``,
    ``Wm_g^-1 / f_g``, ``Gamma_g / f_g``, stacked Deltas and
    ``E = sum_g f_g Delta_g' Wm_g Delta_g``; chi-squares summed over groups."""
    wm, wmi, wc, gam, dl, bdl = [], [], [], [], [], []
    xx3 = xx3_null = 0.0
    df_null = 0
    for f, b in zip(fractions, blocks, strict=True):
        w = b.h1_observed
        wi = np.linalg.inv(w)
        wi = 0.5 * (wi + wi.T)
        wm.append(f * w)
        wmi.append(wi / f)
        wc.append(f * _robust.h1_information_complete(b.h1.sigma))
        if version == "V3":
            gam.append(wi @ b.h1_firstorder @ wi / f)
        dl.append(b.delta(x))
        base = _fiml.independence_model(b.pat)
        bdl.append(base.delta())
        mu, sigma = b.implied(x)
        xx3 += _robust.chisq_ml(b.n, b.h1.mu, b.h1.sigma, mu, sigma)
        xx3_null += _robust.chisq_ml(b.n, b.h1.mu, b.h1.sigma, base.mu, base.sigma)
        df_null += base.df
    wm_all, wmi_all, wc_all = _bdiag(wm), _bdiag(wmi), _bdiag(wc)
    mid = wmi_all @ wc_all @ wmi_all
    gam_all = _bdiag(gam) if version == "V3" else None

    def k_of(d: np.ndarray) -> float:
        wd = wm_all @ d
        u = wm_all - wd @ np.linalg.solve(d.T @ wd, wd.T)
        if version == "V3":
            return float(np.sum((u @ mid @ u) * gam_all.T))
        return float(np.sum(mid * u.T))

    c3 = k_of(np.vstack(dl)) / df if df > 0 else math.nan
    c3_null = k_of(_bdiag(bdl)) / df_null
    return _robust.FimlCorrected(xx3=xx3, df3=df, c_hat3=c3, xx3_scaled=xx3 / c3,
                                 xx3_null=xx3_null, df3_null=df_null, c_hat3_null=c3_null)


def check_group_equal(group_equal: Any, allowed: Sequence[str] = GROUP_EQUAL, *,
                      what: str = "lavaan's group.equal") -> tuple[str, ...]:
    """lavaan's ``group.equal`` values (``_`` may stand for ``.``), each one of ``allowed``."""
    if group_equal is None:
        return ()
    if isinstance(group_equal, str):
        group_equal = [group_equal]
    out = []
    for g in group_equal:
        g = str(g).replace("_", ".")
        if g not in allowed:
            raise SpecificationError(
                f"group_equal={g!r} is not one of {', '.join(map(repr, allowed))} ({what})")
        out.append(g)
    return tuple(out)


def check_group_partial(group_partial: Any, pt: ParTable) -> tuple[tuple[str, str, str], ...]:
    """lavaan's ``group.partial`` strings (``"visual =~ x2"``, ``"x3 ~1"``, ``"x1 ~~ x1"``) as
    ``(lhs, op, rhs)`` rows of the single-group table ``pt``; an unknown row raises."""
    if group_partial is None:
        return ()
    if isinstance(group_partial, str):
        group_partial = [group_partial]
    rows = set(zip(pt.lhs, pt.op, pt.rhs, strict=True))
    out = []
    for s in group_partial:
        m = re.fullmatch(r"\s*([^\s=~]+)\s*(=~|~~|~1|~)\s*([^\s]*)\s*", str(s))
        key = (m.group(1), m.group(2), m.group(3)) if m else None
        if key is None or key not in rows:
            raise SpecificationError(
                f"group_partial={s!r} is not a parameter of the model; write it as lavaan's "
                "group.partial, e.g. 'visual =~ x2', 'x3 ~1' or 'x1 ~~ x1'")
        out.append(key)
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# fit measures


class FitMeasures(Mapping):
    """lavaan's ``fitMeasures()`` of a fit as a read-only mapping, in lavaan's order.

    :meth:`deferred` builds one whose expensive entries (lavaan's FIML-corrected robust
    indices of an ML fit with missing data, which need the (p + p*)^2 information of the
    saturated model) are computed on first access of one of them; every other entry is
    there at once.
    """

    def __init__(self, values: dict[str, Any], names: Sequence[str] | None = None,
                 full: Callable[[], dict[str, Any]] | None = None):
        self._values = dict(values)
        self._names = tuple(values) if names is None else tuple(names)
        self._full = full

    @classmethod
    def deferred(cls, measures: Callable[[Any], dict[str, Any]],
                 full: Callable[[], dict[str, Any]]) -> FitMeasures:
        """``measures(corrected)`` gives the fit measures with ``corrected`` FIML quantities
        (None: without the robust ones); ``full()`` all of them."""
        nan = _robust.FimlCorrected(*([math.nan] * 7))
        names = tuple(measures(nan))  # the key order with the robust indices in place
        cheap = measures(None)
        return cls({k: v for k, v in cheap.items() if k in names}, names, full)

    def _complete(self) -> None:
        if self._full is not None:
            full, self._full = self._full(), None
            self._values = {k: full[k] for k in self._names}

    def __getitem__(self, key: str) -> Any:
        if key not in self._values and key in self._names:
            self._complete()
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._names

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        self._complete()
        return f"FitMeasures({self._values!r})"


def fit_measures(blocks: Sequence[Block], x: np.ndarray, *, fmin: float, chisq: float,
                 npar: int, df: int, logl: float, logl_sat: float, baseline_chisq: float,
                 baseline_df: int, scaled: _robust.ScaledTest | None = None,
                 baseline_scaled: _robust.ScaledTest | None = None,
                 fiml: _robust.FimlCorrected | None = None) -> dict[str, Any]:
    """Every fit measure lavaan's ``fitMeasures()`` returns for this fit (``.`` -> ``_``).

    Residual-based measures and GFI are computed per group (FIML: against the EM moments)
    and averaged with weights ``n_g / N``, as lavaan does."""
    from scipy import stats

    from psychoval.stats.sem._fit import (
        FIT_MEASURE_NAMES,
        compute_fit_measures,
        information_criteria,
    )

    n = int(sum(b.n for b in blocks))
    fr = np.array([b.n for b in blocks], dtype=float) / n
    per = []
    nel = 0
    for b in blocks:
        sigma, mu = b.model.implied(x)
        ms = b.model.meanstructure
        per.append(compute_fit_measures(
            fmin=fmin, npar=npar, df=max(df, 1), n=b.n, cov=b.cov, sigma=sigma, logl=logl,
            logl_sat=logl_sat, mean=b.mean if ms else None, mu=mu if ms else None))
        if b.fiml:
            # lavaan's GFI under missing = "ml": WLS.V is the structured expected H1
            # information and WLS.obs the available-case means with the pairwise
            # covariances rescaled by (N - 1)/N (not the EM moments)
            from psychoval.stats.core._moments import pairwise_moments

            # (summaries without rows carry them: MissingPatterns.available)
            mom = b.pat.available if b.pat.available is not None else pairwise_moments(b.x)
            obs = np.concatenate([mom.means, _fiml.vech(mom.cov * (b.n - 1) / b.n)])
            d = obs - np.concatenate([mu, _fiml.vech(sigma)])
            per[-1]["gfi"] = 1.0 - (_fiml.expected_quadratic(b.pat, sigma, d)
                                    / _fiml.expected_quadratic(b.pat, sigma, obs))
        p = b.model.p
        nel += p * (p + 1) // 2 + (p if ms else 0)
    out: dict[str, Any] = {"npar": npar, "fmin": fmin, "chisq": chisq, "df": df,
                           "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else math.nan}
    if scaled is not None:
        out["chisq_scaled"] = scaled.stat
        out["df_scaled"] = scaled.df
        out["pvalue_scaled"] = scaled.pvalue
        out["chisq_scaling_factor"] = scaled.scaling_factor
        if df > 0:  # lavaan's test slot holds no scaling.factor.h1/h0 at df = 0
            out["scaling_factor_h1"] = scaled.scaling_factor_h1
            out["scaling_factor_h0"] = scaled.scaling_factor_h0
    out.update(_robust.scaled_fit_measures(
        chisq=chisq, df=df, baseline_chisq=baseline_chisq, baseline_df=baseline_df, n=n,
        scaled=scaled, baseline_scaled=baseline_scaled, fiml=fiml, groups=len(blocks)))
    out.update(information_criteria(logl, logl_sat, npar, n))
    for key in ("rmr", "rmr_nomean", "srmr", "srmr_bentler", "srmr_bentler_nomean", "crmr",
                "crmr_nomean", "srmr_mplus", "srmr_mplus_nomean", "gfi"):
        out[key] = float(sum(f * m[key] for f, m in zip(fr, per, strict=True)))
    for key, alpha in (("cn_05", 0.05), ("cn_01", 0.01)):
        if df == 0 and chisq < np.finfo(float).eps:
            out[key] = math.nan
        else:
            out[key] = (float(stats.chi2.ppf(1 - alpha, df) / (chisq / n) + 1) if chisq > 0
                        else math.inf)
    gfi = out["gfi"]
    out["agfi"] = 1 - (nel / df) * (1 - gfi) if df > 0 else 1.0
    out["pgfi"] = (df / nel) * gfi if nel else math.nan
    out["mfi"] = math.exp(-0.5 * (chisq - df) / n)
    out["ecvi"] = chisq / n + 2 * npar / n
    names = (FIT_MEASURE_NAMES if scaled is None and fiml is None
             else [k for k in MLR_FIT_MEASURE_NAMES if k in out])
    return {k: (float(out[k]) if isinstance(out[k], np.floating) else out[k]) for k in names}
