"""Counter-based random numbers: a function of (seed, row number, replicate) alone.

A pass over chunked data that draws one random number per row from a sequential generator
gets different numbers when the chunks change. Here each number is SplitMix64 (Steele, Lea &
Flood, 2014, doi:10.1145/2714064.2660195) of a counter built from the global row number (and
the replicate), so any chunking of the rows, in any order, draws the same numbers.
``splitmix64(rows, seed)`` is also the key of the bottom-k sample of a streamed validation
(``pipeline._stream.bottom_k_keys``).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["splitmix64", "poisson1_weights", "MAX_REPLICATES"]

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)

# the replicate takes the low 16 bits of the counter, the row number the high 48
_REPLICATE_BITS = 16
MAX_REPLICATES = 1 << _REPLICATE_BITS
MAX_ROW = 1 << (64 - _REPLICATE_BITS)

# P(X <= j) of Poisson(1), j = 0..19; a 53-bit uniform never exceeds 1 - 2**-53, and
# P(X > 18) = 8e-18 < 2**-53, so the table covers every reachable draw
_POISSON1_CDF = np.cumsum([math.exp(-1.0) / math.factorial(j) for j in range(20)])


def splitmix64(counters: np.ndarray, seed: int) -> np.ndarray:
    """SplitMix64 of (seed, counter): a uniform 64-bit key per counter, a bijection of the
    counter for a fixed seed."""
    offset = np.uint64((int(seed) * int(_M2) + int(_M1)) % 2**64)  # Python ints: no overflow
    z = np.asarray(counters).astype(np.uint64) + offset  # array arithmetic wraps mod 2**64
    z = (z ^ (z >> np.uint64(30))) * _M2
    z = (z ^ (z >> np.uint64(27))) * _M3
    return z ^ (z >> np.uint64(31))


def poisson1_weights(rows: np.ndarray, replicates: np.ndarray, seed: int) -> np.ndarray:
    """(len(replicates), len(rows)) Poisson(1) counts, entry (b, i) a function of (seed,
    rows[i], replicates[b]) only: the uniform ``(splitmix64(row * 2**16 + replicate) >> 11)
    * 2**-53`` turned into a count by the inverse of the Poisson(1) distribution function."""
    rows = np.asarray(rows, dtype=np.int64)
    reps = np.asarray(replicates, dtype=np.int64)
    if rows.size and (rows.min() < 0 or rows.max() >= MAX_ROW):
        raise ValueError(f"row numbers must lie in [0, 2**{64 - _REPLICATE_BITS})")
    if reps.size and (reps.min() < 0 or reps.max() >= MAX_REPLICATES):
        raise ValueError(f"replicate numbers must lie in [0, {MAX_REPLICATES})")
    counters = ((rows.astype(np.uint64) << np.uint64(_REPLICATE_BITS))[None, :]
                + reps.astype(np.uint64)[:, None])
    u = (splitmix64(counters, seed) >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return np.searchsorted(_POISSON1_CDF, u, side="right").astype(np.int64)
