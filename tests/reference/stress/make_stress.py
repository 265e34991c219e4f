"""Generate the seeded CFA convergence stress suite (data + problem list).

Run from the repository root::

    .venv/bin/python tests/reference/stress/make_stress.py            # write npz, json, CSVs
    .venv/bin/python tests/reference/stress/make_stress.py --check    # regenerate, compare

Writes, beside this file,

- ``cfa_stress_data.npz``: one int8 array per problem (``p0001`` ...), rows are respondents,
  columns the items ``y1..yP`` in order; Likert items are 1..5, binary items 0/1, a missing
  cell is -1;
- ``cfa_stress_models.json``: per problem its id, family, structure, lavaan model syntax, n,
  item type, realised fraction of missing cells, the ``missing=`` option to fit it with
  (``"fiml"`` when any cell is missing, else ``"listwise"``, lavaan's default) and its seed;

and, for ``../r/cfa_stress.R`` only (not committed), one CSV per problem in ``--csv-dir``
(default ``/tmp/cfa_stress_csv``), with an empty field for a missing cell.

Every problem is simulated from its own ``numpy.random.default_rng(seed)``: the design
(number of factors and items, loadings, factor correlations, n, item type, missing fraction)
and then the data. Items are a latent normal response ``y* = Lambda eta + e`` with unit
variance, cut at thresholds (5-point Likert) or at one threshold (0/1). Missing cells are
MCAR. A draw whose data are degenerate (an item with fewer than 5 responses off its modal
category, a singular covariance matrix) is redrawn from the same generator, so the data stay
a pure function of the seed. The tests read the committed npz; they never regenerate.

Families: ``one_factor``, ``correlated`` (2-5 factors), ``second_order`` (one higher-order
factor over 3-5 first-order factors, marker identification), ``bifactor`` (general + 2-4
group factors, all latent covariances fixed at zero explicitly: ``g ~~ 0*s1``...),
``weak_marker`` (any of those structures with first-indicator loadings from .05-.30),
``small_n`` (n 120-200) and ``hard`` (a dozen hand-made designs: a near-zero factor
correlation with a weak marker, Heywood-prone small samples, a weak second-order loading...).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
NPZ = HERE / "cfa_stress_data.npz"
MODELS = HERE / "cfa_stress_models.json"
BASE_SEED = 20260400
FAMILIES = (("one_factor", 80), ("correlated", 120), ("second_order", 80), ("bifactor", 80),
            ("weak_marker", 80), ("small_n", 80))
STRUCTURES = ("one_factor", "correlated", "second_order", "bifactor")
# FIML problems cost one likelihood piece per missingness pattern (almost one per row): at
# most FIML_ITEMS items and n * items at most FIML_CELLS (but n >= 300 outside small_n), so
# that the full suite runs in minutes on both sides
FIML_CELLS = 4000
FIML_ITEMS = 20
# complete problems: n * items at most this (keeps the npz near 3 MB)
COMPLETE_CELLS = 45000


@dataclasses.dataclass
class Design:
    """A simulated problem before its data: standardized loadings and latent correlations."""

    structure: str
    loads: list[np.ndarray]  # first-order (or group) loadings, one array per factor
    phi: np.ndarray | None = None  # correlated: factor correlation matrix
    gamma: np.ndarray | None = None  # second_order: loadings of the first-order factors on h
    general: np.ndarray | None = None  # bifactor: loadings on g, all items in order
    n: int = 300
    item_type: str = "likert5"
    missing_fraction: float = 0.0
    note: str = ""

    @property
    def n_items(self) -> int:
        return int(sum(len(a) for a in self.loads))

    def blocks(self) -> list[list[str]]:
        names, start = [], 0
        for a in self.loads:
            names.append([f"y{start + i + 1}" for i in range(len(a))])
            start += len(a)
        return names

    def syntax(self) -> str:
        blocks = self.blocks()
        if self.structure == "bifactor":
            items = [v for b in blocks for v in b]
            lines = ["g =~ " + " + ".join(items)]
            lines += [f"s{j + 1} =~ " + " + ".join(b) for j, b in enumerate(blocks)]
            lvs = ["g"] + [f"s{j + 1}" for j in range(len(blocks))]
            lines += [f"{a} ~~ 0*{b}" for i, a in enumerate(lvs) for b in lvs[i + 1:]]
            return "\n".join(lines)
        lines = [f"f{j + 1} =~ " + " + ".join(b) for j, b in enumerate(blocks)]
        if self.structure == "second_order":
            lines.append("h =~ " + " + ".join(f"f{j + 1}" for j in range(len(blocks))))
        return "\n".join(lines)

    def latent_response_cov(self) -> np.ndarray:
        """Correlation matrix of the latent responses y* (unit variances)."""
        p, m = self.n_items, len(self.loads)
        if self.structure == "bifactor":
            lam = np.zeros((p, m + 1))
            lam[:, 0] = self.general
            phi = np.eye(m + 1)
            col0 = 1
        else:
            lam = np.zeros((p, m))
            col0 = 0
            if self.structure == "second_order":
                g = self.gamma
                phi = np.outer(g, g) + np.diag(1.0 - g**2)
            elif self.structure == "correlated":
                phi = self.phi
            else:
                phi = np.eye(1)
        row = 0
        for j, a in enumerate(self.loads):
            lam[row:row + len(a), col0 + j] = a
            row += len(a)
        common = lam @ phi @ lam.T
        h2 = np.diag(common)
        if np.any(h2 >= 0.99):
            raise ValueError(f"communality {h2.max():.3f} >= .99")
        return common + np.diag(1.0 - h2)


def _loglog_n(rng: np.random.Generator, lo: int, hi: int) -> int:
    return int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))


def _block_sizes(rng: np.random.Generator, m: int, lo: int, hi: int, total: int) -> list[int]:
    k = [int(v) for v in rng.integers(lo, hi + 1, size=m)]
    while sum(k) > total:
        k[int(np.argmax(k))] -= 1
    return k


def _design(family: str, rng: np.random.Generator) -> Design:
    """Draw a design of one of the regular families."""
    small = family == "small_n"
    weak = family == "weak_marker"
    if family in STRUCTURES:
        structure = family
    else:
        structure = str(rng.choice(STRUCTURES, p=[0.25, 0.35, 0.2, 0.2]))
    hi_items = 8 if small else 12
    item_type = "likert5" if rng.random() < 0.6 else "binary"
    missing_fraction = float(rng.uniform(0.01, 0.10)) if rng.random() < 0.4 else 0.0
    # FIML problems: at most FIML_ITEMS items (their cost grows with items x patterns)
    cap_items = FIML_ITEMS if missing_fraction > 0 else 10_000
    if structure == "one_factor":
        loads = [rng.uniform(0.4, 0.85, size=int(rng.integers(3, hi_items + 1)))]
        d = Design(structure, loads)
    elif structure == "correlated":
        m = int(rng.integers(2, 6))
        k = _block_sizes(rng, m, 3, hi_items, min(cap_items, 24 if small else 36))
        loads = [rng.uniform(0.4, 0.85, size=kk) for kk in k]
        a = rng.uniform(0.2, 0.8, size=m) * np.where(rng.random(m) < 0.15, -1.0, 1.0)
        phi = np.outer(a, a) + np.diag(1.0 - a**2)
        d = Design(structure, loads, phi=phi)
    elif structure == "second_order":
        m = int(rng.integers(3, 6))
        k = _block_sizes(rng, m, 3, 6 if small else 8, min(cap_items, 24 if small else 36))
        loads = [rng.uniform(0.45, 0.85, size=kk) for kk in k]
        d = Design(structure, loads, gamma=rng.uniform(0.45, 0.9, size=m))
    else:
        m = int(rng.integers(2, 5))
        k = _block_sizes(rng, m, 3, 6 if small else 8, min(cap_items, 24 if small else 32))
        loads = [rng.uniform(0.25, 0.6, size=kk) for kk in k]
        general = rng.uniform(0.3, 0.65, size=sum(k))
        d = Design(structure, loads, general=general)
    if weak:
        m = len(d.loads)
        chosen = rng.random(m) < 0.5
        chosen[int(rng.integers(m))] = True
        lv = "s" if structure == "bifactor" else "f"
        weak_notes = []
        for j in np.flatnonzero(chosen):
            d.loads[j][0] = rng.uniform(0.05, 0.30)
            weak_notes.append(f"{lv}{j + 1} {d.loads[j][0]:.2f}")
        if structure == "bifactor" and rng.random() < 0.5:
            d.general[0] = rng.uniform(0.05, 0.30)
            weak_notes.insert(0, f"g {d.general[0]:.2f}")
        d.note = "weak marker loadings (standardized, generating): " + ", ".join(weak_notes)
    if structure == "bifactor":  # keep communalities below .85
        row = 0
        for a in d.loads:
            for i in range(len(a)):
                h2 = a[i] ** 2 + d.general[row] ** 2
                if h2 > 0.85:
                    s = math.sqrt(0.85 / h2)
                    a[i] *= s
                    d.general[row] *= s
                row += 1
    d.n = int(rng.integers(120, 201)) if small else _loglog_n(rng, 300, 2000)
    d.item_type = item_type
    d.missing_fraction = missing_fraction
    cap = FIML_CELLS if d.missing_fraction > 0 else COMPLETE_CELLS
    if d.n * d.n_items > cap:
        d.n = max(120 if small else 300, cap // d.n_items)
    return d


def _hard_designs() -> list[Design]:
    """Hand-made designs that are hard to fit (each with a note saying why)."""
    a = np.array
    return [
        Design("correlated", [a([0.10, 0.7, 0.7, 0.6]), a([0.7, 0.6, 0.7, 0.6])],
               phi=a([[1.0, 0.02], [0.02, 1.0]]), n=300,
               note="near-zero factor correlation (.02) with a weak marker (.10)"),
        Design("correlated", [a([0.08, 0.6, 0.7]), a([0.6, 0.7, 0.6])],
               phi=a([[1.0, 0.03], [0.03, 1.0]]), n=150, item_type="binary",
               note="near-zero factor correlation (.03), marker .08, binary, n = 150"),
        Design("correlated", [a([0.05, 0.7, 0.6]), a([0.7, 0.6, 0.6])],
               phi=a([[1.0, 0.05], [0.05, 1.0]]), n=160, missing_fraction=0.10,
               note="marker .05, factor correlation .05, 10% missing (FIML), n = 160"),
        Design("one_factor", [a([0.95, 0.90, 0.40])], n=120, item_type="binary",
               note="Heywood-prone: 3 binary items with loadings .95/.90, n = 120"),
        Design("one_factor", [a([0.98, 0.30, 0.30, 0.30])], n=150,
               note="Heywood-prone: one loading .98 beside three of .30, n = 150"),
        Design("correlated", [a([0.97, 0.6, 0.5]), a([0.5, 0.96, 0.6])],
               phi=a([[1.0, 0.4], [0.4, 1.0]]), n=130,
               note="Heywood-prone: loadings .97 and .96 with 3 items a factor, n = 130"),
        Design("one_factor", [a([0.6] * 12)], n=120, item_type="binary",
               note="12 binary items near floor/ceiling (thresholds +-1.5), n = 120"),
        Design("second_order", [a([0.7, 0.6, 0.6, 0.7]), a([0.6, 0.7, 0.6, 0.6]),
                                a([0.7, 0.6, 0.7, 0.6])],
               gamma=a([0.10, 0.8, 0.8]), n=400,
               note="weak second-order loading (.10) on the marker first-order factor f1"),
        Design("second_order", [a([0.7, 0.6, 0.6]), a([0.6, 0.7, 0.6]), a([0.7, 0.6, 0.7]),
                                a([0.6, 0.6, 0.7])],
               gamma=a([0.8, 0.7, 0.12, 0.8]), n=200,
               note="weak second-order loading (.12) on a non-marker factor (f3), n = 200"),
        Design("second_order", [a([0.15, 0.7, 0.6]), a([0.6, 0.7, 0.6]), a([0.7, 0.6, 0.7])],
               gamma=a([0.15, 0.7, 0.8]), n=120,
               note="second-order with weak marker (.15) and weak second-order loading (.15)"),
        Design("correlated", [a([0.7, 0.6, 0.6]), a([0.6, 0.7, 0.6]), a([0.7, 0.6, 0.7]),
                              a([0.6, 0.6, 0.7])],
               phi=a([[1.0, 0.95, 0.3, 0.3], [0.95, 1.0, 0.3, 0.3], [0.3, 0.3, 1.0, 0.3],
                      [0.3, 0.3, 0.3, 1.0]]), n=200,
               note="near-singular factor correlations (.95 between f1 and f2), n = 200"),
        Design("bifactor", [a([0.2, 0.2, 0.25]), a([0.2, 0.25, 0.2])],
               general=a([0.6, 0.7, 0.6, 0.7, 0.6, 0.7]), n=250,
               note="bifactor, 2 group factors of 3 items with weak group loadings (.2)"),
    ]


def _thresholds(rng: np.random.Generator, d: Design, hard_extreme: bool) -> list[np.ndarray]:
    p = d.n_items
    if d.item_type == "binary":
        if hard_extreme:
            return [np.array([1.5 if i % 2 == 0 else -1.5]) for i in range(p)]
        return [np.array([rng.uniform(-1.0, 1.0)]) for _ in range(p)]
    base = np.array([-1.5, -0.5, 0.5, 1.5])
    return [base * rng.uniform(0.8, 1.2) + rng.uniform(-0.6, 0.6) for _ in range(p)]


def _usable(x: np.ndarray, complete: bool) -> bool:
    for j in range(x.shape[1]):
        col = x[:, j]
        col = col[col >= 0]
        if len(col) < 20:
            return False
        _, counts = np.unique(col, return_counts=True)
        if len(counts) < 2 or len(col) - counts.max() < 5:
            return False
    if complete:
        r = np.corrcoef(x.astype(float), rowvar=False)
        if not np.all(np.isfinite(r)) or np.linalg.eigvalsh(r).min() < 1e-6:
            return False
    return True


def _simulate(d: Design, rng: np.random.Generator, hard_extreme: bool = False) -> np.ndarray:
    sigma = d.latent_response_cov()
    chol = np.linalg.cholesky(sigma)
    for _ in range(100):
        y = rng.standard_normal((d.n, d.n_items)) @ chol.T
        taus = _thresholds(rng, d, hard_extreme)
        x = np.empty(y.shape, dtype=np.int8)
        for j, tau in enumerate(taus):
            x[:, j] = np.searchsorted(tau, y[:, j]) + (1 if d.item_type == "likert5" else 0)
        if d.missing_fraction > 0:
            x[rng.random(x.shape) < d.missing_fraction] = -1
        if _usable(x, d.missing_fraction == 0):
            return x
    raise RuntimeError("no usable draw in 100 tries")


def build() -> tuple[list[dict], dict[str, np.ndarray]]:
    """All problems: (the problem list, {id: int8 data})."""
    problems: list[dict] = []
    data: dict[str, np.ndarray] = {}
    plan = [(fam, False, None) for fam, count in FAMILIES for _ in range(count)]
    plan += [("hard", True, h) for h in _hard_designs()]
    for i, (family, hard, design) in enumerate(plan):
        pid = f"p{i + 1:04d}"
        seed = BASE_SEED + i
        rng = np.random.default_rng(seed)
        d = design if design is not None else _design(family, rng)
        x = _simulate(d, rng, hard_extreme=hard and "floor/ceiling" in d.note)
        frac = float(np.mean(x < 0))
        problems.append({
            "id": pid, "family": family, "structure": d.structure, "hard": hard,
            "model": d.syntax(), "n": int(d.n), "n_items": d.n_items,
            "n_factors": len(d.loads), "item_type": d.item_type,
            "missing_fraction": round(frac, 6), "missing": "fiml" if frac > 0 else "listwise",
            "seed": seed, "note": d.note,
        })
        data[pid] = x
    return problems, data


def write_csv(x: np.ndarray, path: Path) -> None:
    header = ",".join(f"y{j + 1}" for j in range(x.shape[1]))
    lines = [header] + [",".join("" if v < 0 else str(int(v)) for v in row) for row in x]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv-dir", default="/tmp/cfa_stress_csv",
                    help="where to write one CSV per problem for the R script")
    ap.add_argument("--check", action="store_true",
                    help="regenerate and compare with the committed npz and json; write nothing")
    args = ap.parse_args(argv)
    problems, data = build()
    if args.check:
        with np.load(NPZ) as z:
            same = sorted(z.files) == sorted(data) and all(
                np.array_equal(z[k], data[k]) and z[k].dtype == np.int8 for k in data)
        same = same and json.loads(MODELS.read_text(encoding="utf-8"))["problems"] == problems
        print("identical" if same else "DIFFERENT")
        return 0 if same else 1
    np.savez_compressed(NPZ, **data)
    meta = {
        "description": "Seeded CFA convergence stress suite (tests/reference/stress/"
                       "make_stress.py); data in cfa_stress_data.npz (int8, missing = -1)",
        "generator": "numpy.random.default_rng(seed) per problem, numpy " + np.__version__,
        "n_problems": len(problems),
        "problems": problems,
    }
    MODELS.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    out = Path(args.csv_dir)
    out.mkdir(parents=True, exist_ok=True)
    for pid, x in data.items():
        write_csv(x, out / f"{pid}.csv")
    print(f"{len(problems)} problems; {NPZ.name} {NPZ.stat().st_size / 1e6:.2f} MB; "
          f"CSVs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
