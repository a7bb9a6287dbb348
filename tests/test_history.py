"""Every model trained by iterations records ``history_`` with the same column names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mathrec import ALS, BPR, GMF, MLP, BiasedMF, ImplicitALS, NeuMF, OnlineMF

COLUMNS = ["iteration", "train_rmse", "objective", "valid_rmse"]


def _ratings(seed=0, n_users=15, n_items=12, n=90):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"user": rng.integers(0, n_users, n), "item": rng.integers(0, n_items, n),
                       "rating": rng.integers(1, 6, n).astype(float)})
    return df.drop_duplicates(["user", "item"], ignore_index=True)


MODELS = {
    "BiasedMF": (lambda: BiasedMF(n_factors=2, n_epochs=3, random_state=0),
                 ["iteration", "train_rmse", "objective", "valid_rmse"]),
    "OnlineMF": (lambda: OnlineMF(n_factors=2, n_epochs=3, random_state=0),
                 ["iteration", "train_rmse", "objective", "valid_rmse"]),
    "ALS": (lambda: ALS(n_factors=2, n_iter=3, random_state=0),
            ["iteration", "train_rmse", "objective", "valid_rmse"]),
    "ImplicitALS": (lambda: ImplicitALS(n_factors=2, n_iter=3, random_state=0),
                    ["iteration", "objective"]),
    "BPR": (lambda: BPR(n_factors=2, n_epochs=3, random_state=0), ["iteration", "objective"]),
    "GMF": (lambda: GMF(n_factors=2, n_epochs=3, random_state=0), ["iteration", "objective"]),
    "MLP": (lambda: MLP(layers=(4, 2), n_epochs=3, random_state=0), ["iteration", "objective"]),
    "NeuMF": (lambda: NeuMF(n_factors=2, layers=(4, 2), n_epochs=3, random_state=0),
              ["iteration", "objective"]),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_history_columns_are_the_shared_names_in_the_shared_order(name):
    make, expected = MODELS[name]
    h = make().fit(_ratings()).history_
    assert list(h.columns) == expected
    # a subset of the shared names, in the shared order, iteration first
    assert list(h.columns) == [c for c in COLUMNS if c in h.columns]
    assert h["iteration"].tolist() == [1, 2, 3]
    assert np.isfinite(h["objective"]).all()
