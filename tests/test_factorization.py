"""Tests for mathrec.factorization: PureSVD, BiasedMF, ALS, ImplicitALS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mathrec
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mathrec._kernels import cg_half_step, sgd_epoch, sgd_kernels
from mathrec.data import Interactions, UnknownItemError, UnknownUserError
from mathrec.factorization import (
    ALS,
    BiasedMF,
    ImplicitALS,
    PureSVD,
    _als_half_step,
)

def random_ratings(n_users=30, n_items=20, density=0.3, seed=0, scale=(1, 5)):
    rng = np.random.RandomState(seed)
    mask = rng.random_sample((n_users, n_items)) < density
    mask[np.arange(n_users), rng.randint(0, n_items, n_users)] = True  # every user rates
    mask[rng.randint(0, n_users, n_items), np.arange(n_items)] = True  # every item is rated
    u, i = np.nonzero(mask)
    perm = rng.permutation(len(u))
    r = rng.randint(scale[0], scale[1] + 1, len(u)).astype(float)
    return pd.DataFrame({"user": u[perm] * 10, "item": [f"m{j}" for j in i[perm]], "rating": r[perm]})


@pytest.fixture(scope="module")
def small():
    return random_ratings()


# ------------------------------------------------------------------- BiasedMF
def test_sgd_step_is_half_gradient_of_the_per_rating_objective():
    """One update moves every parameter by -(lr/2) * d/dθ [e^2 + λ(b_u²+b_i²+|p_u|²+|q_i|²)]."""
    rng = np.random.RandomState(1)
    k, lr, lam, mu, r = 4, 1e-3, 0.05, 3.2, 4.5
    bu0, bi0 = rng.normal(size=2), rng.normal(size=3)
    P0, Q0 = rng.normal(size=(2, k)), rng.normal(size=(3, k))
    u, i = 1, 2

    def objective(theta):
        b_u, b_i, p, q = theta[0], theta[1], theta[2:2 + k], theta[2 + k:]
        e = r - (mu + b_u + b_i + p @ q)
        return e**2 + lam * (b_u**2 + b_i**2 + p @ p + q @ q)

    theta = np.concatenate([[bu0[u], bi0[i]], P0[u], Q0[i]])
    h = 1e-6
    grad = np.array([(objective(theta + h * e) - objective(theta - h * e)) / (2 * h)
                     for e in np.eye(len(theta))])
    for kernel in (sgd_epoch, sgd_kernels(True)[0], sgd_kernels(False)[0]):
        bu, bi, P, Q = bu0.copy(), bi0.copy(), P0.copy(), Q0.copy()
        kernel(np.array([u]), np.array([i]), np.array([r]), np.array([0]), mu, bu, bi, P, Q,
               lr, lr, lr, lr, lam, lam, lam, lam, True)
        step = np.concatenate([[bu[u] - bu0[u], bi[i] - bi0[i]], P[u] - P0[u], Q[i] - Q0[i]])
        np.testing.assert_allclose(step, -lr / 2 * grad, rtol=1e-6, atol=1e-10)
        # nothing else moved
        assert bu[0] == bu0[0] and np.array_equal(P[0], P0[0]) and np.array_equal(Q[:2], Q0[:2])


def test_compiled_and_numpy_kernels_give_the_same_fit(small):
    a = BiasedMF(n_factors=5, n_epochs=3, random_state=0).fit(small)
    b = BiasedMF(n_factors=5, n_epochs=3, random_state=0).fit(small, _compiled=False)
    np.testing.assert_allclose(a.user_factors_, b.user_factors_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.item_bias_, b.item_bias_, rtol=1e-10, atol=1e-12)
    pd.testing.assert_frame_equal(a.history_, b.history_, rtol=1e-10)


def test_biasedmf_history_matches_a_recomputation(small):
    model = BiasedMF(n_factors=3, n_epochs=4, reg_all=0.1, random_state=0).fit(small)
    inter = model.interactions_
    est = model._raw_predict(inter.user_idx, inter.item_idx, model.global_mean_, model.user_bias_,
                             model.item_bias_, model.user_factors_, model.item_factors_)
    e = inter.ratings - est
    nu, ni = inter.user_counts(), inter.item_counts()
    obj = e @ e + 0.1 * (nu @ (model.user_bias_**2 + (model.user_factors_**2).sum(1))
                         + ni @ (model.item_bias_**2 + (model.item_factors_**2).sum(1)))
    last = model.history_.iloc[-1]
    assert last.train_rmse == pytest.approx(np.sqrt(np.mean(e**2)), rel=1e-10)
    assert last.objective == pytest.approx(obj, rel=1e-10)
    assert model.history_.valid_rmse.isna().all()
    assert list(model.history_.iteration) == [1, 2, 3, 4]


def test_biasedmf_training_error_decreases(small):
    h = BiasedMF(n_factors=5, n_epochs=30, lr_all=0.02, random_state=0).fit(small, validation=small).history_
    assert h.train_rmse.iloc[-1] < h.train_rmse.iloc[0]
    # validating on the training set gives the (clipped) training RMSE
    assert h.valid_rmse.iloc[-1] <= h.train_rmse.iloc[-1] + 1e-12


def test_biasedmf_determinism(small):
    a = BiasedMF(n_factors=4, n_epochs=3, random_state=7, shuffle=True).fit(small)
    b = BiasedMF(n_factors=4, n_epochs=3, random_state=7, shuffle=True).fit(small)
    c = BiasedMF(n_factors=4, n_epochs=3, random_state=8, shuffle=True).fit(small)
    assert np.array_equal(a.user_factors_, b.user_factors_)
    assert not np.allclose(a.user_factors_, c.user_factors_)


def test_biasedmf_unbiased_has_no_biases(small):
    m = BiasedMF(n_factors=3, n_epochs=2, biased=False, random_state=0).fit(small)
    assert m.global_mean_ == 0.0
    assert not m.user_bias_.any() and not m.item_bias_.any()


def test_biasedmf_matches_surprise_exactly():
    surprise = pytest.importorskip("surprise")
    df = random_ratings(40, 25, seed=3)
    trainset = surprise.Dataset.load_from_df(
        df, surprise.Reader(rating_scale=(1, 5))).build_full_trainset()
    ref = surprise.SVD(n_factors=6, n_epochs=5, random_state=0).fit(trainset)
    ours = BiasedMF(n_factors=6, n_epochs=5, random_state=0).fit(df)
    users, items = df.user.to_numpy(), df.item.to_numpy()
    expected = [ref.predict(u, i).est for u, i in zip(users, items)]
    np.testing.assert_allclose(ours.predict(users, items), expected, rtol=0, atol=1e-12)


def test_biasedmf_unknown_ids_and_fallback(small):
    m = BiasedMF(n_factors=3, n_epochs=2, random_state=0).fit(small)
    with pytest.raises(UnknownUserError, match="-1"):
        m.predict([-1], ["m0"])
    with pytest.raises(UnknownItemError, match="nope"):
        m.predict([0], ["nope"])
    u0 = m.interactions_.user_index(0)
    i0 = m.interactions_.item_index("m0")
    out = m.predict([0, -1, -1], ["nope", "m0", "nope"], unknown="fallback")
    np.testing.assert_allclose(out, [m.global_mean_ + m.user_bias_[u0],
                                     m.global_mean_ + m.item_bias_[i0], m.global_mean_])
    with pytest.raises(ValueError, match="unknown"):
        m.predict([0], ["m0"], unknown="zero")
    assert isinstance(m.predict(0, "m0"), float)


def test_item_without_training_rating_has_zero_factors():
    inter = Interactions(np.array(["a", "b"]), np.array([1, 2, 3]),
                         [0, 0, 1], [0, 1, 1], [4.0, 2.0, 5.0])
    for model in (BiasedMF(n_factors=2, n_epochs=3, random_state=0), ALS(n_factors=2, random_state=0),
                  ImplicitALS(n_factors=2, n_iter=2, random_state=0)):
        model.fit(inter)
        assert not model.item_factors_[2].any(), type(model).__name__
    m = BiasedMF(n_factors=2, n_epochs=3, random_state=0).fit(inter)
    assert m.predict("a", 3) == pytest.approx(m.global_mean_ + m.user_bias_[0])


@pytest.mark.parametrize("bad, match", [
    (dict(n_factors=0), "n_factors"), (dict(n_epochs=-1), "n_epochs"),
    (dict(lr_all=-0.1), "lr_all"), (dict(reg_qi=float("nan")), "reg_qi"),
    (dict(random_state="x"), "random_state"),
])
def test_biasedmf_rejects_bad_hyperparameters(small, bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        BiasedMF(**bad).fit(small)


def test_not_fitted():
    with pytest.raises(mathrec.NotFittedError, match="not fitted"):
        BiasedMF().predict([1], [2])


# ------------------------------------------------------------------------ ALS
def _normal_equation_residual(R, Y, X, lam, weighted):
    """max_u |(Y_u^T Y_u + lam w_u I) x_u - Y_u^T r_u| over rows with entries."""
    k = Y.shape[1]
    worst = 0.0
    for u in range(R.shape[0]):
        cols = R.indices[R.indptr[u]:R.indptr[u + 1]]
        if len(cols) == 0:
            assert not X[u].any()
            continue
        r = R.data[R.indptr[u]:R.indptr[u + 1]]
        Yu = Y[cols]
        w = len(cols) if weighted else 1
        res = (Yu.T @ Yu + lam * w * np.eye(k)) @ X[u] - Yu.T @ r
        worst = max(worst, np.abs(res).max())
    return worst


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 6), weighted=st.booleans(),
       density=st.floats(0.05, 0.9))
def test_als_half_step_solves_the_normal_equations(seed, k, weighted, density):
    rng = np.random.RandomState(seed)
    R = sp.random(15, 12, density=density, format="csr", random_state=rng)
    R.sort_indices()
    Y = rng.normal(size=(12, k))
    X = np.full((15, k), np.nan)
    _als_half_step(R, Y, 0.3, weighted, X)
    assert _normal_equation_residual(R, Y, X, 0.3, weighted) < 1e-9


@pytest.mark.parametrize("reg", ["weighted", "plain"])
def test_als_fit_satisfies_normal_equations_and_decreases_objective(small, reg):
    m = ALS(n_factors=4, n_iter=6, regularization=0.2, reg_mode=reg, random_state=0).fit(small)
    inter = m.interactions_
    R = sp.csr_matrix((inter.ratings - m.global_mean_, (inter.user_idx, inter.item_idx)),
                      shape=inter.shape)
    # the last half step solved the items given the final users
    assert _normal_equation_residual(R.T.tocsr(), m.user_factors_, m.item_factors_, 0.2,
                                     reg == "weighted") < 1e-9
    obj = m.history_.objective.to_numpy()
    assert np.all(np.diff(obj) <= 1e-9 * obj[:-1])


def test_als_one_rating_user_and_k_larger_than_rank():
    df = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": [1, 2, 1, 2, 1],
                       "rating": [5.0, 3.0, 4.0, 2.0, 1.0]})
    m = ALS(n_factors=6, n_iter=5, regularization=0.1, random_state=0, clip=False).fit(df)
    assert np.isfinite(m.user_factors_).all()
    # user 3 rated once: its factor is the ridge solution of one equation, given
    # the item factors of the previous sweep (those of a 4-sweep fit)
    q = ALS(n_factors=6, n_iter=4, regularization=0.1, random_state=0).fit(df).item_factors_[0]
    p3 = q * (1.0 - m.global_mean_) / (q @ q + 0.1)
    np.testing.assert_allclose(m.user_factors_[2], p3, rtol=1e-10, atol=1e-12)


def test_als_determinism_and_unknown(small):
    a = ALS(n_factors=3, random_state=1).fit(small)
    b = ALS(n_factors=3, random_state=1).fit(small)
    assert np.array_equal(a.item_factors_, b.item_factors_)
    with pytest.raises(UnknownItemError):
        a.predict([0], ["nope"])
    assert a.predict([0], ["nope"], unknown="fallback")[0] == pytest.approx(a.global_mean_)
    with pytest.raises(ValueError, match="reg_mode must be 'weighted' or 'plain'; got 'l1'"):
        ALS(reg_mode="l1").fit(small)
    with pytest.raises(TypeError, match="reg"):  # the former name of reg_mode
        ALS(reg="plain")


@pytest.mark.parametrize("reg_mode", ["weighted", "plain"])
def test_als_refuses_zero_regularization_in_both_modes(small, reg_mode):
    # users and items with fewer than n_factors ratings would have singular normal equations
    with pytest.raises(ValueError, match="regularization must be > 0.*n_factors=5"):
        ALS(n_factors=5, regularization=0.0, reg_mode=reg_mode).fit(small)


def test_als_singular_normal_equations_name_regularization():
    df, _ = mathrec.make_synthetic(60, 40, 600, random_state=0)
    with pytest.raises(mathrec.DivergenceError, match=r"singular .*regularization=1e-300"):
        ALS(n_factors=5, regularization=1e-300, random_state=0).fit(df)


# ---------------------------------------------------------------- ImplicitALS
@pytest.mark.parametrize("compiled", [True, False])
def test_cg_with_enough_steps_matches_a_dense_direct_solve(compiled):
    rng = np.random.RandomState(0)
    m, n, k, lam = 8, 10, 3, 0.1
    C = sp.random(m, n, density=0.3, format="csr", random_state=rng)
    C.data = 1.0 + 5.0 * C.data
    C.sort_indices()
    Y = rng.normal(size=(n, k))
    X = rng.normal(size=(m, k))
    cg_half_step(C, X, Y, lam, cg_steps=50, compiled=compiled)
    Cd = C.toarray()
    for u in range(m):
        if C.indptr[u] == C.indptr[u + 1]:
            assert not X[u].any()
            continue
        cu = np.where(Cd[u] > 0, Cd[u], 1.0)  # unobserved cells have confidence 1
        pu = (Cd[u] > 0).astype(float)
        A = Y.T @ (cu[:, None] * Y) + lam * np.eye(k)
        np.testing.assert_allclose(X[u], np.linalg.solve(A, Y.T @ (cu * pu)), rtol=1e-8, atol=1e-10)


def test_implicit_compiled_and_batched_solvers_agree(small):
    a = ImplicitALS(n_factors=4, n_iter=3, alpha=3.0, random_state=0).fit(small)
    b = ImplicitALS(n_factors=4, n_iter=3, alpha=3.0, random_state=0).fit(small, _compiled=False)
    np.testing.assert_allclose(a.user_factors_, b.user_factors_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.item_factors_, b.item_factors_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("alpha", [1e308, 3e99])
def test_implicit_refuses_an_alpha_whose_confidences_overflow(small, alpha):
    # the largest rating of `small` is 5: 5 * 3e99 > 1e100
    with pytest.raises(ValueError, match=r"alpha must keep the confidences 1 \+ alpha \* r "
                                         r"<= 1e\+100.*got alpha=.*largest rating of 5\.0"):
        ImplicitALS(n_factors=2, alpha=alpha).fit(small)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("make, match", [
    (lambda: BiasedMF(lr_all=10.0, random_state=0), "lr_all"),
    (lambda: ImplicitALS(n_factors=4, alpha=1e75, random_state=0), "lower alpha"),
    (lambda: ImplicitALS(n_factors=4, alpha=1e75, compute_loss=False, random_state=0),
     "lower alpha"),
], ids=["BiasedMF", "ImplicitALS", "ImplicitALS-no-loss"])
def test_divergence_is_one_error_with_either_kernel(make, match, compiled):
    """Compiled or NumPy fallback: a DivergenceError, and no NumPy overflow warnings first."""
    df, _ = mathrec.make_synthetic(60, 40, 600, random_state=0)
    with pytest.raises(mathrec.DivergenceError, match=match):
        make().fit(df, _compiled=compiled)


def test_implicit_loss_matches_brute_force():
    df = random_ratings(12, 9, seed=5)
    m = ImplicitALS(n_factors=3, n_iter=3, alpha=2.0, regularization=0.5, random_state=0).fit(df)
    inter = m.interactions_
    Rd = inter.to_csr().toarray()
    c = np.where(Rd > 0, 1 + 2.0 * Rd, 1.0)
    p = (Rd > 0).astype(float)
    S = m.user_factors_ @ m.item_factors_.T
    X, Y = m.user_factors_, m.item_factors_
    loss = (c * (p - S) ** 2).sum() + 0.5 * ((X**2).sum() + (Y**2).sum())
    assert m.history_.objective.iloc[-1] == pytest.approx(loss / c.sum(), rel=1e-10)
    assert m.history_.objective.iloc[-1] < m.history_.objective.iloc[0]


def test_implicit_determinism_and_recommend(small):
    a = ImplicitALS(n_factors=4, n_iter=3, random_state=2).fit(small)
    b = ImplicitALS(n_factors=4, n_iter=3, random_state=2).fit(small)
    assert np.array_equal(a.user_factors_, b.user_factors_)
    rec = a.recommend(0, n=5)
    seen = set(small.loc[small.user == 0, "item"])
    assert len(rec) == 5 and not seen & set(rec["item"])
    assert rec["score"].is_monotonic_decreasing
    with pytest.raises(ValueError, match="ratings must be >= 0"):
        ImplicitALS().fit(pd.DataFrame({"user": [1], "item": [1], "rating": [-1.0]}))


# -------------------------------------------------------------------- PureSVD
@pytest.mark.parametrize("center", [None, "item"])
def test_puresvd_matches_numpy_svd(small, center):
    k = 4
    m = PureSVD(n_factors=k, center=center, random_state=0).fit(small)
    D = m.interactions_.to_csr().toarray()
    c = D.mean(axis=0) if center == "item" else np.zeros(D.shape[1])
    U, s, Vt = np.linalg.svd(D - c, full_matrices=False)
    np.testing.assert_allclose(m.singular_values_, s[:k], rtol=1e-8)
    recon = U[:, :k] * s[:k] @ Vt[:k] + c
    inter = m.interactions_
    uu, ii = np.meshgrid(np.arange(inter.n_users), np.arange(inter.n_items), indexing="ij")
    got = m.predict(inter.users[uu.ravel()], inter.items[ii.ravel()]).reshape(D.shape)
    np.testing.assert_allclose(got, recon, atol=1e-8)
    np.testing.assert_allclose(m.item_factors_.T @ m.item_factors_, np.eye(k), atol=1e-10)


@pytest.mark.parametrize("center", [None, "item"])
def test_puresvd_on_a_zero_matrix_has_zero_factors(center, toy12):
    # all ratings 0: R_0 = 0; a full matrix with constant columns: R_0 - 1 c^T = 0
    toy = toy12.assign(rating=0.0)
    full = pd.DataFrame([(u, i, float(i)) for u in range(4) for i in range(3)],
                        columns=["user", "item", "rating"])
    for df in (toy, full) if center == "item" else (toy,):
        m = PureSVD(n_factors=2, center=center, random_state=0).fit(df)
        np.testing.assert_array_equal(m.singular_values_, [0.0, 0.0])
        np.testing.assert_array_equal(m.user_factors_, 0.0)
        np.testing.assert_allclose(m.item_factors_.T @ m.item_factors_, np.eye(2))
        # every score is the item mean c_i, which is the rating itself here
        np.testing.assert_allclose(m.predict(df.user, df.item), df.rating)
        assert len(m.recommend(df.user.iloc[0], n=2)) <= 2


def test_puresvd_k_above_rank_reconstructs_exactly():
    # rank 2 matrix, 5 x 4, k = 3 > rank
    df = pd.DataFrame([(u, i, float((u % 2 + 1) * (i + 1)))
                       for u in range(5) for i in range(4)], columns=["user", "item", "rating"])
    m = PureSVD(n_factors=3, random_state=0).fit(df)
    assert m.singular_values_[2] < 1e-8
    np.testing.assert_allclose(m.predict(df.user, df.item), df.rating, atol=1e-8)
    with pytest.raises(ValueError, match="n_factors must be smaller"):
        PureSVD(n_factors=4).fit(df)


def test_puresvd_determinism_and_recommend(small):
    a = PureSVD(n_factors=3, random_state=0).fit(small)
    b = PureSVD(n_factors=3, random_state=5).fit(small)
    np.testing.assert_allclose(a.user_factors_, b.user_factors_, atol=1e-8)  # signs fixed
    rec = a.recommend(10, n=3, exclude_seen=False)
    scores = a.predict([10] * a.interactions_.n_items, a.interactions_.items)
    assert rec["score"].iloc[0] == pytest.approx(scores.max())


# ------------------------------------------- chapter 3 worked examples (notebook)
R_TOY = np.array([[5, 4, 1, 1], [4, 5, 1, 2], [1, 1, 5, 4], [2, 1, 4, 5], [5, 5, 2, 1]], dtype=float)
HIDDEN = [(0, 0), (2, 3), (4, 2)]


def test_ch03_toy_svd_and_imputation():
    s = np.linalg.svd(R_TOY, compute_uv=False)
    np.testing.assert_allclose(s, [13.3786, 7.1206, 1.4142, 1.1445], atol=5e-5)
    U, s, Vt = np.linalg.svd(R_TOY)
    R2 = (U[:, :2] * s[:2]) @ Vt[:2]
    assert np.abs(R2 - R_TOY).max() == pytest.approx(0.5292, abs=5e-5)
    observed = np.ones_like(R_TOY, dtype=bool)
    for u, i in HIDDEN:
        observed[u, i] = False
    df = pd.DataFrame([(u, i, R_TOY[u, i]) for u in range(5) for i in range(4) if observed[u, i]],
                      columns=["user", "item", "rating"])
    scores = PureSVD(n_factors=2, random_state=0).fit(df).predict([0, 2, 4], [0, 3, 2])
    np.testing.assert_allclose(scores, [1.9793, 2.2951, -0.0937], atol=5e-5)
    R_mean = np.where(observed, R_TOY, np.where(observed, R_TOY, 0).sum(0) / observed.sum(0))
    U, s, Vt = np.linalg.svd(R_mean)
    approx = (U[:, :2] * s[:2]) @ Vt[:2]
    np.testing.assert_allclose([approx[u, i] for u, i in HIDDEN], [3.2535, 3.3314, 2.1553], atol=5e-5)


def test_ch03_one_sgd_step_by_hand():
    bu, bi = np.zeros(1), np.zeros(1)
    P, Q = np.array([[0.1, 0.2]]), np.array([[0.3, -0.1]])
    one = np.array([0])
    sgd_epoch(one, one, np.array([5.0]), one, 3.0, bu, bi, P, Q, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, True)
    assert bu[0] == pytest.approx(0.199) and bi[0] == pytest.approx(0.199)
    np.testing.assert_allclose(P[0], [0.1587, 0.1781], atol=1e-12)
    np.testing.assert_allclose(Q[0], [0.3169, -0.0592], atol=1e-12)


def test_ch03_one_als_user_by_hand():
    Q_u = np.array([[1.0, 0.2], [0.8, -0.1], [-0.5, 1.0]])
    r_u = np.array([5.0, 4.0, 2.0]) - 3.5
    R_u = sp.csr_matrix((r_u, ([0, 0, 0], [0, 1, 2])), shape=(1, 3))
    p = _als_half_step(R_u, Q_u, 0.1, True, np.zeros((1, 2)))[0]
    np.testing.assert_allclose(p, [1.1033, -0.6154], atol=5e-5)
    np.testing.assert_allclose(3.5 + Q_u @ p, [4.4802, 4.4442, 2.3330], atol=5e-5)


# ------------------------------------------------------- accuracy on real data
@pytest.fixture(scope="module")
def ml_split(movielens_ratings):
    from mathrec.split import random_split

    train, test = random_split(movielens_ratings, test_size=0.2, random_state=0)
    return train, test


@pytest.mark.slow
def test_accuracy_band_on_movielens(ml_split):
    """Chapter 3's comparison table: test RMSE on the 80/20 split (random_state=0)."""
    train, test = ml_split
    y, users, items = test.rating.to_numpy(), test.user.to_numpy(), test.item.to_numpy()

    def test_rmse(model):
        return np.sqrt(np.mean((y - model.fit(train).predict(users, items)) ** 2))

    assert test_rmse(BiasedMF(random_state=0)) == pytest.approx(0.8728, abs=0.005)
    assert test_rmse(BiasedMF(reg_all=0.1, n_epochs=60, random_state=0)) == pytest.approx(0.8525, abs=0.005)
    assert test_rmse(ALS(n_factors=10, n_iter=15, regularization=0.1, random_state=0)) == pytest.approx(
        0.8789, abs=0.005)


def test_puresvd_is_linalg_truncated_svd():
    """PureSVD's factors are mathrec.linalg.truncated_svd's, with its sign convention."""
    from mathrec.linalg import truncated_svd

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"user": rng.integers(0, 30, 200), "item": rng.integers(0, 20, 200),
                       "rating": rng.integers(1, 6, 200).astype(float)}).drop_duplicates(["user", "item"])
    for center in (None, "item"):
        m = PureSVD(n_factors=3, center=center, random_state=0).fit(df)
        R = m.interactions_.to_csr().toarray()
        X = R - (R.mean(axis=0) if center else 0.0)
        U, s, Vt = truncated_svd(X, 3)
        np.testing.assert_allclose(m.singular_values_, s, rtol=1e-10)
        np.testing.assert_allclose(m.user_factors_, U * s, atol=1e-8)
        np.testing.assert_allclose(m.item_factors_, Vt.T, atol=1e-8)


def test_scores_at_rounding_level_rank_as_ties_by_item_index():
    """A user outside PureSVD's subspace gets noise scores; they must not decide the list."""
    from mathrec import make_synthetic

    df, _ = make_synthetic(80, 50, 1500, random_state=0)
    lonely = pd.DataFrame({"user": ["lonely"], "item": ["only-here"], "rating": [4.0]})
    both = pd.concat([df[["user", "item", "rating"]], lonely], ignore_index=True)
    model = PureSVD(n_factors=3, random_state=0).fit(both)
    rec = model.recommend("lonely", n=10)
    assert np.abs(rec["score"]).max() < 1e-12          # nothing to say about this user
    order = model.interactions_.item_index(rec["item"].tolist())
    assert list(order) == sorted(order)                # so: ties, broken by item index
    scores = model._score_items(model.interactions_.user_index(["lonely"])[0])
    assert model._score_scale(scores) > 1.0            # the model's scale, not the user's


def test_puresvd_user_outside_the_span_scores_exactly_zero():
    # block-diagonal ratings: user 3 rated only "c", which the top singular vector does not
    # touch, so p_3 = x_3 V_1 = 0 exactly; ARPACK's rounding noise must not order the list
    df = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": ["a", "b", "a", "b", "c"],
                       "rating": [5.0, 4.0, 4.0, 5.0, 1.0]})
    m = PureSVD(n_factors=1, random_state=0).fit(df)
    u3 = m.interactions_.user_index(3)
    assert np.all(m.user_factors_[u3] == 0.0)
    rec = m.recommend(3, n=2)
    assert rec["score"].tolist() == [0.0, 0.0]
    assert rec["item"].tolist() == m.interactions_.items[:2].tolist()  # the documented tie rule
    assert np.abs(m.user_factors_[m.interactions_.user_index([1, 2])]).sum() > 1.0


# ------------------------------------------------- public single steps
def test_sgd_pass_is_the_models_epoch():
    from mathrec.factorization import _first_appearance_order, sgd_pass

    df = random_ratings(seed=3)
    fitted = BiasedMF(n_factors=3, n_epochs=1, random_state=0).fit(df)
    start = BiasedMF(n_factors=3, n_epochs=0, random_state=0).fit(df)
    bu, bi = start.user_bias_.copy(), start.item_bias_.copy()
    P, Q = start.user_factors_.copy(), start.item_factors_.copy()
    ii = start.interactions_
    first_u, _ = _first_appearance_order(ii.user_idx, ii.n_users)
    order = np.argsort(first_u[ii.user_idx], kind="stable")  # user by user, as the model visits
    sgd_pass(ii.user_idx, ii.item_idx, ii.ratings, start.global_mean_, bu, bi, P, Q,
             lr=0.005, reg=0.02, order=order)
    np.testing.assert_allclose(P, fitted.user_factors_, atol=1e-12)
    np.testing.assert_allclose(Q, fitted.item_factors_, atol=1e-12)
    np.testing.assert_allclose(bi, fitted.item_bias_, atol=1e-12)


def test_sgd_pass_one_step_by_hand_and_errors():
    from mathrec.factorization import sgd_pass

    bu, bi = np.zeros(1), np.zeros(1)
    P, Q = np.array([[0.1, 0.2]]), np.array([[0.3, -0.1]])
    sgd_pass([0], [0], [5.0], 3.0, bu, bi, P, Q, lr=0.1, reg=0.1)
    assert bu[0] == pytest.approx(0.199) and bi[0] == pytest.approx(0.199)
    np.testing.assert_allclose(Q[0], [0.3169, -0.0592], atol=1e-12)
    with pytest.raises(ValueError, match="same length"):
        sgd_pass([0, 0], [0], [5.0], 3.0, bu, bi, P, Q)
    with pytest.raises(ValueError, match="row positions"):
        sgd_pass([1], [0], [5.0], 3.0, bu, bi, P, Q)
    with pytest.raises(ValueError, match="float64"):
        sgd_pass([0], [0], [5.0], 3.0, bu, bi, P.astype(np.float32), Q)


def test_als_solve_matches_the_normal_equations():
    from mathrec.factorization import als_solve

    rng = np.random.RandomState(0)
    R = sp.random(6, 8, density=0.4, random_state=1, format="csr")
    Y = rng.standard_normal((8, 3))
    for weighted in (True, False):
        X = als_solve(R, Y, 0.3, weighted=weighted)
        for u in range(6):
            cols = R.indices[R.indptr[u]:R.indptr[u + 1]]
            if len(cols) == 0:
                np.testing.assert_array_equal(X[u], 0.0)
                continue
            Yu, ru = Y[cols], R.data[R.indptr[u]:R.indptr[u + 1]]
            w = len(cols) if weighted else 1
            np.testing.assert_allclose(X[u], np.linalg.solve(Yu.T @ Yu + 0.3 * w * np.eye(3), Yu.T @ ru),
                                       atol=1e-10)
    with pytest.raises(ValueError, match="columns"):
        als_solve(R, Y[:5], 0.3)
    with pytest.raises(ValueError, match="regularization"):
        als_solve(R, Y, -1.0)


@pytest.mark.parametrize("compiled_steps", [3, 50])
def test_implicit_als_solve_reaches_the_dense_solution(compiled_steps):
    from mathrec.factorization import implicit_als_solve

    rng = np.random.RandomState(2)
    C = sp.random(5, 9, density=0.3, random_state=3, format="csr")
    C.data = 1.0 + 4.0 * C.data
    Y = rng.standard_normal((9, 3))
    X = implicit_als_solve(C, Y, 0.2, cg_steps=compiled_steps)
    Cd = C.toarray()
    for u in range(5):
        cu = np.where(Cd[u] > 0, Cd[u], 1.0)
        pu = (Cd[u] > 0).astype(float)
        exact = np.linalg.solve(Y.T @ (cu[:, None] * Y) + 0.2 * np.eye(3), Y.T @ (cu * pu))
        np.testing.assert_allclose(X[u], exact, atol=1e-8)
    with pytest.raises(ValueError, match="X0"):
        implicit_als_solve(C, Y, 0.2, X0=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="cg_steps"):
        implicit_als_solve(C, Y, 0.2, cg_steps=0)
