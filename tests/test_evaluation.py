"""Tests for mathrec.evaluation.evaluate."""

import numpy as np
import pandas as pd
import pytest

from mathrec import metrics
from mathrec.baselines import BaselineOnly, Popularity
from mathrec.evaluation import evaluate
from mathrec.neighbors import UserKNN

TRAIN = pd.DataFrame({
    "user": [1, 1, 2, 2, 3, 3, 4],
    "item": ["a", "b", "a", "c", "a", "d", "b"],
    "rating": [5.0, 4.0, 4.0, 2.0, 3.0, 5.0, 1.0],
})
TEST = pd.DataFrame({
    "user": [1, 1, 2, 3, 9, 4],
    "item": ["c", "d", "b", "zz", "a", "a"],
    "rating": [5.0, 2.0, 4.0, 5.0, 5.0, 3.0],
})


def test_popularity_by_hand():
    # counts a=3, b=2, c=1, d=1. Relevant (>= 4, known user): 1->{c}, 2->{b}, 3->{zz}
    # lists (k=2, unseen): user 1 -> [c, d]; user 2 -> [b, d]; user 3 -> [b, c]
    res = evaluate(Popularity(), TRAIN, TEST, k=2).set_index("metric")
    assert res.loc["precision@k", "value"] == pytest.approx((0.5 + 0.5 + 0) / 3)
    assert res.loc["recall@k", "value"] == pytest.approx(2 / 3)
    assert res.loc["hit_rate@k", "value"] == pytest.approx(2 / 3)
    assert res.loc["mrr@k", "value"] == pytest.approx(2 / 3)
    assert res.loc["coverage@k", "value"] == pytest.approx(3 / 4)  # b, c, d of a, b, c, d
    assert (res["n"] == 3).all()
    assert "rmse" not in res.index  # Popularity has no predict


def test_rating_metrics_skip_unknown_pairs():
    res = evaluate(BaselineOnly(), TRAIN, TEST, k=2).set_index("metric")
    known = TEST[TEST.user.isin(TRAIN.user) & TEST.item.isin(TRAIN.item)]
    model = BaselineOnly().fit(TRAIN)
    est = model.predict(known.user, known.item)
    assert res.loc["rmse", "n"] == len(known) == 4
    assert res.loc["rmse", "value"] == pytest.approx(metrics.rmse(known.rating, est))
    assert res.loc["mae", "value"] == pytest.approx(metrics.mae(known.rating, est))
    assert pd.isna(res.loc["rmse", "k"])


def test_users_argument_and_errors():
    res = evaluate(UserKNN(k=2), TRAIN, TEST, k=1, users=[2], rating_metrics=False)
    assert (res["n"] == 1).all()
    with pytest.raises(ValueError, match="no relevant test item"):
        evaluate(Popularity(), TRAIN, TEST, users=[4])
    with pytest.raises(ValueError, match="k must be"):
        evaluate(Popularity(), TRAIN, TEST, k=0)
    with pytest.raises(TypeError, match="relevance_threshold"):
        evaluate(Popularity(), TRAIN, TEST, relevance_threshold="4")


def test_fit_false_uses_the_given_model():
    m = Popularity().fit(TRAIN)
    a = evaluate(m, TRAIN, TEST, k=2, fit=False)
    b = evaluate(Popularity(), TRAIN, TEST, k=2)
    pd.testing.assert_frame_equal(a, b)
    assert np.isfinite(a["value"]).all()


def test_evaluate_refuses_nan_threshold_and_unfitted_models():
    import mathrec
    from mathrec import ItemKNN, evaluate, make_synthetic

    df, _ = make_synthetic(40, 30, 400, random_state=0)
    train, test = df.iloc[:300], df.iloc[300:]
    with pytest.raises(ValueError, match="relevance_threshold"):
        evaluate(ItemKNN(), train, test, relevance_threshold=float("nan"))
    with pytest.raises(mathrec.NotFittedError):
        evaluate(ItemKNN(), train, test, fit=False)


def test_one_model_reused_across_folds_scores_like_a_fresh_one():
    """evaluate refits the model it is given: no fold sees an earlier fold's training items."""
    from mathrec import ItemKNN, kfold, make_synthetic

    df, _ = make_synthetic(80, 60, 1500, random_state=0)
    model = ItemKNN(k=10)
    for train, test in kfold(df, 3, random_state=0):
        reused = evaluate(model, train, test, k=5, rating_metrics=False)
        fresh = evaluate(ItemKNN(k=10), train, test, k=5, rating_metrics=False)
        pd.testing.assert_frame_equal(reused, fresh)
        assert reused.set_index("metric").loc["precision@k", "value"] > 0


@pytest.mark.slow
def test_list_quality_quoted_in_the_docstrings():
    """The validation precision@10 / NDCG@10 that the docstrings of BaselineOnly,
    BiasedMF and ALS quote, next to Popularity and PureSVD."""
    import os
    from pathlib import Path

    from mathrec.datasets import load_movielens
    from mathrec.factorization import ALS, BiasedMF, PureSVD
    from mathrec.split import random_split

    data = Path(os.environ.get("MATHREC_DATA", Path(__file__).parents[2] / "shared" / "data"))
    if not (data / "ml-latest-small" / "ratings.csv").exists():
        pytest.skip("ml-latest-small not available")
    train, _ = random_split(load_movielens(data_home=data), 0.2, random_state=0)
    tr, va = random_split(train, 0.2, random_state=1)
    quoted = {
        "Popularity": (Popularity(), 0.0881, 0.1199),
        "BaselineOnly": (BaselineOnly(), 0.0549, 0.0777),
        "BiasedMF": (BiasedMF(random_state=0), 0.0415, 0.0518),
        "ALS": (ALS(random_state=0), 0.0037, 0.0033),
        "PureSVD": (PureSVD(), 0.1153, 0.1640),
    }
    for name, (model, precision, ndcg) in quoted.items():
        res = evaluate(model, tr, va, k=10, rating_metrics=False).set_index("metric")["value"]
        assert res["precision@k"] == pytest.approx(precision, abs=5e-5), name
        assert res["ndcg@k"] == pytest.approx(ndcg, abs=5e-5), name


# --------------------------------------------------------------------------- sampled_ranks
from scipy import stats  # noqa: E402

from mathrec.exceptions import NotFittedError  # noqa: E402
from mathrec.evaluation import sampled_ranks  # noqa: E402
from mathrec.factorization import PureSVD  # noqa: E402


def _grid(n_users=30, n_items=200, per_user=20, seed=0):
    rng = np.random.default_rng(seed)
    rows = [(u, int(i)) for u in range(n_users) for i in rng.choice(n_items, per_user, replace=False)]
    df = pd.DataFrame(rows, columns=["user", "item"]).assign(rating=1.0)
    test = df.groupby("user").head(1)
    train = df.drop(test.index)
    test = test[test.item.isin(train.item)]  # scored items must be known
    return train, test.reset_index(drop=True), df


class _Recorder:
    """Wraps a fitted model and records the pairs it is asked to score."""

    def __init__(self, model):
        self.model, self.calls = model, []
        self.interactions_ = model.interactions_

    def predict(self, users, items):
        scores = np.asarray(self.model.predict(users, items))
        self.calls.append((np.asarray(users), np.asarray(items), scores))
        return scores


def test_sampled_ranks_agree_with_scipy_rankdata_on_the_drawn_negatives():
    train, test, everything = _grid()
    model = _Recorder(PureSVD(n_factors=5, random_state=0).fit(train))
    out = sampled_ranks(model, test, n_negatives=50, exclude=everything, ties="optimistic",
                        random_state=1)
    (pu, pi, ps), (nu, ni, ns) = model.calls
    ni, ns = ni.reshape(len(test), 50), ns.reshape(len(test), 50)
    rated = everything.groupby("user").item.agg(set)
    for row in range(len(test)):
        user, item = test.user[row], test.item[row]
        negs = set(ni[row].tolist())
        assert len(negs) == 50 and not negs & rated[user]  # distinct, never rated
        assert negs <= set(train.item)  # from the training catalogue
        scores = np.r_[ps[row], ns[row]]
        assert out["rank"][row] == stats.rankdata(-scores, method="min")[0]
    assert out[["user", "item"]].equals(test[["user", "item"]])
    assert out["rank"].dtype == np.int64 and out["rank"].between(1, 51).all()


def test_same_seed_same_negatives_for_every_model():
    train, test, everything = _grid()
    a = _Recorder(PureSVD(n_factors=5, random_state=0).fit(train))
    b = _Recorder(PureSVD(n_factors=2, random_state=0).fit(train))
    sampled_ranks(a, test, exclude=everything, random_state=3)
    sampled_ranks(b, test, exclude=everything, random_state=3)
    np.testing.assert_array_equal(a.calls[1][1], b.calls[1][1])


def test_ties_random_gives_a_constant_model_the_chance_hit_rate():
    train, test, _ = _grid(n_users=300, n_items=400)

    class Constant(_Recorder):
        def predict(self, users, items):
            return np.zeros(len(np.asarray(users)))

    model = Constant(PureSVD(n_factors=2, random_state=0).fit(train))
    optimistic = sampled_ranks(model, test, ties="optimistic", random_state=0)
    assert (optimistic["rank"] == 1).all()
    rnd = sampled_ranks(model, test, ties="random", random_state=0)
    # uniform on 1..101: P(rank <= 10) = 10/101, 300 users
    assert rnd["rank"].le(10).mean() == pytest.approx(10 / 101, abs=0.05)
    assert stats.kstest(rnd["rank"], stats.randint(1, 102).cdf).pvalue > 1e-3


def test_models_without_predict_rank_by_their_recommend_scores():
    train, test, everything = _grid()
    pop = Popularity().fit(train)

    class WithPredict(_Recorder):
        def predict(self, users, items):
            S = self.model._score_block(self.interactions_.user_index(users))
            return S[np.arange(len(S)), self.interactions_.item_index(items)]

    a = sampled_ranks(pop, test, exclude=everything, random_state=5)
    b = sampled_ranks(WithPredict(pop), test, exclude=everything, random_state=5)
    pd.testing.assert_frame_equal(a, b)


def test_sampled_ranks_bad_input():
    train, test, everything = _grid()
    with pytest.raises(NotFittedError):
        sampled_ranks(PureSVD(), test)
    model = PureSVD(n_factors=2, random_state=0).fit(train)
    with pytest.raises(KeyError, match="99"):
        sampled_ranks(model, pd.DataFrame({"user": [99], "item": [int(train.item.iloc[0])]}))
    with pytest.raises(ValueError, match="fewer than n_negatives=190"):
        sampled_ranks(model, test, n_negatives=190, exclude=everything)
    with pytest.raises(ValueError, match="ties must be"):
        sampled_ranks(model, test, ties="pessimistic")
    with pytest.raises(ValueError, match="n_negatives"):
        sampled_ranks(model, test, n_negatives=0)
    with pytest.raises(ValueError, match="lacks the column"):
        sampled_ranks(model, test.rename(columns={"item": "movie"}))
