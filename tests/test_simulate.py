"""Tests for mathrec.simulate: the Gini coefficient, coverage, the feedback-loop simulation."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mathrec.datasets import make_synthetic
from mathrec.simulate import RECOMMENDERS, coverage, gini, simulate_feedback_loop


# --------------------------------------------------------------------------- gini
def gini_pairwise(x):
    """The definition: half the relative mean absolute difference."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    return np.abs(x[:, None] - x[None, :]).sum() / (2 * n * n * x.mean())


def gini_lorenz(x):
    """Twice the area between the diagonal and the Lorenz curve (trapezoids)."""
    s = np.sort(np.asarray(x, dtype=float))
    n = len(s)
    L = np.concatenate([[0.0], np.cumsum(s) / s.sum()])
    area_under = np.sum((L[1:] + L[:-1]) / 2) / n
    return 1 - 2 * area_under


def test_gini_by_hand():
    # [1, 2, 3, 4]: sum of |x_i - x_j| over ordered pairs = 2 * (1+2+3+1+2+1) = 20;
    # G = 20 / (2 * 4^2 * 2.5) = 0.25
    assert gini([1, 2, 3, 4]) == pytest.approx(0.25)
    assert gini([4, 3, 2, 1]) == pytest.approx(0.25)  # order does not matter
    assert gini([0, 0, 0, 1]) == pytest.approx(0.75)  # one holds all: 1 - 1/n
    assert gini([5, 5, 5]) == 0.0
    assert gini([7]) == 0.0
    assert gini([0, 0]) == 0.0  # documented convention
    # [0, 1]: |0-1| * 2 / (2 * 4 * 0.5) = 0.5
    assert gini([0, 1]) == pytest.approx(0.5)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1e3, allow_nan=False), min_size=1, max_size=50).filter(lambda v: sum(v) > 1e-6))
def test_gini_matches_definition_and_lorenz(x):
    g = gini(x)
    assert g == pytest.approx(gini_pairwise(x), abs=1e-9)
    assert g == pytest.approx(gini_lorenz(x), abs=1e-9)
    assert 0 <= g <= 1 - 1 / len(x) + 1e-12


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 100), min_size=2, max_size=30).filter(lambda v: sum(v) > 0), st.floats(0.1, 100))
def test_gini_scale_invariant_and_adding_zeros_raises_it(x, c):
    assert gini(np.asarray(x) * c) == pytest.approx(gini(x), abs=1e-9)
    assert gini(list(x) + [0]) >= gini(x) - 1e-12  # an item never shown adds inequality


@pytest.mark.parametrize("bad, match", [([], "non-empty"), ([[1, 2]], "1-d"), ([1, -1], "non-negative"),
                                        ([1, np.nan], "finite"), ([np.inf], "finite")])
def test_gini_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        gini(bad)


def test_coverage_is_catalogue_coverage_of_one_list():
    from mathrec.metrics import catalogue_coverage

    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(1, 30))
        items = rng.integers(0, n, size=int(rng.integers(0, 40)))
        assert coverage(items, n) == catalogue_coverage([items.tolist()], n)
        assert coverage(items, n) == catalogue_coverage([items.tolist()], range(n))


def test_coverage():
    assert coverage([0, 1, 1, 3], 10) == 0.3
    assert coverage([], 5) == 0.0
    assert coverage(np.arange(5), 5) == 1.0
    with pytest.raises(ValueError, match="lie in"):
        coverage([5], 5)
    with pytest.raises(ValueError, match="n_items must be an integer >= 1, got 0"):
        coverage([0], 0)


# --------------------------------------------------------------------------- the loop
@pytest.fixture(scope="module")
def world():
    return make_synthetic(400, 300, 4000, random_state=0)


def run(world, **kw):
    data, truth = world
    kw.setdefault("n_rounds", 10)
    kw.setdefault("users_per_round", 150)
    kw.setdefault("random_state", 1)
    return simulate_feedback_loop(data, truth, **kw)


def test_history_and_bookkeeping(world):
    data, truth = world
    res = run(world)
    h = res.history
    assert h["round"].tolist() == list(range(11))
    assert h.loc[0, "n_ratings"] == len(data) and h.loc[0, "data_gini"] == pytest.approx(
        gini(np.bincount(data["item"], minlength=300)))
    assert res.exposure.shape == (11, 300) and res.exposure[0].sum() == 0
    # every visitor gets n_recs items while enough unseen items exist
    assert (res.exposure[1:].sum(axis=1) == 150 * 10).all()
    for t in range(1, 11):
        assert h.loc[t, "exposure_gini"] == pytest.approx(gini(res.exposure[t]))
        assert h.loc[t, "coverage"] == pytest.approx((res.exposure[t] > 0).mean())
    assert h["cumulative_coverage"].iloc[1:].is_monotonic_increasing
    assert h["n_ratings"].is_monotonic_increasing
    # the final data: initial rows first, then the collected ones; never a repeated pair
    final = res.ratings
    assert len(final) == h["n_ratings"].iloc[-1]
    pd.testing.assert_frame_equal(final.iloc[: len(data)][["user", "item", "rating"]],
                                  data[["user", "item", "rating"]].reset_index(drop=True), check_dtype=False)
    assert not final.duplicated(["user", "item"]).any()
    assert set(final["rating"]) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    # what was collected in a round was shown in that round
    for t in range(1, 11):
        got = np.bincount(final.loc[final["round"] == t, "item"], minlength=300)
        assert (got <= res.exposure[t]).all()


def test_deterministic(world):
    a, b = run(world, random_state=3), run(world, random_state=3)
    pd.testing.assert_frame_equal(a.history, b.history)
    pd.testing.assert_frame_equal(a.ratings, b.ratings)


def test_popularity_loop_concentrates_the_data(world):
    """The feedback loop: recommending the popular makes the data more unequal; random does not."""
    pop = run(world, recommender="popularity").history
    rnd = run(world, recommender="random").history
    assert pop["data_gini"].iloc[-1] > pop["data_gini"].iloc[0] + 0.05
    assert rnd["data_gini"].iloc[-1] < rnd["data_gini"].iloc[0] - 0.05
    assert pop["exposure_gini"].iloc[1:].min() > rnd["exposure_gini"].iloc[1:].max()
    assert pop["cumulative_coverage"].iloc[-1] < 0.5 < rnd["cumulative_coverage"].iloc[-1]


def test_exploration_widens_exposure(world):
    greedy = run(world, recommender="popularity").history
    explore = run(world, recommender="popularity", exploration=0.3).history
    assert explore["cumulative_coverage"].iloc[-1] > greedy["cumulative_coverage"].iloc[-1]
    assert explore["data_gini"].iloc[-1] < greedy["data_gini"].iloc[-1]


@pytest.mark.parametrize("name", sorted(RECOMMENDERS))
def test_every_recommender_runs(world, name):
    res = run(world, recommender=name, n_rounds=2)
    assert len(res.history) == 3 and not res.ratings.duplicated(["user", "item"]).any()


def test_item_mean_recommends_better_items_than_random(world):
    good = run(world, recommender="item_mean").history
    rnd = run(world, recommender="random").history
    assert good["mean_true_rating"].iloc[1:].mean() > rnd["mean_true_rating"].iloc[1:].mean()


def test_custom_scorer_and_exhaustion():
    data, truth = make_synthetic(20, 12, 40, random_state=0)

    def first_items(X, users, rng):  # prefers low item ids
        return np.broadcast_to(-np.arange(X.shape[1], dtype=float), (len(users), X.shape[1]))

    res = simulate_feedback_loop(data, truth, recommender=first_items, n_rounds=30, n_recs=5,
                                 click_threshold=-10, random_state=0)  # users accept everything
    # round 1: every user is shown their 5 lowest unseen ids
    seen = data.groupby("user")["item"].apply(set).to_dict()
    shown = np.zeros(12, dtype=int)
    for u in range(20):
        for i in [j for j in range(12) if j not in seen.get(u, set())][:5]:
            shown[i] += 1
    np.testing.assert_array_equal(res.exposure[1], shown)
    # eventually everybody has rated everything and nothing more can be shown
    assert len(res.ratings) == 20 * 12
    assert res.exposure[-1].sum() == 0


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(recommender="svd"), "recommender must be one of"),
        (dict(n_rounds=0), "n_rounds must be an integer >= 1, got 0"),
        (dict(n_recs=-1), "n_recs must be"),
        (dict(exploration=1.5), "exploration must be a finite real number >= 0 and <= 1"),
        (dict(users_per_round=10_000), r"users_per_round must be an integer >= 1 and <= 400, got 10000"),
        (dict(click_temperature=0), "click_temperature"),
    ],
)
def test_bad_arguments(world, kw, match):
    data, truth = world
    with pytest.raises(ValueError, match=match):
        simulate_feedback_loop(data, truth, **kw)


def test_ids_outside_truth(world):
    data, truth = world
    with pytest.raises(ValueError, match="item ids in \\[0, 300\\)"):
        simulate_feedback_loop(data.assign(item=data["item"] + 1000), truth)


# ------------------------------------------------------------ bad inputs
@pytest.mark.parametrize("scale", [1e308, 1e200, 1e-310])
def test_gini_is_scale_free_even_near_the_float_limits(scale):
    from mathrec.simulate import gini

    assert gini(np.array([1.0, 1.0, 0.0]) * scale) == pytest.approx(1 / 3, rel=1e-12)
    assert gini(np.array([1.0, 2.0, 3.0, 4.0]) * (scale / 4)) == pytest.approx(0.25, rel=1e-12)


def test_feedback_loop_refuses_fractional_ids():
    from mathrec.datasets import make_synthetic
    from mathrec.simulate import simulate_feedback_loop

    data, truth = make_synthetic(50, 30, 300, random_state=0)
    with pytest.raises(ValueError, match=r"ratings\['user'\] must hold integer ids .* hold \[0.5"):
        simulate_feedback_loop(data.assign(user=data.user + 0.5), truth, n_rounds=1, random_state=0)
    with pytest.raises(ValueError, match=r"ratings\['item'\] must hold integer ids"):
        simulate_feedback_loop(data.assign(item=data.item.astype(object).where(data.index > 0, "x")),
                               truth, n_rounds=1, random_state=0)
    # whole numbers stored as floats are fine, and give the same run
    a = simulate_feedback_loop(data.assign(user=data.user.astype(float)), truth, n_rounds=2, random_state=0)
    b = simulate_feedback_loop(data, truth, n_rounds=2, random_state=0)
    pd.testing.assert_frame_equal(a.history, b.history)


@pytest.mark.parametrize("kw, msg", [({"click_threshold": float("nan")}, "click_threshold must be a finite"),
                                     ({"exploration": float("nan")}, "exploration must be a finite"),
                                     ({"click_temperature": float("inf")}, "click_temperature must be a finite")])
def test_feedback_loop_refuses_nan_parameters(kw, msg):
    from mathrec.datasets import make_synthetic
    from mathrec.simulate import simulate_feedback_loop

    data, truth = make_synthetic(50, 30, 300, random_state=0)
    with pytest.raises(ValueError, match=msg):
        simulate_feedback_loop(data, truth, n_rounds=1, random_state=0, **kw)
