"""``psychoval items RESPONSES [--framework FW] [--items ITEMS] [--id-column COL]
[--json PATH|-] [--md PATH|-]``: item analysis and flags; with a framework also the
distractor analysis of its multiple-choice items and the DIF screen over its group column (what ``psychoval validate`` reads)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("responses", metavar="RESPONSES",
                        help="response file (CSV, TSV, XLSX, Parquet)")
    from psychoval.cli._common import add_framework, add_id_column, add_items, add_json, add_md

    add_framework(parser)
    add_items(parser, legacy_spaces=True)
    add_id_column(parser)
    add_json(parser)
    add_md(parser)


def run(args: argparse.Namespace) -> int:
    import psychoval as pv
    from psychoval._results import text_table
    from psychoval.cli._common import (
        STDOUT,
        echo,
        emit,
        item_table,
        reading,
        show,
        terminal_width,
    )
    from psychoval.cli._main import EXIT_OK
    from psychoval.pipeline._validate import item_evidence

    dis, difs = None, []
    criteria = pv.criteria("default").items
    fw = None
    if args.framework:
        with reading(args.framework):
            fw = pv.read_framework(args.framework)
        with reading(args.responses):
            table = pv.read_responses(args.responses, id_column=args.id_column or fw.id_column)
    else:  # --items, or every column unless some are not items (refused by name)
        table = item_table(args, args.responses)
    if fw is not None and not args.items:
        scored = fw.score(table)
        group = fw.group_columns[0] if fw.group_columns else None
        groups = scored.covariates[group] if group in scored.covariates else None
        res, dis, difs, flags = item_evidence(scored, fw, groups, criteria)
    else:
        res = (pv.item_analysis(table, framework=fw, items=args.items) if fw is not None
               else pv.item_analysis(table))
        flags = pv.flag_items(res, criteria=criteria)
    quiet = STDOUT in (args.json, args.md)
    if not quiet:
        show(res.summary())
        if dis is not None:
            echo()
            show(dis.summary())
        for d in difs:
            echo()
            t = d.table
            hit = t[t["flagged"]]
            echo(f"DIF: {d.focal[0]!r} vs {d.reference!r} ({len(t)} items; {d.match}; "
                 f"{d.correction}): " + ("no item flagged" if hit.empty else "flagged"))
            if not hit.empty:
                echo(text_table(hit[["item", "method", "p_value", "p_adjusted",
                                     "effect_class", "favours"]], width=terminal_width()))
        echo()
        show(flags.summary())
    doc = {"item_analysis": res.to_dict(), "flags": flags.to_dict()}
    if dis is not None:
        doc["distractors"] = dis.to_dict()
    if difs:
        doc["dif"] = [d.to_dict() for d in difs]
    md = "\n".join(r.summary().to_markdown() for r in (res, dis, *difs, flags)
                   if r is not None)
    emit(res, args, doc=doc, markdown=md, quiet=True)
    return EXIT_OK
