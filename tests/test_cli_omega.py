"""``psychoval omega``: runs, writes JSON, maps errors to exit code 3."""

from __future__ import annotations

import json

from psychoval.cli import main
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
    assert main(["omega", str(csv), "--items", NINE, "--json", "-"]) == 0  # the same
    assert json.loads(capsys.readouterr().out) == d


def test_cli_omega_sem(capsys):
    """The CLI shows every warning as one line on stderr (not Python's warning display)."""
    csv = HERE / "data" / "HolzingerSwineford1939.csv"
    assert main(["omega", str(csv), "--items", NINE, "--sem"]) == 0
    cap = capsys.readouterr()
    assert "bifactor CFA" in cap.out
    assert cap.err.startswith("psychoval omega: warning: bifactor CFA: inadmissible solution: "
                              "x1 ~~ x1 = -0.8374 is a negative residual variance")


def test_cli_omega_errors(capsys):
    csv = HERE / "data" / "HolzingerSwineford1939.csv"
    assert main(["omega", str(csv), "--items", "x1,x2,x3,x4,x5,x6", "--n-factors", "2"]) == 3
    assert "sl_option='equal'" in capsys.readouterr().err
    assert main(["omega", str(csv), "--method", "nope"]) == 2
