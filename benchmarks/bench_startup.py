"""Start-up cost: `import psychoval` beyond numpy + pandas, and `psychoval --help`.

Goals (issue 2): import psychoval costs at most 0.3 s beyond importing numpy and pandas;
`psychoval --help` answers in under 1 s. Peers measured in the same run: Python + pingouin
(bench-only venv, if present) and R + psych (Rscript). Run: `.venv/bin/python benchmarks/bench_startup.py`.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_results  # noqa: E402

BENCH_ENV = Path(__file__).parent / ".bench-env" / "bin" / "python"


def wall(cmd: list[str], repeat: int = 7) -> dict:
    subprocess.run(cmd, capture_output=True, check=True)  # warm-up (file cache)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "runs_s": times, "repeat": repeat}


def importtime(py: str, repeat: int = 7) -> dict:
    """psychoval's own cumulative import time after numpy and pandas (-X importtime), which a
    loaded machine perturbs far less than the wall time of two whole interpreters."""
    times = []
    for _ in range(repeat):
        err = subprocess.run([py, "-X", "importtime", "-c", "import numpy, pandas; import psychoval"],
                             capture_output=True, text=True, check=True).stderr
        line = next(ln for ln in err.splitlines() if ln.rstrip().endswith("| psychoval"))
        times.append(int(line.split("|")[1]) / 1e6)
    return {"median_s": statistics.median(times), "runs_s": times, "repeat": repeat}


def main() -> None:
    py = sys.executable
    res = {
        "python_bare": wall([py, "-c", "pass"]),
        "numpy_pandas": wall([py, "-c", "import numpy, pandas"]),
        "numpy_pandas_psychoval": wall([py, "-c", "import numpy, pandas, psychoval"]),
        "psychoval_help": wall([str(Path(py).parent / "psychoval"), "--help"]),
        "psychoval_read_responses_first_use": wall(
            [py, "-c", "import psychoval as pv; pv.read_responses"]),
    }
    if BENCH_ENV.exists():
        res["pingouin_import"] = wall([str(BENCH_ENV), "-c", "import pingouin"])
    if shutil.which("Rscript"):
        res["r_psych_load"] = wall(["Rscript", "-e", "suppressPackageStartupMessages(library(psych))"])
    extra = res["numpy_pandas_psychoval"]["median_s"] - res["numpy_pandas"]["median_s"]
    res["psychoval_import_beyond_numpy_pandas_s"] = extra
    res["psychoval_importtime"] = importtime(py)
    path = write_results("startup", {"results": res})
    print(f"import psychoval beyond numpy+pandas: {extra * 1000:.1f} ms wall difference, "
          f"{res['psychoval_importtime']['median_s'] * 1000:.1f} ms by -X importtime "
          "(goal <= 300 ms)")
    print(f"psychoval --help: {res['psychoval_help']['median_s'] * 1000:.1f} ms (goal < 1000 ms)")
    for k in ("pingouin_import", "r_psych_load"):
        if k in res:
            print(f"{k}: {res[k]['median_s'] * 1000:.1f} ms")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
