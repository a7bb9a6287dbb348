"""Every number of chapter 4 (notebooks/ch04_maths.ipynb, source section 4) asserted."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

import mathrec
from mathrec.linalg import (
    approximation_error,
    energy_kept,
    rank_k_approximation,
    svd,
    truncated_svd,
)
from mathrec.losses import binary_cross_entropy, half_sse, mse
from mathrec.similarity import cosine, pearson, similarity_matrix

needs_movielens = pytest.mark.movielens

# the source's matrix (section 4.3.2) and its claimed decomposition
R = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
U_SRC = np.array([[0.6325, 0.7746, 0], [0.7746, 0.6325, 0], [0, 0, 1]])
S_SRC = np.diag([1, math.sqrt(2), 0])
VT_SRC = np.array([[0.6325, 0.7746], [0, 0.6325], [0, 0], [1, 0]])

# the chapter's small rating example: rows Ann, Bob, Cara; 0 = not rated
RATINGS = np.array(
    [
        [5.0, 4.0, 2.0, 1.0, 0.0],  # Ann: generous
        [3.0, 2.0, 1.0, 0.0, 2.0],  # Bob: harsh, same order as Ann on i1..i3
        [2.0, 4.0, 5.0, 0.0, 4.0],  # Cara: the opposite taste
    ]
)


# ---------------------------------------------------------------- 4.3.1 cosine
def test_cosine_source_example():
    x_i, x_j = np.array([1, 2, 3]), np.array([2, 3, 1])
    assert x_i @ x_j == 11
    assert x_i @ x_i == 14 and x_j @ x_j == 14
    assert cosine(x_i, x_j) == pytest.approx(11 / 14, abs=1e-15)
    assert mathrec.cosine(x_i, x_j) == pytest.approx(0.7857, abs=5e-5)
    assert math.degrees(math.acos(11 / 14)) == pytest.approx(38.21, abs=0.005)


# ---------------------------------------------------------------- Pearson
def test_pearson_rating_example():
    S_cos = similarity_matrix(sp.csr_matrix(RATINGS), "cosine")
    S_pea = similarity_matrix(sp.csr_matrix(RATINGS), "pearson")
    S_full = similarity_matrix(sp.csr_matrix(RATINGS), "cosine_full")
    # Ann-Bob over co-rated i1..i3
    assert S_cos[0, 1] == pytest.approx(25 / math.sqrt(45 * 14))
    assert S_pea[0, 1] == pytest.approx(9 / math.sqrt(84))
    assert round(S_pea[0, 1], 4) == 0.982
    # Ann-Cara: cosine says similar, Pearson says opposite
    assert S_cos[0, 2] == pytest.approx(0.8)
    assert S_pea[0, 2] == pytest.approx(-13 / 14)
    # zero-filled full vectors
    assert S_full[0, 1] == pytest.approx(25 / math.sqrt(46 * 18))
    # centring by each user's mean over ALL their ratings (3 and 2) instead
    ann, bob = RATINGS[0, :3], RATINGS[1, :3]
    assert RATINGS[0][RATINGS[0] > 0].mean() == 3.0
    assert RATINGS[1][RATINGS[1] > 0].mean() == 2.0
    assert cosine(ann - 3.0, bob - 2.0) == pytest.approx(math.sqrt(3) / 2)
    # the vector function on the co-rated part is the co-rated Pearson
    assert pearson(ann, bob) == pytest.approx(S_pea[0, 1])
    # the rest of the chapter's table
    assert S_full[0, 2] == pytest.approx(36 / math.sqrt(46 * 61))
    assert S_cos[1, 2] == pytest.approx(27 / math.sqrt(18 * 61)) == pytest.approx(S_full[1, 2])
    assert round(S_cos[1, 2], 4) == 0.8148
    assert S_pea[1, 2] == pytest.approx(-3 / math.sqrt(9.5))
    assert round(S_pea[1, 2], 4) == -0.9733
    S_jac = similarity_matrix(sp.csr_matrix(RATINGS), "jaccard")
    assert S_jac[0, 1] == pytest.approx(0.6) and S_jac[0, 2] == pytest.approx(0.6)
    assert S_jac[1, 2] == pytest.approx(1.0)


# ---------------------------------------------------------------- 4.3.2 SVD
def test_source_decomposition_is_wrong():
    assert VT_SRC.shape == (4, 2)
    with pytest.raises(ValueError):
        U_SRC @ S_SRC @ VT_SRC  # (3x3)(3x3)(4x2): not defined
    # its U is not orthogonal: columns 1 and 2 have dot product 0.98
    assert (U_SRC.T @ U_SRC)[0, 1] == pytest.approx(0.9799, abs=1e-4)
    # its Sigma has rank 2 but R has rank 3 (det 2): no product through it is R
    assert np.linalg.det(R) == pytest.approx(2.0)
    assert np.linalg.matrix_rank(S_SRC) == 2 and np.linalg.matrix_rank(R) == 3
    # its "singular values" carry energy 3, R carries 6
    assert np.sum(np.diag(S_SRC) ** 2) == pytest.approx(3.0)
    assert np.sum(R**2) == 6.0
    # 0.6325 and 0.7746 are sqrt(2/5) and sqrt(3/5), rounded
    assert math.sqrt(0.4) == pytest.approx(0.6325, abs=5e-5)
    assert math.sqrt(0.6) == pytest.approx(0.7746, abs=5e-5)


def test_true_svd_of_source_matrix():
    U, s, Vt = svd(R)
    np.testing.assert_allclose(s, [2.0, 1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(U @ np.diag(s) @ Vt, R, atol=1e-12)
    np.testing.assert_allclose(U.T @ U, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(3), atol=1e-12)
    # the first pair is unique up to sign: (1,1,1)/sqrt 3
    np.testing.assert_allclose(U[:, 0], np.ones(3) / math.sqrt(3), atol=1e-12)
    np.testing.assert_allclose(Vt[0], np.ones(3) / math.sqrt(3), atol=1e-12)
    # eigenvalues of R^T R are sigma^2 (not "Sigma = R^T R")
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(R.T @ R))[::-1], [4.0, 1.0, 1.0], atol=1e-12)
    # R is symmetric with eigenvalues 2, -1, -1: sigma = |lambda|
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(R)), [-1.0, -1.0, 2.0], atol=1e-12)


def _basis(u2, u3):
    u1 = np.ones(3) / math.sqrt(3)
    U = np.column_stack([u1, u2 / np.linalg.norm(u2), u3 / np.linalg.norm(u3)])
    V = U * np.array([1.0, -1.0, -1.0])  # R u = -u on the plane orthogonal to (1,1,1)
    return U, V


def test_repeated_singular_value_two_valid_bases():
    UA, VA = _basis(np.array([1.0, -1.0, 0.0]), np.array([1.0, 1.0, -2.0]))
    UB, VB = _basis(np.array([1.0, 0.0, -1.0]), np.array([1.0, -2.0, 1.0]))
    S = np.diag([2.0, 1.0, 1.0])
    for U, V in ((UA, VA), (UB, VB)):
        np.testing.assert_allclose(U.T @ U, np.eye(3), atol=1e-12)
        np.testing.assert_allclose(V.T @ V, np.eye(3), atol=1e-12)
        np.testing.assert_allclose(U @ S @ V.T, R, atol=1e-12)
    assert not np.allclose(UA[:, 1], UB[:, 1]) and not np.allclose(UA[:, 1], -UB[:, 1])
    # the two rank-2 truncations differ, with the same error
    R2A = (UA[:, :2] * [2.0, 1.0]) @ VA[:, :2].T
    R2B = (UB[:, :2] * [2.0, 1.0]) @ VB[:, :2].T
    assert not np.allclose(R2A, R2B)
    assert np.linalg.norm(R - R2A) == pytest.approx(1.0)
    assert np.linalg.norm(R - R2B) == pytest.approx(1.0)
    # the projector onto the sigma = 1 plane is the same for both bases
    np.testing.assert_allclose(UA[:, 1:] @ UA[:, 1:].T, UB[:, 1:] @ UB[:, 1:].T, atol=1e-12)
    np.testing.assert_allclose(UA[:, 1:] @ UA[:, 1:].T, np.eye(3) - np.ones((3, 3)) / 3, atol=1e-12)


def test_rank_k_approximations_and_errors():
    R1 = rank_k_approximation(R, 1)
    np.testing.assert_allclose(R1, np.full((3, 3), 2 / 3), atol=1e-12)
    assert approximation_error(R, 1, "fro") == pytest.approx(math.sqrt(2))
    assert approximation_error(R, 1, "spectral") == pytest.approx(1.0)
    assert approximation_error(R, 2, "fro") == pytest.approx(1.0)
    assert approximation_error(R, 2, "spectral") == pytest.approx(1.0)
    assert approximation_error(R, 3, "fro") == pytest.approx(0.0, abs=1e-12)
    assert energy_kept([2, 1, 1], 1) == pytest.approx(2 / 3)
    assert energy_kept([2, 1, 1], 2) == pytest.approx(5 / 6)
    # Eckart-Young: error^2 = sum of the discarded sigma^2
    assert approximation_error(R, 1) ** 2 == pytest.approx(1**2 + 1**2)
    assert approximation_error(R, 2) ** 2 == pytest.approx(1**2)


def test_svd_prints_only_basis_independent_quantities():
    # the chapter prints u_1, v_1 and the projector onto the sigma = 1 plane
    U, s, Vt = svd(R)
    np.testing.assert_allclose(U[:, 1:] @ U[:, 1:].T, np.eye(3) - np.ones((3, 3)) / 3, atol=1e-12)
    assert np.max(np.abs(U @ np.diag(s) @ Vt - R)) < 1e-12


def test_spectral_norm_minimiser_is_not_unique():
    # D = diag(2, 1), k = 1: sigma_1 > sigma_2, yet every diag(2 + t, 0), |t| <= 1,
    # has spectral error 1; the Frobenius error sqrt(1 + t^2) is smallest at t = 0
    D = np.diag([2.0, 1.0])
    for t, fro in [(-1.0, 1.4142), (-0.5, 1.1180), (0.0, 1.0), (0.5, 1.1180), (1.0, 1.4142)]:
        X = np.diag([2.0 + t, 0.0])
        assert np.linalg.matrix_rank(X) == 1
        assert np.linalg.norm(D - X, 2) == pytest.approx(1.0)
        assert np.linalg.norm(D - X, "fro") == pytest.approx(fro, abs=5e-5)
        assert np.linalg.norm(D - X, "fro") == pytest.approx(math.sqrt(1 + t**2))
    np.testing.assert_allclose(rank_k_approximation(D, 1), np.diag([2.0, 0.0]), atol=1e-12)
    assert approximation_error(D, 1, "spectral") == pytest.approx(1.0)


# ---------------------------------------------------------------- 4.3.3 losses
def test_mse_versus_half_sse():
    y = np.array([[4.0, 3.0, 5.0], [1.0, 2.0, 4.0]])
    y_hat = np.array([[3.5, 3.0, 4.0], [2.0, 2.0, 3.0]])
    assert half_sse(y, y_hat) == pytest.approx(1.625)
    assert mse(y, y_hat) == pytest.approx(3.25 / 6)
    assert round(mse(y, y_hat), 4) == 0.5417
    big_y, big_hat = np.tile(y, (100, 1)), np.tile(y_hat, (100, 1))
    assert half_sse(big_y, big_hat) == pytest.approx(162.5)
    assert mse(big_y, big_hat) == pytest.approx(mse(y, y_hat))


def test_all_cells_objective_has_another_minimiser():
    # five ratings in a 2 x 5 matrix, the rest missing; one constant c for all
    Y = np.array([[4.0, 3.0, np.nan, 5.0, np.nan], [np.nan, 1.0, np.nan, np.nan, 2.0]])
    observed = ~np.isnan(Y)
    Y_zero = np.where(observed, Y, 0.0)
    grid = np.round(np.arange(0.0, 5.0001, 0.01), 2)
    best_obs = grid[np.argmin([mse(Y[observed], np.full(5, c)) for c in grid])]
    best_all = grid[np.argmin([half_sse(Y_zero, np.full(Y.shape, c)) for c in grid])]
    assert best_obs == pytest.approx(3.0) and best_obs == pytest.approx(np.nanmean(Y))
    assert best_all == pytest.approx(1.5) and best_all == pytest.approx(15 / 10)


def test_cross_entropy_source_example():
    assert -math.log(0.8) == pytest.approx(0.2231, abs=5e-5)
    assert binary_cross_entropy([1], [0.8]) == pytest.approx(0.22314355, abs=1e-8)
    assert binary_cross_entropy([1], [0.8], base=2) == pytest.approx(0.32192809, abs=1e-8)
    # the same prediction judged by squared error
    assert 0.5 * (1 - 0.8) ** 2 == pytest.approx(0.02)


def test_gradients_cross_entropy_versus_squared_error():
    def sigmoid(z):
        return 1 / (1 + math.exp(-z))

    for z in (-10.0, -2.0, 0.0, 2.0):
        p = sigmoid(z)
        h = 1e-6
        num_ce = (binary_cross_entropy([1], logits=[z + h]) - binary_cross_entropy([1], logits=[z - h])) / (2 * h)
        assert num_ce == pytest.approx(p - 1, abs=1e-6)
        num_se = (half_sse([1], [sigmoid(z + h)]) - half_sse([1], [sigmoid(z - h)])) / (2 * h)
        assert num_se == pytest.approx((p - 1) * p * (1 - p), abs=1e-6)
    # confidently wrong (y = 1, z = -10): the squared-error gradient nearly vanishes
    p = sigmoid(-10.0)
    assert p - 1 == pytest.approx(-0.99995, abs=1e-5)
    assert (p - 1) * p * (1 - p) == pytest.approx(-4.54e-5, abs=1e-7)


def test_logits_stability_example():
    assert binary_cross_entropy([1], logits=[-1000.0]) == 1000.0
    assert binary_cross_entropy([0], logits=[-1000.0]) == 0.0
    assert binary_cross_entropy([1, 0], logits=[-1000.0, 1000.0]) == 1000.0
    # via rounded probabilities 0 and 1, clipping caps the loss at -ln(1e-12)
    assert binary_cross_entropy([1, 0], [0.0, 1.0]) == pytest.approx(27.631, abs=5e-4)


def test_the_one_term_formula_rewards_always_predicting_a_click():
    clicks = np.array([1.0, 0.0, 0.0, 1.0])
    p = np.full(4, 0.999999)
    assert -np.sum(clicks * np.log(p)) == pytest.approx(2e-6, rel=1e-3)
    assert round(binary_cross_entropy(clicks, p), 4) == 6.9078


# ---------------------------------------------------------------- exercises
def test_exercise_cosine_and_shift():
    assert cosine([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert cosine([1, 2, 3], [-1, -2, -3]) == pytest.approx(-1.0)
    # adding 10 to every rating changes the cosine, not the Pearson correlation
    assert cosine([11, 12, 13], [12, 13, 11]) == pytest.approx(431 / 434)
    assert pearson([11, 12, 13], [12, 13, 11]) == pytest.approx(pearson([1, 2, 3], [2, 3, 1])) == pytest.approx(-0.5)


def test_exercise_svd_2x2():
    A = np.array([[3.0, 0.0], [4.0, 5.0]])
    np.testing.assert_allclose(A.T @ A, [[25, 20], [20, 25]])
    _, s, _ = svd(A)
    np.testing.assert_allclose(s, [3 * math.sqrt(5), math.sqrt(5)], atol=1e-12)
    assert approximation_error(A, 1) == pytest.approx(math.sqrt(5))
    assert energy_kept(s, 1) == pytest.approx(0.9)


def test_exercise_best_constant_prediction():
    y = np.array([4.0, 3.0, 5.0, 1.0, 2.0])
    assert y.mean() == 3.0
    assert mse(y, np.full(5, 3.0)) == pytest.approx(2.0)
    assert half_sse(y, np.full(5, 3.0)) == pytest.approx(5.0)
    for c in (2.5, 3.5):
        assert mse(y, np.full(5, c)) > 2.0


def test_exercise_cross_entropy_wrong_side():
    assert binary_cross_entropy([0], [0.8]) == pytest.approx(-math.log(0.2))
    assert round(binary_cross_entropy([0], [0.8]), 4) == 1.6094
    assert round(binary_cross_entropy([0], [0.8], base=2), 4) == 2.3219
    assert round(binary_cross_entropy([0], [0.999]), 4) == 6.9078


# ---------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def movielens_matrix(movielens_ratings):
    df = movielens_ratings
    users = df["user"].astype("category").cat.codes.to_numpy()
    items = df["item"].astype("category").cat.codes.to_numpy()
    return sp.csr_matrix((df["rating"].to_numpy(), (users, items)))


@needs_movielens
def test_movielens_user_similarities(movielens_matrix):
    R_ml = movielens_matrix
    assert R_ml.shape == (610, 9724) and R_ml.nnz == 100_836
    B = R_ml.copy()
    B.data[:] = 1.0
    support = (B @ B.T).toarray()
    upper = np.triu_indices(610, k=1)
    enough = support[upper] >= 5
    assert upper[0].size == 185_745
    assert np.median(support[upper]) == 6
    assert round(enough.mean(), 3) == 0.583
    q = {}
    for kind in ("cosine", "pearson", "cosine_full"):
        x = similarity_matrix(R_ml, kind)[upper][enough]
        q[kind] = np.percentile(x, [5, 25, 50, 75, 95]).round(3)
        if kind == "pearson":
            assert round(np.mean(x == 0), 3) == 0.033
    np.testing.assert_array_equal(q["cosine"], [0.879, 0.94, 0.963, 0.979, 0.992])
    np.testing.assert_array_equal(q["pearson"], [-0.463, -0.069, 0.15, 0.359, 0.666])
    np.testing.assert_array_equal(q["cosine_full"], [0.05, 0.089, 0.132, 0.192, 0.33])


@needs_movielens
def test_movielens_energy_kept(movielens_matrix):
    R_ml = movielens_matrix
    _, s_ml, _ = truncated_svd(R_ml, 50)
    np.testing.assert_allclose(s_ml[:5].round(1), [534.4, 231.2, 191.2, 170.4, 154.6])
    kept = np.cumsum(s_ml**2) / np.sum(R_ml.data**2)
    assert [round(kept[k - 1], 3) for k in (1, 10, 50)] == [0.212, 0.38, 0.587]
    # the largest singular value is the spectral norm of R (power iteration)
    x = np.ones(R_ml.shape[1])
    for _ in range(50):  # converges like (sigma_2 / sigma_1)^(2t)
        x = R_ml.T @ (R_ml @ x)
        x /= np.linalg.norm(x)
    assert np.linalg.norm(R_ml @ x) == pytest.approx(s_ml[0], rel=1e-6)
