"""read_framework on hostile and damaged input (issue 15, section 2).

Duplicate keys, YAML anchors ("billion laughs"), runaway nesting, foreign encodings and Unicode
spellings of ids each end as a Framework or as a SpecificationError naming file, line and fix;
the fuzz tests at the end check that nothing else ever comes out.
"""

from __future__ import annotations

import json
import string
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.exceptions import PsychovalError, SpecificationError, collect_warnings
from psychoval.framework import Framework
from psychoval.framework._read import TABLE_OPTIONAL, TABLE_REQUIRED, _load_yaml

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"

CAFE_NFC = "caf\u00e9"  # é as one code point
CAFE_NFD = "cafe\u0301"  # e + combining acute accent
assert CAFE_NFC != CAFE_NFD and unicodedata.normalize("NFC", CAFE_NFD) == CAFE_NFC


@pytest.fixture(params=["libyaml", "pure-python"])
def yaml_loader(request, monkeypatch):
    """Run a test with PyYAML's C loader and again with the pure-Python fallback."""
    if request.param == "libyaml":
        if not hasattr(yaml, "CSafeLoader"):
            pytest.skip("PyYAML is built without libyaml")
    else:
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    return request.param


def error_of(source) -> str:
    with pytest.raises(SpecificationError) as info:
        pv.read_framework(source)
    return str(info.value)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def item_lines(*items: str) -> str:
    """A one-tier, one-competency framework in block YAML; ``items`` are flow mappings."""
    return ("tiers:\n"
            "  - id: t\n"
            "    competencies:\n"
            "      - id: c\n"
            "        items:\n" + "".join(f"          - {i}\n" for i in items))


THREE = ("{id: q1, type: likert, min: 1, max: 5}", "{id: q2, type: likert, min: 1, max: 5}",
         "{id: q3, type: likert, min: 1, max: 5}")

DUPLICATE_KEY = ("(the second would silently replace the first): remove or merge one of them")


# -- 1. duplicate keys -------------------------------------------------------------------------


def test_yaml_duplicate_top_level_key(tmp_path, yaml_loader):
    # before: the second 'tiers' silently replaced the first, and tier 't' vanished
    path = write(tmp_path / "fw.yaml", item_lines(*THREE) + "tiers:\n  - id: u\n")
    assert error_of(path) == (f"{path}: line 9: duplicate key 'tiers' (first at line 1); a key "
                              f"may appear once in each mapping {DUPLICATE_KEY}")


def test_yaml_duplicate_nested_key(tmp_path, yaml_loader):
    path = write(tmp_path / "fw.yaml", item_lines(
        "{id: q1, type: likert, min: 1, max: 5}",
        "id: q2\n            type: likert\n            min: 1\n            max: 5\n"
        "            max: 7", THREE[2]))
    assert error_of(path) == (f"{path}: line 11: duplicate key 'max' (first at line 10); a key "
                              f"may appear once in each mapping {DUPLICATE_KEY}")


def test_yaml_keys_equal_as_values_are_duplicates(tmp_path, yaml_loader):
    # yes and true are both True: a dict would keep one of them
    path = write(tmp_path / "fw.yaml", item_lines(*THREE) + "criteria:\n  yes: 1\n  true: 2\n")
    assert error_of(path) == (f"{path}: line 11: duplicate key True (first at line 10); a key "
                              f"may appear once in each mapping {DUPLICATE_KEY}")


def test_json_duplicate_keys(tmp_path):
    spec = {"tiers": [{"id": "t", "competencies": [{"id": "c", "items": [
        {"id": f"q{j}", "type": "likert", "min": 1, "max": 5} for j in (1, 2, 3)]}]}]}
    text = json.dumps(spec, indent=2)
    top = write(tmp_path / "top.json", text[:-2] + ',\n  "tiers": []\n}')
    assert error_of(top) == (f"{top}: line 32: duplicate key 'tiers' (first at line 2); a key "
                             f"may appear once in each mapping {DUPLICATE_KEY}")
    nested = write(tmp_path / "nested.json", text.replace('"max": 5', '"max": 5,\n "max": 7', 1))
    assert error_of(nested) == (
        f"{nested}: line 14: duplicate key 'max' (first at line 13); a key may appear once in "
        f"each mapping {DUPLICATE_KEY}")
    # an escaped spelling of the same key is the same key
    escaped = write(tmp_path / "escaped.json",
                    text[:-2] + ',\n  "\\u0074iers": []\n}')
    assert "duplicate key 'tiers' (first at line 2)" in error_of(escaped)
    # the same key in two different objects is fine
    assert len(pv.read_framework(write(tmp_path / "ok.json", text)).items) == 3


def test_duplicate_item_map_column(tmp_path):
    path = write(tmp_path / "items.csv", "item,competency,tier,type,min,max,max\n"
                 "q1,c,t,likert,1,5,7\nq2,c,t,likert,1,5,7\nq3,c,t,likert,1,5,7\n")
    assert error_of(path) == (f"{path}: column 'max' appears 2 times (columns 6, 7); each "
                              "column may appear once: remove or merge the extra one")
    frame = pd.read_csv(path, dtype=str).set_axis(
        ["item", "competency", "tier", "type", "min", "max", "max"], axis=1)
    assert error_of(frame) == ("item map: column 'max' appears 2 times (columns 6, 7); each "
                               "column may appear once: remove or merge the extra one")


def test_a_very_wide_item_map_header_fails_before_parsing(tmp_path):
    # before: the csv sniffer took '1' as the delimiter and pandas built 10,000 columns (2.4 s)
    path = write(tmp_path / "wide.csv", "1" * 5000 + "]0x1F" + "1" * 5000 + "\n")
    assert error_of(path) == (f"{path}: column '' appears 10000 times (columns 1, 2, 3, 4, 5, 6, "
                              "...); each column may appear once: remove or merge the extra one")
    path = write(tmp_path / "wide.tsv", "\t".join(["item", "competency", "tier", "type"]
                                                  + [f"x{j}" for j in range(30)]) + "\n")
    assert error_of(path) == (
        f"{path}: unknown column(s) 'x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8', 'x9', "
        f"'x10', 'x11', ... (30 in all); an item map has the columns "
        f"{', '.join(TABLE_REQUIRED + TABLE_OPTIONAL)}")


# -- 2. hostile YAML: aliases, nesting, bounded messages ---------------------------------------


def billion_laughs(levels: int) -> str:
    """Nested anchors: ``levels`` lines expand to 9**levels strings."""
    names = string.ascii_lowercase
    lines = ["name: [&a [lol,lol,lol,lol,lol,lol,lol,lol,lol],"]
    lines += [f" &{names[k]} [" + ",".join(["*" + names[k - 1]] * 9) + "],"
              for k in range(1, levels)]
    lines[-1] = lines[-1].rstrip(",") + "]"
    return "\n".join(lines) + f"\ntiers: [*{names[levels - 1]}]\n"


ANCHORS = ("anchors and aliases are not allowed in a framework file (it needs none, and a few "
           "nested aliases expand a small file to gigabytes); write the repeated part out in "
           "full, or use defaults: for item fields that every item shares")


def test_billion_laughs_is_refused(tmp_path, yaml_loader):
    # before: 265 bytes (7 levels) gave a 34.7 MB message in 2.9 s; 333 bytes (9 levels) ran
    # out of a 4 GB address space after 155 s
    path = write(tmp_path / "laughs.yaml", billion_laughs(9))
    assert path.stat().st_size == 333
    message = error_of(path)
    assert message == f"{path}: line 1: YAML anchor &a: {ANCHORS}"
    assert len(message) < 400


def test_a_single_anchor_or_alias_is_refused(tmp_path, yaml_loader):
    path = write(tmp_path / "fw.yaml", item_lines(*THREE).replace("- id: c", "- id: &c c"))
    assert error_of(path) == f"{path}: line 4: YAML anchor &c: {ANCHORS}"
    path = write(tmp_path / "fw2.yaml", "defaults: *d\n" + item_lines(*THREE))
    assert error_of(path) == f"{path}: line 1: YAML alias *d: {ANCHORS}"
    path = write(tmp_path / "fw3.yaml", item_lines(*THREE).replace(
        "- {id: q1,", "- {<<: {type: likert}, id: q1,"))
    assert error_of(path) == (
        f"{path}: line 6: YAML merge keys ('<<') are not allowed in a framework file; write "
        "the keys out (use defaults: for item fields that every item shares)")


DEEP = ("lists and mappings nested more than 64 deep; a framework file needs 8 (framework > "
        "tiers > competencies > items > options): look for unclosed brackets, or a file that "
        "is not a framework")


@pytest.mark.parametrize("style", ["flow list", "flow mapping", "block list", "block mapping"])
def test_deep_yaml_is_a_specification_error(tmp_path, yaml_loader, style):
    # before: RecursionError
    n = 5000
    text = {
        "flow list": "tiers: " + "[" * n + "]" * n + "\n",
        "flow mapping": "tiers: " + "{a: " * n + "1" + "}" * n + "\n",
        "block list": "tiers:\n" + "".join(" " * k + "-\n" for k in range(1, n + 1)),
        "block mapping": "tiers:\n" + "".join(" " * k + f"k{k}:\n" for k in range(1, n + 1)),
    }[style]
    path = write(tmp_path / "deep.yaml", text)
    line = 1 if style.startswith("flow") else 65  # the 65th level
    assert error_of(path) == f"{path}: line {line}: {DEEP}"


def test_deep_json_is_a_specification_error(tmp_path):
    # before: RecursionError
    n = 100_000
    path = write(tmp_path / "deep.json", '{"tiers": ' + "[" * n + "]" * n + "}")
    assert error_of(path) == f"{path}: line 1: {DEEP}"
    path = write(tmp_path / "deep_lines.json", '{"tiers":\n' + "[\n" * n + "]" * n + "}")
    assert error_of(path) == f"{path}: line 65: {DEEP}"  # the 65th bracket


def test_nesting_within_the_limit_is_judged_normally(tmp_path, yaml_loader):
    path = write(tmp_path / "fw.yaml", "tiers: " + "[" * 63 + "]" * 63 + "\n")
    assert error_of(path).startswith(f"{path}: tiers[0] must be a mapping; got list [[[[...]]]]")


def test_messages_quote_a_bounded_excerpt(tmp_path, yaml_loader):
    huge = "x" * 1_000_000
    path = write(tmp_path / "fw.yaml", item_lines(
        f"{{id: q1, type: {huge}, min: 1, max: 5}}", *THREE[1:]))
    message = error_of(path)
    assert len(message) < 500
    assert message == (f"{path}: item 'q1': unknown type '{'x' * 97}...{'x' * 98}'; use one of "
                       "likert, dichotomous, multiple_choice, rating")
    spec = {"tiers": [[list(range(10**6))]]}
    assert error_of(spec) == ("framework: tiers[0] must be a mapping; got list [[0, 1, 2, 3, 4, "
                              "5, 6, 7, ...]]")
    keys = {f"{k}{huge}": 1 for k in range(100)}
    assert len(error_of({"tiers": [], **keys})) < 1000


def test_numbers_beyond_float_and_str(tmp_path, yaml_loader):
    # before: OverflowError (a 400-digit max) and ValueError (str() of a 5000-digit int)
    path = write(tmp_path / "fw.yaml", item_lines(
        f"{{id: q1, type: likert, min: 1, max: {'9' * 400}}}", *THREE[1:]))
    assert error_of(path) == (f"{path}: item 'q1': max must be a finite number (at most about "
                              f"1.8e308); got {'9' * 28}...{'9' * 29}")
    path = write(tmp_path / "fw2.yaml", f"name: {'1' * 5000}\n" + item_lines(*THREE))
    assert error_of(path) == (
        f"{path}: line 1 column 7: cannot read '{'1' * 76}... as a YAML int (ValueError: Exceeds "
        "the limit (4300 digits) for integer string conversion: value has 5000 digits); put it "
        "in quotes to read it as text")
    spec = yaml.safe_load(item_lines(*THREE))
    assert error_of({**spec, "version": 10**5000}) == (
        "framework: version: got <an int of 16610 bits>, a number too long to read as text")
    table = pd.DataFrame({"item": ["q1", "q2", "q3"], "competency": "c", "tier": "t",
                          "type": "likert", "min": 1, "max": [10**5000, 5, 5]}, dtype=object)
    assert error_of(table) == (
        "item map: line 2: max: got <an int of 16610 bits>, a number too long to read as text")


def test_loaders_agree(yaml_loader):
    """The C and pure-Python loaders read the sample framework as yaml.safe_load does."""
    text = (SAMPLE / "framework.yaml").read_text(encoding="utf-8")
    assert pv.read_framework(SAMPLE / "framework.yaml") == pv.read_framework(yaml.safe_load(text))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, database=None)
@given(data=json_values, flow=st.booleans())
def test_strict_loader_reads_what_safe_load_reads(data, flow):
    """Without duplicates, anchors or runaway depth, the framework loader (C or pure Python)
    gives exactly what yaml.safe_load gives."""
    text = yaml.safe_dump({"x": data}, default_flow_style=flow, allow_unicode=True)
    expected = yaml.safe_load(text)
    assert _load_yaml(text, "t.yaml") == expected
    with pytest.MonkeyPatch.context() as mp:
        mp.delattr(yaml, "CSafeLoader", raising=False)
        assert _load_yaml(text, "t.yaml") == expected


# -- encodings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_unicode_encodings_with_a_byte_order_mark_read(tmp_path, encoding):
    text = (SAMPLE / "framework.yaml").read_text(encoding="utf-8")
    if encoding == "utf-16-be":  # with its byte-order mark
        raw = "\ufeff".encode("utf-16-be") + text.encode("utf-16-be")
    else:
        raw = text.encode(encoding)
    path = tmp_path / "fw.yaml"
    path.write_bytes(raw)
    assert pv.read_framework(path) == pv.read_framework(SAMPLE / "framework.yaml")
    csv_text = (SAMPLE / "framework_items.csv").read_text(encoding="utf-8")
    csv_path = tmp_path / "fw.csv"
    csv_path.write_bytes(csv_text.encode("utf-16") if encoding == "utf-16" else
                         csv_text.encode("utf-8"))
    assert pv.read_framework(csv_path) == pv.read_framework(SAMPLE / "framework_items.csv")


def test_other_encodings_are_refused_where_they_fail(tmp_path):
    # before: UnicodeDecodeError
    path = write(tmp_path / "fw.yaml", "name: x\ndescription: Caf\u00e9 au lait\ntiers: []\n",
                 "latin-1")
    assert error_of(path) == (f"{path}: line 2 column 17: byte 0xe9 is not valid UTF-8 (is the "
                              "file Latin-1 or Windows-1252?); save the file as UTF-8")
    path = write(tmp_path / "fw.csv", "item,competency,tier,type\nq\u00e9,c,t,likert\n", "cp1252")
    assert error_of(path) == (f"{path}: line 2 column 2: byte 0xe9 is not valid UTF-8 (is the "
                              "file Latin-1 or Windows-1252?); save the file as UTF-8")
    path = write(tmp_path / "fw.json", '{"tiers": []}', "utf-16-le")  # no byte-order mark
    assert error_of(path) == (f"{path}: line 1 column 2: a NUL character (is the file UTF-16 or "
                              "UTF-32 without a byte-order mark?); save the file as UTF-8")
    path = tmp_path / "bad16.yaml"
    path.write_bytes(b"\xff\xfe" + "tiers: []\n".encode("utf-16-le") + b"\x00\xd8")
    assert error_of(path) == (f"{path}: line 2 column 1: byte 0x00 is not valid UTF-16; save "
                              "the file as UTF-8")


def test_control_characters_and_odd_paths(tmp_path):
    path = write(tmp_path / "fw.yaml", "name: a\x07b\ntiers: []\n")
    assert error_of(path) == (f"{path}: line 1 column 8: the character U+0007 is not allowed "
                              "in a YAML file; remove it")
    assert error_of("tiers:\n  - id: t\n") == (
        "tiers:\n  - id: t\n: no such framework file; read_framework takes a path, a dict or a "
        "DataFrame: to read YAML or JSON text, parse it first (yaml.safe_load, json.loads) and "
        "pass the dict")
    assert error_of("a\x00b.yaml") == "a\x00b.yaml: no such framework file"
    assert error_of("C:\\surveys\\fw.yaml") == "C:\\surveys\\fw.yaml: no such framework file"
    assert error_of("x" * 5000 + ".yaml").endswith("...: no such framework file")
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    assert error_of(folder) == f"{folder}: cannot read the framework file: Is a directory"


# -- 3. Unicode spellings of ids ---------------------------------------------------------------


def test_ids_are_kept_in_nfc(tmp_path):
    path = write(tmp_path / "fw.yaml", item_lines(
        f"{{id: {CAFE_NFD}1, type: likert, min: 1, max: 5}}", *THREE[1:]).replace(
        "id: c\n", f"id: {CAFE_NFD}\n").replace("id: t\n", f"id: T{CAFE_NFD}\n"))
    fw = pv.read_framework(path)
    assert fw.item_ids == (CAFE_NFC + "1", "q2", "q3")
    assert [c.id for c in fw.competencies] == [CAFE_NFC] and fw.tiers[0].id == "T" + CAFE_NFC
    assert fw.item(CAFE_NFD + "1") is fw.item(CAFE_NFC + "1")
    assert fw.competency(CAFE_NFD).id == CAFE_NFC
    assert fw.to_model() == f"{CAFE_NFC} =~ {CAFE_NFC}1 + q2 + q3"
    assert pv.read_framework(fw.to_dict()) == fw


def test_ids_equal_after_nfc_are_one_id(tmp_path):
    spec = {"tiers": [{"id": "t", "competencies": [{"id": "c", "items": [
        {"id": i, "type": "likert", "min": 1, "max": 5} for i in (CAFE_NFC, "q2", CAFE_NFD)]}]}]}
    assert error_of(spec) == (
        "framework: duplicate id 'caf\u00e9': used for an item and for an item (written "
        "'cafe\\u0301' and 'caf\\xe9': the same text after Unicode NFC normalisation); ids of "
        "tiers, competencies, items and rater columns must be unique: rename one of them")
    spec["tiers"][0]["competencies"][0]["items"][2] = {
        "id": "q3", "type": "rating", "min": 1, "max": 4, "raters": ["r1", CAFE_NFD]}
    assert error_of(spec).startswith(
        "framework: duplicate id 'caf\u00e9': used for a rater column of item 'q3' and for an "
        "item (written 'cafe\\u0301' and 'caf\\xe9'")


def test_item_map_rows_name_one_tier_in_either_spelling():
    table = pd.DataFrame({"item": ["q1", "q2", "q3"],
                          "competency": [CAFE_NFC, CAFE_NFD, CAFE_NFC],
                          "tier": ["T" + CAFE_NFD, "T" + CAFE_NFC, "T" + CAFE_NFC],
                          "type": "likert", "min": "1", "max": "5"})
    fw = pv.read_framework(table)
    assert [(t.id, [c.id for c in t.competencies]) for t in fw.tiers] == [
        ("T" + CAFE_NFC, [CAFE_NFC])]
    dup = table.assign(item=["q1", CAFE_NFC, CAFE_NFD], competency="c", tier="t")
    assert error_of(dup) == (
        "item map: duplicate id 'caf\u00e9': used for an item and for an item (written "
        "'cafe\\u0301' and 'caf\\xe9': the same text after Unicode NFC normalisation); ids of "
        "tiers, competencies, items and rater columns must be unique: rename one of them")


def test_options_and_labels_match_after_nfc():
    spec = {"tiers": [{"id": "t", "competencies": [{"id": "c", "items": [
        {"id": "q1", "type": "multiple_choice", "options": ["Th\u00e9", CAFE_NFC.title()],
         "answer_key": CAFE_NFD},
        {"id": "q2", "type": "likert", "categories": ["jamais", "souvent", "tr\u00e8s"]},
        {"id": "q3", "type": "likert", "min": 1, "max": 5}]}]}]}
    fw = pv.read_framework(spec)
    assert fw.item("q1").answer_key == "Caf\u00e9"
    data = pd.DataFrame({"q1": [CAFE_NFD.upper(), "the\u0301", "Caf\u00e9"],
                         "q2": ["tre\u0300s", "TR\u00c8S", "jamais"], "q3": [1, 2, 3]})
    scored = fw.score(data)
    assert scored.scores["q1"].tolist() == [1.0, 0.0, 1.0]
    assert scored.scores["q2"].tolist() == [3.0, 3.0, 1.0]
    spec["tiers"][0]["competencies"][0]["items"][0]["options"] = [CAFE_NFC, CAFE_NFD]
    assert error_of(spec) == ("framework: item 'q1': options ['caf\u00e9', 'cafe\u0301'] repeat "
                              "an option")


# -- 4. fuzz: only a Framework or a PsychovalError -----------------------------------------------

FUZZ = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])


def only_result_or_psychoval_error(source) -> None:
    with collect_warnings():  # small competencies etc. are warnings, not outcomes
        try:
            result = pv.read_framework(source)
        except PsychovalError as exc:
            assert len(str(exc)) < 2000
            return
    assert isinstance(result, Framework)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


SUFFIXES = [".yaml", ".json", ".csv", ".tsv"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "latin-1"]
HOSTILE = [
    "[", "]", "{", "}", ":", ": ", "- ", ",", "\n", "\t", " ", '"', "'", "\\", "&a ", "*a",
    "<<: ", "!!int ", "!!timestamp ", "!!python/object:os.system ", "---\n", "? ", "|", ">",
    "#", "%YAML 1.1\n", "\x00", "\x07", "\ufeff", "\u0301", "\ud7ff", "\U0001F600", "\u2028",
    "tiers", "id", "items", "competencies", "type", "likert", "multiple_choice", "rating",
    "options", "answer_key", "min", "max", "1e999", "-0", "0x1F", "NaN", "Infinity", "null",
    "yes", "~", "2021-02-30", "1" * 5000, "9" * 400, "x" * 300,
]
HUGE_INTS = st.sampled_from([400, -400, 1000]).map(lambda d: (10 ** abs(d)) * (d // abs(d)))
hostile_text = st.lists(st.sampled_from(HOSTILE) | st.text(max_size=5), max_size=40).map("".join)


def encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace" if encoding == "latin-1" else "surrogatepass")


@FUZZ
@given(raw=st.binary(max_size=400), suffix=st.sampled_from([*SUFFIXES, ".xlsx"]))
def test_fuzz_random_bytes(fuzz_dir, raw, suffix):
    path = fuzz_dir / f"bytes{suffix}"
    path.write_bytes(raw)
    only_result_or_psychoval_error(path)


@FUZZ
@given(text=hostile_text, suffix=st.sampled_from(SUFFIXES), encoding=st.sampled_from(ENCODINGS))
def test_fuzz_hostile_text(fuzz_dir, text, suffix, encoding):
    path = fuzz_dir / f"text{suffix}"
    path.write_bytes(encode(text, encoding))
    only_result_or_psychoval_error(path)


def valid_items(n: int = 3) -> list[dict]:
    return [{"id": f"q{j}", "type": "likert", "min": 1, "max": 5} for j in range(1, n + 1)]


hostile_values = st.recursive(
    st.none() | st.booleans() | st.integers() | HUGE_INTS | st.floats() | hostile_text | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["id", "type", "min", "max", "options", "answer_key", "categories",
                         "raters", "combine", "reverse", "weight", "tiers", "items", "x"])
        | st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)
PLACES = ["name", "tiers", "tier", "tier id", "competency", "competency id", "items", "item",
          "item id", "item type", "item max", "item options", "item missing_codes", "criteria",
          "defaults", "id_column"]


def damaged_spec(place: str, value) -> dict:
    items = valid_items()
    comp = {"id": "c", "items": items}
    tier = {"id": "t", "competencies": [comp]}
    spec = {"name": "fuzz", "tiers": [tier]}
    target, key = {
        "name": (spec, "name"), "tiers": (spec, "tiers"), "criteria": (spec, "criteria"),
        "defaults": (spec, "defaults"), "id_column": (spec, "id_column"),
        "tier": (spec["tiers"], 0), "tier id": (tier, "id"), "competency": (tier["competencies"], 0),
        "competency id": (comp, "id"), "items": (comp, "items"), "item": (items, 0),
        "item id": (items[0], "id"), "item type": (items[0], "type"),
        "item max": (items[0], "max"), "item options": (items[0], "options"),
        "item missing_codes": (items[0], "missing_codes"),
    }[place]
    target[key] = value
    return spec


@FUZZ
@given(place=st.sampled_from(PLACES), value=hostile_values,
       form=st.sampled_from(["dict", ".yaml", ".json"]), cut=st.none() | st.integers(0, 400),
       encoding=st.sampled_from(ENCODINGS))
def test_fuzz_damaged_frameworks(fuzz_dir, place, value, form, cut, encoding):
    spec = damaged_spec(place, value)
    if form == "dict":
        only_result_or_psychoval_error(spec)
        return
    try:
        text = (json.dumps(spec, indent=1) if form == ".json" else
                yaml.safe_dump(spec, allow_unicode=True))
    except (ValueError, yaml.YAMLError):  # not representable (NaN keys, ...): nothing to read
        return
    if cut is not None:
        text = text[:cut]
    path = fuzz_dir / f"spec{form}"
    path.write_bytes(encode(text, encoding))
    only_result_or_psychoval_error(path)


@FUZZ
@given(depth=st.sampled_from([1, 8, 63, 64, 65, 999, 1000, 1001, 5000, 100_000]),
       opener=st.sampled_from(["[", "{a: ", '{"a": ', "- ", "-\n"]),
       suffix=st.sampled_from([".yaml", ".json"]), close=st.booleans())
def test_fuzz_deep_nesting(fuzz_dir, depth, opener, suffix, close):
    closer = {"[": "]", "{a: ": "}", '{"a": ': "}"}.get(opener, "")
    text = "tiers: " + opener * depth + ("1" + closer * depth if close else "")
    path = fuzz_dir / f"deep{suffix}"
    path.write_text(text, encoding="utf-8")
    only_result_or_psychoval_error(path)


table_cells = st.none() | st.sampled_from(HOSTILE) | st.text(max_size=6) | st.integers() \
    | HUGE_INTS | st.floats()


@FUZZ
@given(rows=st.lists(st.fixed_dictionaries({
    "item": table_cells | st.sampled_from(["q1", "q2", "q3"]),
    "competency": table_cells | st.just("c"), "tier": table_cells | st.just("t"),
    "type": table_cells | st.sampled_from(["likert", "multiple_choice", "rating", "id", "group"]),
    "min": table_cells, "max": table_cells, "reverse": table_cells, "options": table_cells,
    "answer_key": table_cells, "raters": table_cells}), max_size=5),
    as_csv=st.booleans())
def test_fuzz_item_maps(fuzz_dir, rows, as_csv):
    columns = ["item", "competency", "tier", "type", "min", "max", "reverse", "options",
               "answer_key", "raters"]
    try:
        frame = pd.DataFrame(rows, columns=columns)
    except OverflowError:  # pandas 2.2 cannot infer a column holding an int beyond float
        frame = pd.DataFrame(rows, columns=columns, dtype=object)
    if not as_csv:
        only_result_or_psychoval_error(frame)
        return
    path = fuzz_dir / "map.csv"
    try:
        frame.to_csv(path, index=False)
    except UnicodeEncodeError:  # a lone surrogate cannot be written: nothing to read
        return
    only_result_or_psychoval_error(path)
