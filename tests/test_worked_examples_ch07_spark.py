"""Every number of chapter 7's Spark section (notebooks/ch07_spark.ipynb) asserted.

The section's fits are rebuilt the way it builds them (same split, same
parameters, same seeds) on the shared local SparkSession of conftest.py, and
the claims of its prose are checked: Spark's explicit ALS and mathrec.ALS
agree in test RMSE, and from the same start in every factor; the implicit
lists agree in NDCG@10; the blocks of the fitted model are ids modulo the
number of blocks; and the cost model's counts.  Skipped without PySpark,
Java 17+ or the checked copy of ml-latest-small.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="PySpark is not installed")

import pyspark.sql.functions as F  # noqa: E402
from pyspark.ml.recommendation import ALS as SparkALS  # noqa: E402

from mathrec import ALS, ImplicitALS, evaluate  # noqa: E402
from mathrec.data import Interactions  # noqa: E402
from mathrec.datasets import make_synthetic  # noqa: E402
from mathrec.factorization import als_solve  # noqa: E402
from mathrec.spark import SparkALSModel, from_spark, to_spark  # noqa: E402
from mathrec.split import random_split  # noqa: E402

K, LAM, SWEEPS = 10, 0.1, 20


@pytest.fixture(scope="module")
def split(spark, movielens_ratings):
    train, test = random_split(movielens_ratings, test_size=0.2, random_state=0)
    train_sdf, index = to_spark(train, spark)
    return train, test, train_sdf, index


def _spark_explicit(split, max_iter):
    _, _, train_sdf, index = split
    als = SparkALS(rank=K, maxIter=max_iter, regParam=LAM, seed=0,
                   numUserBlocks=3, numItemBlocks=2)
    return SparkALSModel(als.fit(train_sdf), index)


@pytest.fixture(scope="module")
def explicit(split):
    train = split[0]
    ours = ALS(n_factors=K, n_iter=SWEEPS, regularization=LAM,
               reg_mode="weighted", center=False, clip=False,
               init_std_dev=1 / np.sqrt(K), random_state=0).fit(train)
    return _spark_explicit(split, SWEEPS), ours


def _objective(index, P, Q):
    R = index.to_csr()
    n_u, n_i = np.diff(R.indptr), np.bincount(R.indices, minlength=R.shape[1])
    e = index.ratings - np.einsum("ij,ij->i", P[index.user_idx],
                                  Q[index.item_idx])
    return e @ e + LAM * (n_u @ (P**2).sum(1) + n_i @ (Q**2).sum(1))


def test_the_split_in_sparks_ids(spark, split):
    train, test, train_sdf, index = split
    test_sdf, same = to_spark(test, spark, index=index)
    assert same is index
    assert (train_sdf.count(), test_sdf.count()) == (80_669, 19_308)
    assert (index.n_users, index.n_items) == (610, 8_942)
    head = train_sdf.limit(3)
    assert [tuple(r) for r in head.collect()] == [(0, 0, 4.0), (0, 2, 4.0),
                                                  (0, 5, 4.0)]
    back = from_spark(head, index)
    assert back["user"].tolist() == [1, 1, 1]
    assert back["item"].tolist() == [1, 3, 6]


def test_explicit_parity_table(split, explicit):
    train, test, _, index = split
    spark_model, ours = explicit
    a = evaluate(spark_model, train, test, fit=False,
                 ranking_metrics=False).set_index("metric")["value"]
    b = evaluate(ours, train, test, fit=False,
                 ranking_metrics=False).set_index("metric")["value"]
    assert (round(a["rmse"], 4), round(b["rmse"], 4)) == (0.8828, 0.8838)
    assert round(a["rmse"] - b["rmse"], 4) == -0.001
    assert abs(a["rmse"] - b["rmse"]) < 0.005
    assert (round(a["mae"], 4), round(b["mae"], 4)) == (0.6769, 0.6785)
    assert round(a["mae"] - b["mae"], 4) == -0.0017
    J_s = _objective(index, spark_model.user_factors_,
                     spark_model.item_factors_)
    J_o = _objective(index, ours.user_factors_, ours.item_factors_)
    assert (round(J_s / 1000, 1), round(J_o / 1000, 1)) == (94.4, 94.8)
    assert abs(J_s - J_o) < 0.01 * J_o
    # mathrec's history records the same objective
    assert J_o == pytest.approx(ours.history_["objective"].iloc[-1], rel=1e-12)
    u, i = test["user"].to_numpy(), test["item"].to_numpy()
    p_s, p_o = spark_model.predict(u, i), ours.predict(u, i)
    gap = np.abs(p_s - p_o)
    assert len(gap) == 19_308
    assert round(float(np.corrcoef(p_s, p_o)[0, 1]), 2) == 0.95
    assert (round(gap.mean(), 2), round(gap.max(), 1)) == (0.16, 1.8)
    assert round(100 * np.mean(gap < 0.5)) == 95
    assert spark_model.rank_ == K
    assert spark_model.user_factors_.shape == (610, K)
    assert spark_model.item_factors_.shape == (8_942, K)


def test_same_start_same_factors(split):
    index = split[3]
    start = _spark_explicit(split, 0)
    after = _spark_explicit(split, 10)
    R = index.to_csr()
    Rt = R.T.tocsr()
    P, Q = start.user_factors_, start.item_factors_
    for _ in range(10):
        Q = als_solve(Rt, P, LAM)
        P = als_solve(R, Q, LAM)
    assert np.abs(P - after.user_factors_).max() < 1e-5
    assert np.abs(Q - after.item_factors_).max() < 1e-5
    full = np.abs(P @ Q.T - after.user_factors_ @ after.item_factors_.T)
    assert full.max() < 1e-5
    assert np.abs(P - start.user_factors_).max() > 1
    # Spark's start: random directions of length 1
    lengths = np.linalg.norm(start.item_factors_, axis=1)
    assert np.allclose(lengths, 1, atol=1e-6)
    assert f"{np.finfo(np.float32).eps / 2:.0e}" == "6e-08"


def test_implicit_lists_within_five_percent(split):
    train, test, train_sdf, index = split
    spark_implicit = SparkALSModel(
        SparkALS(rank=32, maxIter=10, regParam=0.05, alpha=1.0,
                 implicitPrefs=True, seed=0, numUserBlocks=3,
                 numItemBlocks=2).fit(train_sdf), index)
    ours = ImplicitALS(n_factors=32, regularization=0.05, alpha=1.0,
                       random_state=0).fit(train)

    def ndcg(model):
        t = evaluate(model, train, test, fit=False, relevance_threshold=0.5)
        return t.set_index("metric").loc["ndcg@k", ["value", "n"]]

    a, b = ndcg(spark_implicit), ndcg(ours)
    assert (round(a["value"], 3), round(b["value"], 3)) == (0.339, 0.336)
    assert a["n"] == b["n"] == 609
    ratio = a["value"] / b["value"]
    assert abs(ratio - 1) < 0.05 and round(100 * (ratio - 1)) == 1
    assert not spark_implicit.predicts_ratings
    assert "rmse" not in set(evaluate(spark_implicit, train, test,
                                      fit=False)["metric"])


def test_blocks_are_ids_modulo_the_number_of_blocks(explicit):
    spark_model = explicit[0].spark_model

    def blocks(factors):
        rows = factors.select("id", F.spark_partition_id().alias("b"))
        return np.array([tuple(r) for r in rows.collect()])

    users, items = blocks(spark_model.userFactors), blocks(
        spark_model.itemFactors)
    assert np.all(users[:, 1] == users[:, 0] % 3)
    assert np.all(items[:, 1] == items[:, 0] % 2)
    assert np.bincount(users[:, 1]).tolist() == [204, 203, 203]
    assert np.bincount(items[:, 1]).tolist() == [4_471, 4_471]


def test_routes_of_the_run(split):
    index = split[3]
    u, i = index.user_idx, index.item_idx
    routes = pd.DataFrame({"ib": i % 2, "ub": u % 3, "item": i}).groupby(
        ["ib", "ub"]).agg(ratings=("item", "size"), sent=("item", "nunique"))
    assert routes["ratings"].tolist() == [12_284, 11_686, 16_509, 12_160,
                                          11_530, 16_500]
    assert routes["sent"].tolist() == [2_668, 2_713, 3_249, 2_699, 2_731,
                                       3_292]
    assert routes["sent"].sum() == 17_352 and routes["ratings"].sum() == 80_669
    # user block 2 rated the most and receives the most
    by_block = routes.groupby("ub").sum()
    assert by_block["ratings"].idxmax() == by_block["sent"].idxmax() == 2
    assert len(np.unique(u * 2 + i % 2)) == 1_220 == 2 * 610


def _traffic(users, items, b):
    return 4 * K * (len(np.unique(items * b + users % b))
                    + len(np.unique(users * b + items % b)))


def _held(users, items):
    m, n, nnz = users.max() + 1, items.max() + 1, len(users)
    return 24 * nnz + 4 * (m + 1) + 4 * (n + 1) + 8 * K * (m + n)


def test_cost_model(split):
    index = split[3]
    synthetic, _ = make_synthetic(10_000, 2_000, 1_000_000, random_state=0)
    syn = Interactions.from_frame(synthetic[["user", "item", "rating"]])
    expected = {
        "ml": (index, 2.7, 6.5, 64, 10, [0.4, 0.6, 0.9, 1.4, 2.0, 2.7, 3.4,
                                         4.2, 4.9]),
        "syn": (syn, 25.0, 80.0, 128, 3, [0.5, 1.0, 1.9, 3.8, 7.2, 12.9, 21.3,
                                          31.8, 42.8]),
    }
    blocks = 2 ** np.arange(9)
    for inter, held, naive, cross, times, sent in expected.values():
        u, i = inter.user_idx, inter.item_idx
        mb = np.array([_traffic(u, i, int(b)) for b in blocks]) / 1e6
        h = _held(u, i) / 1e6
        assert np.round(mb, 1).tolist() == sent
        assert round(h, 1) == held
        assert round(2 * 4 * K * len(u) / 1e6, 1) == naive
        assert blocks[np.argmax(mb >= h)] == cross and mb[-1] < naive
        assert round(SWEEPS * mb[3] / h) == times
        # between one factor per user and item, and one per rating
        assert 4 * K * (inter.n_users + inter.n_items) / 1e6 == pytest.approx(
            mb[0])
    # ex-ch07-spark-blocks: with B >= m every user is alone in a block
    u, i = index.user_idx, index.item_idx
    assert len(np.unique(i * 610 + u % 610)) == len(u)


def test_exercise_more_sweeps_close_the_gap(split, explicit):
    train, index = split[0], split[3]
    spark_model = explicit[0]
    long_run = ALS(n_factors=K, n_iter=40, regularization=LAM, center=False,
                   clip=False, init_std_dev=1 / np.sqrt(K),
                   random_state=0).fit(train)
    J_spark = _objective(index, spark_model.user_factors_,
                         spark_model.item_factors_)
    J = long_run.history_.set_index("iteration")["objective"]
    excess = (100 * (J.loc[[10, 20, 40]] / J_spark - 1)).round(1).tolist()
    assert excess == [4.0, 0.4, -0.1]
    assert J.is_monotonic_decreasing
