"""Tests for mathrec.incremental: ALS fold-in and online SGD updates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mathrec
import scipy.sparse as sp

from mathrec.data import UnknownItemError, UnknownUserError
from mathrec.factorization import ALS, BiasedMF, _als_half_step
from mathrec.incremental import IncrementalALS, OnlineMF, fold_in_users


def _random_ratings(seed, n_users=30, n_items=25, density=0.3):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    mask[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    u, i = np.nonzero(mask)
    r = rng.integers(1, 6, len(u)).astype(float)
    return pd.DataFrame({"user": u, "item": i, "rating": r})


def _normal_equations(model, items, ratings):
    """p_u from the normal equations, solved directly with numpy.linalg.solve."""
    Q = model.item_factors_[np.asarray(model.interactions_.item_index(list(items)))]
    k = Q.shape[1]
    w = len(items) if model.reg_mode == "weighted" else 1.0
    A = Q.T @ Q + model.regularization * w * np.eye(k)
    b = Q.T @ (np.asarray(ratings, dtype=float) - model.global_mean_)
    return np.linalg.solve(A, b)


@pytest.mark.parametrize("reg", ["weighted", "plain"])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fold_in_solves_normal_equations(reg, center, seed):
    df = _random_ratings(seed)
    als = ALS(n_factors=4, n_iter=5, regularization=0.1, reg_mode=reg, center=center,
              random_state=seed).fit(df)
    rng = np.random.default_rng(100 + seed)
    items = rng.choice(25, size=6, replace=False)
    ratings = rng.integers(1, 6, 6).astype(float)
    new = pd.DataFrame({"user": ["new"] * 6, "item": items, "rating": ratings})
    users, P = fold_in_users(als, new)
    assert users.tolist() == ["new"]
    np.testing.assert_allclose(P[0], _normal_equations(als, items, ratings), rtol=1e-10, atol=1e-12)
    # the gradient of the user's objective vanishes there
    Q = als.item_factors_[items]
    w = 6 if reg == "weighted" else 1
    grad = -Q.T @ (ratings - als.global_mean_ - Q @ P[0]) + als.regularization * w * P[0]
    np.testing.assert_allclose(grad, 0.0, atol=1e-10)


def test_fold_in_equals_full_user_sweep_with_q_fixed():
    """A new user's fold-in is the row a user sweep over train + new user would give."""
    df = _random_ratings(3)
    als = ALS(n_factors=3, n_iter=4, regularization=0.05, random_state=0).fit(df)
    new = pd.DataFrame({"user": [99, 99, 99, 98, 98], "item": [0, 5, 7, 2, 3],
                        "rating": [4.0, 2.0, 5.0, 1.0, 3.0]})
    users, P = fold_in_users(als, new)
    both = pd.concat([df, new], ignore_index=True)
    m = both.user.max() + 1
    R = sp.csr_matrix((both.rating - als.global_mean_, (both.user, both.item)),
                      shape=(m, als.item_factors_.shape[0]))
    R.sort_indices()
    out = np.zeros((m, 3))
    _als_half_step(R, als.item_factors_, als.regularization, True, out)
    np.testing.assert_allclose(P, out[[98, 99]], rtol=1e-12, atol=1e-14)
    assert users.tolist() == [98, 99]


@pytest.mark.parametrize("reg", ["weighted", "plain"])
def test_fold_in_training_user_reproduces_user_step(reg):
    df = _random_ratings(4)
    als = ALS(n_factors=3, n_iter=6, regularization=0.1, reg_mode=reg, random_state=1).fit(df)
    # one more user step with the final Q, computed independently per user
    for user in (0, 7, 12):
        hist = df[df.user == user]
        users, P = fold_in_users(als, hist)
        expected = _normal_equations(als, hist.item.to_numpy(), hist.rating.to_numpy())
        np.testing.assert_allclose(P[0], expected, rtol=1e-10, atol=1e-12)
    # at convergence, a training user's fold-in is (nearly) her fitted factors
    conv = ALS(n_factors=3, n_iter=300, regularization=0.1, reg_mode=reg, random_state=1).fit(df)
    hist = df[df.user == 5]
    _, P = fold_in_users(conv, hist)
    u = conv.interactions_.user_index(5)
    np.testing.assert_allclose(P[0], conv.user_factors_[u], atol=1e-4)


def test_incremental_als_predict_and_recommend_in_caller_ids():
    df = _random_ratings(5)
    df["item"] = "m" + df["item"].astype(str)
    als = ALS(n_factors=3, n_iter=5, regularization=0.1, random_state=0).fit(df)
    new = pd.DataFrame({"user": ["ann", "ann", "bob"], "item": ["m1", "m2", "m3"],
                        "rating": [5.0, 1.0, 4.0]})
    inc = IncrementalALS(als).fit(new)
    users, P = fold_in_users(als, new)
    np.testing.assert_array_equal(inc.user_factors_, P)
    rec = inc.recommend("ann", n=5)
    assert list(rec.columns) == ["item", "score"]
    assert not set(rec.item) & {"m1", "m2"}
    assert rec.score.is_monotonic_decreasing
    q = als.item_factors_[als.interactions_.item_index(list(rec.item))]
    np.testing.assert_allclose(rec.score, als.global_mean_ + q @ P[0])
    pred = inc.predict(["ann", "bob"], ["m4", "m4"])
    raw = als.global_mean_ + P @ als.item_factors_[als.interactions_.item_index("m4")]
    np.testing.assert_allclose(pred, np.clip(raw, *als.rating_range_))
    assert isinstance(inc.predict("bob", "m1"), float)
    with pytest.raises(UnknownUserError):
        inc.recommend("carl")
    with pytest.raises(UnknownItemError):
        inc.predict(["ann"], ["nope"])


def test_fold_in_is_deterministic_and_leaves_model_alone():
    df = _random_ratings(6)
    als = ALS(n_factors=3, n_iter=3, random_state=0).fit(df)
    Q = als.item_factors_.copy()
    P0 = als.user_factors_.copy()
    new = pd.DataFrame({"user": [50, 50], "item": [1, 2], "rating": [3.0, 4.0]})
    a = fold_in_users(als, new)[1]
    b = fold_in_users(als, new)[1]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(als.item_factors_, Q)
    np.testing.assert_array_equal(als.user_factors_, P0)


def test_unknown_items_raise_or_are_skipped():
    df = _random_ratings(7)
    als = ALS(n_factors=3, n_iter=3, random_state=0).fit(df)
    new = pd.DataFrame({"user": [50, 50, 51], "item": [1, 999, 998], "rating": [3.0, 4.0, 5.0]})
    with pytest.raises(UnknownItemError, match="999"):
        fold_in_users(als, new)
    users, P = fold_in_users(als, new, unknown_items="ignore")
    only_known = fold_in_users(als, new.iloc[:1])[1]
    np.testing.assert_allclose(P[0], only_known[0])
    # user 51 rated no known item: p_u = 0, the model predicts mu for her
    np.testing.assert_array_equal(P[1], 0.0)
    inc = IncrementalALS(als, unknown_items="ignore").fit(new)
    assert inc.predict(51, 1) == pytest.approx(np.clip(als.global_mean_, *als.rating_range_))
    with pytest.raises(ValueError, match="unknown_items"):
        fold_in_users(als, new, unknown_items="drop")


def test_fold_in_input_validation():
    df = _random_ratings(8)
    with pytest.raises(TypeError, match="ALS"):
        fold_in_users(BiasedMF(n_factors=2, n_epochs=1, random_state=0).fit(df), df)
    with pytest.raises(mathrec.NotFittedError, match="not fitted"):
        fold_in_users(ALS(), df)
    als = ALS(n_factors=2, n_iter=2, random_state=0).fit(df)
    with pytest.raises(ValueError, match="empty"):
        fold_in_users(als, df.iloc[:0])
    bad = pd.DataFrame({"user": [1], "item": [1], "rating": [np.nan]})
    with pytest.raises(ValueError):
        fold_in_users(als, bad)
    with pytest.raises(ValueError, match="unknown_items"):
        IncrementalALS(als, unknown_items="x").fit(df)


# ----------------------------------------------------------------- OnlineMF
def _online(df, **kw):
    params = dict(n_factors=3, n_epochs=20, lr_all=0.02, random_state=0)
    params.update(kw)
    return OnlineMF(**params).fit(df)


def test_partial_fit_moves_predictions_towards_new_ratings():
    df = _random_ratings(9)
    model = _online(df)
    rng = np.random.default_rng(0)
    pairs = df.sample(20, random_state=0)[["user", "item"]]
    before = model.predict(pairs.user.to_numpy(), pairs.item.to_numpy())
    target = np.where(before > 3, 1.0, 5.0)
    events = pairs.assign(rating=target)
    model.partial_fit(events)
    after = model.predict(pairs.user.to_numpy(), pairs.item.to_numpy())
    assert np.all(np.abs(after - target) < np.abs(before - target))
    assert rng is not None


def test_partial_fit_one_step_matches_sgd_rule():
    df = _random_ratings(10)
    model = _online(df, clip=False)
    u, i = 3, 4
    uu, ii = model.interactions_.user_index(u), model.interactions_.item_index(i)
    mu, bu, bi = model.global_mean_, model.user_bias_[uu], model.item_bias_[ii]
    p, q = model.user_factors_[uu].copy(), model.item_factors_[ii].copy()
    e = 5.0 - (mu + bu + bi + p @ q)
    eta, lam = 0.02, 0.02
    model.partial_fit(pd.DataFrame({"user": [u], "item": [i], "rating": [5.0]}))
    uu, ii = model.interactions_.user_index(u), model.interactions_.item_index(i)
    assert model.user_bias_[uu] == pytest.approx(bu + eta * (e - lam * bu))
    assert model.item_bias_[ii] == pytest.approx(bi + eta * (e - lam * bi))
    np.testing.assert_allclose(model.user_factors_[uu], p + eta * (e * q - lam * p))
    np.testing.assert_allclose(model.item_factors_[ii], q + eta * (e * p - lam * q))


def test_partial_fit_new_ids_and_compiled_equals_numpy():
    df = _random_ratings(11)
    events = pd.DataFrame({"user": [3, "new", "new", 4], "item": [2, 2, "fresh", "fresh"],
                           "rating": [5.0, 4.0, 3.0, 2.0]})
    a = _online(df).partial_fit(events)
    b = _online(df).partial_fit(events, _compiled=False)
    for name in ("user_factors_", "item_factors_", "user_bias_", "item_bias_"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-12, atol=1e-14)
    assert "new" in set(a.users_.tolist()) and "fresh" in set(a.items_.tolist())
    assert a.interactions_.n_ratings == len(df) + 4
    rec = a.recommend("new", n=100)
    assert not {2, "fresh"} & set(rec.item.tolist())
    assert np.isfinite(a.predict("new", "fresh"))


@pytest.mark.parametrize("compiled", [True, False])
def test_diverging_online_updates_raise_one_error_with_either_kernel(compiled):
    """The NumPy fallback reports divergence as the compiled kernel does, without warnings."""
    df = _random_ratings(13)
    with pytest.raises(mathrec.DivergenceError, match="OnlineMF diverged.*lr_all"):
        OnlineMF(n_factors=3, lr_all=10.0, random_state=0).fit(df, _compiled=compiled)
    model = _online(df).set_params(lr_all=50.0)
    before = model.user_factors_.copy()
    with pytest.raises(mathrec.DivergenceError, match="partial_fit diverged.*lr_all"):
        for _ in range(5):
            model.partial_fit(df, _compiled=compiled)
    assert np.isfinite(model.user_factors_).all() and model.user_factors_.shape == before.shape


def test_partial_fit_is_deterministic():
    df = _random_ratings(12)
    events = pd.DataFrame({"user": [100, 100, 1], "item": [0, 1, 2], "rating": [5.0, 4.0, 1.0]})
    a = _online(df).partial_fit(events).partial_fit(events.assign(user=101))
    b = _online(df).partial_fit(events).partial_fit(events.assign(user=101))
    np.testing.assert_array_equal(a.user_factors_, b.user_factors_)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)


def test_partial_fit_orders_by_timestamp_and_replaces_repeated_pairs():
    df = _random_ratings(13)
    ev = pd.DataFrame({"user": [1, 2], "item": [3, 4], "rating": [5.0, 1.0], "timestamp": [20, 10]})
    a = _online(df).partial_fit(ev)
    b = _online(df).partial_fit(ev.iloc[::-1].reset_index(drop=True))
    np.testing.assert_allclose(a.user_factors_, b.user_factors_)
    seen = df[(df.user == 0)].iloc[0]
    c = _online(df).partial_fit(pd.DataFrame({"user": [0], "item": [int(seen["item"])], "rating": [1.0]}))
    assert c.interactions_.n_ratings == len(df)
    frame = c.interactions_.to_frame()
    assert frame[(frame.user == 0) & (frame.item == int(seen["item"]))].rating.item() == 1.0


def test_partial_fit_validation():
    df = _random_ratings(14)
    with pytest.raises(mathrec.NotFittedError, match="not fitted"):
        OnlineMF().partial_fit(df)
    model = _online(df)
    with pytest.raises(ValueError, match="empty"):
        model.partial_fit(df.iloc[:0])
    with pytest.raises(ValueError):
        model.partial_fit(pd.DataFrame({"user": [1], "item": [1]}))
