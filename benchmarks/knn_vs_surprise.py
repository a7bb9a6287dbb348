"""mathrec's UserKNN / ItemKNN against Surprise's KNNBasic on ml-latest-small.

Same data, same 5 folds (shuffled, random_state=0), same training-row order
fed to both libraries; RMSE, MAE, fit and predict times measured in one run.
Times are wall-clock seconds; the speed-up is also given in CPU seconds of
this process (time.process_time), which a busy machine disturbs less.

    MATHREC_DATA=/work/shared/data .venv/bin/python benchmarks/knn_vs_surprise.py
    [--folds 5] [--runs 3] [--only item|user]

Every fold is run ``--runs`` times; the tables give the median over the runs
of each time, and the speed-ups are computed from those medians.

Needs the benchmark-only dependencies in benchmarks/requirements.txt.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold
from surprise import Dataset, KNNBasic, Reader
from surprise import accuracy as s_accuracy

from mathrec import metrics
from mathrec.datasets import load_movielens
from mathrec.neighbors import ItemKNN, UserKNN

CASES = {
    "item": ("ItemKNN cosine k=40", lambda: ItemKNN(k=40, similarity="cosine", shrinkage=0),
             {"name": "cosine", "user_based": False}),
    "user": ("UserKNN pearson k=40", lambda: UserKNN(k=40, similarity="pearson"),
             {"name": "pearson", "user_based": True}),
}


def run_fold(df, train_idx, test_idx, case):
    label, make, sim_options = CASES[case]
    train, test = df.iloc[train_idx], df.iloc[test_idx]

    # Surprise: its trainset keeps the order of the raw ratings given here
    reader = Reader(rating_scale=(0.5, 5.0))
    data = Dataset.load_from_df(train[["user", "item", "rating"]], reader)
    trainset = data.build_full_trainset()
    testset = list(zip(test["user"], test["item"], test["rating"]))
    algo = KNNBasic(k=40, sim_options=sim_options, verbose=False)
    c0, t0 = time.process_time(), time.perf_counter()
    algo.fit(trainset)
    t1 = time.perf_counter()
    preds = algo.test(testset)
    c2, t2 = time.process_time(), time.perf_counter()
    s_rmse = s_accuracy.rmse(preds, verbose=False)
    s_mae = s_accuracy.mae(preds, verbose=False)
    s_est = np.array([p.est for p in preds])

    # mathrec: same rows, same order; unknown test ids fall back to the global mean
    model = make()
    c3, t3 = time.process_time(), time.perf_counter()
    model.fit(train)
    t4 = time.perf_counter()
    est = model.predict(test["user"].to_numpy(), test["item"].to_numpy(), unknown="fallback")
    c5, t5 = time.process_time(), time.perf_counter()
    y = test["rating"].to_numpy()
    return {
        "model": label,
        "surprise_rmse": s_rmse, "mathrec_rmse": metrics.rmse(y, est),
        "surprise_mae": s_mae, "mathrec_mae": metrics.mae(y, est),
        "surprise_fit_s": t1 - t0, "surprise_predict_s": t2 - t1,
        "mathrec_fit_s": t4 - t3, "mathrec_predict_s": t5 - t4,
        "surprise_cpu_s": c2 - c0, "mathrec_cpu_s": c5 - c3,
        "max_abs_diff": float(np.max(np.abs(s_est - est))),
        "share_equal_1e-9": float(np.mean(np.abs(s_est - est) < 1e-9)),
        # different predictions come from neighbours whose similarities are
        # equal up to floating-point noise: Surprise orders them by the noise,
        # mathrec treats them as ties (see ItemKNN's Notes)
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5, help="how many of the 5 folds to run")
    ap.add_argument("--runs", type=int, default=3, help="runs of every fold (median)")
    ap.add_argument("--only", choices=sorted(CASES), default=None)
    args = ap.parse_args()
    df = load_movielens()[["user", "item", "rating"]]
    kf = KFold(n_splits=5, shuffle=True, random_state=0)
    rows = []
    for run in range(args.runs):
        for fold, (tr, te) in enumerate(kf.split(df)):
            if fold >= args.folds:
                break
            for case in CASES if args.only is None else [args.only]:
                row = run_fold(df, tr, te, case)
                row["fold"] = fold
                row["run"] = run
                rows.append(row)
    # the median over the runs of every number of a (model, fold)
    res = (pd.DataFrame(rows).groupby(["model", "fold"], sort=False)
           .median(numeric_only=True).drop(columns="run").reset_index())
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    print(f"ml-latest-small: {len(df):,} ratings; 5-fold CV shuffled random_state=0; "
          f"folds run: {res['fold'].nunique()}; median of {args.runs} runs\n")
    print("Per fold:")
    print(res.drop(columns=["model"]).assign(model=res["model"]).set_index(["model", "fold"])
          .round(4).to_string())
    agg = res.groupby("model", sort=False).mean(numeric_only=True)
    table = pd.DataFrame({
        "RMSE mathrec": agg["mathrec_rmse"], "RMSE Surprise": agg["surprise_rmse"],
        "ΔRMSE": agg["mathrec_rmse"] - agg["surprise_rmse"],
        "MAE mathrec": agg["mathrec_mae"], "MAE Surprise": agg["surprise_mae"],
        "fit s mathrec": agg["mathrec_fit_s"], "predict s mathrec": agg["mathrec_predict_s"],
        "fit s Surprise": agg["surprise_fit_s"], "predict s Surprise": agg["surprise_predict_s"],
    })
    table["speed-up wall"] = (
        (agg["surprise_fit_s"] + agg["surprise_predict_s"])
        / (agg["mathrec_fit_s"] + agg["mathrec_predict_s"])
    )
    table["speed-up CPU"] = agg["surprise_cpu_s"] / agg["mathrec_cpu_s"]
    print("\nMean over folds:")
    print(table.round(4).to_string())


if __name__ == "__main__":
    main()
