"""Every reliability result has the common face: repr, summary (text, HTML), to_frame, to_dict."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import psychoval as pv


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = np.clip(np.round(3 + rng.normal(size=(80, 1)) + rng.normal(size=(80, 6))), 1, 5)
    return pd.DataFrame(x, columns=list("abcdef"))


def _results(data):
    binary = (data > 3).astype(float)
    return [
        pv.alpha(data, ci_method="bca", n_boot=50, seed=1),
        pv.split_half(data),
        pv.guttman(data),
        pv.score_items(data, {"s1": ["a", "b", "c"], "s2": ["d", "e", "f"]}),
        pv.kr20(binary),
        pv.kr21(binary),
        pv.sem_score(data),
    ]


def test_common_face(data):
    for res in _results(data):
        name = type(res).__name__
        assert repr(res).startswith(f"<{name} ") and "\n" not in repr(res)
        text = str(res.summary())
        assert text and "<" in res._repr_html_()
        frame = res.to_frame()
        assert isinstance(frame, pd.DataFrame) and len(frame)
        assert all(c == c.lower() and " " not in c for c in frame.columns), name
        d = res.to_dict()
        assert d["schema"].startswith("psychoval.") and "psychoval_version" in d
        json.loads(json.dumps(d))
