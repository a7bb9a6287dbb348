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
from mathrec.factorization import PureSVD
from mathrec.neural import GMF, Adam, Dense, GMFNetwork, LogitBCE, NeuMF
from mathrec.split import random_split

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
@pytest.fixture(scope="module")
def split(movielens_ratings):
    return random_split(movielens_ratings, test_size=0.2, random_state=0)


@pytest.fixture(scope="module")
def fitted(split):
    train, _ = split
    neural = dict(n_epochs=5, batch_size=512, lr=0.005, random_state=0)
    return {
        "PureSVD": PureSVD(n_factors=20, random_state=0).fit(train),
        "GMF": GMF(n_factors=16, **neural).fit(train),
        "NeuMF": NeuMF(n_factors=16, layers=(32, 16, 8), **neural).fit(train),
    }


@pytest.fixture(scope="module")
def scores(split, fitted):
    train, test = split
    positives = test[test.rating >= 4].sort_values("user", kind="stable")
    relevant = positives.groupby("user").item.agg(set)
    users = relevant.index.to_numpy()
    catalogue = pd.Index(sorted(train.item.unique()))
    rated = pd.concat([train, test]).groupby("user").item.agg(set)
    rng = np.random.default_rng(0)
    neg = []
    for user, n_pos in positives.groupby("user").size().items():
        allowed = np.flatnonzero(~catalogue.isin(list(rated[user])))
        neg += [rng.choice(allowed, 100, replace=False) for _ in range(n_pos)]
    neg = catalogue.to_numpy()[np.array(neg)]
    out = {}
    for m, model in fitted.items():
        top = model.recommend(list(users), n=10).groupby("user").item.agg(list)
        pu = positives.user.to_numpy()
        s_pos = np.asarray(model.predict(pu, positives.item.to_numpy()))
        s_neg = np.asarray(model.predict(np.repeat(pu, 100), neg.ravel()))
        rank = 1 + (s_neg.reshape(-1, 100) > s_pos[:, None]).sum(axis=1)
        hit = pd.Series(rank <= 10, index=pu).groupby(level=0).mean()
        ndcg = np.array([metrics.ndcg_at_k(top[v], relevant[v], 10)
                         for v in users])
        idx = np.random.default_rng(0).integers(
            0, len(ndcg), size=(2000, len(ndcg)))
        out[m] = {
            "ndcg": ndcg.mean(),
            "ndcg_ci": np.percentile(ndcg[idx].mean(axis=1), [2.5, 97.5]),
            "hr": np.mean([metrics.hit_rate_at_k(top[v], relevant[v], 10)
                           for v in users]),
            "sampled_hr": hit.mean(),
        }
    return out


@needs_copy
def test_parameter_counts(split, fitted):
    train, _ = split
    m, n = train.user.nunique(), train.item.nunique()
    count = {name: sum(p.value.size for p in model.network_.parameters())
             for name, model in fitted.items() if name != "PureSVD"}
    assert count == {"GMF": 152_849, "NeuMF": 306_353}
    assert count["GMF"] == (m + n) * 16 + 17
    svd = fitted["PureSVD"]
    assert svd.user_factors_.size + svd.item_factors_.size == 191_040
    assert (m + n) * 64 == 611_328  # implicit ALS with 64 factors
    net = fitted["NeuMF"].network_
    dense = sum(p.value.size for p in net.parameters()
                if p.name.endswith(".weight"))
    assert dense + 16 == 680  # multiply-adds per scored pair


@needs_copy
def test_full_ranking_puts_gmf_and_neumf_below_puresvd(scores):
    assert scores["PureSVD"]["ndcg"] == pytest.approx(0.270, abs=0.002)
    assert scores["GMF"]["ndcg"] == pytest.approx(0.155, abs=0.02)
    assert scores["NeuMF"]["ndcg"] == pytest.approx(0.148, abs=0.02)
    assert max(scores["GMF"]["ndcg"], scores["NeuMF"]["ndcg"]) < 0.22
    low_svd = scores["PureSVD"]["ndcg_ci"][0]
    assert scores["GMF"]["ndcg_ci"][1] < low_svd  # the intervals do not overlap
    assert scores["NeuMF"]["ndcg_ci"][1] < low_svd
    assert scores["PureSVD"]["hr"] == pytest.approx(0.723, abs=0.002)
    assert scores["GMF"]["hr"] == pytest.approx(0.602, abs=0.03)
    assert scores["NeuMF"]["hr"] == pytest.approx(0.577, abs=0.03)


@needs_copy
def test_sampled_protocol_puts_them_level(scores):
    hr = {m: s["sampled_hr"] for m, s in scores.items()}
    assert hr["PureSVD"] == pytest.approx(0.839, abs=0.002)
    assert hr["GMF"] == pytest.approx(0.840, abs=0.01)
    assert hr["NeuMF"] == pytest.approx(0.840, abs=0.01)
    assert max(hr.values()) - min(hr.values()) < 0.02
