"""docs/migrating.md: every psychoval name it shows exists, and its worked example runs."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import psychoval as pv
import psychoval.compat as compat
from psychoval.stats import CFAResult

PAGE = (Path(__file__).parents[1] / "docs" / "migrating.md").read_text(encoding="utf-8")


def _names(pattern: str) -> set[str]:
    return set(re.findall(pattern, PAGE))


def test_every_pv_name_exists():
    names = _names(r"\bpv\.(\w+)")
    assert {"alpha", "omega", "efa", "parallel_analysis", "describe", "polychoric", "icc",
            "cohen_kappa", "cfa", "compare", "htmt", "invariance", "dif"} <= names
    missing = sorted(n for n in names if not hasattr(pv, n))
    assert missing == []


def test_every_compat_name_exists():
    names = _names(r"psychoval\.compat\.(\w+)") | set(
        re.findall(r"from psychoval\.compat import ([\w, ]+)", PAGE)[0].replace(" ", "")
        .split(","))
    assert names == {"FactorAnalyzer", "calculate_kmo", "calculate_bartlett_sphericity",
                     "cronbach_alpha"}
    assert all(hasattr(compat, n) for n in names)


def test_every_cfa_result_member_exists():
    members = _names(r"\bfit\.(\w+)")
    fields = {f.name for f in dataclasses.fields(CFAResult)}
    assert {"estimates", "standardized", "modindices", "fit_measures"} <= members
    assert sorted(m for m in members if not hasattr(CFAResult, m) and m not in fields) == []


def test_every_factor_analyzer_member_exists():
    code = re.sub(r"#.*", "", "\n".join(re.findall(r"```python\n(.*?)```", PAGE, re.S)))
    members = set(re.findall(r"\bfa\.(\w+)", code)) | _names(r"`(\w+_)`")
    assert {"loadings_", "get_communalities", "phi_", "rotation_matrix_"} <= members
    fa = compat.FactorAnalyzer()
    assert sorted(m for m in members if not hasattr(fa, m)) == []


@pytest.mark.filterwarnings("ignore::psychoval.PsychovalWarning")
def test_worked_example_runs():
    block = re.findall(r"```python\n(.*?)```", PAGE, re.S)[-1]
    assert "A worked example" in PAGE.split(block)[0].rsplit("##", 1)[-1]
    namespace: dict = {}
    exec(compile(block, "docs/migrating.md", "exec"), namespace)  # noqa: S102
    assert namespace["fit"].converged and namespace["fa"].loadings_.shape == (9, 3)
