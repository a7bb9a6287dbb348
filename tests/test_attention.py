"""Tests of mathrec.attention: click models, examination estimates, IPW."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import dcg_score

import mathrec
from mathrec.attention import (
    PositionBasedModel,
    cascade_click_probabilities,
    ctr_by_position,
    dcg_discount,
    estimate_examination_randomized,
    expected_clicks,
    ipw_relevance,
    naive_ctr,
    pbm_click_probabilities,
    randomized_rankings,
    simulate_clicks,
)
from mathrec.metrics import dcg_at_k

probs = arrays(float, st.integers(1, 12), elements=st.floats(0, 1))


# --------------------------------------------------------------- hand-computed
def test_pbm_by_hand():
    p = pbm_click_probabilities([0.6, 0.5, 0.4, 0.3, 0.2], [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
    np.testing.assert_allclose(p, [0.6, 0.25, 0.4 / 3, 0.075, 0.04])


def test_pbm_ignores_extra_examination_entries_and_broadcasts_rows():
    p = pbm_click_probabilities([[0.5, 0.5], [1.0, 0.0]], [0.8, 0.4, 0.1])
    np.testing.assert_allclose(p, [[0.4, 0.2], [0.8, 0.0]])


def test_cascade_by_hand():
    p = cascade_click_probabilities([0.6, 0.5, 0.4, 0.3, 0.2])
    # 0.6; 0.4*0.5; 0.4*0.5*0.4; 0.4*0.5*0.6*0.3; 0.4*0.5*0.6*0.7*0.2
    np.testing.assert_allclose(p, [0.6, 0.2, 0.08, 0.036, 0.0168])


def test_cascade_stops_after_a_sure_click():
    np.testing.assert_allclose(cascade_click_probabilities([0.2, 1.0, 0.9]), [0.2, 0.8, 0.0])


@given(probs)
@settings(max_examples=50, deadline=None)
def test_cascade_total_is_probability_of_any_click(r):
    assert math.isclose(expected_clicks(r, "cascade"), 1 - np.prod(1 - r), abs_tol=1e-12)
    assert np.all(cascade_click_probabilities(r) <= r + 1e-15)


@given(probs)
@settings(max_examples=50, deadline=None)
def test_pbm_sorted_list_maximises_expected_clicks(r):
    theta = dcg_discount(r.size)
    best = expected_clicks(np.sort(r)[::-1], "pbm", theta)
    assert expected_clicks(r, "pbm", theta) <= best + 1e-12


def test_expected_clicks_by_hand_and_rows():
    theta = [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5]
    r = [0.6, 0.5, 0.4, 0.3, 0.2]
    assert math.isclose(expected_clicks(r, "pbm", theta), 0.6 + 0.25 + 0.4 / 3 + 0.075 + 0.04)
    assert math.isclose(expected_clicks(r, "cascade"), 1 - 0.4 * 0.5 * 0.6 * 0.7 * 0.8)
    rows = expected_clicks([r, r[::-1]], "pbm", theta)
    assert rows.shape == (2,) and rows[0] > rows[1]


# ------------------------------------------------------------------ DCG link
def test_dcg_discount_values():
    np.testing.assert_allclose(dcg_discount(3), [1.0, 1 / math.log2(3), 0.5])


@pytest.mark.parametrize("seed", range(5))
def test_pbm_with_dcg_discount_is_dcg(seed):
    rng = np.random.default_rng(seed)
    gains = rng.random(8)
    order = rng.permutation(8)
    ranked = gains[order]
    ours = expected_clicks(ranked, "pbm", dcg_discount(8))
    items = [f"i{j}" for j in order]
    metric = dcg_at_k(items, {f"i{j}": gains[j] for j in range(8)}, k=8)
    # scikit-learn: scores that put the items in `order`
    scores = np.empty(8)
    scores[order] = np.arange(8, 0, -1)
    sk = dcg_score(gains[None, :], scores[None, :])
    assert math.isclose(ours, metric, rel_tol=1e-12)
    assert math.isclose(ours, sk, rel_tol=1e-12)


# ------------------------------------------------------------------ simulation
@pytest.mark.parametrize("model", ["pbm", "cascade"])
def test_simulated_click_rates_converge_to_model(model):
    rel = np.array([0.7, 0.5, 0.3, 0.2, 0.1])
    theta = np.array([1.0, 0.6, 0.4, 0.3, 0.2])
    n = 40_000
    rankings = np.tile(np.arange(5), (n, 1))
    ex = theta if model == "pbm" else None
    clicks = simulate_clicks(rankings, rel, model, ex, random_state=1)
    p = pbm_click_probabilities(rel, theta) if model == "pbm" else cascade_click_probabilities(rel)
    se = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(ctr_by_position(clicks) - p) < 4 * se)
    if model == "cascade":
        assert clicks.sum(axis=1).max() == 1


def test_simulation_is_seeded():
    rk = randomized_rankings(np.arange(4), 50, random_state=3)
    a = simulate_clicks(rk, [0.5] * 4, "pbm", [1, 0.5, 0.3, 0.2], random_state=7)
    b = simulate_clicks(rk, [0.5] * 4, "pbm", [1, 0.5, 0.3, 0.2], random_state=7)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(rk, randomized_rankings(np.arange(4), 50, random_state=3))


def test_randomized_rankings_are_uniform():
    rk = randomized_rankings([0, 1, 2], 30_000, random_state=0)
    freq = (rk == 0).mean(axis=0)  # how often item 0 sits at each rank
    se = math.sqrt((1 / 3) * (2 / 3) / 30_000)
    assert np.all(np.abs(freq - 1 / 3) < 4 * se)


# ------------------------------------------------------------------ estimation
@pytest.fixture(scope="module")
def randomized_log():
    rng = np.random.default_rng(42)
    rel = np.array([0.9, 0.7, 0.5, 0.4, 0.3, 0.2])
    theta = np.array([1.0, 0.62, 0.45, 0.33, 0.25, 0.2])
    rk = randomized_rankings(np.arange(6), 60_000, random_state=rng)
    clicks = simulate_clicks(rk, rel, "pbm", theta, random_state=rng)
    return rk, clicks, rel, theta


def test_randomized_estimate_recovers_theta(randomized_log):
    _, clicks, _, theta = randomized_log
    est, se = estimate_examination_randomized(clicks)
    assert est[0] == 1.0 and se[0] == 0.0
    assert np.all(np.abs(est - theta) < 4 * se + 1e-12)
    assert np.all(se[1:] < 0.02)


def test_em_recovers_theta(randomized_log):
    rk, clicks, rel, theta = randomized_log
    m = PositionBasedModel().fit(rk, clicks)
    # stated tolerance: 0.03 absolute on every rank and relevance (60,000 sessions)
    np.testing.assert_allclose(m.examination_, theta, atol=0.03)
    np.testing.assert_allclose(m.relevance_, rel, atol=0.03)
    ll = np.array(m.log_likelihood_)
    assert np.all(np.diff(ll) >= -1e-12)
    assert 1 <= m.n_iter_ <= 500


def test_em_on_logged_rankings_with_natural_variation():
    rng = np.random.default_rng(5)
    rel = np.linspace(0.8, 0.1, 8)
    theta = 1 / np.arange(1, 9)
    score = rel[None, :] + rng.normal(0, 0.25, (40_000, 8))
    rk = np.argsort(-score, axis=1)
    clicks = simulate_clicks(rk, rel, "pbm", theta, random_state=rng)
    m = PositionBasedModel().fit(rk, clicks)
    np.testing.assert_allclose(m.examination_, theta, atol=0.05)


def test_em_unnormalised_and_unseen_items():
    rk = randomized_rankings([0, 2], 2000, random_state=0)
    clicks = simulate_clicks(rk, [0.6, 0.0, 0.3], "pbm", [0.9, 0.5], random_state=0)
    m = PositionBasedModel(normalize=False).fit(rk, clicks, n_items=3)
    assert np.isnan(m.relevance_[1]) and not np.isnan(m.relevance_[[0, 2]]).any()
    assert 0 < m.examination_[0] < 1


# ------------------------------------------------------------------ IPW
def test_ipw_is_unbiased_where_naive_ctr_is_not():
    rng = np.random.default_rng(11)
    n_items, n_pos, n = 10, 10, 50_000
    rel = rng.uniform(0.1, 0.9, n_items)
    theta = 1 / np.arange(1, n_pos + 1)
    score = rel[None, :] + rng.normal(0, 0.3, (n, n_items))
    rk = np.argsort(-score, axis=1)[:, :n_pos]
    clicks = simulate_clicks(rk, rel, "pbm", theta, random_state=rng)
    naive = naive_ctr(rk, clicks, n_items)
    ipw = ipw_relevance(rk, clicks, theta, n_items)
    # IPW: each item within 4 standard errors of the truth
    w = (clicks / theta)
    per_item_var = np.array([np.var(w[rk == i]) / (rk == i).sum() for i in range(n_items)])
    assert np.all(np.abs(ipw - rel) < 4 * np.sqrt(per_item_var))
    # naive CTR is far off (it is theta-bar * r, below r for every item)
    assert np.all(naive < rel)
    assert np.max(np.abs(naive - rel)) > 0.2
    assert np.mean(np.abs(ipw - rel)) < 0.2 * np.mean(np.abs(naive - rel))


def test_ipw_and_naive_by_hand():
    rk = [[0, 1], [1, 0]]
    c = [[1, 0], [1, 1]]
    np.testing.assert_allclose(naive_ctr(rk, c), [1.0, 0.5])
    np.testing.assert_allclose(ipw_relevance(rk, c, [1.0, 0.5]), [1.5, 0.5])
    out = naive_ctr(rk, c, n_items=3)
    assert np.isnan(out[2])


# ------------------------------------------------------------------ edge cases
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: pbm_click_probabilities([], [1.0]), "relevance is empty"),
        (lambda: cascade_click_probabilities([]), "relevance is empty"),
        (lambda: pbm_click_probabilities([0.5, 1.2], [1, 1]), r"relevance must hold probabilities in \[0, 1\]; got \[1.2\]"),
        (lambda: pbm_click_probabilities([0.5, -0.1], [1, 1]), "relevance must hold probabilities"),
        (lambda: pbm_click_probabilities([0.5, 0.5], [1, 2]), "examination must hold probabilities"),
        (lambda: cascade_click_probabilities([0.5, np.nan]), "relevance contains NaN"),
        (lambda: pbm_click_probabilities([0.5, 0.5], [np.nan, 1]), "examination contains NaN"),
        (lambda: pbm_click_probabilities([0.5, 0.5, 0.5], [1, 0.5]), "examination has 2 positions but the rankings have 3"),
        (lambda: pbm_click_probabilities(np.zeros((2, 2, 2)), [1, 1]), "relevance must be 1-D or 2-D"),
        (lambda: expected_clicks([0.5], "dbn"), "model must be one of"),
        (lambda: expected_clicks([0.5], "pbm"), "needs examination"),
        (lambda: expected_clicks([0.5], "cascade", [1.0]), "takes no examination"),
        (lambda: simulate_clicks([[0, 3]], [0.5, 0.5], "cascade"), r"rankings must hold item indices >= 0 and < 2; got \[3\]"),
        (lambda: simulate_clicks([[0, -1]], [0.5, 0.5], "cascade"), "rankings must hold item indices"),
        (lambda: simulate_clicks([[0.5, 1]], [0.5, 0.5], "cascade"), "integer item indices"),
        (lambda: simulate_clicks(np.zeros((0, 2), int), [0.5], "cascade"), "rankings is empty"),
        (lambda: naive_ctr([[0, 1]], [[1, 0, 0]]), r"clicks must have the shape of rankings \(1, 2\)"),
        (lambda: naive_ctr([[0, 1]], [[1, 2]]), "clicks must hold only 0 and 1"),
        (lambda: naive_ctr([[0, 1]], [[1, np.nan]]), "clicks must hold only 0 and 1"),
        (lambda: naive_ctr([[0, 1]], [[1, 0]], n_items=1), "item indices >= 0 and < 1"),
        (lambda: ipw_relevance([[0, 1]], [[1, 0]], [1.0, 0.0]), "examination must be > 0"),
        (lambda: ipw_relevance([[0, 1]], [[1, 0]], [1.0]), "examination has 1 positions"),
        (lambda: estimate_examination_randomized([[0, 1], [0, 0]]), "no click at rank 1"),
        (lambda: randomized_rankings([[0, 1], [1, 0]], 3), "items must be 1-D"),
        (lambda: PositionBasedModel(tol=-1).fit([[0, 1]], [[1, 0]]), "tol must be"),
    ],
)
def test_errors_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: dcg_discount(0), "n_positions must be an integer >= 1"),
        (lambda: randomized_rankings([0, 1], 0), "n_sessions must be an integer >= 1"),
        (lambda: PositionBasedModel(max_iter=0).fit([[0, 1]], [[1, 0]]), "max_iter"),
    ],
)
def test_count_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_top_level_names():
    assert mathrec.expected_clicks is expected_clicks
    assert mathrec.PositionBasedModel is PositionBasedModel


def test_em_reaches_the_maximum_likelihood_of_scipy():
    """Cross-check: EM's optimum equals a direct L-BFGS-B maximisation of the PBM likelihood."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(3)
    rel = np.array([0.7, 0.45, 0.3, 0.15])
    theta = np.array([1.0, 0.55, 0.35])
    rk = np.array([rng.permutation(4)[:3] for _ in range(6000)])
    clicks = simulate_clicks(rk, rel, "pbm", theta, random_state=rng)
    pos = np.broadcast_to(np.arange(3), rk.shape).ravel()
    item, c = rk.ravel(), clicks.ravel().astype(float)

    def nll(x):  # theta_1 fixed at 1 (the scale is not identified)
        t = np.concatenate([[1.0], x[:2]])
        p = t[pos] * x[2:][item]
        return -np.mean(c * np.log(p) + (1 - c) * np.log1p(-p))

    res = minimize(nll, np.full(6, 0.5), method="L-BFGS-B", bounds=[(1e-6, 1 - 1e-6)] * 6)
    m = PositionBasedModel(tol=1e-12, max_iter=5000).fit(rk, clicks)
    assert m.log_likelihood_[-1] >= -res.fun - 1e-6
    np.testing.assert_allclose(m.examination_[1:], res.x[:2], atol=2e-3)
    np.testing.assert_allclose(m.relevance_, res.x[2:], atol=2e-3)


def test_simulate_pbm_needs_examination():
    with pytest.raises(ValueError, match="needs examination"):
        simulate_clicks([[0, 1]], [0.5, 0.5], "pbm")
    with pytest.raises(ValueError, match="takes no examination"):
        simulate_clicks([[0, 1]], [0.5, 0.5], "cascade", [1.0, 0.5])


@given(probs, st.data())
@settings(max_examples=50, deadline=None)
def test_pbm_probabilities_are_bounded_by_both_factors(r, data):
    theta = data.draw(arrays(float, r.size, elements=st.floats(0, 1)))
    p = pbm_click_probabilities(r, theta)
    assert np.all(p <= r) and np.all(p <= theta) and np.all(p >= 0)


def test_position_based_model_follows_sklearn_conventions():
    from sklearn.base import clone

    m = PositionBasedModel(max_iter=50, tol=1e-6, normalize=False)
    assert m.get_params() == {"max_iter": 50, "tol": 1e-6, "normalize": False}
    c = clone(m)
    assert c is not m and c.get_params() == m.get_params()
    assert repr(m) == "PositionBasedModel(max_iter=50, tol=1e-06, normalize=False)"
    assert m.set_params(max_iter=10) is m and m.max_iter == 10
    with pytest.raises(ValueError, match="invalid parameter 'alpha'"):
        m.set_params(alpha=1)
    assert not hasattr(m, "examination_")  # nothing learnt before fit


def test_predict_proba(randomized_log):
    rk, clicks, rel, theta = randomized_log
    with pytest.raises(mathrec.NotFittedError, match="not fitted"):
        PositionBasedModel().predict_proba(rk[:2])
    m = PositionBasedModel().fit(rk, clicks)
    p = m.predict_proba(rk[:100])
    np.testing.assert_allclose(p, theta[None, :] * rel[rk[:100]], atol=0.03)
    with pytest.raises(ValueError, match="positions but the model was fitted on 6"):
        m.predict_proba(np.zeros((1, 7), dtype=int))
    m2 = PositionBasedModel().fit([[0, 1]], [[1, 0]], n_items=3)
    with pytest.raises(ValueError, match="never appeared"):
        m2.predict_proba([[2, 0]])
