"""``psychoval omega RESPONSES [--framework FW | --items ...] [--json OUT]``: omega of each
competency from a one-factor CFA (semTools compRelSEM), with a bootstrap interval."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("responses", metavar="RESPONSES",
                        help="response file (CSV, TSV, XLSX, Parquet)")
    parser.add_argument("--framework", metavar="FW",
                        help="framework file: one omega per competency")
    parser.add_argument("--items", metavar="ITEM", nargs="+",
                        help="the items of one scale (without --framework)")
    parser.add_argument("--n-boot", metavar="B", type=int, default=200,
                        help="bootstrap replicates of the interval (default 200)")
    parser.add_argument("--seed", metavar="N", type=int, default=None)
    parser.add_argument("--json", metavar="OUT", help="also write the table as JSON to OUT")


def run(args: argparse.Namespace) -> int:
    import json
    import warnings
    from pathlib import Path

    import pandas as pd

    import psychoval as pv
    from psychoval._results import to_jsonable
    from psychoval.cli._main import EXIT_OK
    from psychoval.exceptions import SpecificationError
    from psychoval.stats import one_factor_omega
    from psychoval.stats._omega_boot import omega_bootstrap

    if args.framework:
        fw = pv.read_framework(args.framework)
        data = fw.score(pv.read_responses(args.responses, id_column=fw.id_column)).scores
        scales = {c.id: list(c.item_ids) for c in fw.competencies if len(c.items) >= 3}
    elif args.items:
        data = pv.read_responses(args.responses).to_frame()
        scales = {"scale": list(args.items)}
    else:
        raise SpecificationError("give --framework FW or --items ITEM ... (at least 3 items)")
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, items in scales.items():
            om = one_factor_omega(data, items=items)
            boot = omega_bootstrap(data[items].to_numpy(dtype=float), n_boot=args.n_boot,
                                   seed=args.seed)
            rows.append({"scale": name, "n_items": len(items), "n_obs": om.n_obs,
                         "omega": om.omega, "lower": boot.lower, "upper": boot.upper,
                         "ave": om.ave})
    table = pd.DataFrame(rows).set_index("scale")
    print("Omega (one-factor CFA, semTools::compRelSEM; 95% percentile bootstrap interval)")
    print(table.round(3).to_string())
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"schema": "psychoval.omega_table/1",
                                   "rows": to_jsonable(table.reset_index())}, indent=2)
                       + "\n", encoding="utf-8")
    return EXIT_OK
