"""UserKNN and ItemKNN on a synthetic data set of 2 million ratings.

50,000 users x 20,000 items x 2,000,000 ratings (mathrec.datasets.make_synthetic,
seed 0); 0.5 % of the ratings held out.  Prints, for each model, the time to
fit and predict the held-out ratings, the time of one recommendation list, the
peak memory Python allocated (tracemalloc, which sees NumPy's buffers, data
included) and the test RMSE, then the peak resident set size of the process.

    .venv/bin/python benchmarks/knn_scale.py

Needs only mathrec.
"""

import resource
import time
import tracemalloc

import numpy as np

from mathrec import ItemKNN, UserKNN
from mathrec.datasets import make_synthetic
from mathrec.split import random_split


def main():
    t = time.time()
    ratings, _ = make_synthetic(50_000, 20_000, n_ratings=2_000_000, random_state=0)
    train, test = random_split(ratings, test_size=0.005, random_state=0)
    print(f"data: {len(train):,} training and {len(test):,} test ratings ({time.time() - t:.1f} s)")
    for cls, similarity in [(ItemKNN, "cosine"), (UserKNN, "pearson")]:
        tracemalloc.start()
        t = time.time()
        model = cls(k=40, similarity=similarity).fit(train)
        est = model.predict(test["user"], test["item"])
        t1 = time.time()
        model.recommend(int(test["user"].iloc[0]), n=10)
        t2 = time.time()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rmse = np.sqrt(np.mean((est - test["rating"].to_numpy()) ** 2))
        print(f"{cls.__name__} ({similarity}): fit+predict {t1 - t:.1f} s, one recommend {t2 - t1:.1f} s, "
              f"peak traced {peak / 2**20:.0f} MB, RMSE {rmse:.4f}")
    print(f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
