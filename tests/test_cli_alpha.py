"""``psychoval alpha``: runs, writes JSON, maps errors to exit code 3."""

from __future__ import annotations

import json

from psychoval.cli import main
from tests.reference._refs import HERE


def test_cli_alpha_text_and_json(capsys, tmp_path):
    csv = HERE / "data" / "bfi.csv"
    assert main(["alpha", str(csv), "--items", "A1,A2,A3,A4,A5", "--reverse", "A1"]) == 0
    out = capsys.readouterr().out
    assert "Cronbach's alpha" in out and "0.703" in out
    assert main(["alpha", str(csv), "--items", "A1,A2,A3,A4,A5", "--reverse", "A1",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["schema"] == "psychoval.alpha/1" and abs(d["raw_alpha"] - 0.70301844605) < 1e-9
    # --json - is the same; --json PATH writes the file (atomically) and prints the summary
    assert main(["alpha", str(csv), "--items", "A1,A2,A3,A4,A5", "--reverse", "A1",
                 "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out) == d
    out = tmp_path / "sub" / "alpha.json"
    assert main(["alpha", str(csv), "--items", "A1,A2,A3,A4,A5", "--reverse", "A1",
                 "--json", str(out)]) == 0
    cap = capsys.readouterr()
    assert "Cronbach's alpha" in cap.out and cap.err == f"written: {out}\n"
    assert json.loads(out.read_text(encoding="utf-8")) == d
    assert [p.name for p in out.parent.iterdir()] == ["alpha.json"]


def test_cli_alpha_errors(capsys, tmp_path):
    csv = HERE / "data" / "bfi.csv"
    assert main(["alpha", str(csv), "--items", "A1,A2", "--reverse", "Z9"]) == 3
    assert "reverse= names item(s) 'Z9'" in capsys.readouterr().err
    assert main(["alpha", str(csv), "--ci-method", "nope"]) == 2
