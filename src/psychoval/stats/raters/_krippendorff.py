"""Krippendorff's alpha for any number of raters, missing ratings, four levels of measurement,
with a seeded bootstrap interval over candidates."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import check_choice, check_confidence_level
from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, DegenerateDataWarning, SpecificationError, warn
from psychoval.stats.raters._ratings import as_ratings

__all__ = ["krippendorff_alpha", "KrippendorffResult"]

LEVELS = ("nominal", "ordinal", "interval", "ratio")


@dataclasses.dataclass(frozen=True, repr=False)
class KrippendorffResult(Result):
    """Krippendorff's alpha with its bootstrap interval.

    Attributes
    ----------
    alpha : float
        ``1 - D_o / D_e``.
    level : str
        ``"nominal"``, ``"ordinal"``, ``"interval"`` or ``"ratio"``.
    observed_disagreement, expected_disagreement : float
        ``D_o`` and ``D_e``.
    lower, upper : float
        Percentile bootstrap interval over candidates (NaN when ``n_boot=0``).
    n_boot : int
        Bootstrap resamples; ``seed`` the seed used (None: fresh entropy).
    coincidences : DataFrame
        The coincidence matrix ``o_ck`` (values x values).
    n_pairable : int
        Pairable values ``n..`` (ratings of candidates rated at least twice).
    n_targets, n_pairable_targets : int
        Candidates, and those rated at least twice (only these carry information).
    """

    alpha: float
    level: str
    observed_disagreement: float
    expected_disagreement: float
    lower: float
    upper: float
    n_boot: int
    seed: int | None
    confidence_level: float
    coincidences: pd.DataFrame
    n_pairable: int
    n_targets: int
    n_pairable_targets: int
    n_raters: int

    _schema: ClassVar[str] = "psychoval.krippendorff_alpha/1"

    def _repr_fields(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "level": self.level, "lower": self.lower,
                "upper": self.upper, "n_pairable": self.n_pairable}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "alpha": self.alpha, "level": self.level, "lower": self.lower, "upper": self.upper,
            "observed_disagreement": self.observed_disagreement,
            "expected_disagreement": self.expected_disagreement, "n_pairable": self.n_pairable,
            "n_targets": self.n_targets, "n_pairable_targets": self.n_pairable_targets,
            "n_raters": self.n_raters, "n_boot": self.n_boot}])

    def summary(self) -> Summary:
        level = f"{100 * self.confidence_level:g}%"
        facts = [("alpha", self.alpha), ("level of measurement", self.level),
                 (f"{level} lower", self.lower), (f"{level} upper", self.upper),
                 ("D_o", self.observed_disagreement), ("D_e", self.expected_disagreement),
                 ("pairable values", self.n_pairable),
                 ("candidates rated twice or more", self.n_pairable_targets),
                 ("candidates", self.n_targets), ("raters", self.n_raters)]
        notes = []
        if self.n_boot:
            notes.append(f"Interval: percentile bootstrap over candidates, {self.n_boot} "
                         f"resamples, seed {self.seed}.")
        if self.n_pairable_targets < self.n_targets:
            notes.append(f"{self.n_targets - self.n_pairable_targets} candidate(s) rated once "
                         "carry no information about agreement and are not pairable.")
        return Summary(title="Krippendorff's alpha", facts=tuple(facts),
                       tables=(("Coincidences", self.coincidences),), notes=tuple(notes))


def _delta2(values: np.ndarray, n_c: np.ndarray, level: str) -> np.ndarray:
    """Squared difference function(s). ``n_c`` may be (C,) or (B, C) for ordinal."""
    if level == "nominal":
        return 1.0 - np.eye(values.size)
    if level == "interval":
        return np.subtract.outer(values, values) ** 2
    if level == "ratio":
        s = np.add.outer(values, values)
        d = np.subtract.outer(values, values)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(s == 0, 0.0, (d / np.where(s == 0, 1.0, s)) ** 2)
        return out
    # ordinal: (sum_{g=c..k} n_g - (n_c + n_k)/2)^2
    cum = np.cumsum(n_c, axis=-1)
    c = values.size
    lo = np.minimum.outer(np.arange(c), np.arange(c))
    hi = np.maximum.outer(np.arange(c), np.arange(c))
    before = np.concatenate([np.zeros(n_c.shape[:-1] + (1,)), cum[..., :-1]], axis=-1)
    span = cum[..., hi] - before[..., lo]
    half = (n_c[..., :, None] + n_c[..., None, :]) / 2.0
    return (span - half) ** 2


def _alpha_from_coincidences(o: np.ndarray, values: np.ndarray, level: str
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """alpha, D_o, D_e from coincidence matrices ``o`` of shape (..., C, C)."""
    n_c = o.sum(axis=-1)
    n = n_c.sum(axis=-1)
    d2 = _delta2(values, n_c, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        d_o = np.sum(o * d2, axis=(-2, -1)) / n
        d_e = np.sum(n_c[..., :, None] * n_c[..., None, :] * d2, axis=(-2, -1)) / (n * (n - 1))
        alpha = 1.0 - d_o / d_e
    return alpha, d_o, d_e


def krippendorff_alpha(
    data: Any,
    *,
    level: str = "interval",
    layout: str = "wide",
    targets: str | None = None,
    raters: Any = None,
    scores: str | None = None,
    scale: tuple[float, float] | None = None,
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = None,
    confidence_level: float = 0.95,
) -> KrippendorffResult:
    """Krippendorff's alpha: agreement of any number of raters, missing ratings allowed.

    Estimates ``1 - D_o / D_e``, one minus the ratio of the disagreement observed within
    candidates to the disagreement expected by chance, for nominal, ordinal, interval or ratio
    scores. Candidates rated by fewer than two raters carry no information and are skipped.

    Parameters
    ----------
    data : DataFrame, ResponseTable or 2-d array
        ``layout="wide"``: rows candidates, columns raters, NaN = not rated (note: the
        ``krippendorff`` package and Krippendorff (2011) put raters in rows).
        ``layout="long"``: one row per rating.
    level : {"interval", "nominal", "ordinal", "ratio"}
        Level of measurement (the difference function).
    layout, targets, raters, scores, scale
        As :func:`psychoval.icc`.
    n_boot : int
        Bootstrap resamples of candidates for the percentile interval (0: no interval).
    seed : int, numpy Generator or None
        Seed of the bootstrap (None: fresh entropy; give an int for a reproducible interval).
    confidence_level : float
        Level of the interval.

    Returns
    -------
    KrippendorffResult

    Raises
    ------
    DataError
        Fewer than 2 raters, no candidate rated twice, a ratio score below 0, a non-numeric
        score or one outside ``scale``.
    SpecificationError
        Bad ``level``, ``n_boot``, ``scale`` or ``confidence_level``.

    Notes
    -----
    Coincidences: ``o_ck = sum_u (number of c-k pairs of values in candidate u) / (m_u - 1)``
    over candidates with ``m_u >= 2`` ratings; ``n_c = sum_k o_ck``, ``n = sum_c n_c``.
    ``alpha = 1 - (n - 1) sum o_ck d2_ck / sum n_c n_k d2_ck`` with ``d2`` nominal
    (0 if equal else 1), ordinal ``(sum_{g=c}^{k} n_g - (n_c + n_k)/2)^2``, interval
    ``(c - k)^2``, ratio ``((c - k)/(c + k))^2``. The interval resamples candidates with
    replacement and takes percentiles of alpha (Hayes & Krippendorff's 2007 algorithm resamples
    pairs instead; both are approximations).

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Departmental Papers
    (ASC), University of Pennsylvania. https://repository.upenn.edu/asc_papers/43

    Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard reliability
    measure for coding data. Communication Methods and Measures, 1(1), 77-89.
    https://doi.org/10.1080/19312450709336664

    Examples
    --------
    Krippendorff (2011)'s example C: 4 observers, 12 units, missing values (units in rows):

    >>> import numpy as np, psychoval as pv
    >>> nan = np.nan
    >>> data = np.array([[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...                  [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...                  [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...                  [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]).T
    >>> round(pv.krippendorff_alpha(data, level="nominal", n_boot=0).alpha, 3)
    0.743
    """
    check_choice("level", level, LEVELS)
    level_ci = check_confidence_level(confidence_level)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise SpecificationError(f"n_boot={n_boot!r} must be a whole number >= 0 (0: no interval)")
    r = as_ratings(data, layout=layout, targets=targets, raters=raters, scores=scores,
                   scale=scale, min_targets=1, what="krippendorff_alpha data")
    v = r.values
    obs = ~np.isnan(v)
    if level == "ratio" and (v[obs] < 0).any():
        i, j = np.argwhere(obs & (np.where(obs, v, 0) < 0))[0]
        raise DataError(
            f"rater {r.raters[j]!r} gave {v[i, j]:g} to {r.target(int(i))}; the ratio level "
            "needs scores >= 0 with a true zero: use level='interval'"
        )
    m_u = obs.sum(axis=1)
    pairable = m_u >= 2
    if not pairable.any():
        raise DataError(
            "no candidate was rated by two or more raters, so there is nothing to agree on; "
            "Krippendorff's alpha needs at least one candidate rated twice"
        )
    values = np.unique(v[obs & pairable[:, None]])
    vp = v[pairable]
    op = obs[pairable]
    code = np.searchsorted(values, np.where(op, vp, values[0]))
    rows = np.broadcast_to(np.arange(vp.shape[0])[:, None], vp.shape)
    counts = np.bincount(rows[op] * values.size + code[op],
                         minlength=vp.shape[0] * values.size
                         ).reshape(vp.shape[0], values.size).astype(float)
    mu = m_u[pairable].astype(float)
    # per-candidate coincidence contributions, flattened (U, C*C)
    contrib = (counts[:, :, None] * counts[:, None, :])
    idx = np.arange(values.size)
    contrib[:, idx, idx] -= counts
    contrib /= (mu - 1.0)[:, None, None]
    o = contrib.sum(axis=0)
    alpha, d_o, d_e = _alpha_from_coincidences(o, values, level)
    if not np.isfinite(alpha):
        warn(
            "Krippendorff's alpha is undefined: every pairable rating has the same value "
            "(no expected disagreement); reported as NaN", DegenerateDataWarning, stacklevel=2)
    lower = upper = math.nan
    seed_used = None
    if n_boot > 0:
        if isinstance(seed, np.random.Generator):
            rng = seed
        else:
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
                raise SpecificationError(f"seed={seed!r} must be an int, a numpy Generator or None")
            seed_used = None if seed is None else int(seed)
            rng = np.random.default_rng(seed_used)
        u = counts.shape[0]
        flat = contrib.reshape(u, -1)
        boots = np.empty(n_boot)
        step = max(1, int(2_000_000 // max(u * 8, 1)))
        for start in range(0, n_boot, step):
            b = min(step, n_boot - start)
            w = rng.multinomial(u, np.full(u, 1.0 / u), size=b).astype(float)
            ob = (w @ flat).reshape(b, values.size, values.size)
            boots[start:start + b] = _alpha_from_coincidences(ob, values, level)[0]
        q = (1.0 - level_ci) / 2.0
        good = boots[np.isfinite(boots)]
        if good.size:
            lower, upper = (float(x) for x in np.quantile(good, [q, 1.0 - q]))
    return KrippendorffResult(
        alpha=float(alpha), level=level, observed_disagreement=float(d_o),
        expected_disagreement=float(d_e), lower=lower, upper=upper, n_boot=int(n_boot),
        seed=seed_used, confidence_level=level_ci,
        coincidences=pd.DataFrame(o, index=pd.Index(values), columns=pd.Index(values)),
        n_pairable=int(round(float(o.sum()))), n_targets=r.n_targets,
        n_pairable_targets=int(pairable.sum()), n_raters=r.n_raters)
