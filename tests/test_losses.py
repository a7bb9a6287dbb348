"""Tests for mathrec.losses: worked values, cross-checks, properties, edge cases."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import expit, log_softmax
from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error

from mathrec.losses import (
    binary_cross_entropy,
    cross_entropy,
    half_sse,
    mae,
    mse,
    rmse,
)

REGRESSION = [mse, rmse, mae, half_sse]


# ----------------------------------------------------------------------------
# the chapter's worked examples
# ----------------------------------------------------------------------------
def test_source_cross_entropy_example_nats_and_bits():
    assert binary_cross_entropy([1], [0.8]) == pytest.approx(-math.log(0.8))
    assert round(binary_cross_entropy([1], [0.8]), 4) == 0.2231
    assert round(binary_cross_entropy([1], [0.8], base=2), 4) == 0.3219
    assert binary_cross_entropy([1], [0.8], base=2) == pytest.approx(-math.log2(0.8))
    # the same through the multi-class function and through the logit
    assert cross_entropy([0], [[0.8, 0.2]]) == pytest.approx(-math.log(0.8))
    assert binary_cross_entropy([1], logits=[math.log(0.8 / 0.2)]) == pytest.approx(-math.log(0.8))


def test_half_sse_is_not_a_mean():
    y = np.array([[4.0, 3.0, 5.0], [1.0, 2.0, 4.0]])
    y_hat = np.array([[3.5, 3.0, 4.0], [2.0, 2.0, 3.0]])
    sse = ((y_hat - y) ** 2).sum()  # 0.25 + 1 + 1 + 1 = 3.25
    assert half_sse(y, y_hat) == pytest.approx(sse / 2) == pytest.approx(1.625)
    assert mse(y, y_hat) == pytest.approx(sse / 6)
    assert half_sse(y, y_hat) == pytest.approx(mse(y, y_hat) * y.size / 2)
    # doubling the data doubles half_sse but leaves mse unchanged
    y2, y_hat2 = np.vstack([y, y]), np.vstack([y_hat, y_hat])
    assert half_sse(y2, y_hat2) == pytest.approx(2 * half_sse(y, y_hat))
    assert mse(y2, y_hat2) == pytest.approx(mse(y, y_hat))


# ----------------------------------------------------------------------------
# cross-checks with scikit-learn
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_regression_losses_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0.5, 5, size=50)
    y_hat = y + rng.normal(scale=0.8, size=50)
    assert mse(y, y_hat) == pytest.approx(mean_squared_error(y, y_hat), rel=1e-12)
    assert rmse(y, y_hat) == pytest.approx(math.sqrt(mean_squared_error(y, y_hat)), rel=1e-12)
    assert mae(y, y_hat) == pytest.approx(mean_absolute_error(y, y_hat), rel=1e-12)
    assert half_sse(y, y_hat) == pytest.approx(0.5 * np.sum((y_hat - y) ** 2), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_binary_cross_entropy_matches_sklearn_log_loss(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=200)
    p = rng.uniform(0.01, 0.99, size=200)
    assert binary_cross_entropy(y, p) == pytest.approx(log_loss(y, p, labels=[0, 1]), rel=1e-12)
    z = rng.normal(scale=3, size=200)
    assert binary_cross_entropy(y, logits=z) == pytest.approx(
        log_loss(y, expit(z), labels=[0, 1]), rel=1e-9
    )
    assert binary_cross_entropy(y, logits=z) == pytest.approx(binary_cross_entropy(y, expit(z)), rel=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_cross_entropy_matches_sklearn_log_loss(seed):
    rng = np.random.default_rng(seed)
    n, K = 80, 4
    y = rng.integers(0, K, size=n)
    z = rng.normal(scale=2, size=(n, K))
    P = np.exp(log_softmax(z, axis=1))
    expect = log_loss(y, P, labels=list(range(K)))
    assert cross_entropy(y, P) == pytest.approx(expect, rel=1e-12)
    assert cross_entropy(y, logits=z) == pytest.approx(expect, rel=1e-9)
    onehot = np.eye(K)[y]
    assert cross_entropy(onehot, P) == pytest.approx(expect, rel=1e-12)
    assert cross_entropy(y, P, base=2) == pytest.approx(expect / math.log(2), rel=1e-12)


def test_cross_entropy_two_classes_is_binary_cross_entropy():
    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, size=30)
    p = rng.uniform(0.05, 0.95, size=30)
    P = np.column_stack([1 - p, p])
    assert cross_entropy(y, P) == pytest.approx(binary_cross_entropy(y, p), rel=1e-12)


# ----------------------------------------------------------------------------
# numerical stability
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("z", [-5000.0, -1000.0, -40.0, 0.0, 40.0, 1000.0, 5000.0])
def test_binary_logits_stable_in_the_thousands(z):
    # exact values: -log sigma(z) = softplus(-z); -log(1 - sigma(z)) = softplus(z)
    def softplus(t):
        return max(t, 0.0) + math.log1p(math.exp(-abs(t)))

    assert binary_cross_entropy([1], logits=[z]) == pytest.approx(softplus(-z), rel=1e-12, abs=1e-300)
    assert binary_cross_entropy([0], logits=[z]) == pytest.approx(softplus(z), rel=1e-12, abs=1e-300)


def test_multiclass_logits_stable_in_the_thousands():
    z = np.array([[3000.0, 1000.0, -2000.0], [0.0, 0.0, 0.0]])
    got = cross_entropy([1, 2], logits=z)
    assert got == pytest.approx((2000.0 + math.log(3)) / 2)
    assert np.isfinite(got)


def test_probability_clipping_keeps_confident_mistakes_finite():
    assert binary_cross_entropy([1], [0.0]) == pytest.approx(-math.log(1e-12))
    assert binary_cross_entropy([0], [1.0], eps=1e-7) == pytest.approx(-math.log(1e-7), rel=1e-6)
    assert cross_entropy([0], [[0.0, 1.0]]) == pytest.approx(-math.log(1e-12))
    # a correct certain prediction costs (almost) nothing
    assert binary_cross_entropy([1, 0], [1.0, 0.0]) == pytest.approx(0.0, abs=1e-11)


# ----------------------------------------------------------------------------
# properties
# ----------------------------------------------------------------------------
vals = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, st.integers(1, 30), elements=vals), st.data())
def test_regression_properties(y, data):
    y_hat = data.draw(arrays(np.float64, y.shape, elements=vals))
    m = mse(y, y_hat)
    assert m >= 0 and mae(y, y_hat) >= 0
    assert rmse(y, y_hat) == pytest.approx(math.sqrt(m))
    assert mae(y, y_hat) <= rmse(y, y_hat) * (1 + 1e-12) + 1e-12  # Jensen
    assert mse(y, y_hat) == pytest.approx(mse(y_hat, y))
    assert mse(y, y) == 0.0
    assert half_sse(y, y_hat) == pytest.approx(m * y.size / 2, rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, st.integers(1, 30), elements=st.floats(-50, 50)), st.data())
def test_binary_cross_entropy_properties(z, data):
    y = data.draw(arrays(np.float64, z.shape, elements=st.sampled_from([0.0, 1.0])))
    loss = binary_cross_entropy(y, logits=z)
    assert loss >= 0
    # away from saturation the probability route agrees with the logit route
    small = np.abs(z) < 15
    if small.any():
        assert binary_cross_entropy(y[small], logits=z[small]) == pytest.approx(
            binary_cross_entropy(y[small], expit(z[small])), rel=1e-9, abs=1e-12
        )
    # flipping labels and logits together changes nothing
    assert binary_cross_entropy(1 - y, logits=-z) == pytest.approx(loss, rel=1e-12, abs=1e-300)
    assert binary_cross_entropy(y, logits=z, base=2) == pytest.approx(loss / math.log(2), rel=1e-12, abs=1e-300)


# ----------------------------------------------------------------------------
# edge cases by name
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("f", REGRESSION)
def test_regression_shape_mismatch(f):
    with pytest.raises(ValueError, match=r"y_true and y_pred must have the same shape, got \(3,\) and \(2,\)"):
        f([1, 2, 3], [1, 2])


@pytest.mark.parametrize("f", REGRESSION)
def test_regression_empty(f):
    with pytest.raises(ValueError, match=r"^y_true is empty"):
        f([], [])


@pytest.mark.parametrize("f", REGRESSION)
def test_regression_nan(f):
    with pytest.raises(ValueError, match=r"^y_pred contains a non-finite value"):
        f([1, 2], [1, np.nan])
    with pytest.raises(ValueError, match=r"^y_true contains a non-finite value"):
        f([np.inf, 2], [1, 2])


def test_binary_cross_entropy_bad_inputs():
    with pytest.raises(ValueError, match=r"y_prob must lie in \[0, 1\], got 1.2"):
        binary_cross_entropy([1, 0], [1.2, 0.3])
    with pytest.raises(ValueError, match=r"y_prob must lie in \[0, 1\], got -0.1"):
        binary_cross_entropy([1, 0], [-0.1, 0.3])
    with pytest.raises(ValueError, match=r"y_true must lie in \[0, 1\], got 2.0"):
        binary_cross_entropy([2, 0], [0.5, 0.3])
    with pytest.raises(ValueError, match=r"exactly one of y_prob and logits"):
        binary_cross_entropy([1], [0.5], logits=[0.0])
    with pytest.raises(ValueError, match=r"exactly one of y_prob and logits"):
        binary_cross_entropy([1])
    with pytest.raises(ValueError, match=r"y_true and logits must have the same shape"):
        binary_cross_entropy([1, 0], logits=[0.0])
    with pytest.raises(ValueError, match=r"^logits contains a non-finite value"):
        binary_cross_entropy([1], logits=[np.nan])
    with pytest.raises(ValueError, match=r"^y_prob contains a non-finite value"):
        binary_cross_entropy([1], [np.nan])
    with pytest.raises(ValueError, match=r"^y_true is empty"):
        binary_cross_entropy([], [])
    with pytest.raises(ValueError, match=r"base must be a number > 0 and != 1, got 1"):
        binary_cross_entropy([1], [0.5], base=1)
    with pytest.raises(ValueError, match=r"eps must be a finite real number > 0 and < 0.5, got 0"):
        binary_cross_entropy([1], [0.5], eps=0)
    with pytest.raises(ValueError, match=r"base must be a finite real number > 0, got -2"):
        binary_cross_entropy([1], [0.5], base=-2)
    with pytest.raises(TypeError, match=r"base must be a finite real number > 0, got '2'"):
        binary_cross_entropy([1], [0.5], base="2")


def test_cross_entropy_bad_inputs():
    P = [[0.7, 0.3], [0.4, 0.6]]
    with pytest.raises(ValueError, match=r"labels must be integers in 0..1, got 2.0"):
        cross_entropy([0, 2], P)
    with pytest.raises(ValueError, match=r"labels must be integers in 0..1, got 0.5"):
        cross_entropy([0, 0.5], P)
    with pytest.raises(ValueError, match=r"y_true has 3 labels but y_prob has 2 rows"):
        cross_entropy([0, 1, 1], P)
    with pytest.raises(ValueError, match=r"each row of y_prob must sum to 1"):
        cross_entropy([0, 1], [[0.7, 0.7], [0.4, 0.6]])
    with pytest.raises(ValueError, match=r"y_prob must be 2-D"):
        cross_entropy([0], [0.7, 0.3])
    with pytest.raises(ValueError, match=r"y_true and y_prob must have the same shape"):
        cross_entropy([[1, 0, 0]], [[0.7, 0.3]])
    with pytest.raises(ValueError, match=r"each row of y_true must sum to 1"):
        cross_entropy([[1, 1], [0, 1]], P)
    with pytest.raises(ValueError, match=r"y_prob must lie in \[0, 1\]"):
        cross_entropy([0, 1], [[1.5, -0.5], [0.4, 0.6]])
    with pytest.raises(ValueError, match=r"^logits contains a non-finite value"):
        cross_entropy([0], logits=[[np.inf, 0.0]])
    with pytest.raises(ValueError, match=r"^y_prob is empty"):
        cross_entropy([], [])


# ------------------------------------------------------------ huge and tiny finite values
@pytest.mark.parametrize("scale", [1e200, 1e-300, 2.0 ** 600])
def test_regression_losses_are_scale_safe(scale):
    from mathrec.losses import half_sse

    a, b = np.array([4.0, 1.0, 5.0]), np.array([3.0, 3.0, 5.0])
    assert rmse(a * scale, b * scale) == pytest.approx(rmse(a, b) * scale, rel=1e-15, abs=0)
    assert mae(a * scale, b * scale) == pytest.approx(mae(a, b) * scale, rel=1e-15, abs=0)
    if scale > 1:  # the mean squared error itself exceeds float64's range
        with pytest.raises(ValueError, match="mean squared error of these values exceeds float64"):
            mse(a * scale, b * scale)
        with pytest.raises(ValueError, match="half sum of squared errors .* exceeds float64"):
            half_sse(a * scale, b * scale)


def test_rmse_of_values_near_the_float_limit():
    assert rmse([0.0, 0.0], [1e200, 1e200]) == 1e200
    assert rmse([1e308], [0.0]) == 1e308
    with pytest.raises(ValueError, match="root mean squared error of these values exceeds"):
        rmse([1e308], [-1e308])
    with pytest.raises(ValueError, match="mean absolute error of these values exceeds"):
        mae([1e308], [-1e308])


_ORDINARY = st.one_of(st.just(0.0), st.floats(1e-6, 10), st.floats(-10, -1e-6))


@given(arrays(np.float64, 5, elements=_ORDINARY), arrays(np.float64, 5, elements=_ORDINARY))
@settings(max_examples=50, deadline=None)
def test_ordinary_values_give_the_direct_formula_exactly(a, b):
    # (entries between 2**-400 and 2**400 in magnitude are not rescaled)
    assert rmse(a, b) == float(np.sqrt(np.mean((b - a) ** 2)))
    assert mse(a, b) == float(np.mean((b - a) ** 2))
    assert mae(a, b) == float(np.mean(np.abs(b - a)))
