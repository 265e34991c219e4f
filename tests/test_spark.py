"""Spark DataFrames on a local session (two cores, several partitions): each partition's
Arrow batches are summarised on an executor (mapInArrow), the summaries travel as JSON, the
driver adds them, and the statistic equals the in-memory computation on the same rows."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.stats.core._spark import spark_summary, tree_sum
from tests._engine_data import assert_alpha_and_efa_equal
from tests._engine_data import likert_frame as _frame
from tests._tolerances import assert_close

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("pyspark needs a Java runtime: `java` is not on PATH", allow_module_level=True)

pytestmark = pytest.mark.slow  # starts a JVM (a few seconds)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    # the executors' Python is this one (psychoval importable there)
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (SparkSession.builder.master("local[2]").appName("psychoval-tests")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.ui.enabled", "false")
               # a quicker JVM start on a small shared machine (C1 only, serial GC)
               .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "300")  # > 1 batch
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


def _arrow(df: pd.DataFrame):
    """The frame as an Arrow table, NaN as null."""
    import pyarrow as pa

    cols = {}
    for c in df.columns:
        v = df[c].to_numpy()
        if v.dtype.kind == "f":
            cols[c] = pa.array(v, mask=np.isnan(v))
        else:
            cols[c] = pa.array([None if pd.isna(x) else str(x) for x in v], type=pa.string())
    return pa.table(cols)


def _spark_frame(spark, df: pd.DataFrame, partitions: int = 5):
    """The rows in ``partitions`` partitions, missing answers as SQL null."""
    return spark.createDataFrame(_arrow(df)).repartition(partitions).cache()


@pytest.fixture(scope="module")
def frames(spark):
    df = _frame()
    return df, _spark_frame(spark, df)


def test_tree_sum_adds_in_order():
    assert tree_sum([]) is None
    assert tree_sum(["a", "b", "c", "d", "e"]) == "abcde"
    assert tree_sum(range(1, 101)) == 5050


def test_blocks_of_batches():
    """Arrow batches joined into blocks of at least ``rows`` rows; the blocks' summaries add
    to the summary of all the rows (no Spark needed)."""
    from psychoval.stats.core._spark import _batch_summaries, _blocks

    df = _frame(n=1000)
    table = _arrow(df)
    batches = table.to_batches(max_chunksize=300)
    assert [b.num_rows for b in _blocks(iter(batches), rows=500)] == [600, 400]
    assert [b.num_rows for b in _blocks(iter(batches), rows=10_000)] == [1000]
    names = tuple(df.columns)
    parts = list(_batch_summaries(iter(batches), pv.Moments, names, (), {}, rows=250))
    assert [p.n for p in parts] == [300, 300, 300, 100]
    m = tree_sum(parts)
    direct = pv.Moments.from_array(df)
    np.testing.assert_array_equal(m.npair, direct.npair)
    assert_close(m.cov(), direct.cov(), "merged_moments", what="pairwise cov of blocks")


def test_partitions_are_summarised_on_the_executors(frames):
    df, sdf = frames
    assert sdf.rdd.getNumPartitions() == 5
    m = spark_summary(sdf, pv.Moments)
    direct = pv.Moments.from_array(df)
    assert m.n == direct.n and m.n_complete == direct.n_complete
    np.testing.assert_array_equal(m.npair, direct.npair)
    assert m.value_counts == direct.value_counts
    assert_close(m.cov(), direct.cov(), "merged_moments", what="pairwise cov")
    assert_close(m.cov("listwise"), direct.cov("listwise"), "merged_moments",
                 what="listwise cov")
    # the integer tables are equal exactly
    rp, rp0 = spark_summary(sdf, pv.ResponsePatterns), pv.ResponsePatterns.from_array(df)
    assert rp.n == rp0.n
    assert_close(pv.polychoric(rp).rho.to_numpy(), pv.polychoric(df).rho.to_numpy(),
                 "merged_statistics",
                 what="polychoric from ResponsePatterns")


def test_item_score_tables_with_a_group_column(spark):
    df = _frame(seed=4).assign(g=np.repeat(["f", "m"], 1000))
    df.loc[7, "g"] = None
    sdf = _spark_frame(spark, df, partitions=3)
    assert dict(sdf.dtypes)["g"] == "string"
    t = spark_summary(sdf, pv.ItemScoreTables, group="g")
    t0 = pv.ItemScoreTables.from_array(df, group="g")
    assert t.columns == t0.columns and t.groups == t0.groups
    np.testing.assert_array_equal(t.rows, t0.rows)
    np.testing.assert_array_equal(t.answered, t0.answered)
    np.testing.assert_array_equal(t.counts, t0.counts)


def test_alpha_efa_omega_on_a_spark_dataframe(frames):
    df, sdf = frames
    assert_alpha_and_efa_equal(df, sdf)
    with pytest.warns(pv.ImproperSolutionWarning):  # a Heywood case, in both
        o1 = pv.omega(df, n_factors=3)
    with pytest.warns(pv.ImproperSolutionWarning):
        o2 = pv.omega(sdf, n_factors=3)
    assert_close(o2.omega_total, o1.omega_total, "merged_omega", what="omega_total")
    # items= selects columns of the Spark frame
    b3 = pv.efa(sdf, n_factors=1, items=["q1", "q2", "q3"])
    assert b3.loadings.shape == (3, 1)
    with pytest.raises(pv.PsychovalError, match=r"'q9'.*not columns of the Spark DataFrame"):
        pv.efa(sdf, n_factors=1, items=["q1", "q9"])


@pytest.mark.parametrize("missing", ["listwise", "fiml"])
def test_cfa_ml_on_a_spark_dataframe(spark, missing):
    df = _frame(n=1500, seed=3)
    sdf = _spark_frame(spark, df, partitions=4)
    model = "f =~ q1 + q2 + q3 + q4"
    expect = pytest.warns(pv.PsychovalWarning) if missing == "listwise" else contextlib.nullcontext()
    with expect:
        a = pv.cfa(model, df, missing=missing)
    expect = pytest.warns(pv.PsychovalWarning) if missing == "listwise" else contextlib.nullcontext()
    with expect:
        b = pv.cfa(model, sdf, missing=missing)
    assert (b.n_obs, b.n_total) == (a.n_obs, a.n_total)
    assert_close(b.estimates()["est"].to_numpy(), a.estimates()["est"].to_numpy(),
                 "merged_cfa", what=f"{missing} est")
    assert_close(b.estimates()["se"].to_numpy(), a.estimates()["se"].to_numpy(),
                 "merged_cfa", what=f"{missing} se")
    for m in ("chisq", "cfi", "rmsea", "srmr"):
        assert_close(b.fit_measures[m], a.fit_measures[m], "merged_cfa", what=f"{missing} {m}")


def test_cfa_mlr_from_fourth_moments_on_a_spark_dataframe(spark):
    df = _frame(n=1200, seed=5).dropna()  # MLR from sums: complete rows
    sdf = _spark_frame(spark, df, partitions=3)
    model = "f =~ q1 + q2 + q3 + q4 + q5"
    a = pv.cfa(model, df, estimator="MLR")
    b = pv.cfa(model, sdf, estimator="MLR")
    assert b.n_obs == a.n_obs
    for col in ("est", "se"):
        assert_close(b.estimates()[col].to_numpy(), a.estimates()[col].to_numpy(),
                     "merged_cfa", what=f"MLR {col}")
    for m in ("chisq_scaled", "cfi_robust", "rmsea_robust"):
        assert_close(b.fit_measures[m], a.fit_measures[m], "merged_cfa", what=f"MLR {m}")


def test_types_and_empty_frames(frames):
    df, sdf = frames
    ints = sdf.selectExpr(*[f"cast({c} as int) as {c}" for c in df.columns])
    assert_close(pv.alpha(ints).raw_alpha, pv.alpha(df).raw_alpha, "merged_statistics",
                 what="alpha of int columns with nulls")
    text = sdf.selectExpr("q1", "q2", "cast(q3 as string) as q3")
    with pytest.raises(pv.PsychovalError, match=r"'q3'.*string.*cast"):
        pv.alpha(text)
    empty = sdf.limit(0)
    assert spark_summary(empty, pv.Moments).n == 0
