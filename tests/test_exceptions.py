import warnings

import pytest

import psychoval as pv


def test_hierarchy():
    assert issubclass(pv.DataError, pv.PsychovalError) and issubclass(pv.DataError, ValueError)
    assert issubclass(pv.SpecificationError, ValueError)
    assert issubclass(pv.EstimationError, RuntimeError)
    for w in (pv.ConvergenceWarning, pv.ImproperSolutionWarning, pv.DegenerateDataWarning,
              pv.SmallSampleWarning):
        assert issubclass(w, pv.PsychovalWarning) and issubclass(w, UserWarning)


def test_warnings_are_errors_in_the_suite():
    with pytest.raises(pv.ConvergenceWarning):
        warnings.warn("not converged", pv.ConvergenceWarning, stacklevel=1)


def test_lazy_api_and_dir():
    assert "read_responses" in dir(pv)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        pv.nope  # noqa: B018
