"""Every number of chapter 7 (notebooks/ch07_tools.ipynb, source section 7) asserted.

The cross-checks are rebuilt the way the chapter builds them (same seeds, same inputs) and
the bounds its prose states are checked: closed-form quantities agree with scikit-learn,
SciPy and NumPy to floating-point rounding, the two logistic-regression solvers to their
tolerance; then the memory arithmetic and the ALS blocking counts.
"""


import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import svd as lapack_svd
from scipy.sparse.linalg import svds
from scipy.stats import pearsonr
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (log_loss, mean_absolute_error, mean_squared_error, ndcg_score,
                             root_mean_squared_error)
from sklearn.metrics.pairwise import cosine_similarity

from mathrec.ctr import LogisticCTR, one_hot_features
from mathrec.linalg import truncated_svd
from mathrec.losses import binary_cross_entropy, mae, mse, rmse
from mathrec.metrics import ndcg_at_k
from mathrec.similarity import similarity_matrix

needs_movielens = pytest.mark.movielens
UNIT_ROUNDOFF = 2.0 ** -53


def csr_bytes(n_rows, nnz):
    return 12 * nnz + 4 * (n_rows + 1)


# ----------------------------------------------------------------------------
# the chapter's inputs
# ----------------------------------------------------------------------------
def _random_inputs():
    rng = np.random.default_rng(0)
    dense = rng.integers(1, 6, size=(40, 25)).astype(float)
    sparse = sp.random(300, 120, density=0.1, random_state=1, format="csr",
                       data_rvs=lambda n: rng.integers(1, 6, n).astype(float))
    return rng, dense, sparse


@pytest.fixture(scope="module")
def movielens(movielens_ratings):
    from mathrec.data import Interactions
    ratings = movielens_ratings
    return ratings, Interactions.from_frame(ratings).to_csr()


def _pearson_pairs(M, n_pairs, seed):
    M = sp.csr_matrix(M)
    S = similarity_matrix(M, kind="pearson")
    pick = np.random.default_rng(seed)
    ours, ref = [], []
    while len(ours) < n_pairs:
        u, v = pick.integers(0, M.shape[0], 2)
        common = np.intersect1d(M[u].indices, M[v].indices)
        if u == v or len(common) < 3:
            continue
        a, b = M[u, common].toarray().ravel(), M[v, common].toarray().ravel()
        if np.ptp(a) == 0 or np.ptp(b) == 0:
            continue
        ours.append(S[u, v])
        ref.append(pearsonr(a, b).statistic)
    return np.array(ours), np.array(ref)


def _ndcg_both(gains, scores, k=10):
    order = np.argsort(-scores, kind="stable")
    relevant = {int(i): g for i, g in enumerate(gains) if g > 0}
    return ndcg_at_k(order.tolist(), relevant, k=k), ndcg_score(gains[None, :], scores[None, :], k=k)


def _maxdiff(a, b):
    return float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))))


# ----------------------------------------------------------------------------
# cross-checks on random inputs
# ----------------------------------------------------------------------------
def test_random_inputs_shapes():
    _, dense, sparse = _random_inputs()
    assert dense.shape == (40, 25) and dense.min() >= 1
    assert sparse.shape == (300, 120) and sparse.nnz == 3_600


def test_random_similarities_within_1e15():
    _, dense, sparse = _random_inputs()
    for M in (dense, sparse):
        assert _maxdiff(similarity_matrix(M, kind="cosine_full"), cosine_similarity(M)) < 1e-15
    assert _maxdiff(similarity_matrix(dense, kind="pearson"), np.corrcoef(dense)) < 1e-15
    assert _maxdiff(*_pearson_pairs(sparse, 200, 2)) < 1e-15


def test_random_losses_exact():
    rng = np.random.default_rng(5)
    y = rng.uniform(0.5, 5, 1000)
    yh = y + rng.normal(0, 1, 1000)
    assert mse(y, yh) == mean_squared_error(y, yh)
    assert rmse(y, yh) == root_mean_squared_error(y, yh)
    assert mae(y, yh) == mean_absolute_error(y, yh)
    yb, pb = rng.integers(0, 2, 1000), rng.uniform(0.01, 0.99, 1000)
    assert binary_cross_entropy(yb, pb) == pytest.approx(log_loss(yb, pb), abs=1e-15)


def test_random_svd_within_1e13():
    _, dense, sparse = _random_inputs()
    for M, k in [(dense, 5), (sparse, 10)]:
        U, s, Vt = truncated_svd(M, k)
        Ur, sr, Vtr = lapack_svd(M.toarray() if sp.issparse(M) else M, full_matrices=False,
                                 lapack_driver="gesvd")
        assert _maxdiff(s, sr[:k]) < 1e-13
        assert _maxdiff((U * s) @ Vt, (Ur[:, :k] * sr[:k]) @ Vtr[:k]) < 1e-13
        if sp.issparse(M):
            s2 = np.sort(svds(M, k=k, random_state=12345, return_singular_vectors=False))[::-1]
            assert _maxdiff(s, s2) < 1e-13


def test_random_ndcg_within_1e15():
    rng = np.random.default_rng(6)
    pairs = [_ndcg_both(rng.integers(0, 6, 100).astype(float), rng.random(100)) for _ in range(50)]
    assert _maxdiff(*zip(*pairs)) < 1e-15


def test_ndcg_ties_exercise_differs():
    g = np.random.default_rng(1).integers(0, 6, 100).astype(float)
    ours = ndcg_at_k(list(range(100)), {i: x for i, x in enumerate(g) if x > 0}, k=10)
    theirs = ndcg_score(g[None, :], np.zeros((1, 100)), k=10)
    assert abs(ours - theirs) > 1e-3
    assert round(ours, 4) == 0.5083 and round(float(theirs), 4) == 0.5020   # the printed answer


# ----------------------------------------------------------------------------
# cross-checks on ml-latest-small
# ----------------------------------------------------------------------------
@needs_movielens
def test_movielens_shape(movielens):
    _, R = movielens
    assert R.shape == (610, 9724) and R.nnz == 100_836


@needs_movielens
def test_movielens_similarities(movielens):
    _, R = movielens
    assert _maxdiff(similarity_matrix(R, kind="cosine_full"), cosine_similarity(R)) < 1e-13
    assert _maxdiff(*_pearson_pairs(R, 200, 3)) < 1e-15


@needs_movielens
def test_movielens_corated_cosine_exercise(movielens):
    _, R = movielens
    diff = similarity_matrix(R, kind="cosine") - cosine_similarity(R)
    assert diff.min() > -1e-12          # co-rated cosine >= full cosine, up to rounding
    assert round(float(diff.max()), 4) == 0.9997


@needs_movielens
def test_movielens_losses_exact(movielens):
    ratings, _ = movielens
    r = ratings["rating"].to_numpy()
    m = ratings.groupby("item")["rating"].transform("mean").to_numpy()
    assert mse(r, m) == mean_squared_error(r, m)
    assert rmse(r, m) == root_mean_squared_error(r, m)
    assert mae(r, m) == mean_absolute_error(r, m)
    clicks = (r >= 4).astype(int)
    by_item = ratings.assign(click=clicks).groupby("item")["click"]
    p = ((by_item.transform("sum") + 1) / (by_item.transform("size") + 2)).to_numpy()
    assert binary_cross_entropy(clicks, p) == pytest.approx(log_loss(clicks, p), abs=1e-15)


@needs_movielens
def test_movielens_svd(movielens):
    _, R = movielens
    U, s, Vt = truncated_svd(R, 10)
    Ur, sr, Vtr = lapack_svd(R.toarray(), full_matrices=False, lapack_driver="gesvd")
    assert round(sr[0]) == 534
    assert _maxdiff(s, sr[:10]) < 1e-12
    assert _maxdiff(s, sr[:10]) / sr[0] < 1e-14        # relative: well under 100 unit roundoffs
    ref = (Ur[:, :10] * sr[:10]) @ Vtr[:10]
    recon = _maxdiff((U * s) @ Vt, ref)
    assert recon < 1e-12
    assert recon / np.abs(ref).max() < 1e-13           # every closed-form relative difference < 1e-13
    s2 = np.sort(svds(R, k=10, random_state=12345, return_singular_vectors=False))[::-1]
    assert _maxdiff(s, s2) < 1e-12


@needs_movielens
def test_movielens_ndcg(movielens):
    _, R = movielens
    rng = np.random.default_rng(7)
    popularity = np.diff(R.tocsc().indptr) + 0.1 * rng.random(R.shape[1])
    pairs = [_ndcg_both(R[u].toarray().ravel(), popularity) for u in range(0, R.shape[0], 5)]
    assert len(pairs) == 122
    assert _maxdiff(*zip(*pairs)) < 1e-15


@needs_movielens
def test_movielens_logistic_ctr_to_tolerance(movielens):
    from threadpoolctl import threadpool_limits
    ratings, _ = movielens
    clicks = (ratings["rating"].to_numpy() >= 4).astype(int)
    X, _ = one_hot_features(ratings, ["user", "item"])
    assert X.shape[1] == 10_334
    lam = 1e-4
    ours = LogisticCTR(alpha=lam).fit(X, clicks)
    with threadpool_limits(limits=1, user_api="blas"):
        ref = LogisticRegression(C=1 / (lam * X.shape[0]), tol=1e-10, max_iter=5000).fit(X, clicks)
    # the chapter's verdicts: relative to the scale of the values, within 1e-4
    w_ref, p_ref = ref.coef_.ravel(), ref.predict_proba(X)[:, 1]
    assert _maxdiff(ours.coef_, w_ref) / np.abs(w_ref).max() < 1e-4
    assert _maxdiff(ours.predict_proba(X)[:, 1], p_ref) / np.abs(p_ref).max() < 1e-4
    J = [log_loss(clicks, m.predict_proba(X)[:, 1]) + lam / 2 * np.sum(m.coef_ ** 2)
         for m in (ours, ref)]
    assert abs(J[0] - J[1]) < 1e-9
    assert f"{J[0]:.8f}" == "0.58387710"


# ----------------------------------------------------------------------------
# scaling out: memory arithmetic and ALS blocking
# ----------------------------------------------------------------------------
@needs_movielens
def test_csr_formula_matches_scipy(movielens):
    _, R = movielens
    assert R.indices.dtype == np.int32 and R.indptr.dtype == np.int32
    assert csr_bytes(*R.shape[:1], R.nnz) == R.data.nbytes + R.indices.nbytes + R.indptr.nbytes
    assert csr_bytes(610, 100_836) == 1_212_476


def test_memory_figures():
    GB = 1e9
    # ml-latest-small: 1.21 MB CSR, 47.5 MB dense, 39 times; rank-100 factors 8.27 MB
    assert round(csr_bytes(610, 100_836) / 1e6, 2) == 1.21
    assert round(8 * 610 * 9724 / 1e6, 1) == 47.5
    assert round(8 * 100 * (610 + 9724) / 1e6, 2) == 8.27
    assert round(8 * 610 * 9724 / csr_bytes(610, 100_836)) == 39
    # MovieLens 25M: 301 MB CSR, 81.2 GB dense, 270 times; factors 180 MB
    csr25 = csr_bytes(162_541, 25_000_095)
    assert round(csr25 / 1e6) == 301
    assert round(8 * 162_541 * 62_423 / GB, 1) == 81.2
    assert round(8 * 100 * (162_541 + 62_423) / 1e6) == 180
    assert round(8 * 162_541 * 62_423 / csr25) == 270
    # a billion ratings, 1e8 users, 1e7 items: 12.4 GB CSR, 8 PB dense, rank-100 factors 88 GB
    csr1b = csr_bytes(100_000_000, 1_000_000_000)
    assert round(csr1b / GB, 1) == 12.4
    assert 8 * 100_000_000 * 10_000_000 == 8 * 10 ** 15
    assert 8 * 100 * (100_000_000 + 10_000_000) / GB == 88.0
    # row pointers of 1e9 are a little under half the int32 limit; a log 2.15 times larger overflows it
    assert 0.45 < 1_000_000_000 / (2 ** 31 - 1) < 0.5
    assert round((2 ** 31 - 1) / 1e9, 2) == 2.15


def test_benchmark_sizes():
    # scale_ml20m.py and knn_scale.py: about 198 and 20 times the ratings of ml-latest-small
    assert round(20_000_263 / 100_836) == 198
    assert round(2_000_000 / 100_836) == 20


def test_tolerance_of_the_table():
    # 1e-12 relative is about 9,000 unit roundoffs; the table also checks < 1,000 u
    assert round(1e-12 / UNIT_ROUNDOFF, -3) == 9000


def test_memory_exercise():
    m, n, nnz, k = 20_000_000, 2_000_000, 3_000_000_000, 64
    assert (4 * nnz + 4 * nnz + 8 * (m + 1)) / 1e9 == pytest.approx(24.16, abs=1e-6)
    assert nnz > 2 ** 31 - 1 and n < 2 ** 31 - 1
    assert round(8 * (m + 1) / 1e9, 2) == 0.16 and round(4 * (m + 1) / 1e9, 2) == 0.08
    assert 4 * nnz / 1e9 == 12.0
    assert 4 * k * (m + n) / 1e9 == pytest.approx(5.632)


def _solve_users(R_block, Q, lam):
    k = Q.shape[1]
    P = np.zeros((R_block.shape[0], k))
    for u in range(R_block.shape[0]):
        cols = R_block.indices[R_block.indptr[u]:R_block.indptr[u + 1]]
        Qu, ru = Q[cols], R_block.data[R_block.indptr[u]:R_block.indptr[u + 1]]
        P[u] = np.linalg.solve(Qu.T @ Qu + lam * len(cols) * np.eye(k), Qu.T @ ru)
    return P


@needs_movielens
def test_als_blocks_identical(movielens):
    _, R = movielens
    k, lam, n_blocks = 10, 0.1, 8
    Q = np.random.default_rng(4).normal(0, 0.1, size=(R.shape[1], k))
    P_all = _solve_users(R, Q, lam)
    P_blocks = np.zeros_like(P_all)
    block = np.arange(R.shape[0]) % n_blocks
    for b in range(n_blocks):
        users = np.flatnonzero(block == b)
        R_b = R[users]
        needed = np.unique(R_b.indices)
        local = sp.csr_matrix((R_b.data, np.searchsorted(needed, R_b.indices), R_b.indptr),
                              shape=(len(users), len(needed)))
        P_blocks[users] = _solve_users(local, Q[needed], lam)
    assert np.array_equal(P_blocks, P_all)


@needs_movielens
def test_als_traffic(movielens):
    _, R = movielens
    user_of = np.repeat(np.arange(R.shape[0]), np.diff(R.indptr))
    counts = [len(np.unique(R.indices * b + user_of % b)) for b in [1, 2, 4, 8, 16, 32, 64]]
    assert counts[0] == 9_724 == R.shape[1]
    assert all(x < y for x, y in zip(counts, counts[1:]))
    assert counts[-1] < R.nnz == 100_836
