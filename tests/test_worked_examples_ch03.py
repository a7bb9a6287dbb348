"""The numbers chapter 3 states (notebooks/ch03_neighbourhood.ipynb,
notebooks/ch03_factorisation.ipynb and notebooks/ch03_comparison.ipynb), asserted.

Worked examples are checked exactly; figures from real or synthetic data are checked
to the digits the chapter prints. (The SGD and ALS hand examples of the factorisation
chapter are asserted in tests/test_factorization.py.)
"""

import numpy as np
import pandas as pd
import pytest

import mathrec
import scipy.sparse as sp

from mathrec.baselines import BaselineOnly
from mathrec.datasets import make_synthetic
from mathrec.factorization import BiasedMF, implicit_als_solve
from mathrec.metrics import rmse
from mathrec.neighbors import ItemKNN, UserKNN
from mathrec.split import random_split

needs_copy = pytest.mark.movielens

TOY = pd.DataFrame({
    "user": ["ann", "ann", "ann", "bob", "bob", "bob", "cy", "cy"],
    "item": ["x", "y", "z", "x", "y", "z", "x", "y"],
    "rating": [5.0, 3.0, 4.0, 4.0, 1.0, 5.0, 4.0, 2.0],
})
ITEM_PLUS = dict(k=80, similarity="adjusted_cosine", shrinkage=100.0, centering="baseline")


# ------------------------------------------------------------- neighbourhood, by hand
def test_pearson_on_two_corated_items_and_its_shrinkage():
    for shrinkage in (0, 100):
        model = UserKNN(k=2, similarity="pearson", shrinkage=shrinkage).fit(TOY)
        assert model.predict(["cy"], ["z"])[0] == pytest.approx(4.5, abs=1e-12)


def test_item_without_ratings_falls_back_to_the_global_mean():
    model = ItemKNN(k=40, similarity="adjusted_cosine", centering="mean", shrinkage=0).fit(TOY)
    est, det = model.predict(["cy"], ["new film"], unknown="fallback", return_details=True)
    assert est[0] == pytest.approx(3.5) and bool(det["was_impossible"].iloc[0])


# ------------------------------------------------------ neighbourhood, on MovieLens
@pytest.fixture(scope="module")
def ml(movielens_ratings):
    return movielens_ratings[["user", "item", "rating"]]


@needs_copy
def test_strong_item_knn_beats_the_bias_model_on_every_split(ml):
    expected = {0: (0.8667, 0.8422), 1: (0.8692, 0.8420), 2: (0.8570, 0.8318)}
    for seed, (bias, item) in expected.items():
        tr, te = random_split(ml, test_size=0.2, random_state=seed)
        y = te["rating"].to_numpy()
        b = rmse(y, BaselineOnly().fit(tr).predict(te["user"], te["item"]))
        i = rmse(y, ItemKNN(**ITEM_PLUS).fit(tr).predict(te["user"], te["item"]))
        assert b == pytest.approx(bias, abs=5e-5)
        assert i == pytest.approx(item, abs=5e-5)
    means = np.mean([v for v in expected.values()], axis=0)
    assert means[0] == pytest.approx(0.8643, abs=1e-4) and means[1] == pytest.approx(0.8387, abs=1e-4)


@needs_copy
@pytest.mark.parametrize("seed, similarity, shrinkage, expected, bias", [
    (0, "cosine", 0.0, 0.8763, 0.8667),      # the settings chosen on each split's validation part
    (1, "pearson", 100.0, 0.8726, 0.8692),
    (2, "pearson", 100.0, 0.8612, 0.8570),
])
def test_tuned_user_knn_loses_to_the_bias_model_on_every_split(ml, seed, similarity, shrinkage,
                                                                expected, bias):
    tr, te = random_split(ml, test_size=0.2, random_state=seed)
    est = UserKNN(k=80, similarity=similarity, shrinkage=shrinkage, centering="baseline").fit(
        tr).predict(te["user"], te["item"])
    got = rmse(te["rating"].to_numpy(), est)
    assert got == pytest.approx(expected, abs=5e-5) and got > bias


@needs_copy
def test_validation_choice_of_item_knn_on_split_0(ml):
    tr, _ = random_split(ml, test_size=0.2, random_state=0)
    fit_part, valid = random_split(tr, test_size=0.2, random_state=1)
    scores = {}
    for sim, shr in (("adjusted_cosine", 100.0), ("adjusted_cosine", 0.0), ("pearson", 100.0)):
        est = ItemKNN(k=80, similarity=sim, shrinkage=shr, centering="baseline").fit(fit_part).predict(
            valid["user"], valid["item"])
        scores[(sim, shr)] = rmse(valid["rating"].to_numpy(), est)
    assert scores[("adjusted_cosine", 100.0)] == pytest.approx(0.8410, abs=5e-5)
    assert scores[("adjusted_cosine", 100.0)] < min(scores[("adjusted_cosine", 0.0)],
                                                    scores[("pearson", 100.0)])


@needs_copy
def test_movielens_test_ratings_sit_on_well_rated_movies(ml):
    tr, te = random_split(ml, test_size=0.2, random_state=0)
    assert te["item"].map(tr.groupby("item").size()).fillna(0).median() == 32


# --------------------------------------------------- neighbourhood, synthetic data
def _plus_models():
    return {
        "UserKNN+": UserKNN(k=40, similarity="pearson", shrinkage=100, centering="baseline"),
        "ItemKNN+": ItemKNN(k=40, similarity="adjusted_cosine", shrinkage=100, centering="baseline"),
    }


@pytest.mark.parametrize("density, bias, user_plus, item_plus, support", [
    (0.01, 0.820, 0.870, 0.914, 12),
    (0.04, 0.825, 0.823, 0.832, 36),
    (0.08, 0.817, 0.769, 0.768, 60),
    (0.16, 0.812, 0.732, 0.722, 95),
])
def test_strong_variants_against_density(density, bias, user_plus, item_plus, support):
    data, _ = make_synthetic(600, 400, density=density, random_state=0)
    tr, te = random_split(data, test_size=0.2, random_state=0, cold="keep")
    y = te["rating"].to_numpy()
    got_bias = rmse(y, BaselineOnly().fit(tr).predict(te["user"], te["item"], unknown="fallback"))
    got = {n: rmse(y, m.fit(tr).predict(te["user"], te["item"], unknown="fallback"))
           for n, m in _plus_models().items()}
    assert got_bias == pytest.approx(bias, abs=5e-4)
    assert got["UserKNN+"] == pytest.approx(user_plus, abs=5e-4)
    assert got["ItemKNN+"] == pytest.approx(item_plus, abs=5e-4)
    assert te["item"].map(tr.groupby("item").size()).fillna(0).median() == support


def _cold_groups(seed):
    bins = [-1, 0, 4, 9, 19, 39, 79, 10_000]
    labels = ["0", "1-4", "5-9", "10-19", "20-39", "40-79", "80+"]
    data, _ = make_synthetic(600, 400, density=0.08, random_state=seed)
    tr, te = random_split(data, test_size=0.2, random_state=0, cold="keep")
    n = te["user"].map(tr.groupby("user").size()).fillna(0).astype(int)
    group = pd.cut(n, bins=bins, labels=labels)
    preds = {"bias model": BaselineOnly().fit(tr).predict(te["user"], te["item"], unknown="fallback"),
             "UserKNN": UserKNN(k=40, similarity="pearson", centering="mean").fit(tr).predict(
                 te["user"], te["item"], unknown="fallback")}
    y = te["rating"].to_numpy()
    out = {}
    for g in ("1-4", "80+"):
        mask = (group == g).to_numpy()
        out[g] = {name: rmse(y[mask], np.asarray(p)[mask]) for name, p in preds.items()}
        out[g]["n"] = int(mask.sum())
    return out, tr, te


def test_cold_start_means_over_five_synthetic_data_sets():
    runs = [_cold_groups(seed)[0] for seed in range(1, 6)]
    short = {k: np.mean([r["1-4"][k] for r in runs]) for k in ("bias model", "UserKNN")}
    long_ = {k: np.mean([r["80+"][k] for r in runs]) for k in ("bias model", "UserKNN")}
    assert sum(r["1-4"]["n"] for r in runs) == 291
    assert short["UserKNN"] == pytest.approx(1.072, abs=5e-4)
    assert short["bias model"] == pytest.approx(0.901, abs=5e-4)
    assert long_["UserKNN"] == pytest.approx(0.735, abs=5e-4)
    assert long_["bias model"] == pytest.approx(0.771, abs=5e-4)


def test_rarely_rated_items_hurt_item_knn_most():
    _, tr, te = _cold_groups(1)
    n_item = te["item"].map(tr.groupby("item").size()).fillna(0).astype(int).to_numpy()
    mask = (n_item >= 1) & (n_item <= 4)
    assert mask.sum() == 16 and (n_item == 0).sum() == 0
    y = te["rating"].to_numpy()[mask]
    u, i = te["user"].to_numpy()[mask], te["item"].to_numpy()[mask]
    got = {
        "bias model": BaselineOnly().fit(tr).predict(u, i, unknown="fallback"),
        "UserKNN": UserKNN(k=40, similarity="pearson", centering="mean").fit(tr).predict(
            u, i, unknown="fallback"),
        "ItemKNN": ItemKNN(k=40, similarity="adjusted_cosine", centering="mean", shrinkage=0).fit(tr).predict(
            u, i, unknown="fallback"),
    }
    got = {k: rmse(y, v) for k, v in got.items()}
    assert got["ItemKNN"] == pytest.approx(1.203, abs=5e-4)
    assert got["UserKNN"] == pytest.approx(0.991, abs=5e-4)
    assert got["bias model"] == pytest.approx(0.944, abs=5e-4)


# ------------------------------------------------------- factorisation, by hand
def test_implicit_als_one_user_by_hand():
    Y = np.array([[1.0, 0.2], [0.8, -0.1], [-0.5, 1.0], [0.3, 0.6]])
    rated, c = np.array([0, 2]), 1 + 0.5 * np.array([4.0, 1.0])
    np.testing.assert_allclose(c, [3.0, 1.5])
    correction = (Y[rated].T * (c - 1)) @ Y[rated]
    np.testing.assert_allclose(Y.T @ Y, [[1.98, -0.2], [-0.2, 1.41]], atol=1e-12)
    np.testing.assert_allclose(correction, [[2.125, 0.15], [0.15, 0.58]], atol=1e-12)
    A = Y.T @ Y + correction + 0.1 * np.eye(2)
    b = Y[rated].T @ c
    np.testing.assert_allclose(A, [[4.205, -0.05], [-0.05, 2.09]], atol=1e-12)
    np.testing.assert_allclose(b, [2.25, 2.1], atol=1e-12)
    x = np.linalg.solve(A, b)
    np.testing.assert_allclose(x, [0.5472, 1.0179], atol=5e-5)
    # the dense normal equations over all four cells give the same x
    c_all, p_all = np.array([3.0, 1.0, 1.5, 1.0]), np.array([1.0, 0.0, 1.0, 0.0])
    dense = np.linalg.solve(Y.T @ (c_all[:, None] * Y) + 0.1 * np.eye(2), Y.T @ (c_all * p_all))
    np.testing.assert_allclose(dense, x, atol=1e-12)
    np.testing.assert_allclose(Y @ x, [0.7508, 0.3360, 0.7443, 0.7749], atol=5e-5)
    assert int(np.argmax(Y @ x)) == 3  # the unwatched movie 3 scores highest
    C_u = sp.csr_matrix((c, ([0, 0], rated)), shape=(1, 4))
    one = implicit_als_solve(C_u, Y, regularization=0.1, cg_steps=1)[0]
    two = implicit_als_solve(C_u, Y, regularization=0.1, cg_steps=2)[0]
    np.testing.assert_allclose(one, [0.7097, 0.6624], atol=5e-5)
    np.testing.assert_allclose(two, x, atol=1e-10)


def test_puresvd_fold_in_on_the_toy_matrix():
    from mathrec.factorization import PureSVD

    R = np.array([[5, 4, 1, 1], [4, 5, 1, 2], [1, 1, 5, 4], [2, 1, 4, 5], [5, 5, 2, 1]], float)
    hidden = {(0, 0), (2, 3), (4, 2)}
    toy = pd.DataFrame([(u, i, R[u, i]) for u in range(5) for i in range(4) if (u, i) not in hidden],
                       columns=["user", "item", "rating"])
    V = PureSVD(n_factors=2, random_state=0).fit(toy).item_factors_
    scores = np.array([5.0, 0.0, 0.0, 1.0]) @ V @ V.T
    np.testing.assert_allclose(scores, [1.8888, 2.4039, 0.4586, 0.8710], atol=5e-5)


def test_cost_table_uses_two_k_squared_per_rating_for_als():
    def als(n_ratings, m, n, k):
        return 2 * k * k * n_ratings + (m + n) * k**3 / 3
    assert f"{als(80669, 610, 8942, 100):.2e}" == "4.80e+09"
    assert f"{als(20_000_263, 138_493, 26_744, 100):.2e}" == "4.55e+11"


# ------------------------------------------------- factorisation, on MovieLens
@pytest.fixture(scope="module")
def ml_parts(ml, movielens_ratings):
    tr, te = random_split(movielens_ratings, test_size=0.2, random_state=0)
    fit_part, valid = random_split(tr, test_size=0.2, random_state=1)
    return tr, te, fit_part, valid


@needs_copy
def test_learning_rate_exercise(ml_parts):
    _, _, fit_part, valid = ml_parts
    runs = {}
    for lr in (0.005, 0.02, 0.1):
        runs[lr] = BiasedMF(lr_all=lr, random_state=0).fit(fit_part, validation=valid).history_
    assert runs[0.005].valid_rmse.iloc[-1] == pytest.approx(0.8639, abs=5e-5)
    h = runs[0.02]
    assert h.valid_rmse.min() == pytest.approx(0.8767, abs=5e-5) and int(h.iteration[h.valid_rmse.idxmin()]) == 7
    assert h.valid_rmse.iloc[-1] == pytest.approx(0.8820, abs=5e-5)
    h = runs[0.1]
    assert np.all(np.diff(h.valid_rmse) < 0)  # falls at every epoch: no oscillation, no blow-up
    assert h.valid_rmse.iloc[0] == pytest.approx(0.9391, abs=5e-5)
    assert h.valid_rmse.iloc[-1] == pytest.approx(0.8745, abs=5e-5)
    first = BiasedMF(lr_all=0.2, n_epochs=1, random_state=0).fit(fit_part, validation=valid)
    assert first.history_.valid_rmse.iloc[0] == pytest.approx(1.0640, abs=5e-5)
    with pytest.raises(mathrec.DivergenceError, match="iteration 2.*lr_all"):
        BiasedMF(lr_all=0.2, random_state=0).fit(fit_part, validation=valid)


@needs_copy
def test_default_mf_is_worse_than_the_bias_model_and_tuned_mf_better(ml, movielens_ratings):
    expected = {0: (0.8667, 0.8728, 0.8525), 1: (0.8692, 0.8769, 0.8553), 2: (0.8570, 0.8629, 0.8409)}
    for seed, (bias, default, tuned) in expected.items():
        tr, te = random_split(movielens_ratings, test_size=0.2, random_state=seed)
        y = te["rating"].to_numpy()
        got_default = rmse(y, BiasedMF(random_state=0).fit(tr).predict(te["user"], te["item"]))
        got_tuned = rmse(y, BiasedMF(reg_all=0.1, n_epochs=60, random_state=0).fit(tr).predict(
            te["user"], te["item"]))
        assert got_default == pytest.approx(default, abs=5e-5)
        assert got_tuned == pytest.approx(tuned, abs=5e-5)
        assert tuned < bias < default
