"""Rater agreement (issue 6): psych::ICC and psych::cohen.kappa references."""

from __future__ import annotations

import numpy as np
from scipy import stats

import psychoval as pv
from tests._tolerances import assert_close, assert_pvalue
from tests.reference.checkers import checker

ICC_COLUMNS = {"ICC": "icc", "F": "f", "df1": "df1", "df2": "df2", "p": "p",
               "lower bound": "lower", "upper bound": "upper"}
STATS_ROWS = {"subjects": "targets", "Judges": "raters", "Residual": "residual"}
STATS_COLUMNS = {"df": "df", "SumSq": "sum_sq", "MS": "mean_sq", "F": "f", "p": "p"}


def assert_icc_values(res, values: dict, *, reml: bool, what: str,
                      unit: str | None = None) -> None:
    """Assert psych::ICC's ``results``, ``stats``, ``MSW``, ``n.obs``, ``n.judge``.

    ``reml``: psych's lmer=TRUE output, whose scale-dependent numbers (F, SumSq, MS) carry
    lme4's stopping error; see TOL["reml_lme4"]."""
    unit = unit or ("iterative" if reml else "closed_form")
    scaled = "reml_lme4" if reml else "closed_form"
    forms = list(res.results.index)
    for rname, col in ICC_COLUMNS.items():
        exp = [values["results"][rname][f] for f in forms]
        act = res.results[col].to_numpy()
        if rname == "p":
            for f, a, e in zip(forms, act, exp, strict=True):
                if reml:  # compare the statistic (see the stats p below)
                    r = values["results"]
                    assert_pvalue(stats.f.sf(r["F"][f], r["df1"][f], r["df2"][f]), e,
                                  "closed_form", what=f"{what} p {f} from R's F")
                    row = res.results.loc[f]
                    assert_close(a, stats.f.sf(row["f"], row["df1"], row["df2"]), "closed_form")
                else:
                    assert_pvalue(a, e, "closed_form", what=f"{what} p {f}")
        elif rname in ("df1", "df2"):
            np.testing.assert_array_equal(act, exp, err_msg=f"{what} {rname}")
        else:
            kind = scaled if rname == "F" else unit
            assert_close(act, exp, kind, what=f"{what} {rname}")
    for sname, col in STATS_COLUMNS.items():
        for rrow, row in STATS_ROWS.items():
            exp = values["stats"][sname][rrow]
            act = res.anova.loc[row, col]
            if sname == "df":
                assert act == exp, f"{what} stats df {rrow}: {act} != {exp}"
            elif sname == "p":
                if exp is None:
                    assert np.isnan(act)
                elif reml:
                    # "compare the statistic": a p-value amplifies lme4's stopping error in F
                    # (4.6e-5 relative here), so check the F -> p mapping on R's own F and
                    # that our p is that mapping of our F (asserted above at reml_lme4).
                    f_ref = values["stats"]["F"][rrow]
                    df1 = values["stats"]["df"][rrow]
                    df2 = values["stats"]["df"]["Residual"]
                    assert_pvalue(stats.f.sf(f_ref, df1, df2), exp, "closed_form",
                                  what=f"{what} stats p {rrow} from R's F")
                    f_ours = res.anova.loc[row, "f"]
                    assert_close(act, stats.f.sf(f_ours, df1, df2), "closed_form")
                else:
                    assert_pvalue(act, exp, scaled, what=f"{what} stats p {rrow}")
            else:
                assert_close(act, exp, scaled, what=f"{what} stats {sname} {rrow}")
    assert_close(res.msw, values["MSW"], unit, what=f"{what} MSW")
    assert res.n_targets == values["n.obs"]
    assert res.n_raters == values["n.judge"]


@checker("rubric_ratings/ICC.aov", "rubric_ratings/ICC.lmer")
def check_icc(check):
    df = check.data()
    cols = check.options["columns"]
    reml = bool(check.options["lmer"])
    res = pv.icc(df, targets="candidate", raters=cols, method="reml" if reml else "anova",
                 confidence_level=1 - check.options["alpha"])
    assert res.method == ("reml" if reml else "anova")
    values = {k: check.take(k) for k in ("results", "stats", "MSW", "n.obs", "n.judge")}
    assert_icc_values(res, values, reml=reml, what=check.key)


def assert_kappa_values(res, values: dict, what: str) -> None:
    kind = "closed_form"
    assert_close(res.kappa, values["kappa"], kind, what=f"{what} kappa")
    assert_close(res.weighted_kappa, values["weighted.kappa"], kind, what=f"{what} weighted")
    assert_close(res.var_kappa, values["var.kappa"], kind, what=f"{what} var.kappa")
    assert_close(res.var_weighted, values["var.weighted"], kind, what=f"{what} var.weighted")
    assert res.n_obs == values["n.obs"]
    conf = values["confid"]
    assert_close([res.kappa_lower, res.kappa, res.kappa_upper],
                 [conf["unweighted kappa"][k] for k in ("lower", "estimate", "upper")], kind,
                 what=f"{what} confid unweighted")
    assert_close([res.weighted_lower, res.weighted_kappa, res.weighted_upper],
                 [conf["weighted kappa"][k] for k in ("lower", "estimate", "upper")], kind,
                 what=f"{what} confid weighted")


def _table(nested: dict, labels: list) -> np.ndarray:
    """{row: {column: value}} -> matrix in ``labels`` order."""
    return np.array([[nested[str(r)][str(c)] for c in labels] for r in labels], dtype=float)


@checker("rubric_ratings/kappa.rater*")
def check_cohen_kappa(check):
    df = check.data()
    levels = check.options["levels"]
    res = pv.cohen_kappa(df, targets="candidate", raters=check.options["raters"],
                         levels=levels, variance="psych",
                         confidence_level=1 - check.options["alpha"])
    values = {k: check.take(k) for k in ("kappa", "weighted.kappa", "var.kappa",
                                          "var.weighted", "n.obs", "confid")}
    assert_kappa_values(res, values, check.key)
    assert_close(res.agree.to_numpy(), _table(check.take("agree"), levels), "closed_form",
                 what=f"{check.key} agree")
    assert_close(res.weight.to_numpy(), _table(check.take("weight"), levels), "closed_form",
                 what=f"{check.key} weight")


@checker("rubric_ratings/kappa.all_pairs")
def check_pairwise_kappa(check):
    df = check.data()
    raters = check.options["raters"]
    res = pv.pairwise_kappa(df, targets="candidate", raters=raters,
                            levels=check.options["levels"])
    mat = _table(check.take("cohen.kappa"), raters)
    low = np.tril_indices(len(raters), -1)
    up = np.triu_indices(len(raters), 1)
    # psych: lower triangle unweighted, upper triangle weighted (quadratic)
    assert_close(res.kappa.to_numpy()[low], mat[low], "closed_form", what=f"{check.key} kappa")
    assert_close(res.weighted_kappa.to_numpy()[up], mat[up], "closed_form",
                 what=f"{check.key} weighted")
    assert_close(np.diag(res.kappa.to_numpy()), np.diag(mat), "closed_form")
    assert_close(res.av_kappa, check.take("av.kappa"), "closed_form", what=f"{check.key} av")
    assert_close(res.av_weighted, check.take("av.wt"), "closed_form", what=f"{check.key} av.wt")
