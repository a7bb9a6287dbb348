"""Top-10 lists for every user of ml-latest-small, for every mathrec model.

For each model: fit it on ``random_split(ratings, 0.2, random_state=0)``'s
training part (not timed), then time

* ``recommend(all users, n=10)``: one call with the 610 user ids, one tidy
  frame back (training items excluded);
* ``evaluate(model, train, test, k=10, rating_metrics=False)``: fit plus the
  ranking metrics of every test user with a relevant item.

Both are the median of ``--repeats`` runs after one warm-up call (which
compiles the numba kernels); wall-clock seconds and CPU seconds of this
process (``time.process_time``, which a busy machine disturbs less). The
same lists are then made by the ``implicit`` library's batch
``recommend`` (its ALS and its item-item cosine, ``filter_already_liked_items``)
on the same machine, for scale; without ``implicit`` the script says so.

    MATHREC_DATA=/work/shared/data .venv/bin/python benchmarks/ranking_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from mathrec import evaluate
from mathrec.baselines import BaselineOnly, Popularity
from mathrec.coldstart import ContentBased
from mathrec.datasets import load_movielens, load_movielens_items
from mathrec.factorization import ALS, BiasedMF, ImplicitALS, PureSVD
from mathrec.incremental import IncrementalALS
from mathrec.neighbors import ItemKNN, UserKNN
from mathrec.ranking import BPR, EASE
from mathrec.split import random_split


def timed(fn, repeats):
    """Median wall and CPU seconds of ``fn()`` over ``repeats`` runs (after a warm-up)."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        c, t = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return float(np.median(wall)), float(np.median(cpu))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default=None, help="comma-separated model names")
    args = ap.parse_args()

    ratings = load_movielens()
    train, test = random_split(ratings, 0.2, random_state=0)
    items = load_movielens_items()
    genres = items["genres"]
    if genres.map(lambda g: isinstance(g, str)).all():
        genres = genres.str.split("|")
    features = pd.DataFrame({"item": items["item"], "genres": genres})

    als = ALS(random_state=0)
    models = {
        "Popularity": (Popularity, {}),
        "BaselineOnly": (BaselineOnly, {}),
        "UserKNN": (UserKNN, {}),
        "ItemKNN": (ItemKNN, {}),
        "PureSVD": (PureSVD, {"random_state": 0}),
        "BiasedMF": (BiasedMF, {"random_state": 0}),
        "ALS": (ALS, {"random_state": 0}),
        "ImplicitALS": (ImplicitALS, {"random_state": 0}),
        "BPR": (BPR, {"random_state": 0}),
        "EASE": (EASE, {}),
        "ContentBased": (ContentBased, {}),
        "IncrementalALS": (None, {}),
    }
    only = set(args.only.split(",")) if args.only else None
    rows = []
    for name, (cls, params) in models.items():
        if only and name not in only:
            continue
        if name == "IncrementalALS":
            als.fit(train)

            def make():
                return IncrementalALS(als)

            def fit(m, df):
                return m.fit(df)
        elif name == "ContentBased":
            def make():
                return ContentBased()

            def fit(m, df):
                return m.fit(df, features)
        else:
            def make(cls=cls, params=params):
                return cls(**params)

            def fit(m, df):
                return m.fit(df)
        model = fit(make(), train)
        users = list(model.interactions_.users)
        rec_wall, rec_cpu = timed(lambda: model.recommend(users, n=10), args.repeats)
        n_rows = len(model.recommend(users, n=10))
        if name in ("IncrementalALS", "ContentBased"):
            ev = lambda: evaluate(fit(make(), train), train, test, k=10,  # noqa: E731
                                  fit=False, rating_metrics=False)
        else:
            ev = lambda: evaluate(make(), train, test, k=10, rating_metrics=False)  # noqa: E731
        ev_wall, ev_cpu = timed(ev, args.repeats)
        res = ev()
        ndcg = float(res.loc[res["metric"] == "ndcg@k", "value"].iloc[0])
        prec = float(res.loc[res["metric"] == "precision@k", "value"].iloc[0])
        rows.append({"model": name, "users": len(users), "rows": n_rows,
                     "top-10 all users s": rec_wall, "(CPU s)": rec_cpu,
                     "evaluate s": ev_wall, "(CPU s) ": ev_cpu,
                     "precision@10": prec, "ndcg@10": ndcg})
        print(f"{name}: {rec_wall:.2f} s", flush=True)

    pd.set_option("display.width", 200)
    table = pd.DataFrame(rows).set_index("model")
    print("\nml-latest-small, random_split(0.2, random_state=0); median of", args.repeats, "runs")
    print(table.round(3).to_string())
    print("\nTargets: top-10 for all users <= 2 s, evaluate (ranking metrics) <= 5 s.")
    implicit_rows(train, args.repeats)


def implicit_rows(train, repeats):
    try:
        import implicit
        from implicit.als import AlternatingLeastSquares
        from implicit.nearest_neighbours import CosineRecommender
    except ImportError:
        print("\nimplicit not installed (pip install implicit): no comparison row.")
        return
    import scipy.sparse as sp
    from threadpoolctl import threadpool_limits

    from mathrec.data import as_interactions

    inter = as_interactions(train)
    X = sp.csr_matrix(inter.to_csr(), dtype=np.float32)
    uids = np.arange(X.shape[0])
    out = []
    with threadpool_limits(1, "blas"):  # implicit's advice for its ALS
        models = [
            ("implicit ALS (factors=100)", AlternatingLeastSquares(factors=100, iterations=15,
                                                                   random_state=0)),
            ("implicit CosineRecommender (K=20)", CosineRecommender(K=20)),
        ]
        for label, model in models:
            model.fit(X, show_progress=False)
            wall, cpu = timed(lambda m=model: m.recommend(uids, X, N=10,
                                                          filter_already_liked_items=True),
                              repeats)
            out.append({"model": label, "top-10 all users s": wall, "(CPU s)": cpu})
    print(f"\nimplicit {implicit.__version__}, batch recommend of all {X.shape[0]} users, same machine:")
    print(pd.DataFrame(out).set_index("model").round(3).to_string())


if __name__ == "__main__":
    main()
