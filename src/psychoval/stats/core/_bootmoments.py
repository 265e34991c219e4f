"""Poisson-bootstrap replicates of :class:`Moments`, accumulated chunk by chunk.

The ordinary bootstrap draws n rows with replacement, which needs all n rows at once. The
Poisson bootstrap (Hanley & MacGibbon, 2006, doi:10.1016/j.cmpb.2006.04.006; Chamandy et al.,
2012, "Estimating uncertainty for massive data streams") gives every row an independent
Poisson(1) weight instead - the limit of the multinomial weights - so each chunk's share of
a replicate is computed from that chunk alone and the shares add. A replicate's sums are the
:class:`Moments` of the chunk with each row repeated as often as its weight.

Chunk invariance: the weight of (row, replicate) is a function of (seed, global row number,
replicate) only (:func:`psychoval.stats.core._rowhash.poisson1_weights`, SplitMix64 of the
counter ``row * 2**16 + replicate``), so the replicates do not depend on how the rows are cut
into chunks or in which order the chunks are added; their integer sums (counts) are equal
exactly, their float sums to rounding. The caller numbers the rows: ``start=`` is the global
row number of a chunk's first row, and chunks whose row numbers overlap refuse to add.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from psychoval.exceptions import DataError, SpecificationError
from psychoval.stats.core._moments import alpha_from_cov
from psychoval.stats.core._rowhash import MAX_REPLICATES, poisson1_weights
from psychoval.stats.core._suffstats import Moments, item_block

__all__ = ["BootstrapMoments"]

_SCHEMA = "psychoval.bootstrap_moments/1"
_WEIGHT_CELLS = 1 << 22  # weights drawn at once (32 MB of int64)


def _version() -> str:
    from psychoval._version import __version__

    return __version__


def _coalesce(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, joined [start, stop) row ranges; overlapping ranges raise."""
    out: list[list[int]] = []
    for a, b in sorted(ranges):
        if a == b:
            continue
        if out and a < out[-1][1]:
            raise DataError(f"rows {a}..{min(b, out[-1][1]) - 1} are in two chunks; give every "
                            "chunk its own start= (the global number of its first row)")
        if out and a == out[-1][1]:
            out[-1][1] = b
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


@dataclasses.dataclass(frozen=True, eq=False)
class BootstrapMoments:
    """The :class:`Moments` of some rows and of B Poisson-bootstrap replicates of them.

    Build with :meth:`from_array` (``start=`` the global number of the chunk's first row),
    merge with ``a + b`` (same seed, replicates and items), store with :meth:`to_dict` /
    :meth:`from_dict`. ``pv.alpha(boot, ci_method="bootstrap")`` gives alpha of the rows with
    the percentile interval of the replicates' alphas.

    Attributes
    ----------
    moments : Moments of the rows themselves (weight 1).
    replicates : B Moments; replicate b holds each row r ``w(seed, r, b)`` times.
    seed : int, the key of the weights.
    ranges : the [start, stop) global row numbers summarised.

    Examples
    --------
    >>> import numpy as np, psychoval as pv
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(400, 1)) + rng.normal(size=(400, 4))
    >>> b = sum(pv.BootstrapMoments.from_array(x[s:s + 100], start=s, n_replicates=50, seed=3)
    ...         for s in range(0, 400, 100))
    >>> b.ranges, b.n_replicates
    (((0, 400),), 50)
    >>> res = pv.alpha(b, ci_method="bootstrap")
    >>> bool(res.ci_lower < res.raw_alpha < res.ci_upper)
    True
    """

    moments: Moments
    replicates: tuple[Moments, ...]
    seed: int
    ranges: tuple[tuple[int, int], ...]

    @classmethod
    def from_array(cls, data: Any, *, start: int, n_replicates: int = 200, seed: int = 0,
                   columns: Sequence[str] | None = None,
                   shift: Sequence[float] | np.ndarray | None = None) -> BootstrapMoments:
        """The moments and replicates of one chunk (2-d array with NaN = missing, DataFrame
        or ResponseTable) whose first row is row ``start`` of the whole data."""
        if not isinstance(start, (int, np.integer)) or start < 0:
            raise SpecificationError(f"start={start!r} must be the global number (from 0) of "
                                     "the chunk's first row")
        if not isinstance(n_replicates, (int, np.integer)) or not \
                2 <= n_replicates <= MAX_REPLICATES:
            raise SpecificationError(f"n_replicates={n_replicates!r} must be an integer in "
                                     f"[2, {MAX_REPLICATES}]")
        if not isinstance(seed, (int, np.integer)):
            raise SpecificationError(f"seed={seed!r} must be an integer (the weights are a "
                                     "function of the seed and the row number)")
        x, names = item_block(data, columns)
        n = x.shape[0]
        base = Moments.from_array(x, columns=names, shift=shift)
        sh = base.shift  # the replicates' too: their sums add without recentring
        rows = np.arange(start, start + n, dtype=np.int64)
        reps: list[Moments] = []
        step = max(1, _WEIGHT_CELLS // max(n, 1))
        for b0 in range(0, int(n_replicates), step):
            nb = min(step, int(n_replicates) - b0)
            for wb in poisson1_weights(rows, np.arange(b0, b0 + nb), int(seed)):
                reps.append(Moments.from_array(np.repeat(x, wb, axis=0), columns=names,
                                               shift=sh))
        return cls(base, tuple(reps), int(seed), _coalesce([(int(start), int(start) + n)]))

    def __add__(self, other: Any) -> BootstrapMoments:
        if isinstance(other, int) and other == 0:
            return self
        if not isinstance(other, BootstrapMoments):
            return NotImplemented
        self._check_compatible(other)
        return BootstrapMoments(self.moments + other.moments,
                                tuple(a + b for a, b in zip(self.replicates, other.replicates,
                                                            strict=True)),
                                self.seed, _coalesce(self.ranges + other.ranges))

    __radd__ = __add__

    def _check_compatible(self, other: BootstrapMoments) -> None:
        if self.seed != other.seed or len(self.replicates) != len(other.replicates):
            raise DataError(f"cannot add bootstrap moments of seed {self.seed} with "
                            f"{len(self.replicates)} replicates to seed {other.seed} with "
                            f"{len(other.replicates)}; build every chunk with the same seed= "
                            "and n_replicates=")

    @classmethod
    def merge(cls, parts: Iterable[BootstrapMoments]) -> BootstrapMoments:
        """Sum of many chunks, each replicate by :meth:`Moments.merge` (a balanced tree)."""
        items = list(parts)
        if not items:
            raise DataError("no chunks to merge")
        for p in items[1:]:
            items[0]._check_compatible(p)
        return BootstrapMoments(
            Moments.merge(p.moments for p in items),
            tuple(Moments.merge(reps) for reps in zip(*(p.replicates for p in items),
                                                      strict=True)),
            items[0].seed, _coalesce(r for p in items for r in p.ranges))

    @property
    def n_replicates(self) -> int:
        return len(self.replicates)

    def replicate_alphas(self, missing: str = "pairwise") -> np.ndarray:
        """Raw alpha of each replicate, from its pairwise or listwise covariances (NaN where
        a replicate has no such covariance)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.array([alpha_from_cov(r.cov(missing)) if r.n_used(missing) > 1
                             else np.nan for r in self.replicates])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (schema ``psychoval.bootstrap_moments/1``)."""
        return {"schema": _SCHEMA, "psychoval_version": _version(), "seed": self.seed,
                "ranges": [list(r) for r in self.ranges], "moments": self.moments.to_dict(),
                "replicates": [r.to_dict() for r in self.replicates]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BootstrapMoments:
        """Inverse of :meth:`to_dict`."""
        if d.get("schema") != _SCHEMA:
            raise DataError(f"not a {_SCHEMA} document (schema {d.get('schema')!r})")
        return cls(Moments.from_dict(d["moments"]),
                   tuple(Moments.from_dict(r) for r in d["replicates"]), int(d["seed"]),
                   tuple((int(a), int(b)) for a, b in d["ranges"]))

    def __repr__(self) -> str:
        return (f"BootstrapMoments(k={self.moments.k}, n={self.moments.n}, "
                f"replicates={self.n_replicates}, seed={self.seed})")
