"""The CLI skeleton: main(argv) -> int, exit codes as CONVENTIONS.md."""

from __future__ import annotations

import subprocess
import sys

import pytest

import psychoval as pv
from psychoval.cli import _common as cli_common
from psychoval.cli import _main as cli_main
from psychoval.cli import main


def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert ("Exit codes: 0 ran, 1 --strict and a criterion failed, 2 usage error, 3 data or "
            "specification error (also an input file that cannot be read), 4 estimation "
            "failed, 5 an output could not be written (no file is left truncated); when "
            "stdout is closed early (| head) the command ends quietly with 141. '-' as the "
            "file of --json, --md or --html means stdout.") in out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"psychoval {pv.__version__}"


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == cli_main.EXIT_USAGE
    assert "usage: psychoval" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["frobnicate"]) == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_python_dash_m_runs_the_same_cli():
    out = subprocess.run([sys.executable, "-m", "psychoval", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == f"psychoval {pv.__version__}"


def test_help_and_import_stay_light():
    """--help loads no numpy/pandas/scipy; `import psychoval` loads no scipy and no extras."""
    code = (
        "import sys\n"
        "from psychoval.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['--help'])\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'scipy') if m in sys.modules))\n"
        "import psychoval\n"
        "heavy = ('scipy', 'matplotlib', 'openpyxl', 'pyarrow', 'duckdb', 'statsmodels', 'yaml')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "[]"]


@pytest.mark.parametrize(
    ("exc", "code"),
    [(pv.DataError("item 'q1' is bad"), 3), (pv.SpecificationError("bad model"), 3),
     (pv.EstimationError("no solution"), 4),
     (FileNotFoundError(2, "No such file or directory", "in.csv"), 3),
     (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), 3),
     (cli_common.OutputError("cannot write r.json: No space left on device"), 5),
     (cli_common.UsageError("only one output can go to stdout"), 2)],
)
def test_errors_map_to_exit_codes(monkeypatch, capsys, exc, code):
    """A command raising our errors (or failing to read its input) exits 2-5 with one message
    and no traceback."""
    import types

    fake = types.ModuleType("psychoval_fake_cmd")
    fake.add_arguments = lambda p: None

    def run(args):
        raise exc

    fake.run = run
    monkeypatch.setitem(sys.modules, "psychoval_fake_cmd", fake)
    monkeypatch.setitem(cli_main.COMMANDS, "fake", ("psychoval_fake_cmd", "a test command"))
    assert main(["fake"]) == code
    err = capsys.readouterr().err
    expected = {FileNotFoundError: "in.csv: cannot read the file: No such file or directory",
                UnicodeDecodeError: "cannot read the input: not UTF-8 text (byte 0xff at "
                                    "offset 0); save it as UTF-8"}.get(type(exc), str(exc))
    kind = "estimation failed" if code == 4 else "error"
    assert err == f"psychoval fake: {kind}: {expected}\n"


def test_a_bug_still_shows_its_traceback(monkeypatch):
    """Only the failures the exit codes name are turned into messages: a programming error
    propagates (a traceback is what a bug report needs)."""
    import types

    fake = types.ModuleType("psychoval_fake_bug")
    fake.add_arguments = lambda p: None
    fake.run = lambda args: [][1]
    monkeypatch.setitem(sys.modules, "psychoval_fake_bug", fake)
    monkeypatch.setitem(cli_main.COMMANDS, "bug", ("psychoval_fake_bug", "a test command"))
    with pytest.raises(IndexError):
        main(["bug"])


def test_gaps_writes_the_per_person_table_and_json(tmp_path, capsys):
    import json
    from pathlib import Path

    import pandas as pd

    sample = Path(pv.__file__).parent / "datasets" / "data"
    out = tmp_path / "o"
    rc = main(["gaps", str(sample / "responses.csv"), "--framework",
               str(sample / "framework.yaml"), "--csv", str(out / "p.csv"), "--json",
               str(out / "g.json"), "--exclude", "ethics"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "Share below target" in text and "engineering" in text
    persons = pd.read_csv(out / "p.csv", dtype={"id": str})
    assert persons["id"].iloc[0] == "R0001"
    assert set(persons.loc[persons["competency"] == "ethics", "status"]) == {"not used"}
    doc = json.loads((out / "g.json").read_text())
    assert doc["schema"] == "psychoval.skills_gap/1"
    targets = tmp_path / "t.csv"
    targets.write_text("role,competency,target\nsales,prompting,3.5\n")
    assert main(["gaps", str(sample / "responses.csv"), "--framework",
                 str(sample / "framework.yaml"), "--targets", str(targets)]) == 0
    assert "sales" in capsys.readouterr().out
