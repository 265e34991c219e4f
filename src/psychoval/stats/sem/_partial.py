"""The partial-invariance search of ``pv.invariance(partial=True)`` (issue 19).

When a step of the ladder fails, free the constrained parameter of that step with the
largest score test of its across-group equality (``_score.equality_score_tests``, lavaan's
``lavTestScore``), refit with lavaan's ``group.partial``, re-test the step; stop when it
holds, when the best score test is not significant at ``alpha / m`` (Bonferroni over the
``m`` candidates left) or at the limit (Byrne, Shavelson & Muthen 1989,
doi:10.1037/0033-2909.105.3.456).

Ordered indicators (WLSMV): lavaan has no score test of a WLSMV equality constraint to
reproduce, so each candidate is released in turn (the item's intercept free in groups 2..,
or its loading free in every group), refitted, and tested against the current model by the
scaled-shifted difference test of ``pv.compare`` (lavTestLRT's satorra.2000); the candidate
with the largest difference statistic is freed. The stopping rule is the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psychoval.stats.sem._cfa import cfa
from psychoval.stats.sem._lrt import compare
from psychoval.stats.sem._score import equality_score_tests

__all__ = ["partial_search"]


def _num(fm: Mapping[str, Any], key: str) -> float:
    v = fm.get(key)
    return math.nan if v is None else float(v)


_KIND_OF_OP = {"=~": "loadings", "~1": "intercepts", "~~": "residuals"}


def _kind(lhs: str, op: str, rhs: str, observed: Sequence[str]) -> str | None:
    if op == "~~" and (lhs != rhs or lhs not in observed):
        return None
    if op == "~1" and lhs not in observed:
        return None
    return _KIND_OF_OP.get(op)


def _refit_tests(model: Any, data: Any, fit: Any, *, group: str, equal: tuple[str, ...],
                 freed: list[tuple[str, str, str]], kinds: set[str],
                 cfa_kw: Mapping[str, Any]) -> pd.DataFrame:
    """Difference tests of releasing each still-constrained candidate of an ordinal fit."""
    est = fit.estimates()
    g1 = est[est["group"] == 1]
    keys: list[tuple[str, str, str]] = []
    if "intercepts" in kinds:
        keys += [(y, "~1", "") for y in fit.observed]
    if "loadings" in kinds:
        se = g1["se"].to_numpy(dtype=float)
        keys += [(str(r["lhs"]), "=~", str(r["rhs"])) for (_, r), s_ in
                 zip(g1.iterrows(), se, strict=True)
                 if r["op"] == "=~" and np.isfinite(s_) and s_ > 0]
    rows = []
    for key in keys:
        if key in freed:
            continue
        alt = cfa(model, data, group=group, group_equal=list(equal),
                  group_partial=[" ".join(k).strip() for k in [*freed, key]], **cfa_kw)
        cmp = compare(alt, fit)
        rows.append({"lhs": key[0], "op": key[1], "rhs": key[2],
                     "x2": float(cmp.chisq_diff[1]), "df": int(cmp.df_diff[1]),
                     "pvalue": float(cmp.pvalue[1])})
    return pd.DataFrame(rows, columns=["lhs", "op", "rhs", "x2", "df", "pvalue"])


def partial_search(model: Any, data: Any, *, group: str, estimator: str, missing: str,
                   fit_kw: Mapping[str, Any] | None = None, level: str, equal: tuple[str, ...], kinds: set[str], base: Any,
                   base_row: Mapping[str, Any], start: Any, start_row: Mapping[str, Any],
                   alpha: float, limit: int, suffix: str,
                   decide: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The forward search of ``invariance(partial=True)`` on one failed step (``start``, the
    fit of ``level`` with ``group_equal=equal``, against ``base``, the level below; ``*_row``
    their ladder rows). ``decide(pvalue_diff=, delta_cfi=, delta_rmsea=, delta_srmr=)`` is
    the ladder's step decision. Returns the ``InvarianceResult`` fields of the search."""
    ordinal = bool(fit_kw and fit_kw.get("ordered") is not None)
    cfa_kw = {"estimator": estimator, "missing": missing, **(fit_kw or {})}
    freed: list[tuple[str, str, str]] = []
    picked: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    fit, row = start, dict(start_row)
    decision = "fails"
    while True:
        step = {"n_freed": len(freed),
                "freed": ", ".join(" ".join(k).strip() for k in freed),
                **{k: row[k] for k in ("npar", "df", "chisq_diff", "df_diff", "pvalue_diff",
                                       "delta_cfi", "delta_rmsea", "delta_srmr",
                                       "test_fails", "fit_fails", "crossed", "decision",
                                       "reason")},
                "best": "", "best_x2": math.nan, "best_pvalue": math.nan,
                "n_candidates": 0, "bonferroni_level": math.nan}
        steps.append(step)
        if row["decision"] == "holds":
            decision = "holds"
            break
        if row["decision"] == "not converged":
            break
        if ordinal:
            cand = _refit_tests(model, data, fit, group=group, equal=equal, freed=freed,
                                kinds=kinds, cfa_kw=cfa_kw)
        else:
            sc = equality_score_tests(fit)
            ok = [_kind(a, o, b, fit.observed) in kinds for a, o, b in
                  zip(sc["lhs"], sc["op"], sc["rhs"], strict=True)] if len(sc) else []
            cand = sc[np.asarray(ok, dtype=bool)] if len(sc) else sc
        if not len(cand):
            break
        best = cand.loc[cand["x2"].idxmax()]
        level_b = alpha / len(cand)
        key = (str(best["lhs"]), str(best["op"]), str(best["rhs"]))
        step.update(best=" ".join(key).strip(), best_x2=float(best["x2"]),
                    best_pvalue=float(best["pvalue"]), n_candidates=len(cand),
                    bonferroni_level=level_b)
        if not best["pvalue"] < level_b or len(freed) >= limit:
            break
        freed.append(key)
        picked.append({"order": len(freed), "lhs": key[0], "op": key[1], "rhs": key[2],
                       "kind": _kind(*key, fit.observed), "x2": float(best["x2"]),
                       "df": int(best["df"]), "pvalue": float(best["pvalue"])})
        fit = cfa(model, data, group=group, group_equal=list(equal),
                  group_partial=[" ".join(k).strip() for k in freed], **cfa_kw)
        row = _step_row(base, fit, base_row, decide, suffix)
    est = fit.estimates()
    labels = list(fit.group_labels)
    out_rows = []
    for p in picked:
        sel = est[(est["lhs"] == p["lhs"]) & (est["op"] == p["op"]) & (est["rhs"] == p["rhs"])]
        vals = sel["est"].to_numpy(dtype=float)
        for gi, (_, r) in enumerate(sel.iterrows()):
            others = np.delete(vals, gi)
            out_rows.append({**p, "group": labels[int(r["group"]) - 1], "est": float(r["est"]),
                             "se": float(r["se"]), "diff": float(vals[gi] - others.mean())})
    freed_cols = ["order", "lhs", "op", "rhs", "kind", "x2", "df", "pvalue", "group", "est",
                  "se", "diff"]
    return {"partial_level": level, "partial_decision": decision,
            "partial_method": (
                ("scaled-shifted difference tests (lavTestLRT, satorra.2000) of releasing "
                 "each candidate in turn" if ordinal else
                 "score tests of the equality constraints (lavaan's lavTestScore, expected "
                 "information)")
                + ", one parameter freed at a time; stop when the step holds, the best "
                f"test has p >= {alpha:g} / (candidates left), or {limit} are free"),
            "freed": pd.DataFrame(out_rows, columns=freed_cols),
            "partial_search": pd.DataFrame(steps), "partial_fit": fit}


def _step_row(base: Any, fit: Any, base_row: Mapping[str, Any],
              decide: Callable[..., dict[str, Any]], suffix: str) -> dict[str, Any]:
    """A partial model's step against the level below, as a ladder row."""
    fm = fit.fit_measures
    row: dict[str, Any] = {"npar": int(fm["npar"]), "df": int(fm["df"]),
                           "cfi": _num(fm, "cfi" + suffix), "rmsea": _num(fm, "rmsea" + suffix),
                           "srmr": _num(fm, "srmr"), "chisq_diff": math.nan,
                           "df_diff": math.nan, "pvalue_diff": math.nan}
    if row["df"] > base_row["df"]:
        cmp = compare(base, fit)
        row.update(chisq_diff=float(cmp.chisq_diff[1]), df_diff=float(cmp.df_diff[1]),
                   pvalue_diff=float(cmp.pvalue[1]))
    row.update(delta_cfi=row["cfi"] - base_row["cfi"],
               delta_rmsea=row["rmsea"] - base_row["rmsea"],
               delta_srmr=row["srmr"] - base_row["srmr"])
    row.update(decide(pvalue_diff=row["pvalue_diff"], delta_cfi=row["delta_cfi"],
                      delta_rmsea=row["delta_rmsea"], delta_srmr=row["delta_srmr"]))
    if not bool(getattr(fit, "converged", True)):
        row.update(decision="not converged", reason="not converged")
    return row
