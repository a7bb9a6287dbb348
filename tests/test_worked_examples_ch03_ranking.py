"""The numbers of notebooks/ch03_ranking.ipynb (BPR and EASE), asserted.

The hand examples (the BPR loss, gradients and SGD step, the EASE closed form
against one ridge regression per column, the memory arithmetic) are checked
exactly; the MovieLens figures to the three decimals the chapter prints.
"""

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from mathrec._kernels import bpr_kernel
from mathrec.baselines import Popularity
from mathrec.evaluation import evaluate
from mathrec.factorization import ImplicitALS, PureSVD, implicit_als_solve
from mathrec.losses import binary_cross_entropy
from mathrec.ranking import BPR, EASE
from mathrec.split import random_split

needs_copy = pytest.mark.movielens


# ------------------------------------------------------------- BPR by hand
def sigmoid(x):
    return 1 / (1 + np.exp(-x))


P_U = np.array([0.5, -0.2])
Q_I, B_I = np.array([0.8, 0.1]), 0.2
Q_J, B_J = np.array([0.3, 0.6]), 0.4
ETA, LAM = 0.1, 0.01


def hand_gradients():
    z = sigmoid(-(P_U @ (Q_I - Q_J) + B_I - B_J))
    return {
        "p_u": -z * (Q_I - Q_J) + LAM * P_U,
        "q_i": -z * P_U + LAM * Q_I,
        "q_j": z * P_U + LAM * Q_J,
        "b_i": -z + LAM * B_I,
        "b_j": z + LAM * B_J,
    }


def hand_step():
    before = {"p_u": P_U, "q_i": Q_I, "q_j": Q_J, "b_i": B_I, "b_j": B_J}
    return {k: before[k] - ETA * g for k, g in hand_gradients().items()}


def test_bpr_pair_with_logit_ln4_costs_chapter_4s_example():
    x = math.log(4)
    assert sigmoid(x) == pytest.approx(0.8, abs=1e-15)
    loss = binary_cross_entropy([1], logits=[x])
    assert loss == pytest.approx(binary_cross_entropy([1], [0.8]), abs=1e-12)
    assert round(loss, 4) == 0.2231


def test_bpr_toy_triple_scores_and_loss():
    x_ui = P_U @ Q_I + B_I
    x_uj = P_U @ Q_J + B_J
    x = x_ui - x_uj
    assert (round(x_ui, 2), round(x_uj, 2), round(x, 2)) == (0.58, 0.43, 0.15)
    assert x == pytest.approx(0.15, abs=1e-12)
    assert round(sigmoid(x), 4) == 0.5374
    assert round(sigmoid(-x), 4) == 0.4626
    loss = binary_cross_entropy([1], logits=[x])
    assert loss == pytest.approx(-math.log(sigmoid(x)), abs=1e-12)
    assert round(loss, 4) == 0.6210


def test_bpr_toy_gradients_and_step():
    g = hand_gradients()
    np.testing.assert_allclose(g["p_u"], [-0.2263, 0.2293], atol=5e-5)
    np.testing.assert_allclose(g["q_i"], [-0.2233, 0.0935], atol=5e-5)
    np.testing.assert_allclose(g["q_j"], [0.2343, -0.0865], atol=5e-5)
    assert g["b_i"] == pytest.approx(-0.4606, abs=5e-5)
    assert g["b_j"] == pytest.approx(0.4666, abs=5e-5)
    a = hand_step()
    np.testing.assert_allclose(a["p_u"], [0.5226, -0.2229], atol=5e-5)
    np.testing.assert_allclose(a["q_i"], [0.8223, 0.0906], atol=5e-5)
    np.testing.assert_allclose(a["q_j"], [0.2766, 0.6087], atol=5e-5)
    assert a["b_i"] == pytest.approx(0.2461, abs=5e-5)
    assert a["b_j"] == pytest.approx(0.3533, abs=5e-5)
    x_after = a["p_u"] @ (a["q_i"] - a["q_j"]) + a["b_i"] - a["b_j"]
    assert round(x_after, 4) == 0.2934


def test_bpr_toy_gradients_match_finite_differences():
    def objective(t):
        logit = t[:2] @ (t[2:4] - t[4:6]) + t[6] - t[7]
        return binary_cross_entropy([1], logits=[logit]) + LAM / 2 * t @ t

    theta = np.concatenate([P_U, Q_I, Q_J, [B_I, B_J]])
    h = 1e-6
    numeric = [
        (objective(theta + h * e) - objective(theta - h * e)) / (2 * h)
        for e in np.eye(8)
    ]
    analytic = np.concatenate([np.ravel(v) for v in hand_gradients().values()])
    np.testing.assert_allclose(numeric, analytic, rtol=0, atol=1e-8)


@pytest.mark.parametrize("compiled", [True, False])
def test_bpr_kernel_takes_the_hand_step(compiled):
    P = P_U[np.newaxis, :].copy()
    Q = np.array([Q_I, Q_J])
    b = np.array([B_I, B_J])
    one = np.array([0])
    total = bpr_kernel(compiled)(one, one, one + 1, P, Q, b, ETA, LAM, True)
    assert total == pytest.approx(0.6210, abs=5e-5)
    a = hand_step()
    np.testing.assert_allclose(P[0], a["p_u"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(Q[0], a["q_i"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(Q[1], a["q_j"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(b, [a["b_i"], a["b_j"]], rtol=0, atol=1e-12)


def test_bpr_saturation_exercise():
    assert round(binary_cross_entropy([1], logits=[5.0]), 4) == 0.0067
    assert round(binary_cross_entropy([1], logits=[-5.0]), 4) == 5.0067
    assert round(sigmoid(-5.0), 4) == 0.0067
    assert round(sigmoid(5.0), 4) == 0.9933


# ------------------------------------------------------------ EASE by hand
X_TOY = np.array(
    [[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 0], [1, 0, 0, 1], [0, 0, 1, 1]],
    dtype=float,
)


def closed_form(X, lam):
    P = np.linalg.inv(X.T @ X + lam * np.eye(X.shape[1]))
    return np.eye(X.shape[1]) - P / np.diag(P)


def test_ease_toy_closed_form_equals_ridge_per_column():
    B = closed_form(X_TOY, 1.0)
    n = X_TOY.shape[1]
    direct = np.zeros((n, n))
    for j in range(n):
        o = [c for c in range(n) if c != j]
        Xo = X_TOY[:, o]
        direct[o, j] = np.linalg.solve(
            Xo.T @ Xo + np.eye(n - 1), Xo.T @ X_TOY[:, j]
        )
    np.testing.assert_allclose(B, direct, rtol=0, atol=1e-12)
    # the values the chapter prints (fractions: 6/13, 9/16, 1/3, 4/13, 3/8)
    np.testing.assert_allclose(
        B,
        [
            [0, 6 / 13, -1 / 8, 1 / 3],
            [9 / 16, 0, 9 / 16, -1 / 3],
            [-1 / 8, 6 / 13, 0, 1 / 3],
            [3 / 8, -4 / 13, 3 / 8, 0],
        ],
        atol=1e-12,
    )
    np.testing.assert_allclose(
        (X_TOY @ B)[3], [0.375, 2 / 13, 0.25, 1 / 3], atol=1e-12
    )


def test_ease_toy_closed_form_equals_scikit_learn_ridge():
    sklearn = pytest.importorskip("sklearn.linear_model")
    B = closed_form(X_TOY, 1.0)
    for j in range(4):
        o = [c for c in range(4) if c != j]
        ridge = sklearn.Ridge(alpha=1.0, fit_intercept=False)
        ridge.fit(X_TOY[:, o], X_TOY[:, j])
        np.testing.assert_allclose(ridge.coef_, B[o, j], atol=1e-10)


def test_ease_toy_mathrec_weights():
    u, i = np.nonzero(X_TOY)
    frame = pd.DataFrame({"user": u, "item": i, "rating": 1.0})
    model = EASE(regularization=1.0).fit(frame)
    order = model.items_.tolist()
    assert order == [0, 1, 2, 3]
    np.testing.assert_allclose(
        model.weights_, closed_form(X_TOY, 1.0), rtol=0, atol=1e-12
    )


def test_ease_large_lambda_tends_to_co_occurrence():
    G = X_TOY.T @ X_TOY
    B = closed_form(X_TOY, 1e4)
    off = ~np.eye(4, dtype=bool)
    np.testing.assert_allclose((1e4 * B)[off], G[off], atol=5e-3)
    assert np.array_equal(np.round(1e4 * B * off, 2) + 0.0, G * off)


def test_ease_memory_arithmetic():
    assert 8 * 8_942**2 == 639_674_912
    assert round(639_674_912 / 1e9, 2) == 0.64
    assert round(639_674_912 / 2**30, 2) == 0.60
    assert 8 * 26_744**2 == 5_721_932_288
    assert round(5_721_932_288 / 1e9, 2) == 5.72
    assert round(5_721_932_288 / 2**30, 2) == 5.33
    assert round(4 * 26_744**2 / 1e9, 2) == 2.86
    assert round(8 * 3_214**2 / 1e9, 2) == 0.08
    assert round((8_942 / 3_214) ** 3) == 22


# ----------------------------------------------------------- on MovieLens
@pytest.fixture(scope="module")
def split(movielens_ratings):
    ratings = movielens_ratings[["user", "item", "rating"]]
    return random_split(ratings, test_size=0.2, random_state=0)


@pytest.fixture(scope="module")
def fitted(split):
    train, _ = split
    models = {
        "Popularity": Popularity(),
        "ImplicitALS": ImplicitALS(
            n_factors=64, regularization=0.05, alpha=1.0, random_state=0
        ),
        "BPR": BPR(random_state=0),
        "BPR popularity": BPR(sampling="popularity", random_state=0),
        "BPR no bias": BPR(item_bias=False, random_state=0),
        "PureSVD": PureSVD(n_factors=20, random_state=0),
        "EASE": EASE(regularization=500.0),
    }
    return {name: m.fit(train) for name, m in models.items()}


def _metrics(model, split, threshold):
    train, test = split
    table = evaluate(
        model,
        train,
        test,
        k=10,
        relevance_threshold=threshold,
        fit=False,
        rating_metrics=False,
    ).set_index("metric")["value"]
    return table["ndcg@k"], table["recall@k"]


@needs_copy
def test_training_part_triples_and_sampler_shares(split):
    train, _ = split
    n_items = train.item.nunique()
    assert (len(train), train.user.nunique(), n_items) == (80_669, 610, 8_942)
    per_user = train.groupby("user").size()
    n_triples = int((per_user * (n_items - per_user)).sum())
    assert n_triples == 682_403_231
    assert round(n_triples / len(train)) == 8_459
    counts = train.item.value_counts()
    assert round(100 * 100 / n_items, 1) == 1.1
    assert round(100 * counts.iloc[:100].sum() / counts.sum(), 1) == 16.1
    assert int((counts >= 5).sum()) == 3_214


@needs_copy
@pytest.mark.parametrize(
    "name, ndcg, recall, ndcg_watched",
    [
        ("Popularity", 0.159, 0.100, 0.189),
        ("ImplicitALS", 0.238, 0.189, 0.303),
        ("PureSVD", 0.270, 0.186, 0.322),
        ("BPR", 0.205, 0.147, 0.275),
        ("BPR popularity", 0.117, 0.097, None),
        ("BPR no bias", 0.207, 0.149, None),
        ("EASE", 0.296, 0.219, 0.367),
    ],
)
def test_top10_figures(fitted, split, name, ndcg, recall, ndcg_watched):
    # the chapter prints three decimals. The metrics are means of per-user
    # fractions, so they move in jumps (one more hit for a user with R
    # relevant movies moves recall by 1 / (596 R)); a value must be at least
    # 1e-5 from a rounding edge, about one hit of the heaviest test user
    got_ndcg, got_recall = _metrics(fitted[name], split, 4.0)
    got = [(got_ndcg, ndcg), (got_recall, recall)]
    if ndcg_watched is not None:
        got.append((_metrics(fitted[name], split, 0.5)[0], ndcg_watched))
    for value, printed in got:
        assert round(value, 3) == printed
        assert abs(value * 1000 - round(value * 1000) - 0.5) > 0.01
        assert abs(value * 1000 - round(value * 1000) + 0.5) > 0.01


@needs_copy
def test_ease_beats_every_other_list_maker(fitted, split):
    ease_ndcg, ease_recall = _metrics(fitted["EASE"], split, 4.0)
    for name in ("Popularity", "ImplicitALS", "PureSVD", "BPR"):
        ndcg, recall = _metrics(fitted[name], split, 4.0)
        assert ease_ndcg > ndcg + 0.02 and ease_recall > recall + 0.02


@needs_copy
def test_bpr_loss_history_and_item_bias(fitted):
    bpr = fitted["BPR"]
    h = bpr.history_.objective
    assert (round(h.iloc[0], 3), round(h.iloc[-1], 3)) == (0.550, 0.053)
    assert h.iloc[0] < math.log(2)
    counts = bpr.interactions_.to_frame().item.value_counts()
    bias = pd.Series(bpr.item_bias_, index=bpr.items_)
    corr = np.corrcoef(bias, counts.reindex(bias.index))[0, 1]
    assert round(corr, 2) == 0.80


@needs_copy
def test_cg_residuals_of_one_implicit_als_user(fitted):
    ials = fitted["ImplicitALS"]
    inter = ials.interactions_
    Y = ials.item_factors_
    counts = np.bincount(inter.user_idx, minlength=inter.n_users)
    u = int(np.argsort(counts, kind="stable")[inter.n_users // 2])
    mine = inter.user_idx == u
    assert mine.sum() == 57
    c = 1 + inter.ratings[mine]
    C = sp.csr_matrix(
        (c, (np.zeros(mine.sum(), dtype=int), inter.item_idx[mine])),
        shape=(1, inter.n_items),
    )
    Yu = Y[inter.item_idx[mine]]
    A = Y.T @ Y + (Yu.T * (c - 1)) @ Yu + 0.05 * np.eye(64)
    b = Yu.T @ c

    def residuals(start):
        return np.array([
            np.linalg.norm(
                b - A @ implicit_als_solve(C, Y, 0.05, cg_steps=s, X0=start)[0]
            )
            / np.linalg.norm(b)
            for s in range(1, 31)
        ])

    cold = residuals(np.zeros((1, 64)))
    warm = residuals(ials.user_factors_[[u]])
    assert [f"{cold[s - 1]:.0e}" for s in (1, 3, 10)] == [
        "4e-01", "2e-02", "1e-06"
    ]
    assert [f"{warm[s - 1]:.0e}" for s in (1, 3, 10)] == [
        "6e-03", "9e-04", "4e-08"
    ]
    # geometric decrease, a factor of three to four a step, to a floor
    ratios = cold[1:12] / cold[:11]
    assert np.all((ratios > 0.15) & (ratios < 0.4))
    assert np.all(warm[:12] < cold[:12])
    assert cold[19] < 1e-10 and warm[19] < 1e-10
    assert cold[2] / warm[2] > 10
