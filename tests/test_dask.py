"""Dask collections on a real distributed LocalCluster (two worker processes): each partition
is summarised on a worker, the sums are added as a tree, and the statistic equals the
in-memory computation on the same rows."""

from __future__ import annotations

import numpy as np
import pytest

import psychoval as pv
from psychoval.stats.core._dask import dask_summary
from psychoval.stats.core._suffstats import Moments, PatternMoments
from tests._engine_data import assert_alpha_and_efa_equal
from tests._engine_data import likert_frame as _frame
from tests._tolerances import assert_close

dd = pytest.importorskip("dask.dataframe")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow  # starts a two-process cluster (a few seconds)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, worker_dashboard_address=None)
    cl = distributed.Client(cluster)
    try:
        yield cl
    finally:
        cl.close()
        cluster.close()


def test_partitions_are_summarised_on_the_workers(client):
    df = _frame()
    ddf = dd.from_pandas(df, npartitions=8)
    m = dask_summary(ddf, Moments)
    direct = Moments.from_array(df)
    np.testing.assert_array_equal(m.npair, direct.npair)
    assert_close(m.cov(), direct.cov(), "merged_moments", what="pairwise cov")
    assert_close(m.cov("listwise"), direct.cov("listwise"), "merged_moments", what="listwise")
    # the tasks ran on the cluster's two workers
    assert len(client.scheduler_info()["workers"]) == 2
    assert client.run(lambda: 1)  # both workers answer


def test_alpha_efa_omega_on_a_dask_dataframe(client):
    df = _frame()
    ddf = dd.from_pandas(df, npartitions=8)
    assert_alpha_and_efa_equal(df, ddf)
    # items= selects columns of the dask frame
    a3 = pv.alpha(df[["q1", "q2", "q3"]])
    b3 = pv.efa(ddf, n_factors=1, items=["q1", "q2", "q3"])
    assert b3.loadings.shape == (3, 1)
    assert_close(pv.alpha(ddf[["q1", "q2", "q3"]]).raw_alpha, a3.raw_alpha,
                 "merged_statistics", what="alpha of 3 items")


def test_dask_array(client):
    df = _frame(seed=2)
    arr = da.from_array(df.to_numpy(), chunks=(300, 3))  # column chunks are joined
    assert_close(pv.alpha(arr).raw_alpha, pv.alpha(df.to_numpy()).raw_alpha,
                 "merged_statistics", what="alpha of a dask array")


def test_cfa_on_a_dask_dataframe(client):
    df = _frame(n=1500, seed=3)
    ddf = dd.from_pandas(df, npartitions=5)
    model = "f =~ q1 + q2 + q3 + q4"
    for missing in ("listwise", "fiml"):
        with pytest.warns(pv.PsychovalWarning) if missing == "listwise" else _nothing():
            a = pv.cfa(model, df, missing=missing)
        with pytest.warns(pv.PsychovalWarning) if missing == "listwise" else _nothing():
            b = pv.cfa(model, ddf, missing=missing)
        assert_close(b.estimates()["est"].to_numpy(), a.estimates()["est"].to_numpy(),
                     "merged_cfa", what=f"{missing} est")
        assert_close(b.fit_measures["chisq"], a.fit_measures["chisq"], "merged_cfa",
                     what=f"{missing} chisq")
        assert (b.n_obs, b.n_total) == (a.n_obs, a.n_total)
    pm = dask_summary(ddf, PatternMoments)
    assert pm.n == len(df)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_validate_on_a_dask_dataframe_equals_in_memory(client):
    """pv.validate(ddf): the partitions stream in order through validate's scan path; every
    row fits in the sample, so the report is the in-memory one (the notes say it was
    streamed)."""
    import re

    from psychoval.datasets import sample_framework

    spec = sample_framework().to_dict()
    spec["tiers"] = [t for t in spec["tiers"] if t["id"] == "leadership"]
    for key in ("roles", "group_columns", "role_column"):
        spec.pop(key, None)
    fw = pv.read_framework(spec)
    keep = {fw.id_column, *fw.columns}
    raw = pv.load_sample().raw.reset_index().iloc[:600]
    raw = raw[[c for c in raw.columns if c in keep]]
    expected = pv.validate(raw, fw, seed=1, n_boot=20).to_dict()
    ddf = dd.from_pandas(raw, npartitions=3)
    got = pv.validate(ddf, fw, seed=1, n_boot=20).to_dict()
    for key in expected:
        if key not in ("provenance", "timings", "notes"):
            assert got[key] == expected[key], key
    assert got["notes"][1:] == expected["notes"]
    assert re.match(r"Streamed: 600 rows in 3 batches", got["notes"][0])
    assert got["provenance"]["input"].startswith("Dask DataFrame (3 partitions)")
    # ids are the id column's, as written
    assert list(pv.scan_responses(ddf, id_column=fw.id_column).tables())[0].ids[0] == \
        str(raw[fw.id_column].iloc[0])
