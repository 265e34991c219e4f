"""Mergeable fourth-order sums: robust (MLR) CFA of data too large for one array.

:class:`FourthMoments` adds to the second-order :class:`~psychoval.stats.core._suffstats.Moments`
of a chunk the sums that robust standard errors and scaled tests need: over the complete rows,
with ``z = x - shift`` and ``w = (1, z, vech(z z'))`` (vech: lower triangle column by column,
lavaan's order), the one symmetric matrix ``Q = sum w w'`` of size ``D = 1 + k + k(k+1)/2``.
It holds the count, the sums of z, of the cross-products, the third-order sums
``z_i z_j z_l`` and the fourth-order sums ``z_i z_j z_l z_m`` (each several times: the matrix
is kept whole so that moving it to another centre is one product).

Why this is enough. Every robust quantity of a complete-data ML fit (lavaan's MLR: the
Huber-White meat ``Delta' B1 Delta``, the Yuan-Bentler traces, the baseline's meat, Gamma) is
the mean outer product of the rows' normal-theory scores at some ``(mu, Sigma)``. A row's score
is linear in ``(1, u, vech(u u'))`` with ``u = x - mu``, and that vector is ``R w`` for a fixed
matrix R (``u = z - d``, ``u u' = z z' - z d' - d z' + d d'``). So the sums about any centre
are ``R Q R'`` - exact in real arithmetic - and :func:`psychoval.stats.sem._fiml`'s first-order
information takes them in place of the rows.

Merging. ``a + b`` adds the :class:`Moments` parts (which choose the common shift) and brings
both ``Q`` to that shift the same way before adding. Rows with a missing answer are kept in
the :class:`Moments` part (pairwise statistics use them) and left out of ``Q`` (listwise
deletion, as lavaan's default); their number is :attr:`FourthMoments.n_dropped`, and
``pv.cfa`` warns about it as for any listwise fit.

Cost. ``Q`` has ``D^2`` entries (k = 5: 21^2, k = 10: 66^2, k = 20: 231^2, k = 40: 861^2 =
5.9 MB); building it costs about ``D^2 / 2`` multiply-adds per complete row (one BLAS product
per block of rows), on top of the :class:`Moments` pass.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.core._suffstats import Moments, item_block

__all__ = ["FourthMoments", "refuse_fiml"]

_SCHEMA = "psychoval.fourth_moments/1"
_BLOCK_CELLS = 1 << 20  # cells of w per row block (8 MB of float64)


@functools.cache
def _pairs(k: int) -> tuple[np.ndarray, np.ndarray]:
    """(r, c) with r >= c of vech of a k x k matrix, lower triangle column by column."""
    c, r = np.triu_indices(k)
    return r, c


def _width(k: int) -> int:
    return 1 + k + k * (k + 1) // 2


def _symmetric(q: np.ndarray) -> np.ndarray:
    return 0.5 * (q + q.T)


def _moved(q: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The sums of w w' with every z replaced by z + d: ``R Q R'`` with ``w(z + d) = R w(z)``
    (exact in real arithmetic)."""
    if not d.any():
        return q
    k = d.size
    r, c = _pairs(k)
    rm = np.eye(_width(k))
    rm[1:k + 1, 0] = d
    rows = k + 1 + np.arange(r.size)
    rm[rows, 0] = d[r] * d[c]
    np.add.at(rm, (rows, 1 + r), d[c])  # (z_r + d_r)(z_c + d_c) = z_r z_c + d_c z_r + ...
    np.add.at(rm, (rows, 1 + c), d[r])
    return _symmetric(rm @ q @ rm.T)


@dataclasses.dataclass(frozen=True, eq=False)
class FourthMoments:
    """Additive sums up to the fourth order of chunks of item responses (robust CFA).

    Build with :meth:`from_array` (NaN = missing), merge with ``a + b`` (or ``sum(chunks)``,
    :meth:`merge`), store with :meth:`to_dict` / :meth:`from_dict`. Accepted by
    ``pv.cfa(..., estimator="MLR")`` (and ``"ML"``) and, through :meth:`moments`, by
    ``pv.alpha``, ``pv.omega`` and ``pv.efa``.

    Attributes
    ----------
    base : the :class:`Moments` of every row (rows with missing answers included).
    q : (D, D) sum over the complete rows of ``w w'``, ``w = (1, z, vech(z z'))``,
        ``z = x - shift`` (the shift of ``base``), ``D = 1 + k + k(k+1)/2``. None after
        :meth:`select` of fewer items when some rows miss answers (which rows are complete on
        the fewer items is then unknown).

    Notes
    -----
    Listwise deletion: a row with any missing answer enters ``base`` only; ``n_dropped``
    counts them. Robust fits of some of the items need every row complete on all the items
    summarised, or summaries of the model's items only.

    Examples
    --------
    Two chunks of the Holzinger-Swineford data, then lavaan's MLR fit of the whole
    (``fitMeasures(cfa(HS.model, data = HolzingerSwineford1939, estimator = "MLR"))``):

    >>> import psychoval as pv
    >>> from psychoval.datasets import load_holzinger_swineford
    >>> hs = load_holzinger_swineford()[[f"x{i}" for i in range(1, 10)]]
    >>> fm = pv.FourthMoments.from_array(hs[:150]) + pv.FourthMoments.from_array(hs[150:])
    >>> fm
    FourthMoments(k=9, n=301, n_complete=301, n_dropped=0)
    >>> model = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9"
    >>> fm_ = pv.cfa(model, fm, estimator="MLR").fit_measures
    >>> round(fm_["chisq_scaled"], 3), round(fm_["cfi_robust"], 3), round(fm_["rmsea_robust"], 3)
    (87.132, 0.93, 0.092)
    """

    base: Moments
    q: np.ndarray | None

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_array(cls, data: Any, *, columns: Sequence[str] | None = None,
                   shift: Sequence[float] | np.ndarray | None = None) -> FourthMoments:
        """The sums of one chunk: a 2-d array (NaN = missing), DataFrame or ResponseTable.

        ``columns`` and ``shift`` as :meth:`Moments.from_array` (default shift: this chunk's
        item means; chunks with the same shift add without recentring)."""
        x, names = item_block(data, columns)
        base = Moments.from_array(x, columns=names, shift=shift)
        k = len(names)
        r, c = _pairs(k)
        width = _width(k)
        keep = ~np.isnan(x).any(axis=1)
        if not keep.all():
            x = x[keep]
        q = np.zeros((width, width))
        step = max(1, _BLOCK_CELLS // width)
        w = np.empty((min(step, len(x)), width))
        for a in range(0, len(x), step):  # row blocks: no n x D array
            z = x[a:a + step] - base.shift
            m = len(z)
            wb = w[:m]
            wb[:, 0] = 1.0
            wb[:, 1:k + 1] = z
            np.multiply(z[:, r], z[:, c], out=wb[:, k + 1:])
            q += wb.T @ wb
        return cls(base, _symmetric(q))

    @classmethod
    def zeros(cls, columns: Sequence[str]) -> FourthMoments:
        """The sums of no rows (the neutral element of ``+``)."""
        return cls.from_array(np.empty((0, len(columns))), columns=columns)

    # -- merging ------------------------------------------------------------------------------

    def __add__(self, other: Any) -> FourthMoments:
        if isinstance(other, int) and other == 0:  # sum(chunks) starts at 0
            return self
        if not isinstance(other, FourthMoments):
            return NotImplemented
        base = self.base + other.base  # checks the items; chooses the common shift
        q = None
        if self.q is not None and other.q is not None:
            q = (_moved(self.q, self.shift - base.shift)
                 + _moved(other.q, other.shift - base.shift))
        return FourthMoments(base, q)

    __radd__ = __add__

    @classmethod
    def merge(cls, parts: Iterable[FourthMoments]) -> FourthMoments:
        """Sum of many chunks' sums as a balanced tree (as :meth:`Moments.merge`)."""
        return Moments.merge(parts)

    def select(self, items: Sequence[str]) -> FourthMoments:
        """The sums of some of the items (in the order given). The fourth-order sums survive
        when the items are the same or no answer is missing (see :attr:`q`)."""
        base = self.base.select(items)
        where = {col: j for j, col in enumerate(self.columns)}
        idx = np.array([where[i] for i in items], dtype=np.intp)
        if self.q is None or not (list(idx) == list(range(self.k)) or self.base.complete):
            return FourthMoments(base, None)
        k = self.k
        r, c = _pairs(k)
        pos = np.empty((k, k), dtype=np.intp)  # vech position of each pair, both orders
        pos[r, c] = np.arange(r.size)
        pos[c, r] = np.arange(r.size)
        r2, c2 = _pairs(len(idx))
        keep = np.concatenate([[0], 1 + idx, k + 1 + pos[idx[r2], idx[c2]]])
        return FourthMoments(base, self.q[np.ix_(keep, keep)])

    # -- what the statistics use --------------------------------------------------------------

    @property
    def columns(self) -> tuple[str, ...]:
        return self.base.columns

    @property
    def k(self) -> int:
        return self.base.k

    @property
    def n(self) -> int:
        """Rows seen (rows with missing answers included)."""
        return self.base.n

    @property
    def n_complete(self) -> int:
        """Rows answering every item: the rows of the fourth-order sums."""
        return self.base.n_complete

    @property
    def n_dropped(self) -> int:
        """Rows with a missing answer, left out of the fourth-order sums (listwise)."""
        return self.base.n - self.base.n_complete

    @property
    def shift(self) -> np.ndarray:
        return self.base.shift

    def moments(self) -> Moments:
        """The second-order :class:`Moments` of the same rows (all of them)."""
        return self.base

    def about(self, point: Sequence[float] | np.ndarray) -> np.ndarray:
        """``sum w w'`` over the complete rows with ``w = (1, u, vech(u u'))``,
        ``u = x - point`` (the sums about another centre)."""
        if self.q is None:
            raise DataError(
                "these FourthMoments no longer hold the fourth-order sums of the selected "
                "items (some answers are missing, and a row complete on these items may miss "
                "another); summarise the chunks on the model's items only")
        pt = np.asarray(point, dtype=float).reshape(-1)
        if pt.shape != (self.k,):
            raise DataError(f"point must be {self.k} numbers (one per item)")
        return _moved(self.q, self.shift - pt)

    def gamma(self, *, meanstructure: bool = True) -> np.ndarray:
        """Gamma, the asymptotic covariance of ``sqrt(N)`` times the sample moments
        ``(means, vech S)`` (divisor N) of the complete rows, lavaan's
        ``lavTech(fit, "gamma")``; only the vech part with ``meanstructure=False``.

        ``Gamma = (1/N) sum (v - vbar)(v - vbar)'`` with ``v = (u, vech(u u'))``, u the rows
        centred at their means."""
        n = self.n_complete
        if n < 2:
            raise DataError(f"Gamma needs at least 2 complete rows; {n} given")
        k = self.k
        m = self.about(self.base.means("listwise")) / n
        g = m[1:, 1:] - np.outer(m[0, 1:], m[0, 1:])
        return _symmetric(g if meanstructure else g[k:, k:])

    # -- serialisation -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (schema ``psychoval.fourth_moments/1``): the :class:`Moments` part
        and the lower triangle of ``q`` row by row; floats round-trip exactly."""
        from psychoval._version import __version__

        q = None if self.q is None else self.q[np.tril_indices(len(self.q))].tolist()
        return {"schema": _SCHEMA, "psychoval_version": __version__,
                "moments": self.base.to_dict(), "q": q}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FourthMoments:
        """Inverse of :meth:`to_dict`."""
        if d.get("schema") != _SCHEMA:
            raise DataError(f"not a {_SCHEMA} document (schema {d.get('schema')!r})")
        base = Moments.from_dict(d["moments"])
        if d["q"] is None:
            return cls(base, None)
        width = _width(base.k)
        low = np.asarray(d["q"], dtype=float)
        if low.shape != (width * (width + 1) // 2,):
            raise DataError(f"q must hold {width * (width + 1) // 2} numbers for "
                            f"{base.k} items; got {low.size}")
        q = np.zeros((width, width))
        q[np.tril_indices(width)] = low
        q = q + np.tril(q, -1).T
        return cls(base, q)

    def __repr__(self) -> str:
        return (f"FourthMoments(k={self.k}, n={self.n}, n_complete={self.n_complete}, "
                f"n_dropped={self.n_dropped})")


def refuse_fiml() -> None:
    """Raise the SpecificationError of ``missing="fiml"`` with :class:`FourthMoments`."""
    raise SpecificationError(
        "missing='fiml' is not available from FourthMoments: their fourth-order sums are of "
        "the complete rows only. FIML with ML: summarise the chunks with PatternMoments; FIML "
        "with MLR needs each respondent's casewise score at the FIML estimates, i.e. a second "
        "pass over the rows after the fit - fit on the rows, or use missing='listwise'")
