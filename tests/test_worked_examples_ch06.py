"""Every number of chapter 6 (notebooks/ch06_applications.ipynb, source section 6) asserted.

The MovieLens part rebuilds the chapter's click log ("click" = rating >= 4), its
random splits, features, baselines and models the same way the chapter does, and
checks each figure its prose quotes.
"""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from mathrec.ctr import LogisticCTR, calibration_table, expected_calibration_error, one_hot_features
from mathrec.losses import binary_cross_entropy

needs_movielens = pytest.mark.movielens


# ----------------------------------------------------------------------------
# the worked example by hand
# ----------------------------------------------------------------------------
TOY = pd.DataFrame({"user": list("AAABBB"), "item": list("xyzxyz"), "click": [1, 1, 0, 1, 0, 0]})


def test_toy_gradient_at_zero():
    X, vocab = one_hot_features(TOY, ["user", "item"])
    assert list(vocab) == ["user=A", "user=B", "item=x", "item=y", "item=z"]
    y = TOY["click"].to_numpy()
    grad = X.T @ (0.5 - y) / 6
    np.testing.assert_allclose(grad, [-1 / 12, 1 / 12, -1 / 6, 0, 1 / 6], atol=1e-15)
    assert round(-1 / 12, 4) == -0.0833 and round(-1 / 6, 4) == -0.1667
    # the model's own gradient at zero is the same (plus the intercept's 0)
    _, g = LogisticCTR(alpha=0.1)._objective(np.zeros(6), X, y.astype(float))
    np.testing.assert_allclose(g, [-1 / 12, 1 / 12, -1 / 6, 0, 1 / 6, 0], atol=1e-15)


def test_toy_fit():
    X, _ = one_hot_features(TOY, ["user", "item"])
    model = LogisticCTR(alpha=0.1).fit(X, TOY["click"])
    np.testing.assert_allclose(model.coef_.round(4) + 0.0, [0.4012, -0.4012, 0.9518, 0.0, -0.9518])
    assert round(model.intercept_, 4) + 0.0 == 0.0
    np.testing.assert_allclose(model.predict_proba(X)[:, 1].round(4),
                               [0.7946, 0.5990, 0.3657, 0.6343, 0.4010, 0.2054])


def test_toy_optimality_conditions():
    # the gradient of J vanishes at the fit: per feature, (sum of errors)/N + lambda w = 0
    X, vocab = one_hot_features(TOY, ["user", "item"])
    y = TOY["click"].to_numpy()
    model = LogisticCTR(alpha=0.1).fit(X, y)
    err = model.predict_proba(X)[:, 1] - y
    sums = X.T @ err
    np.testing.assert_allclose(sums.round(4) + 0.0, [-0.2407, 0.2407, -0.5711, 0.0, 0.5711])
    np.testing.assert_allclose(sums / 6 + 0.1 * model.coef_, 0, atol=1e-6)
    assert abs(err.sum()) < 1e-6                       # the intercept's condition
    assert round(-0.2407 / 6 + 0.1 * 0.4012, 4) == 0   # the prose's hand check for user A


def test_cross_entropy_versus_squared_error_gradient():
    z, y = -4.0, 1.0
    p = 1 / (1 + math.exp(-z))
    assert round(p, 4) == 0.018
    assert round(p - y, 4) == -0.982
    assert round((p - y) * p * (1 - p), 4) == -0.0173
    assert round((p - y) / ((p - y) * p * (1 - p)), 1) == 56.6
    # squared error's gradient peaks where p = 1/3, i.e. z = -ln 2
    zs = np.linspace(-8, 8, 160001)
    ps = 1 / (1 + np.exp(-zs))
    assert zs[np.argmax((1 - ps) * ps * (1 - ps))] == pytest.approx(-math.log(2), abs=1e-3)


def test_exercise_c_equals_one_over_lambda_n():
    assert 1 / (1e-4 * 80_000) == pytest.approx(0.125)


def test_exercise_sharp_model_ece_and_auc(rng):
    y = rng.integers(0, 2, 1000)
    p = np.where(y == 1, 0.9, 0.1)
    assert expected_calibration_error(y, p) == pytest.approx(0.1)
    assert roc_auc_score(y, p) == 1.0


# ----------------------------------------------------------------------------
# MovieLens
# ----------------------------------------------------------------------------
def _popularity_ctr(train_log, test_log, a):
    base = train_log["click"].mean()
    counts = train_log.groupby("item")["click"].agg(["sum", "count"])
    ctr = (counts["sum"] + a * base) / (counts["count"] + a)
    return test_log["item"].map(ctr).fillna(base).to_numpy()


@pytest.fixture(scope="module")
def chapter(movielens_ratings, movielens_home):
    from mathrec.datasets import load_movielens_items
    from mathrec.split import random_split

    ratings = movielens_ratings
    movies = load_movielens_items(data_home=movielens_home, download=False)
    log = ratings.merge(movies[["item", "genres"]], on="item", how="left")
    log["click"] = (log["rating"] >= 4).astype(int)
    train, test = random_split(log, test_size=0.2, random_state=0)
    fit_part, valid = random_split(train, test_size=0.2, random_state=1)
    cols, crosses = ["user", "item"], [("user", "genres")]
    X_train, vocab = one_hot_features(train, cols, crosses=crosses)
    X_test, _ = one_hot_features(test, cols, crosses=crosses, vocabulary=vocab)
    X_fit, vocab_fit = one_hot_features(fit_part, cols, crosses=crosses)
    X_valid, _ = one_hot_features(valid, cols, crosses=crosses, vocabulary=vocab_fit)
    y_train, y_test = train["click"].to_numpy(), test["click"].to_numpy()
    valid_pop = {a: binary_cross_entropy(valid["click"], _popularity_ctr(fit_part, valid, a))
                 for a in (1, 3, 10, 30)}
    valid_lr = {lam: binary_cross_entropy(
        valid["click"], LogisticCTR(alpha=lam).fit(X_fit, fit_part["click"]).predict_proba(X_valid)[:, 1])
        for lam in (1e-5, 3e-5, 1e-4, 3e-4)}
    a_best = min(valid_pop, key=valid_pop.get)
    lam = min(valid_lr, key=valid_lr.get)
    model = LogisticCTR(alpha=lam).fit(X_train, y_train)
    X_train_ui, vocab_ui = one_hot_features(train, cols)
    X_test_ui, _ = one_hot_features(test, cols, vocabulary=vocab_ui)
    p_ui = LogisticCTR(alpha=lam).fit(X_train_ui, y_train).predict_proba(X_test_ui)[:, 1]
    return dict(log=log, train=train, test=test, fit_part=fit_part, valid=valid, vocab=vocab,
                X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test,
                valid_pop=valid_pop, valid_lr=valid_lr, a_best=a_best, lam=lam, model=model,
                p_pop=_popularity_ctr(train, test, a_best), p_ui=p_ui,
                p_ctr=model.predict_proba(X_test)[:, 1])


@needs_movielens
def test_click_log(chapter):
    log = chapter["log"]
    assert (len(log), log["user"].nunique(), log["item"].nunique()) == (100836, 610, 9724)
    assert round(log["click"].mean(), 4) == 0.4818
    assert (len(chapter["train"]), len(chapter["test"])) == (80669, 19308)
    assert (len(chapter["fit_part"]), len(chapter["valid"])) == (64535, 15344)


@needs_movielens
def test_features(chapter):
    blocks = pd.Series([n.split("=")[0] for n in chapter["vocab"]]).value_counts()
    assert blocks.to_dict() == {"user": 610, "item": 8942, "user×genres": 9736}
    X = chapter["X_train"]
    assert X.shape == (80669, 19288) and X.nnz == 380777
    assert round(X.nnz / X.shape[0], 2) == 4.72
    ones = np.diff(X.indptr)                  # features switched on per impression
    assert (ones.min(), ones.max()) == (2, 12)
    assert round((ones >= 5).mean(), 2) == 0.55


@needs_movielens
def test_validation_choices(chapter):
    assert {a: round(v, 4) for a, v in chapter["valid_pop"].items()} == {
        1: 0.6481, 3: 0.6378, 10: 0.6385, 30: 0.6481}
    expected = {1e-5: 0.5602, 3e-5: 0.5496, 1e-4: 0.5581, 3e-4: 0.5785}
    for lam, v in chapter["valid_lr"].items():
        assert v == pytest.approx(expected[lam], abs=2e-4)
    assert chapter["a_best"] == 3 and chapter["lam"] == 3e-5


@needs_movielens
def test_agreement_with_sklearn(chapter):
    from threadpoolctl import threadpool_limits

    X, y, lam = chapter["X_train"], chapter["y_train"], chapter["lam"]
    C = 1 / (lam * X.shape[0])
    assert round(C, 4) == 0.4132
    with threadpool_limits(limits=1, user_api="blas"):
        sk = LogisticRegression(C=C, tol=1e-10, max_iter=5000).fit(X, y)
    model = chapter["model"]
    # the chapter prints these bounds (the exact differences depend on the processor)
    assert np.abs(model.coef_ - sk.coef_.ravel()).max() < 1e-4
    assert np.abs(chapter["p_ctr"] - sk.predict_proba(chapter["X_test"])[:, 1]).max() < 1e-5
    assert model.n_iter_ < 500
    assert model.loss_curve_[0] == pytest.approx(math.log(2))


@needs_movielens
def test_results_table(chapter):
    y = chapter["y_test"]
    rows = {
        "constant": (np.full(len(y), chapter["y_train"].mean()), 0.6927, 0.5000, 0.0029),
        "popularity": (chapter["p_pop"], 0.6344, 0.6939, 0.0177),
        "user + item": (chapter["p_ui"], 0.5616, 0.7831, 0.0223),
        "full": (chapter["p_ctr"], 0.5499, 0.7936, 0.0116),
    }
    for name, (p, ll, auc, ece) in rows.items():
        assert binary_cross_entropy(y, p) == pytest.approx(ll, abs=2e-4), name
        assert roc_auc_score(y, p) == pytest.approx(auc, abs=2e-4), name
        assert expected_calibration_error(y, p, n_bins=10) == pytest.approx(ece, abs=3e-4), name
    # exercise: the entropy of the training click rate
    yb = chapter["y_train"].mean()
    assert round(yb, 4) == 0.4822
    assert round(-(yb * np.log(yb) + (1 - yb) * np.log(1 - yb)), 4) == 0.6925


@needs_movielens
def test_calibration_table_ends(chapter):
    t = calibration_table(chapter["y_test"], chapter["p_ctr"], n_bins=10)
    assert len(t) == 10
    assert t["mean_predicted"].iloc[0] == pytest.approx(0.0611, abs=2e-4)
    assert t["observed_rate"].iloc[0] == pytest.approx(0.0611, abs=2e-3)
    assert t["mean_predicted"].iloc[-1] == pytest.approx(0.9349, abs=2e-4)
    assert t["observed_rate"].iloc[-1] == pytest.approx(0.9099, abs=3e-3)


@needs_movielens
def test_replay_lift(chapter):
    K = 5
    test = chapter["test"]
    replay = test[["user", "item", "click"]].copy()
    replay["pop"], replay["pers"] = chapter["p_pop"], chapter["p_ctr"]
    replay = replay[replay.groupby("user")["click"].transform("size") >= 10]
    assert replay["user"].nunique() == 382

    def top_k(score):
        top = (replay.sort_values(["user", score, "item"], ascending=[True, False, True], kind="stable")
               .groupby("user").head(K))
        return top.groupby("user")["click"].mean()

    by_user = replay.groupby("user")["click"]
    pop_k, pers_k = top_k("pop"), top_k("pers")
    assert round(by_user.mean().mean(), 4) == 0.5448
    assert pop_k.mean() == pytest.approx(0.7251, abs=5e-4)
    assert pers_k.mean() == pytest.approx(0.7346, abs=5e-4)
    assert round((by_user.sum().clip(upper=K) / K).mean(), 4) == 0.9749
    assert round(pers_k.mean() / pop_k.mean() - 1, 3) == 0.013
    diff = pers_k - pop_k
    assert diff.mean() == pytest.approx(0.0094, abs=5e-4)
    se = diff.std(ddof=1) / np.sqrt(len(diff))
    assert se == pytest.approx(0.0092, abs=5e-4)
    assert abs(diff.mean()) < 2 * se  # the prose: not distinguishable from zero

    both = replay.groupby("user")["click"].transform("nunique") == 2
    aucs = {s: replay[both].groupby("user")[[s, "click"]].apply(lambda g: roc_auc_score(g["click"], g[s]))
            for s in ("pop", "pers")}
    assert len(aucs["pop"]) == 378
    assert aucs["pop"].mean() == pytest.approx(0.6836, abs=5e-4)
    assert aucs["pers"].mean() == pytest.approx(0.6955, abs=5e-4)
    # group AUC: weighted by each user's number of impressions
    sizes = replay[both].groupby("user").size()
    gauc = {s: np.average(a, weights=sizes.loc[a.index]) for s, a in aucs.items()}
    assert gauc["pop"] == pytest.approx(0.6991, abs=5e-4)
    assert gauc["pers"] == pytest.approx(0.7135, abs=5e-4)


@needs_movielens
def test_temporal_split_exercise(chapter):
    log = chapter["log"]
    by_time = log.sort_values(["timestamp", "user", "item"], kind="stable").reset_index(drop=True)
    cut = int(0.8 * len(by_time))
    early, late = by_time.iloc[:cut], by_time.iloc[cut:]
    late = late[late["user"].isin(early["user"]) & late["item"].isin(early["item"])]
    assert (len(late), late["user"].nunique()) == (1311, 28)
    cols, crosses = ["user", "item"], [("user", "genres")]
    X_early, vocab = one_hot_features(early, cols, crosses=crosses)
    X_late, _ = one_hot_features(late, cols, crosses=crosses, vocabulary=vocab)
    y = late["click"].to_numpy()
    p_lr = LogisticCTR(alpha=chapter["lam"]).fit(X_early, early["click"]).predict_proba(X_late)[:, 1]
    p_pop = _popularity_ctr(early, late, chapter["a_best"])
    assert binary_cross_entropy(y, p_lr) == pytest.approx(0.5474, abs=2e-4)
    assert roc_auc_score(y, p_lr) == pytest.approx(0.7907, abs=2e-4)
    assert binary_cross_entropy(y, p_pop) == pytest.approx(0.6484, abs=2e-4)
    assert roc_auc_score(y, p_pop) == pytest.approx(0.6692, abs=2e-4)
