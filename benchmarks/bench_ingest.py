"""Ingest speed and memory: psychoval.read_responses vs pandas.read_csv (same run), and the
DataFrame -> matrix step of the statistics (pv.alpha on a DataFrame vs on an array).

1. Reading a ~95 MB CSV (2,000,000 respondents x 20 integer Likert items 1-5, about 3% empty
   cells, and an id column of zero-padded numbers such as ``0001234``, which must stay text):
   - psychoval.read_responses(path, id_column="id") with pyarrow installed (its CSV reader,
     every cell read as text), and with pyarrow hidden (the pandas C parser fallback);
   - peers: pandas.read_csv(path, engine="pyarrow") (types inferred: the ids become
     integers, which is what psychoval must not do) and pandas.read_csv(path) (C engine).
   Time: median of >= 5 runs after a warm-up, in one process per reader. Peak memory: the
   peak resident set (ru_maxrss) of a fresh process that imports the reader and reads the
   file once, beside that process's peak after the imports alone.
2. pv.alpha (which computes its item table: alpha if dropped, item statistics, response
   frequencies) on a 1,000,000 x 50 float64 DataFrame and on the same data as a
   C-contiguous array, with one X'X (``x.T @ x`` of that array) as the floor, same process.

Run from the repository root:  PYTHONPATH=src .venv/bin/python benchmarks/bench_ingest.py
(``--quick`` for a small smoke run that writes nothing). Writes benchmarks/results/ingest.json.
Threads: pyarrow's CPU pool for both pyarrow readers (its size is recorded), numpy's BLAS
threads as found (see ``threads`` in the JSON). The machine has 2 shared cores: compare only
within a run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import HERE, time_python, write_results  # noqa: E402

ROOT = HERE.parent
SRC = ROOT / "src"


def make_csv(path: Path, n: int, k: int = 20, seed: int = 15, missing: float = 0.03) -> None:
    """Write the test file: ``id`` (zero-padded 7-digit numbers), q1..qk Likert 1-5 with
    ``missing`` empty cells, built as bytes in blocks (seeded)."""
    rng = np.random.default_rng(seed)
    with open(path, "wb") as fh:
        fh.write(("id," + ",".join(f"q{j + 1}" for j in range(k)) + "\n").encode())
        step = 200_000
        for start in range(0, n, step):
            rows = min(step, n - start)
            ids = np.char.zfill(np.arange(start, start + rows).astype("U7"), 7)
            digits = rng.integers(1, 6, size=(rows, k)).astype("U1")
            digits[rng.random((rows, k)) < missing] = ""
            lines = [i + "," + ",".join(r) for i, r in zip(ids.tolist(), digits.tolist(),
                                                         strict=True)]
            fh.write(("\n".join(lines) + "\n").encode())


READERS = {
    "psychoval": ("import psychoval as pv",
                  "pv.read_responses(PATH, id_column='id')"),
    "psychoval_pandas_parser": (
        "import psychoval as pv, psychoval.io._read as r; r._arrow_available = lambda: False",
        "pv.read_responses(PATH, id_column='id')"),
    "pandas_pyarrow": ("import pandas as pd, pyarrow",
                       "pd.read_csv(PATH, engine='pyarrow')"),
    "pandas_c": ("import pandas as pd", "pd.read_csv(PATH)"),
}

TIMING = """
import json, sys, resource
sys.path.insert(0, {bench!r})
from _common import time_python
{setup}
PATH = {path!r}
r = time_python(lambda: {call}, repeat={repeat}, warmup=1)
print(json.dumps(r))
"""

PEAK = """
import json, resource
{setup}
PATH = {path!r}
after_imports = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = {call}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"peak_rss_mb": peak, "peak_rss_after_imports_mb": after_imports}}))
"""


def run_python(code: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_read(path: Path, repeat: int) -> dict:
    res: dict = {}
    for name, (setup, call) in READERS.items():
        timing = run_python(TIMING.format(bench=str(HERE), setup=setup, path=str(path),
                                          call=call, repeat=repeat))
        peak = run_python(PEAK.format(setup=setup, path=str(path), call=call))
        res[name] = {**timing, **peak}
    ours, peer = res["psychoval"], res["pandas_pyarrow"]
    res["ratio_psychoval_over_pandas_pyarrow"] = ours["median_s"] / peer["median_s"]
    res["ratio_psychoval_pandas_parser_over_pandas_c"] = (
        res["psychoval_pandas_parser"]["median_s"] / res["pandas_c"]["median_s"])
    return res


def check_read(path: Path) -> dict:
    """What each reader makes of the ids (psychoval: text as written)."""
    import pandas as pd

    import psychoval as pv

    table = pv.read_responses(path, id_column="id")
    peer = pd.read_csv(path, engine="pyarrow", nrows=None).head(3)
    return {"psychoval_ids_head": [str(v) for v in table.ids[:3]],
            "pandas_pyarrow_ids_head": [repr(v) for v in peer["id"].tolist()],
            "shape": list(table.shape),
            "missing_cells": int(np.isnan(table.values.to_numpy()).sum())}


def bench_matrix(n: int, k: int, repeat: int) -> dict:
    import pandas as pd

    import psychoval as pv

    rng = np.random.default_rng(1)
    f = rng.standard_normal((n, 1), dtype=np.float32)
    e = rng.standard_normal((n, k), dtype=np.float32)
    x = np.ascontiguousarray(np.clip(np.round(3.5 + f + 1.2 * e), 1, 6).astype(np.float64))
    df = pd.DataFrame(x, columns=[f"q{j + 1}" for j in range(k)])
    res = {
        "xtx": time_python(lambda: x.T @ x, repeat=repeat),
        "alpha_array": time_python(lambda: pv.alpha(x), repeat=repeat),
        "alpha_dataframe": time_python(lambda: pv.alpha(df), repeat=repeat),
    }
    a, b = pv.alpha(x), pv.alpha(df)
    res["same_alpha"] = bool(a.raw_alpha == b.raw_alpha)
    res["item_table_rows"] = int(len(b.item_stats))
    res["dataframe_block_f_contiguous"] = bool(df.to_numpy().flags.f_contiguous)
    res["ratio_alpha_array_over_xtx"] = res["alpha_array"]["median_s"] / res["xtx"]["median_s"]
    res["ratio_alpha_dataframe_over_xtx"] = (res["alpha_dataframe"]["median_s"]
                                             / res["xtx"]["median_s"])
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run; writes nothing")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n_rows, n_matrix = (20_000, 20_000) if args.quick else (2_000_000, 1_000_000)
    import pandas
    import pyarrow

    import psychoval

    res: dict = {
        "versions": {"psychoval": psychoval.__version__, "pandas": pandas.__version__,
                     "pyarrow": pyarrow.__version__},
        "pyarrow_cpu_threads": pyarrow.cpu_count(),
        "notes": ["times: median of the timed runs after one warm-up, each reader in its own "
                  "process; peak memory: ru_maxrss of a fresh process reading once",
                  "2 shared cores: compare only within a run"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "likert.csv"
        make_csv(path, n_rows)
        res["read_csv"] = {"rows": n_rows, "items": 20,
                           "file_mb": path.stat().st_size / 1e6,
                           **bench_read(path, args.repeat), "check": check_read(path)}
    res["dataframe_to_matrix"] = {"rows": n_matrix, "items": 50,
                                  **bench_matrix(n_matrix, 50, args.repeat)}
    if args.quick:
        print(json.dumps(res, indent=1, default=str))
        return
    out = write_results("ingest", res)
    print(out)
    print(json.dumps(res, indent=1, default=str)[:6000])


if __name__ == "__main__":
    main()
