"""The numbers of notebooks/ch03_evaluation.ipynb ("Evaluating recommenders honestly"), asserted.

The metric-convention table and Spark's documented example are checked exactly;
figures from *ml-latest-small* are checked within bands around what the chapter prints,
and the orders of models the chapter states are checked as facts (never orders of
models that are within a rounding error of each other).
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, ndcg_score

from mathrec import metrics
from mathrec.baselines import Popularity
from mathrec.factorization import ImplicitALS, PureSVD
from mathrec.neighbors import ItemKNN
from mathrec.ranking import BPR
from mathrec.split import random_split, temporal_split

needs_copy = pytest.mark.movielens
K = 10


# ----------------------------------------------------------- conventions, by hand
def _lists(hits, n_relevant):
    rec = list(range(K))
    rel = {r - 1 for r in hits} | set(range(100, 100 + n_relevant - len(hits)))
    return rec, rel


def _ap_sum(hits):
    return sum((j + 1) / r for j, r in enumerate(sorted(hits)))


@pytest.mark.parametrize("hits, n_rel, ndcg, ndcg_all, ap, ap_t, ap_hits, recall", [
    ([1, 4], 3, 0.671, 0.671, 0.500, 0.500, 0.750, 0.667),
    ([1], 15, 0.220, 0.171, 0.100, 0.067, 1.000, 0.067),
    ([2, 3, 10], 12, 0.313, 0.279, 0.147, 0.122, 0.489, 0.250),
])
def test_metric_convention_table(hits, n_rel, ndcg, ndcg_all, ap, ap_t, ap_hits, recall):
    rec, rel = _lists(hits, n_rel)
    got = metrics.ndcg_at_k(rec, rel, K)
    assert round(got, 3) == ndcg
    ids = rec + sorted(rel - set(rec))
    y_true = [[1.0 if i in rel else 0.0 for i in ids]]
    y_score = [[float(len(ids) - p) if p < K else 0.0 for p in range(len(ids))]]
    assert ndcg_score(y_true, y_score, k=K) == pytest.approx(got, abs=1e-12)
    dcg = sum(1 / np.log2(r + 1) for r in hits)
    assert round(dcg / sum(1 / np.log2(r + 1) for r in range(1, n_rel + 1)), 3) == ndcg_all
    assert round(metrics.average_precision_at_k(rec, rel, K), 3) == ap
    assert round(_ap_sum(hits) / n_rel, 3) == ap_t
    assert round(_ap_sum(hits) / len(hits), 3) == ap_hits
    assert metrics.hit_rate_at_k(rec, rel, K) == 1.0
    assert round(metrics.recall_at_k(rec, rel, K), 3) == recall


def test_spark_documented_example_uses_min_k_t_and_counts_empty_queries_as_zero():
    example = [([1, 6, 2, 7, 8, 3, 9, 10, 4, 5], {1, 2, 3, 4, 5}),
               ([4, 1, 5, 6, 2, 7, 3, 8, 9, 10], {1, 2, 3}),
               ([1, 2, 3, 4, 5], set())]

    def mean(metric, k):
        return np.mean([metric(p, t, k) if t else 0.0 for p, t in example])

    # pyspark.mllib.evaluation.RankingMetrics docstring: 0.33..., 0.25..., 0.33..., 0.48...
    assert mean(metrics.average_precision_at_k, 1) == pytest.approx(1 / 3)
    assert mean(metrics.average_precision_at_k, 2) == pytest.approx(0.25)
    assert str(mean(metrics.ndcg_at_k, 3)).startswith("0.33")
    assert str(mean(metrics.ndcg_at_k, 10)).startswith("0.48")
    # untruncated MAP divides by |T|: "meanAveragePrecision 0.35..."
    assert str(mean(lambda p, t, k: metrics.average_precision(p, t), 0)).startswith("0.35")


def test_sklearn_average_precision_is_the_untruncated_ap():
    rec, rel = _lists([1, 4], 3)
    full = rec + sorted(rel - set(rec))
    y_true = [1 if i in rel else 0 for i in full]
    sk = average_precision_score(y_true, np.arange(len(full), 0, -1))
    assert sk == pytest.approx(metrics.average_precision(full, rel))
    assert round(sk, 4) == 0.5909
    assert metrics.average_precision_at_k(rec, rel, K) == 0.5


# ----------------------------------------------------------------- MovieLens
def _ndcg(model, train, test, exclude_seen=True, fit=True):
    if fit:
        model.fit(train)
    relevant = test[test.rating >= 4].groupby("user").item.agg(set)
    recs = model.recommend(list(relevant.index), n=K, exclude_seen=exclude_seen)
    lists = recs.groupby("user").item.agg(list)
    return pd.Series([metrics.ndcg_at_k(lists[u], r, K) for u, r in relevant.items()],
                     index=relevant.index)


def _models():
    return {
        "Popularity": Popularity(),
        "ItemKNN": ItemKNN(k=100, similarity="cosine", shrinkage=100,
                           recommend_by="similarity"),
        "PureSVD": PureSVD(n_factors=20, random_state=0),
        "ImplicitALS": ImplicitALS(n_factors=64, regularization=0.05, random_state=0),
        "BPR": BPR(random_state=0),
    }


def _ci(values, n_boot=2000, seed=0):
    values = np.asarray(values, dtype=float)
    idx = np.random.default_rng(seed).integers(0, len(values), size=(n_boot, len(values)))
    return np.percentile(values[idx].mean(axis=1), [2.5, 97.5])


@pytest.fixture(scope="module")
def ml(movielens_ratings):
    return movielens_ratings


@pytest.fixture(scope="module")
def temporal(ml):
    s = temporal_split(ml, test_size=0.2)
    return s


@pytest.fixture(scope="module")
def random_fitted(ml):
    train, test = random_split(ml, test_size=0.2, random_state=0)
    models = _models()
    ndcg = {m: _ndcg(model, train, test) for m, model in models.items()}
    return train, test, models, ndcg


@needs_copy
def test_the_temporal_split_leaves_28_users(ml, temporal):
    train_t, test_t = temporal
    assert temporal.n_dropped == 18857
    assert test_t.loc[test_t.rating >= 4, "user"].nunique() == 28
    assert str(pd.to_datetime(test_t.timestamp.min(), unit="s").date()) == "2016-03-22"


@needs_copy
def test_future_ratings_inflate_every_model_on_the_same_test_users(ml, temporal):
    train_t, test_t = temporal
    judged = test_t.user.unique()
    own = train_t[train_t.user.isin(judged)]
    others_past = train_t[~train_t.user.isin(judged)]
    others_any = ml[~ml.user.isin(judged)]
    leaky = pd.concat([own, others_any.sample(n=len(others_past), random_state=0)])
    assert round((leaky.timestamp >= test_t.timestamp.min()).mean(), 2) == 0.18
    honest = {m: _ndcg(mo, train_t, test_t).mean() for m, mo in _models().items()}
    leak = {m: _ndcg(mo, leaky, test_t).mean() for m, mo in _models().items()}
    gain = {m: leak[m] - honest[m] for m in honest}
    assert all(g > 0 for g in gain.values())  # the sign the chapter states
    assert honest["Popularity"] == pytest.approx(0.086, abs=0.001)
    assert leak["Popularity"] == pytest.approx(0.094, abs=0.001)
    assert gain["ImplicitALS"] == pytest.approx(0.019, abs=0.003)
    assert gain["BPR"] == pytest.approx(0.013, abs=0.003)
    assert max(g / honest[m] for m, g in gain.items()) == pytest.approx(0.26, abs=0.03)
    # and the random split's scores are 2 to 4 times the temporal ones


@needs_copy
def test_random_split_scores_excluding_seen_and_zero_users(random_fitted):
    train, test, models, ndcg = random_fitted
    expected = {"Popularity": 0.159, "ItemKNN": 0.213, "PureSVD": 0.270,
                "ImplicitALS": 0.238, "BPR": 0.205}
    for m, v in expected.items():
        assert ndcg[m].mean() == pytest.approx(v, abs=0.001)
    kept = _ndcg(models["Popularity"], train, test, exclude_seen=False, fit=False)
    assert kept.mean() == pytest.approx(0.088, abs=0.001)
    kept = _ndcg(models["ImplicitALS"], train, test, exclude_seen=False, fit=False)
    assert ndcg["ImplicitALS"].mean() - kept.mean() == pytest.approx(0.180, abs=0.003)
    assert (test.user.nunique(), len(ndcg["PureSVD"])) == (609, 596)
    assert ndcg["PureSVD"].sum() / 609 == pytest.approx(0.264, abs=0.001)


@needs_copy
def test_sampled_metrics_reorder_the_models(random_fitted):
    train, test, models, ndcg = random_fitted
    positives = test[test.rating >= 4].sort_values("user", kind="stable")
    users = np.array(sorted(positives.user.unique()))
    rated = pd.concat([train, test]).groupby("user").item.agg(set)
    catalogue = pd.Index(sorted(train.item.unique()))
    rng = np.random.default_rng(0)
    negatives = []
    for user, n_pos in positives.groupby("user").size().items():
        allowed = np.flatnonzero(~catalogue.isin(list(rated[user])))
        negatives += [rng.choice(allowed, 100, replace=False) for _ in range(n_pos)]
    negatives = np.array(negatives)
    row = np.searchsorted(users, positives.user.to_numpy())
    col = catalogue.get_indexer(positives.item)
    hr = {}
    for m, model in models.items():
        full = model.recommend(list(users), n=len(catalogue))
        R = np.zeros((len(users), len(catalogue)), dtype=np.int32)
        R[np.searchsorted(users, full.user.to_numpy()),
          catalogue.get_indexer(full.item)] = full["rank"].to_numpy()
        pos_rank = R[row, col]
        s_rank = 1 + (R[row[:, None], negatives] < pos_rank[:, None]).sum(axis=1)
        hr[m] = (s_rank <= 10).mean()
    full_ndcg = {m: v.mean() for m, v in ndcg.items()}
    # BPR: 4th by full ranking, 1st by sampled HR@10; ImplicitALS: 2nd -> last
    assert sorted(full_ndcg, key=full_ndcg.get, reverse=True) == [
        "PureSVD", "ImplicitALS", "ItemKNN", "BPR", "Popularity"]
    assert max(hr, key=hr.get) == "BPR" and min(hr, key=hr.get) == "ImplicitALS"
    assert hr["BPR"] - hr["PureSVD"] > 0.03
    assert hr["Popularity"] - hr["ImplicitALS"] > 0.015
    assert hr["BPR"] == pytest.approx(0.834, abs=0.002)
    assert hr["ImplicitALS"] == pytest.approx(0.681, abs=0.002)


@needs_copy
def test_bootstrap_and_paired_tests(random_fitted):
    from scipy import stats
    _, _, _, ndcg = random_fitted
    lo, hi = _ci(ndcg["PureSVD"])
    assert (round(lo, 2), round(hi, 2)) == (0.25, 0.29)
    d = ndcg["PureSVD"] - ndcg["ImplicitALS"]
    lo, hi = _ci(d)
    assert d.mean() == pytest.approx(0.032, abs=0.002) and lo > 0.005
    assert stats.ttest_rel(ndcg["PureSVD"], ndcg["ImplicitALS"]).pvalue < 0.001
    d = ndcg["ItemKNN"] - ndcg["BPR"]
    lo, hi = _ci(d)
    assert lo < 0 < hi
    assert stats.ttest_rel(ndcg["ItemKNN"], ndcg["BPR"]).pvalue > 0.2


@needs_copy
def test_tuning_on_test_is_optimistic_and_the_leaderboard_cannot_separate(temporal):
    train_t, test_t = temporal
    fit_t, valid_t = temporal_split(train_t, test_size=0.2)
    assert valid_t.loc[valid_t.rating >= 4, "user"].nunique() == 19
    val, tst, per_user = {}, {}, {}
    for f in (5, 10, 20, 50, 100):
        val[f] = _ndcg(PureSVD(n_factors=f, random_state=0), fit_t, valid_t).mean()
        per_user[f] = _ndcg(PureSVD(n_factors=f, random_state=0), train_t, test_t)
        tst[f] = per_user[f].mean()
    on_valid, on_test = max(val, key=val.get), max(tst, key=tst.get)
    assert (on_valid, on_test) == (10, 50)
    assert tst[on_valid] == pytest.approx(0.085, abs=0.002)
    assert tst[on_test] - tst[on_valid] == pytest.approx(0.033, abs=0.004)
    pop = _ndcg(Popularity(), train_t, test_t)
    assert len(pop) == 28
    bpr = _ndcg(BPR(n_epochs=20, random_state=0), train_t, test_t)  # chosen on validation
    board = {"Popularity": pop, "PureSVD": per_user[10], "BPR": bpr}
    for m, v in board.items():
        assert 0.084 <= v.mean() <= 0.099
        lo, hi = _ci(v)
        assert lo < 0.05 and hi > 0.14  # every interval spans roughly 0.03 to 0.17
    for m in ("PureSVD", "BPR"):  # paired with Popularity: no difference is resolved
        lo, hi = _ci(board[m] - pop)
        assert lo < 0 < hi
