"""ALS and ImplicitALS on a synthetic data set shaped like MovieLens-20M.

138,493 users x 26,744 items x 20,000,263 ratings (the shape of ml-20m), drawn
with a long-tailed item popularity (Zipf, exponent 0.5, so that the most
popular item gets about 60,000 ratings, as ml-20m's most-rated movie does),
log-normal user activity and ratings from a rank-8 model rounded to half stars.  The script
prints, for each model: the time per sweep, the peak memory Python allocated
during ``fit`` (``tracemalloc``, which sees NumPy's buffers), and the peak
resident set size of the process (``resource.getrusage``), next to the size
of the rating data itself.  Nothing of size n_users x n_items is ever built:
the solvers work in chunks of at most 2^22 floats.

    .venv/bin/python benchmarks/scale_ml20m.py                 # full size
    .venv/bin/python benchmarks/scale_ml20m.py --ratings 2000000 --iters 2   # quick

Needs only mathrec.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc

import numpy as np

from mathrec.data import Interactions
from mathrec.factorization import ALS, ImplicitALS

ML20M = (138_493, 26_744, 20_000_263)


def synthetic(n_users, n_items, n_ratings, seed=0):
    rng = np.random.default_rng(seed)
    pop = 1.0 / np.sqrt(np.arange(1, n_items + 1))
    pop = pop[rng.permutation(n_items)]
    pop /= pop.sum()
    act = rng.lognormal(0.0, 1.0, n_users)
    act /= act.sum()
    cum_act, cum_pop = np.cumsum(act), np.cumsum(pop)
    keys = np.empty(0, dtype=np.int64)
    while len(keys) < n_ratings:
        draw = int((n_ratings - len(keys)) * 1.15) + 1000
        # inverse-CDF sampling (much faster than rng.choice with p=)
        u = np.minimum(np.searchsorted(cum_act, rng.random(draw)), n_users - 1)
        i = np.minimum(np.searchsorted(cum_pop, rng.random(draw)), n_items - 1)
        keys = np.unique(np.concatenate([keys, u.astype(np.int64) * n_items + i]))
    keys = rng.permutation(keys)[:n_ratings]
    u, i = keys // n_items, keys % n_items
    P = rng.normal(0, 1 / np.sqrt(8), (n_users, 8))
    Q = rng.normal(0, 1, (n_items, 8))
    r = 3.5 + np.einsum("nk,nk->n", P[u], Q[i]) + rng.normal(0, 0.5, n_ratings)
    r = np.clip(np.round(r * 2) / 2, 0.5, 5.0)
    # users/items that drew nothing are kept (they get zero factors)
    return Interactions(np.arange(n_users), np.arange(n_items), u, i, r)


def measure(make, data, iters):
    tracemalloc.start()
    t0 = time.perf_counter()
    model = make().fit(data)
    total = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return model, total / iters, peak, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=ML20M[0])
    ap.add_argument("--items", type=int, default=ML20M[1])
    ap.add_argument("--ratings", type=int, default=ML20M[2])
    ap.add_argument("--iters", type=int, default=3, help="sweeps per model")
    ap.add_argument("--factors", type=int, default=32)
    args = ap.parse_args()
    gib = 2.0**30
    t0 = time.perf_counter()
    data = synthetic(args.users, args.items, args.ratings)
    gen_s = time.perf_counter() - t0
    data_bytes = data.user_idx.nbytes + data.item_idx.nbytes + data.ratings.nbytes
    print(f"synthetic data: {data.n_users} users x {data.n_items} items x {data.n_ratings} ratings "
          f"(density {data.density:.4%}), {data_bytes / gib:.2f} GiB as (user, item, rating) arrays; "
          f"generated in {gen_s:.0f} s; {os.cpu_count()} cores")
    print(f"a dense float64 user x item matrix would need {data.n_users * data.n_items * 8 / gib:.1f} GiB")
    k = args.factors
    cases = [
        (f"ALS (weighted, k={k})", lambda: ALS(n_factors=k, n_iter=args.iters, regularization=0.05,
                                               random_state=0)),
        (f"ImplicitALS (k={k}, 3 CG steps)", lambda: ImplicitALS(n_factors=k, n_iter=args.iters,
                                                                 regularization=0.05, alpha=1.0,
                                                                 random_state=0)),
    ]
    print(f"\n{'model':34s} {'s / sweep':>10s} {'fit peak (tracemalloc)':>24s} {'process peak RSS':>18s}  last loss")
    for label, make in cases:
        model, per_iter, peak, rss = measure(make, data, args.iters)
        h = model.history_
        last = h.train_rmse.iloc[-1] if "train_rmse" in h else h.objective.iloc[-1]
        what = "train RMSE" if "train_rmse" in h else "objective"
        print(f"{label:34s} {per_iter:10.1f} {peak / gib:20.2f} GiB {rss / gib:14.2f} GiB  "
              f"{what} {last:.4f}")


if __name__ == "__main__":
    main()
