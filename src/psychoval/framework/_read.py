"""read_framework: YAML, JSON, dict or an item-map table -> :class:`Framework`.

The file format is published as a JSON Schema in ``docs/framework.schema.json``. The library
checks the same rules with its own code (so ``jsonschema`` stays an optional dependency) and
adds the rules a schema cannot say: unique ids, answer keys among the options, min < max.

Length: one reader for every framework source (YAML, JSON, dict, item-map table) with the
hostile-input guards (duplicate keys, aliases, depth, decoding) that must see the raw text;
split by source it would repeat the guards.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import json
import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from psychoval.exceptions import PsychovalError, SpecificationError
from psychoval.framework._framework import (
    COMBINE_RULES,
    ITEM_TYPES,
    Competency,
    Framework,
    Item,
    Tier,
    clip,
    excerpt,
    norm_label,
    normalize_id,
    quoted_names,
    warn_small_competencies,
)

__all__ = ["read_framework"]

FRAMEWORK_KEYS = ("name", "version", "description", "id_column", "group_columns",
                  "criterion_columns", "criteria", "defaults", "role_column", "roles", "panels",
                  "tiers")
PANEL_KEYS = ("content_ratings", "angoff_ratings")
TIER_KEYS = ("id", "name", "description", "cut_score", "competencies")
COMPETENCY_KEYS = ("id", "name", "description", "criteria", "cut_score", "items")
ITEM_KEYS = ("id", "type", "text", "min", "max", "categories", "options", "answer_key",
             "reverse", "weight", "raters", "combine", "missing_codes")
DEFAULT_KEYS = ("type", "min", "max", "categories", "options", "reverse", "weight", "combine",
                "missing_codes")
TABLE_REQUIRED = ("item", "competency", "tier", "type")
TABLE_OPTIONAL = ("min", "max", "reverse", "answer_key", "weight", "text", "options",
                  "categories", "raters", "combine", "competency_name", "tier_name",
                  "missing_codes", "cut_score", "tier_cut_score")
# item-map rows that declare a data column other than an item
TABLE_COLUMN_TYPES = ("id", "group", "criterion")
# The deepest nesting of lists and mappings a framework file may have. A framework needs 8
# (framework > tiers > tier > competencies > competency > items > item > options); the limit
# turns a runaway file (100,000 brackets) into one clear error instead of a RecursionError.
MAX_DEPTH = 64


def read_framework(source: Any, *, name: str | None = None) -> Framework:
    """Read a competency framework (tiers -> competencies -> items).

    Parameters
    ----------
    source : path, str, dict or DataFrame
        A YAML (``.yaml``/``.yml``) or JSON file, a dict in the same format, or an item-map
        table (``.csv``/``.tsv``/``.xlsx`` file or DataFrame) with one row per item and the
        columns ``item, competency, tier, type`` and optionally ``min, max, reverse,
        answer_key, weight, text, options, categories, raters, combine, competency_name,
        tier_name, missing_codes, cut_score, tier_cut_score`` (lists separated by ``|``;
        ``cut_score`` is the competency's and ``tier_cut_score`` the tier's, on one or every
        row of it). Item-map rows of type ``id``, ``group`` or
        ``criterion`` name the respondent-id, grouping and criterion columns. The format is
        described in ``docs/framework.md`` and ``docs/framework.schema.json``.
    name : str, optional
        The framework's name (overrides the file's; an item map has no other place for it).

    Returns
    -------
    Framework

    Raises
    ------
    SpecificationError
        The file does not follow the format (unknown keys, missing required fields, wrong
        types), duplicate ids, an unknown item type, an answer key outside the options,
        ``min >= max``, a weight other than 1 (weighted scoring is not implemented).
        Each message names the item (or tier / competency) at fault. Also, naming the line:
        a key repeated within one YAML or JSON mapping (or a repeated item-map column), YAML
        anchors, aliases and merge keys, nesting deeper than ``MAX_DEPTH`` (64), a file that
        is not UTF-8 (or UTF-16/32 with a byte-order mark). Messages quote at most 200
        characters of a value.

    Warns
    -----
    SpecificationWarning
        A competency with fewer than 3 items.

    Notes
    -----
    Ids (tiers, competencies, items, data columns) are kept in Unicode NFC: two spellings of
    one text (``"caf\\u00e9"`` and ``"cafe\\u0301"``) are one id, so using both in one
    framework is a duplicate id. YAML is read with PyYAML's C loader when it is installed.

    Examples
    --------
    >>> import psychoval as pv
    >>> fw = pv.read_framework({"tiers": [{"id": "t", "competencies": [{"id": "c", "items": [
    ...     {"id": f"q{j}", "type": "likert", "min": 1, "max": 5} for j in range(1, 4)]}]}]})
    >>> fw
    <Framework: 1 tiers, 1 competencies, 3 items>
    >>> print(fw.to_model())
    c =~ q1 + q2 + q3
    """
    import pandas as pd

    if isinstance(source, Framework):
        fw_dict = source.to_dict()
        return _build(fw_dict if name is None else {**fw_dict, "name": name}, "framework")
    if isinstance(source, pd.DataFrame):
        spec = _from_table(source, "item map")
        label = "item map"
    elif isinstance(source, Mapping):
        spec, label = dict(source), "framework"
    elif isinstance(source, (str, os.PathLike)):
        spec, label = _load_file(Path(source))
        spec = _resolve_panels(spec, Path(source).parent)
    else:
        raise SpecificationError(
            f"cannot read a framework from a {type(source).__name__}; pass a path to a YAML, "
            "JSON, CSV or XLSX file, a dict, or an item-map DataFrame"
        )
    if name is not None:
        spec = {**spec, "name": name}
    return _build(spec, label)


# -- files ------------------------------------------------------------------------------


def _load_file(path: Path) -> tuple[dict[str, Any], str]:
    label = clip(str(path), 300)
    try:
        found = path.exists()
    except (OSError, ValueError):  # a NUL character or an over-long name
        found = False
    if not found:
        hint = ""
        if "\n" in str(path) or str(path).lstrip().startswith(("{", "tiers:")):
            hint = ("; read_framework takes a path, a dict or a DataFrame: to read YAML or JSON "
                    "text, parse it first (yaml.safe_load, json.loads) and pass the dict")
        raise SpecificationError(f"{label}: no such framework file{hint}")
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json", ".csv", ".tsv", ".txt", ".xlsx", ".xlsm"):
        raise SpecificationError(
            f"{label}: unknown framework file type {excerpt(suffix, 40)}; use .yaml/.yml, "
            ".json, .csv, .tsv or .xlsx"
        )
    if suffix in (".xlsx", ".xlsm"):
        return _from_table(_read_excel(path, label), label), label
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecificationError(
            f"{label}: cannot read the framework file: {exc.strerror or exc}"
        ) from exc
    text = _decode(raw, label)
    if suffix in (".yaml", ".yml", ".json"):
        data = _load_json(text, label) if suffix == ".json" else _load_yaml(text, label)
        if not isinstance(data, dict):
            what = "nothing" if data is None else f"a {type(data).__name__}"
            raise SpecificationError(
                f"{label}: the file must hold a mapping with a 'tiers' key; found {what}"
            )
        return data, label
    import pandas as pd

    _check_wide_header(text, suffix, label)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, header=None,
                            sep="\t" if suffix == ".tsv" else None, engine="python")
    except (ValueError, csv.Error) as exc:  # pandas' ParserError and EmptyDataError, the sniffer
        raise SpecificationError(
            f"{label}: cannot read the item map as {'TSV' if suffix == '.tsv' else 'CSV'}: "
            f"{clip(str(exc))}"
        ) from exc
    return _from_table(_header_row(frame), label), label


def _check_wide_header(text: str, suffix: str, label: str) -> None:
    """A first line with more fields than an item map has columns fails ``_check_header``:
    say so before pandas builds a table of (say) 10,000 columns, which takes seconds."""
    line = text.split("\n", 1)[0]
    try:  # the delimiter pandas will use: the csv sniffer on the first line
        delimiter = "\t" if suffix == ".tsv" else csv.Sniffer().sniff(line).delimiter
        fields = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:  # pandas will say what is wrong
        return
    if len(fields) > len(TABLE_REQUIRED + TABLE_OPTIONAL):
        _check_header([f.strip() for f in fields], label)


def _read_excel(path: Path, label: str) -> Any:
    import importlib.util

    import pandas as pd

    if importlib.util.find_spec("openpyxl") is None:
        raise SpecificationError(
            f"{label}: reading an Excel item map needs the optional package 'openpyxl'; "
            "install it with `pip install psychoval[excel]`"
        )
    try:
        frame = pd.read_excel(path, dtype=str, keep_default_na=False, header=None)
    except Exception as exc:  # a damaged workbook: zipfile, openpyxl and lxml raise many types
        raise SpecificationError(
            f"{label}: cannot read the item map as an Excel workbook ({type(exc).__name__}: "
            f"{clip(str(exc))}); open and save it again in Excel, or save it as CSV"
        ) from exc
    return _header_row(frame)


def _header_row(frame: Any) -> Any:
    """A table read with ``header=None`` -> its first row as the column names, as written
    (pandas would rename a repeated header ``max`` to ``max.1``; ``_from_table`` says which)."""
    if len(frame) == 0:
        return frame
    return frame.iloc[1:].set_axis([str(c) for c in frame.iloc[0]], axis=1)


# -- text: encodings, JSON, YAML ----------------------------------------------------------

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
         (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
         (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))


def _decode(raw: bytes, label: str) -> str:
    """A text file's bytes -> str: UTF-8 (with or without a byte-order mark), or UTF-16 /
    UTF-32 with their byte-order mark. Other encodings (Latin-1, Windows-1252, UTF-16 without
    a byte-order mark) are refused at the first byte that gives them away, never guessed."""
    codec, name = "utf-8", "UTF-8"
    for bom, bom_codec, bom_name in _BOMS:
        if raw.startswith(bom):
            codec, name = bom_codec, bom_name
            break
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        start = exc.start + (len(codecs.BOM_UTF8) if codec == "utf-8-sig" else 0)
        prefix = raw[:start].decode(codec, errors="replace")
        line, col = _line_col(prefix, len(prefix))
        guess = " (is the file Latin-1 or Windows-1252?)" if name == "UTF-8" else ""
        raise SpecificationError(
            f"{label}: line {line} column {col}: byte 0x{raw[start]:02x} is not valid "
            f"{name}{guess}; save the file as UTF-8"
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line, col = _line_col(text, nul)
        raise SpecificationError(
            f"{label}: line {line} column {col}: a NUL character (is the file UTF-16 or UTF-32 "
            "without a byte-order mark?); save the file as UTF-8"
        )
    return text


def _line_col(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of character ``pos`` of ``text``."""
    return text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)


def _too_deep(label: str, line: int) -> str:
    return (f"{label}: line {line}: lists and mappings nested more than {MAX_DEPTH} deep; a "
            "framework file needs 8 (framework > tiers > competencies > items > options): "
            "look for unclosed brackets, or a file that is not a framework")


def _duplicate_key(label: str, key: Any, line: int, first: int) -> str:
    return (f"{label}: line {line}: duplicate key {excerpt(key)} (first at line {first}); a "
            "key may appear once in each mapping (the second would silently replace the "
            "first): remove or merge one of them")


# a JSON string, or one of the structural characters
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[][{}:,]', re.DOTALL)


def _load_json(text: str, label: str) -> Any:
    duplicate = _scan_json(text, label)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecificationError(
            f"{label}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError:  # not expected: _scan_json has bounded the depth
        raise SpecificationError(_too_deep(label, 1)) from None
    except ValueError as exc:  # a number too long to convert (sys.get_int_max_str_digits)
        raise SpecificationError(f"{label}: not valid JSON: {clip(str(exc))}") from None
    if duplicate is not None:
        raise SpecificationError(_duplicate_key(label, *duplicate))
    return data


def _scan_json(text: str, label: str) -> tuple[str, int, int] | None:
    """Walk a JSON text's tokens in a loop (no recursion): refuse nesting deeper than
    ``MAX_DEPTH``, and return the first key repeated in one object as (key, line, line of its
    first occurrence). Only the structure is followed; ``json.loads`` judges the syntax."""
    open_: list[dict[str, int] | None] = []  # per open bracket: an object's keys, or None
    expect_key = False
    duplicate = None
    line, pos = 1, 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token[0] == '"':
            if not expect_key or duplicate is not None:
                continue
            expect_key = False
            try:
                key = json.loads(token)
            except ValueError:  # a bad escape: json.loads will say where
                continue
            line, pos = line + text.count("\n", pos, match.start()), match.start()
            keys = open_[-1]
            if key in keys:  # type: ignore[operator]
                duplicate = (key, line, keys[key])  # type: ignore[index]
            else:
                keys[key] = line  # type: ignore[index]
        elif token in "[{":
            if len(open_) >= MAX_DEPTH:
                raise SpecificationError(
                    _too_deep(label, line + text.count("\n", pos, match.start())))
            open_.append({} if token == "{" else None)
            expect_key = token == "{"
        elif token in "]}":
            if open_:
                open_.pop()
            expect_key = False
        else:  # "," starts the next key of an object; ":" ends a key
            expect_key = token == "," and bool(open_) and open_[-1] is not None
    return duplicate


# YAML allows these characters only (PyYAML's reader and libyaml check the same set)
_YAML_NOT_PRINTABLE = re.compile(
    "[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


class _StrictConstruction:
    """Mixed into PyYAML's safe loader: a key repeated in one mapping, a merge key (``<<``),
    an unhashable key and a value that a constructor cannot build (``2021-02-30``) are
    SpecificationErrors naming the line."""

    label = "framework"

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)  # type: ignore[misc]
        except (PsychovalError, self.yaml_error):  # type: ignore[attr-defined]
            raise
        except Exception as exc:  # PyYAML's constructors raise ValueError, KeyError, ...
            what = node.tag.rsplit(":", 1)[-1] if node.tag.startswith("tag:yaml.org,") \
                else node.tag
            value = excerpt(node.value, 80) if isinstance(node.value, str) else f"a {node.id}"
            mark = node.start_mark
            raise SpecificationError(
                f"{self.label}: line {mark.line + 1} column {mark.column + 1}: cannot read "
                f"{value} as a YAML {clip(what, 80)} ({type(exc).__name__}: "
                f"{clip(str(exc).split(';')[0], 120)}); put it in quotes to read it as text"
            ) from exc

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if getattr(node, "id", None) != "mapping":  # PyYAML's own error
            return super().construct_mapping(node, deep=deep)  # type: ignore[misc]
        mapping: dict[Any, Any] = {}
        lines: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise SpecificationError(
                    f"{self.label}: line {line}: YAML merge keys ('<<') are not allowed in a "
                    "framework file; write the keys out (use defaults: for item fields that "
                    "every item shares)"
                )
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise SpecificationError(
                    f"{self.label}: line {line}: a key must be text or a number; found a "
                    f"{type(key).__name__}"
                ) from None
            if key in lines:
                raise SpecificationError(_duplicate_key(self.label, key, line, lines[key]))
            lines[key] = line
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


_YAML_LOADERS: dict[type, type] = {}


def _yaml_loader() -> type:
    """PyYAML's C loader (libyaml) when it is installed, else the pure-Python one; either way
    with :class:`_StrictConstruction`. Both give the same result for any framework file."""
    import yaml

    base = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    if base not in _YAML_LOADERS:
        _YAML_LOADERS[base] = type("FrameworkLoader", (_StrictConstruction, base),
                                   {"yaml_error": yaml.YAMLError})
    return _YAML_LOADERS[base]


def _load_yaml(text: str, label: str) -> Any:
    import yaml

    bad = _YAML_NOT_PRINTABLE.search(text)
    if bad is not None:
        line, col = _line_col(text, bad.start())
        raise SpecificationError(
            f"{label}: line {line} column {col}: the character U+{ord(bad.group()):04X} is not "
            "allowed in a YAML file; remove it"
        )
    loader = _yaml_loader()(text)
    loader.label = label
    try:
        node = _compose_yaml(loader, label)
        return None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        if problem == "exceeded maximum nesting depth" and mark:  # libyaml's limit (1000)
            raise SpecificationError(_too_deep(label, mark.line + 1)) from None
        raise SpecificationError(f"{label}: not valid YAML{where}: {clip(problem)}") from exc
    finally:
        loader.dispose()


def _compose_yaml(loader: Any, label: str) -> Any:
    """PyYAML's composer (events -> one document's node graph) as a loop instead of a
    recursion, so that depth is checked as it grows (``MAX_DEPTH``), and refusing anchors and
    aliases: a framework needs none, and nine lines of nested aliases (a "billion laughs")
    expand to gigabytes."""
    from yaml.events import (
        AliasEvent,
        CollectionStartEvent,
        MappingStartEvent,
        ScalarEvent,
        StreamEndEvent,
    )
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    loader.get_event()  # the stream's start
    if loader.check_event(StreamEndEvent):
        return None  # an empty file
    loader.get_event()  # the document's start
    open_: list[Any] = []  # collections being composed, outermost first
    keys: list[Any] = []  # per open collection: a mapping's key waiting for its value
    root = None
    while root is None:
        event = loader.get_event()
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            sign = "alias *" if isinstance(event, AliasEvent) else "anchor &"
            raise SpecificationError(
                f"{label}: line {event.start_mark.line + 1}: YAML {sign}{clip(anchor, 40)}: "
                "anchors and aliases are not allowed in a framework file (it needs none, and "
                "a few nested aliases expand a small file to gigabytes); write the repeated "
                "part out in full, or use defaults: for item fields that every item shares"
            )
        if isinstance(event, ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = loader.resolve(ScalarNode, event.value, event.implicit)
            node = ScalarNode(tag, event.value, event.start_mark, event.end_mark,
                              style=event.style)
        elif isinstance(event, CollectionStartEvent):
            if len(open_) >= MAX_DEPTH:
                raise SpecificationError(_too_deep(label, event.start_mark.line + 1))
            kind = MappingNode if isinstance(event, MappingStartEvent) else SequenceNode
            tag = event.tag
            if tag is None or tag == "!":
                tag = loader.resolve(kind, None, event.implicit)
            open_.append(kind(tag, [], event.start_mark, None, flow_style=event.flow_style))
            keys.append(None)
            continue
        else:  # the end of the innermost open collection
            node = open_.pop()
            keys.pop()
            node.end_mark = event.end_mark
        if not open_:
            root = node
        elif isinstance(open_[-1], SequenceNode):
            open_[-1].value.append(node)
        elif keys[-1] is None:
            keys[-1] = node
        else:
            open_[-1].value.append((keys[-1], node))
            keys[-1] = None
    loader.get_event()  # the document's end
    if not loader.check_event(StreamEndEvent):
        raise SpecificationError(
            f"{label}: line {loader.peek_event().start_mark.line + 1}: a second YAML document; "
            "a framework file holds one (remove the '---' and what follows it)"
        )
    return root


def _blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v.strip() == ""


def _check_header(cols: list[str], label: str) -> None:
    """An item map's column names: none repeated, none unknown, the required ones present."""
    counts = Counter(cols)
    repeated = next((c for c in cols if counts[c] > 1), None)
    if repeated is not None:
        where = [str(j + 1) for j, c in enumerate(cols) if c == repeated]
        shown = ", ".join(where[:6]) + (", ..." if len(where) > 6 else "")
        raise SpecificationError(
            f"{label}: column {excerpt(repeated)} appears {len(where)} times (columns "
            f"{shown}); each column may appear once: remove or merge the extra one"
        )
    unknown = [c for c in cols if c not in TABLE_REQUIRED + TABLE_OPTIONAL]
    if unknown:
        raise SpecificationError(
            f"{label}: unknown column(s) {quoted_names(unknown)}; an item map has the "
            f"columns {', '.join(TABLE_REQUIRED + TABLE_OPTIONAL)}"
        )
    absent = [c for c in TABLE_REQUIRED if c not in cols]
    if absent:
        raise SpecificationError(
            f"{label}: required column(s) {', '.join(map(repr, absent))} missing; an item map "
            f"needs {', '.join(TABLE_REQUIRED)}"
        )


def _from_table(frame: Any, label: str) -> dict[str, Any]:
    """Item map (one row per item) -> the dict format."""
    cols = [str(c).strip() for c in frame.columns]
    _check_header(cols, label)
    records = frame.set_axis(cols, axis=1).to_dict("records")
    spec: dict[str, Any] = {"tiers": []}
    tiers: dict[str, dict[str, Any]] = {}
    comps: dict[tuple[str, str], dict[str, Any]] = {}
    group_cols: list[str] = []
    criterion_cols: list[str] = []
    for rownum, rec in enumerate(records, start=2):
        rec = {k: (None if _blank(v) else (v.strip() if isinstance(v, str) else v))
               for k, v in rec.items()}
        for k, v in rec.items():
            if isinstance(v, int):
                _as_str(v, f"{label}: line {rownum}: {k}")
        item_id, typ = rec.get("item"), rec.get("type")
        if item_id is None:
            if all(v is None for v in rec.values()):
                continue
            raise SpecificationError(f"{label}: line {rownum} has no item id")
        item_id = str(item_id)
        shown = f"{label}: line {rownum} (item {excerpt(item_id)})"
        if typ is not None and str(typ).strip().lower() in TABLE_COLUMN_TYPES:
            kind = str(typ).strip().lower()
            if kind == "id":
                if "id_column" in spec:
                    raise SpecificationError(
                        f"{label}: line {rownum}: a second id column {excerpt(item_id)} "
                        f"(already {excerpt(spec['id_column'])}); a framework has one id column"
                    )
                spec["id_column"] = item_id
            else:
                (group_cols if kind == "group" else criterion_cols).append(item_id)
            continue
        for key in ("competency", "tier"):
            if rec.get(key) is None:
                raise SpecificationError(f"{shown}: the {key} is empty")
        # rows name their tier and competency: spellings equal after NFC are one (see _build)
        tier_id, comp_id = normalize_id(str(rec["tier"])), normalize_id(str(rec["competency"]))
        tier = tiers.get(tier_id)
        if tier is None:
            tier = {"id": tier_id, "competencies": []}
            tiers[tier_id] = tier
            spec["tiers"].append(tier)
        if rec.get("tier_name") is not None:
            tier["name"] = str(rec["tier_name"])
        comp = comps.get((tier_id, comp_id))
        if comp is None:
            others = [t for (t, c) in comps if c == comp_id]
            if others:
                raise SpecificationError(
                    f"{shown}: competency {excerpt(comp_id)} is listed under tier "
                    f"{excerpt(tier_id)} and under tier {excerpt(others[0])}; a competency "
                    "belongs to one tier"
                )
            comp = {"id": comp_id, "items": []}
            comps[(tier_id, comp_id)] = comp
            tier["competencies"].append(comp)
        if rec.get("competency_name") is not None:
            comp["name"] = str(rec["competency_name"])
        for col, owner, what, oid in (("cut_score", comp, "competency", comp_id),
                                      ("tier_cut_score", tier, "tier", tier_id)):
            if rec.get(col) is None:  # the competency's / tier's, on any (or every) item's row
                continue
            cut = _parse_number(rec[col], f"{shown}: {col}")
            if owner.get("cut_score", cut) != cut:
                raise SpecificationError(
                    f"{shown}: {col} {excerpt(rec[col])} differs from "
                    f"{owner['cut_score']:g} given on another row of {what} "
                    f"{excerpt(oid)}; a {what} has one cut score (give it once, or the same "
                    "on every row)")
            owner["cut_score"] = cut
        item: dict[str, Any] = {"id": item_id}
        for key in ITEM_KEYS[1:]:
            v = rec.get(key)
            if v is None:
                continue
            if key in ("categories", "options", "raters", "missing_codes"):
                v = [p.strip() for p in str(v).split("|")]
            elif key == "reverse":
                v = _parse_bool(v, f"{shown}: reverse")
            elif key in ("min", "max", "weight"):
                v = _parse_number(v, f"{shown}: {key}")
            else:
                v = str(v)
            item[key] = v
        comp["items"].append(item)
    if group_cols:
        spec["group_columns"] = group_cols
    if criterion_cols:
        spec["criterion_columns"] = criterion_cols
    return spec


def _parse_bool(v: Any, where: str) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("true", "yes", "y", "1", "1.0", "t"):
        return True
    if s in ("false", "no", "n", "0", "0.0", "f"):
        return False
    raise SpecificationError(f"{where} must be true or false; got {excerpt(v)}")


def _parse_number(v: Any, where: str) -> float:
    try:
        x = float(v)
    except OverflowError:  # an int beyond the float range
        raise SpecificationError(_too_large(v, where)) from None
    except (TypeError, ValueError):
        raise SpecificationError(f"{where} must be a number; got {excerpt(v)}") from None
    if not math.isfinite(x):
        raise SpecificationError(f"{where} must be a finite number; got {excerpt(v)}")
    return x


def _too_large(v: Any, where: str) -> str:
    return f"{where} must be a finite number (at most about 1.8e308); got {excerpt(v)}"


def _as_str(v: Any, where: str) -> str:
    """``str(v)``, or a SpecificationError for an int too long to print as text (over
    ``sys.get_int_max_str_digits()`` digits, only possible in a dict or DataFrame)."""
    try:
        return str(v)
    except ValueError:
        raise SpecificationError(
            f"{where}: got {excerpt(v)}, a number too long to read as text"
        ) from None


# -- the dict format --------------------------------------------------------------------


def _check_keys(obj: Any, allowed: tuple[str, ...], required: tuple[str, ...],
                where: str) -> None:
    if not isinstance(obj, Mapping):
        raise SpecificationError(
            f"{where} must be a mapping; got {type(obj).__name__} {excerpt(obj)}")
    unknown = [k for k in obj if k not in allowed]
    if unknown:
        raise SpecificationError(
            f"{where}: unknown key(s) {quoted_names(unknown)}; allowed keys are "
            f"{', '.join(allowed)}"
        )
    absent = [k for k in required if k not in obj or obj[k] is None]
    if absent:
        raise SpecificationError(
            f"{where}: required key(s) {', '.join(map(repr, absent))} missing"
        )


def _text(obj: Mapping[str, Any], key: str, where: str, default: str = "") -> str:
    v = obj.get(key)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise SpecificationError(f"{where}: {key} must be text; got {excerpt(v)}")
    return _as_str(v, f"{where}: {key}")


def _ident(obj: Mapping[str, Any], where: str) -> str:
    v = obj.get("id")
    if isinstance(v, bool) or not isinstance(v, (str, int)) or \
            _as_str(v, f"{where}: id").strip() == "":
        raise SpecificationError(f"{where}: id must be a non-empty string; got {excerpt(v)}")
    return str(v).strip()


def _str_list(v: Any, where: str, *, min_len: int = 0) -> tuple[str, ...]:
    if isinstance(v, str) or not isinstance(v, (list, tuple)):
        raise SpecificationError(f"{where} must be a list; got {excerpt(v)}")
    out = []
    for x in v:
        if isinstance(x, bool) or not isinstance(x, (str, int, float)) or \
                _as_str(x, where).strip() == "":
            raise SpecificationError(f"{where} must hold non-empty strings; got {excerpt(x)}")
        out.append(str(x).strip())
    if len(out) < min_len:
        raise SpecificationError(f"{where} needs at least {min_len} entries; got {len(out)}")
    return tuple(out)


def _criteria(v: Any, where: str) -> dict[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, Mapping):
        raise SpecificationError(
            f"{where}: criteria must be a mapping of name -> value; got {excerpt(v)}")
    for k, x in v.items():
        if not (x is None or isinstance(x, (str, int, float, bool))):
            raise SpecificationError(
                f"{where}: criteria[{excerpt(k, 60)}] must be a number, text, true/false or "
                f"null; got {excerpt(x)}"
            )
    return {_as_str(k, f"{where}: criteria"): x for k, x in v.items()}


def _number(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SpecificationError(f"{where} must be a number; got {excerpt(v)}")
    try:
        x = float(v)
    except OverflowError:  # an int beyond the float range
        raise SpecificationError(_too_large(v, where)) from None
    if not math.isfinite(x):
        raise SpecificationError(f"{where} must be a finite number; got {excerpt(v)}")
    return x


def _build(spec: Mapping[str, Any], label: str) -> Framework:
    _check_keys(spec, FRAMEWORK_KEYS, ("tiers",), label)
    defaults = spec.get("defaults") or {}
    _check_keys(defaults, DEFAULT_KEYS, (), f"{label}: defaults")
    tiers_spec = spec["tiers"]
    if not isinstance(tiers_spec, list) or not tiers_spec:
        raise SpecificationError(f"{label}: tiers must be a non-empty list")
    # every id (tier, competency, item, data column), in NFC -> (what it is, as written)
    seen: dict[str, tuple[str, str]] = {}

    def claim(ident: str, what: str) -> str:
        """Register an id; return it in Unicode NFC, the form the framework keeps."""
        key = normalize_id(ident)
        if key in seen:
            first_what, first_spelling = seen[key]
            spelled = ""
            if ident != first_spelling:
                spelled = (f" (written {clip(ascii(ident), 80)} and "
                           f"{clip(ascii(first_spelling), 80)}: the same text after Unicode "
                           "NFC normalisation)")
            raise SpecificationError(
                f"{label}: duplicate id {excerpt(key)}: used for {what} and for "
                f"{first_what}{spelled}; ids of tiers, competencies, items and rater columns "
                "must be unique: rename one of them"
            )
        seen[key] = (what, ident)
        return key

    tiers = []
    for ti, tspec in enumerate(tiers_spec):
        where_t = _where(tspec, f"{label}: tiers[{ti}]", f"{label}: tier")
        _check_keys(tspec, TIER_KEYS, ("id", "competencies"), where_t)
        tid = claim(_ident(tspec, where_t), "a tier")
        where_t = f"{label}: tier {excerpt(tid)}"
        cspecs = tspec["competencies"]
        if not isinstance(cspecs, list) or not cspecs:
            raise SpecificationError(f"{where_t}: competencies must be a non-empty list")
        comps = []
        for ci, cspec in enumerate(cspecs):
            where_c = _where(cspec, f"{where_t}: competencies[{ci}]", f"{label}: competency")
            _check_keys(cspec, COMPETENCY_KEYS, ("id", "items"), where_c)
            cid = claim(_ident(cspec, where_c), "a competency")
            where_c = f"{label}: competency {excerpt(cid)}"
            ispecs = cspec["items"]
            if not isinstance(ispecs, list) or not ispecs:
                raise SpecificationError(f"{where_c}: items must be a non-empty list")
            items = []
            for ii, ispec in enumerate(ispecs):
                where_i = _where(ispec, f"{where_c}: items[{ii}]", f"{label}: item")
                _check_keys(ispec, ITEM_KEYS, ("id",), where_i)
                iid = claim(_ident(ispec, where_i), "an item")
                item = _build_item({**defaults, **ispec}, iid, cid, tid,
                                   f"{label}: item {excerpt(iid)}")
                item = _with_missing_codes(item, {**defaults, **ispec},
                                           f"{label}: item {excerpt(iid)}")
                raters = tuple(claim(col, f"a rater column of item {excerpt(iid)}")
                               for col in item.raters)
                if raters != item.raters:
                    item = dataclasses.replace(item, raters=raters)
                items.append(item)
            comps.append(Competency(
                id=cid, name=_text(cspec, "name", where_c, cid), tier=tid, items=tuple(items),
                description=_text(cspec, "description", where_c),
                criteria=_criteria(cspec.get("criteria"), where_c),
                cut_score=(None if cspec.get("cut_score") is None else
                           _number(cspec["cut_score"], f"{where_c}: cut_score")),
            ))
        tiers.append(Tier(id=tid, name=_text(tspec, "name", where_t, tid),
                          competencies=tuple(comps),
                          description=_text(tspec, "description", where_t),
                          cut_score=(None if tspec.get("cut_score") is None else
                                     _number(tspec["cut_score"], f"{where_t}: cut_score"))))
    id_column = spec.get("id_column")
    if id_column is not None:
        id_column = claim(_str_list([id_column], f"{label}: id_column")[0], "the id column")
    groups = tuple(claim(col, "a group column") for col in
                   _str_list(spec.get("group_columns") or [], f"{label}: group_columns"))
    crits = tuple(claim(col, "a criterion column") for col in
                  _str_list(spec.get("criterion_columns") or [], f"{label}: criterion_columns"))
    role_column, roles = _roles(spec, groups, {c.id for t in tiers for c in t.competencies},
                                label)
    fw = Framework(
        tiers=tuple(tiers), name=_text(spec, "name", label), version=_text(spec, "version", label),
        description=_text(spec, "description", label), id_column=id_column,
        group_columns=groups, criterion_columns=crits,
        criteria=_criteria(spec.get("criteria"), label), role_column=role_column, roles=roles,
        panels=_panels(spec.get("panels"), label),
    )
    warn_small_competencies(fw, stacklevel=4)
    return fw


def _resolve_panels(spec: Any, folder: Path) -> Any:
    """A framework file's relative ``panels`` paths, resolved against the file's folder
    (anything that is not a mapping of strings is left for :func:`_panels` to reject)."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get("panels"), Mapping):
        return spec
    panels = {k: str(folder / v) if isinstance(v, str) and v.strip()
              and not Path(v).is_absolute() else v for k, v in spec["panels"].items()}
    return {**spec, "panels": panels}


def _panels(raw: Any, label: str) -> dict[str, str]:
    """``panels``: {content_ratings / angoff_ratings: file} read by pv.validate."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SpecificationError(f"{label}: panels must be a mapping ({', '.join(PANEL_KEYS)})"
                                 " -> file")
    _check_keys(raw, PANEL_KEYS, (), f"{label}: panels")
    out = {}
    for key, value in raw.items():
        if not isinstance(value, str) or not value.strip():
            raise SpecificationError(f"{label}: panels: {key} must be a file path, not "
                                     f"{excerpt(value)}")
        out[str(key)] = value
    return out


def _roles(spec: Mapping[str, Any], groups: tuple[str, ...], comps: set[str], label: str
           ) -> tuple[str | None, dict[str, dict[str, float]]]:
    """``role_column`` and ``roles`` ({role: {competency: target on the mean-score scale}}):
    the skills-gap targets of each role."""
    raw = spec.get("roles")
    col = spec.get("role_column")
    if col is not None:
        col = _str_list([col], f"{label}: role_column")[0]
        if col not in groups:
            raise SpecificationError(
                f"{label}: role_column {excerpt(col)} is not one of the group_columns "
                f"{list(groups)}; add it to group_columns")
    if raw is None:
        return col, {}
    if not isinstance(raw, Mapping) or not raw:
        raise SpecificationError(f"{label}: roles must be a mapping role -> {{competency: "
                                 "target}}")
    if col is None:
        if not groups:
            raise SpecificationError(f"{label}: roles need the column that holds each "
                                     "respondent's role: declare it in group_columns (and "
                                     "role_column if it is not the first)")
        col = groups[0]
    out: dict[str, dict[str, float]] = {}
    for role, targets in raw.items():
        where = f"{label}: roles: {excerpt(role)}"
        if not isinstance(targets, Mapping) or not targets:
            raise SpecificationError(f"{where} must map competencies to target scores")
        row: dict[str, float] = {}
        for comp, value in targets.items():
            cid = normalize_id(str(comp))
            if cid not in comps:
                raise SpecificationError(
                    f"{where}: {excerpt(comp)} is not a competency of the framework; remove "
                    "it from roles (when keeping only some tiers, drop or trim roles too)")
            row[cid] = _number(value, f"{where}: {cid}")
        out[str(role)] = row
    return col, out


def _where(obj: Any, positional: str, named: str) -> str:
    """Name a tier / competency / item by its id when it has a usable one."""
    if isinstance(obj, Mapping):
        ident = obj.get("id")
        if isinstance(ident, (str, int)) and not isinstance(ident, bool) and \
                _as_str(ident, f"{positional}: id").strip():
            return f"{named} {excerpt(normalize_id(str(ident).strip()))}"
    return positional


def _build_item(spec: Mapping[str, Any], iid: str, cid: str, tid: str, where: str) -> Item:
    typ = spec.get("type")
    if typ is None:
        raise SpecificationError(
            f"{where}: no type; give one of {', '.join(ITEM_TYPES)} (or a type under defaults)"
        )
    typ = _as_str(typ, f"{where}: type").strip().lower()
    if typ not in ITEM_TYPES:
        raise SpecificationError(
            f"{where}: unknown type {excerpt(spec.get('type'))}; use one of "
            f"{', '.join(ITEM_TYPES)}"
        )
    lo = None if spec.get("min") is None else _number(spec["min"], f"{where}: min")
    hi = None if spec.get("max") is None else _number(spec["max"], f"{where}: max")
    categories = () if spec.get("categories") is None else \
        _str_list(spec["categories"], f"{where}: categories", min_len=2)
    options = () if spec.get("options") is None else \
        _str_list(spec["options"], f"{where}: options", min_len=2)
    raters = () if spec.get("raters") is None else \
        _str_list(spec["raters"], f"{where}: raters", min_len=1)
    reverse = spec.get("reverse", False)
    if not isinstance(reverse, bool):
        raise SpecificationError(
            f"{where}: reverse must be true or false; got {excerpt(reverse)}")
    weight = 1.0 if spec.get("weight") is None else _number(spec["weight"], f"{where}: weight")
    if weight != 1.0:
        raise SpecificationError(
            f"{where}: weight {_fmtnum(weight)} is not supported: psychoval scores unweighted "
            "composites (weighted composites and Mosier's weighted reliability are not "
            "implemented); remove the weight or set it to 1"
        )
    combine = _as_str(spec.get("combine", "mean"), f"{where}: combine").strip().lower()
    if combine not in COMBINE_RULES:
        raise SpecificationError(
            f"{where}: combine={excerpt(spec.get('combine'))} is not one of "
            f"{', '.join(COMBINE_RULES)}"
        )
    answer_key = spec.get("answer_key")
    text = _text(spec, "text", where)

    if typ == "multiple_choice":
        if not options:
            raise SpecificationError(
                f"{where}: a multiple_choice item needs its options (e.g. [A, B, C, D]); in an "
                "item map write them as A|B|C|D"
            )
        if len({norm_label(o) for o in options}) < len(options):
            raise SpecificationError(
                f"{where}: options {excerpt(list(options))} repeat an option")
        if answer_key is None:
            raise SpecificationError(
                f"{where}: a multiple_choice item needs an answer_key among its options "
                f"{clip(', '.join(options))}"
            )
        keyed = norm_label(_as_str(answer_key, f"{where}: answer_key"))
        match = [o for o in options if norm_label(o) == keyed]
        if not match:
            raise SpecificationError(
                f"{where}: answer_key {excerpt(answer_key)} is not one of its options "
                f"{clip(', '.join(options))}; fix the key or the options"
            )
        for key, bad in (("min", lo), ("max", hi)):
            if bad is not None:
                raise SpecificationError(
                    f"{where}: {key} does not apply to a multiple_choice item (it is scored "
                    "0/1 by its answer_key); remove it"
                )
        if categories or raters:
            raise SpecificationError(
                f"{where}: categories and raters do not apply to a multiple_choice item"
            )
        if reverse:
            raise SpecificationError(
                f"{where}: a multiple_choice item cannot be reverse-keyed; its answer_key says "
                "which option scores 1"
            )
        return Item(id=iid, type=typ, competency=cid, tier=tid, text=text, options=options,
                    answer_key=match[0], reverse=False, weight=weight, combine="mean")

    if answer_key is not None:
        raise SpecificationError(
            f"{where}: answer_key {excerpt(answer_key)} applies only to multiple_choice items; this "
            f"item is {typ}"
        )
    if options:
        raise SpecificationError(
            f"{where}: options apply only to multiple_choice items; use categories for labelled "
            "response categories"
        )
    if raters and typ != "rating":
        raise SpecificationError(f"{where}: raters apply only to rating items; this item is {typ}")
    if "combine" in spec and typ != "rating" and combine != "mean":
        raise SpecificationError(f"{where}: combine applies only to rating items")
    if typ == "dichotomous" and not categories:
        lo = 0.0 if lo is None else lo
        hi = 1.0 if hi is None else hi
    if categories:
        if len({norm_label(c) for c in categories}) < len(categories):
            raise SpecificationError(
                f"{where}: categories {excerpt(list(categories))} repeat a label")
        lo = 1.0 if lo is None else lo
        implied = lo + len(categories) - 1
        if hi is not None and hi != implied:
            raise SpecificationError(
                f"{where}: {len(categories)} categories from min {_fmtnum(lo)} end at "
                f"{_fmtnum(implied)}, but max is {_fmtnum(hi)}; drop max or make them agree"
            )
        hi = implied
    if lo is None or hi is None:
        raise SpecificationError(
            f"{where}: a {typ} item needs its response range: min and max (or categories)"
        )
    if lo >= hi:
        raise SpecificationError(
            f"{where}: min {_fmtnum(lo)} must be below max {_fmtnum(hi)}"
        )
    if typ == "dichotomous" and hi - lo != 1:
        raise SpecificationError(
            f"{where}: a dichotomous item has two values; min {_fmtnum(lo)} and max "
            f"{_fmtnum(hi)} are not one apart"
        )
    return Item(id=iid, type=typ, competency=cid, tier=tid, text=text, min=lo, max=hi,
                categories=categories, reverse=reverse, weight=weight, raters=raters,
                combine=combine if typ == "rating" else "mean")


def _fmtnum(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


# -- missing codes (framework default under ``defaults``, or per item) --------------------


@dataclasses.dataclass(frozen=True)
class CodedItem(Item):
    """An :class:`Item` with ``missing_codes``: codes that mean "no answer" in its data
    column(s) (e.g. ``-99``, ``"NA"``), scored as missing and not reported as invalid."""

    missing_codes: tuple[Any, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.missing_codes:
            out["missing_codes"] = list(self.missing_codes)
        return out


def _with_missing_codes(item: Item, spec: Mapping[str, Any], where: str) -> Item:
    """The item with its ``missing_codes`` (checked: text or numbers, none of them an answer
    the item accepts: not a label or option, not a number in its range)."""
    from psychoval.exceptions import DataError
    from psychoval.io._table import MissingCodes

    raw = spec.get("missing_codes")
    if raw is None:
        return item
    if isinstance(raw, (str, bytes)) or not isinstance(raw, (list, tuple)):
        raise SpecificationError(
            f"{where}: missing_codes must be a list of codes (text or numbers), e.g. "
            f"[-99, NA]; got {excerpt(raw)}"
        )
    try:
        codes = MissingCodes.parse(list(raw), f"{where}: missing_codes")
    except DataError as exc:
        raise SpecificationError(str(exc)) from None
    if not codes:
        return item
    answers = item.options if item.type == "multiple_choice" else item.categories
    kind = "options" if item.type == "multiple_choice" else "categories"
    named = {norm_label(a): a for a in answers}
    for code in sorted(codes.text) + [_fmtnum(v) for v in codes.numbers]:
        if norm_label(code) in named:
            raise SpecificationError(
                f"{where}: missing code {excerpt(code)} is also one of its {kind} "
                f"({clip(', '.join(answers))}); a code cannot be both an answer and missing"
            )
    if item.type != "multiple_choice":
        inside = [v for v in codes.numbers if item.min <= v <= item.max]  # type: ignore[operator]
        if inside:
            raise SpecificationError(
                f"{where}: missing code {_fmtnum(inside[0])} lies in its response range "
                f"{_fmtnum(item.min)}-{_fmtnum(item.max)}; a missing code must be outside "
                "the answers (e.g. -99)"  # type: ignore[arg-type]
            )
    fields = {f.name: getattr(item, f.name) for f in dataclasses.fields(Item)}
    return CodedItem(**fields, missing_codes=tuple(codes.to_list()))
