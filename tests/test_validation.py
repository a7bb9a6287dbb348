"""Tests for mathrec._validation: the shared argument checks and their one message style."""

import numpy as np
import pytest
import scipy.sparse as sp

from mathrec import _validation as V


def test_old_import_paths_still_work():
    from mathrec._base import check_positive_int
    from mathrec.baselines import _check_nonneg
    from mathrec.factorization import _check_float, _check_random_state, _check_unknown

    assert check_positive_int is V.check_positive_int
    assert _check_nonneg(2, "reg") == 2.0
    assert _check_float(0.5, "lr", strict=True) == 0.5
    assert _check_unknown("raise") == "raise"
    assert isinstance(_check_random_state(0), np.random.RandomState)


@pytest.mark.parametrize("value", [1, np.int64(3), 10**20])
def test_positive_int_accepts_python_and_numpy_integers(value):
    out = V.check_positive_int(value, "k")
    assert out == value and type(out) is int


@pytest.mark.parametrize("value", [2.0, 2.5, "3", None, True, np.bool_(True), [1]])
def test_positive_int_refuses_non_integers_with_a_type_error(value):
    with pytest.raises(TypeError, match=r"^k must be an integer >= 1, got "):
        V.check_positive_int(value, "k")


def test_positive_int_bounds():
    assert V.check_positive_int(0, "n_epochs", minimum=0) == 0
    assert V.check_positive_int(6, "n_splits", minimum=2, maximum=6) == 6
    with pytest.raises(ValueError, match=r"^n_splits must be an integer >= 2 and <= 6, got 1$"):
        V.check_positive_int(1, "n_splits", minimum=2, maximum=6)
    with pytest.raises(ValueError, match=r"^k must be an integer >= 1, got -3$"):
        V.check_positive_int(np.int32(-3), "k")


def test_real_and_probability():
    assert V.check_real(np.float32(0.5), "lr") == 0.5
    assert V.check_real(None, "min_rating", allow_none=True) is None
    assert V.check_probability(0, "p") == 0.0 and V.check_probability(1, "p") == 1.0
    for bad in (0, 1):
        with pytest.raises(ValueError, match=rf"^test_size must be a finite real number > 0 and < 1, got {bad}$"):
            V.check_probability(bad, "test_size", open_low=True, open_high=True)
    with pytest.raises(ValueError, match=r"^p must be a finite real number >= 0 and <= 1, got nan$"):
        V.check_probability(float("nan"), "p")
    with pytest.raises(TypeError, match=r"^p must be a finite real number >= 0 and <= 1, got '0.5'$"):
        V.check_probability("0.5", "p")
    with pytest.raises(TypeError, match=r"^lr must be a finite real number, got True$"):
        V.check_real(True, "lr")


def test_bool():
    assert V.check_bool(np.bool_(False), "verbose") is False
    for bad in (0, 1, "True", None):
        with pytest.raises(TypeError, match=rf"^verbose must be True or False, got {bad!r}$"):
            V.check_bool(bad, "verbose")


def test_array():
    np.testing.assert_array_equal(V.check_array([1, 2], "a", ndim=1), [1.0, 2.0])
    # a sparse row or column is a vector; a sparse matrix is not
    np.testing.assert_array_equal(V.check_array(sp.csr_matrix([[0, 3]]), "a", ndim=1), [0.0, 3.0])
    with pytest.raises(ValueError, match=r"^a must be 1-D, got a sparse matrix of shape \(2, 2\)$"):
        V.check_array(sp.eye(2), "a", ndim=1)
    with pytest.raises(ValueError, match=r"^a is empty; a similarity needs at least one entry$"):
        V.check_array([], "a", ndim=1, purpose="a similarity needs at least one entry")
    with pytest.raises(ValueError, match=r"^y contains a non-finite value \(inf at position 2\)$"):
        V.check_array([0.0, 1.0, np.inf], "y")
    with pytest.raises(ValueError, match=r"^a must be a 1-D array of numbers, got \['x'\]$"):
        V.check_array(["x"], "a", ndim=1)


def test_every_message_reads_name_must_be_got_value():
    checks = [
        lambda: V.check_positive_int(0, "k"),
        lambda: V.check_real(-1, "reg", low=0),
        lambda: V.check_probability(2, "p"),
        lambda: V.check_bool(1, "flag"),
        lambda: V.check_choice("x", "kind", ("a", "b")),
        lambda: V.check_hashable_id([1], "user"),
        lambda: V.check_id_list("ab", "recommended"),
    ]
    for check in checks:
        with pytest.raises((TypeError, ValueError)) as info:
            check()
        assert " must be " in str(info.value) and ", got " in str(info.value)
        assert "; got" not in str(info.value)
