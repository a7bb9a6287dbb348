"""Every number of chapter 1 (notebooks/ch01_attention.ipynb, source section 1) asserted.

The simulation below repeats the chapter's cells with the same seeds, in the same order.
"""

import numpy as np
import pytest
from scipy.stats import kendalltau
from sklearn.metrics import dcg_score

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

R = np.array([0.6, 0.5, 0.4, 0.3, 0.2])
THETA = 1 / np.arange(1, 6)


# ------------------------------------------------------------ worked example
def test_worked_example_pbm():
    p = pbm_click_probabilities(R, THETA)
    np.testing.assert_allclose(p.round(4), [0.6, 0.25, 0.1333, 0.075, 0.04])
    assert round(p.sum(), 4) == 1.0983
    assert f"{p[0] / p.sum():.1%}" == "54.6%"


def test_worked_example_cascade():
    p = cascade_click_probabilities(R)
    np.testing.assert_allclose(p, [0.6, 0.2, 0.08, 0.036, 0.0168])
    np.testing.assert_allclose(p / R, [1, 0.4, 0.2, 0.12, 0.084])  # examined
    assert round(p.sum(), 4) == 0.9328 == round(1 - np.prod(1 - R), 4)
    assert f"{p[0] / p.sum():.1%}" == "64.3%"


def test_worked_example_reversed():
    p = pbm_click_probabilities(R[::-1], THETA)
    np.testing.assert_allclose(p.round(4), [0.2, 0.15, 0.1333, 0.125, 0.12])
    assert round(p.sum(), 4) == 0.7283
    change = p.sum() / expected_clicks(R, "pbm", THETA) - 1
    assert f"{change:+.1%}" == "-33.7%"  # "a third fewer clicks"
    assert round(expected_clicks(R[::-1], "cascade"), 4) == 0.9328


def test_dcg_is_expected_clicks_with_the_discount():
    d = dcg_discount(5)
    np.testing.assert_allclose(d.round(4), [1.0, 0.6309, 0.5, 0.4307, 0.3869])
    ours = expected_clicks(R, "pbm", d)
    assert round(ours, 4) == 1.322
    assert round(dcg_at_k(list("abcde"), dict(zip("abcde", R)), k=5), 4) == 1.322
    assert round(dcg_score([R], [[5, 4, 3, 2, 1]]), 4) == 1.322


def test_attention_curves_compared():
    d, t = dcg_discount(10), 1 / np.arange(1, 11)
    assert round(d[9] / d[0], 3) == 0.289  # "29%"
    assert round(t[9] / t[0], 3) == 0.1  # "10%"
    assert f"{d[:3].sum() / d.sum():.1%}" == "46.9%"
    assert f"{t[:3].sum() / t.sum():.1%}" == "62.6%"


def test_original_dcg_discount_of_jarvelin_and_kekalainen():
    # b = 2: ranks 1 and 2 undiscounted, then 1/log2 k, the standard discount moved down a rank
    k = np.arange(1, 11)
    jk = 1 / np.maximum(1, np.log2(k))
    d = dcg_discount(10)
    assert jk[0] == jk[1] == 1.0
    np.testing.assert_allclose(jk[1:], d[:-1])
    assert round(jk[9] / jk[0], 3) == 0.301  # "30%"
    assert f"{jk[:3].sum() / jk.sum():.1%}" == "50.1%"
    t = 1 / k
    assert f"{t[:3].sum() / t.sum():.1%}" == "62.6%"


# ------------------------------------------------------------ the simulation
@pytest.fixture(scope="module")
def sim():
    rng = np.random.default_rng(2026)
    n_items = n_positions = 10
    relevance = rng.permutation(np.round(np.linspace(0.55, 0.10, n_items), 2))
    theta_true = 1 / np.arange(1, n_positions + 1)
    ranker_error = rng.normal(0, 0.15, n_items)
    n_sessions = 50_000
    scores = (relevance + ranker_error)[None, :] + rng.normal(0, 0.1, (n_sessions, n_items))
    rankings = np.argsort(-scores, axis=1)
    clicks = simulate_clicks(rankings, relevance, "pbm", theta_true, random_state=rng)
    shuffled = randomized_rankings(np.arange(n_items), 5_000, random_state=rng)
    shuffled_clicks = simulate_clicks(shuffled, relevance, "pbm", theta_true, random_state=rng)
    return dict(relevance=relevance, theta=theta_true, rankings=rankings, clicks=clicks,
                shuffled_clicks=shuffled_clicks, n_sessions=n_sessions)


def test_simulated_rates_match_the_model(sim):
    ctr = ctr_by_position(sim["clicks"])
    expected = pbm_click_probabilities(sim["relevance"][sim["rankings"]], sim["theta"]).mean(axis=0)
    z = np.max(np.abs(ctr - expected) / np.sqrt(expected * (1 - expected) / sim["n_sessions"]))
    assert round(z, 2) == 1.17
    share = sim["clicks"][:, :3].sum() / sim["clicks"].sum()
    assert f"{share:.1%}" == "73.1%"  # "most of the clicks"


def test_randomised_estimate(sim):
    est, se = estimate_examination_randomized(sim["shuffled_clicks"])
    assert round(np.max(np.abs(est - sim["theta"])[1:] / se[1:]), 2) == 1.63


@pytest.fixture(scope="module")
def em(sim):
    return PositionBasedModel().fit(sim["rankings"], sim["clicks"])


def test_em_estimate(sim, em):
    # the likelihood never decreases, and theta is reported relative to rank 1
    assert np.all(np.diff(em.log_likelihood_) >= -1e-12)
    assert em.examination_[0] == 1.0
    assert round(np.max(np.abs(em.examination_ - sim["theta"])), 4) == 0.0044
    c = em.examination_
    assert round(c[9] / c[0], 3) == 0.1
    assert f"{c[:3].sum() / c.sum():.1%}" == "62.5%"


def test_naive_ctr_vs_ipw(sim, em):
    rel = sim["relevance"]
    naive = naive_ctr(sim["rankings"], sim["clicks"], 10)
    ipw = ipw_relevance(sim["rankings"], sim["clicks"], em.examination_, 10)
    assert round(np.mean(np.abs(naive - rel)), 4) == 0.2073
    assert round(np.mean(np.abs(ipw - rel)), 4) == 0.0041
    assert round(kendalltau(rel, naive).statistic, 4) == 0.9111
    assert round(kendalltau(rel, ipw).statistic, 4) == 1.0
    # item 5 (0.40) over-rated by the ranker, beats item 7 (0.45) on naive CTR
    mean_rank = (np.argsort(sim["rankings"], axis=1) + 1).mean(axis=0)
    assert (rel[5], rel[7]) == (0.40, 0.45)
    assert (round(mean_rank[5], 1), round(mean_rank[7], 1)) == (2.7, 3.4)
    assert (round(naive[5], 3), round(naive[7], 3)) == (0.208, 0.185)


# ------------------------------------------------------------ exercises
def test_exercise_cascade_order():
    ranks = np.arange(1, 6)
    out = []
    for lst in (R, R[::-1]):
        p = cascade_click_probabilities(lst)
        assert round(p.sum(), 4) == 0.9328
        out.append(round((ranks * p).sum() / p.sum(), 4))
    assert out == [1.5738, 2.7101]


def test_exercise_ipw_variance():
    r = 0.3
    var = lambda th: r / th - r**2  # noqa: E731
    assert round(var(1.0), 4) == 0.21
    assert round(var(0.1), 4) == 2.91
    assert round(var(0.1) / var(1.0), 2) == 13.86
    # the formula agrees with simulation
    c = np.random.default_rng(0).random(200_000) < 0.1 * r
    assert abs(np.var(c / 0.1) - var(0.1)) < 0.05


def test_exercise_fixed_order_is_not_identified(sim):
    fixed = np.tile(np.arange(10), (20_000, 1))
    fixed_clicks = simulate_clicks(fixed, sim["relevance"], "pbm", sim["theta"], random_state=1)
    fit = PositionBasedModel().fit(fixed, fixed_clicks)
    assert np.max(np.abs(fit.examination_ - sim["theta"])) > 0.3
    assert np.allclose(fit.examination_ * fit.relevance_, ctr_by_position(fixed_clicks), atol=1e-3)
    assert np.all((fit.relevance_ > 0) & (fit.relevance_ <= 1))


def test_cascade_simulation_of_the_worked_example():
    reached_rank3, zs = [], []
    for order in (np.arange(5), np.arange(5)[::-1]):
        shown = np.tile(order, (20_000, 1))
        cc = simulate_clicks(shown, R, "cascade", random_state=7)
        no_click_before = 1 - np.cumsum(cc, axis=1)[:, :-1]
        reached = np.concatenate([np.ones((len(cc), 1)), no_click_before], axis=1).mean(axis=0)
        p = cascade_click_probabilities(R[order])
        zs.append(round(np.max(np.abs(ctr_by_position(cc) - p) / np.sqrt(p * (1 - p) / len(cc))), 2))
        reached_rank3.append(f"{reached[2]:.1%}")
    assert zs == [2.09, 2.71] and max(zs) < 3  # "within three standard errors"
    assert reached_rank3 == ["20.5%", "56.5%"]
