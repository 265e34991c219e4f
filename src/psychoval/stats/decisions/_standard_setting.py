"""Standard setting (issue 21, section 2): cut scores from a panel of judges by the modified
Angoff method or the Bookmark method, with the panel's diagnostics and the impact of the cuts.

Judge agreement needs the two-way ANOVA of the judge x item ratings. ``stats.raters`` has it,
but the task rooms of ``stats`` may not import each other (pyproject's contract), so the few
mean squares are computed here by :func:`_two_way` (a dozen lines; the tests check the ICCs
against ``pv.icc`` on the same matrix).

Length: one input step (long or wide ratings, bookmarks), the two methods (Angoff, Bookmark
with its ordered item booklet), the panel tables they share (judges, rounds, diagnostics,
impact) and the result with its framework write-back; split, each part would import the
others' private helpers. About half the lines are the docstrings.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from psychoval._input import check_choice
from psychoval._results import Result, Summary
from psychoval.exceptions import DataError, SpecificationError

__all__ = ["standard_setting", "StandardSettingResult"]

_CUT_COLUMNS = ["level", "round", "scale", "n_judges", "n_items", "cut", "median", "sd", "se",
                "se_items_random", "cut_mean_item", "raw_cut"]


@dataclasses.dataclass(frozen=True, repr=False)
class StandardSettingResult(Result):
    """Cut scores set by a panel (modified Angoff or Bookmark), with diagnostics.

    Attributes
    ----------
    method : str
        ``"angoff"`` or ``"bookmark"``.
    cuts : DataFrame
        One row per level and round: ``scale`` (``"summed"`` for Angoff: the summed item
        score; ``"theta"`` for Bookmark), ``n_judges``, ``n_items``, ``cut`` (the panel cut:
        mean of the judges' cuts), ``median``, ``sd`` (of the judges' cuts, divisor J - 1),
        ``se`` (sd / sqrt(J): judges random, items fixed), ``se_items_random`` (Angoff:
        generalizability SE with judges and items random, Brennan & Lockwood 1980; NaN for
        Bookmark), ``cut_mean_item`` (Angoff: cut / number of items, the scale of a
        framework's ``cut_score``; Bookmark: raw_cut / number of items), ``raw_cut``
        (Angoff: the cut; Bookmark: the expected summed score at the cut, from the test
        characteristic curve).
    judges : DataFrame
        One row per level, round and judge: ``cut`` (and ``cut_mean_item``), ``change`` from
        the judge's previous round, ``loo_z`` ((cut - mean of the others' cuts) / SD of the
        others' cuts), ``item_correlation`` (Angoff: correlation of the judge's item ratings
        with the mean rating of the other judges), ``constant`` (the judge gave every item
        the same rating), ``outlying``. Bookmark adds ``page``, ``item`` and ``category``
        (the bookmarked entry) and ``raw_cut``.
    items : DataFrame
        Angoff: per level, round and item, ``mean``, ``sd``, ``min``, ``max`` of the judges'
        ratings. Bookmark: the ordered item booklet (``page``, ``item``, ``category``: the
        score k of the entry, ``rp_theta``).
    rounds : DataFrame
        Per level and pair of consecutive rounds: ``n_judges`` rating in both, ``cut_from``,
        ``cut_to``, ``change`` (mean of the judges' changes), ``sd_change``, and the paired
        t test ``t``, ``df``, ``pvalue``. Empty with one round.
    diagnostics : DataFrame
        Per level (final round): ``icc2_1``, ``icc2_k`` (Shrout & Fleiss ICC(2,1) and
        ICC(2,k) of the judge x item ratings; NaN for Bookmark), the variance components
        ``var_judge``, ``var_item``, ``var_residual``, ``outlying_judges`` and
        ``constant_judges`` (comma-separated names).
    impact : DataFrame
        With ``scores=``: per level (final round) and group (``"all"`` first), ``n``,
        ``n_at_or_above``, ``share_at_or_above`` (a score at or above the cut reaches the
        level), ``cut`` (on the scale of the scores). Empty without scores.
    item_ids : tuple of str
    target : str or None
        The framework competency or tier the items belong to.
    rp : float or None
        Bookmark: the response probability criterion.
    n_judges : int
        Judges in the panel (all rounds).
    n_respondents : int or None
        Respondents with a score in the impact table.
    notes : tuple of str
    """

    _schema: ClassVar[str] = "psychoval.standard_setting/1"
    method: str
    cuts: pd.DataFrame
    judges: pd.DataFrame
    items: pd.DataFrame
    rounds: pd.DataFrame
    diagnostics: pd.DataFrame
    impact: pd.DataFrame
    item_ids: tuple[str, ...]
    target: str | None
    rp: float | None
    n_judges: int
    n_respondents: int | None
    notes: tuple[str, ...]

    def _final(self) -> pd.DataFrame:
        last = self.cuts.groupby("level", sort=False)["round"].transform("max")
        return self.cuts[self.cuts["round"] == last]

    @property
    def cut_scores(self) -> dict[str, float]:
        """Level -> the final round's panel cut (summed scale for Angoff, theta for
        Bookmark)."""
        f = self._final()
        return {str(lv): float(c) for lv, c in zip(f["level"], f["cut"], strict=True)}

    def _repr_fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method}
        out.update(self.cut_scores)
        out["n_judges"] = self.n_judges
        return out

    def to_frame(self) -> pd.DataFrame:
        return self.cuts.copy()

    def summary(self) -> Summary:
        title = ("Standard setting: modified Angoff" if self.method == "angoff" else
                 f"Standard setting: Bookmark (RP = {self.rp:g})")
        facts: list[tuple[str, Any]] = [("Judges", self.n_judges),
                                        ("Items", len(self.item_ids))]
        if self.target is not None:
            facts.append(("Target", self.target))
        for lv, c in self.cut_scores.items():
            facts.append((f"Cut ({lv})", c))
        tables = [("Cut scores", self.cuts.set_index(["level", "round"]))]
        if len(self.rounds):
            tables.append(("Change between rounds", self.rounds))
        tables.append(("Panel diagnostics (final round)", self.diagnostics.set_index("level")))
        if len(self.impact):
            tables.append(("Impact", self.impact))
        notes = ("The panel cut is the mean of the judges' cuts; se = SD of the judges' cuts "
                 "/ sqrt(J) (judges random, items fixed).",) + self.notes
        return Summary(title=title, facts=tuple(facts), tables=tuple(tables), notes=notes)

    def to_framework(self, framework: Any, *, target: str | None = None,
                     level: str | None = None) -> Any:
        """A copy of ``framework`` with the final round's cut written as the ``cut_score`` of
        the competency or tier ``target`` (on its mean-item scale: ``cut_mean_item``).

        ``target`` defaults to the result's own target; ``level`` is needed when there are
        several levels (a framework holds one cut per competency or tier). The target's items
        must be the items rated.
        """
        from psychoval.framework import Framework

        if not isinstance(framework, Framework):
            raise SpecificationError("to_framework needs a Framework (pv.read_framework)")
        target = target if target is not None else self.target
        if target is None:
            raise SpecificationError("give target= (a competency or tier id of the framework)")
        final = self._final()
        if level is None:
            if len(final) != 1:
                raise SpecificationError(
                    f"the result has {len(final)} levels ({', '.join(map(str, final['level']))})"
                    "; give level= to choose the one to write")
            row = final.iloc[0]
        else:
            hit = final[final["level"].astype(str) == str(level)]
            if hit.empty:
                raise SpecificationError(f"level={level!r} is not one of "
                                         f"{', '.join(map(repr, final['level']))}")
            row = hit.iloc[0]
        cut = float(row["cut_mean_item"])
        comp_ids = {c.id for c in framework.competencies}
        tier_ids = {t.id for t in framework.tiers}
        if target not in comp_ids and target not in tier_ids:
            raise SpecificationError(f"target={target!r} is neither a competency nor a tier of "
                                     "the framework")
        obj = framework.competency(target) if target in comp_ids else framework.tier(target)
        if set(obj.item_ids) != set(self.item_ids):
            raise SpecificationError(
                f"{target!r} has items {sorted(obj.item_ids)}, but the panel rated "
                f"{sorted(self.item_ids)}: the cut belongs to another set of items")
        tiers = []
        for t in framework.tiers:
            if t.id == target:
                t = dataclasses.replace(t, cut_score=cut)
            else:
                t = dataclasses.replace(t, competencies=tuple(
                    dataclasses.replace(c, cut_score=cut) if c.id == target else c
                    for c in t.competencies))
            tiers.append(t)
        return dataclasses.replace(framework, tiers=tuple(tiers))


# -- helpers -----------------------------------------------------------------------------

def _two_way(y: np.ndarray) -> dict[str, float]:
    """Two-way ANOVA of an items x judges matrix (no missing cells): mean squares, the
    Shrout-Fleiss ICC(2,1) and ICC(2,k) (items the targets, judges the raters) and the
    random-effects variance components."""
    n, k = y.shape
    grand = y.mean()
    rm, cm = y.mean(axis=1), y.mean(axis=0)
    resid = y - rm[:, None] - cm[None, :] + grand
    msb = k * float(np.sum((rm - grand) ** 2)) / (n - 1)
    msj = n * float(np.sum((cm - grand) ** 2)) / (k - 1)
    mse = float(np.sum(resid * resid)) / ((n - 1) * (k - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
        icc2k = (msb - mse) / (msb + (msj - mse) / n)
    return {"msb": msb, "msj": msj, "mse": mse, "icc2_1": float(icc2), "icc2_k": float(icc2k),
            "var_item": (msb - mse) / k, "var_judge": (msj - mse) / n, "var_residual": mse}


def _r(v: Any) -> str:
    """repr of a label as the user wrote it (a numpy scalar as its Python value)."""
    return repr(v.item() if isinstance(v, np.generic) else v)


def _key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, (int, float, np.integer, np.floating)) else (1, str(v))


def _long(ratings: Any, value: str) -> pd.DataFrame:
    """Ratings (or bookmarks) as a long frame: judge, item, round, level, value."""
    if isinstance(ratings, pd.Series) and value == "page":
        ratings = ratings.rename_axis("judge").reset_index(name="page")
    if isinstance(ratings, Mapping) and value == "page":
        ratings = pd.DataFrame({"judge": list(ratings), "page": list(ratings.values())})
    if not isinstance(ratings, pd.DataFrame):
        raise SpecificationError(
            "ratings must be a DataFrame: long (columns judge, item, rating, optional round "
            "and level) or wide (items x judges)" if value == "rating" else
            "bookmarks must be a DataFrame (columns judge, page, optional round and level), a "
            "Series indexed by judge, or a {judge: page} mapping")
    cols = {str(c).lower(): c for c in ratings.columns}
    need = ("judge", "item", "rating") if value == "rating" else ("judge", "page")
    if all(c in cols for c in need):
        df = pd.DataFrame({c: ratings[cols[c]].to_numpy() for c in need})
        df["round"] = ratings[cols["round"]].to_numpy() if "round" in cols else 1
        df["level"] = ratings[cols["level"]].astype(str).to_numpy() if "level" in cols \
            else "cut"
    elif value == "rating":  # wide: items x judges, one round
        wide = ratings.copy()
        wide.index = wide.index.map(str)
        wide.columns = wide.columns.map(str)
        df = wide.rename_axis("item").reset_index().melt(id_vars="item", var_name="judge",
                                                        value_name="rating")
        df["round"], df["level"] = 1, "cut"
    else:
        raise SpecificationError(f"bookmarks need columns 'judge' and 'page'; got "
                                 f"{list(ratings.columns)}")
    df["judge"] = df["judge"].map(str)
    if "item" in df:
        df["item"] = df["item"].map(str)
    # rounds are ordered numbers (a file read as text gives "1", "2", ..., "10")
    rnd = pd.to_numeric(pd.Series(df["round"]), errors="coerce")
    if rnd.isna().any() or not np.array_equal(rnd, np.round(rnd)):
        r = df[rnd.isna() | (rnd != np.round(rnd))].iloc[0]
        raise DataError(f"judge {r['judge']!r}: round {r['round']!r} is not a whole number; "
                        "number the rounds 1, 2, ...")
    df["round"] = rnd.astype(np.int64).to_numpy()
    num = pd.to_numeric(df[value], errors="coerce")
    bad = num.isna()
    if bad.any():
        r = df[bad].iloc[0]
        raise DataError(f"judge {r['judge']!r}"
                        + (f", item {r['item']!r}" if "item" in df else "")
                        + f", round {_r(r['round'])}: {value} {r[value]!r} is missing or not a "
                        "number; every judge rates every item in a round")
    df[value] = num.astype(float)
    keys = ["level", "round", "judge"] + (["item"] if "item" in df else [])
    dup = df.duplicated(keys)
    if dup.any():
        r = df[dup].iloc[0]
        raise DataError(f"{value} given twice for " + ", ".join(f"{k} {_r(r[k])}" for k in keys))
    return df


def _loo(cuts: np.ndarray) -> np.ndarray:
    """(cut_j - mean of the others) / SD of the others; NaN with fewer than 4 judges (with
    two others, the extreme judges of any three evenly spread ones lie 2.1 SDs out)."""
    j = cuts.size
    out = np.full(j, math.nan)
    if j < 4:
        return out
    for i in range(j):
        o = np.delete(cuts, i)
        sd = float(np.std(o, ddof=1))
        d = float(cuts[i] - o.mean())
        out[i] = d / sd if sd > 0 else (0.0 if abs(d) < 1e-12 else math.copysign(math.inf, d))
    return out


def _cut_stats(cuts: np.ndarray) -> dict[str, float]:
    j = cuts.size
    sd = float(np.std(cuts, ddof=1))
    return {"n_judges": j, "cut": float(cuts.mean()), "median": float(np.median(cuts)),
            "sd": sd, "se": sd / math.sqrt(j)}


def _rounds_table(judges: pd.DataFrame) -> pd.DataFrame:
    from scipy import stats

    rows = []
    for lv, g in judges.groupby("level", sort=False):
        rnds = sorted(g["round"].unique(), key=_key)
        for a, b in zip(rnds[:-1], rnds[1:], strict=True):
            ca = g[g["round"] == a].set_index("judge")["cut"]
            cb = g[g["round"] == b].set_index("judge")["cut"]
            both = ca.index.intersection(cb.index)
            d = (cb[both] - ca[both]).to_numpy(dtype=float)
            n = d.size
            sd = float(np.std(d, ddof=1)) if n > 1 else math.nan
            if n > 1 and sd > 0:
                t = float(d.mean() / (sd / math.sqrt(n)))
                p = float(2 * stats.t.sf(abs(t), n - 1))
            else:
                t = p = math.nan
            rows.append({"level": lv, "from_round": a, "to_round": b, "n_judges": n,
                         "cut_from": float(ca[both].mean()) if n else math.nan,
                         "cut_to": float(cb[both].mean()) if n else math.nan,
                         "change": float(d.mean()) if n else math.nan, "sd_change": sd,
                         "t": t, "df": n - 1, "pvalue": p})
    return pd.DataFrame(rows, columns=["level", "from_round", "to_round", "n_judges",
                                       "cut_from", "cut_to", "change", "sd_change", "t",
                                       "df", "pvalue"])


def _with_change(judges: pd.DataFrame) -> pd.DataFrame:
    judges = judges.copy()
    change = np.full(len(judges), math.nan)
    for (_lv, _j), g in judges.groupby(["level", "judge"], sort=False):
        order = sorted(g.index, key=lambda i: _key(judges.at[i, "round"]))
        for prev, cur in zip(order[:-1], order[1:], strict=True):
            change[judges.index.get_loc(cur)] = judges.at[cur, "cut"] - judges.at[prev, "cut"]
    judges.insert(judges.columns.get_loc("cut") + 1, "change", change)
    return judges


def _impact(final: pd.DataFrame, scores: Any, groups: Any, column: str
            ) -> tuple[pd.DataFrame, int, list[str]]:
    s = scores if isinstance(scores, pd.Series) else pd.Series(np.asarray(scores).ravel())
    s = pd.to_numeric(s, errors="coerce")
    notes = []
    if groups is not None:
        g = groups if isinstance(groups, pd.Series) else pd.Series(np.asarray(groups).ravel(),
                                                                   index=s.index)
        if len(g) != len(s):
            raise SpecificationError(f"groups= has {len(g)} values but scores= {len(s)}")
        g = pd.Series(g.to_numpy(), index=s.index)
    keep = s.notna()
    if (~keep).any():
        notes.append(f"impact: {int((~keep).sum())} respondents without a score left out")
    rows = []
    for _, row in final.iterrows():
        cut = float(row[column])
        sets = [("all", s[keep])]
        if groups is not None:
            gg = g[keep]
            sets += [(str(k), s[keep][gg == k]) for k in sorted(gg.dropna().unique(), key=_key)]
        for name, v in sets:
            n = int(v.size)
            m = int((v.to_numpy() >= cut).sum())
            rows.append({"level": row["level"], "group": name, "n": n, "n_at_or_above": m,
                         "share_at_or_above": m / n if n else math.nan, "cut": cut})
    return pd.DataFrame(rows), int(keep.sum()), notes


# -- Angoff --------------------------------------------------------------------------------

def _bounds(items: list[str], framework_items: Any, max_score: Any) -> dict[str, tuple]:
    if framework_items is not None:
        return {i.id: i.score_range for i in framework_items}
    if isinstance(max_score, Mapping):
        missing = [i for i in items if i not in max_score]
        if missing:
            raise SpecificationError(f"max_score= has no maximum for items {missing}")
        return {i: (0.0, float(max_score[i])) for i in items}
    return {i: (0.0, float(max_score)) for i in items}


def _angoff(df: pd.DataFrame, items: list[str], bounds: dict[str, tuple], outlier_sd: float,
            min_r: float) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame,
                                   list[str]]:
    extra = sorted(set(df["item"]) - set(items))
    if extra:
        raise DataError(f"ratings name items {extra} that are not among the items of the "
                        f"target ({len(items)} items)")
    lo = df["item"].map(lambda i: bounds[i][0])
    hi = df["item"].map(lambda i: bounds[i][1])
    bad = (df["rating"] < lo) | (df["rating"] > hi)
    if bad.any():
        r = df[bad].iloc[0]
        b = bounds[r["item"]]
        raise DataError(f"judge {r['judge']!r}, item {r['item']!r}, round {_r(r['round'])}: "
                        f"rating {r['rating']:g} is outside [{b[0]:g}, {b[1]:g}] (a probability "
                        "of a correct answer, or an expected item score up to the item's "
                        "maximum)")
    n_items = len(items)
    cut_rows, judge_rows, item_rows, diag_rows, notes = [], [], [], [], []
    levels = list(dict.fromkeys(df["level"]))
    for lv in levels:
        dl = df[df["level"] == lv]
        rnds = sorted(dl["round"].unique(), key=_key)
        for rd in rnds:
            d = dl[dl["round"] == rd]
            wide = d.pivot(index="item", columns="judge", values="rating")
            for j in wide.columns:
                miss = [i for i in items if i not in wide.index or pd.isna(wide.at[i, j])]
                if miss:
                    raise DataError(f"judge {j!r} has no rating of items {miss} in round "
                                    f"{_r(rd)} (level {_r(lv)}); every judge rates every item")
            wide = wide.loc[items]
            judges = list(wide.columns)
            if len(judges) < 2:
                raise DataError(f"level {_r(lv)}, round {_r(rd)}: one judge only ({judges[0]!r});"
                                " a panel cut and its standard error need at least 2 judges")
            y = wide.to_numpy(dtype=float)
            jc = y.sum(axis=0)
            st = _cut_stats(jc)
            a = _two_way(y)
            vj, vi, ve = (max(a["var_judge"], 0.0), max(a["var_item"], 0.0), a["var_residual"])
            nj = len(judges)
            se_g = n_items * math.sqrt(vj / nj + vi / n_items + ve / (nj * n_items))
            cut_rows.append({"level": lv, "round": rd, "scale": "summed", **st,
                             "n_items": n_items, "se_items_random": se_g,
                             "cut_mean_item": st["cut"] / n_items, "raw_cut": st["cut"]})
            loo = _loo(jc)
            for c, j in enumerate(judges):
                others = np.delete(y, c, axis=1).mean(axis=1)
                const = bool(np.ptp(y[:, c]) == 0)
                r = (float(np.corrcoef(y[:, c], others)[0, 1])
                     if not const and np.ptp(others) > 0 and n_items >= 3 else math.nan)
                out = bool(abs(loo[c]) > outlier_sd) if not math.isnan(loo[c]) else False
                # the correlation flags only from 5 items on (over 3 or 4 it is noise)
                out = out or (n_items >= 5 and not math.isnan(r) and r < min_r)
                judge_rows.append({"level": lv, "round": rd, "judge": j, "cut": float(jc[c]),
                                   "cut_mean_item": float(jc[c]) / n_items,
                                   "loo_z": float(loo[c]), "item_correlation": r,
                                   "constant": const, "outlying": out})
            for i, item in enumerate(items):
                v = y[i]
                item_rows.append({"level": lv, "round": rd, "item": item, "mean": v.mean(),
                                  "sd": float(np.std(v, ddof=1)), "min": v.min(),
                                  "max": v.max(), "n_judges": nj})
            if rd == rnds[-1]:
                jr = [r for r in judge_rows if r["level"] == lv and r["round"] == rd]
                const_j = [r["judge"] for r in jr if r["constant"]]
                for j in const_j:
                    notes.append(f"level {_r(lv)}, round {_r(rd)}: judge {j!r} rates every item "
                                 "the same; the judge's ratings do not tell items apart")
                diag_rows.append({
                    "level": lv, "round": rd, "n_judges": nj, "n_items": n_items,
                    "icc2_1": a["icc2_1"], "icc2_k": a["icc2_k"], "var_judge": a["var_judge"],
                    "var_item": a["var_item"], "var_residual": ve,
                    "outlying_judges": ", ".join(r["judge"] for r in jr if r["outlying"]),
                    "constant_judges": ", ".join(const_j)})
    return (pd.DataFrame(cut_rows, columns=_CUT_COLUMNS), pd.DataFrame(judge_rows),
            pd.DataFrame(item_rows), pd.DataFrame(diag_rows), notes)


# -- Bookmark ------------------------------------------------------------------------------

def _rp_locations(fit: Any, rp: float) -> pd.DataFrame:
    """The booklet's entries: each dichotomous item, and each score category k >= 1 of a
    polytomous item, with the theta at which P(X >= k) = rp (for a 0/1 item the probability
    of a correct answer), by bisection on the fit's category curves (any model)."""
    entries = [(item, c) for item in fit.items for c in range(1, len(fit.categories[item]))]
    n = len(entries)
    cols = [[(item, float(v)) for v in fit.categories[item][c:]] for item, c in entries]

    def curve(th: np.ndarray) -> np.ndarray:
        pr = fit.probabilities(th)
        return np.array([sum(pr[col].to_numpy()[e] for col in cols[e]) for e in range(n)])

    lo, hi = np.full(n, -30.0), np.full(n, 30.0)
    plo, phi = curve(lo), curve(hi)
    rising = phi > plo
    bad = [f"{item}" + (f" (score {fit.categories[item][c]:g})"
                        if len(fit.categories[item]) > 2 else "")
           for e, (item, c) in enumerate(entries)
           if not (min(plo[e], phi[e]) < rp < max(plo[e], phi[e]))]
    if bad:
        raise DataError(f"items {bad} never reach a probability of rp={rp:g} of a correct "
                        "answer (e.g. a 3PL guessing parameter above rp): no RP location")
    for _ in range(80):
        mid = (lo + hi) / 2
        above = (curve(mid) >= rp) == rising
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return pd.DataFrame({"item": [e[0] for e in entries],
                         "category": [float(fit.categories[i][c]) for i, c in entries],
                         "rp_theta": (lo + hi) / 2})


def _bookmark(df: pd.DataFrame, fit: Any, rp: float, outlier_sd: float
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    # duck-typed (an IRTResult): importing stats.irt here would add a room edge for nothing
    if not all(hasattr(fit, a) for a in ("items", "categories", "probabilities",
                                         "expected_scores")):
        raise SpecificationError("method='bookmark' needs irt= a fitted IRT model (pv.irt)")
    loc = _rp_locations(fit, rp)
    booklet = loc.iloc[np.lexsort((np.arange(len(loc)), loc["rp_theta"].to_numpy()))]
    booklet = booklet.reset_index(drop=True)
    booklet.insert(0, "page", np.arange(1, len(booklet) + 1))
    n_pages = len(booklet)
    n_items = len(fit.items)
    pages = df["page"].to_numpy()
    bad = (pages != np.round(pages)) | (pages < 1) | (pages > n_pages)
    if bad.any():
        r = df[bad].iloc[0]
        raise DataError(f"judge {r['judge']!r}, round {_r(r['round'])}: bookmark page "
                        f"{r['page']:g} is not a page of the ordered item booklet (whole "
                        f"numbers 1 to {n_pages})")
    theta_of = booklet["rp_theta"].to_numpy()
    cut_rows, judge_rows, diag_rows = [], [], []
    for lv in dict.fromkeys(df["level"]):
        dl = df[df["level"] == lv]
        rnds = sorted(dl["round"].unique(), key=_key)
        for rd in rnds:
            d = dl[dl["round"] == rd]
            if len(d) < 2:
                raise DataError(f"level {_r(lv)}, round {_r(rd)}: one judge only "
                                f"({d['judge'].iloc[0]!r}); a panel cut needs at least 2")
            pg = d["page"].to_numpy().astype(int)
            th = theta_of[pg - 1]
            raw = fit.expected_scores(th)["test"].to_numpy()
            st = _cut_stats(th)
            raw_cut = float(fit.expected_scores(st["cut"])["test"].iloc[0])
            cut_rows.append({"level": lv, "round": rd, "scale": "theta", **st,
                             "n_items": n_items, "se_items_random": math.nan,
                             "cut_mean_item": raw_cut / n_items, "raw_cut": raw_cut})
            loo = _loo(th)
            for c, j in enumerate(d["judge"]):
                judge_rows.append({"level": lv, "round": rd, "judge": j, "page": int(pg[c]),
                                   "item": booklet["item"].iloc[pg[c] - 1],
                                   "category": booklet["category"].iloc[pg[c] - 1],
                                   "cut": float(th[c]), "raw_cut": float(raw[c]),
                                   "loo_z": float(loo[c]),
                                   "outlying": bool(abs(loo[c]) > outlier_sd)
                                   if not math.isnan(loo[c]) else False})
            if rd == rnds[-1]:
                diag_rows.append({"level": lv, "round": rd, "n_judges": len(d),
                                  "n_items": n_items, "icc2_1": math.nan, "icc2_k": math.nan,
                                  "outlying_judges": ", ".join(
                                      r["judge"] for r in judge_rows
                                      if r["level"] == lv and r["round"] == rd
                                      and r["outlying"])})
    return (pd.DataFrame(cut_rows, columns=_CUT_COLUMNS), pd.DataFrame(judge_rows), booklet,
            pd.DataFrame(diag_rows), [])


# -- the public function -------------------------------------------------------------------

def standard_setting(ratings: Any, *, method: str = "angoff", framework: Any = None,
                     competency: str | None = None, tier: str | None = None,
                     max_score: float | Mapping[str, float] = 1.0, irt: Any = None,
                     rp: float = 0.67, scores: Any = None, groups: Any = None,
                     score_scale: str | None = None, outlier_sd: float = 2.0,
                     min_item_correlation: float = 0.3) -> StandardSettingResult:
    """Cut scores from a standard-setting panel: modified Angoff or Bookmark.

    **Modified Angoff** (Angoff 1971): each judge gives, for each item, the probability that a
    minimally competent person answers it correctly (for a polytomous item: the expected
    item score of that person), usually over several rounds with discussion between them.
    A judge's cut is the sum of their ratings; the panel cut is the mean of the judges' cuts.
    **Bookmark** (Mitzel, Lewis, Patz & Green 2001): items ordered by their location on the
    IRT scale (the theta at which a correct answer has probability ``rp``) form an ordered
    item booklet; each judge places a bookmark on a page, and the judge's cut is the RP
    location of the bookmarked item. Both treat the judges as a random sample of qualified
    judges.

    Parameters
    ----------
    ratings : DataFrame, Series or mapping
        Angoff: long (columns ``judge``, ``item``, ``rating``, optional ``round`` and
        ``level``: the proficiency level, for several cuts) or wide (items x judges, one
        round). Bookmark: columns ``judge``, ``page`` (1-based page of the booklet), optional
        ``round`` and ``level``; or a Series / mapping judge -> page.
    method : {"angoff", "bookmark"}
    framework : Framework, optional
        With ``competency=`` or ``tier=``: the rated items are that target's, ratings are
        checked against each item's score range, and the cut is also given on the target's
        mean-item scale (``cut_mean_item``, the scale of ``cut_score``).
    competency, tier : str, optional
        The framework target (one of them).
    max_score : float or mapping, default 1
        Without a framework: the largest rating allowed per item (1 for probabilities; the
        item maximum for expected scores of polytomous items). Ratings must lie in
        [0, max_score].
    irt : IRTResult
        Bookmark: the fitted model that orders the booklet (dichotomous items, and
        polytomous items with one entry per score category above the lowest).
    rp : float, default 0.67
        Bookmark: the response probability criterion.
    scores : Series or array, optional
        Respondents' scores for the impact table (share at or above each final-round cut).
    groups : Series or array, optional
        Group of each respondent (impact by group), in the order of ``scores``.
    score_scale : {"summed", "mean", "theta"}, optional
        The scale of ``scores``: summed item scores (default for Angoff), mean item scores, or
        theta (default for Bookmark).
    outlier_sd : float, default 2
        A judge whose cut lies more than this many SDs of the other judges' cuts from their
        mean is flagged as outlying (leave-one-out; from 4 judges on).
    min_item_correlation : float, default 0.3
        Angoff: a judge whose item ratings correlate below this with the other judges' mean
        rating is flagged as outlying too (from 5 items on).

    Returns
    -------
    StandardSettingResult

    Raises
    ------
    DataError
        A rating outside [0, item maximum] (or the item's score range), a judge missing items
        in a round, a rating given twice, one judge only, a bookmark page out of range.
    SpecificationError
        An unknown method, both or neither of competency / tier with a framework, Bookmark
        without an IRT fit.

    Notes
    -----
    Angoff, for J judges and n items with ratings r_ji: judge cut c_j = sum_i r_ji (summed
    scale; c_j / n on the mean-item scale); panel cut c = mean_j c_j; se = sd(c_j) / sqrt(J).
    This treats the items as fixed (the cut of this form). With the items also random (the
    cut of the universe of items the form samples), generalizability theory for the crossed
    judges x items design gives (Brennan & Lockwood 1980) the error variance of the mean
    rating sigma2(j)/J + sigma2(i)/n + sigma2(ji,e)/(J n), with the variance components from
    the two-way ANOVA (negative estimates set to 0); times n on the
    summed scale, this is ``se_items_random``. Clauser, Kane & Clauser (2020) show the truth
    lies between the two when the judges' item means track the items' real difficulties.

    Judge agreement: ICC(2,1) and ICC(2,k) of the items x judges matrix (Shrout & Fleiss
    1979; items the targets, judges the raters), as ``pv.icc``.

    Bookmark: the booklet orders items by theta_i with P_i(theta_i) = rp (for the 2PL,
    theta_i = b_i + ln(rp / (1 - rp)) / a_i); a polytomous item has one entry per score k
    above its lowest, at the theta with P(X_i >= k) = rp (for the graded response model
    b_ik + ln(rp / (1 - rp)) / a_i). A bookmark on page p gives the cut theta of the entry
    on page p; the raw cut is the test characteristic curve at the panel cut (the
    expected summed score). Reviews of the method and its variants: Karantonis & Sireci
    (2006).

    References
    ----------
    Angoff, W. H. (1971). Scales, norms, and equivalent scores. In R. L. Thorndike (Ed.),
    Educational measurement (2nd ed., pp. 508-600). American Council on Education.
    Brennan, R. L., & Lockwood, R. E. (1980). A comparison of the Nedelsky and Angoff cutting
    score procedures using generalizability theory. Applied Psychological Measurement, 4(2),
    219-240. https://doi.org/10.1177/014662168000400209
    Clauser, B. E., Kane, M., & Clauser, J. C. (2020). Examining the precision of cut scores
    within a generalizability theory framework: A closer look at the item effect. Journal of
    Educational Measurement, 57(2), 216-229. https://doi.org/10.1111/jedm.12247
    Karantonis, A., & Sireci, S. G. (2006). The bookmark standard-setting method: A
    literature review. Educational Measurement: Issues and Practice, 25(1), 4-12.
    https://doi.org/10.1111/j.1745-3992.2006.00047.x
    Mitzel, H. C., Lewis, D. M., Patz, R. J., & Green, D. R. (2001). The bookmark procedure:
    Psychological perspectives. In G. J. Cizek (Ed.), Setting performance standards:
    Concepts, methods, and perspectives (pp. 249-281). Erlbaum.
    Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: Uses in assessing rater
    reliability. Psychological Bulletin, 86(2), 420-428.
    https://doi.org/10.1037/0033-2909.86.2.420

    Examples
    --------
    >>> import pandas as pd, psychoval as pv
    >>> wide = pd.DataFrame({"J1": [.6, .7, .5], "J2": [.5, .6, .4], "J3": [.7, .8, .6]},
    ...                     index=["i1", "i2", "i3"])
    >>> res = pv.standard_setting(wide)
    >>> res.cut_scores  # judges' cuts 1.8, 1.5, 2.1
    {'cut': 1.8}
    >>> round(float(res.cuts["se"].iloc[0]), 4)  # sd .3 / sqrt(3)
    0.1732
    """
    check_choice("method", method, ("angoff", "bookmark"))
    if score_scale is not None:
        check_choice("score_scale", score_scale, ("summed", "mean", "theta"))
    if not 0 < rp < 1:
        raise SpecificationError(f"rp={rp!r} must be a probability strictly between 0 and 1")
    target = None
    fw_items = None
    if framework is not None:
        from psychoval.framework import Framework

        if not isinstance(framework, Framework):
            raise SpecificationError("framework= must be a Framework (pv.read_framework)")
        if (competency is None) == (tier is None):
            raise SpecificationError("with framework= give competency= or tier= (one of them):"
                                     " the items whose cut is set")
        target = competency if competency is not None else tier
        obj = framework.competency(competency) if competency is not None \
            else framework.tier(tier)  # type: ignore[arg-type]
        fw_items = obj.items
    elif competency is not None or tier is not None:
        raise SpecificationError("competency= / tier= select a target of framework=; give "
                                 "framework=")
    notes: list[str] = []
    if method == "angoff":
        df = _long(ratings, "rating")
        items = [i.id for i in fw_items] if fw_items is not None else \
            sorted(df["item"].unique(), key=_key)
        bounds = _bounds(items, fw_items, max_score)
        cuts, judges, item_tab, diag, more = _angoff(df, items, bounds, outlier_sd,
                                                     min_item_correlation)
        scale = score_scale or "summed"
        if scale == "theta":
            raise SpecificationError("score_scale='theta' is for method='bookmark'")
    else:
        if irt is None:
            raise SpecificationError("method='bookmark' needs irt= a fitted IRT model (pv.irt)")
        df = _long(ratings, "page")
        cuts, judges, item_tab, diag, more = _bookmark(df, irt, rp, outlier_sd)
        items = list(irt.items)
        if fw_items is not None and {i.id for i in fw_items} != set(items):
            raise SpecificationError(f"the IRT fit's items are not the items of {target!r}")
        scale = score_scale or "theta"
    notes += more
    judges = _with_change(judges)
    column = {"summed": "raw_cut", "mean": "cut_mean_item", "theta": "cut"}[scale]
    impact, n_resp = pd.DataFrame(), None
    if scores is not None:
        last = cuts.groupby("level", sort=False)["round"].transform("max")
        impact, n_resp, more = _impact(cuts[cuts["round"] == last], scores, groups, column)
        notes += more
    elif groups is not None:
        raise SpecificationError("groups= splits the impact of scores=; give scores=")
    return StandardSettingResult(
        method=method, cuts=cuts, judges=judges, items=item_tab, rounds=_rounds_table(judges),
        diagnostics=diag, impact=impact, item_ids=tuple(items), target=target,
        rp=rp if method == "bookmark" else None, n_judges=int(df["judge"].nunique()),
        n_respondents=n_resp, notes=tuple(notes))
