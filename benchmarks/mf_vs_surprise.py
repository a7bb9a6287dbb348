"""mathrec's BiasedMF against Surprise's SVD on ml-latest-small.

Same data, same 5 folds (scikit-learn ``KFold``, shuffled, random_state=0), the
same training rows in the same order fed to both libraries, the same
hyper-parameters (Surprise's defaults: 100 factors, 20 epochs, lr 0.005,
reg 0.02, N(0, 0.1) initial factors) and the same seed.  BiasedMF draws its
initial factors and orders its SGD updates as Surprise does, so the two fits
should agree to rounding; the table shows RMSE, MAE, the largest difference
between the two predictions, and fit times measured in this run.

A second mathrec row shuffles the ratings every epoch (``shuffle=True``): a
different but equally valid SGD, to show the RMSE does not hinge on the order.

numba compiles BiasedMF's kernel once per environment (cached on disk); the
script compiles it on a tiny fit first and reports that time separately, as
Surprise's Cython was compiled when it was installed.

    MATHREC_DATA=/work/shared/data .venv/bin/python benchmarks/mf_vs_surprise.py [--folds 5]

Needs the benchmark-only dependencies in benchmarks/requirements.txt.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold
from surprise import SVD, Dataset, Reader
from surprise import accuracy as s_accuracy

from mathrec.datasets import load_movielens
from mathrec.factorization import BiasedMF

PARAMS = dict(n_factors=100, n_epochs=20, lr_all=0.005, reg_all=0.02)


def rmse(y, est):
    return float(np.sqrt(np.mean((y - est) ** 2)))


def mae(y, est):
    return float(np.mean(np.abs(y - est)))


def run_fold(fold, train, test, seed):
    reader = Reader(rating_scale=(0.5, 5.0))
    trainset = Dataset.load_from_df(train[["user", "item", "rating"]], reader).build_full_trainset()
    testset = list(zip(test["user"], test["item"], test["rating"]))
    algo = SVD(random_state=seed, **PARAMS)
    t0 = time.perf_counter()
    algo.fit(trainset)
    s_fit = time.perf_counter() - t0
    preds = algo.test(testset)
    s_est = np.array([p.est for p in preds])
    y = test["rating"].to_numpy()
    rows = [{"fold": fold, "library": "Surprise SVD", "rmse": s_accuracy.rmse(preds, verbose=False),
             "mae": s_accuracy.mae(preds, verbose=False), "fit_s": s_fit, "max_abs_diff": np.nan}]
    for label, shuffle in (("mathrec BiasedMF", False), ("mathrec BiasedMF shuffle=True", True)):
        model = BiasedMF(random_state=seed, shuffle=shuffle, **PARAMS)
        t0 = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - t0
        est = model.predict(test["user"].to_numpy(), test["item"].to_numpy(), unknown="fallback")
        rows.append({"fold": fold, "library": label, "rmse": rmse(y, est), "mae": mae(y, est),
                     "fit_s": fit_s, "max_abs_diff": float(np.max(np.abs(est - s_est)))})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5, help="how many of the 5 folds to run")
    ap.add_argument("--seed", type=int, default=0, help="random_state of both models")
    args = ap.parse_args()
    df = load_movielens()[["user", "item", "rating"]]

    t0 = time.perf_counter()
    BiasedMF(n_factors=2, n_epochs=1, random_state=0).fit(df.head(50))
    compile_s = time.perf_counter() - t0

    kf = KFold(n_splits=5, shuffle=True, random_state=0)
    rows = []
    for fold, (tr, te) in enumerate(kf.split(df)):
        if fold >= args.folds:
            break
        rows.extend(run_fold(fold, df.iloc[tr], df.iloc[te], args.seed))
    res = pd.DataFrame(rows)
    pd.set_option("display.width", 140)
    print(f"ml-latest-small: {len(df)} ratings; {args.folds} of 5 folds (KFold shuffle, random_state=0);"
          f" {os.cpu_count()} cores; numba compile/cache load {compile_s:.2f} s (once, not in fit_s)")
    print(f"hyper-parameters: {PARAMS}, random_state={args.seed}")
    fmt = {c: (lambda v: f"{v:.4f}") for c in ("rmse", "mae", "fit_s")}
    fmt["max_abs_diff"] = lambda v: f"{v:.1e}"
    print(res.to_string(index=False, formatters=fmt))
    summary = res.groupby("library", sort=False).agg(
        rmse=("rmse", "mean"), rmse_sd=("rmse", "std"), mae=("mae", "mean"),
        fit_s=("fit_s", "mean"), max_abs_diff=("max_abs_diff", "max"))
    print("\nmean over folds")
    fmt["rmse_sd"] = fmt["rmse"]
    print(summary.to_string(formatters=fmt))
    s = summary.loc["Surprise SVD"]
    m = summary.loc["mathrec BiasedMF"]
    print(f"\nRMSE difference mathrec - Surprise: {m.rmse - s.rmse:+.5f} (target |.| <= 0.005); "
          f"fit time ratio mathrec / Surprise: {m.fit_s / s.fit_s:.2f} (target <= 1)")


if __name__ == "__main__":
    main()
