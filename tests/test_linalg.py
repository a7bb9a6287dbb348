"""Tests for mathrec.linalg: SVD helpers, Eckart-Young, energy."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.decomposition import TruncatedSVD

from mathrec.linalg import (
    approximation_error,
    energy_kept,
    rank_k_approximation,
    svd,
    truncated_svd,
)


def _random(seed, m=12, n=8):
    return np.random.default_rng(seed).normal(size=(m, n))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape", [(12, 8), (8, 12), (6, 6)])
def test_svd_reconstructs_and_is_orthonormal(seed, shape):
    A = np.random.default_rng(seed).normal(size=shape)
    U, s, Vt = svd(A)
    p = min(shape)
    assert U.shape == (shape[0], p) and s.shape == (p,) and Vt.shape == (p, shape[1])
    np.testing.assert_allclose(U @ np.diag(s) @ Vt, A, atol=1e-12)
    np.testing.assert_allclose(U.T @ U, np.eye(p), atol=1e-12)
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(p), atol=1e-12)
    assert np.all(np.diff(s) <= 0) and np.all(s >= 0)
    np.testing.assert_allclose(s, np.linalg.svd(A, compute_uv=False), atol=1e-12)
    # sign convention: the largest-magnitude entry of every column of U is positive
    assert np.all(U[np.argmax(np.abs(U), axis=0), np.arange(p)] > 0)


def test_svd_full_matrices():
    A = _random(1, 7, 4)
    U, s, Vt = svd(A, full_matrices=True)
    assert U.shape == (7, 7) and Vt.shape == (4, 4)
    np.testing.assert_allclose(U.T @ U, np.eye(7), atol=1e-12)
    S = np.zeros((7, 4))
    S[:4, :4] = np.diag(s)
    np.testing.assert_allclose(U @ S @ Vt, A, atol=1e-12)


def test_svd_eigenvalues_of_gram_matrix_are_squared_singular_values():
    A = _random(2)
    _, s, Vt = svd(A)
    eig = np.sort(np.linalg.eigvalsh(A.T @ A))[::-1]
    np.testing.assert_allclose(eig, s**2, atol=1e-10)
    # columns of V are eigenvectors of A^T A
    np.testing.assert_allclose(A.T @ A @ Vt.T, Vt.T * s**2, atol=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_truncated_svd_sparse_matches_dense_and_sklearn(seed):
    R = sp.random(40, 25, density=0.2, random_state=seed, format="csr")
    k = 4
    U, s, Vt = truncated_svd(R, k)
    Ud, sd, Vtd = truncated_svd(R.toarray(), k)
    np.testing.assert_allclose(s, sd, rtol=1e-10)
    # same subspaces (singular values of a random matrix are distinct)
    np.testing.assert_allclose(np.abs(U.T @ Ud), np.eye(k), atol=1e-8)
    np.testing.assert_allclose(U, Ud, atol=1e-8)  # same sign convention
    np.testing.assert_allclose(Vt, Vtd, atol=1e-8)
    sk = TruncatedSVD(n_components=k, algorithm="arpack", random_state=0).fit(R)
    np.testing.assert_allclose(s, sk.singular_values_, rtol=1e-10)
    assert np.all(np.diff(s) <= 0)


def test_truncated_svd_is_deterministic():
    R = sp.random(50, 30, density=0.1, random_state=3, format="csr")
    a = truncated_svd(R, 5)
    b = truncated_svd(R, 5)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_truncated_svd_full_rank_k_on_sparse_falls_back_to_dense():
    R = sp.random(10, 6, density=0.5, random_state=1, format="csr")
    U, s, Vt = truncated_svd(R, 6)
    np.testing.assert_allclose((U * s) @ Vt, R.toarray(), atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_eckart_young_identities(seed):
    A = _random(seed)
    s = np.linalg.svd(A, compute_uv=False)
    for k in range(1, len(s) + 1):
        fro = approximation_error(A, k, "fro")
        spec = approximation_error(A, k, "spectral")
        assert fro == pytest.approx(math.sqrt(np.sum(s[k:] ** 2)), abs=1e-10)
        assert spec == pytest.approx(s[k] if k < len(s) else 0.0, abs=1e-10)
        assert energy_kept(s, k) == pytest.approx(1 - fro**2 / np.sum(A**2), abs=1e-12)
        assert np.linalg.matrix_rank(rank_k_approximation(A, k)) == k


def test_eckart_young_beats_other_rank_k_matrices():
    rng = np.random.default_rng(4)
    A = rng.normal(size=(9, 7))
    k = 2
    best = approximation_error(A, k)
    for _ in range(200):
        X = rng.normal(size=(9, k)) @ rng.normal(size=(k, 7))
        assert np.linalg.norm(A - X) >= best
    # also a nearby perturbation of the optimum
    Ak = rank_k_approximation(A, k)
    U, s, Vt = svd(A)
    X = (U[:, :k] * (s[:k] * 1.01)) @ Vt[:k]
    assert np.linalg.norm(A - X) > np.linalg.norm(A - Ak)


def test_rank_k_of_sparse_input_is_dense_and_correct():
    R = sp.random(20, 15, density=0.3, random_state=5, format="csr")
    np.testing.assert_allclose(rank_k_approximation(R, 3), rank_k_approximation(R.toarray(), 3), atol=1e-8)
    assert approximation_error(R, 3) == pytest.approx(approximation_error(R.toarray(), 3), rel=1e-8)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=st.floats(-10, 10)))
def test_svd_property_reconstruction(A):
    U, s, Vt = svd(A)
    np.testing.assert_allclose((U * s) @ Vt, A, atol=1e-9)
    assert np.all(np.diff(s) <= 1e-12)
    p = min(A.shape)
    assert energy_kept(s, p) in (0.0, pytest.approx(1.0))
    assert approximation_error(A, p) == pytest.approx(0.0, abs=1e-8)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(1, 10), elements=st.floats(0, 100)), st.data())
def test_energy_kept_properties(s, data):
    k = data.draw(st.integers(0, s.size))
    e = energy_kept(s, k)
    assert 0.0 <= e <= 1.0 + 1e-12
    if k < s.size:
        assert energy_kept(s, k + 1) >= e
    assert energy_kept(s, 0) == 0.0


# ----------------------------------------------------------------------------
# edge cases
# ----------------------------------------------------------------------------
def test_zero_matrix():
    U, s, Vt = svd(np.zeros((3, 2)))
    np.testing.assert_array_equal(s, [0.0, 0.0])
    assert energy_kept(s, 1) == 0.0
    assert approximation_error(np.zeros((3, 2)), 1) == 0.0


@pytest.mark.parametrize("k, error", [(0, ValueError), (4, ValueError), (-1, ValueError),
                                      (1.5, TypeError), (True, TypeError)])
def test_bad_k(k, error):
    with pytest.raises(error, match=rf"^k must be .*, got {k}"):
        truncated_svd(np.eye(3), k)


def test_bad_matrix_and_norm():
    with pytest.raises(ValueError, match=r"R contains NaN or infinity"):
        svd(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match=r"R contains NaN or infinity"):
        truncated_svd(sp.csr_matrix(np.array([[1.0, np.inf], [0.0, 1.0]])), 1)
    with pytest.raises(ValueError, match=r"R must be 2-D"):
        svd(np.ones(3))
    with pytest.raises(ValueError, match=r"R is empty"):
        svd(np.ones((0, 3)))
    with pytest.raises(ValueError, match=r"norm must be 'fro' or 'spectral', got 'nuc'"):
        approximation_error(np.eye(3), 1, norm="nuc")


def test_bad_singular_values():
    with pytest.raises(ValueError, match=r"non-negative"):
        energy_kept([1.0, -1.0], 1)
    with pytest.raises(ValueError, match=r"non-empty 1-D"):
        energy_kept([], 0)
    with pytest.raises(ValueError, match=r"k must be an integer in 0..2, got 3"):
        energy_kept([2.0, 1.0], 3)


def test_sign_convention_breaks_exact_ties_by_the_first_entry():
    # (0, -a, a) and (0, a, -a): both entries have the largest magnitude; the
    # first of them decides, whatever the rounding in the last digit.
    from mathrec.linalg import _flip_signs

    a = 1 / np.sqrt(2)
    for noise in (0.0, 1e-15, -1e-15):
        U = np.array([[0.0, 1.0], [-a, 0.0], [a + noise, 0.0]])
        Vt = np.eye(2)
        Uf, Vtf = _flip_signs(U, Vt)
        np.testing.assert_array_equal(Uf[:, 0], [0.0, a, -(a + noise)])
        np.testing.assert_array_equal(Vtf[0], [-1.0, 0.0])
        np.testing.assert_allclose(Uf @ Vtf, U @ Vt)
    # a clear maximum is unaffected by the tie rule
    U = np.array([[0.1], [-0.9], [0.4]])
    Uf, _ = _flip_signs(U, np.ones((1, 2)))
    np.testing.assert_array_equal(Uf[:, 0], [-0.1, 0.9, -0.4])


def test_svd_of_the_chapter_4_matrix_has_basis_independent_outputs():
    # sigma = 2, 1, 1: u_1 is fixed (up to the sign convention), the sigma = 1
    # columns only up to a rotation; their projector is I - 11^T/3.
    R = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=float)
    U, s, Vt = svd(R)
    np.testing.assert_allclose(s, [2, 1, 1], atol=1e-12)
    np.testing.assert_allclose(U[:, 0], np.full(3, 1 / np.sqrt(3)), atol=1e-12)
    np.testing.assert_allclose(Vt[0], np.full(3, 1 / np.sqrt(3)), atol=1e-12)
    np.testing.assert_allclose(U[:, 1:] @ U[:, 1:].T, np.eye(3) - 1 / 3, atol=1e-12)
    # each column's first entry of largest magnitude is positive
    for j in range(3):
        mag = np.abs(U[:, j])
        first = np.flatnonzero(mag >= mag.max() - 1e-9)[0]
        assert U[first, j] > 0


def test_truncated_svd_takes_a_linear_operator_and_a_random_state():
    import scipy.sparse.linalg as spla

    R = sp.random(40, 25, density=0.2, random_state=1, format="csr")
    c = np.asarray(R.mean(axis=0)).ravel()
    op = spla.LinearOperator(R.shape, matvec=lambda v: R @ v - c @ v,
                             rmatvec=lambda w: R.T @ w - c * w.sum(), dtype=float)
    dense = R.toarray() - c
    U, s, Vt = truncated_svd(op, 4, random_state=np.random.RandomState(3))
    Ud, sd, Vtd = truncated_svd(dense, 4)
    np.testing.assert_allclose(s, sd, rtol=1e-10)
    # one sign convention for every input: the same vectors, not only up to sign
    np.testing.assert_allclose(U, Ud, atol=1e-8)
    np.testing.assert_allclose(Vt, Vtd, atol=1e-8)
    # the start vector changes nothing but rounding
    U2, s2, _ = truncated_svd(R, 4, random_state=np.random.default_rng(5))
    U3, s3, _ = truncated_svd(R, 4)
    np.testing.assert_allclose(s2, s3, rtol=1e-10)
    np.testing.assert_allclose(U2, U3, atol=1e-8)
    with pytest.raises(ValueError, match="smaller than min"):
        truncated_svd(op, 25)


# ------------------------------------------------------------ zero and huge matrices
@pytest.mark.parametrize("R", [sp.csr_matrix((10, 8)),
                               sp.csr_matrix(([0.0, 0.0], ([0, 1], [0, 1])), shape=(10, 8))])
def test_truncated_svd_of_a_sparse_zero_matrix_is_the_exact_zero_answer(R):
    U, s, Vt = truncated_svd(R, 3)
    assert s.tolist() == [0.0, 0.0, 0.0]
    assert U.shape == (10, 3) and Vt.shape == (3, 8)
    np.testing.assert_array_equal(U.T @ U, np.eye(3))
    np.testing.assert_array_equal(Vt @ Vt.T, np.eye(3))
    # the same answer as the dense path
    Ud, sd, Vtd = truncated_svd(np.zeros((10, 8)), 3)
    np.testing.assert_array_equal(U, Ud)
    np.testing.assert_array_equal(s, sd)
    np.testing.assert_array_equal(Vt, Vtd)


@pytest.mark.parametrize("scale", [1e200, 1e300, 1e-200, 1e-300])
def test_truncated_svd_sparse_is_scale_safe(scale):
    R = sp.random(30, 20, density=0.2, random_state=0, format="csr")
    ref = np.linalg.svd(R.toarray(), compute_uv=False)[:3]
    U, s, Vt = truncated_svd(R * scale, 3)
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(U)) and np.all(np.isfinite(Vt))
    np.testing.assert_allclose(s / scale, ref, rtol=1e-10)
    U1, s1, Vt1 = truncated_svd(R, 3)
    np.testing.assert_allclose(U, U1, atol=1e-10)


@pytest.mark.parametrize("s, k, expected", [([1e200, 1e200], 1, 0.5), ([1e-300, 1e-300], 1, 0.5),
                                            ([3e307, 4e307], 1, 16 / 25), ([1e308, 1e308, 1.0], 2, 1.0)])
def test_energy_kept_does_not_overflow(s, k, expected):
    assert energy_kept(s, k) == pytest.approx(expected, rel=1e-15)
