"""KR-20, KR-21 (against the ability kr.* references) and the standard error of measurement."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import psychoval as pv
from psychoval.exceptions import DataError, SpecificationError

# KR-20/21 against ability/kr.* are asserted by the harness: tests/reference/checkers/items.py


def test_kr_errors():
    df = pd.DataFrame({"a": [0, 1, 1, 0], "b": [1, 1, 0, 2], "c": [0, 1, 1, 1]})
    with pytest.raises(DataError, match=r"item 'b' has the value 2 at row 4; KR-20/21 need items scored 0/1"):
        pv.kr20(df)
    ok = df.assign(b=[1, 1, 0, 0])
    with pytest.raises(SpecificationError, match="missing='pairwise' is not one of"):
        pv.kr20(ok, missing="pairwise")
    with pytest.raises(SpecificationError, match="variance='n' is not one of"):
        pv.kr21(ok, variance="n")
    assert pv.kr21(ok).estimate <= pv.kr20(ok).estimate + 1e-12
    r = pv.kr20(ok)
    assert repr(r).startswith("<KRResult kr20=") and "KR-20" in str(r.summary())
    assert list(r.to_frame().columns) == ["item", "p", "pq"]


def test_sem_score_formulas():
    rng = np.random.default_rng(1)
    x = np.round(3 + rng.normal(size=(50, 1)) + rng.normal(size=(50, 4)))
    res = pv.sem_score(x)
    a = pv.alpha(x)
    total = x.sum(axis=1)
    sd = total.std(ddof=1)
    assert res.reliability == pytest.approx(a.raw_alpha, rel=1e-12)
    assert res.sem == pytest.approx(sd * math.sqrt(1 - a.raw_alpha), rel=1e-12)
    assert res.see == pytest.approx(sd * math.sqrt(a.raw_alpha * (1 - a.raw_alpha)), rel=1e-12)
    iv = res.intervals
    assert ((iv["lower"] < iv["score"]) & (iv["score"] < iv["upper"])).all()
    assert ((iv["true_lower"] < iv["true_score"]) & (iv["true_score"] < iv["true_upper"])).all()
    kelley = a.raw_alpha * total + (1 - a.raw_alpha) * total.mean()
    np.testing.assert_allclose(iv["true_score"], kelley, rtol=1e-12)
    z = 1.959963984540054
    np.testing.assert_allclose(iv["upper"] - iv["score"], z * res.sem, rtol=1e-12)
    mean_score = pv.sem_score(x, reliability=0.8, score="mean")
    assert mean_score.sem == pytest.approx(x.mean(axis=1).std(ddof=1) * math.sqrt(0.2))
    assert mean_score.reliability_source == "given"
    with pytest.raises(SpecificationError, match="outside"):
        pv.sem_score(x, reliability=1.5)
    assert pv.sem_score((x > 3).astype(float), reliability="kr20").reliability == pytest.approx(
        pv.kr20((x > 3).astype(float)).estimate)
    assert res.to_frame().shape == (50, 7)
