"""pv.validate on a scanned Parquet file larger than a sample (issue 22, section 2).

Data: ``--rows`` respondents (default 2,000,000; the issue's goal is 20,000,000) x 60 Likert
items (int8, 1..5, 3% missing as nulls) and an int64 id column, generated chunk by chunk
(never materialized) and written in row groups of 1,000,000 rows: three tiers (correlating
.5) of four competencies (loading .75) of five items (loadings U(.55, .80), four sorted
N(0, .9) thresholds; the fifth item of each competency reverse-keyed) - the model of
``bench_validate_large.py``.

Measured in the same run, each in a fresh process (peak RSS is the process's own
``ru_maxrss``):

- the I/O floor: one full ``pyarrow.parquet.read_table`` of the same 61 columns;
- ``pv.validate(pv.scan_responses(path), framework, seed=1)`` (batches of 65,536 rows,
  ``sample_rows=50_000``): wall time, the streaming pass and the sample's validation.

Goal (issue 22): peak RSS <= 2 GB and time <= 3x the floor.
With ``--csv N`` the sizes up to N rows are also written as CSV and measured against one
``pyarrow.csv.read_csv`` of the file.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_stream.py [--rows 2000000]
[--keep DIR] [--csv 2000000]``. Results: ``benchmarks/results/stream.json`` (one run per size).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TIERS = {"foundation": ["F1", "F2", "F3", "F4"], "practice": ["P1", "P2", "P3", "P4"],
         "strategy": ["S1", "S2", "S3", "S4"]}
CHUNK = 1_000_000


def framework() -> dict:
    tiers = []
    for tier, comps in TIERS.items():
        tiers.append({"id": tier, "name": tier.title(), "competencies": [
            {"id": c, "name": f"Competency {c}",
             "items": [{"id": f"{c}_{j}", **({"reverse": True} if j == 5 else {})}
                       for j in range(1, 6)]} for c in comps]})
    return {"name": "Simulated streaming framework", "id_column": "rid",
            "defaults": {"type": "likert", "min": 1, "max": 5}, "tiers": tiers}


def write_parquet(n: int, path: Path, seed: int = 11) -> float:
    """Write the data chunk by chunk; returns seconds."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    # fixed item parameters, drawn once
    lam = rng.uniform(0.55, 0.80, size=(12, 5))
    thr = np.sort(rng.normal(0, 0.9, size=(12, 5, 4)), axis=2)
    names = [f"{c}_{j}" for comps in TIERS.values() for c in comps for j in range(1, 6)]
    schema = pa.schema([("rid", pa.int64())] + [(m, pa.int8()) for m in names])
    tcov = np.full((3, 3), 0.5) + 0.5 * np.eye(3)
    with pq.ParquetWriter(path, schema, compression="snappy") as writer:
        for start in range(0, n, CHUNK):
            m = min(CHUNK, n - start)
            t = rng.multivariate_normal(np.zeros(3), tcov, size=m)
            cols = [pa.array(np.arange(start, start + m, dtype=np.int64))]
            for ci in range(12):
                eta = 0.75 * t[:, ci // 4] + np.sqrt(1 - 0.75**2) * rng.standard_normal(m)
                for j in range(5):
                    y = lam[ci, j] * eta + np.sqrt(1 - lam[ci, j] ** 2) * \
                        rng.standard_normal(m)
                    x = (1 + (y[:, None] > thr[ci, j]).sum(axis=1)).astype(np.int8)
                    if j == 4:
                        x = (6 - x).astype(np.int8)
                    cols.append(pa.array(x, mask=rng.random(m) < 0.03))
            writer.write_table(pa.Table.from_arrays(cols, schema=schema),
                               row_group_size=CHUNK)
    return time.perf_counter() - t0


_FLOOR = """
import json, resource, sys, time
import pyarrow.parquet as pq
cols = json.loads(sys.argv[2])
t0 = time.perf_counter()
table = pq.read_table(sys.argv[1], columns=cols)
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "rows": table.num_rows, "peak_rss_mb":
                  resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_CSV_FLOOR = """
import json, resource, sys, time
import pyarrow.csv as pacsv
t0 = time.perf_counter()
table = pacsv.read_csv(sys.argv[1])
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "rows": table.num_rows, "peak_rss_mb":
                  resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_csv(parquet: Path, path: Path) -> float:
    """The Parquet file's rows as CSV (empty cells for missing), row group by row group."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    src = pq.ParquetFile(parquet)
    with pacsv.CSVWriter(path, src.schema_arrow) as writer:
        for g in range(src.num_row_groups):
            writer.write_table(src.read_row_group(g))
    return time.perf_counter() - t0


_VALIDATE = """
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import psychoval as pv
t0 = time.perf_counter()
scan = pv.scan_responses(sys.argv[1])
report = pv.validate(scan, pv.read_framework(sys.argv[2]), seed=1)
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "n_respondents": report.n_respondents,
                  "timings": report.timings, "notes": list(report.notes[:2]),
                  "data_quality": report.data_quality,
                  "summary": report.to_dict()["summary"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(code: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    import yaml

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="2000000", help="comma-separated sizes")
    ap.add_argument("--keep", help="folder to keep the generated files in")
    ap.add_argument("--csv", type=int, default=0, metavar="N",
                    help="at sizes up to N rows, also the same rows as CSV (floor: one "
                         "pyarrow.csv.read_csv, which holds the whole table)")
    a = ap.parse_args()
    results: dict = {"task": "pv.validate(pv.scan_responses(parquet), framework, seed=1): "
                             "60 int8 Likert items + int64 id, 3% missing; floor = one "
                             "pyarrow.parquet.read_table of the same columns; one run each, "
                             "fresh process", "goal": "peak RSS <= 2048 MB, time <= 3x floor",
                     "batch_size": 65536, "sample_rows": 50000, "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(a.keep or tmp)
        where.mkdir(parents=True, exist_ok=True)
        fw_path = where / "framework.yaml"
        fw_path.write_text(yaml.safe_dump(framework(), sort_keys=False))
        cols = ["rid"] + [f"{c}_{j}" for comps in TIERS.values() for c in comps
                          for j in range(1, 6)]
        for n in (int(s) for s in a.rows.split(",")):
            path = where / f"stream{n}.parquet"
            gen = write_parquet(n, path) if not path.exists() else None
            floor = run(_FLOOR, str(path), json.dumps(cols))
            val = run(_VALIDATE, str(path), str(fw_path))
            entry = {"rows": n, "file_mb": path.stat().st_size / 2**20, "generate_s": gen,
                     "floor": floor, "validate": val,
                     "ratio_to_floor": val["wall_s"] / floor["wall_s"],
                     "pass_ratio_to_floor": val["timings"].get("stream_pass", float("nan"))
                     / floor["wall_s"],
                     "meets_memory_goal": val["peak_rss_mb"] <= 2048,
                     "meets_time_goal": val["wall_s"] <= 3 * floor["wall_s"]}
            if n <= a.csv:
                csv = where / f"stream{n}.csv"
                csv_gen = write_csv(path, csv) if not csv.exists() else None
                cfloor = run(_CSV_FLOOR, str(csv))
                cval = run(_VALIDATE, str(csv), str(fw_path))
                entry["csv"] = {"file_mb": csv.stat().st_size / 2**20, "write_s": csv_gen,
                                "floor": cfloor, "validate": cval,
                                "ratio_to_floor": cval["wall_s"] / cfloor["wall_s"],
                                "pass_ratio_to_floor": cval["timings"]["stream_pass"]
                                / cfloor["wall_s"]}
                if not a.keep:
                    csv.unlink()
            results["sizes"][str(n)] = entry
            print(json.dumps({k: v for k, v in entry.items() if k != "validate"}, indent=1),
                  flush=True)
            print("validate:", {k: val[k] for k in ("wall_s", "peak_rss_mb")},
                  val["timings"].get("stream_pass"), flush=True)
            if not a.keep:
                path.unlink()
    out = write_results("stream", results)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
