"""Make the sample AI-competency assessment in this folder, reproducibly (numpy only).

    python data/sample/make_sample.py [OUTDIR]

Writes (to OUTDIR, default this folder):

- ``responses.csv``        1,500 respondents, the population model WITH the planted defects (seed 20261)
- ``responses_seed2.csv``  the same model with the defects, a second seed (20263)
- ``responses_clean.csv``  a clean replicate: the same model WITHOUT the defects (seed 20262)
- ``true_model.json``      the population model: loadings, factor correlations, thresholds,
                           answer keys and distractor probabilities, rater effects, the defects
- ``framework.yaml``       the framework (tiers -> competencies -> items) as YAML
- ``framework_items.csv``  the same framework as an item-map table
- ``content_ratings.csv``  an expert panel's content ratings (8 experts x the 41 items, long:
                           expert, item, relevance 1-4, essentiality, assignment, comment;
                           seed 20264), for ``pv.content_validity``
- ``angoff_ratings.csv``   a modified-Angoff panel (6 judges x 2 rounds x 2 levels x the 5
                           concepts items, long: judge, round, level, item, rating; seed
                           20265), for ``pv.standard_setting``

Population model (all items): a latent response y* = sum_f lambda_f eta_f + sigma * L, where the
10 competency factors eta are standard normal with the correlations in true_model.json
(.55 within a tier, .35 across tiers), L is a standard logistic variable and
sigma = sqrt(1 - sum lambda lambda' Phi) / (pi / sqrt(3)), so Var(y*) = 1 and lambda is the
standardized loading of y*. An ordinal item is the number of thresholds y* exceeds (+1 for a
1-5 Likert item); a knowledge item is correct when y* > tau. Equivalently P(y* > tau | eta) is
logistic with logit (lambda eta - tau) / sigma, so a uniform DIF of d logits is a shift of
d * sigma in y*. The rubric task's true quality q = .7 eta + sqrt(1 - .49) z (z normal) is
rated by 3 raters as the number of the thresholds (-1, 0, 1) exceeded by q + severity + e,
e ~ N(0, .5^2), plus 1 (a 1-4 rubric).

Planted defects (responses.csv and responses_seed2.csv; none in responses_clean.csv):

1. weak item: ETH4 has standardized loading .25 (clean: .65);
2. miskeyed item: CON3 is keyed "C" but "B" is the correct answer; wrong answers choose "C"
   with probability .7, so "C" is an attractive distractor chosen by well over 15% of the top
   quartile and less often than "B" (clean: "C" is correct, the distractors split .5/.3/.2);
3. item in the wrong competency: WRK3 (framework: workflow) loads .5 on prompting and .2 on
   workflow (clean: .65 on workflow only);
4. uniform DIF: PRM4 is 0.8 logit harder in the job family "engineering" (exactly 400 of the
   1,500 respondents) at equal trait (clean: no DIF).

Planted defects of the expert panel (content_ratings.csv):

5. misaligned item: 6 of the 8 experts assign WRK3 (framework: workflow) to prompting - the
   same item as defect 3, seen by the experts;
6. not-relevant item: ETH4 gets relevance 1 or 2 from 6 of the 8 experts, and is "essential"
   for one of them only - the item of defect 1.
Every other item: at most one expert rates it 2 (I-CVI >= .875), at least 7 of the 8 call it
essential (CVR >= .75, the exact critical value for 8 experts), at most one expert assigns it
to another competency of its tier. Some experts comment; one comment holds markup characters
(``<``, ``&``), which reports must escape.

The Angoff panel rates the probability that a borderline "proficient" and a borderline
"advanced" respondent answer each concepts question correctly; round 2 follows discussion
(each judge moves half-way to the panel's item mean of round 1). Judge J6 is lenient (+.15 in
round 1, +.10 in round 2).

About 3% of the response cells (items and rater columns) are blank, missing completely at
random. Job families have no mean differences. The random streams are numpy's PCG64
(np.random.default_rng); the files are byte-for-byte reproducible with the same numpy.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path

import numpy as np

N = 1500
SEEDS = {"responses": 20261, "clean": 20262, "seed2": 20263}
FILES = {"responses": "responses.csv", "clean": "responses_clean.csv",
         "seed2": "responses_seed2.csv"}
FAMILIES = (("engineering", 400), ("product", 380), ("operations", 370), ("sales", 350))
DIF_FAMILY = "engineering"
MISSING_RATE = 0.03
R_WITHIN, R_BETWEEN = 0.55, 0.35
LIKERT_THRESHOLDS = (-1.6, -0.7, 0.2, 1.1)
FREQUENCY = ("Never", "Rarely", "Sometimes", "Often", "Always")
AGREE = "1 = strongly disagree ... 5 = strongly agree"
RATERS = ("EVA4_r1", "EVA4_r2", "EVA4_r3")
RATER_SEVERITY = (0.3, 0.0, -0.4)
RATER_NOISE_SD = 0.5
RUBRIC_THRESHOLDS = (-1.0, 0.0, 1.0)
RUBRIC_LOADING = 0.7

TIERS = (
    ("literacy", "AI literacy", (
        ("concepts", "AI concepts"), ("data", "Data literacy"), ("ethics", "Responsible AI"))),
    ("applied", "Applied AI", (
        ("prompting", "Prompt design"), ("tools", "Tool use"),
        ("evaluation", "Evaluating AI output"), ("workflow", "Workflow integration"))),
    ("leadership", "AI leadership", (
        ("strategy", "AI strategy"), ("change", "Leading change"),
        ("governance", "AI governance"))),
)

# id, competency, type, loading (own factor), threshold shift / tau, reverse, text, extra
# type: L = 5-point agreement Likert, F = 5-point labelled frequency, K = multiple choice,
#       R = rubric rated by 3 raters
ITEMS = (
    ("CON1", "concepts", "K", 0.65, -0.6, False, "Which statement best describes supervised learning?", {"key": "A"}),
    ("CON2", "concepts", "K", 0.60, -0.2, False, "What is a large language model's context window?", {"key": "D"}),
    ("CON3", "concepts", "K", 0.50, 0.3, False, "Why can a model with 99% accuracy still be useless?", {"key": "C", "true": "B"}),
    ("CON4", "concepts", "K", 0.70, 0.1, False, "What does 'overfitting' mean?", {"key": "B"}),
    ("CON5", "concepts", "K", 0.55, 0.5, False, "Which practice reduces hallucinated citations?", {"key": "C"}),
    ("DAT1", "data", "L", 0.75, 0.0, False, "I can judge whether a data set is fit for a given purpose.", {}),
    ("DAT2", "data", "L", 0.70, -0.2, False, "I check data for bias before using it to train or prompt a model.", {}),
    ("DAT3", "data", "L", 0.65, 0.2, True, "Data quality problems are hard for me to spot.", {}),
    ("DAT4", "data", "L", 0.70, 0.1, False, "I can explain how training data shapes a model's output.", {}),
    ("ETH1", "ethics", "L", 0.70, -0.3, False, "I consider who could be harmed before deploying an AI tool.", {}),
    ("ETH2", "ethics", "L", 0.65, 0.0, True, "Privacy rules rarely apply to the AI tools I use.", {}),
    ("ETH3", "ethics", "L", 0.75, -0.1, False, "I can explain an AI-supported decision to the person it affects.", {}),
    ("ETH4", "ethics", "L", 0.25, 0.0, False, "I read the terms of service of AI tools.", {"clean_loading": 0.65}),
    ("PRM1", "prompting", "L", 0.75, -0.2, False, "I give AI tools the context they need to do a task well.", {}),
    ("PRM2", "prompting", "L", 0.70, 0.0, False, "I break complex requests into steps for an AI assistant.", {}),
    ("PRM3", "prompting", "L", 0.80, 0.1, False, "I refine my prompts based on the output I get.", {}),
    ("PRM4", "prompting", "L", 0.70, 0.2, False, "I write prompts that specify the format of the answer.", {"dif": -0.8}),
    ("PRM5", "prompting", "L", 0.65, 0.3, False, "I use examples in prompts to steer the output.", {}),
    ("TOO1", "tools", "F", 0.70, -0.4, False, "How often do you use an AI assistant for writing?", {}),
    ("TOO2", "tools", "F", 0.75, 0.0, False, "How often do you use AI tools to analyse data?", {}),
    ("TOO3", "tools", "F", 0.65, 0.3, False, "How often do you automate a task with an AI tool?", {}),
    ("TOO4", "tools", "F", 0.60, 0.5, False, "How often do you try a new AI tool at work?", {}),
    ("EVA1", "evaluation", "L", 0.70, 0.0, False, "I verify facts in AI output before I use it.", {}),
    ("EVA2", "evaluation", "L", 0.75, 0.1, False, "I can tell when an AI answer is plausible but wrong.", {}),
    ("EVA3", "evaluation", "L", 0.65, -0.1, False, "I compare AI output against a reliable source.", {}),
    ("EVA4", "evaluation", "R", RUBRIC_LOADING, 0.0, False, "Rubric task: critique a flawed AI-generated report (1-4).", {}),
    ("WRK1", "workflow", "L", 0.70, 0.0, False, "AI tools are part of my regular workflow.", {}),
    ("WRK2", "workflow", "L", 0.65, -0.2, True, "I do most tasks the same way I did before AI tools.", {}),
    ("WRK3", "workflow", "L", 0.20, 0.1, False, "I keep a library of prompts that work for me.", {"cross": ("prompting", 0.5), "clean_loading": 0.65}),
    ("WRK4", "workflow", "L", 0.75, 0.2, False, "I redesign team processes to use AI where it helps.", {}),
    ("STR1", "strategy", "L", 0.75, 0.3, False, "I can identify where AI creates value for my organisation.", {}),
    ("STR2", "strategy", "L", 0.70, 0.4, False, "I can build a business case for an AI initiative.", {}),
    ("STR3", "strategy", "L", 0.65, 0.2, False, "I weigh build-versus-buy options for AI solutions.", {}),
    ("STR4", "strategy", "L", 0.70, 0.5, False, "I set measurable goals for AI projects.", {}),
    ("CHG1", "change", "L", 0.70, 0.2, False, "I help colleagues adopt new AI tools.", {}),
    ("CHG2", "change", "L", 0.75, 0.3, False, "I address people's concerns about AI at work.", {}),
    ("CHG3", "change", "L", 0.60, 0.0, True, "I avoid discussing how AI will change our jobs.", {}),
    ("CHG4", "change", "L", 0.70, 0.4, False, "I plan training so my team can use AI well.", {}),
    ("GOV1", "governance", "L", 0.75, 0.4, False, "I know my organisation's rules for using AI.", {}),
    ("GOV2", "governance", "L", 0.70, 0.5, False, "I can set up review steps for AI-assisted work.", {}),
    ("GOV3", "governance", "L", 0.70, 0.6, False, "I can assess the risk level of an AI use case.", {}),
)
OPTIONS = ("A", "B", "C", "D")
# wrong answers split over the distractors with these probabilities (in option order,
# skipping the correct option); CON3 (miskeyed) is special-cased below
DISTRACTOR_SPLIT = (0.5, 0.3, 0.2)
MISKEY_SPLIT = {"A": 0.15, "C": 0.70, "D": 0.15}
LABEL_VARIANT_RATE = 0.05  # labelled responses written in lower/upper case or padded


def factors() -> list[str]:
    return [c for _, _, comps in TIERS for c, _ in comps]


def factor_correlations() -> np.ndarray:
    tier_of = [t for t, _, comps in TIERS for _ in comps]
    k = len(tier_of)
    phi = np.full((k, k), R_BETWEEN)
    for i in range(k):
        for j in range(k):
            if tier_of[i] == tier_of[j]:
                phi[i, j] = R_WITHIN
    np.fill_diagonal(phi, 1.0)
    return phi


def item_loadings(item: tuple, clean: bool) -> dict[str, float]:
    iid, comp, typ, lam, _, _, _, extra = item
    if clean and "clean_loading" in extra:
        return {comp: extra["clean_loading"]}
    out = {comp: lam}
    if "cross" in extra:
        out[extra["cross"][0]] = extra["cross"][1]
    return out


def thresholds(item: tuple) -> list[float]:
    typ, shift = item[2], item[4]
    if typ == "K":
        return [shift]
    return [round(t + shift, 3) for t in LIKERT_THRESHOLDS]


def simulate(seed: int, clean: bool) -> tuple[list[str], list[list[str]]]:
    rng = np.random.default_rng(seed)
    fac = factors()
    phi = factor_correlations()
    chol = np.linalg.cholesky(phi)
    eta = rng.standard_normal((N, len(fac))) @ chol.T
    fam = np.repeat(np.array([f for f, _ in FAMILIES]), [n for _, n in FAMILIES])
    fam = fam[rng.permutation(N)]
    focal = fam == DIF_FAMILY
    header = ["respondent_id", "job_family"]
    columns: list[np.ndarray] = []
    for item in ITEMS:
        iid, comp, typ, _, _, reverse, _, extra = item
        if typ == "R":
            q = RUBRIC_LOADING * eta[:, fac.index(comp)] + \
                math.sqrt(1 - RUBRIC_LOADING ** 2) * rng.standard_normal(N)
            for col, sev in zip(RATERS, RATER_SEVERITY, strict=True):
                obs = q + sev + RATER_NOISE_SD * rng.standard_normal(N)
                rating = 1 + (obs[:, None] > np.asarray(RUBRIC_THRESHOLDS)).sum(axis=1)
                header.append(col)
                columns.append(rating.astype(str).astype(object))
            continue
        lam = item_loadings(item, clean)
        idx = [fac.index(f) for f in lam]
        lv = np.asarray(list(lam.values()))
        common = float(lv @ phi[np.ix_(idx, idx)] @ lv)
        sigma = math.sqrt(1.0 - common) / (math.pi / math.sqrt(3.0))
        u = rng.uniform(size=N)
        ystar = eta[:, idx] @ lv + sigma * np.log(u / (1.0 - u))
        if "dif" in extra and not clean:
            ystar = ystar + extra["dif"] * sigma * focal
        tau = np.asarray(thresholds(item))
        header.append(iid)
        if typ == "K":
            correct = ystar > tau[0]
            right = extra["key"] if clean or "true" not in extra else extra["true"]
            wrong = [o for o in OPTIONS if o != right]
            if "true" in extra and not clean:
                probs = np.asarray([MISKEY_SPLIT[o] for o in wrong])
            else:
                probs = np.asarray(DISTRACTOR_SPLIT)
            pick = np.searchsorted(np.cumsum(probs), rng.uniform(size=N) * probs.sum(),
                                   side="right")
            pick = np.minimum(pick, len(wrong) - 1)
            choice = np.where(correct, right, np.asarray(wrong)[pick]).astype(object)
            columns.append(choice)
            continue
        x = 1 + (ystar[:, None] > tau).sum(axis=1)
        if reverse:
            x = 6 - x
        if typ == "F":
            labels = np.asarray(FREQUENCY, dtype=object)[x - 1]
            variant = rng.uniform(size=N)
            kind = rng.integers(0, 3, size=N)
            change = variant < LABEL_VARIANT_RATE
            lower = np.asarray([s.lower() for s in FREQUENCY], dtype=object)[x - 1]
            upper = np.asarray([s.upper() for s in FREQUENCY], dtype=object)[x - 1]
            padded = np.asarray([f" {s} " for s in FREQUENCY], dtype=object)[x - 1]
            labels = np.where(change & (kind == 0), lower, labels)
            labels = np.where(change & (kind == 1), upper, labels)
            labels = np.where(change & (kind == 2), padded, labels)
            columns.append(labels)
        else:
            columns.append(x.astype(str).astype(object))
    cells = np.column_stack(columns)
    blank = rng.uniform(size=cells.shape) < MISSING_RATE
    cells[blank] = ""
    ids = np.asarray([f"R{i:04d}" for i in range(1, N + 1)], dtype=object)
    rows = np.column_stack([ids, fam.astype(object), cells]).tolist()
    return header, rows


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


# Pass marks on the competency's mean-score scale (validate's decisions and adverse impact):
# 3 of 5 concepts questions right, a mean of 3.5 on prompting, 3.0 on governance
CUT_SCORES = {"concepts": 0.6, "prompting": 3.5, "governance": 3.0}
# and on the applied tier's mean over its 17 items (passing the tier)
TIER_CUT_SCORES = {"applied": 3.25}
# the level each job family requires (skills-gap targets, on the mean-score scale)
ROLES = {"engineering": {"data": 3.5, "prompting": 3.5, "tools": 3.5, "workflow": 3.0},
         "product": {"prompting": 3.0, "strategy": 3.0, "governance": 3.0},
         "sales": {"ethics": 3.5, "prompting": 3.0},
         "operations": {"workflow": 3.5, "change": 3.0, "governance": 3.0}}


def framework_yaml() -> str:
    lines = [
        "# AI-competency assessment: the framework of the psychoval sample data.",
        "# Made by data/sample/make_sample.py; the item map framework_items.csv is the same framework",
        "# except the roles (an item map has no place for them).",
        "name: AI competency assessment (sample)",
        "id_column: respondent_id",
        "group_columns: [job_family]",
        "role_column: job_family",
        "roles:",
    ]
    for role, targets in ROLES.items():
        lines.append(f"  {role}: {{{', '.join(f'{c}: {t}' for c, t in targets.items())}}}")
    lines.append("tiers:")
    by_comp: dict[str, list[tuple]] = {}
    for item in ITEMS:
        by_comp.setdefault(item[1], []).append(item)
    for tid, tname, comps in TIERS:
        lines += [f"  - id: {tid}", f"    name: {tname}"]
        if tid in TIER_CUT_SCORES:
            lines.append(f"    cut_score: {TIER_CUT_SCORES[tid]}")
        lines.append("    competencies:")
        for cid, cname in comps:
            lines += [f"      - id: {cid}", f"        name: {cname}"]
            if cid in CUT_SCORES:
                lines.append(f"        cut_score: {CUT_SCORES[cid]}")
            lines.append("        items:")
            for item in by_comp[cid]:
                iid, _, typ, _, _, reverse, text, extra = item
                lines.append(f"          - id: {iid}")
                lines.append(f"            text: {json.dumps(text)}")
                if typ == "K":
                    lines += ["            type: multiple_choice",
                              f"            options: [{', '.join(OPTIONS)}]",
                              f"            answer_key: {extra['key']}"]
                elif typ == "F":
                    lines += ["            type: likert",
                              f"            categories: [{', '.join(FREQUENCY)}]"]
                elif typ == "R":
                    lines += ["            type: rating", "            min: 1",
                              "            max: 4", f"            raters: [{', '.join(RATERS)}]"]
                else:
                    lines += ["            type: likert", "            min: 1", "            max: 5"]
                if reverse:
                    lines.append("            reverse: true")
    return "\n".join(lines) + "\n"


def framework_items_csv() -> bytes:
    header = ["item", "competency", "tier", "type", "min", "max", "reverse", "answer_key",
              "weight", "text", "options", "categories", "raters", "competency_name",
              "tier_name", "cut_score", "tier_cut_score"]
    names = {c: (cn, t, tn) for t, tn, comps in TIERS for c, cn in comps}
    rows = [["respondent_id", "", "", "id"] + [""] * 13, ["job_family", "", "", "group"] + [""] * 13]
    for item in ITEMS:
        iid, comp, typ, _, _, reverse, text, extra = item
        cname, tid, tname = names[comp]
        lo, hi, key, opts, cats, raters = "", "", "", "", "", ""
        kind = "likert"
        if typ == "K":
            kind, key, opts = "multiple_choice", extra["key"], "|".join(OPTIONS)
        elif typ == "F":
            cats = "|".join(FREQUENCY)
        elif typ == "R":
            kind, lo, hi, raters = "rating", "1", "4", "|".join(RATERS)
        else:
            lo, hi = "1", "5"
        rows.append([iid, comp, tid, kind, lo, hi, "true" if reverse else "false", key, "1",
                     text, opts, cats, raters, cname, tname,
                     str(CUT_SCORES[comp]) if comp in CUT_SCORES else "",
                     str(TIER_CUT_SCORES[tid]) if tid in TIER_CUT_SCORES else ""])
    return csv_bytes(header, rows)


def true_model() -> dict:
    fac = factors()
    phi = factor_correlations()
    items = []
    for item in ITEMS:
        iid, comp, typ, _, _, reverse, _, extra = item
        kind = {"K": "multiple_choice", "F": "likert (labelled frequency)",
                "L": "likert", "R": "rating (rubric, 3 raters)"}[typ]
        entry: dict = {"id": iid, "competency": comp, "type": kind, "reverse": reverse}
        if typ == "R":
            entry.update({"loading": {comp: RUBRIC_LOADING}, "rater_thresholds": list(RUBRIC_THRESHOLDS)})
        else:
            entry["loading"] = item_loadings(item, clean=False)
            entry["thresholds"] = thresholds(item)
            if "clean_loading" in extra:
                entry["clean_loading"] = {comp: extra["clean_loading"]}
        if typ == "K":
            entry["answer_key"] = extra["key"]
            entry["correct_option"] = extra.get("true", extra["key"])
            if "true" in extra:
                entry["distractor_probabilities"] = MISKEY_SPLIT
                entry["clean_correct_option"] = extra["key"]
            else:
                wrong = [o for o in OPTIONS if o != extra["key"]]
                entry["distractor_probabilities"] = dict(zip(wrong, DISTRACTOR_SPLIT, strict=True))
        if "dif" in extra:
            entry["dif_logit"] = {DIF_FAMILY: extra["dif"]}
        items.append(entry)
    return {
        "description": "Population model of the psychoval sample AI-competency assessment; "
                       "see the docstring of make_sample.py for the generating equations.",
        "n": N,
        "seeds": SEEDS,
        "files": FILES,
        "job_families": dict(FAMILIES),
        "missing": {"mechanism": "MCAR", "rate": MISSING_RATE,
                    "applies_to": "every item and rater cell"},
        "tiers": {t: [c for c, _ in comps] for t, _, comps in TIERS},
        "factors": fac,
        "factor_correlations": {"within_tier": R_WITHIN, "between_tiers": R_BETWEEN,
                                "matrix": phi.tolist()},
        "latent_response": "y* = sum(lambda * eta) + sigma * L, L standard logistic, "
                           "sigma = sqrt(1 - lambda' Phi lambda) / (pi / sqrt(3))",
        "likert_base_thresholds": list(LIKERT_THRESHOLDS),
        "label_variants": {"rate": LABEL_VARIANT_RATE,
                           "forms": ["lower case", "upper case", "padded with spaces"]},
        "raters": {"columns": list(RATERS), "severity": dict(zip(RATERS, RATER_SEVERITY, strict=True)),
                   "noise_sd": RATER_NOISE_SD, "thresholds": list(RUBRIC_THRESHOLDS),
                   "true_quality_loading": RUBRIC_LOADING},
        "items": items,
        "defects": [
            {"kind": "weak_item", "item": "ETH4", "standardized_loading": 0.25,
             "clean_loading": 0.65},
            {"kind": "miskeyed", "item": "CON3", "answer_key": "C", "correct_option": "B",
             "wrong_answers_choose": MISKEY_SPLIT},
            {"kind": "wrong_competency", "item": "WRK3", "framework_competency": "workflow",
             "loadings": {"prompting": 0.5, "workflow": 0.2}, "clean_loading": {"workflow": 0.65}},
            {"kind": "uniform_dif", "item": "PRM4", "group_column": "job_family",
             "focal_group": DIF_FAMILY, "n_focal": dict(FAMILIES)[DIF_FAMILY], "logit": -0.8},
        ],
        "defects_in": ["responses", "seed2"],
        "clean": ["clean"],
    }


CONTENT_SEED = 20264
ANGOFF_SEED = 20265
EXPERTS = tuple(f"E{j}" for j in range(1, 9))
MISALIGNED = ("WRK3", "prompting", 6)      # item, the competency experts choose, how many
NOT_RELEVANT = ("ETH4", 6)                 # item, how many experts rate it 1 or 2
COMMENTS = {
    ("WRK3", "E2"): "This is about prompting, not about workflow.",
    ("WRK3", "E5"): "Keeping a prompt library is a prompting skill.",
    ("ETH4", "E1"): "Reading terms of service is a habit, not a competency.",
    ("ETH4", "E7"): "Hardly anyone does this; not relevant to responsible AI use.",
    ("CON3", "E4"): "Wording <unclear> & the options overlap.",
    ("STR4", "E3"): "Good item.",
}
ANGOFF_JUDGES = tuple(f"J{j}" for j in range(1, 7))
ANGOFF_LEVELS = (("proficient", 0.0), ("advanced", 0.22))
ANGOFF_LENIENT = {"J6": (0.15, 0.10)}      # judge: bias in round 1, round 2
# the probability a borderline-proficient respondent answers each concepts item correctly
ANGOFF_BASE = {"CON1": 0.70, "CON2": 0.62, "CON3": 0.50, "CON4": 0.55, "CON5": 0.45}


def content_ratings_csv() -> bytes:
    rng = np.random.default_rng(CONTENT_SEED)
    comp_tier = {c: t for t, _, comps in TIERS for c, _ in comps}
    siblings = {c: [d for d, _ in comps if d != c] for t, _, comps in TIERS for c, _ in comps}
    rows = []
    for iid, comp, *_ in ITEMS:
        n = len(EXPERTS)
        rel = rng.choice([3, 4], size=n, p=[0.4, 0.6])
        ess = np.full(n, "essential", dtype=object)
        assign = np.full(n, comp, dtype=object)
        if iid == NOT_RELEVANT[0]:
            low = rng.permutation(n)[:NOT_RELEVANT[1]]
            rel[low] = rng.choice([1, 2], size=len(low), p=[0.4, 0.6])
            ess[:] = "not necessary"
            ess[rng.permutation(n)[:3]] = "useful"
            ess[low[0] if rel[low[0]] == 2 else [j for j in range(n) if j not in low][0]] = \
                "essential"
        else:
            if rng.uniform() < 0.2:
                rel[rng.integers(n)] = 2
            if rng.uniform() < 0.4:
                ess[rng.integers(n)] = "useful"
        if iid == MISALIGNED[0]:
            assign[rng.permutation(n)[:MISALIGNED[2]]] = MISALIGNED[1]
        elif rng.uniform() < 0.25:
            assign[rng.integers(n)] = siblings[comp][int(rng.integers(len(siblings[comp])))]
        assert comp_tier[comp]
        for j, e in enumerate(EXPERTS):
            rows.append([e, iid, str(int(rel[j])), str(ess[j]), str(assign[j]),
                         COMMENTS.get((iid, e), "")])
    return csv_bytes(["expert", "item", "relevance", "essentiality", "assignment", "comment"],
                     rows)


def angoff_ratings_csv() -> bytes:
    rng = np.random.default_rng(ANGOFF_SEED)
    items = list(ANGOFF_BASE)
    rows = []
    for level, shift in ANGOFF_LEVELS:
        first = {}
        for j in ANGOFF_JUDGES:
            bias = ANGOFF_LENIENT.get(j, (0.0, 0.0))[0] + rng.normal(0, 0.04)
            first[j] = {i: ANGOFF_BASE[i] + shift + bias + rng.normal(0, 0.06) for i in items}
        mean1 = {i: float(np.mean([first[j][i] for j in ANGOFF_JUDGES])) for i in items}
        for rnd in (1, 2):
            for j in ANGOFF_JUDGES:
                for i in items:
                    r = first[j][i]
                    if rnd == 2:
                        extra = ANGOFF_LENIENT.get(j, (0.0, 0.0))
                        r = r + 0.5 * (mean1[i] - r) + (extra[1] - extra[0]) / 2 \
                            + rng.normal(0, 0.02)
                    rows.append([j, str(rnd), level, i, f"{min(0.98, max(0.05, r)):.2f}"])
    return csv_bytes(["judge", "round", "level", "item", "rating"], rows)


def build() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for name, fname in FILES.items():
        header, rows = simulate(SEEDS[name], clean=(name == "clean"))
        out[fname] = csv_bytes(header, rows)
    out["true_model.json"] = (json.dumps(true_model(), indent=2) + "\n").encode("utf-8")
    out["framework.yaml"] = framework_yaml().encode("utf-8")
    out["framework_items.csv"] = framework_items_csv()
    out["content_ratings.csv"] = content_ratings_csv()
    out["angoff_ratings.csv"] = angoff_ratings_csv()
    return out


def main(argv: list[str]) -> int:
    outdir = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent
    outdir.mkdir(parents=True, exist_ok=True)
    for fname, data in build().items():
        (outdir / fname).write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
