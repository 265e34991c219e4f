"""One CLI convention (issue 23): every subcommand's shared options exist with one meaning
(checked against docs/cli.md's table), old spellings still work with one clean deprecation
line, non-item columns are refused by name, warnings are one line, and terminal tables are
aligned and wrapped."""

from __future__ import annotations

import argparse
import json
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

from psychoval._results import Summary, text_table
from psychoval.cli import main
from psychoval.cli._common import SHARED_HELP
from psychoval.cli._main import COMMANDS, build_parser
from tests.reference._refs import HERE

DOCS = Path(__file__).parents[1] / "docs" / "cli.md"
BFI = HERE / "data" / "bfi.csv"
SAMPLE = Path(__file__).parents[1] / "data" / "sample"
DEST = {"--json": "json", "--md": "md", "--id-column": "id_column", "--items": "items",
        "--framework": "framework"}


def _doc_table() -> dict[str, set[str]]:
    text = DOCS.read_text(encoding="utf-8")
    block = text.split("## Which command takes which", 1)[1].split("\n## ", 1)[0]
    rows = [r for r in block.splitlines() if r.startswith("| `")]
    head = [c.strip(" `") for c in block.splitlines()[
        next(i for i, r in enumerate(block.splitlines()) if r.startswith("| command"))
    ].strip("|").split("|")]
    out = {}
    for r in rows:
        cells = [c.strip(" `") for c in r.strip("|").split("|")]
        out[cells[0]] = {h for h, c in zip(head[1:], cells[1:], strict=True) if c == "yes"}
    return out


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_docs_table_names_every_subcommand_and_matches_the_parser():
    table = _doc_table()
    assert set(table) == set(COMMANDS)
    for name, p in _subparsers().items():
        shown = {o for a in p._actions if a.help != argparse.SUPPRESS
                 for o in a.option_strings if o in SHARED_HELP}
        assert shown == table[name], name


def test_shared_options_have_one_meaning_everywhere():
    for name, p in _subparsers().items():
        for a in p._actions:
            shared = [o for o in a.option_strings if o in SHARED_HELP]
            if not shared or a.help == argparse.SUPPRESS:
                continue
            (opt,) = shared
            assert a.dest == DEST[opt], (name, opt)
            assert a.help == SHARED_HELP[opt], (name, opt)
            if opt == "--json":
                assert a.nargs == "?" and a.const == "-", name
            else:
                assert a.nargs in (None, "+"), (name, opt)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_subcommand_help_runs_and_lists_its_shared_options(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    for opt in _doc_table()[command]:
        assert re.search(rf"\n  {re.escape(opt)}\b", out), (command, opt)


@pytest.mark.parametrize("command", ["alpha", "omega", "efa", "items"])
def test_non_item_columns_are_refused_by_name(command, capsys):
    assert main([command, str(BFI), *(["-f", "1"] if command == "efa" else [])]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"psychoval {command}: error: ")
    assert "'gender', 'education', 'age' name respondent information" in err
    assert "--items" in err and "--framework" in err
    for item in ("'A1'", "'O5'"):
        assert item not in err


def test_alpha_refuses_text_columns_and_framework_selects_scored_items(capsys):
    responses = str(SAMPLE / "responses.csv")
    fw = str(SAMPLE / "framework.yaml")
    assert main(["alpha", responses, "--id-column", "respondent_id"]) == 3
    err = capsys.readouterr().err
    assert "'job_family' name respondent information" in err and "'CON1'" in err
    assert main(["alpha", responses, "--framework", fw, "--competency", "data",
                 "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_items"] == 4  # DAT1..DAT4
    import psychoval as pv

    scored = pv.read_framework(fw).score(pv.read_responses(responses, id_column="respondent_id"))
    direct = pv.alpha(scored.scores[["DAT1", "DAT2", "DAT3", "DAT4"]])
    assert doc["raw_alpha"] == pytest.approx(direct.raw_alpha, rel=1e-12)
    assert main(["alpha", responses, "--competency", "data"]) == 3
    assert "--competency and --tier need --framework" in capsys.readouterr().err


def test_old_spellings_work_with_one_deprecation_line(capsys):
    items = "A1,A2,A3,A4,A5"
    assert main(["alpha", str(BFI), "--items", items, "--reverse", "A1", "--json", "-"]) == 0
    new = json.loads(capsys.readouterr().out)
    # --items repeated = one comma list
    assert main(["alpha", str(BFI), "--items", "A1,A2", "--items", "A3,A4,A5",
                 "--reverse", "A1", "--json", "-"]) == 0
    cap = capsys.readouterr()
    assert json.loads(cap.out)["raw_alpha"] == new["raw_alpha"] and cap.err == ""
    # efa: --factors, space-separated --items, --format json
    assert main(["efa", str(BFI), "-f", "1", "--items", items, "--json"]) == 0
    ref = json.loads(capsys.readouterr().out)
    assert main(["efa", str(BFI), "--factors", "1", "--items", *items.split(","),
                 "--format", "json"]) == 0
    cap = capsys.readouterr()
    assert json.loads(cap.out)["loadings"] == ref["loadings"]
    lines = cap.err.splitlines()
    assert lines == [
        "psychoval efa: warning: --factors 1 is deprecated; use --n-factors",
        "psychoval efa: warning: --items A1 A2 A3 A4 A5 (space-separated) is deprecated; use "
        "--items A1,A2,A3,A4,A5",
        "psychoval efa: warning: --format json is deprecated; use --json - (or nothing, for "
        "text)",
    ]
    # raters: --targets is --id-column
    data = HERE / "data" / "rubric_ratings.csv"
    assert main(["raters", str(data), "--id-column", "candidate", "--statistic", "icc",
                 "--json"]) == 0
    ref = json.loads(capsys.readouterr().out)
    assert main(["raters", str(data), "--targets", "candidate", "--statistic", "icc",
                 "--json"]) == 0
    cap = capsys.readouterr()
    assert cap.err == ("psychoval raters: warning: --targets candidate is deprecated; use "
                       "--id-column\n")
    assert json.loads(cap.out) == ref


def test_md_output_is_markdown_of_the_summary(tmp_path, capsys):
    out = tmp_path / "a.md"
    assert main(["alpha", str(BFI), "--items", "A1,A2,A3,A4,A5", "--reverse", "A1",
                 "--md", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("## Cronbach's alpha\n")
    assert "| raw alpha | 0.703 |" in text and "| item | raw_alpha |" in text
    assert main(["alpha", str(BFI), "--items", "A1,A2", "--md", "-", "--json", "-"]) == 2


def test_warnings_reach_the_terminal_as_one_clean_line(capsys):
    def run(args):
        warnings.warn("first line\nsecond line", UserWarning, stacklevel=1)
        return 0

    import psychoval.cli._alpha as mod

    original = mod.run
    mod.run = run
    try:
        assert main(["alpha", str(BFI), "--items", "A1,A2"]) == 0
    finally:
        mod.run = original
    err = capsys.readouterr().err
    assert err == "psychoval alpha: warning: first line second line\n"


def test_text_table_aligns_and_wraps():
    df = pd.DataFrame({"action": ["drop item A1 because it correlates negatively " * 3, "x"],
                       "n": [3, 12], "r": [0.5, -0.25]})
    text = text_table(df, 3)
    head, rule, first, second = text.splitlines()
    assert head.startswith("action") and not head.startswith(" ")  # no row-number column
    assert first.endswith("   3   0.500") and second.endswith("  12  -0.250")
    assert second.startswith("x ")  # text left-aligned
    # numbers formatted as text before they reached the table are numbers too
    pct = text_table(pd.DataFrame({"item": ["A1", "B22"], "pct": ["2.9", "12.5%"]}))
    assert pct.splitlines()[2:] == ["A1      2.9", "B22   12.5%"]
    wrapped = text_table(df, 3, width=40)
    assert max(len(line) for line in wrapped.splitlines()) <= 40
    assert "correlates" in wrapped and len(wrapped.splitlines()) > 4
    # a wide table continues in column blocks, each repeating the first column
    wide = pd.DataFrame({f"column_{j}": [1.0, 2.0] for j in range(12)},
                        index=pd.Index(["a", "b"], name="item"))
    blocks = text_table(wide, 3, width=50).split("\n\n")
    assert len(blocks) > 1 and all(b.startswith("item") for b in blocks)
    assert all(len(line) <= 50 for line in "\n".join(blocks).splitlines())


def test_text_table_flattens_multiindex():
    df = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("fit", "cfi"),
                                                                   ("fit", "tli")]),
                      index=pd.MultiIndex.from_tuples([("g1", "a")], names=["group", "item"]))
    assert text_table(df).splitlines() == ["group  item  fit cfi  fit tli",
                                           "-----  ----  -------  -------",
                                           "g1     a           1        2"]


def test_summary_to_text_keeps_every_fact_and_note():
    s = Summary("T", facts=(("alpha", 0.81234),), notes=("a note " * 20,),
                tables=(("tab", pd.DataFrame({"a": [1.0]})),))
    text = s.to_text(width=40)
    assert "alpha  0.812" in text and "Note: a note" in text
    assert max(len(line) for line in text.splitlines()) <= 40


def _small_framework(tmp_path) -> Path:
    import yaml

    from psychoval.datasets import sample_framework

    spec = sample_framework().to_dict()
    spec["tiers"] = [t for t in spec["tiers"] if t["id"] == "literacy"]
    spec["tiers"][0]["competencies"] = [c for c in spec["tiers"][0]["competencies"]
                                        if c["id"] == "data"]
    spec.pop("roles", None)
    path = tmp_path / "fw.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def test_cfa_takes_its_model_from_the_framework(tmp_path, capsys):
    import warnings as w

    import psychoval as pv

    fw = _small_framework(tmp_path)
    responses = str(SAMPLE / "responses.csv")
    assert main(["cfa", responses, "--framework", str(fw), "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    framework = pv.read_framework(fw)
    with w.catch_warnings():
        w.simplefilter("ignore")  # the sample's columns outside this small framework
        scores = framework.score(pv.read_responses(responses, id_column="respondent_id"))
        direct = pv.cfa(framework.to_model(), scores.scores)
    assert doc["fit_measures"]["chisq"] == pytest.approx(direct.fit_measures["chisq"],
                                                         rel=1e-10)
    assert main(["cfa", responses]) == 2
    assert "give --model" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["check", str(BFI)],
    ["alpha", str(BFI), "--items", "A2,A3,A4"],
    ["efa", str(BFI), "-f", "1", "--items", "A2,A3,A4,A5"],
    ["items", str(BFI), "--items", "A2,A3,A4"],
    ["raters", str(HERE / "data" / "rubric_ratings.csv"), "--id-column", "candidate",
     "--statistic", "icc"],
])
def test_md_dash_is_markdown_on_stdout(argv, capsys):
    assert main([*argv, "--md", "-"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## ") and "\n|" in out
