"""ability/kr.*: KR-20/21 (reliability, issue 5) and classical item statistics (issue 9).

Each check holds both: KR-20, KR-21 and the total's moments from ``pv.kr20``/``pv.kr21``;
difficulty, point-biserials and upper-lower discrimination under the rank rule (psych/CTT,
ties by row order) and the order-invariant cut rule from ``pv.item_analysis``.
"""

from __future__ import annotations

import numpy as np

import psychoval as pv
from tests._tolerances import assert_close
from tests.reference.checkers import checker


def _by_item(values: dict, items) -> list:
    return [values[i] for i in items]


@checker("ability/kr.*")
def check_kr(check):
    items = check.options["items"]
    df = check.data()[items]
    key = check.key
    # KR-20 / KR-21 on complete cases
    k20, k21 = pv.kr20(df), pv.kr21(df)
    k21s = pv.kr21(df, variance="sample")
    assert (k20.n, k20.k) == (check.take("n"), check.take("k"))
    assert k20.rows_dropped == len(df) - k20.n
    assert_close([k20.estimate, k21.estimate, k21s.estimate],
                 [check.take("KR20"), check.take("KR21"), check.take("KR21_sample_var")],
                 "closed_form", what=key + " KR20/KR21")
    var_pop, var_sample = check.take("var_total_pop"), check.take("var_total_sample")
    assert_close([k20.mean_total, k20.var_total_pop, k20.var_total_sample],
                 [check.take("mean_total"), var_pop, var_sample], "closed_form", what=key)
    alpha_lw = check.take("alpha_listwise")
    assert_close([pv.alpha(df, missing="listwise").raw_alpha, k20.estimate], [alpha_lw] * 2,
                 "closed_form", what=key + " alpha_listwise")
    p, pq = check.take("p"), check.take("pq")
    assert_close(k20.p[items].to_numpy(), _by_item(p, items), "closed_form", what=key + " p")
    assert_close(k20.pq[items].to_numpy(), _by_item(pq, items), "closed_form", what=key + " pq")
    # item statistics under both group rules
    for groups in ("rank", "cut"):
        res = pv.item_analysis(df, groups=groups)
        t, s = res.items.loc[items], res.scales.loc["total"]
        what = f"{key} ({groups})"
        assert s["n_used"] == k20.n and s["k"] == len(items)
        assert_close([s["mean_total"], s["var_total"], s["sd_total"] ** 2, s["alpha"]],
                     [k20.mean_total, var_pop, var_sample, alpha_lw], "closed_form", what=what)
        assert_close(t["difficulty"], _by_item(p, items), "closed_form", what=what + " p")
        assert_close(t["pq"], _by_item(pq, items), "closed_form", what=what + " pq")
        assert_close(t["difficulty_available"], _by_item(check.take("p_available"), items),
                     "closed_form", what=what + " p_available")
        assert_close(t["raw_r"], _by_item(check.take("pbis"), items), "closed_form",
                     what=what + " pbis")
        assert_close(t["r_drop"], _by_item(check.take("pbis_corrected"), items), "closed_form",
                     what=what + " pbis_corrected")
        if groups == "rank":
            assert s["n_upper"] == s["n_lower"] == check.take("n_group")
            assert np.isnan(s["cut_hi"]) and np.isnan(s["cut_lo"])
            upper, lower, d = check.take("p_upper"), check.take("p_lower"), check.take("D")
        else:
            assert_close([s["cut_hi"], s["cut_lo"]], [check.take("cut_hi"), check.take("cut_lo")],
                         "closed_form", what=what + " cuts")
            assert (s["n_upper"], s["n_lower"]) == (check.take("n_upper_cut"),
                                                    check.take("n_lower_cut"))
            upper, lower = check.take("p_upper_cut"), check.take("p_lower_cut")
            d = check.take("D_cut")
        assert_close(t["p_upper"], _by_item(upper, items), "closed_form", what=what + " p_upper")
        assert_close(t["p_lower"], _by_item(lower, items), "closed_form", what=what + " p_lower")
        assert_close(t["d"], _by_item(d, items), "closed_form", what=what + " D")
