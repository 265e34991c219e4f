"""Safe outputs (issue 15, section 3): every file is written atomically (a failure leaves no
truncated file and exits 5), ``-`` is stdout for every --json / --md / --html, user text
reaches the terminal without control characters, a closed pipe ends quietly, and every
failure of every subcommand maps to its exit code with one line and no traceback."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import threading
import types
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval import _output
from psychoval._output import strip_controls, write_text, write_texts
from psychoval._results import Summary
from psychoval.cli import main
from psychoval.datasets import sample_framework, sample_path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "reference" / "data"
HS = DATA / "HolzingerSwineford1939.csv"
BFI = DATA / "bfi.csv"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def full_disk(monkeypatch):
    """The disk fills after ``budget`` bytes: short writes, then ENOSPC (as a real full disk).
    Records the size of the temporary file at the moment of failure."""
    seen: dict[str, int] = {}

    def install(budget: int) -> dict[str, int]:
        left = [budget]
        fake = types.ModuleType("os")
        fake.__dict__.update(os.__dict__)

        def write(fd, data):
            if left[0] <= 0:
                seen["partial_bytes"] = os.fstat(fd).st_size
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            n = os.write(fd, bytes(data[:left[0]]))
            left[0] -= n
            return n

        fake.write = write
        monkeypatch.setattr(_output, "os", fake)
        return seen

    return install


# -- the atomic writer -------------------------------------------------------------------


def test_a_full_disk_leaves_the_old_file_and_no_partial_one(tmp_path, full_disk):
    target = tmp_path / "report.html"
    target.write_text("old report\n", encoding="utf-8")
    seen = full_disk(64 * 1024)
    with pytest.raises(OSError) as info:
        write_text(target, "x" * 200_000)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert str(info.value) == f"[Errno 28] No space left on device: '{target}'"
    assert seen["partial_bytes"] == 64 * 1024  # what a plain write would have left behind
    assert _files(tmp_path) == ["report.html"]
    assert target.read_text(encoding="utf-8") == "old report\n"
    target.unlink()
    with pytest.raises(OSError, match="No space left on device"):
        write_text(target, "x" * 200_000)
    assert _files(tmp_path) == []


def test_a_failed_replace_leaves_no_temporary_file(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(_output.os, "replace", refuse)
    with pytest.raises(PermissionError, match=r"Permission denied: '.*r\.json'"):
        write_text(tmp_path / "r.json", "{}\n")
    assert _files(tmp_path) == []


def test_write_texts_is_all_or_none(tmp_path, full_disk):
    (tmp_path / "a.md").write_text("old a", encoding="utf-8")
    full_disk(10_000)  # the first fits, the second does not
    with pytest.raises(OSError, match=r"No space left on device: '.*b\.json'"):
        write_texts([(tmp_path / "a.md", "new a" * 1000), (tmp_path / "b.json", "b" * 20_000)])
    assert _files(tmp_path) == ["a.md"]
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == "old a"


def test_modes_symlinks_folders_and_pipes(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "new.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "new.json").stat().st_mode & 0o777 == 0o644  # as open() would, not 0600
    private = tmp_path / "private.json"
    private.write_text("old")
    private.chmod(0o600)
    write_text(private, "new")
    assert private.stat().st_mode & 0o777 == 0o600 and private.read_text() == "new"
    link = tmp_path / "link.json"
    link.symlink_to(private)
    write_text(link, "through the link")
    assert link.is_symlink() and private.read_text() == "through the link"
    write_text(tmp_path / "a" / "b" / "c.txt", "deep", make_parents=True)
    assert (tmp_path / "a" / "b" / "c.txt").read_text() == "deep"
    with pytest.raises(NotADirectoryError, match=r"Not a directory: '.*private\.json/x\.json'"):
        write_text(private / "x.json", "{}", make_parents=True)
    # a named pipe is written into, not replaced
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_text(fifo, "through the pipe")
    reader.join(10)
    assert got == [b"through the pipe"] and fifo.is_fifo()


@pytest.fixture(scope="module")
def small_report():
    spec = sample_framework().to_dict()
    spec["tiers"] = [t for t in spec["tiers"] if t["id"] == "leadership"]
    spec.pop("roles", None)  # they name competencies of the other tiers
    return pv.validate(pv.load_sample(), pv.read_framework(spec), seed=1, n_boot=20)


@pytest.mark.parametrize("method", ["to_json", "to_html", "to_markdown"])
def test_report_writers_are_atomic(small_report, tmp_path, full_disk, method):
    full_disk(1000)
    with pytest.raises(OSError, match=r"No space left on device: '.*out'"):
        getattr(small_report, method)(tmp_path / "out")
    assert _files(tmp_path) == []


# -- the CLI: exit 5 when an output cannot be written ------------------------------------


@pytest.fixture
def fast_validate(monkeypatch, small_report):
    """``psychoval validate`` without the seconds: pv.validate returns a prepared report."""
    monkeypatch.setattr(pv, "validate", lambda *a, **k: small_report)
    return ["validate", str(sample_path("responses.csv")), "--framework",
            str(sample_path("framework.yaml"))]


def test_cli_validate_exits_5_and_writes_nothing_when_the_disk_is_full(
        tmp_path, capsys, full_disk, fast_validate):
    out = tmp_path / "out"
    full_disk(20_000)
    code = main([*fast_validate, "--quiet", "--html", str(out / "r.html"), "--json",
                 str(out / "r.json"), "--md", str(out / "r.md")])
    err = capsys.readouterr().err
    assert code == 5
    assert err == f"psychoval validate: error: cannot write {out / 'r.html'}: No space left on " \
                  "device\n"
    assert _files(out) == []  # the folder was made; no report, whole or partial


def test_cli_output_failure_with_a_real_file_size_limit(tmp_path):
    """No mock: the process may not write files over 4 KiB (RLIMIT_FSIZE; the kernel fails
    the write with EFBIG), as a full disk would stop it."""
    out = tmp_path / "check.json"
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "from psychoval.cli import main\n"
        f"sys.exit(main(['check', {str(sample_path('responses.csv'))!r}, '--framework', "
        f"{str(sample_path('framework.yaml'))!r}, '--json', {str(out)!r}]))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert res.returncode == 5, res.stderr
    assert res.stderr == f"psychoval check: error: cannot write {out}: File too large\n"
    assert _files(tmp_path) == []


# -- "-" is stdout ------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--json", "--md", "--html"])
def test_cli_validate_dash_is_stdout(option, capsys, fast_validate, small_report):
    assert main([*fast_validate, option, "-"]) == 0
    cap = capsys.readouterr()
    expected = {"--json": small_report.to_json() + "\n", "--md": small_report.to_markdown(),
                "--html": small_report.to_html()}[option]
    assert cap.out == expected  # the document only: no summary
    assert "written" not in cap.err


def test_cli_only_one_output_on_stdout(capsys, fast_validate):
    assert main([*fast_validate, "--json", "-", "--md", "-"]) == 2
    assert capsys.readouterr().err == ("psychoval validate: error: only one output can go to "
                                       "stdout; got --json - and --md -\n")


@pytest.mark.parametrize("argv, schema", [
    (["check", str(sample_path("responses.csv"))], "psychoval.data_quality/1"),
    (["items", str(BFI), "--items", "A1,A2,A3"], None),
    (["cfa", str(HS), "--model", HS_MODEL], "psychoval.cfa/1"),
    (["alpha", str(BFI), "--items", "A2,A3,A4"], "psychoval.alpha/1"),
    (["omega", str(HS), "--items", "x1,x2,x3,x4,x5,x6,x7,x8,x9"], "psychoval.omega/1"),
])
def test_cli_json_dash_is_stdout_for_every_subcommand(argv, schema, capsys, tmp_path):
    assert main([*argv, "--json", "-"]) == 0
    cap = capsys.readouterr()
    doc = json.loads(cap.out)  # stdout holds the JSON and nothing else
    if schema:
        assert doc["schema"] == schema
    else:
        assert set(doc) == {"item_analysis", "flags"}
    assert main([*argv, "--json", str(tmp_path / "o.json")]) == 0
    cap = capsys.readouterr()
    assert cap.err.endswith(f"written: {tmp_path / 'o.json'}\n") and cap.out.strip()
    file_doc = json.loads((tmp_path / "o.json").read_text(encoding="utf-8"))
    assert file_doc.keys() == doc.keys()


def test_json_on_stdout_escapes_c1_controls(capsys):
    from psychoval.cli._common import to_stdout

    to_stdout(json.dumps({"a": "x\x9b31m\x1by"}, ensure_ascii=False), json=True)
    out = capsys.readouterr().out
    assert out == '{"a": "x\\u009b31m\\u001by"}\n' and json.loads(out) == {"a": "x\x9b31m\x1by"}


# -- terminal output without control characters ------------------------------------------


def test_strip_controls():
    assert strip_controls("plain\ttext\n") == "plain\ttext\n"
    assert strip_controls("\x1b[1;31mred\x1b[0m") == "red"
    assert strip_controls("\x1b]0;new title\x07x") == "x"  # OSC, BEL-terminated
    assert strip_controls("\x1b]8;;https://e.example\x1b\\link\x1b]8;;\x1b\\") == "link"
    assert strip_controls("a\x9b2Jb\x9d0;t\x9cc") == "abc"  # 8-bit CSI and OSC
    assert strip_controls("a\rb\x08c\x00d\x7fe\x85f\x1bcg") == "abcdefg"  # RIS = ESC c
    assert strip_controls("\x1b]unterminated") == "unterminated"
    assert strip_controls("\x1b(Bx\x1b7y\x1b") == "xy"  # charset, save cursor, a lone ESC
    assert strip_controls("ünïcödé ✓") == "ünïcödé ✓"


def test_summary_text_has_no_control_characters():
    s = Summary(title="Report \x1b[31mX\x1b[0m",
                facts=(("n\x07", 3), ("name", "\x1b]0;pwned\x07ok")),
                tables=(("Items", pd.DataFrame({"item": ["a\x1b[2Jb", "c\nd"],
                                                "r": [0.5, 0.25]},
                                               index=["i\x1b[1m1", "i2"])),),
                notes=("careful\x9b\x1bc",))
    assert str(s) == (
        "Report X\n"
        "========\n"
        "n     3\n"
        "name  ok\n"
        "\n"
        "Items\n"
        "-----\n"
        "    item      r\n"
        "--  ----  -----\n"
        "i1  ab    0.500\n"
        "i2  c d   0.250\n"
        "\n"
        "Note: careful"
    )


def test_cli_prints_user_text_without_control_characters(tmp_path, capsys):
    data = pd.read_csv(BFI)[["A2", "A3", "A4"]].rename(
        columns={"A2": "A2\x1b]0;pwned\x07", "A3": "A3\x1b[31m"})
    path = tmp_path / "evil.csv"
    data.to_csv(path, index=False)
    assert main(["alpha", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert re.search(r"^A2 +0\.", out, re.M) and re.search(r"^A3 +0\.", out, re.M)
    # an error echoing the bad value, and argparse echoing an argument
    assert main(["alpha", str(path), "--items", "A4,\x1b[2JZ9"]) == 3
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.count("\n") == 1 and "Z9" in err
    assert main(["alpha", str(path), "\x1b]0;t\x07extra"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "unrecognized arguments: extra" in err


def test_cli_warnings_and_errors_are_one_clean_line(monkeypatch, capsys):
    import warnings

    from psychoval.cli import _main as cli_main

    fake = types.ModuleType("psychoval_fake_warn")
    fake.add_arguments = lambda p: None

    def run(args):
        warnings.warn("column \x1b[31mq1\x1b[0m is constant", pv.DegenerateDataWarning,
                      stacklevel=1)
        pv.exceptions.warn("second \x07warning")
        raise pv.DataError("item '\x1b]0;x\x07q2' is bad")

    fake.run = run
    monkeypatch.setitem(sys.modules, "psychoval_fake_warn", fake)
    monkeypatch.setitem(cli_main.COMMANDS, "fakewarn", ("psychoval_fake_warn", "test"))
    assert main(["fakewarn"]) == 3
    assert capsys.readouterr().err == ("psychoval fakewarn: warning: column q1 is constant\n"
                                       "psychoval fakewarn: warning: second warning\n"
                                       "psychoval fakewarn: error: item 'q2' is bad\n")


# -- Markdown escaping, as a property ----------------------------------------------------

_MD_CHARS = st.sampled_from(list("`|[]()<>!*_~&#;\\-+=.:1a b\nx/\"'{}@^$%\t\x1b"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_MD_CHARS, max_size=30))
def test_any_text_renders_as_itself_in_a_cell_and_a_list_item(text):
    from markdown_it import MarkdownIt

    from psychoval.report._markdown import _md

    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    src = f"| head | b |\n|---|---|\n| {_md(text) or ' '} | z |\n\n- item: {_md(text)}\n"
    tokens = md.parse(src)
    kinds = {t.type for tok in tokens for t in [tok, *(tok.children or [])]}
    assert not kinds & {"html_inline", "html_block", "link_open", "image", "em_open",
                        "strong_open", "s_open", "code_inline", "code_block", "heading_open",
                        "hr", "blockquote_open", "ordered_list_open"}
    expected = re.sub(r"\s*\n\s*", " ", strip_controls(text).replace("\t", " ")).strip()
    inline = ["".join(c.content for c in t.children) for t in tokens if t.type == "inline"]
    assert inline == ["head", "b", expected, "z", f"item: {expected}".rstrip()]


# -- exit codes: every subcommand's failure modes, no traceback --------------------------

COMMANDS = {
    "alpha": lambda f: ["alpha", f],
    "omega": lambda f: ["omega", f],
    "efa": lambda f: ["efa", f, "-f", "1"],
    "raters": lambda f: ["raters", f],
    "cfa": lambda f: ["cfa", f, "--model", "f =~ a + b + c"],
    "check": lambda f: ["check", f],
    "items": lambda f: ["items", f],
    "validate": lambda f: ["validate", f, "--framework", str(sample_path("framework.yaml")),
                           "--quiet"],
}


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "latin1.csv").write_bytes(b"a,b\n\xff1,2\n")
    (d / "corrupt.parquet").write_bytes(b"PAR1 not really parquet")
    (d / "empty.csv").write_bytes(b"")
    (d / "folder.csv").mkdir()
    return d


# (file, the start of the reason): io/ words its own reasons; the CLI words what io/ lets
# through (a decoding error, a parser's exception), as test_reading_names_the_file pins
INPUT_FAILURES = [
    ("missing.csv", "no such file"),
    ("folder.csv", "is a folder, not a file"),
    ("empty.csv", "the file is empty"),
    ("latin1.csv", ""),
    ("corrupt.parquet", ""),
]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_subcommand_maps_unreadable_input_to_3(command, bad_inputs, capsys):
    for name, reason in INPUT_FAILURES:
        if name.endswith(".parquet"):
            pytest.importorskip("pyarrow")
        path = str(bad_inputs / name)
        assert main(COMMANDS[command](path)) == 3, name
        err = capsys.readouterr().err
        assert err.startswith(f"psychoval {command}: error: {path}: {reason}"), err
        assert err.count("\n") == 1 and "Traceback" not in err
        if name == "latin1.csv":
            assert "UTF-8" in err


def test_reading_names_the_file():
    from psychoval.cli._common import reading

    def fail(exc):
        with pytest.raises(pv.DataError) as info, reading("in.csv"):
            raise exc
        return str(info.value)

    assert fail(UnicodeDecodeError("utf-8", b"a,\xff", 2, 3, "invalid start byte")) == (
        "in.csv: cannot read the file: not UTF-8 text (byte 0xff at offset 2); save it as "
        "UTF-8")
    assert fail(PermissionError(13, "Permission denied", "/data/in.csv")) == (
        "/data/in.csv: cannot read the file: Permission denied")
    assert fail(ValueError("Parquet magic bytes not found")) == (
        "in.csv: cannot read the file: ValueError: Parquet magic bytes not found")
    with pytest.raises(ValueError, match="a bug"), reading("in.csv", parse_errors=False):
        raise ValueError("a bug")  # around a computation: only I/O and decoding errors
    with pytest.raises(pv.DataError, match="^item 'q1' is bad$"), reading("in.csv"):
        raise pv.DataError("item 'q1' is bad")  # our own errors pass unchanged


@pytest.mark.parametrize("command", ["check", "items", "validate"])
def test_unreadable_framework_is_3(command, bad_inputs, tmp_path, capsys):
    (tmp_path / "fw.yaml").write_text("tiers: [unclosed\n", encoding="utf-8")
    (tmp_path / "fw.xlsx").write_bytes(b"not a workbook")
    (tmp_path / "fw.json").write_bytes(b'{"name": "caf\xe9"}')
    resp = str(sample_path("responses.csv"))
    for name, reason in [("fw.yaml", "not valid YAML at line 2"),
                         # the reason is framework/'s (or, where it has none, the CLI's)
                         ("fw.xlsx", ""), ("fw.json", ""),
                         ("none.yaml", "no such framework file")]:
        fw = str(tmp_path / name)
        argv = [command, resp, "--framework", fw] + (["--quiet"] if command == "validate"
                                                     else [])
        assert main(argv) == 3, name
        err = capsys.readouterr().err
        assert err.startswith(f"psychoval {command}: error: {fw}: {reason}"), err
        assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root reads files without permission")
def test_a_file_without_read_permission_is_3(tmp_path, capsys):
    path = tmp_path / "locked.csv"
    path.write_text("a,b\n1,2\n")
    path.chmod(0)
    assert main(["alpha", str(path)]) == 3
    assert capsys.readouterr().err == (f"psychoval alpha: error: {path}: cannot read the "
                                       "file: Permission denied\n")


def test_cfa_model_path_that_does_not_exist(capsys, tmp_path):
    assert main(["cfa", str(HS), "--model", "missing.lav"]) == 3
    assert capsys.readouterr().err == (
        "psychoval cfa: error: --model 'missing.lav': file not found (give lavaan syntax such "
        "as 'visual =~ x1 + x2 + x3', or the path of a file holding it)\n")
    model = tmp_path / "hs.lav"
    model.write_text(HS_MODEL + "\n", encoding="utf-8")
    assert main(["cfa", str(HS), "--model", str(model)]) == 0
    assert "Comparative Fit Index (CFI)" in capsys.readouterr().out
    assert main(["cfa", str(HS), "--model", str(tmp_path)]) == 3
    assert capsys.readouterr().err == (f"psychoval cfa: error: --model {str(tmp_path)!r}: is "
                                       "a folder, not a file\n")


OUTPUT_COMMANDS = {
    "alpha": ["alpha", str(BFI), "--items", "A2,A3,A4"],
    "omega": ["omega", str(HS), "--items", "x1,x2,x3,x4,x5,x6,x7,x8,x9"],
    "cfa": ["cfa", str(HS), "--model", HS_MODEL],
    "check": ["check", str(BFI)],
    "items": ["items", str(BFI), "--items", "A2,A3,A4"],
}


@pytest.mark.parametrize("command", sorted(OUTPUT_COMMANDS))
def test_every_output_failure_is_5(command, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    out = blocker / "out.json"  # its folder is a file
    assert main([*OUTPUT_COMMANDS[command], "--json", str(out)]) == 5
    err = capsys.readouterr().err
    assert err == f"psychoval {command}: error: cannot write {out}: Not a directory\n"
    assert _files(tmp_path) == ["a_file"]


def test_validate_output_failure_is_5(tmp_path, capsys, fast_validate):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert main([*fast_validate, "--quiet", "--json", str(tmp_path / "r.json"), "--md",
                 str(blocker / "r.md")]) == 5
    assert capsys.readouterr().err == (f"psychoval validate: error: cannot write "
                                       f"{blocker / 'r.md'}: Not a directory\n")
    assert _files(tmp_path) == ["a_file"]  # r.json not written either: all or none


def test_strict_is_the_only_exit_1(tmp_path, capsys, fast_validate, monkeypatch, small_report):
    import dataclasses

    failed = small_report.verdicts.copy()
    failed.loc[0, "verdict"] = "fail"
    monkeypatch.setattr(pv, "validate",
                        lambda *a, **k: dataclasses.replace(small_report, verdicts=failed))
    assert main([*fast_validate, "--quiet"]) == 0  # a failed criterion alone: 0
    assert main([*fast_validate, "--quiet", "--strict"]) == 1
    assert capsys.readouterr().err == (f"psychoval validate: --strict: 1 criteria failed "
                                       f"({failed.loc[0, 'id']})\n")


# -- a closed pipe -----------------------------------------------------------------------


class ClosedPipe:
    def write(self, text):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def test_broken_pipe_ends_quietly_in_process(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["alpha", str(BFI), "--items", "A2,A3,A4"]) == 141
    assert main(["--help"]) == 141
    monkeypatch.setattr(sys, "stdout", sys.__stdout__)
    assert capsys.readouterr().err == ""


def test_a_closed_pipe_still_writes_the_reports(monkeypatch, capsys, tmp_path, fast_validate):
    """``psychoval validate ... --json r.json | head -1``: the summary is cut, the report is
    written whole, the exit code says stdout was cut (or --strict's 1 when it failed)."""
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main([*fast_validate, "--json", str(tmp_path / "r.json")]) == 141
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["n_respondents"] == 1500
    assert capsys.readouterr().err == f"written: {tmp_path / 'r.json'}\n"


def test_broken_pipe_ends_quietly_in_a_real_pipe():
    """``psychoval alpha ... | head -0``: the reader is gone before the first line."""
    proc = subprocess.Popen([sys.executable, "-m", "psychoval", "alpha", str(BFI), "--items",
                             "A2,A3,A4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141
    assert err == ""  # no traceback, no "Exception ignored ... BrokenPipeError"
