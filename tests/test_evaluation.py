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
