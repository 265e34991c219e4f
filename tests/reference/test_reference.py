"""The reference harness: every check of every copied R reference file is asserted by its
feature's checker (tests/reference/checkers/) or listed once in XFAIL with a reason."""

from __future__ import annotations

import pytest

from tests.reference import _refs, checkers
from tests.reference.xfail import XFAIL

checkers.load_all()
KEYS = _refs.all_check_keys()


def test_keys_are_unique():
    assert len(KEYS) == len(set(KEYS))


def test_xfail_lists_only_known_checks_without_checkers():
    unknown = sorted(set(XFAIL) - set(KEYS))
    assert not unknown, f"XFAIL names checks that do not exist: {unknown}"
    both = sorted(k for k in XFAIL if checkers.find(k))
    assert not both, f"checks both asserted and in XFAIL (remove them from XFAIL): {both}"


@pytest.mark.parametrize("key", KEYS)
def test_reference_check(key):
    found = checkers.find(key)
    if not found:
        assert key in XFAIL, f"{key}: no checker asserts it and XFAIL does not list it"
        pytest.xfail(XFAIL[key])
    assert len(found) == 1, f"{key}: {len(found)} checkers registered; exactly one must own it"
    check = _refs.get(key)
    found[0](check)
    assert not check.unchecked(), f"{key}: reference values never asserted: {check.unchecked()}"
