"""The numbers of notebooks/ch03_deep_learning.ipynb (neural collaborative filtering), asserted.

The toy forward and backward passes and the parameter counts are checked
exactly; the expressiveness experiment by its robust facts (the error falls
with the width, larger embeddings are harder); figures from *ml-latest-small*
within bands around what the chapter prints.
"""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from mathrec import metrics
from mathrec.baselines import Popularity
from mathrec.evaluation import sampled_ranks
from mathrec.factorization import ImplicitALS, PureSVD
from mathrec.neural import GMF, Adam, Dense, GMFNetwork, LogitBCE, NeuMF
from mathrec.split import leave_last_out, random_split

needs_copy = pytest.mark.movielens

P = np.array([[0.5, -0.2], [0.1, 0.4], [-0.3, 0.2]])
Q = np.array([[0.3, 0.1], [-0.2, 0.5], [0.4, -0.1]])
H, B = np.array([1.0, 0.5]), 0.1
U, I = np.array([0, 0, 1]), np.array([0, 2, 0])
Y = np.array([1.0, 0.0, 1.0])


def _gmf_net():
    net = GMFNetwork(3, 3, 2, rng=np.random.RandomState(0))
    net.user_embedding.weight.value[:] = P
    net.item_embedding.weight.value[:] = Q
    net.output.weight.value[:] = H[:, None]
    net.output.bias.value[:] = B
    return net


def _numerical(loss_fn, params, eps=1e-6):
    grads = []
    for param in params:
        g = np.zeros_like(param.value)
        for idx in np.ndindex(param.value.shape):
            old = param.value[idx]
            param.value[idx] = old + eps
            up = loss_fn()
            param.value[idx] = old - eps
            down = loss_fn()
            param.value[idx] = old
            g[idx] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


# ------------------------------------------------------------- GMF, by hand
def test_toy_gmf_forward_and_backward():
    net = _gmf_net()
    out = LogitBCE()
    z = net.forward(U, I)
    np.testing.assert_allclose(z, [0.24, 0.31, 0.15])
    np.testing.assert_allclose(expit(z), [0.5597, 0.5769, 0.5374], atol=5e-5)
    assert out.forward(z, Y) == pytest.approx(0.6871, abs=5e-5)
    net.backward(out.backward())
    delta = (expit(z) - Y) / 3
    np.testing.assert_allclose(delta, [-0.1468, 0.1923, -0.1542], atol=5e-5)
    grads = [p.dense_grad() for p in net.parameters()]
    np.testing.assert_allclose(
        grads[0], [[0.0329, -0.0170], [-0.0463, -0.0077], [0, 0]], atol=5e-5
    )
    np.testing.assert_allclose(
        grads[1], [[-0.0888, -0.0162], [0, 0], [0.0961, -0.0192]], atol=5e-5
    )
    np.testing.assert_allclose(grads[2][:, 0], [0.0118, 0.0006], atol=5e-5)
    assert grads[3][0] == pytest.approx(-0.1087, abs=5e-5)

    def loss():
        return LogitBCE().forward(net.forward(U, I), Y)

    for g, fd in zip(grads, _numerical(loss, net.parameters())):
        np.testing.assert_allclose(g, fd, atol=1e-8)


def test_toy_dense_relu_backward():
    X = np.hstack([P[U], Q[I]])
    W = np.array([[1.0, -0.5], [0.5, 1.0], [-1.0, 0.5], [0.5, 1.0]])
    c = np.array([0.1, -0.2])
    rs = np.random.RandomState(0)
    hidden, top = Dense(4, 2, rng=rs), Dense(2, 1, rng=rs, activation=None)
    hidden.weight.value[:], hidden.bias.value[:] = W, c
    top.weight.value[:], top.bias.value[:] = np.array([[1.0], [-1.0]]), 0.0
    Z = X @ W + c
    np.testing.assert_allclose(Z, [[0.25, -0.4], [0.05, -0.55], [0.15, 0.4]])
    out = LogitBCE()
    out.forward(top.forward(hidden.forward(X))[:, 0], Y)
    dX = hidden.backward(top.backward(out.backward()[:, None]))
    np.testing.assert_allclose(
        hidden.weight.grad,
        [[-0.0063, 0.0187], [-0.0799, 0.0750], [-0.0317, 0.0562],
         [-0.0504, 0.0187]],
        atol=5e-5,
    )
    np.testing.assert_allclose(hidden.bias.grad, [-0.1625, 0.1874], atol=5e-5)
    np.testing.assert_allclose(
        dX[0], [-0.1459, -0.0730, 0.1459, -0.0730], atol=5e-5
    )

    def loss():
        return LogitBCE().forward(top.forward(hidden.forward(X))[:, 0], Y)

    fd = _numerical(loss, hidden.parameters())
    np.testing.assert_allclose(fd[0], hidden.weight.grad, atol=1e-8)
    # a unit switched off for every example gets no gradient (exercise 2)
    hidden.bias.value[:] = [-5.0, c[1]]
    out.forward(top.forward(hidden.forward(X))[:, 0], Y)
    hidden.backward(top.backward(out.backward()[:, None]))
    assert np.all(hidden.weight.grad[:, 0] == 0)


def test_gmf_with_unit_output_is_a_dot_product():
    net = _gmf_net()
    net.output.weight.value[:] = 1.0
    net.output.bias.value[:] = 0.0
    np.testing.assert_allclose(
        net.forward(U, I), np.einsum("bk,bk->b", P[U], Q[I])
    )


# ------------------------------------------------------------ expressiveness
def _task(k, seed=0, n=100, n_train=20_000, n_test=5_000):
    rng = np.random.default_rng(seed)
    Pe, Qe = rng.normal(size=(n, k)), rng.normal(size=(n, k))

    def pairs(m):
        a, c = rng.integers(0, n, m), rng.integers(0, n, m)
        return np.hstack([Pe[a], Qe[c]]), np.einsum("bk,bk->b", Pe[a], Qe[c])

    return pairs(n_train), pairs(n_test)


def _mlp_error(task, width, epochs=20, batch=128, seed=0):
    (Xtr, ytr), (Xte, yte) = task
    rs = np.random.RandomState(seed)
    l1 = Dense(Xtr.shape[1], width, rng=rs)
    l2 = Dense(width, 1, rng=rs, activation=None)
    opt = Adam(l1.parameters() + l2.parameters(), lr=0.003)
    for _ in range(epochs):
        order = rs.permutation(len(Xtr))
        for s in range(0, len(Xtr), batch):
            j = order[s:s + batch]
            pred = l2.forward(l1.forward(Xtr[j]))[:, 0]
            l1.backward(l2.backward((2 * (pred - ytr[j]) / len(j))[:, None]))
            opt.step()
    pred = l2.forward(l1.forward(Xte))[:, 0]
    return np.sqrt(np.mean((pred - yte) ** 2)) / yte.std()


def test_an_mlp_learns_a_dot_product_only_approximately():
    widths = [2, 8, 32, 128]
    err = {k: [_mlp_error(_task(k), w) for w in widths] for k in (4, 16)}
    for k in (4, 16):
        assert np.all(np.diff(err[k]) < 0)  # wider is better
    np.testing.assert_allclose(err[4], [0.91, 0.46, 0.17, 0.06], atol=0.006)
    np.testing.assert_allclose(err[16], [0.96, 0.74, 0.27, 0.11], atol=0.006)
    assert all(a < b for a, b in zip(err[4], err[16]))  # larger k: harder
    assert err[16][-1] > 0.05  # still far from exact with 4,353 weights


# --------------------------------------------------------------- MovieLens
ADAM = dict(n_epochs=5, batch_size=512, random_state=0)


def _candidates():
    return {
        "Popularity": [Popularity()],
        "PureSVD": [PureSVD(n_factors=k, random_state=0) for k in (10, 20, 50)],
        "ImplicitALS": [ImplicitALS(n_factors=64, regularization=reg, random_state=0)
                        for reg in (0.05, 5.0)],
        "GMF": [GMF(n_factors=k, lr=lr, **ADAM) for k in (16, 64) for lr in (0.001, 0.005)],
        "NeuMF": [NeuMF(n_factors=16, layers=(32, 16, 8), lr=0.005, pretrain=pre, **ADAM)
                  for pre in (False, True)],
    }


def _tuned():
    """The settings the chapter's validation picks (asserted in test_validation_...)."""
    return {
        "Popularity": Popularity(),
        "PureSVD": PureSVD(n_factors=50, random_state=0),
        "ImplicitALS": ImplicitALS(n_factors=64, regularization=5.0, random_state=0),
        "GMF": GMF(n_factors=64, lr=0.001, **ADAM),
        "NeuMF": NeuMF(n_factors=16, layers=(32, 16, 8), lr=0.005, pretrain=True, **ADAM),
    }


def _per_user(model, part, ratings):
    pos = part[part.rating >= 4].sort_values("user", kind="stable")
    relevant = pos.groupby("user").item.agg(set)
    users = relevant.index.to_numpy()
    top = model.recommend(list(users), n=10).groupby("user").item.agg(list)
    rank = sampled_ranks(model, pos, 100, exclude=ratings, random_state=0)
    hit = (rank["rank"] <= 10).groupby(rank["user"]).mean()
    return pd.DataFrame({
        "ndcg": [metrics.ndcg_at_k(top[v], relevant[v], 10) for v in users],
        "hr": [metrics.hit_rate_at_k(top[v], relevant[v], 10) for v in users],
        "sampled_hr": hit.loc[users].to_numpy(),
    }, index=users)


def _ci(values):
    values = np.asarray(values, dtype=float)
    idx = np.random.default_rng(0).integers(0, len(values), size=(2000, len(values)))
    return np.percentile(values[idx].mean(axis=1), [2.5, 97.5])


@pytest.fixture(scope="module")
def split(movielens_ratings):
    return random_split(movielens_ratings, test_size=0.2, random_state=0)


@pytest.fixture(scope="module")
def fitted(split):
    train, _ = split
    return {name: model.fit(train) for name, model in _tuned().items()}


@pytest.fixture(scope="module")
def scores(split, fitted, movielens_ratings):
    _, test = split
    return {m: _per_user(model, test, movielens_ratings) for m, model in fitted.items()}


@needs_copy
def test_validation_selects_the_stated_settings(split, movielens_ratings):
    train, _ = split
    fit_part, val = random_split(train, test_size=0.1, random_state=1)
    assert val[val.rating >= 4].user.nunique() == 537
    score = {}
    for name, models in _candidates().items():
        score[name] = [_per_user(m.fit(fit_part), val, movielens_ratings)["ndcg"].mean()
                       for m in models]
    chosen = {name: int(np.argmax(s)) for name, s in score.items()}
    assert chosen == {"Popularity": 0, "PureSVD": 2, "ImplicitALS": 1, "GMF": 2, "NeuMF": 1}
    np.testing.assert_allclose(score["PureSVD"], [0.133, 0.138, 0.147], atol=0.0005)
    np.testing.assert_allclose(score["ImplicitALS"], [0.133, 0.137], atol=0.0005)
    np.testing.assert_allclose(score["GMF"], [0.088, 0.093, 0.095, 0.081], atol=0.0005)
    np.testing.assert_allclose(score["NeuMF"], [0.069, 0.082], atol=0.0005)
    assert score["Popularity"][0] == pytest.approx(0.095, abs=0.0005)
    # the best GMF only ties Popularity on validation (both round to 0.095)
    assert round(max(score["GMF"]), 3) == round(score["Popularity"][0], 3)


@needs_copy
def test_parameter_counts(split, fitted):
    train, _ = split
    m, n = train.user.nunique(), train.item.nunique()
    count = {name: sum(p.value.size for p in model.network_.parameters())
             for name, model in fitted.items() if name in ("GMF", "NeuMF")}
    assert count == {"GMF": 611_393, "NeuMF": 306_353}
    assert count["GMF"] == (m + n) * 64 + 65
    svd = fitted["PureSVD"]
    assert svd.user_factors_.size + svd.item_factors_.size == 477_600
    als = fitted["ImplicitALS"]
    assert als.user_factors_.size + als.item_factors_.size == 611_328
    net = fitted["NeuMF"].network_
    dense = sum(p.value.size for p in net.parameters()
                if p.name.endswith(".weight"))
    assert dense + 16 == 680  # multiply-adds per scored pair
    assert dense - (16 + 8) == 640  # of which the MLP's hidden layers
    assert len(train) * 5 == 403_345  # examples per epoch, 4 negatives each
    neumf = fitted["NeuMF"]  # 15 epochs with its pre-training
    assert sum(len(m.history_) for m in (neumf.gmf_, neumf.mlp_, neumf)) == 15
    # activations of one batch of 512 against a dense users x movies matrix
    assert net.floats_per_example() * 512 * 8 / 1e6 == pytest.approx(0.76, abs=0.005)
    assert m * n * 8 / 1e6 == pytest.approx(44, abs=0.5)


@needs_copy
def test_full_ranking_puts_tuned_gmf_and_neumf_below_the_factor_models(scores):
    ndcg = {m: s["ndcg"].mean() for m, s in scores.items()}
    hr = {m: s["hr"].mean() for m, s in scores.items()}
    ci = {m: _ci(s["ndcg"]) for m, s in scores.items()}
    expected = {"Popularity": 0.159, "PureSVD": 0.270, "ImplicitALS": 0.250,
                "GMF": 0.177, "NeuMF": 0.148}
    for m, v in expected.items():
        assert ndcg[m] == pytest.approx(v, abs=0.0005), m
    for m, v in {"PureSVD": 0.752, "ImplicitALS": 0.738, "GMF": 0.601,
                 "NeuMF": 0.592}.items():
        assert hr[m] == pytest.approx(v, abs=0.0005), m
    for neural in ("GMF", "NeuMF"):  # the intervals do not overlap
        assert ci[neural][1] < min(ci["PureSVD"][0], ci["ImplicitALS"][0])
    assert ndcg["NeuMF"] < ndcg["GMF"]
    assert ci["NeuMF"][1] > ci["Popularity"][0]  # overlaps Popularity's


@needs_copy
def test_sampled_protocol_turns_the_order_round(scores):
    hr = {m: s["sampled_hr"].mean() for m, s in scores.items()}
    expected = {"NeuMF": 0.840, "GMF": 0.824, "ImplicitALS": 0.815, "PureSVD": 0.804}
    for m, v in expected.items():
        assert hr[m] == pytest.approx(v, abs=0.0005), m
    order = sorted(expected, key=hr.get, reverse=True)
    assert order == ["NeuMF", "GMF", "ImplicitALS", "PureSVD"]


@needs_copy
def test_leave_one_out_separates_almost_nothing(movielens_ratings):
    ratings = movielens_ratings
    lo_train, lo_test = leave_last_out(ratings)
    assert len(lo_test) == 587
    out = {}
    for name, model in _tuned().items():
        model.fit(lo_train)
        sampled = sampled_ranks(model, lo_test, 100, exclude=ratings,
                                random_state=0)["rank"].to_numpy()
        top = model.recommend(list(lo_test.user), n=10)
        full = lo_test.merge(top, on=["user", "item"], how="left")["rank"]
        full = full.fillna(11).to_numpy(dtype=float)
        out[name] = {
            "s_hr": sampled <= 10,
            "s_ndcg": np.where(sampled <= 10, 1 / np.log2(1 + sampled), 0),
            "f_hr": full <= 10,
        }
    mean = {m: {k: v.mean() for k, v in d.items()} for m, d in out.items()}
    assert mean["NeuMF"]["s_hr"] == pytest.approx(0.750, abs=0.0005)
    assert mean["ImplicitALS"]["s_ndcg"] == pytest.approx(0.523, abs=0.0005)
    assert mean["Popularity"]["s_hr"] == pytest.approx(0.634, abs=0.0005)
    assert mean["Popularity"]["s_ndcg"] == pytest.approx(0.360, abs=0.0005)
    assert max(mean, key=lambda m: mean[m]["s_hr"]) == "NeuMF"
    assert max(mean, key=lambda m: mean[m]["s_ndcg"]) == "ImplicitALS"
    assert mean["PureSVD"]["f_hr"] == pytest.approx(0.090, abs=0.0005)
    assert mean["NeuMF"]["f_hr"] == pytest.approx(0.058, abs=0.0005)
    assert mean["Popularity"]["f_hr"] == pytest.approx(0.044, abs=0.0005)
    lo, hi = _ci(out["GMF"]["f_hr"])
    assert lo <= mean["Popularity"]["f_hr"] <= hi
    half = (_ci(out["NeuMF"]["s_hr"])[1] - _ci(out["NeuMF"]["s_hr"])[0]) / 2
    assert half == pytest.approx(0.04, abs=0.006)  # "about +-0.04"
