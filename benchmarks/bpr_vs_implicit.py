"""BPR of mathrec against ``implicit``'s BPR on ml-latest-small: NDCG@10 and fit time.

Both fit the same model with the same SGD updates (Rendle et al. 2009, an
item bias, one L2 weight) on the same training data, with the same number of
factors, epochs, learning rate and regularisation, on one thread; both are
then ranked by the same code, ``mathrec.evaluate`` (full ranking over all
unseen items, relevance: rating >= 4), so that only the fits differ.

The negative samplers differ: mathrec's default draws the negative item
uniformly from the items the user has not touched (Rendle et al.'s
LearnBPR); ``implicit`` draws it from the *interactions*, i.e. in proportion
to the item's popularity, and skips the triple when the user touched it.
mathrec's ``sampling="popularity"`` is that sampler, so the parity check
compares it with ``implicit``; the uniform row shows what the sampler costs.
``implicit`` starts from uniform factors on (-0.5, 0.5) / k; mathrec starts
from normal factors with the same variance, 1 / (12 k^2). ``implicit``
computes in float32, mathrec in float64.

Fit times are given as wall-clock and as CPU time of this process (the
fairer figure on a shared machine); both run on one thread.

Run from the repository root (one thread, as in the table)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        python benchmarks/bpr_vs_implicit.py [--epochs 100] [--factors 64]

Without ``implicit`` installed (``pip install implicit``) it says so and
still runs mathrec's side.
"""

from __future__ import annotations

import argparse
import os
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

import mathrec  # noqa: E402
from mathrec.ranking import BPR  # noqa: E402


class ImplicitBPR(BPR):
    """``implicit``'s BPR fit, held in a mathrec BPR so both are ranked by the same code."""

    def fit(self, ratings):
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        inter = self._start_fit(ratings)
        X = sp.csr_matrix((np.ones(inter.n_ratings, dtype=np.float32),
                           (inter.user_idx, inter.item_idx)), shape=inter.shape)
        model = BayesianPersonalizedRanking(
            factors=self.n_factors, learning_rate=self.learning_rate,
            regularization=self.regularization, iterations=self.n_epochs, num_threads=1,
            random_state=self.random_state)
        model.fit(X, show_progress=False)
        k = self.n_factors
        U = np.asarray(model.user_factors, dtype=np.float64)
        V = np.asarray(model.item_factors, dtype=np.float64)
        # implicit keeps the item bias in the last column (the user's last entry is 1)
        self.user_factors_, self.item_factors_, self.item_bias_ = U[:, :k], V[:, :k], V[:, k]
        return self


def _run(model, train, test, k=10):
    t0, c0 = time.perf_counter(), time.process_time()
    model.fit(train)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    res = mathrec.evaluate(model, train, test, k=k, fit=False, rating_metrics=False)
    return wall, cpu, float(res.set_index("metric").loc["ndcg@k", "value"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--learning-rate", type=float, default=0.05)
    ap.add_argument("--regularization", type=float, default=0.01)
    ap.add_argument("--seeds", type=int, default=3, help="random states 0..seeds-1")
    args = ap.parse_args(argv)

    ratings = mathrec.load_movielens("ml-latest-small")
    train, test = mathrec.random_split(ratings, 0.2, random_state=0)
    params = dict(n_factors=args.factors, n_epochs=args.epochs,
                  learning_rate=args.learning_rate, regularization=args.regularization)
    init_std_dev = 1.0 / (args.factors * np.sqrt(12.0))  # implicit's initial spread

    print(f"ml-latest-small, random_split(0.2, random_state=0): {len(train):,} train, "
          f"{len(test):,} test ratings; every training rating is a positive")
    print(f"k={args.factors}, epochs={args.epochs}, learning rate={args.learning_rate}, "
          f"regularization={args.regularization}, one thread, seeds 0..{args.seeds - 1}")

    try:
        import implicit  # noqa: F401
    except ImportError:
        have_implicit = False
        print("implicit not installed (pip install implicit): mathrec's side only")
    else:
        have_implicit = True

    BPR(**dict(params, n_epochs=1), random_state=0).fit(train.iloc[:1000])  # compile numba
    sides = [("mathrec BPR", BPR, {}, "uniform, unseen items"),
             ("mathrec BPR", BPR, {"sampling": "popularity"}, "by popularity, skip seen")]
    if have_implicit:
        sides.append((f"implicit {implicit.__version__}", ImplicitBPR, {},
                      "by popularity, skip seen"))
    rows = []
    for name, cls, extra, sampler in sides:
        if cls is BPR:
            extra = dict(extra, init_std_dev=init_std_dev)
        runs = np.array([_run(cls(**params, **extra, random_state=seed), train, test)
                         for seed in range(args.seeds)])
        rows.append((name, sampler, runs[:, 2].mean(), runs[:, 2].std(),
                     np.median(runs[:, 0]), np.median(runs[:, 1])))

    print()
    print(f"{'model':<16} {'negatives':<25} {'NDCG@10':>16} {'wall s':>7} {'CPU s':>6}")
    for name, sampler, m, s, wall, cpu in rows:
        print(f"{name:<16} {sampler:<25} {m:>8.4f} ± {s:.4f} {wall:>7.2f} {cpu:>6.2f}")
    if have_implicit:
        ours, theirs = rows[1], rows[2]
        rel = ours[2] / theirs[2] - 1
        print(f"\nsame sampler, mathrec vs implicit: NDCG@10 {rel:+.1%} "
              f"({'within' if abs(rel) <= 0.05 else 'OUTSIDE'} 5 %), "
              f"CPU time x{ours[5] / theirs[5]:.2f}")


if __name__ == "__main__":
    main()
