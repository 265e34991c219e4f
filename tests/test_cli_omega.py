"""``psychoval omega``: runs, writes JSON, maps errors to exit code 3."""

from __future__ import annotations

import json

import pytest

from psychoval.cli import main
from psychoval.exceptions import ImproperSolutionWarning
from tests.reference._refs import HERE

NINE = ",".join(f"x{i}" for i in range(1, 10))


def test_cli_omega_text_and_json(capsys):
    csv = HERE / "data" / "HolzingerSwineford1939.csv"
    assert main(["omega", str(csv), "--items", NINE]) == 0
    out = capsys.readouterr().out
    assert "omega hierarchical" in out and "0.449" in out
    assert main(["omega", str(csv), "--items", NINE, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["schema"] == "psychoval.omega/1" and abs(d["omega_h"] - 0.4492424) < 1e-5


def test_cli_omega_sem(capsys):
    csv = HERE / "data" / "HolzingerSwineford1939.csv"
    with pytest.warns(ImproperSolutionWarning, match="x1 ~~ x1"):
        assert main(["omega", str(csv), "--items", NINE, "--sem"]) == 0
    assert "bifactor CFA" in capsys.readouterr().out


def test_cli_omega_errors(capsys):
    csv = HERE / "data" / "HolzingerSwineford1939.csv"
    assert main(["omega", str(csv), "--items", "x1,x2,x3,x4,x5,x6", "--n-factors", "2"]) == 3
    assert "sl_option='equal'" in capsys.readouterr().err
    assert main(["omega", str(csv), "--method", "nope"]) == 2
