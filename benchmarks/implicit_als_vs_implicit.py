"""mathrec's ImplicitALS against the ``implicit`` library's ALS on ml-latest-small.

Both models see the same training interactions with the same confidences
$c_{ui} = 1 + \\alpha r_{ui}$ and preferences $p_{ui} = 1$ on observed cells.
``implicit`` (0.7) scales its input by ``alpha`` and uses the scaled value as
the confidence itself, so it is given ``alpha=1`` and the matrix
$1 + \\alpha R$ (on the observed cells): the same model.  Both run the same
number of factors, regularisation, sweeps and conjugate-gradient steps (3),
on one thread (``num_threads=1`` and BLAS limited to one thread), both in
float64 and (for the speed row) ``implicit`` in its default float32.  mathrec
runs its numba-compiled per-row solver and, for reference, the vectorised
NumPy solver it falls back to without numba.

Split: 80/20 random split of the ratings (seed 0).  Metric: NDCG@10 with
binary relevance (a test rating of any value is relevant), training items
excluded from the lists, averaged over users with at least one test item;
computed by ``mathrec.metrics.ndcg_at_k`` on the top-10 of each model's
own factors.  Times are for ``fit`` only, median of ``--repeats`` runs, neither
library computing the training loss (``compute_loss=False`` and
``calculate_training_loss=False``).

    MATHREC_DATA=/work/shared/data .venv/bin/python benchmarks/implicit_als_vs_implicit.py

Needs the benchmark-only dependencies in benchmarks/requirements.txt.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from mathrec.data import Interactions
from mathrec.datasets import load_movielens
from mathrec.factorization import ImplicitALS
from mathrec.metrics import ndcg_at_k


def ndcg10(X, Y, train_csr, test_csr):
    """Mean NDCG@10 over users with test items, training items excluded."""
    vals = []
    for u in np.flatnonzero(np.diff(test_csr.indptr)):
        scores = Y @ X[u]
        seen = train_csr.indices[train_csr.indptr[u]:train_csr.indptr[u + 1]]
        scores[seen] = -np.inf
        top = np.argpartition(-scores, 10)[:10]
        top = top[np.argsort(-scores[top], kind="stable")]
        rel = test_csr.indices[test_csr.indptr[u]:test_csr.indptr[u + 1]]
        vals.append(ndcg_at_k(top.tolist(), set(rel.tolist()), k=10))
    return float(np.mean(vals))


def median_time(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--regularization", type=float, default=0.05)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--iterations", type=int, default=15)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import implicit
    from implicit.cpu.als import AlternatingLeastSquares

    df = load_movielens()[["user", "item", "rating"]]
    inter = Interactions.from_frame(df)
    rng = np.random.RandomState(0)
    is_test = rng.random_sample(inter.n_ratings) < 0.2
    u, i, r = inter.user_idx, inter.item_idx, inter.ratings
    shape = inter.shape
    train = Interactions(inter.users, inter.items, u[~is_test], i[~is_test], r[~is_test])
    train_csr = train.to_csr()
    test_csr = sp.csr_matrix((np.ones(is_test.sum()), (u[is_test], i[is_test])), shape=shape)
    conf = train_csr.copy()
    conf.data = 1.0 + args.alpha * conf.data

    k, lam, n_iter = args.factors, args.regularization, args.iterations
    rows = []
    with threadpool_limits(limits=1):
        # compile (or load from numba's cache) the per-row CG kernel outside the timing
        ImplicitALS(n_factors=2, n_iter=1, random_state=0).fit(inter.to_frame().head(50))
        for label, compiled in (("mathrec ImplicitALS (float64)", True),
                                ("mathrec ImplicitALS, NumPy batched CG", False)):
            def fit_mathrec(compiled=compiled):
                return ImplicitALS(n_factors=k, n_iter=n_iter, regularization=lam, alpha=args.alpha,
                                   cg_steps=3, compute_loss=False,
                                   random_state=0).fit(train, _compiled=compiled)

            t, m = median_time(fit_mathrec, args.repeats)
            rows.append((label, ndcg10(m.user_factors_, m.item_factors_, train_csr, test_csr), t))
        for dtype in (np.float64, np.float32):
            def fit_implicit(dtype=dtype):
                model = AlternatingLeastSquares(
                    factors=k, regularization=lam, alpha=1.0, iterations=n_iter, use_cg=True,
                    num_threads=1, random_state=0, dtype=dtype, calculate_training_loss=False)
                model.fit(conf.astype(np.float32), show_progress=False)
                return model

            t, m2 = median_time(fit_implicit, args.repeats)
            rows.append((f"implicit {implicit.__version__} ALS ({np.dtype(dtype).name})",
                         ndcg10(np.asarray(m2.user_factors, dtype=float),
                                np.asarray(m2.item_factors, dtype=float), train_csr, test_csr), t))
    res = pd.DataFrame(rows, columns=["model", "ndcg@10", "fit_s"])
    print(f"ml-latest-small 80/20 random split (seed 0): {train.n_ratings} train / "
          f"{int(is_test.sum())} test ratings, {test_csr.getnnz(axis=1).astype(bool).sum()} "
          f"test users; {os.cpu_count()} cores, one thread used")
    print(f"factors={k}, regularization={lam}, alpha={args.alpha} (confidence 1 + alpha r), "
          f"iterations={n_iter}, cg_steps=3; fit time = median of {args.repeats}")
    print(res.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    ours, batched, ref, ref32 = (res.iloc[j] for j in range(4))
    print(f"\nNDCG@10 relative difference mathrec vs implicit (float64): "
          f"{(ours['ndcg@10'] - ref['ndcg@10']) / ref['ndcg@10']:+.2%} (target within 5 %)")
    print(f"fit time ratio mathrec / implicit (float64): {ours.fit_s / ref.fit_s:.2f}; "
          f"vs float32: {ours.fit_s / ref32.fit_s:.2f} (target <= 3); "
          f"NumPy batched / implicit (float64): {batched.fit_s / ref.fit_s:.2f}")


if __name__ == "__main__":
    main()
