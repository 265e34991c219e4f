"""psychoval raters: the CLI over the rater-agreement API."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from psychoval.cli import main

DATA = Path(__file__).parent / "reference" / "data" / "rubric_ratings.csv"


def test_text_and_json_output(capsys):
    assert main(["raters", str(DATA), "--targets", "candidate", "--scale", "1", "4",
                 "--statistic", "icc", "kappa"]) == 0
    out = capsys.readouterr().out
    assert "Intraclass correlations" in out and "every pair of raters" in out
    assert main(["raters", str(DATA), "--targets", "candidate", "--raters", "rater1", "rater2",
                 "--seed", "3", "--n-boot", "50", "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert set(got) == {"icc", "kappa", "fleiss", "alpha"}
    assert got["kappa"]["schema"] == "psychoval.cohen_kappa/1"
    assert abs(got["kappa"]["kappa"] - 0.3946188340807175) < 1e-12
    assert got["alpha"]["seed"] == 3


def test_long_layout_and_errors(tmp_path, capsys):
    long = pd.read_csv(DATA).melt(id_vars="candidate", var_name="rater", value_name="score")
    path = tmp_path / "long.csv"
    long.to_csv(path, index=False)
    assert main(["raters", str(path), "--layout", "long", "--targets", "candidate",
                 "--raters", "rater", "--scores", "score", "--statistic", "icc",
                 "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert abs(got["icc"]["results"]["data"][1][1] - 0.7099020206007967) < 1e-12
    assert main(["raters", str(DATA), "--targets", "candidate", "--scale", "1", "3"]) == 3
    err = capsys.readouterr().err
    assert "rater 'rater1' gave 4 to candidate 'C02' (row 2), outside the rubric's scale" in err
    assert main(["raters", str(path), "--layout", "long", "--targets", "candidate"]) == 3
    assert "--layout long needs" in capsys.readouterr().err
