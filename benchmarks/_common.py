"""Shared benchmark plumbing: timing, running R peers, writing results.

Rules (CONVENTIONS.md): peers run in the same run; median of >= 5 runs after a warm-up;
thread settings stated for both sides; raw results written as JSON to benchmarks/results/;
ratios are quoted from that file. Nothing here is imported by the library or the tests.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def threads() -> dict[str, Any]:
    """Thread settings in force (BLAS pools as threadpoolctl sees them, env variables)."""
    info: dict[str, Any] = {k: os.environ.get(k) for k in (
        "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE")}
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [{k: p.get(k) for k in ("internal_api", "num_threads", "version",
                                                "architecture")} for p in threadpool_info()]
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    return info


def time_python(func: Callable[[], Any], *, repeat: int = 7, warmup: int = 1) -> dict[str, Any]:
    """Median (and all) wall-clock seconds of ``func()`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "runs_s": times, "repeat": repeat}


def time_r(setup: str, expr: str, *, repeat: int = 7, warmup: int = 1,
           timeout: float = 3600) -> dict[str, Any]:
    """Time an R expression with Rscript: ``setup`` runs once (untimed), then ``expr`` is
    evaluated ``warmup`` + ``repeat`` times; returns the median of the timed runs."""
    script = f"""
suppressPackageStartupMessages({{ {setup} }})
for (i in seq_len({warmup})) invisible({expr})
tt <- numeric({repeat})
for (i in seq_len({repeat})) {{ t0 <- proc.time()[["elapsed"]]; invisible({expr});
  tt[i] <- proc.time()[["elapsed"]] - t0 }}
cat(sprintf("%.9f", tt), sep = "\\n")
"""
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(script)
    try:
        out = subprocess.run(["Rscript", "--vanilla", fh.name], capture_output=True, text=True,
                             timeout=timeout, check=True).stdout
    finally:
        os.unlink(fh.name)
    times = [float(x) for x in out.split()]
    return {"median_s": statistics.median(times), "runs_s": times, "repeat": repeat}


def r_versions(packages: list[str]) -> dict[str, str]:
    expr = "cat(R.version.string, " + ", ".join(
        f'paste("{p}", as.character(packageVersion("{p}")))' for p in packages) + ', sep="\\n")'
    out = subprocess.run(["Rscript", "--vanilla", "-e", expr], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()
    return {"R": out[0], **dict(line.split(" ", 1) for line in out[1:])}


def write_results(name: str, results: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` with machine and thread information."""
    import numpy

    RESULTS.mkdir(exist_ok=True)
    payload = {
        "benchmark": name,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": sys.version.split()[0], "numpy": numpy.__version__},
        "threads": threads(),
        **results,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path
