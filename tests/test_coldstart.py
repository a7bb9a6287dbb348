"""Tests of mathrec.coldstart: feature matrices, TF-IDF, ContentBased, SwitchingHybrid."""

import numpy as np
import pandas as pd
import pytest

import mathrec
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.metrics.pairwise import cosine_similarity

from mathrec.baselines import BaselineOnly, Popularity
from mathrec.neighbors import ItemKNN
from mathrec.coldstart import ContentBased, SwitchingHybrid, feature_matrix, tfidf
from mathrec.data import UnknownItemError, UnknownUserError

ITEMS = pd.DataFrame({"item": ["a", "b", "c", "d"],
                      "genres": [["Comedy"], ["Drama"], ["Comedy"], ["Drama", "War"]]})
RATINGS = pd.DataFrame({"user": [1, 1, 2], "item": ["a", "b", "b"], "rating": [5.0, 1.0, 4.0]})


def test_feature_matrix_one_hot_and_ids():
    X, ids, names = feature_matrix(ITEMS)
    assert sp.issparse(X) and X.shape == (4, 3)
    assert names.tolist() == ["Comedy", "Drama", "War"]
    assert ids.tolist() == ["a", "b", "c", "d"]
    assert X.toarray().tolist() == [[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 1]]


def test_feature_matrix_repeated_attribute_counts_once_and_empty_rows():
    X, _, _ = feature_matrix(pd.DataFrame({"item": [1, 2], "genres": [["x", "x"], []]}))
    assert X.toarray().tolist() == [[1.0], [0.0]]


@pytest.mark.parametrize("frame, match", [
    (pd.DataFrame({"item": [1]}), "missing column"),
    (pd.DataFrame({"item": [1, 1], "genres": [["a"], ["b"]]}), "repeat"),
    (pd.DataFrame({"item": [1], "genres": ["a|b"]}), "lists"),
    (pd.DataFrame({"item": [], "genres": []}), "empty"),
])
def test_feature_matrix_errors(frame, match):
    with pytest.raises(ValueError, match=match):
        feature_matrix(frame)


def test_tfidf_by_hand():
    # n = 3 items, feature 2 in one item: idf = ln(4/2) + 1 = 1.6931
    W = tfidf(np.array([[1, 0], [1, 1], [1, 0]]), norm=None).toarray()
    assert W[1, 1] == pytest.approx(np.log(2) + 1)
    assert W[0, 0] == pytest.approx(np.log(4 / 4) + 1)


@pytest.mark.parametrize("smooth_idf", [True, False])
@pytest.mark.parametrize("sublinear_tf", [True, False])
@pytest.mark.parametrize("norm", ["l2", None])
def test_tfidf_matches_sklearn(smooth_idf, sublinear_tf, norm):
    rng = np.random.default_rng(3)
    C = rng.poisson(0.6, size=(40, 12)).astype(float)
    if smooth_idf:  # without smoothing an unseen feature has idf ln(n/0): scikit-learn divides by 0
        C[:, 5] = 0  # a feature no item has
    C[7] = 0  # an item without features
    ours = tfidf(sp.csr_matrix(C), smooth_idf=smooth_idf, sublinear_tf=sublinear_tf, norm=norm)
    ref = TfidfTransformer(smooth_idf=smooth_idf, sublinear_tf=sublinear_tf, norm=norm).fit_transform(C)
    np.testing.assert_allclose(ours.toarray(), ref.toarray(), atol=1e-12)


def test_tfidf_rejects_negative_and_bad_norm():
    with pytest.raises(ValueError, match="non-negative"):
        tfidf(np.array([[1.0, -1.0]]))
    with pytest.raises(ValueError, match="norm"):
        tfidf(np.eye(2), norm="l1")


def test_content_based_worked_example():
    m = ContentBased(use_tfidf=False).fit(RATINGS, ITEMS)
    assert m.cold_items_.tolist() == ["c", "d"]
    rec = m.recommend(1, n=2)
    assert rec["item"].tolist() == ["c", "d"]
    # profile of user 1 = (5 x_a + 1 x_b) / 6, unit length (5, 1, 0) / sqrt(26)
    assert rec["score"].tolist() == pytest.approx([5 / np.sqrt(26), 1 / np.sqrt(2) / np.sqrt(26)])
    # a cold item is scored from its features alone
    assert m.predict([2], ["d"])[0] == pytest.approx(1 / np.sqrt(2))


def test_content_scores_equal_sklearn_cosine_of_profile_and_items(rng):
    genres = [list(rng.choice(list("ABCDEF"), size=rng.integers(0, 4), replace=False)) for _ in range(30)]
    items = pd.DataFrame({"item": np.arange(30) * 10, "genres": genres})
    ratings = pd.DataFrame({"user": rng.integers(0, 8, 60), "item": rng.integers(0, 25, 60) * 10,
                            "rating": rng.integers(1, 6, 60).astype(float)}).drop_duplicates(["user", "item"])
    for center in (False, True):
        m = ContentBased(center=center).fit(ratings, items)
        X = tfidf(feature_matrix(items)[0])
        rows = pd.Index(items["item"]).get_indexer(m.interactions_.items)
        Xc = X.toarray()[rows]
        for u in m.interactions_.users:
            mine = ratings[ratings.user == u]
            w = mine.rating.to_numpy() - (mine.rating.mean() if center else 0.0)
            prof = w @ Xc[pd.Index(m.interactions_.items).get_indexer(mine["item"])]
            expect = cosine_similarity(prof[None, :], Xc).ravel()
            got = m.predict([u] * len(m.interactions_.items), list(m.interactions_.items))
            np.testing.assert_allclose(got, expect, atol=1e-12)


def test_content_unknown_ids_raise():
    m = ContentBased().fit(RATINGS, ITEMS)
    with pytest.raises(UnknownUserError):
        m.recommend("nobody")
    with pytest.raises(UnknownItemError):
        m.predict([1], ["zzz"])
    with pytest.raises(ValueError, match="same length"):
        m.predict([1, 2], ["a"])


def test_content_requires_features_and_fit():
    with pytest.raises(mathrec.NotFittedError, match="not fitted"):
        ContentBased().recommend(1)
    with pytest.raises(TypeError, match="item_features"):
        ContentBased().fit(RATINGS, [["Comedy"]])


def test_content_accepts_matrix_and_ids():
    X, ids, _ = feature_matrix(ITEMS)
    a = ContentBased().fit(RATINGS, (X, ids)).recommend(1, n=2)
    b = ContentBased().fit(RATINGS, ITEMS).recommend(1, n=2)
    pd.testing.assert_frame_equal(a, b)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 9), st.integers(1, 5)), min_size=1, max_size=30,
                unique_by=lambda t: (t[0], t[1])))
def test_content_scores_bounded(rows):
    ratings = pd.DataFrame(rows, columns=["user", "item", "rating"]).astype({"rating": float})
    items = pd.DataFrame({"item": range(12), "genres": [[str(i % 3), str(i % 4)] for i in range(12)]})
    m = ContentBased().fit(ratings, items)
    for u in m.interactions_.users:
        s = m._score_items(int(m.interactions_.user_index(u)))
        assert np.all(s >= -1 - 1e-12) and np.all(s <= 1 + 1e-12)


def test_hybrid_routes_by_number_of_ratings():
    ratings = pd.DataFrame({"user": [1, 1, 1, 2, 3], "item": ["a", "b", "c", "a", "a"],
                            "rating": [5.0, 4.0, 2.0, 4.0, 3.0]})
    h = SwitchingHybrid(BaselineOnly(), min_ratings=2).fit(ratings)
    assert h.route("new") == "popularity" and h.route(2) == "popularity" and h.route(1) == "cf"
    new = h.recommend("new", n=2)
    assert new["item"].tolist() == ["a", "b"] and set(new["source"]) == {"popularity"}
    pd.testing.assert_frame_equal(h.recommend(2, n=2).drop(columns="source"),
                                  Popularity().fit(ratings).recommend(2, n=2))


def test_hybrid_cold_slots_come_from_content():
    ratings = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": ["a", "b", "a", "b", "a"],
                            "rating": [5.0, 1.0, 4.0, 2.0, 3.0]})
    h = SwitchingHybrid(BaselineOnly(), ContentBased(use_tfidf=False), min_ratings=2,
                        cold_slots=1).fit(ratings, ITEMS)
    rec = h.recommend(1, n=2, exclude_seen=False)
    assert rec["source"].tolist() == ["cf", "content"]
    assert rec["item"].iloc[1] == "c"  # user 1 loves the comedy a, so the cold comedy c
    with pytest.raises(ValueError, match="item_features"):
        SwitchingHybrid(BaselineOnly(), ContentBased()).fit(ratings)
    with pytest.raises(ValueError, match="min_ratings"):
        SwitchingHybrid(BaselineOnly(), min_ratings=-1).fit(ratings)


def test_score_items_is_public_and_matches_recommend():
    items = pd.DataFrame({"item": ["a", "b", "c", "d"],
                          "genres": [["Comedy"], ["Drama"], ["Comedy"], ["Drama", "War"]]})
    ratings = pd.DataFrame({"user": [1, 1, 2], "item": ["a", "b", "b"], "rating": [5.0, 1.0, 4.0]})
    m = ContentBased(use_tfidf=False).fit(ratings, items)
    s = m.score_items(1)
    assert s.index.tolist() == ["a", "b", "c", "d"]
    assert s.round(4).to_dict() == {"a": 0.9806, "b": 0.1961, "c": 0.9806, "d": 0.1387}
    assert m.score_items(1, ["d", "c"]).round(4).tolist() == [0.1387, 0.9806]
    np.testing.assert_allclose(m.score_items(2, ["a", "d"]).to_numpy(), m.predict([2, 2], ["a", "d"]))
    rec = m.recommend(1, n=2)
    np.testing.assert_allclose(rec["score"].to_numpy(), s[rec["item"]].to_numpy())
    with pytest.raises(UnknownItemError, match="zz"):
        m.score_items(1, ["zz"])
    with pytest.raises(UnknownUserError, match="99"):
        m.score_items(99)


# ------------------------------------------------------------ ids of another type, new users
def test_content_based_ids_of_another_type_are_refused_by_name():
    ratings = pd.DataFrame({"user": [1, 1, 2], "item": [10, 20, 20], "rating": [5.0, 1.0, 4.0]})
    items = pd.DataFrame({"item": ["10", "20", "30"], "genres": [["Comedy"], ["Drama"], ["Comedy"]]})
    with pytest.raises(ValueError, match=r"none of the 2 rated items has a row in item_features: "
                                         r"rated item ids look like \[10, 20\] \(dtype int64\), "
                                         r"feature ids like \['10', '20', '30'\]"):
        ContentBased().fit(ratings, items)
    m = ContentBased(use_tfidf=False).fit(ratings, items.assign(item=items["item"].astype(int)))
    assert m.recommend(2, n=2)["item"].tolist() == [10, 30]


def test_content_based_uint64_and_int64_ids_stay_distinct(toy12):
    toy = toy12
    shift = np.where(toy["item"] > 10, np.uint64(2**63), np.uint64(0))
    big = toy.assign(item=(toy["item"].astype("uint64") + shift).astype("uint64"))
    feats = pd.DataFrame({"item": [10, 7], "genres": [["a"], ["b"]]})  # int64 ids
    m = ContentBased().fit(big, feats)
    items = m.interactions_.items.tolist()
    assert len(set(items)) == len(items) == 7
    assert 2**63 + 20 in items and 7 in items
    rec = m.recommend(1, n=10)["item"].tolist()
    assert all(isinstance(i, int) for i in rec) and len(set(rec)) == len(rec)
    np.testing.assert_array_equal(m.predict([1, 1], [2**63 + 20, 10]) > 0, [False, True])


def test_hybrid_serves_new_users_whatever_min_ratings(toy12):
    ratings = toy12
    h = SwitchingHybrid(ItemKNN(), min_ratings=0).fit(ratings)
    assert h.route("new user") == "popularity"
    rec = h.recommend("new user", n=3)
    assert rec["source"].tolist() == ["popularity"] * 3
    assert h.route(1) == "cf" and set(h.recommend(1, n=2)["source"]) == {"cf"}


@pytest.mark.parametrize("user", [[1, 2], np.array([1]), {"a": 1}])
def test_hybrid_unhashable_user_is_refused_by_name(user):
    ratings = pd.DataFrame({"user": [1, 1, 2], "item": [10, 20, 20], "rating": [5.0, 1.0, 4.0]})
    h = SwitchingHybrid(ItemKNN(), min_ratings=1).fit(ratings)
    with pytest.raises(TypeError, match="user must be hashable"):
        h.recommend(user)
