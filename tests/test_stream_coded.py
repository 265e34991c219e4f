"""The short path of the streaming pass (stats/quality/_coded.py): batches of whole-number
answers counted as response vectors give the same counts, moments and pattern moments as the
long path (ResponseTable, scoring, per-batch moments), batch by batch and mixed."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psychoval as pv
from psychoval.pipeline import _stream
from psychoval.stats.core._suffstats import Moments, PatternMoments
from psychoval.stats.quality import _coded
from tests._tolerances import assert_close


def _likert(iid, lo=1, hi=5, **extra):
    return {"id": iid, "type": "likert", "min": lo, "max": hi, **extra}


FW = {"name": "coded", "id_column": "rid", "defaults": {"missing_codes": [-99]},
      "tiers": [{"id": "t", "name": "T", "competencies": [
          {"id": "A", "name": "A", "items": [_likert(f"A{j}", **({"reverse": True} if j == 4
                                                                else {}))
                                             for j in range(1, 5)]},
          {"id": "B", "name": "B", "items": [
              _likert("B1"), _likert("B2"), _likert("B3", 0, 3),
              _likert("B4", missing_codes=[9]), _likert("B5")]}]}]}


FW_MC = {**FW, "tiers": [{**FW["tiers"][0], "competencies": [
    *FW["tiers"][0]["competencies"],
    {"id": "C", "name": "C", "items": [
        {"id": f"C{j}", "type": "multiple_choice", "options": ["a", "b", "c", "d"],
         "answer_key": "abcd"[j % 4]} for j in range(1, 5)]}]}]}


def _data(n=3000, seed=5):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 2))
    cols = {}
    for j in range(1, 5):
        v = np.clip(np.rint(3 + f[:, 0] + rng.normal(size=n)), 1, 5)
        cols[f"A{j}"] = 6 - v if j == 4 else v
    for j in range(1, 6):
        lo, hi = (0, 3) if j == 3 else (1, 5)
        cols[f"B{j}"] = np.clip(np.rint((lo + hi) / 2 + f[:, 1] + rng.normal(size=n)), lo, hi)
    df = pd.DataFrame(cols)
    df[df.isna() | (rng.random(df.shape) < 0.08)] = np.nan
    df.loc[rng.random(n) < 0.01, list(cols)] = np.nan  # respondents with no answer
    df.loc[rng.random(n) < 0.02, "B4"] = 9  # the item's missing code
    df.loc[rng.random(n) < 0.02, "A2"] = -99  # the framework's missing code
    out = pd.DataFrame({"rid": np.arange(10_000, 10_000 + n, dtype=np.int64)})
    for c in cols:  # whole numbers: nullable integers (A) and float with NaN (B)
        out[c] = df[c].astype("Int16") if c.startswith("A") else df[c]
    for j in range(1, 5):  # options as text: the key more often, case and spaces vary
        p = np.full(4, 0.5 / 3)
        p["abcd".index("abcd"[j % 4])] = 0.5
        opt = rng.choice(np.array(["a", "b", "c", "d", " B", "C "], dtype=object), size=n,
                         p=np.r_[p[0], p[1] * 0.8, p[2] * 0.8, p[3], p[1] * 0.2, p[2] * 0.2])
        opt[rng.random(n) < 0.06] = None
        out[f"C{j}"] = opt
    return out


def _pass(path, monkeypatch, *, short: bool, batch_size=400, spec=FW, id_column="rid"):
    """The pass's counts and moments, by the short path (where a batch allows it) or by the
    long path only."""
    fw = pv.read_framework({**spec, "id_column": id_column})
    if not short:
        monkeypatch.setattr(_coded.Coder, "codes", lambda self, batch: None)
    got = {}

    def run(table, framework, moments=None, patterns=None):
        got["moments"], got["patterns"] = moments, patterns
        raise _Stop

    scan = pv.scan_responses(path, batch_size=batch_size, id_column=id_column)
    with pytest.raises(_Stop), warnings.catch_warnings():
        warnings.simplefilter("ignore", pv.PsychovalWarning)
        _stream.validate_scan(scan, fw, sample_rows=100, sample_seed=1, run=run,
                              hash_file=False)
    monkeypatch.undo()
    return got["moments"], got["patterns"]


class _Stop(Exception):
    pass


def _compare(a: Moments, b: Moments, what: str) -> None:
    assert a.n == b.n and a.n_complete == b.n_complete and a.n_scored == b.n_scored, what
    np.testing.assert_array_equal(a.npair, b.npair)
    for field in ("s1", "s2", "cross", "c1", "c2"):
        assert_close(getattr(a.recentered(b.shift, b.total_shift), field), getattr(b, field),
                     "merged_statistics", what=f"{what} {field}")
    assert a.value_counts == b.value_counts, what
    for field in ("t1", "t2", "tj1", "tj2", "tjz"):  # psych's mean-score sums
        assert_close(getattr(a.recentered(b.shift, b.total_shift), field), getattr(b, field),
                     "merged_statistics", what=f"{what} {field}")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("coded")
    df = _data()
    clean = d / "clean.parquet"
    df.to_parquet(clean, index=False)
    dirty = df.copy()
    dirty["A3"] = dirty["A3"].astype("float64")  # not a whole number:
    dirty.loc[2222, "A3"] = 2.5
    bad = d / "dirty.parquet"
    dirty.to_parquet(bad, index=False)
    csv = d / "clean.csv"  # every cell read as text
    text_ids = df.copy()
    text_ids["rid"] = [f" r{i} " for i in range(len(df))]  # stripped, as read_responses
    text_ids.to_csv(csv, index=False)
    return df, clean, bad, csv


CASES = {"clean": ("clean", FW), "dirty": ("dirty", FW), "multiple_choice": ("clean", FW_MC),
         "csv": ("csv", FW_MC), "direct": ("clean", FW_MC)}


@pytest.mark.parametrize("case", list(CASES))
def test_short_path_equals_long_path(files, monkeypatch, case):
    df, clean, dirty, csv = files
    which, spec = CASES[case]
    path = {"clean": clean, "dirty": dirty, "csv": csv}[which]
    if case == "direct":  # too many vectors to count: each batch summed from its codes
        monkeypatch.setattr(_coded, "DENSE", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pv.PsychovalWarning)
        short, short_rp = _pass(path, monkeypatch, short=True, spec=spec)
        long, long_rp = _pass(path, monkeypatch, short=False, spec=spec)
    for cid in ("A", "B", "C") if spec is FW_MC else ("A", "B"):
        _compare(short[cid], long[cid], cid)
        # the response patterns (counts are whole numbers: equal exactly)
        assert short_rp[cid].columns == long_rp[cid].columns
        for a, b in zip(short_rp[cid].levels, long_rp[cid].levels, strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(short_rp[cid].codes, long_rp[cid].codes)
        np.testing.assert_array_equal(short_rp[cid].freq, long_rp[cid].freq)
        assert short_rp[cid].n == 3000
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pv.PsychovalWarning)
            assert_close(pv.alpha(short[cid]).raw_alpha, pv.alpha(long[cid]).raw_alpha,
                         "merged_statistics")


@pytest.mark.parametrize("which", ["clean", "dirty", "csv", "direct"])
def test_scan_quality_counts_on_the_short_path(files, which, monkeypatch):
    """The exact counts of the report (short path for the clean batches) = check_data."""
    df, clean, dirty, csv = files
    path = {"clean": clean, "dirty": dirty, "csv": csv, "direct": clean}[which]
    if which == "direct":  # too many vectors to count: each batch summed from its codes
        monkeypatch.setattr(_coded, "DENSE", 1)
    fw = pv.read_framework(FW_MC)
    raw = pd.read_parquet(path) if which != "csv" else pv.read_responses(path, id_column="rid")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pv.PsychovalWarning)
        report = pv.validate(pv.scan_responses(path, batch_size=400), fw, seed=1,
                             sample_rows=200)
        quality = pv.check_data(raw, fw)
    assert re.search(r"\(\d+ of them took the short path", report.notes[0])
    dq = report.data_quality
    for field in ("n_respondents", "n_out_of_range", "n_invalid_codes", "n_all_missing_rows",
                  "n_duplicate_ids", "min_pairwise_n"):
        assert dq[field] == getattr(quality, field), field
    assert_close(dq["missing_fraction"], quality.missing_fraction, "closed_form")
    scanned = report.results["scan_quality"].items.set_index("column")
    expected = quality.items.set_index("column")
    for col in (i.id for i in fw.items):
        assert scanned.loc[col, "n_missing"] == expected.loc[col, "n_missing"], col
        assert_close(scanned.loc[col, ["mean", "sd"]].astype(float).tolist(),
                     expected.loc[col, ["mean", "sd"]].astype(float).tolist(),
                     "merged_statistics", what=col)
    # alpha on all rows = pv.alpha of the whole scored table
    scores = fw.score(raw).scores
    exact = report.results["alpha_all_rows"].set_index("competency")
    for comp in fw.competencies:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pv.PsychovalWarning)
            a = pv.alpha(scores[list(comp.item_ids)], missing="pairwise", ci_method="feldt")
        assert_close(exact.loc[comp.id, "alpha_all_rows"], a.raw_alpha, "merged_statistics")
        # the judged one-factor CFA (WLSMV) is the fit of every row, from response patterns
        fit = report.results[f"cfa:{comp.id}"]
        if which == "dirty" and comp.id == "A":  # A3's 2.5 is no category: fitted by MLR
            assert fit.estimator == "MLR" and fit.n_obs < 300
            continue
        assert fit.estimator == "WLSMV"
        with warnings.catch_warnings():  # rows without an answer are left out, as lavaan
            warnings.simplefilter("ignore", pv.PsychovalWarning)
            direct = pv.cfa(fw.to_model(competency=comp.id), scores[list(comp.item_ids)],
                            ordered=True, estimator="WLSMV", missing="pairwise")
        assert fit.n_obs == direct.n_obs > 200
        for key in ("chisq_scaled", "cfi_scaled", "rmsea_scaled", "srmr"):
            assert_close(fit.fit_measures[key], direct.fit_measures[key], "merged_statistics",
                         what=f"{comp.id} {key}")
        row = report.competencies.set_index("competency").loc[comp.id]
        assert_close(row["omega"], float(direct.composite_reliability()[comp.id]),
                     "merged_statistics")
    assert f"the judged one-factor CFA by WLSMV of {'B, C' if which == 'dirty' else 'A, B, C'} " \
        "(from merged response patterns" in report.notes[0]
    # the options of the multiple-choice items, counted on the short path
    cats = report.results["scan_quality"].categories
    want = quality.categories
    for col in ("C1", "C2", "C3", "C4"):
        got = cats[cats["column"] == col].set_index("category")["count"]
        exp = want[want["column"] == col].set_index("category")["count"]
        assert got.to_dict() == exp.to_dict(), col


def test_patterns_that_do_not_compress_are_not_kept(files, monkeypatch):
    """Beyond MAX_PATTERNS a competency keeps no response patterns (its WLSMV fit then comes
    from the sample), and its moments are unaffected."""
    df, clean, _, _ = files
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pv.PsychovalWarning)
        full, full_rp = _pass(clean, monkeypatch, short=True, spec=FW_MC)
        monkeypatch.setattr(_stream, "MAX_PATTERNS", 50)
        few, few_rp = _pass(clean, monkeypatch, short=True, spec=FW_MC)
    assert all(full_rp[c].n_patterns > 50 for c in ("A", "B", "C"))
    assert few_rp == {}
    for cid in ("A", "B", "C"):
        _compare(few[cid], full[cid], cid)


def test_cells_that_cannot_be_decoded_alone_take_the_long_path(files, monkeypatch, tmp_path):
    """Timestamps as ids: the one-row-per-cell table of an option cannot be built, so the
    batches go the long way - with the same numbers."""
    df, _, _, _ = files
    stamped = df.iloc[:1200].copy()
    stamped["rid"] = pd.date_range("2026-01-01", periods=len(stamped), freq="min")
    path = tmp_path / "stamped.parquet"
    stamped.to_parquet(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pv.PsychovalWarning)
        short, _ = _pass(path, monkeypatch, short=True, spec=FW_MC)
        long, _ = _pass(path, monkeypatch, short=False, spec=FW_MC)
    for cid in ("A", "B", "C"):
        _compare(short[cid], long[cid], cid)


def test_duplicate_ids_found_on_the_short_path(files, tmp_path):
    df, _, _, _ = files
    dup = df.copy()
    dup.loc[2900, "rid"] = dup.loc[17, "rid"]
    path = tmp_path / "dup.parquet"
    dup.to_parquet(path, index=False)
    fw = pv.read_framework(FW)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pv.PsychovalWarning)
        q = pv.scan_quality(pv.scan_responses(path, batch_size=400), fw)
    assert q.n_duplicate_ids == 1
    assert q.duplicate_ids["rows"].tolist() == ["18, 2901"]


def test_batches_outside_the_short_path(files):
    """Out of range, fractions, unknown labels or options: the batch goes the long way (which
    names the cell); text cells the rules read are coded like numbers."""
    import pyarrow as pa

    df, clean, _, _ = files
    fw = pv.read_framework(FW_MC)
    coder = _coded.Coder(fw, pv.scan_responses(clean, id_column="rid"))
    part = df.iloc[:50].reset_index(drop=True)
    batch = pa.RecordBatch.from_pandas(part, preserve_index=False)
    codes = coder.codes(batch)
    assert codes is not None
    for col, value in (("B2", 7.0), ("B2", 2.5), ("B3", 4.0), ("B3", -1.0), ("C1", "e"),
                       ("C1", "a b")):
        bad = part.copy()
        bad.loc[3, col] = value
        assert coder.codes(pa.RecordBatch.from_pandas(bad, preserve_index=False)) is None, \
            (col, value)
    text = part.copy()  # numbers written as text, as a delimited file holds them
    text["B1"] = [None if np.isnan(v) else f" {v:g} " for v in text["B1"]]
    np.testing.assert_array_equal(
        coder.codes(pa.RecordBatch.from_pandas(text, preserve_index=False)), codes)
    # codes: 0 missing, value - min + 1; an option's position
    b3 = part["B3"].to_numpy()
    np.testing.assert_array_equal(codes[coder.position["B3"]],
                                  np.where(np.isnan(b3), 0, np.nan_to_num(b3) + 1))
    b4 = part["B4"].to_numpy()
    np.testing.assert_array_equal(codes[coder.position["B4"]],
                                  np.where(np.isnan(b4) | (b4 == 9), 0, np.nan_to_num(b4)))
    c1 = [0 if pd.isna(v) else "abcd".index(v.strip().lower()) + 1 for v in part["C1"]]
    np.testing.assert_array_equal(codes[coder.position["C1"]], c1)


def test_coder_refuses_what_it_cannot_count():
    spec = {"name": "x", "tiers": [{"id": "t", "name": "T", "competencies": [
        {"id": "C", "name": "C", "items": [
            {"id": "q1", "type": "rating", "min": 1, "max": 4, "raters": ["r1", "r2"]},
            {"id": "q2", "type": "likert", "min": 1, "max": 5}]}]}]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pv.SpecificationWarning)
        coder = _coded.Coder(pv.read_framework(spec))
    assert not coder.usable and "q1" in coder.reason and "raters" in coder.reason


@settings(deadline=None, max_examples=40)
@given(st.integers(1, 6), st.integers(0, 2**31 - 1), st.booleans())
def test_pattern_counts_give_the_rows_moments(k, seed, sparse):
    """Counting distinct code vectors, then weighted moments = moments of the rows."""
    rng = np.random.default_rng(seed)
    levels = rng.integers(2, 7, size=k).tolist()
    n = int(rng.integers(1, 400))
    codes = np.stack([rng.integers(0, lv + 1, size=n) for lv in levels]).astype(np.int8)
    pc = _coded.PatternCounts(list(range(k)), levels)
    if sparse:
        pc.dense = False
        pc.counts = None
    for part in np.array_split(np.arange(n), 3):
        pc.add(codes[:, part])
    vecs, freq = pc.table()
    assert freq.sum() == n
    x = np.where(codes.T > 0, codes.T.astype(float), np.nan)
    u = np.where(vecs > 0, vecs.astype(float), np.nan)
    cols = [f"i{j}" for j in range(k)]
    direct = Moments.from_array(x, columns=cols)
    weighted = Moments.from_array(u, columns=cols, weights=freq, shift=direct.shift)
    _compare(weighted, direct, "weighted")
    p1 = PatternMoments.from_array(x, columns=cols)
    p2 = PatternMoments.from_array(u, columns=cols, weights=freq, shift=p1.shift)
    assert p1.n == p2.n and p1.n_empty == p2.n_empty
    o1 = {r.tobytes(): (f, s) for r, f, s in zip(p1.observed, p1.freq, p1.s, strict=True)}
    for r, f, s in zip(p2.observed, p2.freq, p2.s, strict=True):
        assert o1[r.tobytes()][0] == f
        assert_close(s, o1[r.tobytes()][1], "merged_statistics")
