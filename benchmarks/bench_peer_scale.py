"""psych and lavaan beside psychoval at scale, in the same run (issue 22).

The task of ``benchmarks/peer_scale.R``: ``psych::alpha`` on n x 20 normal items (loading .7 on
one factor) and ``lavaan::cfa("F =~ i1 + ... + i5")`` on the first five; psychoval does the same
(``pv.alpha``, ``pv.cfa``) on the same model's data drawn by numpy, in memory and from
``pv.Moments`` merged over chunks of 1,000,000 rows (the streaming way: the rows are never held
together). Each run is a fresh process with the modules loaded before the clock starts (R loads psych and
lavaan before its clock); peak RSS is its ``ru_maxrss`` (R: ``/usr/bin/time``).

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_peer_scale.py [--rows 1000000]``
(Rscript with psych and lavaan on PATH). Results: ``benchmarks/results/peer_scale_compare.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

_PY = """
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np
import pandas as pd
import psychoval as pv
n, what, how = int(float(sys.argv[1])), sys.argv[2], sys.argv[3]
k = 20 if what == "alpha" else 5
chunk = 1_000_000

def block(seed, m):
    rng = np.random.default_rng(seed)
    f = rng.standard_normal(m)
    return 0.7 * f[:, None] + rng.standard_normal((m, k))

cols = [f"i{j}" for j in range(1, k + 1)]
model = "F =~ " + " + ".join(cols)
warm = block(99, 500)  # the modules loaded first, as R's library() before its clock
pv.alpha(warm) if what == "alpha" else pv.cfa(model, pd.DataFrame(warm, columns=cols))
t0 = time.perf_counter()
if how == "memory":
    x = np.vstack([block(s, min(chunk, n - a)) for s, a in enumerate(range(0, n, chunk))])
    data = x
    t1 = time.perf_counter()
    frame = pd.DataFrame(x, columns=cols, copy=False)
    out = pv.alpha(frame).raw_alpha if what == "alpha" else \\
        pv.cfa(model, frame).fit_measures["chisq"]
else:
    m = None
    for s, a in enumerate(range(0, n, chunk)):
        part = pv.Moments.from_array(block(s, min(chunk, n - a)), columns=cols,
                                     shift=None if m is None else m.shift)
        m = part if m is None else m + part
    t1 = time.perf_counter()
    out = pv.alpha(m).raw_alpha if what == "alpha" else pv.cfa(model, m).fit_measures["chisq"]
t2 = time.perf_counter()
print(json.dumps({"generate_or_summarise_s": t1 - t0, "fit_s": t2 - t1, "total_s": t2 - t0,
                  "value": float(out),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_python(n: int, what: str, how: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", _PY, str(n), what, how], capture_output=True,
                          text=True, env=env, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_r(n: int, what: str) -> dict:
    proc = subprocess.run(["/usr/bin/time", "-f", "%M KB %e s", "Rscript",
                           str(ROOT / "benchmarks" / "peer_scale.R"), str(n), what],
                          capture_output=True, text=True, check=True)
    fit = float(proc.stdout.split()[-1])
    kb, s = re.search(r"(\d+) KB ([\d.]+) s", proc.stderr).groups()
    return {"fit_s": fit, "process_s": float(s), "peak_rss_mb": int(kb) / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="1000000", help="comma-separated sizes")
    a = ap.parse_args()
    if shutil.which("Rscript") is None:
        raise SystemExit("Rscript is not on PATH (apt-get install r-cran-psych r-cran-lavaan)")
    runs = []
    for n in (int(float(s)) for s in a.rows.split(",")):
        for what in ("alpha", "cfa"):
            peer = "psych::alpha" if what == "alpha" else "lavaan::cfa"
            r = run_r(n, what)
            mem = run_python(n, what, "memory")
            mom = run_python(n, what, "moments")
            runs.append({"n": n, "task": what, peer: r, "psychoval_in_memory": mem,
                         "psychoval_from_moments": mom,
                         "fit_ratio_peer_over_psychoval": r["fit_s"] / mem["fit_s"]})
            print(json.dumps(runs[-1]), flush=True)
    out = write_results("peer_scale_compare", {
        "task": "psych::alpha on n x 20 normal items (one factor, loading .7); lavaan::cfa "
                "one factor on 5 of them; psychoval the same in memory and from Moments "
                "merged over 1,000,000-row chunks; fit_s excludes generating the data",
        "runs": runs})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
