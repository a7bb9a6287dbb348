"""Fixtures shared by the test modules: a toy rating frame, the MovieLens copy, a seeded generator.

The MovieLens fixtures read the checked copy of *ml-latest-small* in
``$MATHREC_DATA`` (default: ``shared/data`` next to the repository) and never
download it; without that copy, the tests that need it are skipped, as are
those marked ``@pytest.mark.movielens``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Where the checked copy of ml-latest-small lives.
MOVIELENS_HOME = Path(os.environ.get("MATHREC_DATA") or ROOT.parent / "shared" / "data")
HAVE_MOVIELENS = (MOVIELENS_HOME / "ml-latest-small" / "ratings.csv").is_file()
_NO_MOVIELENS = f"no checked copy of ml-latest-small in {MOVIELENS_HOME}"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "movielens: needs the checked copy of ml-latest-small (skipped without it)"
    )


def pytest_runtest_setup(item):
    if item.get_closest_marker("movielens") is not None and not HAVE_MOVIELENS:
        pytest.skip(_NO_MOVIELENS)


@pytest.fixture(scope="session")
def movielens_home():
    """The folder holding ``ml-latest-small/``; skips the test when the copy is absent."""
    if not HAVE_MOVIELENS:
        pytest.skip(_NO_MOVIELENS)
    return MOVIELENS_HOME


@pytest.fixture(scope="session")
def movielens_ratings(movielens_home):
    """All 100,836 ratings of ml-latest-small (``user, item, rating, timestamp``), read once.

    Every test of the session shares this frame: take a copy before changing it.
    """
    from mathrec.datasets import load_movielens

    return load_movielens(data_home=movielens_home, download=False)


@pytest.fixture
def toy12():
    """Twelve ratings of five users on six items, the toy frame of many edge-case tests."""
    return pd.DataFrame({"user": [1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5],
                         "item": [10, 20, 30, 10, 40, 20, 30, 50, 10, 50, 40, 60],
                         "rating": [5., 3, 4, 4, 2, 1, 5, 3, 2, 4, 3, 5]})


@pytest.fixture
def rng():
    """A fresh ``numpy.random.Generator`` seeded with 0."""
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession (2 cores, 2 shuffle partitions, quiet) for the whole test session.

    Skips the test when PySpark is not installed or no Java 17+ is found.
    """
    pytest.importorskip("pyspark", reason="PySpark is not installed")
    from mathrec.spark import JavaNotFoundError, local_session

    try:
        session = local_session(cores=2, shuffle_partitions=2)
    except JavaNotFoundError as exc:
        pytest.skip(str(exc))
    yield session
    session.stop()
