"""``psychoval standard-setting RATINGS [--method angoff|bookmark] [--framework FW
[--competency C | --tier T]] [--responses R] [--id-column COL] [--json PATH|-] [--md PATH|-]
[--write-framework OUT]``: cut
scores from a standard-setting panel (pv.standard_setting) with the SE across judges, the
change between rounds, the judges' ICC and outlying judges; with ``--responses`` the impact
(share at or above each cut, by group); with ``--write-framework`` the final cut written back
as the target's ``cut_score`` into a copy of the framework file."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ratings", metavar="RATINGS",
                        help="the panel's ratings (CSV, TSV, XLSX). Angoff: long (judge, "
                             "item, rating, optional round and level) or items x judges; "
                             "Bookmark: judge, page, optional round and level")
    parser.add_argument("--method", choices=("angoff", "bookmark"), default="angoff",
                        help="modified Angoff (default) or Bookmark")
    from psychoval.cli._common import add_framework, add_id_column, add_json, add_md

    add_framework(parser)
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--competency", metavar="ID",
                        help="the competency whose cut is set (default: the one whose items "
                             "were rated)")
    target.add_argument("--tier", metavar="ID", help="the tier whose cut is set")
    parser.add_argument("--responses", metavar="FILE",
                        help="response file: impact of the cuts (share at or above, by the "
                             "framework's first group column) and, for Bookmark, the IRT fit "
                             "(2PL / GRM) that orders the booklet")
    add_id_column(parser)
    parser.add_argument("--rp", type=float, default=0.67,
                        help="Bookmark: response probability criterion (default .67)")
    parser.add_argument("--level", metavar="LEVEL",
                        help="the level whose cut --write-framework writes (needed with "
                             "several levels)")
    add_json(parser)
    add_md(parser)
    parser.add_argument("--write-framework", metavar="OUT",
                        help="write the framework with the final cut as the target's "
                             "cut_score (per item: the framework's scale) to OUT (YAML, or "
                             "JSON by its suffix)")


def _table(path: str):
    import pandas as pd

    if path.lower().endswith((".xlsx", ".xlsm")):
        return pd.read_excel(path, dtype=object, keep_default_na=False)
    return pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False,
                       encoding="utf-8-sig")


def _target(fw, ratings, args) -> dict[str, str]:
    """competency= / tier= from the options, else the competency or tier whose items are
    the rated items."""
    from psychoval.exceptions import SpecificationError

    if args.competency or args.tier:
        return {"competency": args.competency} if args.competency else {"tier": args.tier}
    cols = {str(c).lower(): c for c in ratings.columns}
    if "item" not in cols:
        raise SpecificationError("give --competency or --tier: the ratings name no items")
    items = {str(i) for i in ratings[cols["item"]]}
    for c in fw.competencies:
        if set(c.item_ids) == items:
            return {"competency": c.id}
    for t in fw.tiers:
        if {i.id for i in t.items} == items:
            return {"tier": t.id}
    raise SpecificationError(
        f"the rated items ({', '.join(sorted(items))}) are not the items of one competency "
        "or tier of the framework: give --competency or --tier")


def run(args: argparse.Namespace) -> int:
    import json

    import pandas as pd

    import psychoval as pv
    from psychoval.cli._common import check_one_stdout, reading, show, write_outputs
    from psychoval.cli._main import EXIT_OK
    from psychoval.exceptions import SpecificationError

    to_stdout = check_one_stdout(json=args.json, md=args.md,
                                 write_framework=args.write_framework)
    with reading(args.ratings):
        ratings = _table(args.ratings)
    fw, target, kw = None, None, {}
    if args.framework:
        with reading(args.framework):
            fw = pv.read_framework(args.framework)
        target = _target(fw, ratings, args)
        kw = {"framework": fw, **target}
    elif args.competency or args.tier or args.write_framework:
        raise SpecificationError("--competency, --tier and --write-framework need --framework")
    if args.method == "bookmark" and not (fw and args.responses):
        raise SpecificationError("--method bookmark needs --framework (with the target) and "
                                 "--responses (the IRT fit that orders the booklet)")
    scores = groups = irt = None
    if args.responses:
        if fw is None:
            raise SpecificationError("--responses needs --framework (the items to score)")
        with reading(args.responses):
            table = pv.read_responses(args.responses,
                                      id_column=args.id_column or fw.id_column)
        scored = fw.score(table)
        (kind, tid), = target.items()
        items = (list(fw.competency(tid).item_ids) if kind == "competency" else
                 [i.id for i in fw.tier(tid).items])
        x = scored.scores[items].apply(pd.to_numeric, errors="coerce")
        complete = x.notna().all(axis=1)
        scores = x[complete].sum(axis=1).to_numpy()
        if fw.group_columns:
            groups = scored.covariates.loc[complete.to_numpy(), fw.group_columns[0]].to_numpy()
        if args.method == "bookmark":
            vals = x.to_numpy(dtype=float)
            binary = set(pd.unique(vals[~pd.isna(vals)])) <= {0.0, 1.0}
            irt = pv.irt(x, model="2PL" if binary else "GRM", se="none")  # no SEs needed
    res = pv.standard_setting(ratings, method=args.method, irt=irt, rp=args.rp,
                              scores=scores, groups=groups,
                              score_scale="summed" if scores is not None else None, **kw)
    if not to_stdout:
        show(res.summary())
    outputs = []
    if args.json:
        outputs.append((args.json, json.dumps(res.to_dict(), indent=2, allow_nan=False), True))
    if args.md:
        outputs.append((args.md, res.summary().to_markdown(), False))
    if args.write_framework:
        new = res.to_framework(fw, level=args.level)
        if args.write_framework.lower().endswith(".json"):
            text = json.dumps(new.to_dict(), indent=2, ensure_ascii=False)
        else:
            import yaml

            text = yaml.safe_dump(new.to_dict(), sort_keys=False, allow_unicode=True)
        outputs.append((args.write_framework, text, False))
    if outputs:
        write_outputs(outputs)
    return EXIT_OK
