"""Tests of mathrec.privacy: the Laplace mechanism and randomised response."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mathrec.privacy import (laplace_mechanism, private_item_counts, private_item_means,
                             randomized_response, rr_estimate, rr_probability)


@pytest.mark.parametrize("sensitivity, epsilon", [(1.0, 1.0), (1.0, 0.1), (2.25, 0.5)])
def test_laplace_noise_has_scale_sensitivity_over_epsilon(sensitivity, epsilon):
    n = 200_000
    noise = laplace_mechanism(np.zeros(n), sensitivity, epsilon, random_state=0)
    b = sensitivity / epsilon
    # variance 2 b^2; the sample variance of n Laplace draws has sd ~ b^2 sqrt(20 / n)
    assert noise.var() == pytest.approx(2 * b * b, rel=6 * np.sqrt(20 / n))
    assert abs(noise.mean()) < 6 * b * np.sqrt(2 / n)
    assert np.mean(np.abs(noise)) == pytest.approx(b, rel=0.02)  # E|Y| = b
    assert stats.kstest(noise, stats.laplace(scale=b).cdf).pvalue > 1e-3


def test_laplace_is_seeded_and_keeps_shape():
    a = laplace_mechanism(np.ones((3, 4)), 1, 1.0, random_state=5)
    assert a.shape == (3, 4)
    np.testing.assert_array_equal(a, laplace_mechanism(np.ones((3, 4)), 1, 1.0, random_state=5))


def test_laplace_density_ratio_bounded_by_e_to_epsilon():
    # neighbouring counts 10 and 11 (sensitivity 1): the output densities differ by at most e^eps
    eps = 0.7
    z = np.linspace(-5, 25, 301)
    d = stats.laplace(loc=10, scale=1 / eps).pdf(z) / stats.laplace(loc=11, scale=1 / eps).pdf(z)
    assert d.max() == pytest.approx(np.exp(eps)) and d.min() == pytest.approx(np.exp(-eps))


@pytest.mark.parametrize("eps, error", [(0, ValueError), (-1, ValueError), (np.inf, ValueError),
                                        (np.nan, ValueError), (True, TypeError), ("1", TypeError)])
def test_bad_epsilon(eps, error):
    with pytest.raises(error, match="epsilon must be a finite real number > 0, got"):
        laplace_mechanism([1.0], 1.0, eps)
    with pytest.raises(error, match="epsilon must be a finite real number > 0, got"):
        randomized_response([1], eps)


def test_bad_sensitivity_and_values():
    with pytest.raises(ValueError, match="sensitivity"):
        laplace_mechanism([1.0], 0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        laplace_mechanism([np.nan], 1, 1.0)


def test_private_item_counts_are_counts_plus_laplace():
    df = pd.DataFrame({"user": [1, 2, 2, 3], "item": ["a", "a", "b", "a"], "rating": 4.0})
    out = private_item_counts(df, epsilon=0.5, catalogue=["a", "b", "c"], random_state=3)
    noise = np.random.default_rng(3).laplace(0, 2.0, size=3)
    np.testing.assert_allclose(out.to_numpy(), np.array([3.0, 1.0, 0.0]) + noise)
    assert out.index.tolist() == ["a", "b", "c"]  # the catalogue, zero counts included


def test_private_item_counts_keys_do_not_depend_on_the_data():
    # removing the only rating of "b" must not remove "b" from the release
    cat = ["c", "b", "a", "d"]
    df = pd.DataFrame({"user": [1, 2, 2, 3], "item": ["a", "a", "b", "c"], "rating": 4.0})
    without_b = df[df["item"] != "b"]
    full = private_item_counts(df, 1.0, catalogue=cat, random_state=0)
    less = private_item_counts(without_b, 1.0, catalogue=cat, random_state=0)
    assert full.index.tolist() == less.index.tolist() == cat
    # same seed, same noise: the two releases differ only in the count of "b", by 1
    np.testing.assert_allclose((full - less).to_numpy(), [0.0, 1.0, 0.0, 0.0])
    m_full = private_item_means(df, 1.0, catalogue=cat, random_state=0)
    m_less = private_item_means(without_b, 1.0, catalogue=cat, random_state=0)
    assert m_full.index.tolist() == m_less.index.tolist() == cat
    assert np.isnan(m_less.loc["b", "true_mean"]) and np.isnan(m_full.loc["d", "true_mean"])
    assert m_less["mean"].between(0.5, 5.0).all()


def test_private_releases_reject_a_bad_catalogue():
    df = pd.DataFrame({"user": [1, 2], "item": ["a", "zz"], "rating": 4.0})
    for f in (private_item_counts, private_item_means):
        with pytest.raises(ValueError, match=r"not in the catalogue.*'zz'"):
            f(df, 1.0, catalogue=["a", "b"])
        with pytest.raises(ValueError, match="repeat"):
            f(df, 1.0, catalogue=["a", "zz", "a"])
        with pytest.raises(ValueError, match="empty"):
            f(df, 1.0, catalogue=[])
        with pytest.raises(TypeError, match="catalogue"):
            f(df, 1.0, catalogue=None)
        with pytest.raises(TypeError, match="catalogue"):
            f(df, 1.0)
        with pytest.raises(ValueError, match="epsilon"):
            f(df, 0.0, catalogue=["a", "zz"])


def test_private_item_means_unbiased_sum_and_clipping(rng):
    df = pd.DataFrame({"user": np.arange(5000), "item": 0, "rating": rng.choice([1.0, 3.0, 5.0], 5000)})
    out = private_item_means(df, epsilon=1.0, catalogue=[0], random_state=1)
    assert out["true_mean"].iloc[0] == pytest.approx(df.rating.mean())
    assert abs(out["mean"].iloc[0] - df.rating.mean()) < 0.01
    # a wild rating is clipped into [lower, upper] before summing
    wild = pd.DataFrame({"user": [1, 2], "item": [0, 0], "rating": [1e9, 5.0]})
    assert 0.5 <= private_item_means(wild, 1.0, catalogue=[0], random_state=0)["mean"].iloc[0] <= 5.0
    with pytest.raises(ValueError, match="lower"):
        private_item_means(df, 1.0, catalogue=[0], lower=5, upper=1)


def test_private_item_means_noise_scale():
    # one item, 1 rating; count noise: scale 1 / (eps / 2) = 2 for eps = 1
    df = pd.DataFrame({"user": [0], "item": [0], "rating": [2.75]})
    rng = np.random.default_rng(0)
    counts = []
    for _ in range(4000):
        counts.append(private_item_means(df, 1.0, catalogue=[0], random_state=rng)["count"].iloc[0])
    assert np.var(counts) == pytest.approx(2 * 2.0 ** 2, rel=0.15)


def test_private_item_means_sum_noise_scale():
    # a catalogue item nobody rated: noisy mean = clip(c + Y / max(1 + Z, 1)); with the count
    # noise set aside, the centred-sum noise has scale ((5 - 0.5) / 2) / (eps / 2) = 4.5 for eps = 1
    df = pd.DataFrame({"user": [0], "item": ["rated"], "rating": [4.0]})
    out = private_item_means(df, 1.0, catalogue=["rated", "empty"], random_state=7)
    rng = np.random.default_rng(7)
    y = rng.laplace(0, 4.5, size=2)
    z = rng.laplace(0, 2.0, size=2)
    expect = np.clip(2.75 + (np.array([1.25, 0.0]) + y) / np.maximum(np.array([1.0, 0.0]) + z, 1.0), 0.5, 5.0)
    np.testing.assert_allclose(out["mean"].to_numpy(), expect)
    np.testing.assert_allclose(out["count"].to_numpy(), [1.0, 0.0] + z)


def test_rr_probability():
    assert rr_probability(np.log(3)) == pytest.approx(0.75)


def test_randomized_response_flip_rate():
    x = np.zeros(100_000, dtype=bool)
    y = randomized_response(x, np.log(3), random_state=0)
    assert y.mean() == pytest.approx(0.25, abs=0.005)
    assert randomized_response(np.ones((2, 3)), 1.0, random_state=0).shape == (2, 3)
    with pytest.raises(ValueError, match="0/1"):
        randomized_response([2], 1.0)


@pytest.mark.parametrize("eps", [0.5, 1.0, 3.0])
def test_rr_estimator_is_unbiased(eps):
    pi = 0.12
    truth = np.zeros(2000, dtype=bool)
    truth[: int(pi * 2000)] = True
    rng = np.random.default_rng(42)
    ests = np.array([rr_estimate(randomized_response(truth, eps, random_state=rng), eps) for _ in range(400)])
    p = rr_probability(eps)
    sd = np.sqrt(p * (1 - p) / 2000) / (2 * p - 1)  # of one estimate, truth fixed
    assert ests.std() == pytest.approx(sd, rel=0.15)
    assert abs(ests.mean() - pi) < 5 * sd / np.sqrt(400)


def test_rr_estimate_by_hand_and_axis():
    # p = 0.75: reported share 0.5 -> (0.5 - 0.25) / 0.5 = 0.5
    assert rr_estimate([1, 0, 1, 0], np.log(3)) == pytest.approx(0.5)
    est = rr_estimate(np.array([[1, 0], [1, 0]]), np.log(3), axis=0)
    np.testing.assert_allclose(est, [1.5, -0.5])  # unbiased, hence not clipped to [0, 1]
    with pytest.raises(ValueError, match="empty"):
        rr_estimate([], 1.0)


# ------------------------------------------------------------ tiny budgets
@pytest.mark.parametrize("eps", [1e-300, 1e-200, 5e-324])
def test_rr_estimate_refuses_a_budget_without_signal(eps):
    with pytest.raises(ValueError, match="epsilon must be >= about 2e-150 for rr_estimate"):
        rr_estimate([1, 0, 1], eps)


@pytest.mark.parametrize("eps", [1e-17, 1e-100, 1e-149])
def test_rr_estimate_is_exact_where_p_rounds_to_one_half(eps):
    # 2p - 1 = tanh(eps / 2) ~ eps / 2: (2/3 - 1/2) / (eps/2) + 1/2
    assert rr_estimate([1, 0, 1], eps) == pytest.approx((1 / 6) / (eps / 2) + 0.5, rel=1e-12)


def test_rr_estimate_agrees_with_the_textbook_formula(rng):
    y = rng.random((50, 4)) < 0.6
    for eps in (0.1, 1.0, 3.0):
        p = rr_probability(eps)
        np.testing.assert_allclose(rr_estimate(y, eps, axis=0),
                                   (y.mean(axis=0) - (1 - p)) / (2 * p - 1), rtol=1e-12)


def test_laplace_noise_that_overflows_is_an_error():
    with pytest.raises(ValueError, match="noise scale b = sensitivity / epsilon = inf is too large"):
        laplace_mechanism([1.0, 2.0], 1.0, 1e-320, random_state=0)
