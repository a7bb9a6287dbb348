"""Singular value decomposition and low-rank approximation.

Chapter 4 of the book (source sections 4.1.2, 4.2.2 and 4.3.2, 矩阵分解)
derives the SVD, recomputes the source's example and shows the Eckart--Young
theorem; the matrix-factorisation chapter builds on it.

All functions return singular values in descending order and singular vectors
with a fixed sign convention (in every column of ``U`` the entry of largest
absolute value is positive; among entries tied in absolute value, to within
``1e-9``, the first one), so results are reproducible. For a repeated singular
value only the subspace is determined: which basis of it LAPACK returns can
differ between builds, and no sign convention changes that.
"""

from __future__ import annotations


import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from mathrec._validation import check_positive_int

__all__ = [
    "approximation_error",
    "energy_kept",
    "rank_k_approximation",
    "svd",
    "truncated_svd",
]


def _as_matrix(R, name="R", allow_sparse=True):
    if isinstance(R, spla.LinearOperator):
        if allow_sparse:
            if len(R.shape) != 2 or 0 in R.shape:
                raise ValueError(f"{name} is empty (shape {R.shape})")
            return R
        R = R @ np.eye(R.shape[1])
    if sp.issparse(R):
        if not allow_sparse:
            R = R.toarray()
        else:
            X = sp.csr_matrix(R, dtype=float)
            if X.shape[0] == 0 or X.shape[1] == 0:
                raise ValueError(f"{name} is empty (shape {X.shape})")
            if not np.all(np.isfinite(X.data)):
                raise ValueError(f"{name} contains NaN or infinity")
            return X
    try:
        A = np.asarray(R, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a 2-D array of numbers, got {R!r}"
        ) from exc
    if A.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got an array of shape {A.shape}")
    if A.size == 0:
        raise ValueError(f"{name} is empty (shape {A.shape})")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} contains NaN or infinity")
    return A


def _check_k(k, kmax, name="k"):
    k = check_positive_int(k, name)
    if k > kmax:
        raise ValueError(f"{name} must be in 1..{kmax} (min(R.shape)), got {k}")
    return k


_SIGN_TIE_TOL = 1e-9


def _flip_signs(U, Vt):
    """Fix the sign of each singular pair by the entries of the column of U.

    In every column of ``U`` the entry of largest absolute value is made
    positive. Entries whose absolute values lie within ``_SIGN_TIE_TOL`` of
    the column's largest count as tied, and the first of them (the lowest
    row index) decides, so that an exact tie such as ``(0, -a, a)`` is not
    settled by rounding noise. ``Vt`` gets the same signs, so the product
    ``U diag(s) Vt`` is unchanged.
    """
    if U.shape[1] == 0:
        return U, Vt
    mag = np.abs(U)
    tied = mag >= mag.max(axis=0) - _SIGN_TIE_TOL
    idx = np.argmax(tied, axis=0)  # first True in each column
    signs = np.sign(U[idx, np.arange(U.shape[1])])
    signs[signs == 0] = 1.0
    return U * signs, Vt * signs[:, None]


def svd(R, full_matrices=False):
    r"""Singular value decomposition :math:`R = U \Sigma V^T`.

    Taught in chapter 4 (source sections 4.1.2, 4.2.2, 4.3.2).

    Parameters
    ----------
    R : array_like or scipy.sparse matrix of shape (m, n)
        A finite matrix. A sparse matrix is made dense (a full SVD is dense
        anyway; for large sparse matrices use :func:`truncated_svd`).
    full_matrices : bool, default False
        If True, ``U`` is :math:`m \times m` and ``Vt`` is :math:`n \times n`
        (square, orthogonal); if False (the thin SVD) they have
        :math:`p = \min(m, n)` columns / rows.

    Returns
    -------
    U : ndarray of shape (m, p) or (m, m)
        Left singular vectors (orthonormal columns).
    s : ndarray of shape (p,)
        Singular values :math:`\sigma_1 \ge \sigma_2 \ge \dots \ge 0`.
    Vt : ndarray of shape (p, n) or (n, n)
        Right singular vectors as rows (:math:`V^T`).

    Raises
    ------
    ValueError
        If ``R`` is not 2-D, is empty or holds NaN/infinity.

    Notes
    -----
    :math:`R^T R = V \Sigma^T\Sigma V^T` and :math:`R R^T = U \Sigma\Sigma^T U^T`:
    the columns of :math:`V` (of :math:`U`) are eigenvectors of :math:`R^T R`
    (of :math:`R R^T`) and the eigenvalues are :math:`\sigma_i^2` -- *not*
    :math:`\Sigma = R^T R` as the source's derivation writes. The singular
    values are unique; singular vectors are unique only up to sign when the
    :math:`\sigma_i` are distinct, and only up to a rotation inside the
    subspace of a repeated :math:`\sigma_i`. The signs here follow a fixed
    convention: the largest-magnitude entry of each column of ``U`` is
    positive, and among entries tied in magnitude (to within ``1e-9``) the
    first one is. For a repeated :math:`\sigma_i` compare subspaces (for
    example the projector :math:`U_S U_S^T` onto the columns ``S`` of that
    value), not the vectors.

    References
    ----------
    .. [1] Golub and Van Loan, *Matrix Computations*, 4th ed., Johns Hopkins
       University Press 2013, section 2.4.

    Examples
    --------
    The source's matrix has singular values 2, 1, 1:

    >>> import numpy as np
    >>> from mathrec.linalg import svd
    >>> R = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    >>> U, s, Vt = svd(R)
    >>> s.round(12)
    array([2., 1., 1.])
    >>> bool(np.allclose(U @ np.diag(s) @ Vt, R))
    True
    """
    A = _as_matrix(R, allow_sparse=False)
    U, s, Vt = np.linalg.svd(A, full_matrices=full_matrices)
    p = s.size
    Uf, Vtf = _flip_signs(U[:, :p], Vt[:p])
    U = np.concatenate([Uf, U[:, p:]], axis=1) if full_matrices else Uf
    Vt = np.concatenate([Vtf, Vt[p:]], axis=0) if full_matrices else Vtf
    return U, s, Vt


def _svds_signed(A, k, random_state):
    """ARPACK's ``k`` largest singular triplets of a sparse matrix or operator, sorted, signed."""
    from mathrec._base import check_random_state

    if k >= min(A.shape):
        raise ValueError(
            f"k must be smaller than min(R.shape) = {min(A.shape)} for a "
            f"sparse matrix "
            f"or LinearOperator with a random_state, got {k}"
        )
    v0 = check_random_state(random_state).uniform(-1.0, 1.0, size=min(A.shape))
    U, s, Vt = spla.svds(A, k=k, v0=v0, solver="arpack")
    order = np.argsort(-s, kind="stable")
    U, s, Vt = U[:, order], s[order], Vt[order]
    U, Vt = _flip_signs(U, Vt)
    return U, s, Vt


def truncated_svd(R, k, *, random_state=None):
    r"""The :math:`k` largest singular triplets, :math:`R \approx U_k \Sigma_k V_k^T`.

    Taught in chapter 4; used for matrix factorisation in chapter 3.

    Parameters
    ----------
    R : array_like, scipy.sparse matrix or scipy.sparse.linalg.LinearOperator of shape (m, n)
        Dense input goes through :func:`numpy.linalg.svd`; sparse input stays
        sparse and goes through :func:`scipy.sparse.linalg.svds` (ARPACK) with
        a fixed start vector, so repeated calls give the same result. Sparse
        input with ``k == min(m, n)`` (beyond ARPACK's reach) is made dense.
        A ``LinearOperator`` (a matrix known only through its products, such
        as a centred sparse matrix that is never formed) goes to ARPACK.
    k : int
        Number of components, ``1 <= k <= min(m, n)`` (``k < min(m, n)`` for
        a ``LinearOperator``).
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        Draws ARPACK's start vector (uniform on :math:`[-1, 1]`) for sparse
        and operator input (``mathrec._base.check_random_state``). ``None``
        (the default) uses a fixed start vector for sparse input. The singular
        values and, with the sign convention, the vectors do not depend on the
        start vector beyond rounding (for distinct singular values).

    Returns
    -------
    U : ndarray of shape (m, k)
    s : ndarray of shape (k,)
        Descending singular values.
    Vt : ndarray of shape (k, n)

    Raises
    ------
    TypeError
        If ``k`` is not an integer.
    ValueError
        On a bad ``R`` or ``k``.

    Notes
    -----
    For a sparse matrix only the products :math:`Rx` and :math:`R^T y` are
    needed, so nothing :math:`m \times n` is ever stored. Entries of very
    large or very small magnitude are scaled by a power of two (exactly)
    before ARPACK and the singular values scaled back. An all-zero matrix
    has the exact answer :math:`\sigma_1 = \dots = \sigma_k = 0` with
    :math:`U_k, V_k` the first :math:`k` unit vectors, the same as the dense
    path returns (ARPACK itself cannot start from a zero range). Missing ratings are
    treated as zeros here -- the classical SVD needs a complete matrix, which
    is why recommender systems fit factors on the observed ratings instead
    (the matrix-factorisation chapter).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from mathrec.linalg import truncated_svd
    >>> R = sp.random(30, 20, density=0.2, random_state=0, format="csr")
    >>> U, s, Vt = truncated_svd(R, 3)
    >>> U.shape, s.shape, Vt.shape
    ((30, 3), (3,), (3, 20))
    >>> bool(np.allclose(s, np.linalg.svd(R.toarray(), compute_uv=False)[:3]))
    True
    >>> truncated_svd(sp.csr_matrix((4, 3)), 2)[1]
    array([0., 0.])
    """
    A = _as_matrix(R)
    k = _check_k(k, min(A.shape))
    if isinstance(A, spla.LinearOperator) or (
        random_state is not None and sp.issparse(A)
    ):
        return _svds_signed(A, k, random_state)

    if sp.issparse(A) and k < min(A.shape):
        from scipy.sparse.linalg import svds

        top = float(np.abs(A.data).max()) if A.nnz else 0.0
        # ARPACK cannot start from the zero range: answer directly
        if top == 0.0:
            m, n = A.shape
            return np.eye(m, k), np.zeros(k), np.eye(k, n)
        # ARPACK forms products with R^T R: scale entries far from 1 by a power
        # of two (exact) so that those products neither overflow nor underflow
        exp = int(np.frexp(top)[1]) if not 2.0**-500 < top < 2.0**500 else 0
        if exp:
            A = A.copy()
            A.data = np.ldexp(A.data, -exp)
        v0 = np.random.default_rng(0).uniform(-1.0, 1.0, size=min(A.shape))
        U, s, Vt = svds(A, k=k, v0=v0, solver="arpack")
        s = np.ldexp(s, exp)
        order = np.argsort(s)[::-1]
        U, s, Vt = U[:, order], s[order], Vt[order]
        U, Vt = _flip_signs(U, Vt)
        return U, s, Vt
    U, s, Vt = svd(A.toarray() if sp.issparse(A) else A)
    return U[:, :k], s[:k], Vt[:k]


def rank_k_approximation(R, k):
    r"""The best rank-:math:`k` approximation :math:`R_k = U_k \Sigma_k V_k^T`.

    Taught in chapter 4 (Eckart--Young).

    Parameters
    ----------
    R : array_like or scipy.sparse matrix of shape (m, n)
    k : int
        ``1 <= k <= min(m, n)``.

    Returns
    -------
    ndarray of shape (m, n)
        Dense, even for sparse ``R`` (the caller asks for an :math:`m \times n`
        matrix; for a large sparse ``R`` keep the factors of
        :func:`truncated_svd` instead).

    Raises
    ------
    TypeError
        If ``k`` is not an integer.
    ValueError
        On a bad ``R`` or ``k``.

    Notes
    -----
    By the Eckart--Young(--Mirsky) theorem, :math:`R_k` minimises
    :math:`\lVert R - X\rVert` over all matrices :math:`X` of rank at most
    :math:`k`, in the Frobenius and in the spectral norm; see
    :func:`approximation_error`.

    References
    ----------
    .. [1] Eckart and Young, "The approximation of one matrix by another of
       lower rank", Psychometrika 1(3), 1936,
       https://doi.org/10.1007/BF02288367

    Examples
    --------
    >>> import numpy as np
    >>> from mathrec.linalg import rank_k_approximation
    >>> R = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    >>> (3 * rank_k_approximation(R, 1)).round(12)
    array([[2., 2., 2.],
           [2., 2., 2.],
           [2., 2., 2.]])
    """
    U, s, Vt = truncated_svd(R, k)
    return (U * s) @ Vt


def approximation_error(R, k, norm="fro"):
    r"""Error :math:`\lVert R - R_k\rVert` of the rank-:math:`k` approximation.

    Taught in chapter 4 (Eckart--Young).

    Parameters
    ----------
    R : array_like or scipy.sparse matrix of shape (m, n)
    k : int
        ``1 <= k <= min(m, n)``.
    norm : {"fro", "spectral"}
        Frobenius norm :math:`\sqrt{\sum_{ij} e_{ij}^2}` or spectral norm
        (largest singular value of the residual).

    Returns
    -------
    float
        Computed **directly** from the residual :math:`R - R_k`, so that the
        Eckart--Young identities below can be checked, not assumed.

    Raises
    ------
    TypeError
        If ``k`` is not an integer.
    ValueError
        On a bad ``R``, ``k`` or ``norm``.

    Notes
    -----
    With :math:`\sigma_1 \ge \dots \ge \sigma_p` the singular values of
    :math:`R`,

    .. math::

        \lVert R - R_k\rVert_F^2 = \sum_{i > k} \sigma_i^2, \qquad
        \lVert R - R_k\rVert_2 = \sigma_{k+1}

    (and 0 when :math:`k = p`), and no matrix of rank at most :math:`k` does
    better (Eckart and Young 1936).

    Examples
    --------
    >>> import numpy as np
    >>> from mathrec.linalg import approximation_error
    >>> R = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    >>> (round(approximation_error(R, 1), 12),
    ...  round(approximation_error(R, 1, "spectral"), 12))
    (1.414213562373, 1.0)
    """
    if norm not in ("fro", "spectral"):
        raise ValueError(f"norm must be 'fro' or 'spectral', got {norm!r}")
    A = _as_matrix(R)
    Rk = rank_k_approximation(A, k)
    E = (A.toarray() if sp.issparse(A) else A) - Rk
    return float(np.linalg.norm(E, "fro" if norm == "fro" else 2))


def energy_kept(s, k):
    r"""Share of the "energy" :math:`\sum_i\sigma_i^2` kept by the first :math:`k` singular values.

    Taught in chapter 4.

    Parameters
    ----------
    s : array_like of shape (p,)
        Singular values: finite, non-negative, non-empty (any order; they are
        sorted in descending order first).
    k : int
        ``0 <= k <= p``.

    Returns
    -------
    float
        :math:`\sum_{i \le k}\sigma_i^2 / \sum_i \sigma_i^2` in :math:`[0, 1]`;
        equal to :math:`1 - \lVert R - R_k\rVert_F^2 / \lVert R\rVert_F^2`.
        0 if all singular values are 0.

    Raises
    ------
    TypeError
        If ``k`` is not an integer.
    ValueError
        On negative, non-finite or empty ``s`` or a bad ``k``.

    Examples
    --------
    >>> from mathrec.linalg import energy_kept
    >>> energy_kept([2, 1, 1], 1)
    0.6666666666666666
    """
    try:
        s = np.asarray(s, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"s must be a 1-D array of singular values, got {s!r}"
        ) from exc
    if s.ndim != 1 or s.size == 0:
        raise ValueError(
            f"s must be a non-empty 1-D array, got shape {s.shape}"
        )
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ValueError("s must hold finite, non-negative singular values")
    k = check_positive_int(k, "k", minimum=0)
    if k > s.size:
        raise ValueError(f"k must be an integer in 0..{s.size}, got {k!r}")
    # A running sum (not a fresh sum per k) keeps the share exactly monotone in
    # k
    # and never above 1, whatever the rounding.
    top = s.max()
    # squares would overflow (underflow)
    if top > 2.0**500 or 0 < top < 2.0**-500:
        # a power of two: the shares are unchanged
        s = np.ldexp(s, -int(np.frexp(top)[1]))
    cumulative = np.cumsum(np.sort(s)[::-1] ** 2)
    total = cumulative[-1]
    if total == 0 or k == 0:
        return 0.0
    return float(cumulative[k - 1] / total)
