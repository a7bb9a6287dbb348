"""Explicit ALS on Spark (local mode) against mathrec.ALS: start-up, partitions, data size.

Both fit the same model (ALS-WR: penalty lambda * n_u and lambda * n_i, no
global mean, rank 10, lambda 0.1, the same number of sweeps); chapter 7
(``notebooks/ch07_spark.ipynb``) shows that from the same start they compute
the same factors.  This script measures what that costs on one machine:

1. the start of a local SparkSession (a JVM and its context);
2. one Spark fit on ml-latest-small for 1, 2, 4 and 8 user/item blocks
   (``numUserBlocks = numItemBlocks``), median of ``--repeats`` fits, next
   to one ``mathrec.ALS`` fit (one core, BLAS limited to one thread);
3. both on synthetic data of growing size (``make_synthetic``: 1 and 5
   million ratings by default, users = ratings / 100, items = ratings /
   500), Spark with as many blocks as cores.

Times are wall-clock seconds for ``fit`` alone: the Spark frame is cached
and counted first, and the conversion (``mathrec.spark.to_spark``) is
timed on its own.  Spark runs ``local[--cores]``; on a machine whose cores
are shared, expect noise, and compare the ratio column, measured in the
same run.

    MATHREC_DATA=/work/shared/data .venv/bin/python benchmarks/spark_vs_mathrec.py
    .venv/bin/python benchmarks/spark_vs_mathrec.py --sizes 1000000 --repeats 1

Needs PySpark and Java 17 or newer (both in requirements.txt's setup).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings(
    "ignore",
    message="PySpark does not yet fully support pandas",
    category=FutureWarning,
)

from mathrec.datasets import load_movielens, make_synthetic  # noqa: E402
from mathrec.factorization import ALS  # noqa: E402


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def spark_fit(frame, blocks, iterations):
    from pyspark.ml.recommendation import ALS as SparkALS

    return SparkALS(
        rank=10,
        maxIter=iterations,
        regParam=0.1,
        seed=0,
        numUserBlocks=blocks,
        numItemBlocks=blocks,
    ).fit(frame)


def mathrec_fit(ratings, iterations):
    return ALS(
        n_factors=10,
        n_iter=iterations,
        regularization=0.1,
        center=False,
        clip=False,
        random_state=0,
    ).fit(ratings)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--sizes", type=int, nargs="*", default=[1_000_000, 5_000_000]
    )
    ap.add_argument("--driver-memory", default="4g")
    args = ap.parse_args()

    t0 = time.perf_counter()
    from mathrec.spark import local_session, to_spark

    spark = local_session(
        cores=args.cores,
        shuffle_partitions=args.cores,
        driver_memory=args.driver_memory,
    )
    start = time.perf_counter() - t0
    print(
        f"SparkSession local[{args.cores}] started (import + JVM + context) "
        f"in {start:.1f} s"
    )

    ratings = load_movielens()[["user", "item", "rating"]]
    t0 = time.perf_counter()
    frame, _ = to_spark(ratings, spark)
    frame = frame.cache()
    frame.count()
    print(f"ml-latest-small to Spark: {time.perf_counter() - t0:.1f} s")
    spark_fit(frame, 2, 2)  # warm-up: the JVM compiles ALS's code paths
    t_mathrec = median_time(
        lambda: mathrec_fit(ratings, args.iterations), args.repeats
    )
    rows = []
    for blocks in (1, 2, 4, 8):
        t = median_time(
            lambda: spark_fit(frame, blocks, args.iterations), args.repeats
        )
        rows.append((blocks, t, t / t_mathrec))
    table = pd.DataFrame(
        rows, columns=["blocks", "Spark fit (s)", "Spark / mathrec"]
    ).set_index("blocks")
    print(
        f"\nml-latest-small, rank 10, {args.iterations} sweeps: mathrec.ALS "
        f"{t_mathrec:.2f} s (one core); Spark local[{args.cores}]:"
    )
    print(table.round(2).to_string())
    frame.unpersist()

    rows = []
    for n in args.sizes:
        data, _ = make_synthetic(n // 100, n // 500, n, random_state=0)
        data = data[["user", "item", "rating"]]
        t0 = time.perf_counter()
        frame, _ = to_spark(data, spark)
        frame = frame.cache()
        frame.count()
        t_conv = time.perf_counter() - t0
        t_m = median_time(lambda: mathrec_fit(data, args.iterations), 1)
        t_s = median_time(
            lambda: spark_fit(frame, args.cores, args.iterations), 1
        )
        frame.unpersist()
        rows.append((n, n // 100, n // 500, t_conv, t_m, t_s, t_s / t_m))
    if rows:
        table = pd.DataFrame(
            rows,
            columns=[
                "ratings",
                "users",
                "items",
                "to_spark (s)",
                "mathrec fit (s)",
                "Spark fit (s)",
                "Spark / mathrec",
            ],
        ).set_index("ratings")
        print(
            f"\nsynthetic data, rank 10, {args.iterations} sweeps, Spark "
            f"with {args.cores} blocks:"
        )
        print(table.round(2).to_string())
    spark.stop()


if __name__ == "__main__":
    main()
