"""The protocol helpers of benchmarks/ncf_movielens.py, on toy data."""

import importlib.util
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mathrec.baselines import Popularity
from mathrec.data import as_interactions
from mathrec.datasets import DatasetUnavailableError
from mathrec.factorization import PureSVD
from mathrec.neural import GMF

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "ncf_movielens.py"


@pytest.fixture(scope="module")
def ncf():
    """The script as a module (its thread variables do not leak out)."""
    saved = dict(os.environ)
    try:
        spec = importlib.util.spec_from_file_location("ncf_movielens", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return module


def test_hit_ndcg_of_one_held_out_item(ncf):
    hit, ndcg = ncf.hit_ndcg([1, 2, 10, 11, np.inf])
    assert hit.tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]
    expected = [1.0, 1 / np.log2(3), 1 / np.log2(11), 0.0, 0.0]
    np.testing.assert_allclose(ndcg, expected, rtol=1e-15)
    # rank 3 of 101 with k=2 is a miss
    assert ncf.hit_ndcg([3], k=2)[0].tolist() == [0.0]
    for bad in ([0], [np.nan]):
        with pytest.raises(ValueError, match="ranks must be >= 1"):
            ncf.hit_ndcg(bad)


def _toy():
    # counts: a 4, b 3, c 2, d 1
    pairs = [
        (1, "a"),
        (2, "a"),
        (2, "b"),
        (3, "a"),
        (3, "b"),
        (3, "c"),
        (4, "a"),
        (4, "b"),
        (4, "d"),
        (5, "c"),
    ]
    train = pd.DataFrame(pairs, columns=["user", "item"]).assign(rating=1.0)
    return train


def test_full_ranks_among_all_unrated_items(ncf):
    model = Popularity().fit(_toy())
    # user 1's list: b, c, d; user 2's: c, d; user 3's: d; user 5's: a, b, d
    test = pd.DataFrame({"user": [5, 1, 2, 3], "item": ["b", "d", "c", "d"]})
    assert ncf.full_ranks(model, test).tolist() == [2.0, 3.0, 1.0, 1.0]
    assert ncf.full_ranks(model, test, k=2).tolist() == [2.0, np.inf, 1.0, 1.0]
    hit, ndcg = ncf.hit_ndcg(ncf.full_ranks(model, test, k=2), k=2)
    assert hit.mean() == 0.75
    with pytest.raises(ValueError, match="one test item per user"):
        ncf.full_ranks(model, pd.concat([test, test]))


def test_bootstrap_ci_is_an_interval_of_the_mean(ncf):
    rng = np.random.default_rng(1)
    values = (rng.random(400) < 0.5).astype(float)
    mean, lo, hi = ncf.bootstrap_ci(values, n_boot=2000, seed=0)
    assert mean == values.mean()
    assert lo < mean < hi
    # normal approximation: half-width 1.96 sqrt(p (1 - p) / n), about 0.049
    half = 1.96 * np.sqrt(mean * (1 - mean) / values.size)
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.1)
    # the same seed draws the same resamples; constant values, no width
    assert ncf.bootstrap_ci(values, n_boot=2000, seed=0) == (mean, lo, hi)
    assert ncf.bootstrap_ci(np.full(50, 0.3)) == pytest.approx((0.3,) * 3)


def test_epoch_callback_sees_the_weights_of_a_shorter_fit(ncf):
    rng = np.random.default_rng(0)
    pairs = np.unique(rng.integers(0, [40, 25], size=(300, 2)), axis=0)
    inter = as_interactions(
        pd.DataFrame({"user": pairs[:, 0], "item": pairs[:, 1], "rating": 1.0})
    )
    users, items = pairs[:50, 0], pairs[:50, 1]
    params = dict(
        n_factors=4, n_epochs=3, batch_size=32, lr=0.01, random_state=0
    )
    seen = {}
    model = ncf.with_epoch_callback(GMF)(**params)
    model.interactions_ = inter
    model.on_epoch = lambda m, epoch: seen.setdefault(
        epoch, m.predict(users, items)
    )
    model.fit(inter)
    assert sorted(seen) == [1, 2, 3]
    shorter = GMF(**{**params, "n_epochs": 2}).fit(inter)
    np.testing.assert_array_equal(seen[2], shorter.predict(users, items))
    np.testing.assert_array_equal(seen[3], model.predict(users, items))
    assert not np.array_equal(seen[1], seen[3])
    with pytest.raises(TypeError, match="per-epoch"):
        ncf.with_epoch_callback(PureSVD)


def test_tune_keeps_the_best_validation_ndcg(ncf):
    train = _toy()
    fit_part = train[~train.index.isin([2, 5, 7])]
    val = train.loc[[2, 5, 7], ["user", "item"]]
    spec = ncf.Spec(
        "PureSVD", PureSVD, {"n_factors": 1}, ncf.grid(n_factors=[1, 2])
    )
    chosen, hr, ndcg, rows = ncf.tune(
        spec, as_interactions(fit_part), val, train, 1, lambda msg: None
    )
    assert [r[0] for r in rows] == [{"n_factors": 1}, {"n_factors": 2}]
    best = max(rows, key=lambda r: r[3])
    assert chosen == best[0] and (hr, ndcg) == best[2:]


def test_unavailable_data_set_names_the_problem_and_a_way_out(ncf, monkeypatch):
    def offline(variant, data_home):
        raise DatasetUnavailableError(f"MovieLens {variant!r} is not there")

    monkeypatch.setattr(ncf, "load_movielens", offline)
    with pytest.raises(SystemExit) as exc:
        ncf.main(["--variant", "ml-1m"])
    msg = str(exc.value)
    assert "MovieLens 'ml-1m' is not there" in msg
    assert "--variant ml-latest-small" in msg
