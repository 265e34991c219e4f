"""read_framework: YAML, JSON, dict or an item-map table -> :class:`Framework`.

The file format is published as a JSON Schema in ``docs/framework.schema.json``. The library
checks the same rules with its own code (so ``jsonschema`` stays an optional dependency) and
adds the rules a schema cannot say: unique ids, answer keys among the options, min < max.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from psychoval.exceptions import SpecificationError
from psychoval.framework._framework import (
    COMBINE_RULES,
    ITEM_TYPES,
    Competency,
    Framework,
    Item,
    Tier,
    _norm_label,
    warn_small_competencies,
)

__all__ = ["read_framework"]

FRAMEWORK_KEYS = ("name", "version", "description", "id_column", "group_columns",
                  "criterion_columns", "criteria", "defaults", "tiers")
TIER_KEYS = ("id", "name", "description", "competencies")
COMPETENCY_KEYS = ("id", "name", "description", "criteria", "items")
ITEM_KEYS = ("id", "type", "text", "min", "max", "categories", "options", "answer_key",
             "reverse", "weight", "raters", "combine")
DEFAULT_KEYS = ("type", "min", "max", "categories", "options", "reverse", "weight", "combine")
TABLE_REQUIRED = ("item", "competency", "tier", "type")
TABLE_OPTIONAL = ("min", "max", "reverse", "answer_key", "weight", "text", "options",
                  "categories", "raters", "combine", "competency_name", "tier_name")
# item-map rows that declare a data column other than an item
TABLE_COLUMN_TYPES = ("id", "group", "criterion")


def read_framework(source: Any, *, name: str | None = None) -> Framework:
    """Read a competency framework (tiers -> competencies -> items).

    Parameters
    ----------
    source : path, str, dict or DataFrame
        A YAML (``.yaml``/``.yml``) or JSON file, a dict in the same format, or an item-map
        table (``.csv``/``.tsv``/``.xlsx`` file or DataFrame) with one row per item and the
        columns ``item, competency, tier, type`` and optionally ``min, max, reverse,
        answer_key, weight, text, options, categories, raters, combine, competency_name,
        tier_name`` (lists separated by ``|``). Item-map rows of type ``id``, ``group`` or
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
        Each message names the item (or tier / competency) at fault.

    Warns
    -----
    SpecificationWarning
        A competency with fewer than 3 items.

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
    label = str(path)
    if not path.exists():
        raise SpecificationError(f"{label}: no such framework file")
    suffix = path.suffix.lower()
    text_suffixes = (".yaml", ".yml", ".json")
    if suffix in text_suffixes:
        text = path.read_text(encoding="utf-8-sig")
        if suffix == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SpecificationError(
                    f"{label}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                ) from exc
        else:
            import yaml

            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
                problem = getattr(exc, "problem", None) or str(exc)
                raise SpecificationError(f"{label}: not valid YAML{where}: {problem}") from exc
        if not isinstance(data, dict):
            raise SpecificationError(
                f"{label}: the file must hold a mapping with a 'tiers' key; found a "
                f"{type(data).__name__}"
            )
        return data, label
    if suffix in (".csv", ".tsv", ".txt", ".xlsx", ".xlsm"):
        import pandas as pd

        if suffix in (".xlsx", ".xlsm"):
            import importlib.util

            if importlib.util.find_spec("openpyxl") is None:
                raise SpecificationError(
                    f"{label}: reading an Excel item map needs the optional package 'openpyxl'; "
                    "install it with `pip install psychoval[excel]`"
                )
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False,
                                sep="\t" if suffix == ".tsv" else None, engine="python",
                                encoding="utf-8-sig")
        return _from_table(frame, label), label
    raise SpecificationError(
        f"{label}: unknown framework file type {suffix!r}; use .yaml/.yml, .json, .csv, .tsv "
        "or .xlsx"
    )


def _blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v.strip() == ""


def _from_table(frame: Any, label: str) -> dict[str, Any]:
    """Item map (one row per item) -> the dict format."""
    cols = [str(c).strip() for c in frame.columns]
    unknown = [c for c in cols if c not in TABLE_REQUIRED + TABLE_OPTIONAL]
    if unknown:
        raise SpecificationError(
            f"{label}: unknown column(s) {', '.join(map(repr, unknown))}; an item map has the "
            f"columns {', '.join(TABLE_REQUIRED + TABLE_OPTIONAL)}"
        )
    absent = [c for c in TABLE_REQUIRED if c not in cols]
    if absent:
        raise SpecificationError(
            f"{label}: required column(s) {', '.join(map(repr, absent))} missing; an item map "
            f"needs {', '.join(TABLE_REQUIRED)}"
        )
    records = frame.set_axis(cols, axis=1).to_dict("records")
    spec: dict[str, Any] = {"tiers": []}
    tiers: dict[str, dict[str, Any]] = {}
    comps: dict[tuple[str, str], dict[str, Any]] = {}
    group_cols: list[str] = []
    criterion_cols: list[str] = []
    for rownum, rec in enumerate(records, start=2):
        rec = {k: (None if _blank(v) else (v.strip() if isinstance(v, str) else v))
               for k, v in rec.items()}
        item_id, typ = rec.get("item"), rec.get("type")
        if item_id is None:
            if all(v is None for v in rec.values()):
                continue
            raise SpecificationError(f"{label}: line {rownum} has no item id")
        item_id = str(item_id)
        if typ is not None and str(typ).strip().lower() in TABLE_COLUMN_TYPES:
            kind = str(typ).strip().lower()
            if kind == "id":
                if "id_column" in spec:
                    raise SpecificationError(
                        f"{label}: line {rownum}: a second id column {item_id!r} (already "
                        f"{spec['id_column']!r}); a framework has one id column"
                    )
                spec["id_column"] = item_id
            else:
                (group_cols if kind == "group" else criterion_cols).append(item_id)
            continue
        for key in ("competency", "tier"):
            if rec.get(key) is None:
                raise SpecificationError(
                    f"{label}: line {rownum} (item {item_id!r}): the {key} is empty"
                )
        tier_id, comp_id = str(rec["tier"]), str(rec["competency"])
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
                    f"{label}: line {rownum} (item {item_id!r}): competency {comp_id!r} is "
                    f"listed under tier {tier_id!r} and under tier {others[0]!r}; a "
                    "competency belongs to one tier"
                )
            comp = {"id": comp_id, "items": []}
            comps[(tier_id, comp_id)] = comp
            tier["competencies"].append(comp)
        if rec.get("competency_name") is not None:
            comp["name"] = str(rec["competency_name"])
        item: dict[str, Any] = {"id": item_id}
        for key in ITEM_KEYS[1:]:
            v = rec.get(key)
            if v is None:
                continue
            if key in ("categories", "options", "raters"):
                v = [p.strip() for p in str(v).split("|")]
            elif key == "reverse":
                v = _parse_bool(v, f"{label}: line {rownum} (item {item_id!r}): reverse")
            elif key in ("min", "max", "weight"):
                v = _parse_number(v, f"{label}: line {rownum} (item {item_id!r}): {key}")
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
    raise SpecificationError(f"{where} must be true or false; got {v!r}")


def _parse_number(v: Any, where: str) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise SpecificationError(f"{where} must be a number; got {v!r}") from None
    if not math.isfinite(x):
        raise SpecificationError(f"{where} must be a finite number; got {v!r}")
    return x


# -- the dict format --------------------------------------------------------------------


def _check_keys(obj: Any, allowed: tuple[str, ...], required: tuple[str, ...],
                where: str) -> None:
    if not isinstance(obj, Mapping):
        raise SpecificationError(f"{where} must be a mapping; got {type(obj).__name__} {obj!r}")
    unknown = [k for k in obj if k not in allowed]
    if unknown:
        raise SpecificationError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; allowed keys are "
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
        raise SpecificationError(f"{where}: {key} must be text; got {v!r}")
    return str(v)


def _ident(obj: Mapping[str, Any], where: str) -> str:
    v = obj.get("id")
    if isinstance(v, bool) or not isinstance(v, (str, int)) or str(v).strip() == "":
        raise SpecificationError(f"{where}: id must be a non-empty string; got {v!r}")
    return str(v).strip()


def _str_list(v: Any, where: str, *, min_len: int = 0) -> tuple[str, ...]:
    if isinstance(v, str) or not isinstance(v, (list, tuple)):
        raise SpecificationError(f"{where} must be a list; got {v!r}")
    out = []
    for x in v:
        if isinstance(x, bool) or not isinstance(x, (str, int, float)) or str(x).strip() == "":
            raise SpecificationError(f"{where} must hold non-empty strings; got {x!r}")
        out.append(str(x).strip())
    if len(out) < min_len:
        raise SpecificationError(f"{where} needs at least {min_len} entries; got {len(out)}")
    return tuple(out)


def _criteria(v: Any, where: str) -> dict[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, Mapping):
        raise SpecificationError(f"{where}: criteria must be a mapping of name -> value; got {v!r}")
    for k, x in v.items():
        if not (x is None or isinstance(x, (str, int, float, bool))):
            raise SpecificationError(
                f"{where}: criteria[{k!r}] must be a number, text, true/false or null; got {x!r}"
            )
    return {str(k): x for k, x in v.items()}


def _number(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SpecificationError(f"{where} must be a number; got {v!r}")
    if not math.isfinite(v):
        raise SpecificationError(f"{where} must be a finite number; got {v!r}")
    return float(v)


def _build(spec: Mapping[str, Any], label: str) -> Framework:
    _check_keys(spec, FRAMEWORK_KEYS, ("tiers",), label)
    defaults = spec.get("defaults") or {}
    _check_keys(defaults, DEFAULT_KEYS, (), f"{label}: defaults")
    tiers_spec = spec["tiers"]
    if not isinstance(tiers_spec, list) or not tiers_spec:
        raise SpecificationError(f"{label}: tiers must be a non-empty list")
    seen: dict[str, str] = {}  # every id (tier, competency, item, rater column) -> what it is

    def claim(ident: str, what: str) -> None:
        if ident in seen:
            raise SpecificationError(
                f"{label}: duplicate id {ident!r}: used for {what} and for {seen[ident]}; "
                "ids of tiers, competencies, items and rater columns must be unique"
            )
        seen[ident] = what

    tiers = []
    for ti, tspec in enumerate(tiers_spec):
        where_t = _where(tspec, f"{label}: tiers[{ti}]", f"{label}: tier")
        _check_keys(tspec, TIER_KEYS, ("id", "competencies"), where_t)
        tid = _ident(tspec, where_t)
        where_t = f"{label}: tier {tid!r}"
        claim(tid, "a tier")
        cspecs = tspec["competencies"]
        if not isinstance(cspecs, list) or not cspecs:
            raise SpecificationError(f"{where_t}: competencies must be a non-empty list")
        comps = []
        for ci, cspec in enumerate(cspecs):
            where_c = _where(cspec, f"{where_t}: competencies[{ci}]", f"{label}: competency")
            _check_keys(cspec, COMPETENCY_KEYS, ("id", "items"), where_c)
            cid = _ident(cspec, where_c)
            where_c = f"{label}: competency {cid!r}"
            claim(cid, "a competency")
            ispecs = cspec["items"]
            if not isinstance(ispecs, list) or not ispecs:
                raise SpecificationError(f"{where_c}: items must be a non-empty list")
            items = []
            for ii, ispec in enumerate(ispecs):
                where_i = _where(ispec, f"{where_c}: items[{ii}]", f"{label}: item")
                _check_keys(ispec, ITEM_KEYS, ("id",), where_i)
                iid = _ident(ispec, where_i)
                claim(iid, "an item")
                item = _build_item({**defaults, **ispec}, iid, cid, tid, f"{label}: item {iid!r}")
                for col in item.raters:
                    claim(col, f"a rater column of item {iid!r}")
                items.append(item)
            comps.append(Competency(
                id=cid, name=_text(cspec, "name", where_c, cid), tier=tid, items=tuple(items),
                description=_text(cspec, "description", where_c),
                criteria=_criteria(cspec.get("criteria"), where_c),
            ))
        tiers.append(Tier(id=tid, name=_text(tspec, "name", where_t, tid),
                          competencies=tuple(comps),
                          description=_text(tspec, "description", where_t)))
    id_column = spec.get("id_column")
    if id_column is not None:
        id_column = _str_list([id_column], f"{label}: id_column")[0]
        claim(id_column, "the id column")
    groups = _str_list(spec.get("group_columns") or [], f"{label}: group_columns")
    crits = _str_list(spec.get("criterion_columns") or [], f"{label}: criterion_columns")
    for col in groups:
        claim(col, "a group column")
    for col in crits:
        claim(col, "a criterion column")
    fw = Framework(
        tiers=tuple(tiers), name=_text(spec, "name", label), version=_text(spec, "version", label),
        description=_text(spec, "description", label), id_column=id_column,
        group_columns=groups, criterion_columns=crits,
        criteria=_criteria(spec.get("criteria"), label),
    )
    warn_small_competencies(fw, stacklevel=4)
    return fw


def _where(obj: Any, positional: str, named: str) -> str:
    """Name a tier / competency / item by its id when it has a usable one."""
    if isinstance(obj, Mapping):
        ident = obj.get("id")
        if isinstance(ident, (str, int)) and not isinstance(ident, bool) and str(ident).strip():
            return f"{named} {str(ident).strip()!r}"
    return positional


def _build_item(spec: Mapping[str, Any], iid: str, cid: str, tid: str, where: str) -> Item:
    typ = spec.get("type")
    if typ is None:
        raise SpecificationError(
            f"{where}: no type; give one of {', '.join(ITEM_TYPES)} (or a type under defaults)"
        )
    typ = str(typ).strip().lower()
    if typ not in ITEM_TYPES:
        raise SpecificationError(
            f"{where}: unknown type {spec.get('type')!r}; use one of {', '.join(ITEM_TYPES)}"
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
        raise SpecificationError(f"{where}: reverse must be true or false; got {reverse!r}")
    weight = 1.0 if spec.get("weight") is None else _number(spec["weight"], f"{where}: weight")
    if weight != 1.0:
        raise SpecificationError(
            f"{where}: weight {_fmtnum(weight)} is not supported: psychoval scores unweighted "
            "composites (weighted composites and Mosier's weighted reliability are not "
            "implemented); remove the weight or set it to 1"
        )
    combine = str(spec.get("combine", "mean")).strip().lower()
    if combine not in COMBINE_RULES:
        raise SpecificationError(
            f"{where}: combine={spec.get('combine')!r} is not one of {', '.join(COMBINE_RULES)}"
        )
    answer_key = spec.get("answer_key")
    text = _text(spec, "text", where)

    if typ == "multiple_choice":
        if not options:
            raise SpecificationError(
                f"{where}: a multiple_choice item needs its options (e.g. [A, B, C, D]); in an "
                "item map write them as A|B|C|D"
            )
        if len({_norm_label(o) for o in options}) < len(options):
            raise SpecificationError(f"{where}: options {list(options)} repeat an option")
        if answer_key is None:
            raise SpecificationError(
                f"{where}: a multiple_choice item needs an answer_key among its options "
                f"{', '.join(options)}"
            )
        match = [o for o in options if _norm_label(o) == _norm_label(answer_key)]
        if not match:
            raise SpecificationError(
                f"{where}: answer_key {answer_key!r} is not one of its options "
                f"{', '.join(options)}; fix the key or the options"
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
            f"{where}: answer_key {answer_key!r} applies only to multiple_choice items; this "
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
        if len({_norm_label(c) for c in categories}) < len(categories):
            raise SpecificationError(f"{where}: categories {list(categories)} repeat a label")
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
