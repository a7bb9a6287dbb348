"""Tests for mathrec.neighbors (UserKNN, ItemKNN) and mathrec.baselines.

The vectorised, chunked engine is checked against a brute-force reference
written with plain loops straight from the definitions (Surprise's KNNBasic /
KNNWithMeans / KNNBaseline semantics), against hand-computed toy examples,
against mathrec.similarity.similarity_matrix, and on one fixed split of
MovieLens ml-latest-small against the figure that chapter 5 shows.
"""

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mathrec

from mathrec.baselines import BaselineOnly, Popularity
from mathrec.data import UnknownItemError, UnknownUserError
from mathrec.neighbors import ItemKNN, UserKNN

# ------------------------------------------------------------ brute force


def _brute_predict(df, pairs, *, user_based, similarity, k, centering="none", min_k=1,
                   min_support=1, shrinkage=0.0, baseline=None):
    """Loops over the definitions; tiny data only."""
    rows = list(df.itertuples(index=False))
    if user_based:
        trip = [(r.user, r.item, r.rating, pos) for pos, r in enumerate(rows)]
    else:
        trip = [(r.item, r.user, r.rating, pos) for pos, r in enumerate(rows)]
    by_x, by_y, pos_of = {}, {}, {}
    for x, y, r, p in trip:
        by_x.setdefault(x, {})[y] = r
        by_y.setdefault(y, {})[x] = r
        pos_of[(x, y)] = p
    mu = float(np.mean([t[2] for t in trip]))
    lo, hi = min(t[2] for t in trip), max(t[2] for t in trip)
    x_mean = {x: np.mean(list(v.values())) for x, v in by_x.items()}
    y_mean = {y: np.mean(list(v.values())) for y, v in by_y.items()}

    def sim(x1, x2):
        co = sorted(set(by_x[x1]) & set(by_x[x2]), key=str)
        n = len(co)
        if n < min_support:
            return 0.0
        a = np.array([by_x[x1][y] for y in co], dtype=float)
        b = np.array([by_x[x2][y] for y in co], dtype=float)
        if similarity == "jaccard":
            s = n / len(set(by_x[x1]) | set(by_x[x2]))
        else:
            if similarity == "adjusted_cosine":
                c = np.array([y_mean[y] for y in co])
                a, b = a - c, b - c
            elif similarity == "pearson":
                a, b = a - a.mean() if n else a, b - b.mean() if n else b
            den = math.sqrt(float(a @ a) * float(b @ b))
            s = float(a @ b) / den if den > 1e-12 else 0.0
        if shrinkage > 0:
            s *= max(n - 1, 0) / (max(n - 1, 0) + shrinkage)
        return s

    def bxy(x, y):
        bu, bi = baseline
        return (mu + bu[x] + bi[y]) if user_based else (mu + bu[y] + bi[x])

    out = []
    for u, i in pairs:
        x, y = (u, i) if user_based else (i, u)
        cand = [(sim(x, x2), pos_of[(x2, y)], x2) for x2 in by_y[y] if x2 != x]
        cand = [c for c in cand if c[0] > 0]
        cand.sort(key=lambda c: (-round(c[0], 12), c[1]))  # ties: earliest rating
        top = cand[:k]
        if centering == "none":
            base, fb = 0.0, mu
            val = {x2: by_x[x2][y] for _, _, x2 in top}
        elif centering == "mean":
            base = fb = x_mean[x]
            val = {x2: by_x[x2][y] - x_mean[x2] for _, _, x2 in top}
        else:
            base = fb = bxy(x, y)
            val = {x2: by_x[x2][y] - bxy(x2, y) for _, _, x2 in top}
        den = sum(s for s, _, _ in top)
        if len(top) >= min_k and den > 0:
            est = base + sum(s * val[x2] for s, _, x2 in top) / den
        else:
            est = fb
        out.append(min(hi, max(lo, est)))
    return np.array(out)


def _random_ratings(seed, n_users=9, n_items=8, density=0.5, halves=True):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    u, i = np.nonzero(mask)
    r = rng.integers(1, 11, u.size) / 2.0 if halves else rng.uniform(0.5, 5, u.size)
    df = pd.DataFrame({"user": [f"u{a}" for a in u], "item": [f"i{b}" for b in i], "rating": r})
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # shuffled rows


def _all_unrated_pairs(df):
    seen = set(zip(df.user, df.item))
    return [(u, i) for u in sorted(df.user.unique()) for i in sorted(df.item.unique())
            if (u, i) not in seen]


@pytest.mark.parametrize("cls", [UserKNN, ItemKNN])
@pytest.mark.parametrize("similarity", ["cosine", "pearson", "adjusted_cosine", "jaccard"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force(cls, similarity, seed):
    df = _random_ratings(seed)
    pairs = _all_unrated_pairs(df)
    users, items = zip(*pairs)
    for k in (1, 2, 40):
        m = cls(shrinkage=0.0, k=k, similarity=similarity).fit(df)
        want = _brute_predict(df, pairs, user_based=cls is UserKNN, similarity=similarity, k=k)
        np.testing.assert_allclose(m.predict(users, items), want, rtol=0, atol=1e-10)


@pytest.mark.parametrize("cls", [UserKNN, ItemKNN])
@pytest.mark.parametrize("centering", ["mean", "baseline"])
def test_centering_matches_brute_force(cls, centering):
    df = _random_ratings(5, n_users=10, n_items=9, halves=False)
    pairs = _all_unrated_pairs(df)
    users, items = zip(*pairs)
    m = cls(shrinkage=0.0, k=3, similarity="pearson", centering=centering).fit(df)
    baseline = None
    if centering == "baseline":
        b = BaselineOnly().fit(df)
        inter = b.interactions_
        baseline = (dict(zip(inter.users, b.user_bias_)), dict(zip(inter.items, b.item_bias_)))
    want = _brute_predict(df, pairs, user_based=cls is UserKNN, similarity="pearson", k=3,
                          centering=centering, baseline=baseline)
    np.testing.assert_allclose(m.predict(users, items), want, rtol=0, atol=1e-10)


@pytest.mark.parametrize("cls", [UserKNN, ItemKNN])
def test_min_support_shrinkage_min_k_match_brute_force(cls):
    df = _random_ratings(7, n_users=12, n_items=10, density=0.6)
    pairs = _all_unrated_pairs(df)
    users, items = zip(*pairs)
    m = cls(k=4, similarity="cosine", min_support=2, shrinkage=5.0, min_k=2).fit(df)
    want = _brute_predict(df, pairs, user_based=cls is UserKNN, similarity="cosine", k=4,
                          min_support=2, shrinkage=5.0, min_k=2)
    np.testing.assert_allclose(m.predict(users, items), want, rtol=0, atol=1e-10)


@pytest.mark.parametrize("cls", [UserKNN, ItemKNN])
def test_chunking_does_not_change_results(cls):
    df = _random_ratings(3, n_users=30, n_items=25, density=0.3)
    pairs = _all_unrated_pairs(df)
    users, items = zip(*pairs)
    ref = cls(shrinkage=0.0, k=5, similarity="pearson").fit(df).predict(users, items)
    tiny = cls(shrinkage=0.0, k=5, similarity="pearson", block_size=1, max_candidates=1).fit(df)
    np.testing.assert_allclose(tiny.predict(users, items), ref, rtol=0, atol=1e-12)
    # the same pairs one at a time (the other scheduling path)
    one = np.array([tiny.predict([u], [i])[0] for u, i in pairs[:40]])
    np.testing.assert_allclose(one, ref[:40], rtol=0, atol=1e-12)


def _tenths(seed, n_users=40, n_items=30, density=0.3):
    """Ratings in {0.4, ..., 0.8}: not exact in binary, so sums carry rounding noise."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    u, i = np.nonzero(mask)
    r = rng.integers(4, 9, u.size) / 10.0
    return pd.DataFrame({"user": u, "item": i, "rating": r})


@pytest.mark.parametrize("kind", mathrec.similarity.CORATED_KINDS)
@pytest.mark.parametrize("cls", [UserKNN, ItemKNN])
@pytest.mark.parametrize("data, support", [
    ("halves", (1, 0.0)), ("halves", (2, 3.0)), ("uniform", (1, 0.0)), ("tenths", (1, 0.0)),
    ("tenths", (3, 100.0)),
])
def test_similarity_blocks_match_similarity_matrix(kind, cls, data, support):
    """One engine: the model's neighbour similarities are similarity_matrix's, for every kind."""
    similarity = mathrec.similarity
    min_support, shrinkage = support
    if data == "tenths":
        frames = [_tenths(seed) for seed in (2, 3, 7)]
    else:
        frames = [_random_ratings(11, n_users=15, n_items=12, density=0.4, halves=data == "halves")]
    for df in frames:
        m = cls(similarity=kind, min_support=min_support, shrinkage=shrinkage).fit(df)
        R = m.interactions_.to_csr()
        axis = "users" if cls is UserKNN else "items"
        S = similarity.similarity_matrix(R, kind=kind, axis=axis, min_support=min_support,
                                         shrinkage=shrinkage)
        n = S.shape[0]
        block = m._similarity_block(np.arange(n), np.arange(n))
        off = ~np.eye(n, dtype=bool)  # the diagonal is never used as a neighbour
        np.testing.assert_allclose(block[off], np.asarray(S)[off], rtol=0, atol=1e-12)
        # a co-rated vector constant up to rounding is constant in both: exact zeros agree
        np.testing.assert_array_equal(block[off] == 0, S[off] == 0)


def test_pearson_constant_up_to_rounding_is_constant():
    """A neighbour whose co-rated ratings are constant (0.7, 0.7, ...) has Pearson 0, not noise."""
    df = _tenths(7)
    m = UserKNN(k=40, similarity="pearson").fit(df)
    S = mathrec.similarity.similarity_matrix(m.interactions_.to_csr(), "pearson")
    users = m.interactions_.users
    items = m.interactions_.items
    seen = set(zip(df.user, df.item))
    pairs = [(u, i) for u in users for i in items if (u, i) not in seen]
    pu, pi = zip(*pairs)
    got, details = m.predict(pu, pi, return_details=True)
    # brute force with the documented definition: KNNBasic on similarity_matrix
    R = m.interactions_.to_csr().toarray()
    rated = m.interactions_.to_csr().toarray() != 0
    rated[m.interactions_.user_idx, m.interactions_.item_idx] = True
    want = []
    for u, i in pairs:
        a = int(np.flatnonzero(users == u)[0])
        j = int(np.flatnonzero(items == i)[0])
        nb = [v for v in np.flatnonzero(rated[:, j]) if v != a and round(S[a, v], 12) > 0]
        nb = sorted(nb, key=lambda v: -S[a, v])[:40]
        if not nb:
            want.append(m.global_mean_)
        else:
            w = np.array([S[a, v] for v in nb])
            want.append(float(w @ R[nb, j] / w.sum()))
    np.testing.assert_allclose(got, np.clip(want, *m.rating_range_), rtol=0, atol=1e-9)


# --------------------------------------------------------------- worked toy example

TOY = pd.DataFrame({
    "user": ["ann", "ann", "ann", "bob", "bob", "bob", "cy", "cy"],
    "item": ["x", "y", "z", "x", "y", "z", "x", "y"],
    "rating": [5.0, 3.0, 4.0, 4.0, 1.0, 5.0, 4.0, 2.0],
})


def test_user_based_toy_by_hand():
    # cy and ann share x, y: cos = (4*5 + 2*3) / (sqrt(16+4) sqrt(25+9)) = 26 / sqrt(680)
    # cy and bob share x, y: cos = (4*4 + 2*1) / (sqrt(20) sqrt(17)) = 18 / sqrt(340)
    s_ann, s_bob = 26 / math.sqrt(680), 18 / math.sqrt(340)
    want = (s_ann * 4.0 + s_bob * 5.0) / (s_ann + s_bob)
    m = UserKNN(k=2, similarity="cosine").fit(TOY)
    assert m.predict(["cy"], ["z"])[0] == pytest.approx(want)
    # k = 1 keeps only the most similar user (bob: 0.9762 > ann: 0.9971? no -> ann)
    assert s_ann > s_bob
    assert UserKNN(k=1).fit(TOY).predict(["cy"], ["z"])[0] == pytest.approx(4.0)


def test_item_based_toy_by_hand():
    # z vs x over ann, bob: (4*5 + 5*4) / (sqrt(16+25) sqrt(25+16)) = 40/41
    # z vs y over ann, bob: (4*3 + 5*1) / (sqrt(41) sqrt(10)) = 17 / sqrt(410)
    s_x, s_y = 40 / 41, 17 / math.sqrt(410)
    want = (s_x * 4.0 + s_y * 2.0) / (s_x + s_y)
    m = ItemKNN(k=2, similarity="cosine", shrinkage=0.0).fit(TOY)
    assert m.predict(["cy"], ["z"])[0] == pytest.approx(want)


def test_pearson_negative_neighbours_are_ignored():
    # cy vs bob, Pearson over x, y: both decreasing -> +1; cy vs ann: +1 as well.
    m = UserKNN(k=2, similarity="pearson").fit(TOY)
    est, details = m.predict(["cy"], ["z"], return_details=True)
    assert details["actual_k"].tolist() == [2]
    assert est[0] == pytest.approx(4.5)


# ------------------------------------------------------------------ edge cases


def test_unknown_ids():
    m = UserKNN().fit(TOY)
    with pytest.raises(UnknownUserError, match="dan"):
        m.predict(["dan"], ["x"])
    with pytest.raises(UnknownItemError, match="w"):
        m.predict(["ann"], ["w"])
    with pytest.raises(UnknownUserError):
        m.recommend("dan")
    mu = TOY.rating.mean()
    assert m.predict(["dan", "ann"], ["x", "w"], unknown="fallback").tolist() == [mu, mu]
    mb = ItemKNN(centering="mean", shrinkage=0.0).fit(TOY)
    # unknown user, known item: the item's mean (item-based 'mean' centres on items)
    assert mb.predict(["dan"], ["x"], unknown="fallback")[0] == pytest.approx(13 / 3)


@pytest.mark.parametrize("kwargs,match", [
    ({"k": 0}, "k must be an integer >= 1, got 0"),
    ({"k": 2.5}, "k must be an integer"),
    ({"min_k": 0}, "min_k"),
    ({"similarity": "cosine_full"}, "similarity must be one of"),
    ({"centering": "z"}, "centering must be one of"),
    ({"shrinkage": -1}, "shrinkage must be"),
    ({"baseline_options": {"reg": 1}}, "unknown keys"),
])
def test_bad_hyper_parameters(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ItemKNN(**kwargs).fit(TOY)


def test_no_neighbour_falls_back_and_says_so():
    # dan rated only w, which nobody else rated: no user shares an item with dan
    df = pd.concat([TOY, pd.DataFrame({"user": ["dan"], "item": ["w"], "rating": [1.0]})])
    mu = df.rating.mean()
    m = UserKNN().fit(df)
    est, details = m.predict(["dan"], ["x"], return_details=True)
    assert est[0] == pytest.approx(mu)
    assert details["was_impossible"].tolist() == [True]
    assert details["actual_k"].tolist() == [0]
    assert UserKNN(centering="mean").fit(df).predict(["dan"], ["x"])[0] == pytest.approx(1.0)


def test_predict_length_mismatch_and_unfitted():
    with pytest.raises(ValueError, match="same length"):
        UserKNN().fit(TOY).predict(["ann"], ["x", "y"])
    with pytest.raises(mathrec.NotFittedError, match="not fitted"):
        UserKNN().predict(["ann"], ["x"])


def test_predictions_are_clipped():
    df = _random_ratings(2, halves=False)
    est = UserKNN(centering="baseline").fit(df).predict(*zip(*_all_unrated_pairs(df)))
    assert est.min() >= df.rating.min() and est.max() <= df.rating.max()


def test_recommend_excludes_seen_and_is_sorted():
    df = _random_ratings(4, n_users=12, n_items=15)
    for cls in (UserKNN, ItemKNN):
        m = cls(shrinkage=0.0, k=3, recommend_by="rating").fit(df)
        rec = m.recommend("u0", n=20)
        seen = set(df.loc[df.user == "u0", "item"])
        assert not seen & set(rec["item"])
        assert rec["score"].is_monotonic_decreasing
        # scores are the model's predictions for those pairs
        np.testing.assert_allclose(rec["score"], m.predict(["u0"] * len(rec), rec["item"]))
        allrec = m.recommend("u0", n=100, exclude_seen=False)
        assert len(allrec) == df.item.nunique()
    with pytest.raises(ValueError, match="n must be"):
        UserKNN().fit(df).recommend("u0", n=0)


def test_popularity_and_baseline():
    pop = Popularity().fit(TOY)
    assert pop.recommend("cy", n=5)["item"].tolist() == ["z"]
    assert pop.recommend("cy", n=2, exclude_seen=False)["item"].tolist() == ["x", "y"]
    good = Popularity(min_rating=4).fit(TOY)
    assert good.counts_.tolist() == [3.0, 0.0, 2.0]
    b = BaselineOnly(reg_u=0, reg_i=0, n_epochs=200).fit(TOY)
    inter = b.interactions_
    # unregularised biases reproduce the fitted values in least squares
    fitted = b.predict(TOY.user, TOY.item)
    resid = TOY.rating.to_numpy() - fitted
    np.testing.assert_allclose(np.bincount(inter.user_idx, weights=resid), 0, atol=1e-6)
    np.testing.assert_allclose(np.bincount(inter.item_idx, weights=resid), 0, atol=1e-6)


# ------------------------------------------------------- real data (chapter 5)

DATA = Path(os.environ.get("MATHREC_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="module")
def movielens_split():
    if not (DATA / "ml-latest-small" / "ratings.csv").exists():
        pytest.skip("ml-latest-small not available")
    from mathrec.datasets import load_movielens
    from mathrec.split import random_split

    df = load_movielens(data_home=DATA)[["user", "item", "rating"]]
    return random_split(df, test_size=0.2, random_state=0)


@pytest.mark.slow
@pytest.mark.parametrize("cls,similarity,expected", [
    # the figures chapter 5 prints for this split (random_split, test_size=0.2, random_state=0)
    (ItemKNN, "cosine", 0.9821),
    (UserKNN, "pearson", 0.9636),
])
def test_movielens_rmse_band(movielens_split, cls, similarity, expected):
    train, test = movielens_split
    m = cls(shrinkage=0.0, k=40, similarity=similarity).fit(train)
    est = m.predict(test["user"], test["item"])
    rmse = float(np.sqrt(np.mean((est - test["rating"].to_numpy()) ** 2)))
    assert rmse == pytest.approx(expected, abs=0.002)


def test_recommend_by_similarity_sum_by_hand():
    s_ann, s_bob = 26 / math.sqrt(680), 18 / math.sqrt(340)
    m = UserKNN(k=2, similarity="cosine", recommend_by="similarity").fit(TOY)
    rec = m.recommend("cy", n=3)
    assert rec["item"].tolist() == ["z"]
    assert rec["score"].iloc[0] == pytest.approx(s_ann + s_bob)
    with pytest.raises(ValueError, match="recommend_by"):
        UserKNN(recommend_by="votes").fit(TOY)


@pytest.mark.slow
def test_movielens_baselines_chapter5(movielens_split):
    from mathrec.evaluation import evaluate

    train, test = movielens_split
    b = evaluate(BaselineOnly(), train, test, k=10, ranking_metrics=False).set_index("metric")
    assert b.loc["rmse", "value"] == pytest.approx(0.8667, abs=0.0005)
    p = evaluate(Popularity(), train, test, k=10, rating_metrics=False).set_index("metric")
    assert p.loc["precision@k", "value"] == pytest.approx(0.1186, abs=0.0005)
    assert p.loc["precision@k", "n"] == 596


@pytest.mark.slow
def test_movielens_centering_chapter3(movielens_split):
    train, test = movielens_split
    y = test["rating"].to_numpy()
    got = {c: float(np.sqrt(np.mean((UserKNN(k=40, similarity="pearson", centering=c).fit(train)
                                     .predict(test["user"], test["item"]) - y) ** 2)))
           for c in ("mean", "baseline")}
    assert got["mean"] == pytest.approx(0.8856, abs=0.0005)
    assert got["baseline"] == pytest.approx(0.8738, abs=0.0005)


@pytest.mark.slow
def test_sparsity_claim_chapter3():
    """Chapter 3's density experiment: k-NN loses to the mean when sparse, wins when dense."""
    from mathrec.datasets import make_synthetic
    from mathrec.split import random_split

    out = {}
    for density in (0.01, 0.16):
        data, _ = make_synthetic(600, 400, density=density, random_state=0)
        tr, te = random_split(data, test_size=0.2, random_state=0, cold="keep")
        y = te["rating"].to_numpy()
        est, det = UserKNN(k=40, similarity="pearson", centering="mean").fit(tr).predict(
            te["user"], te["item"], unknown="fallback", return_details=True)
        base = BaselineOnly().fit(tr).predict(te["user"], te["item"], unknown="fallback")
        out[density] = (float(np.sqrt(np.mean((est - y) ** 2))), float(np.sqrt(np.mean((base - y) ** 2))),
                        float(np.sqrt(np.mean((tr["rating"].mean() - y) ** 2))), det["was_impossible"].mean())
    knn, base, mean, fallback = out[0.01]
    assert (round(knn, 3), round(base, 3), round(mean, 3), round(fallback, 3)) == (0.954, 0.820, 0.873, 0.721)
    assert knn > mean > base
    knn, base, _, _ = out[0.16]
    assert (round(knn, 3), round(base, 3)) == (0.741, 0.812)
    assert knn < base


@pytest.mark.slow
def test_movielens_ranking_chapter5(movielens_split):
    """Chapter 5's top-10 figures: Pearson k-NN lists and the Jaccard variant against popularity."""
    from mathrec.evaluation import evaluate

    train, test = movielens_split

    def precision(model):
        res = evaluate(model, train, test, k=10, rating_metrics=False).set_index("metric")
        return res.loc["precision@k", "value"]

    assert precision(UserKNN(k=40, similarity="pearson", recommend_by="similarity")) == pytest.approx(0.1035, abs=0.0005)
    assert precision(UserKNN(k=50, similarity="jaccard", recommend_by="similarity")) == pytest.approx(0.1826, abs=0.0005)


# ------------------------------------------------------------------- properties

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 6),
       similarity=st.sampled_from(["cosine", "pearson", "adjusted_cosine", "jaccard"]),
       centering=st.sampled_from(["none", "mean"]))
def test_item_based_is_user_based_on_the_transpose(seed, k, similarity, centering):
    # (centering="baseline" is left out: its alternating least squares updates item
    # biases first, so on the transpose it is a different iteration)
    df = _random_ratings(seed, n_users=8, n_items=7, density=0.5)
    swapped = df.rename(columns={"user": "item", "item": "user"})
    pairs = _all_unrated_pairs(df)
    users, items = zip(*pairs)
    a = ItemKNN(k=k, similarity=similarity, centering=centering, shrinkage=0.0).fit(df).predict(users, items)
    b = UserKNN(k=k, similarity=similarity, centering=centering).fit(swapped).predict(items, users)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 5))
def test_relabelling_ids_changes_nothing(seed, k):
    df = _random_ratings(seed, n_users=8, n_items=7, density=0.5)
    ren = df.assign(user=df.user.map(lambda u: ("user", u[::-1])), item=df.item.map(lambda i: 1000 + int(i[1:])))
    pairs = _all_unrated_pairs(df)
    users, items = zip(*pairs)
    for cls in (UserKNN, ItemKNN):
        a = cls(shrinkage=0.0, k=k, similarity="pearson").fit(df).predict(users, items)
        b = cls(shrinkage=0.0, k=k, similarity="pearson").fit(ren).predict([("user", u[::-1]) for u in users],
                                                            [1000 + int(i[1:]) for i in items])
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
        lo, hi = df.rating.min(), df.rating.max()
        assert np.all((a >= lo) & (a <= hi))


@pytest.mark.slow
def test_cold_start_table_chapter3():
    """Chapter 3's cold-start figures: error by the number of training ratings of the user."""
    from mathrec.datasets import make_synthetic
    from mathrec.split import random_split

    data, _ = make_synthetic(600, 400, density=0.08, random_state=1)
    tr, te = random_split(data, test_size=0.2, random_state=0, cold="keep")
    n_train = te["user"].map(tr.groupby("user").size()).fillna(0).to_numpy()
    y = te["rating"].to_numpy()
    preds = {
        "bias": BaselineOnly().fit(tr).predict(te["user"], te["item"], unknown="fallback"),
        "user": UserKNN(k=40, similarity="pearson", centering="mean").fit(tr).predict(
            te["user"], te["item"], unknown="fallback"),
        "item": ItemKNN(k=40, similarity="adjusted_cosine", centering="mean", shrinkage=0.0).fit(tr).predict(
            te["user"], te["item"], unknown="fallback"),
    }

    def rmse_where(mask, name):
        return round(float(np.sqrt(np.mean((preds[name][mask] - y[mask]) ** 2))), 3)

    few = (n_train >= 1) & (n_train <= 4)
    many = n_train >= 80
    assert (rmse_where(few, "user"), rmse_where(few, "item"), rmse_where(few, "bias")) == (0.978, 0.905, 0.823)
    assert (rmse_where(many, "user"), rmse_where(many, "bias")) == (0.748, 0.793)


@pytest.mark.slow
def test_movielens_small_k_chapter3(movielens_split):
    train, test = movielens_split
    est = UserKNN(k=5, similarity="pearson").fit(train).predict(test["user"], test["item"])
    rmse = float(np.sqrt(np.mean((est - test["rating"].to_numpy()) ** 2)))
    assert rmse == pytest.approx(1.0107, abs=0.0005)


@pytest.mark.parametrize("cls", [UserKNN, ItemKNN])
@pytest.mark.parametrize("params", [
    {"k": 2, "similarity": "cosine"},
    {"k": 3, "similarity": "pearson", "centering": "mean", "min_k": 2},
    {"k": 1, "similarity": "msd", "centering": "baseline"},
    {"k": 4, "similarity": "jaccard", "min_support": 2, "shrinkage": 2.0},
    {"k": 40, "similarity": "pearson_baseline", "clip": False},
])
def test_recommend_scores_are_the_predictions(cls, params, monkeypatch):
    """The blocked top-N kernel scores every item as predict does (ties: earlier rating)."""
    monkeypatch.setattr(mathrec.neighbors, "_FEW_USERS", 0)  # the kernels even for a few users
    for seed, halves in ((0, True), (4, False)):
        df = _random_ratings(seed, n_users=14, n_items=11, density=0.45, halves=halves)
        m = cls(recommend_by="rating", **params).fit(df)
        inter = m.interactions_
        n_u, n_i = inter.n_users, inter.n_items
        block = m._score_block(np.arange(n_u))
        users = np.repeat(inter.users, n_i)
        items = np.tile(inter.items, n_u)
        want, details = m.predict(users, items, return_details=True)
        np.testing.assert_allclose(block.ravel(), want, rtol=0, atol=1e-12)
        m.set_params(recommend_by="similarity")
        weights = m._score_block(np.arange(n_u)).ravel()
        x, y = ((inter.user_index(users), inter.item_index(items)) if cls is UserKNN
                else (inter.item_index(items), inter.user_index(users)))
        _, _, w = m._estimate(np.asarray(x), np.asarray(y), return_weight=True)
        np.testing.assert_allclose(weights, w, rtol=0, atol=1e-12)


@pytest.mark.parametrize("cls", [UserKNN, ItemKNN])
def test_every_schedule_gives_the_same_neighbours(cls):
    """Pairs grouped by column, by target block, or by compiled target rows: one answer,
    also where a similarity is rounding noise around 0 (ratings in tenths)."""
    for seed in (2, 3, 7):
        m = cls(shrinkage=0.0, k=3, similarity="pearson").fit(_tenths(seed))
        n_x = m._x_count.size
        n_y = m._Yval.shape[0]
        x = np.repeat(np.arange(n_x), n_y)
        y = np.tile(np.arange(n_y), n_x)
        a = m._sums_by_y(x, y)
        b = m._sums_by_target_block(x, y)
        c = m._sums_by_target_rows(x, y, mathrec.neighbors._knn_kernels())
        for got in (b, c):
            np.testing.assert_array_equal(got[2], a[2])
            np.testing.assert_allclose(got[0], a[0], rtol=0, atol=1e-12)
            np.testing.assert_allclose(got[1], a[1], rtol=0, atol=1e-12)


@pytest.mark.slow
def test_default_lists_are_acceptable(movielens_split):
    """By default (similarity sums; ItemKNN with shrinkage 100) the top-10 lists are far
    better than by predicted rating, whose lists are items with one to three ratings."""
    from mathrec.evaluation import evaluate

    train, test = movielens_split
    users = sorted(set(test.loc[test.rating >= 4, "user"]) & set(train.user))[::3]

    def precision(model):
        res = evaluate(model, train, test, k=10, users=users, rating_metrics=False)
        return res.set_index("metric").loc["precision@k", "value"]

    for cls in (UserKNN, ItemKNN):
        default = precision(cls())
        by_rating = precision(cls(recommend_by="rating", shrinkage=0.0))
        assert by_rating < 0.01
        assert default > 0.05
    assert ItemKNN().get_params()["shrinkage"] == 100.0
    assert UserKNN().get_params()["recommend_by"] == "similarity"


@pytest.mark.parametrize("cls", [UserKNN, ItemKNN])
def test_a_tie_group_larger_than_the_room_left_takes_the_earliest_ratings(cls, monkeypatch):
    """Three neighbours equally similar to the target, room for two: the two rated first
    (in training order) are used, by predict and by the top-N walk alike."""
    monkeypatch.setattr(mathrec.neighbors, "_FEW_USERS", 0)
    rows = [("u", "b", 4.0), ("u", "c", 1.0), ("u", "a", 5.0)]
    rows += [(v, e, 3.0) for v in ("v1", "v2") for e in ("a", "b", "c", "t")]
    df = pd.DataFrame(rows, columns=["user", "item", "rating"])
    if cls is UserKNN:  # the same neighbourhoods with the roles of users and items swapped
        df = df.rename(columns={"user": "item", "item": "user"})
        user, item = "t", "u"
    else:
        user, item = "u", "t"
    m = cls(k=2, similarity="jaccard", shrinkage=0.0, recommend_by="rating").fit(df)
    est, details = m.predict(user, item, return_details=True)
    assert est == pytest.approx(2.5)  # b and c, not a: (4 + 1) / 2
    assert details["actual_k"].tolist() == [2]
    inter = m.interactions_
    block = m._score_block(np.arange(inter.n_users))
    assert block[inter.user_index([user])[0], inter.item_index([item])[0]] == pytest.approx(2.5)
