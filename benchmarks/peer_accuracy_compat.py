"""factor_analyzer (the peer) and psychoval.compat against psych 2.2.9, on the scenarios of
tests/compat (500 complete bfi respondents, tests/reference/ref_extra/compat.json), plus the
time of one fit of each in the same run. Writes results/peer_accuracy_compat.json.

Needs factor_analyzer and scikit-learn in a bench-only environment (neither is a psychoval
dependency), e.g. ``pip install --target /tmp/peers factor_analyzer scikit-learn`` then
``PYTHONPATH=src:/tmp/peers .venv/bin/python benchmarks/peer_accuracy_compat.py``.
Differences are the largest absolute cell difference after aligning factor order and signs
to R's (psych reorders and flips factors; factor_analyzer orders by a different variance).
"""

from __future__ import annotations

import itertools
import json
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
ROOT = HERE.parent
ROTATION = {"none": None, "geominQ": "geomin_obl", "geominT": "geomin_ort"}


def _align(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, list[int], np.ndarray]:
    m = a.shape[1]
    order = list(min(itertools.permutations(range(m)),
                     key=lambda o: np.abs(np.abs(a[:, list(o)]) - np.abs(b)).sum()))
    signs = np.sign((a[:, order] * b).sum(axis=0))
    signs[signs == 0] = 1.0
    return a[:, order] * signs, order, signs


def _gaps(est, ref: dict) -> dict[str, float]:
    lo = np.asarray(ref["loadings"])
    aligned, order, signs = _align(np.asarray(est.loadings_), lo)
    out = {"loadings": float(np.abs(aligned - lo).max()),
           "communalities": float(np.abs(est.get_communalities() - ref["communalities"]).max()),
           "values": float(np.abs(est.get_eigenvalues()[1] - ref["values"]).max())}
    if "phi" in ref and est.phi_ is not None:
        phi = np.asarray(est.phi_)[np.ix_(order, order)] * np.outer(signs, signs)
        out["phi"] = float(np.abs(phi - np.asarray(ref["phi"])).max())
    return out


def _median_time(fn, runs: int = 5) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    import factor_analyzer
    import factor_analyzer.factor_analyzer as fam
    import sklearn
    from sklearn.utils import check_array

    from psychoval.compat import FactorAnalyzer

    def _check_array(x, force_all_finite=True, **kw):  # factor_analyzer 0.5.1 on sklearn >= 1.8
        return check_array(x, ensure_all_finite=force_all_finite, **kw)

    fam.check_array = _check_array
    checks = {c["id"]: c for c in json.loads(
        (ROOT / "tests/reference/ref_extra/compat.json").read_text())["checks"]}
    bfi = pd.read_csv(ROOT / "tests/reference/data/bfi.csv")
    x = bfi.iloc[:, :25].dropna().iloc[:500].reset_index(drop=True)
    rows = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cid, check in checks.items():
            if not cid.startswith("fa."):
                continue
            _fa, fm, rot, nf = cid.split(".")
            kw = {"n_factors": int(nf), "method": fm, "rotation": ROTATION.get(rot, rot)}
            peer = fam.FactorAnalyzer(svd_method="lapack", **kw).fit(x)
            ours = FactorAnalyzer(**kw).fit(x)
            rows[cid] = {"factor_analyzer": _gaps(peer, check["values"]),
                         "psychoval_compat": _gaps(ours, check["values"])}
        kw = {"n_factors": 3, "method": "minres", "rotation": "promax"}
        timing = {"factor_analyzer_s": _median_time(lambda: fam.FactorAnalyzer(**kw).fit(x)),
                  "psychoval_compat_s": _median_time(lambda: FactorAnalyzer(**kw).fit(x))}
    out = {"versions": {"factor_analyzer": factor_analyzer.__version__ if hasattr(
               factor_analyzer, "__version__") else "0.5.1", "scikit_learn": sklearn.__version__},
           "data": "500 complete bfi respondents, 25 items", "reference": "psych 2.2.9",
           "max_abs_difference": rows,
           "fit_time_minres_promax_3": timing, "threads": "OPENBLAS_NUM_THREADS as set"}
    dest = HERE / "results" / "peer_accuracy_compat.json"
    dest.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    for cid, r in rows.items():
        print(cid, {k: {q: f"{g:.1e}" for q, g in v.items()} for k, v in r.items()})
    print(timing)


if __name__ == "__main__":
    main()
