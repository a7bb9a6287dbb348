"""BPR and EASE (mathrec.ranking): their maths against independent computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mathrec
from mathrec import BPR, EASE, Popularity, make_synthetic
from mathrec._kernels import bpr_epoch, bpr_kernel
from mathrec.ranking import _sample_triples


def _frame(X, ratings=None):
    """The non-zero cells of a dense matrix as a ratings frame (users 'u0'..., items 0...)."""
    u, i = np.nonzero(X)
    r = X[u, i] if ratings is None else ratings[u, i]
    return pd.DataFrame({"user": [f"u{a}" for a in u], "item": i, "rating": r.astype(float)})


def _dense(model):
    """The model's training matrix X as a dense array, in its internal order."""
    return model._X_.toarray()


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(0)
    X = (rng.random((40, 15)) < 0.3).astype(float)
    X[np.arange(40), np.arange(40) % 15] = 1.0   # every item and user has an interaction
    return X


# ======================================================================= EASE
def _constrained_solve(X, lam):
    """Column j: min ||X_j - X b||^2 + lam ||b||^2 s.t. b_j = 0, by dropping row j."""
    n = X.shape[1]
    B = np.zeros((n, n))
    for j in range(n):
        rest = np.arange(n) != j
        Xr = X[:, rest]
        B[rest, j] = np.linalg.solve(Xr.T @ Xr + lam * np.eye(n - 1), Xr.T @ X[:, j])
    return B


@pytest.mark.parametrize("lam", [0.5, 3.0, 50.0])
def test_ease_equals_the_direct_constrained_solve(binary, lam):
    model = EASE(regularization=lam).fit(_frame(binary))
    X = _dense(model)
    np.testing.assert_allclose(model.weights_, _constrained_solve(X, lam), rtol=0, atol=1e-10)
    assert np.all(model.weights_.diagonal() == 0)


def test_ease_on_ratings_equals_the_direct_constrained_solve(binary):
    ratings = np.random.default_rng(1).integers(1, 6, size=binary.shape).astype(float)
    model = EASE(regularization=2.0, binary=False).fit(_frame(binary, ratings))
    X = _dense(model)
    assert set(np.unique(X)) - {0.0} <= {1.0, 2.0, 3.0, 4.0, 5.0} and X.max() > 1
    np.testing.assert_allclose(model.weights_, _constrained_solve(X, 2.0), rtol=0, atol=1e-10)


def test_ease_is_the_stationary_point_of_the_lagrangian(binary):
    """(G + lam I) B = G - diagMat(gamma): off the diagonal, the residual vanishes."""
    lam = 4.0
    model = EASE(regularization=lam).fit(_frame(binary))
    X = _dense(model)
    G = X.T @ X
    R = (G + lam * np.eye(len(G))) @ model.weights_ - G
    off = ~np.eye(len(G), dtype=bool)
    assert np.abs(R[off]).max() < 1e-10
    assert (np.diag(R) < 0).all()       # -gamma_j: the constraint is active


def test_ease_scores_predict_and_blocks_agree(binary):
    model = EASE(regularization=3.0).fit(_frame(binary))
    S = _dense(model) @ model.weights_
    block = model._score_block(np.arange(model.interactions_.n_users))
    np.testing.assert_allclose(block, S, atol=1e-12)
    for u in (0, 7, 39):
        np.testing.assert_allclose(model._score_items(u), S[u], atol=1e-12)
    inter = model.interactions_
    uu, ii = np.meshgrid(np.arange(inter.n_users), np.arange(inter.n_items), indexing="ij")
    pred = model.predict(inter.users[uu.ravel()], inter.items[ii.ravel()])
    np.testing.assert_allclose(pred, S.ravel(), atol=1e-12)
    assert isinstance(model.predict("u3", 4), float)
    with pytest.raises(mathrec.UnknownItemError):
        model.predict("u3", 99)
    with pytest.raises(mathrec.UnknownUserError):
        model.predict("nobody", 4)
    rec = model.recommend("u3", n=3)
    seen = set(np.flatnonzero(binary[3]))
    assert not seen & set(rec["item"])


def test_ease_refuses_more_items_than_max_memory_allows(binary):
    df = _frame(binary)                          # 15 items: 15**2 * 8 = 1800 bytes
    EASE(max_memory=1800).fit(df)
    with pytest.raises(ValueError, match=r"n_items\*\*2 \* 8 = 15\*\*2 \* 8 = 1,800 bytes") as e:
        EASE(max_memory=1799).fit(df)
    assert "max_memory=1799" in str(e.value)
    EASE(max_memory=None).fit(df)
    for bad in (0, -5, float("nan")):
        with pytest.raises(ValueError, match=r"max_memory must be a finite real number > 0"):
            EASE(max_memory=bad).fit(df)
    for bad in ("1GB", True):
        with pytest.raises(TypeError, match=r"max_memory must be a finite real number > 0"):
            EASE(max_memory=bad).fit(df)


def test_ease_fit_holds_one_item_item_matrix(monkeypatch):
    """G, P and B share one n x n buffer and G is built in small column blocks:
    the fit's peak is about 8 n^2 bytes."""
    import tracemalloc

    import mathrec.ranking

    monkeypatch.setattr(mathrec.ranking, "CHUNK_FLOATS", 16_000)   # blocks of 20 columns
    rng = np.random.default_rng(4)
    n_users, n_items = 50, 800
    df = pd.DataFrame({"user": rng.integers(0, n_users, 4000),
                       "item": rng.permutation(np.arange(4000) % n_items),
                       "rating": 1.0}).drop_duplicates(["user", "item"])
    matrix = 8 * n_items**2
    tracemalloc.start()
    try:
        model = EASE(regularization=10.0).fit(df)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert model.weights_.nbytes == matrix
    assert peak < 1.25 * matrix, peak / matrix


def test_ease_min_rating_keeps_only_positive_cells(binary):
    ratings = np.random.default_rng(2).integers(1, 6, size=binary.shape).astype(float)
    df = _frame(binary, ratings)
    model = EASE(regularization=2.0, min_rating=4).fit(df)
    kept = df[df["rating"] >= 4]
    ref = EASE(regularization=2.0).fit(kept)
    # items without a positive cell get zero weights; the others, the same as on kept data
    inter = model.interactions_
    pos = np.asarray(inter.item_index(ref.interactions_.items))
    np.testing.assert_allclose(model.weights_[np.ix_(pos, pos)], ref.weights_, atol=1e-12)
    lost = np.setdiff1d(np.arange(inter.n_items), pos)
    assert np.all(model.weights_[lost] == 0) and np.all(model.weights_[:, lost] == 0)


def test_ease_bad_parameters_name_themselves(binary):
    df = _frame(binary)
    for params, name in [({"regularization": 0.0}, "regularization"),
                         ({"regularization": float("inf")}, "regularization"),
                         ({"binary": "yes"}, "binary"),
                         ({"min_rating": float("nan")}, "min_rating")]:
        with pytest.raises((ValueError, TypeError), match=name):
            EASE(**params).fit(df)


# ======================================================================== BPR
def _objective(theta, k, lam):
    """-ln sigma(x_uij) + lam/2 * ||(p_u, q_i, q_j, b_i, b_j)||^2 for one triple."""
    p, qi, qj, bi, bj = theta[:k], theta[k:2 * k], theta[2 * k:3 * k], theta[-2], theta[-1]
    x = p @ (qi - qj) + bi - bj
    return np.log1p(np.exp(-x)) + lam / 2 * theta @ theta


@pytest.mark.parametrize("kernel", [bpr_epoch, bpr_kernel(True), bpr_kernel(False)],
                         ids=["python", "compiled", "numpy"])
@pytest.mark.parametrize("scale", [0.3, 2.0])   # x_uij of either sign
def test_bpr_update_is_a_gradient_step_on_the_loss(kernel, scale):
    rng = np.random.default_rng(3)
    k, lr, lam = 4, 1e-3, 0.05
    P0 = rng.normal(scale=scale, size=(3, k))
    Q0 = rng.normal(scale=scale, size=(5, k))
    b0 = rng.normal(size=5)
    u, i, j = 1, 2, 4
    theta = np.concatenate([P0[u], Q0[i], Q0[j], [b0[i], b0[j]]])
    h = 1e-6
    grad = np.array([(_objective(theta + h * e, k, lam) - _objective(theta - h * e, k, lam))
                     / (2 * h) for e in np.eye(len(theta))])
    P, Q, b = P0.copy(), Q0.copy(), b0.copy()
    loss = kernel(np.array([u]), np.array([i]), np.array([j]), P, Q, b, lr, lam, True)
    step = np.concatenate([P[u] - P0[u], Q[i] - Q0[i], Q[j] - Q0[j], [b[i] - b0[i], b[j] - b0[j]]])
    np.testing.assert_allclose(step, -lr * grad, rtol=1e-6, atol=1e-12)
    x = P0[u] @ (Q0[i] - Q0[j]) + b0[i] - b0[j]
    assert loss == pytest.approx(-np.log(1 / (1 + np.exp(-x))), rel=1e-12)
    # nothing else moved
    assert np.array_equal(P[[0, 2]], P0[[0, 2]]) and np.array_equal(Q[[0, 1, 3]], Q0[[0, 1, 3]])


def test_bpr_without_item_bias_leaves_biases_at_zero(binary):
    model = BPR(n_factors=3, n_epochs=5, item_bias=False, random_state=0).fit(_frame(binary))
    assert np.all(model.item_bias_ == 0)


def test_bpr_compiled_and_numpy_kernels_give_the_same_fit(binary):
    df = _frame(binary)
    a = BPR(n_factors=4, n_epochs=5, random_state=0).fit(df)
    b = BPR(n_factors=4, n_epochs=5, random_state=0).fit(df, _compiled=False)
    np.testing.assert_allclose(a.user_factors_, b.user_factors_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.item_factors_, b.item_factors_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.history_["objective"], b.history_["objective"], rtol=1e-10)


@pytest.mark.parametrize("sampling", ["uniform", "popularity"])
def test_negatives_are_never_positives_of_the_user(sampling):
    rng = np.random.RandomState(0)
    X = (rng.random_sample((30, 8)) < 0.5)
    X[0] = True                                             # a user with every item
    u, i = np.nonzero(X)
    keys = u * 8 + i
    users, pos, neg = _sample_triples(rng, u[u > 0], i[u > 0], keys, 8, 20_000, sampling)
    assert not X[users, neg].any()
    assert X[users, pos].all()
    counts = np.bincount(neg, minlength=8) / len(neg)
    if sampling == "uniform":
        assert len(users) == 20_000
        # j is uniform over each user's unseen items: check against the exact expectation
        unseen = ~X[u[u > 0]]
        expected = (unseen / unseen.sum(1, keepdims=True)).mean(0)
        np.testing.assert_allclose(counts, expected, atol=0.015)
    else:
        assert len(users) < 20_000                          # clashing triples are dropped


def test_bpr_learns_the_loss_down_and_beats_popularity():
    # who sees what is driven by taste (mnar=3) more than by popularity: there
    # is a personal signal to learn (with make_synthetic's defaults, exposure
    # follows popularity so closely that Popularity is the best ranking)
    ratings, _ = make_synthetic(300, 200, 9000, mnar=3.0, signal=2.0, random_state=0)
    train, test = mathrec.random_split(ratings, 0.2, random_state=0)
    bpr = BPR(n_factors=16, n_epochs=40, random_state=0)
    res = {}
    for name, model in [("bpr", bpr), ("pop", Popularity())]:
        out = mathrec.evaluate(model, train, test, k=10, relevance_threshold=1,
                               rating_metrics=False)
        res[name] = out.set_index("metric")["value"]
    loss = bpr.history_["objective"].to_numpy()
    assert loss[-1] < 0.5 * loss[0]
    assert res["bpr"]["ndcg@k"] > res["pop"]["ndcg@k"] + 0.1      # 0.39 vs 0.22
    # AUC of held-out positives against the user's unseen items
    inter = bpr.interactions_
    test = test[test["user"].isin(inter.users) & test["item"].isin(inter.items)]
    S = bpr._score_block(np.arange(inter.n_users))
    seen = bpr._train_csr().toarray() > 0
    aucs = []
    for user, grp in test.groupby("user"):
        u = int(inter.user_index([user])[0])
        held = np.asarray(inter.item_index(grp["item"].to_numpy()))
        neg = np.flatnonzero(~seen[u] & ~np.isin(np.arange(inter.n_items), held))
        aucs.append((S[u, held][:, None] > S[u, neg][None, :]).mean())
    assert np.mean(aucs) > 0.75


def test_bpr_seed_determines_the_model(binary):
    df = _frame(binary)
    a, b = (BPR(n_factors=3, n_epochs=5, random_state=7).fit(df) for _ in range(2))
    np.testing.assert_array_equal(a.user_factors_, b.user_factors_)
    np.testing.assert_array_equal(a.item_bias_, b.item_bias_)
    c = BPR(n_factors=3, n_epochs=5, random_state=8).fit(df)
    assert not np.array_equal(a.item_factors_, c.item_factors_)


def test_bpr_scores_predict_and_blocks_agree(binary):
    model = BPR(n_factors=3, n_epochs=5, random_state=0).fit(_frame(binary))
    S = model.user_factors_ @ model.item_factors_.T + model.item_bias_
    np.testing.assert_allclose(model._score_block(np.arange(40)), S, atol=1e-12)
    np.testing.assert_allclose(model._score_items(5), S[5], atol=1e-12)
    inter = model.interactions_
    np.testing.assert_allclose(model.predict(inter.users[[1, 2]], inter.items[[3, 4]]),
                               S[[1, 2], [3, 4]], atol=1e-12)


def test_bpr_min_rating_and_users_without_negatives():
    df = pd.DataFrame({"user": [1, 1, 1, 2, 2, 3, 3],
                       "item": ["a", "b", "c", "a", "b", "a", "c"],
                       "rating": [5.0, 4, 5, 2, 1, 5, 4]})
    # user 1 touched every item: no negative for them, and fit still ends
    model = BPR(n_factors=2, n_epochs=20, random_state=0).fit(df)
    assert np.isfinite(model.user_factors_).all()
    # with min_rating=4, user 2 has no positive: a zero vector, scores = item biases
    model = BPR(n_factors=2, n_epochs=20, min_rating=4, random_state=0).fit(df)
    u2 = int(model.interactions_.user_index([2])[0])
    assert np.all(model.user_factors_[u2] == 0)
    # every user touched every positive item: nothing to sample, no update, no error
    full = pd.DataFrame({"user": [1, 1, 2, 2], "item": ["a", "b", "a", "b"], "rating": 1.0})
    model = BPR(n_factors=2, n_epochs=3, random_state=0).fit(full)
    assert model.history_["objective"].isna().all()


@pytest.mark.parametrize("compiled", [True, False])
def test_bpr_divergence_raises_with_advice(binary, compiled):
    # the NumPy fallback too: one DivergenceError, no NumPy overflow warnings first
    with pytest.raises(mathrec.DivergenceError, match="learning_rate"):
        BPR(n_factors=3, n_epochs=50, learning_rate=10.0, regularization=1.0,
            random_state=0).fit(_frame(binary), _compiled=compiled)


@pytest.mark.parametrize("params, name", [
    ({"n_factors": 0}, "n_factors"), ({"n_epochs": -1}, "n_epochs"),
    ({"learning_rate": 0.0}, "learning_rate"), ({"learning_rate": float("nan")}, "learning_rate"),
    ({"regularization": -0.1}, "regularization"), ({"item_bias": 1}, "item_bias"),
    ({"sampling": "hard"}, "sampling"), ({"min_rating": "4"}, "min_rating"),
    ({"init_std_dev": -1.0}, "init_std_dev"), ({"random_state": 0.5}, "random_state"),
])
def test_bpr_bad_parameters_name_themselves(binary, params, name):
    with pytest.raises((ValueError, TypeError), match=name):
        BPR(**params).fit(_frame(binary))
