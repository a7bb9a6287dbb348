"""Tests for mathrec.similarity: worked values, cross-checks, properties, edge cases."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial import distance
from scipy.stats import pearsonr
from sklearn.metrics.pairwise import cosine_similarity

from mathrec.similarity import (
    SIMILARITY_KINDS,
    adjusted_cosine,
    cosine,
    jaccard,
    pearson,
    similarity_matrix,
)

VECTOR_FUNCS = [cosine, pearson, jaccard]


# ----------------------------------------------------------------------------
# independent reference: Surprise's algorithm (loops over items, then pairs)
# ----------------------------------------------------------------------------
def _reference(R, kind, min_support=1, shrinkage=0.0, baseline=None):
    """Brute-force pairwise similarities over co-rated entries of a dict-of-rows.

    Mirrors the loops of Surprise's ``similarities.pyx`` (but with the
    diagonal computed by the same formula, as mathrec does).
    """
    R = sp.csr_matrix(R)
    n = R.shape[0]
    rows = [
        dict(zip(R.indices[R.indptr[u] : R.indptr[u + 1]], R.data[R.indptr[u] : R.indptr[u + 1]]))
        for u in range(n)
    ]
    S = np.zeros((n, n))
    for u in range(n):
        for v in range(n):
            common = sorted(set(rows[u]) & set(rows[v]))
            m = len(common)
            if m < max(min_support, 1):
                continue
            x = np.array([rows[u][i] for i in common])
            y = np.array([rows[v][i] for i in common])
            if kind == "cosine":
                den = math.sqrt((x**2).sum() * (y**2).sum())
                s = (x * y).sum() / den if den > 0 else 0.0
            elif kind == "pearson":
                num = m * (x * y).sum() - x.sum() * y.sum()
                den2 = (m * (x**2).sum() - x.sum() ** 2) * (m * (y**2).sum() - y.sum() ** 2)
                s = num / math.sqrt(den2) if den2 > 1e-9 else 0.0
            elif kind == "msd":
                s = 1.0 / (((x - y) ** 2).mean() + 1.0)
            elif kind == "jaccard":
                s = m / len(set(rows[u]) | set(rows[v]))
            elif kind == "pearson_baseline":
                # Surprise: residuals from the baseline, no re-centring
                mu, bu, bi = baseline
                du = x - (mu + bu[u] + bi[common])
                dv = y - (mu + bu[v] + bi[common])
                den = math.sqrt((du**2).sum() * (dv**2).sum())
                s = (du * dv).sum() / den if den > 0 else 0.0
            else:
                raise AssertionError(kind)
            if shrinkage:
                s *= (m - 1) / (m - 1 + shrinkage)
            S[u, v] = s
    return S


def _random_ratings(seed, n_users=25, n_items=30, density=0.3, halves=True):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    values = rng.integers(1, 11, size=(n_users, n_items)) / 2.0 if halves else rng.integers(1, 6, size=(n_users, n_items)).astype(float)
    return sp.csr_matrix(np.where(mask, values, 0.0))


# ----------------------------------------------------------------------------
# the chapter's worked examples
# ----------------------------------------------------------------------------
def test_cosine_source_example_is_11_over_14():
    assert cosine([1, 2, 3], [2, 3, 1]) == pytest.approx(11 / 14, abs=1e-15)
    assert round(cosine([1, 2, 3], [2, 3, 1]), 4) == 0.7857


def test_pearson_small_examples():
    assert pearson([1, 2, 3], [2, 3, 1]) == pytest.approx(-0.5)
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_jaccard_small_example():
    assert jaccard([1, 0, 4, 0], [5, 2, 0, 0]) == pytest.approx(1 / 3)


def test_adjusted_cosine_small_example():
    # centred: (1, 1, 1) and (2, -1, 1): 2 / (sqrt 3 sqrt 6)
    assert adjusted_cosine([4, 3, 5], [5, 1, 5], means=[3, 2, 4]) == pytest.approx(2 / math.sqrt(18))


# ----------------------------------------------------------------------------
# cross-checks of the vector functions
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_vector_functions_match_scipy_and_sklearn(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(2, 40))
    assert cosine(a, b) == pytest.approx(1 - distance.cosine(a, b), abs=1e-12)
    assert cosine(a, b) == pytest.approx(cosine_similarity([a], [b])[0, 0], abs=1e-12)
    assert pearson(a, b) == pytest.approx(pearsonr(a, b).statistic, abs=1e-12)
    ia = rng.random(40) < 0.4
    ib = rng.random(40) < 0.4
    assert jaccard(ia * a, ib * b) == pytest.approx(1 - distance.jaccard(ia, ib), abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_vector_functions_accept_sparse_vectors(seed):
    R = _random_ratings(seed, n_users=2, n_items=40, density=0.4)
    a, b = R.toarray()
    for f in VECTOR_FUNCS:
        assert f(R[0], R[1]) == pytest.approx(f(a, b), abs=1e-15)
        assert f(R[0].T, sp.csr_array(R[1])) == pytest.approx(f(a, b), abs=1e-15)
    with pytest.raises(ValueError, match=r"^a must be 1-D, got a sparse matrix of shape \(2, 40\)"):
        cosine(R, b)


def test_adjusted_cosine_is_cosine_of_user_centred_vectors():
    rng = np.random.default_rng(3)
    a, b, m = rng.uniform(1, 5, size=(3, 12))
    assert adjusted_cosine(a, b, m) == pytest.approx(cosine(a - m, b - m))
    assert adjusted_cosine(a, b, m) == pytest.approx(1 - distance.cosine(a - m, b - m))


# ----------------------------------------------------------------------------
# hypothesis properties
# ----------------------------------------------------------------------------
finite = st.floats(
    min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False
)


@st.composite
def vector_pairs(draw):
    n = draw(st.integers(min_value=1, max_value=20))
    a = draw(arrays(np.float64, n, elements=finite))
    b = draw(arrays(np.float64, n, elements=finite))
    return a, b


@settings(max_examples=150, deadline=None)
@given(vector_pairs())
def test_symmetry_and_bounds(pair):
    a, b = pair
    for f in (cosine, pearson):
        s = f(a, b)
        assert -1.0 <= s <= 1.0
        assert s == pytest.approx(f(b, a), abs=1e-12)
    j = jaccard(a, b)
    assert 0.0 <= j <= 1.0
    assert j == jaccard(b, a)


@settings(max_examples=150, deadline=None)
@given(vector_pairs(), st.floats(min_value=1e-3, max_value=1e3), st.floats(min_value=-100, max_value=100))
def test_scale_invariance(pair, c, shift):
    a, b = pair
    assume(np.array_equal(c * a != 0, a != 0))  # no underflow to zero
    assert cosine(c * a, b) == pytest.approx(cosine(a, b), abs=1e-9)
    assert cosine(-a, b) == pytest.approx(-cosine(a, b), abs=1e-12)
    # Pearson: invariant under positive affine maps (when the map keeps a non-constant)
    a2 = c * a + shift
    if np.ptp(a2) > 0 and np.ptp(a) > 1e-3 * (1 + np.max(np.abs(a))):
        assert pearson(a2, b) == pytest.approx(pearson(a, b), abs=1e-6)
    assert jaccard(c * a, b) == jaccard(a, b)


@settings(max_examples=150, deadline=None)
@given(arrays(np.float64, st.integers(1, 20), elements=finite))
def test_self_similarity(a):
    if np.any(a != 0):
        assert cosine(a, a) == pytest.approx(1.0, abs=1e-12)
        assert jaccard(a, a) == 1.0
    else:
        assert cosine(a, a) == 0.0
    if np.ptp(a) > 0:
        assert pearson(a, a) == pytest.approx(1.0, abs=1e-9)
    else:
        assert pearson(a, a) == 0.0


# ----------------------------------------------------------------------------
# edge cases by name
# ----------------------------------------------------------------------------
def test_zero_vector_gives_zero():
    assert cosine([0, 0, 0], [1, 2, 3]) == 0.0
    assert cosine([0, 0, 0], [0, 0, 0]) == 0.0
    assert pearson([0, 0, 0], [1, 2, 3]) == 0.0
    assert jaccard([0, 0, 0], [1, 2, 3]) == 0.0
    assert jaccard([0, 0], [0, 0]) == 0.0


def test_constant_vector():
    # cosine is defined for a constant vector; Pearson is 0 (scipy: NaN + warning)
    assert cosine([2, 2, 2], [1, 1, 1]) == pytest.approx(1.0)
    assert pearson([2, 2, 2], [1, 2, 3]) == 0.0
    assert pearson([0.1, 0.1, 0.1], [1, 2, 3]) == 0.0
    assert pearson([5.0], [3.0]) == 0.0  # length 1 is constant


def test_tiny_and_huge_values_do_not_underflow_or_overflow():
    assert cosine([1e-200, 2e-200], [2e-200, 4e-200]) == pytest.approx(1.0)
    assert cosine([1e200, 0], [1e200, 1e200]) == pytest.approx(1 / math.sqrt(2))


def test_pearson_of_a_constant_vector_up_to_rounding_is_zero():
    # 0.1 + 0.2 != 0.3: the spread is rounding noise, not a correlation of -0.5
    nearly = [0.1 + 0.2, 0.3, 0.3]
    assert pearson(nearly, [1, 2, 3]) == 0.0
    assert pearson([1, 2, 3], nearly) == 0.0
    S = similarity_matrix(np.array([nearly, [1.0, 2.0, 3.0]]), "pearson")
    assert pearson(nearly, [1, 2, 3]) == S[0, 1]
    # a small but real spread is still correlated
    assert pearson([3.0, 3.0 + 1e-4, 3.0 + 2e-4], [1, 2, 3]) == pytest.approx(1.0)


def test_pearson_of_huge_and_tiny_values():
    # the mean of [1e308, 1e308, 0] overflows unless the vector is scaled first
    assert pearson([1e308, 1e308, 0.0], [1.0, 2.0, 3.0]) == pytest.approx(
        pearson([1.0, 1.0, 0.0], [1.0, 2.0, 3.0]))
    assert pearson([1e-300, 3e-300, 2e-300], [1, 3, 2]) == pytest.approx(1.0)


@pytest.mark.parametrize("kind", ["cosine", "pearson", "adjusted_cosine", "jaccard", "cosine_full"])
@pytest.mark.parametrize("axis", ["users", "items"])
@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_similarity_matrix_of_huge_and_tiny_ratings(kind, axis, scale, rng):
    R = sp.random(12, 9, density=0.5, random_state=rng, format="csr")
    R.data = np.round(1 + 4 * R.data)
    S = similarity_matrix(R, kind, axis)
    np.testing.assert_allclose(similarity_matrix(R * scale, kind, axis), S, atol=1e-12)
    # one row of extreme values among ordinary ones
    if kind != "adjusted_cosine":  # its centring mixes the rows: not row-scale free
        R2 = R.tolil()
        R2[3] = R2[3] * scale
        np.testing.assert_allclose(similarity_matrix(R2.tocsr(), kind, "users"),
                                   similarity_matrix(R, kind, "users"), atol=1e-12)


def test_similarity_matrix_rescaling_is_exact_for_ordinary_ratings():
    rng = np.random.default_rng(1)
    R = sp.random(15, 10, density=0.4, random_state=rng, format="csr")
    R.data = np.round(1 + 4 * R.data) / 2
    for kind in ("cosine", "pearson", "cosine_full", "adjusted_cosine"):
        # a power of two changes nothing, to the last bit
        np.testing.assert_array_equal(similarity_matrix(R * 2.0**40, kind),
                                      similarity_matrix(R, kind))


@pytest.mark.parametrize("kind", ["msd", "pearson_baseline"])
def test_similarity_matrix_refuses_ratings_whose_squares_overflow(kind):
    R = sp.csr_matrix(np.array([[1e200, 2e200, 0.0], [1.0, 2.0, 4.0]]))
    with pytest.raises(ValueError, match=rf"R holds values as large as 2e\+200, .* kind='{kind}'"):
        similarity_matrix(R, kind)


@pytest.mark.parametrize("f", VECTOR_FUNCS)
def test_length_mismatch_names_both_arguments(f):
    with pytest.raises(ValueError, match=r"a and b must have the same length, got 3 and 2"):
        f([1, 2, 3], [1, 2])


@pytest.mark.parametrize("f", VECTOR_FUNCS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_rejected(f, bad):
    with pytest.raises(ValueError, match=r"^b contains a non-finite value"):
        f([1, 2, 3], [1, bad, 3])
    with pytest.raises(ValueError, match=r"^a contains a non-finite value"):
        f([bad, 2, 3], [1, 2, 3])


@pytest.mark.parametrize("f", VECTOR_FUNCS)
def test_empty_is_rejected(f):
    with pytest.raises(ValueError, match=r"^a is empty"):
        f([], [])


@pytest.mark.parametrize("f", VECTOR_FUNCS)
def test_two_dimensional_is_rejected(f):
    with pytest.raises(ValueError, match=r"^a must be 1-D"):
        f([[1, 2]], [1, 2])
    with pytest.raises(ValueError, match=r"^b must be 1-D"):
        f([1, 2], [[1], [2]])


def test_non_numeric_is_rejected():
    with pytest.raises(ValueError, match=r"^a must be a 1-D array of numbers"):
        cosine(["x", "y"], [1, 2])


def test_adjusted_cosine_means_length_mismatch():
    with pytest.raises(ValueError, match=r"^means must have the same length"):
        adjusted_cosine([1, 2], [2, 1], means=[1, 2, 3])
    with pytest.raises(ValueError, match=r"^means contains a non-finite"):
        adjusted_cosine([1, 2], [2, 1], means=[1, np.nan])


# ----------------------------------------------------------------------------
# similarity_matrix
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kind", ["cosine", "pearson", "msd", "jaccard"])
@pytest.mark.parametrize("axis", ["users", "items"])
def test_matrix_matches_surprise_style_reference(seed, kind, axis):
    R = _random_ratings(seed)
    ref = _reference(R if axis == "users" else R.T, kind)
    got = similarity_matrix(R, kind, axis)
    np.testing.assert_allclose(got, ref, atol=1e-10)


def _als_baseline(R, reg_u=15.0, reg_i=10.0, n_epochs=10):
    """Surprise's ``baseline_als``, written out: b_i then b_u, n_epochs times."""
    R = sp.csr_matrix(R)
    coo = R.tocoo()
    mu = coo.data.mean()
    bu, bi = np.zeros(R.shape[0]), np.zeros(R.shape[1])
    for _ in range(n_epochs):
        bi = np.array([sum(r - mu - bu[a] for a, r in zip(coo.row[coo.col == j], coo.data[coo.col == j]))
                       / (reg_i + np.sum(coo.col == j)) for j in range(R.shape[1])])
        bu = np.array([sum(r - mu - bi[b] for b, r in zip(coo.col[coo.row == a], coo.data[coo.row == a]))
                       / (reg_u + np.sum(coo.row == a)) for a in range(R.shape[0])])
    return mu, bu, bi


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("shrinkage", [0.0, 100.0])
def test_pearson_baseline_matches_reference(seed, shrinkage):
    R = _random_ratings(seed, density=0.5)
    mu, bu, bi = _als_baseline(R)
    got = similarity_matrix(R, "pearson_baseline", shrinkage=shrinkage)
    np.testing.assert_allclose(got, _reference(R, "pearson_baseline", shrinkage=shrinkage,
                                               baseline=(mu, bu, bi)), atol=1e-10)
    got_items = similarity_matrix(R, "pearson_baseline", "items", shrinkage=shrinkage)
    ref_items = _reference(R.T, "pearson_baseline", shrinkage=shrinkage, baseline=(mu, bi, bu))
    np.testing.assert_allclose(got_items, ref_items, atol=1e-10)
    # a baseline given explicitly is used as it is
    zero = (0.0, np.zeros(R.shape[0]), np.zeros(R.shape[1]))
    np.testing.assert_allclose(similarity_matrix(R, "pearson_baseline", baseline=zero),
                               similarity_matrix(R, "cosine"), atol=1e-12)


def test_msd_is_one_over_one_plus_mean_squared_difference():
    R = sp.csr_matrix(np.array([[5.0, 3.0, 0.0], [4.0, 1.0, 2.0], [0.0, 0.0, 1.0]]))
    S = similarity_matrix(R, "msd")
    assert S[0, 1] == pytest.approx(1 / (1 + ((5 - 4) ** 2 + (3 - 1) ** 2) / 2))  # 0.2857
    assert S[0, 2] == 0.0  # nothing co-rated
    assert S[1, 2] == pytest.approx(1 / (1 + 1))


def test_bad_baseline():
    R = _random_ratings(0)
    with pytest.raises(ValueError, match="baseline biases must have shapes"):
        similarity_matrix(R, "pearson_baseline", baseline=(3.0, np.zeros(2), np.zeros(2)))
    with pytest.raises(ValueError, match="baseline must be a tuple"):
        similarity_matrix(R, "pearson_baseline", baseline=3.0)


@pytest.mark.parametrize("kind", ["cosine", "pearson", "msd", "jaccard", "pearson_baseline"])
def test_min_support_and_shrinkage_match_reference(kind):
    R = _random_ratings(7, density=0.5)
    ref = _reference(R, kind, min_support=4, shrinkage=25.0, baseline=_als_baseline(R))
    got = similarity_matrix(R, kind, min_support=4, shrinkage=25.0)
    np.testing.assert_allclose(got, ref, atol=1e-10)
    n_common = (R != 0).astype(float) @ (R != 0).astype(float).T
    assert np.all(got[n_common.toarray() < 4] == 0)


def test_pearson_matrix_is_pearsonr_on_co_rated_items():
    R = _random_ratings(11, density=0.6).toarray()
    S = similarity_matrix(sp.csr_matrix(R), "pearson")
    for u, v in [(0, 1), (2, 5), (3, 4)]:
        common = (R[u] != 0) & (R[v] != 0)
        x, y = R[u, common], R[v, common]
        if np.ptp(x) > 0 and np.ptp(y) > 0:
            assert S[u, v] == pytest.approx(pearsonr(x, y).statistic, abs=1e-12)
            assert S[u, v] == pytest.approx(pearson(x, y), abs=1e-12)


def test_pearson_centres_by_co_rated_means_not_overall_means():
    # user 0 rated items 0..3; user 1 only items 0..2
    R = sp.csr_matrix(np.array([[5.0, 3.0, 1.0, 1.0], [4.0, 3.0, 2.0, 0.0]]))
    got = similarity_matrix(R, "pearson")[0, 1]
    assert got == pytest.approx(pearson([5, 3, 1], [4, 3, 2]))  # co-rated means: 3 and 3
    overall = cosine(np.array([5, 3, 1]) - 2.5, np.array([4, 3, 2]) - 3.0)
    assert abs(got - overall) > 1e-3


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("axis", ["users", "items"])
def test_cosine_full_equals_sklearn(seed, axis):
    R = _random_ratings(seed, density=0.2)
    X = R if axis == "users" else R.T
    np.testing.assert_allclose(similarity_matrix(R, "cosine_full", axis), cosine_similarity(X), atol=1e-12)


def test_cosine_full_on_dense_and_matches_vector_cosine():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(6, 9))
    S = similarity_matrix(X, "cosine_full")
    for u in range(6):
        for v in range(6):
            assert S[u, v] == pytest.approx(cosine(X[u], X[v]), abs=1e-12)


def test_co_rated_cosine_differs_from_full_cosine():
    # two users agree exactly on the one item they share
    R = sp.csr_matrix(np.array([[4.0, 5.0, 0.0], [4.0, 0.0, 1.0]]))
    assert similarity_matrix(R, "cosine")[0, 1] == pytest.approx(1.0)
    assert similarity_matrix(R, "cosine_full")[0, 1] == pytest.approx(16 / math.sqrt(41 * 17))


@pytest.mark.parametrize("seed", range(3))
def test_adjusted_cosine_matrix_matches_vector_function(seed):
    R = _random_ratings(seed, n_users=15, n_items=8, density=0.6)
    D = R.toarray()
    rated = D != 0
    means = D.sum(axis=1) / np.maximum(rated.sum(axis=1), 1)
    S = similarity_matrix(R, "adjusted_cosine", "items")
    for i in range(8):
        for j in range(8):
            users = rated[:, i] & rated[:, j]
            if users.sum() == 0:
                assert S[i, j] == 0
            else:
                expect = adjusted_cosine(D[users, i], D[users, j], means[users])
                assert S[i, j] == pytest.approx(expect, abs=1e-12)


def test_adjusted_cosine_users_axis_centres_by_item_means():
    R = _random_ratings(4, n_users=8, n_items=12, density=0.6)
    S_users = similarity_matrix(R, "adjusted_cosine", "users")
    S_items_of_T = similarity_matrix(R.T.tocsr(), "adjusted_cosine", "items")
    np.testing.assert_allclose(S_users, S_items_of_T, atol=1e-12)


def test_explicit_zero_is_an_observed_rating():
    R = sp.csr_matrix((np.array([0.0, 3.0, 5.0, 4.0]), (np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))), shape=(2, 3))
    assert R.nnz == 4
    # co-rated items are {0, 1}: (0, 3) . (5, 4) = 12 / (3 * sqrt 41)
    assert similarity_matrix(R, "cosine")[0, 1] == pytest.approx(12 / (3 * math.sqrt(41)))
    assert similarity_matrix(R, "jaccard")[0, 1] == pytest.approx(1.0)
    # the same matrix given densely: 0 means missing
    assert similarity_matrix(R.toarray(), "jaccard")[0, 1] == pytest.approx(0.5)


def test_chunking_does_not_change_the_result():
    R = _random_ratings(2)
    for kind in SIMILARITY_KINDS:
        np.testing.assert_allclose(
            similarity_matrix(R, kind, chunk_size=3), similarity_matrix(R, kind), atol=1e-13
        )


def test_input_formats_and_dtype():
    R = _random_ratings(1)
    S = similarity_matrix(R, "pearson")
    for X in (R.tocoo(), R.tocsc(), sp.csr_array(R)):
        np.testing.assert_allclose(similarity_matrix(X, "pearson"), S, atol=1e-13)
    S32 = similarity_matrix(R, "pearson", dtype=np.float32)
    assert S32.dtype == np.float32
    assert S.shape == (R.shape[0], R.shape[0])
    assert similarity_matrix(R, axis="items").shape == (R.shape[1], R.shape[1])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(SIMILARITY_KINDS), st.sampled_from(["users", "items"]))
def test_matrix_properties(seed, kind, axis):
    R = _random_ratings(seed, n_users=9, n_items=7, density=0.4)
    S = similarity_matrix(R, kind, axis)
    np.testing.assert_allclose(S, S.T, atol=1e-12)
    assert np.all(S >= -1.0) and np.all(S <= 1.0)
    if kind in ("jaccard", "msd", "cosine_full", "cosine"):
        assert np.all(S >= 0)  # positive ratings
    # scale invariance of the cosine-type measures
    if kind in ("cosine", "pearson", "adjusted_cosine", "cosine_full"):
        np.testing.assert_allclose(similarity_matrix(3.0 * R, kind, axis), S, atol=1e-10)
    # self-similarity 1 for every row with ratings (Pearson: with variation)
    X = (R if axis == "users" else R.T.tocsr()).toarray()
    for u in range(X.shape[0]):
        vals = X[u][X[u] != 0]
        if kind in ("cosine", "cosine_full", "jaccard", "msd") and vals.size:
            assert S[u, u] == pytest.approx(1.0)
        if kind == "pearson" and vals.size and np.ptp(vals) > 0:
            assert S[u, u] == pytest.approx(1.0)
        if vals.size == 0:
            assert np.all(S[u] == 0)


def test_empty_row_gives_zero_row():
    R = sp.csr_matrix(np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0]]))
    for kind in SIMILARITY_KINDS:
        S = similarity_matrix(R, kind)
        assert np.all(S[0] == 0) and np.all(S[:, 0] == 0)


def test_one_user_and_one_item():
    R = sp.csr_matrix(np.array([[4.0, 2.0, 5.0]]))
    assert similarity_matrix(R, "cosine").shape == (1, 1)
    assert similarity_matrix(R, "cosine")[0, 0] == pytest.approx(1.0)
    assert similarity_matrix(R, "cosine", "items").shape == (3, 3)
    # items rated by the single user: one co-rater each, Pearson undefined -> 0
    assert np.all(similarity_matrix(R, "pearson", "items") == 0)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"kind": "euclid"}, ValueError, r"kind must be one of"),
        ({"axis": "rows"}, ValueError, r"axis must be one of \('users', 'items'\), got 'rows'"),
        ({"min_support": -1}, ValueError, r"min_support must be an integer >= 0, got -1"),
        ({"min_support": 1.5}, TypeError, r"min_support must be an integer >= 0, got 1.5"),
        ({"shrinkage": -2.0}, ValueError, r"shrinkage must be a finite real number >= 0, got -2.0"),
        ({"shrinkage": np.nan}, ValueError, r"shrinkage must be a finite real number"),
        ({"shrinkage": "1"}, TypeError, r"shrinkage must be a finite real number >= 0, got '1'"),
        ({"chunk_size": 0}, ValueError, r"chunk_size must be an integer >= 1, got 0"),
    ],
)
def test_matrix_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        similarity_matrix(_random_ratings(0), **kwargs)


def test_matrix_bad_R():
    with pytest.raises(ValueError, match=r"R contains a non-finite rating"):
        similarity_matrix(sp.csr_matrix(np.array([[1.0, np.nan]])))
    with pytest.raises(ValueError, match=r"in a dense R a missing rating is 0"):
        similarity_matrix(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(ValueError, match=r"R is empty"):
        similarity_matrix(sp.csr_matrix((0, 3)))
    with pytest.raises(ValueError, match=r"R must be 2-D"):
        similarity_matrix(np.array([1.0, 2.0]))
    dup = sp.coo_matrix((np.array([4.0, 5.0]), (np.array([0, 0]), np.array([1, 1]))), shape=(2, 2))
    with pytest.raises(ValueError, match=r"more than once"):
        similarity_matrix(dup)


# ----------------------------------------------------------------------------
# Surprise itself, when installed (benchmarks/requirements.txt)
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["cosine", "pearson", "msd", "pearson_baseline"])
@pytest.mark.parametrize("user_based", [True, False])
@pytest.mark.parametrize("min_support", [1, 3])
def test_matches_surprise_off_the_diagonal(name, user_based, min_support):
    pd = pytest.importorskip("pandas")
    surprise = pytest.importorskip("surprise")
    from surprise.prediction_algorithms.knns import KNNBasic

    R = _random_ratings(21, n_users=30, n_items=25, density=0.35).tocoo()
    df = pd.DataFrame({"user": R.row, "item": R.col, "rating": R.data})
    reader = surprise.Reader(rating_scale=(0.5, 5))
    trainset = surprise.Dataset.load_from_df(df, reader).build_full_trainset()
    rows = [trainset.to_inner_uid(u) for u in df["user"]]
    cols = [trainset.to_inner_iid(i) for i in df["item"]]
    X = sp.csr_matrix((df["rating"].to_numpy(), (rows, cols)), shape=(trainset.n_users, trainset.n_items))
    algo = KNNBasic(sim_options={"name": name, "user_based": user_based, "min_support": min_support}, verbose=False)
    algo.trainset = trainset
    shrinkage = 0.0
    if name == "pearson_baseline":
        algo.bu = algo.bi = None  # what fit() sets before computing the ALS baseline
        shrinkage = 100.0  # Surprise's default for pearson_baseline
    expected = algo.compute_similarities()
    got = similarity_matrix(X, name, "users" if user_based else "items", min_support=min_support,
                            shrinkage=shrinkage)
    off = ~np.eye(expected.shape[0], dtype=bool)
    np.testing.assert_allclose(got[off], expected[off], rtol=0, atol=1e-12)
