"""Every number that chapter 8 (notebooks/ch08_trends.ipynb) prints in its prose.

The toy fold-in and online-SGD examples are recomputed here, and the replay of
ml-latest-small (train on the first 80 % in time order, then ten batches) is
re-implemented independently of the notebook's code and checked against the
figures the chapter quotes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mathrec.factorization import ALS
from mathrec.incremental import IncrementalALS, OnlineMF, fold_in_users
from mathrec.metrics import recall_at_k

needs_copy = pytest.mark.movielens

TRAIN_TOY = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": [10, 20, 10, 30, 20],
                          "rating": [5.0, 3.0, 4.0, 1.0, 2.0]})


def _toy_als(n_iter=20):
    return ALS(n_factors=2, n_iter=n_iter, regularization=0.01, random_state=0).fit(TRAIN_TOY)


def test_zoe_fold_in_by_hand():
    als = _toy_als()
    assert als.global_mean_ == 3.0
    np.testing.assert_allclose(als.item_factors_, [[0.93, 0.1574], [-0.1439, 0.6276],
                                                   [-0.2979, -0.856]], atol=5e-5)
    Q = als.item_factors_[[0, 2]]
    A = Q.T @ Q + 0.01 * 2 * np.eye(2)
    b = Q.T @ (np.array([5.0, 1.0]) - 3.0)
    np.testing.assert_allclose(A, [[0.9737, 0.4014], [0.4014, 0.7774]], atol=5e-5)
    np.testing.assert_allclose(b, [2.4558, 2.0267], atol=5e-5)
    zoe = pd.DataFrame({"user": ["zoe", "zoe"], "item": [10, 30], "rating": [5.0, 1.0]})
    users, P = fold_in_users(als, zoe)
    np.testing.assert_allclose(P[0], np.linalg.solve(A, b), rtol=1e-12)
    np.testing.assert_allclose(P[0], [1.839, 1.6574], atol=5e-5)
    assert round(3.0 + P[0] @ als.item_factors_[1], 4) == 3.7755
    rec = IncrementalALS(als).fit(zoe).recommend("zoe", n=3)
    assert rec.item.tolist() == [20]
    assert round(rec.score.iloc[0], 4) == 3.7755


def test_training_user_fold_in_at_convergence():
    conv = _toy_als(n_iter=500)
    _, P = fold_in_users(conv, TRAIN_TOY[TRAIN_TOY.user == 1])
    fitted = conv.user_factors_[conv.interactions_.user_index(1)]
    np.testing.assert_allclose(fitted, [1.4068, 0.029], atol=5e-5)
    np.testing.assert_allclose(P[0], fitted, atol=5e-5)


def test_online_sgd_passes():
    model = OnlineMF(n_factors=2, n_epochs=50, lr_all=0.05, random_state=0).fit(TRAIN_TOY)
    seen = [round(model.predict(3, 30), 4)]
    event = pd.DataFrame({"user": [3], "item": [30], "rating": [5.0]})
    for _ in range(3):
        model.partial_fit(event)
        seen.append(round(model.predict(3, 30), 4))
    assert seen == [1.2882, 1.6807, 2.0288, 2.3397]


def test_exercise_cost_arithmetic():
    k = 50
    fold = 200 * k**2 + k**3 / 3
    sweep = 2 * 100836 * k**2 + (610 + 9724) * k**3 / 3     # 9,724 rated films: the model's columns
    assert round(fold) == 541667
    assert round(2 * 100836 * k**2 / 1e6, 1) == 504.2
    assert round(sweep / 1e6, 1) == 934.8
    assert round(sweep / fold) == 1726


@needs_copy
def test_replay_of_movielens(movielens_ratings):
    df = movielens_ratings.sort_values(["timestamp", "user", "item"], kind="stable")
    df = df.reset_index(drop=True)
    cut = int(0.8 * len(df))
    assert (len(df), cut, len(df) - cut) == (100836, 80668, 20168)
    train = df.iloc[:cut]
    stream = df.iloc[cut:]
    assert round(float((~stream.user.isin(train.user)).mean()), 3) == 0.905

    def fit(data):
        return ALS(n_factors=10, n_iter=10, regularization=0.1, random_state=0).fit(data)

    frozen = fit(train)
    refit = frozen
    fold = {}
    history = train
    errs = {"frozen": [], "fold": [], "refit": []}
    pooled = {name: np.zeros(4) for name in errs}  # sse and count: training users, newcomers
    train_users = set(train.user)
    recs = {"frozen": [], "fold": [], "refit": []}
    cost = {"fold": 0.0, "refit": 0.0}
    k = 10
    n_ret = []
    for idx in np.array_split(np.arange(cut, len(df)), 10):
        batch = df.iloc[idx]
        ret = batch[batch.user.isin(set(history.user))]
        n_ret.append(len(ret))
        for name, model in (("frozen", frozen), ("fold", frozen), ("refit", refit)):
            def p_of(u, model=model, name=name):
                if name == "fold" and u in fold:
                    return fold[u]
                j = model.interactions_.user_index(u, strict=False)
                return model.user_factors_[j] if j >= 0 else np.zeros(k)
            pred = []
            for u, i in zip(ret.user, ret.item):
                j = model.interactions_.item_index(i, strict=False)
                q = model.item_factors_[j] if j >= 0 else np.zeros(k)
                pred.append(np.clip(model.global_mean_ + p_of(u) @ q, *model.rating_range_))
            sq = (ret.rating.to_numpy() - np.array(pred)) ** 2
            errs[name].append(np.sqrt(np.mean(sq)))
            old = ret.user.isin(train_users).to_numpy()
            pooled[name] += [sq[old].sum(), old.sum(), sq[~old].sum(), (~old).sum()]
            r = []
            for u, grp in ret[ret.rating >= 4].groupby("user"):
                s = model.global_mean_ + model.item_factors_ @ p_of(u)
                done = model.interactions_.item_index(history[history.user == u].item.tolist(),
                                                      strict=False)
                s[done[done >= 0]] = -np.inf
                top = model.items_[np.argsort(-s, kind="stable")[:10]]
                r.append(recall_at_k(list(top), set(grp.item), 10))
            recs[name].append(np.mean(r))
        history = pd.concat([history, batch], ignore_index=True)
        changed = history[history.user.isin(set(batch.user))]
        users, P = fold_in_users(frozen, changed, unknown_items="ignore")
        fold.update(zip(users.tolist(), P))
        n_u = changed[changed.item.isin(set(frozen.items_))].groupby("user").size()
        cost["fold"] += n_u.sum() * k**2 + len(n_u) * k**3 / 3
        refit = fit(history)
        for key in ("user", "item"):
            n = history.groupby(key).size()
            cost["refit"] += 10 * (n.sum() * k**2 + len(n) * k**3 / 3)
    mean_rmse = {name: round(float(np.mean(v)), 4) for name, v in errs.items()}
    assert mean_rmse == {"frozen": 1.0720, "fold": 0.9972, "refit": 1.0012}
    mean_rec = {name: round(float(np.mean(v)), 4) for name, v in recs.items()}
    assert mean_rec == {"frozen": 0.0030, "fold": 0.0030, "refit": 0.0025}
    assert int(np.sum(np.array(errs["fold"]) < np.array(errs["frozen"]))) == 8
    assert round(cost["refit"] / cost["fold"]) == 236
    split = {name: (round(float(np.sqrt(v[0] / v[1])), 4), round(float(np.sqrt(v[2] / v[3])), 4))
             for name, v in pooled.items()}
    assert split["frozen"] == (1.0855, 1.0748)
    assert split["fold"] == (1.0824, 0.9653)
    assert split["refit"] == (1.0736, 0.9766)
    # pooled over all returning users' ratings (the fairer comparison than the batch mean)
    overall = {name: round(float(np.sqrt((v[0] + v[2]) / (v[1] + v[3]))), 4) for name, v in pooled.items()}
    assert overall == {"frozen": 1.0777, "fold": 0.9985, "refit": 1.0038}
    assert n_ret == [302, 560, 499, 402, 1544, 200, 765, 1631, 934, 237]   # 200 to 1,631 per batch
    assert pooled["frozen"][1] == 1921 and pooled["frozen"][3] == 5153


@needs_copy
def test_exercise_online_sgd_on_the_stream(movielens_ratings):
    """Exercise ex-ch08-online-stream: one SGD pass per batch beats a frozen BiasedMF."""
    df = movielens_ratings.sort_values(["timestamp", "user", "item"], kind="stable")
    df = df.reset_index(drop=True)
    cut = int(0.8 * len(df))
    train = df.iloc[:cut]
    online = OnlineMF(n_factors=10, n_epochs=20, random_state=0).fit(train)
    still = OnlineMF(n_factors=10, n_epochs=20, random_state=0).fit(train)
    history = train
    e_online, e_still = [], []
    for idx in np.array_split(np.arange(cut, len(df)), 10):
        batch = df.iloc[idx]
        seen = batch[batch.user.isin(set(history.user))]
        for model, out in ((online, e_online), (still, e_still)):
            pred = model.predict(seen.user.to_numpy(), seen.item.to_numpy(), unknown="fallback")
            out.append(np.sqrt(np.mean((seen.rating.to_numpy() - pred) ** 2)))
        online.partial_fit(batch[["user", "item", "rating", "timestamp"]])
        history = pd.concat([history, batch], ignore_index=True)
    e_online, e_still = np.array(e_online), np.array(e_still)
    assert round(float(e_online.mean()), 4) == 0.9457
    assert round(float(e_still.mean()), 4) == 0.9831
    # better in 6 of 10 batches, equal in the first, worse in batches 5, 9 and 10
    assert int((e_online < e_still).sum()) == 6
    assert e_online[0] == e_still[0]
    assert [t + 1 for t in np.flatnonzero(e_online > e_still)] == [5, 9, 10]
    assert round(float(e_online[9] - e_still[9]), 4) == 0.0001
    # against ALS fold-in's per-batch RMSE (the chapter's replay table): better in 6 of 10
    fold_in = np.array([1.1482, 1.0576, 1.0109, 1.3079, 0.7814, 0.8268, 1.0522, 1.0946, 0.9327, 0.7599])
    assert int((e_online.round(4) < fold_in).sum()) == 6
    # both below the ALS strategies' mean RMSE on average (best: fold-in, 0.9972)
    assert e_online.mean() < 0.9972 and e_still.mean() < 0.9972
