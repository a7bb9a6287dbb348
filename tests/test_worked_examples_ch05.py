"""Every number of chapter 5 (notebooks/ch05_project.ipynb, source section 5) asserted.

The first part runs the source's listing (notebooks/listing_5_2.py) on the chapter's
small data.csv and checks each defect the chapter shows; the second part rebuilds the
chapter's MovieLens split and checks the figures its prose quotes.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.model_selection import train_test_split

from mathrec.baselines import BaselineOnly, Popularity
from mathrec.evaluation import evaluate
from mathrec.metrics import rmse
from mathrec.neighbors import ItemKNN, UserKNN
from mathrec.similarity import cosine, similarity_matrix

REPO = Path(__file__).resolve().parent.parent
LISTING = REPO / "notebooks" / "listing_5_2.py"
needs_movielens = pytest.mark.movielens


# ----------------------------------------------------------------------------
# the listing on the chapter's small data.csv
# ----------------------------------------------------------------------------
def _small_data():
    rng = np.random.default_rng(0)
    rows = []
    for user_id in range(1, 13):
        for item_id in rng.choice(np.arange(101, 126), size=8, replace=False):
            rows.append((user_id, int(item_id), int(rng.integers(1, 6))))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating"])


@pytest.fixture(scope="module")
def listing(tmp_path_factory):
    """The listing run as __main__ in a folder with the chapter's data.csv."""
    folder = tmp_path_factory.mktemp("listing")
    data = _small_data()
    data.to_csv(folder / "data.csv", index=False)
    ns = {"__name__": "__main__"}
    np.random.seed(0)
    previous = os.getcwd()
    os.chdir(folder)
    try:
        with pytest.raises(NameError, match="name 'item_index' is not defined"):
            exec(compile(LISTING.read_text(encoding="utf-8"), str(LISTING), "exec"), ns)
    finally:
        os.chdir(previous)
    matrix = ns["preprocess_data"](data)
    np.random.seed(0)
    _, test_data = train_test_split(data, test_size=0.2)
    return ns, data, matrix, ns["train_model"](matrix), test_data


def test_listing_file_is_the_source_listing():
    text = LISTING.read_text(encoding="utf-8")
    assert len(text.splitlines()) == 69
    assert "recommended_items = [item_index.inverse[i] for i in sorted_indices]" in text
    assert "user_similarity = train_model(user_item_matrix)" in text


def test_small_data_and_leak(listing):
    ns, data, matrix, sim, test_data = listing
    assert len(data) == 96 and data.user_id.nunique() == 12 and data.item_id.nunique() == 25
    assert matrix.shape == (12, 25) and int((matrix > 0).sum()) == 96
    assert sim.shape == (12, 12)
    users = {u: k for k, u in enumerate(data["user_id"].unique())}
    items = {i: k for k, i in enumerate(data["item_id"].unique())}
    present = [matrix[users[u], items[i]] == r
               for u, i, r in test_data[["user_id", "item_id", "rating"]].itertuples(index=False)]
    assert sum(present) == len(test_data) == 20


def test_zero_filled_cosine(listing):
    ns, data, matrix, sim, _ = listing
    users = {u: k for k, u in enumerate(data["user_id"].unique())}
    items = list(data["item_id"].unique())
    ra, rb = matrix[users[2]], matrix[users[9]]
    both = (ra > 0) & (rb > 0)
    assert np.array(items)[both].tolist() == [101, 124, 123]
    assert ra[both].tolist() == [1, 1, 1] and rb[both].tolist() == [5, 3, 5]
    assert int(((ra > 0) != (rb > 0)).sum()) == 10
    assert round(sim[users[2], users[9]], 4) == 0.1925
    assert round(cosine(ra[both], rb[both]), 4) == 0.9771 == round(13 / np.sqrt(3 * 59), 4)
    assert round(similarity_matrix(matrix, kind="cosine")[users[2], users[9]], 4) == 0.9771
    np.testing.assert_allclose(sim, similarity_matrix(matrix, kind="cosine_full"), atol=1e-12)
    np.testing.assert_allclose(sim, cosine_similarity(matrix), atol=0)


def test_inverse_users_as_items_and_unused_matrix(listing):
    ns, data, matrix, sim, _ = listing
    items = {i: k for k, i in enumerate(data["item_id"].unique())}
    ns["item_index"] = dict(items)
    with pytest.raises(AttributeError, match="inverse"):
        ns["generate_recommendations"](sim, matrix, 0)

    class InvertibleDict(dict):
        @property
        def inverse(self):
            return {v: k for k, v in self.items()}

    ns["item_index"] = InvertibleDict(items)
    rec = ns["generate_recommendations"](sim, matrix, 0)
    assert [int(i) for i in rec] == [125, 113, 112, 118, 107, 122, 102, 106, 101, 116]
    seen = set(data.loc[data.user_id == 1, "item_id"])
    assert sorted(int(i) for i in rec if i in seen) == [101, 102, 106, 107, 113, 116, 125]
    assert ns["generate_recommendations"](sim, None, 0) == rec


def test_evaluation_shapes(listing):
    ns, _, matrix, sim, test_data = listing
    assert ns["preprocess_data"](test_data).T.shape == (14, 10)
    with pytest.raises(ValueError, match="not aligned"):
        ns["evaluate_model"](matrix, sim, test_data)


# ----------------------------------------------------------------------------
# the pipeline on MovieLens
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def movielens(movielens_ratings):
    from mathrec.split import random_split

    ratings = movielens_ratings[["user", "item", "rating"]]
    train, test = random_split(ratings, test_size=0.2, random_state=0)
    return ratings, train, test


STRONG = dict(k=40, similarity="adjusted_cosine", shrinkage=100, centering="baseline")


@needs_movielens
@pytest.mark.slow
def test_strong_itemknn_chosen_on_validation(movielens):
    _, train, _ = movielens
    from mathrec.split import random_split

    fit_part, validation = random_split(train, test_size=0.2, random_state=1)
    y = validation["rating"].to_numpy()
    grid = {}
    for sim in ["cosine", "pearson", "adjusted_cosine"]:
        for lam in [0, 25, 100]:
            m = ItemKNN(k=40, similarity=sim, shrinkage=lam, centering="baseline").fit(fit_part)
            grid[(sim, lam)] = rmse(y, m.predict(validation["user"], validation["item"]))
    assert min(grid, key=grid.get) == ("adjusted_cosine", 100)
    assert grid[("adjusted_cosine", 100)] == pytest.approx(0.8411, abs=0.0005)
    assert grid[("adjusted_cosine", 25)] == pytest.approx(0.8415, abs=0.0005)


@needs_movielens
@pytest.mark.slow
def test_strong_itemknn_beats_bias_model_on_three_splits(movielens):
    from mathrec.split import random_split

    ratings = movielens[0]
    expected = {0: (0.8667, 0.8422), 1: (0.8692, 0.8421), 2: (0.8570, 0.8313)}
    for seed, (bias_rmse, knn_rmse) in expected.items():
        tr, te = random_split(ratings, test_size=0.2, random_state=seed)
        y = te["rating"].to_numpy()
        b = rmse(y, BaselineOnly().fit(tr).predict(te["user"], te["item"]))
        k = rmse(y, ItemKNN(**STRONG).fit(tr).predict(te["user"], te["item"]))
        assert b == pytest.approx(bias_rmse, abs=0.0005)
        assert k == pytest.approx(knn_rmse, abs=0.0005)
        assert 0.024 < b - k < 0.028


@needs_movielens
@pytest.mark.slow
def test_mean_centred_userknn(movielens):
    _, train, test = movielens
    est = UserKNN(k=40, similarity="pearson", centering="mean").fit(train).predict(test["user"], test["item"])
    assert rmse(test["rating"].to_numpy(), est) == pytest.approx(0.8856, abs=0.0005)


@needs_movielens
@pytest.mark.slow
def test_leak_optimism(movielens):
    ratings, _, test = movielens
    leaky = UserKNN(k=40, similarity="pearson").fit(ratings)
    r = rmse(test["rating"].to_numpy(), leaky.predict(test["user"], test["item"]))
    assert r == pytest.approx(0.8802, abs=0.0005)
    assert 0.9636 - r == pytest.approx(0.0834, abs=0.001)


@needs_movielens
@pytest.mark.slow
def test_relevance_definitions(movielens):
    _, train, test = movielens
    every = evaluate(Popularity(), train, test, k=10, relevance_threshold=float(test["rating"].min()),
                     rating_metrics=False).set_index("metric")
    assert every.loc["ndcg@k", "value"] == pytest.approx(0.1889, abs=0.0005)
    assert every.loc["ndcg@k", "n"] == 609
    four = evaluate(Popularity(), train, test, k=10, rating_metrics=False).set_index("metric")
    assert four.loc["ndcg@k", "value"] == pytest.approx(0.1586, abs=0.0005)
    assert four.loc["ndcg@k", "n"] == 596


@needs_movielens
@pytest.mark.slow
def test_itemknn_lists_exercise(movielens):
    _, train, test = movielens
    rel = test[test.rating >= 4.0]
    some = sorted(set(rel.user) & set(train.user))[:60]
    expected = [
        (Popularity(), 0.0817, 0.45),
        (ItemKNN(k=40, similarity="cosine", shrinkage=0, recommend_by="similarity"), 0.005, 0.05),
        (ItemKNN(k=40, similarity="cosine", shrinkage=100, recommend_by="similarity"), 0.1267, 0.65),
    ]
    for model, precision, hit_rate in expected:
        res = evaluate(model, train, test, k=10, users=some, rating_metrics=False).set_index("metric")
        assert res.loc["precision@k", "value"] == pytest.approx(precision, abs=0.0005)
        assert res.loc["hit_rate@k", "value"] == pytest.approx(hit_rate, abs=0.001)


@needs_movielens
@pytest.mark.slow
def test_ranking_table(movielens):
    _, train, test = movielens
    # popularity against the best neighbourhood list (the chapter's headline comparison)
    expected = {  # precision@10, ndcg@10, hit rate, as the chapter prints them
        "Popularity": (Popularity(), 0.1186, 0.1586, 0.5705),
        "Jaccard k=50": (UserKNN(k=50, similarity="jaccard", recommend_by="similarity"),
                         0.1826, 0.2509, 0.7148),
    }
    for name, (model, precision, ndcg, hit_rate) in expected.items():
        res = evaluate(model, train, test, k=10, rating_metrics=False).set_index("metric")
        assert res.loc["precision@k", "n"] == 596, name
        assert res.loc["precision@k", "value"] == pytest.approx(precision, abs=0.0005), name
        assert res.loc["ndcg@k", "value"] == pytest.approx(ndcg, abs=0.0005), name
        assert res.loc["hit_rate@k", "value"] == pytest.approx(hit_rate, abs=0.0005), name
