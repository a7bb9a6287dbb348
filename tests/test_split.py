"""Tests for mathrec.split: no leakage, cold users/items reported and handled."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mathrec.data import Interactions, as_interactions
from mathrec.split import (
    Split,
    kfold,
    leave_last_out,
    per_user_split,
    random_split,
    temporal_split,
)


@st.composite
def frames(draw, min_rows=1, max_rows=60):
    """Random interactions: unique (user, item) pairs, integer timestamps with ties."""
    n_users = draw(st.integers(1, 8))
    n_items = draw(st.integers(max(1, -(-min_rows // n_users)), 10))
    cells = n_users * n_items
    n = draw(st.integers(min(min_rows, cells), min(max_rows, cells)))
    flat = draw(st.lists(st.integers(0, cells - 1), min_size=n, max_size=n, unique=True))
    flat = np.asarray(flat, dtype=np.int64)
    times = draw(st.lists(st.integers(0, 20), min_size=n, max_size=n))
    df = pd.DataFrame({
        "user": flat // n_items,
        "item": [f"i{k}" for k in flat % n_items],
        "rating": np.arange(n, dtype=float) % 5 + 1,
        "timestamp": times,
    })
    # non-default index labels, to check they are kept
    df.index = pd.Index(np.arange(n) * 10 + 3)
    return df


def pairs(df):
    return set(zip(df["user"], df["item"]))


def check_common(df, s, cold):
    """The guarantees every split gives."""
    train, test = s
    assert isinstance(s, Split)
    # test rows are never train rows; no pair on both sides
    assert not set(train.index) & set(test.index)
    assert not pairs(train) & pairs(test)
    # rows are unchanged (same values under the same labels)
    pd.testing.assert_frame_equal(train, df.loc[train.index])
    pd.testing.assert_frame_equal(test, df.loc[test.index])
    # the cold report is exactly what it says
    before_drop = df.drop(train.index)
    if cold == "keep":
        assert set(train.index) | set(test.index) == set(df.index)
        assert s.n_dropped == 0
        source = test
    else:
        source = before_drop
        assert s.n_dropped == len(df) - len(train) - len(test)
    cold_u = set(source["user"]) - set(train["user"])
    cold_i = set(source["item"]) - set(train["item"])
    assert set(s.cold_users.tolist()) == cold_u
    assert set(s.cold_items.tolist()) == cold_i
    if cold == "drop":
        assert set(test["user"]) <= set(train["user"])
        assert set(test["item"]) <= set(train["item"])
        # what was dropped is exactly the cold rows
        dropped = before_drop.drop(test.index)
        assert len(dropped) == s.n_cold_rows
        assert (dropped["user"].isin(cold_u) | dropped["item"].isin(cold_i)).all()


COLD = st.sampled_from(["keep", "drop"])


@settings(max_examples=80, deadline=None)
@given(frames(), st.floats(0.05, 0.95), st.integers(0, 2**32 - 1), COLD)
def test_random_split_properties(df, test_size, seed, cold):
    s = random_split(df, test_size, random_state=seed, cold=cold)
    check_common(df, s, cold)
    assert len(s.train) + len(s.test) + s.n_dropped == len(df)
    assert len(s.test) + s.n_dropped == round(test_size * len(df))


@settings(max_examples=80, deadline=None)
@given(frames(), st.floats(0.05, 0.95) | st.integers(1, 4), st.integers(1, 3), st.integers(0, 2**32 - 1), COLD)
def test_per_user_split_properties(df, test_size, min_train, seed, cold):
    s = per_user_split(df, test_size, min_train=min_train, random_state=seed, cold=cold)
    check_common(df, s, cold)
    # every user stays in train, with at least min(min_train, n_u) ratings; no cold users
    n_u = df["user"].value_counts()
    in_train = s.train["user"].value_counts().reindex(n_u.index, fill_value=0)
    assert (in_train >= np.minimum(min_train, n_u)).all()
    assert len(s.cold_users) == 0
    # each user's test count (before dropping) follows the rule
    taken = (n_u - in_train)
    want = np.floor(test_size * n_u) if isinstance(test_size, float) else pd.Series(test_size, index=n_u.index)
    expected = np.clip(np.minimum(want, n_u - min_train), 0, None)
    np.testing.assert_array_equal(taken.to_numpy(), expected.to_numpy())


@settings(max_examples=80, deadline=None)
@given(frames(), st.integers(1, 3), COLD)
def test_leave_last_out_properties(df, n, cold):
    s = leave_last_out(df, n, cold=cold)
    check_common(df, s, cold)
    n_u = df["user"].value_counts()
    assert set(s.train["user"]) == set(df["user"])  # nobody disappears from train
    lost = n_u - s.train["user"].value_counts().reindex(n_u.index, fill_value=0)
    np.testing.assert_array_equal(lost.to_numpy(), np.minimum(n, n_u - 1).to_numpy())
    # per user, everything held out is no earlier than anything kept
    held = df.drop(s.train.index)
    for u, g in held.groupby("user"):
        assert g["timestamp"].min() >= s.train.loc[s.train["user"] == u, "timestamp"].max()


@settings(max_examples=80, deadline=None)
@given(frames(min_rows=2), st.floats(0.05, 0.95), COLD)
def test_temporal_split_properties(df, test_size, cold):
    try:
        s = temporal_split(df, test_size, cold=cold)
    except ValueError as e:  # all times equal, or the latest time alone is too many rows
        counts = df["timestamp"].value_counts()
        assert "no cut" in str(e) or "rows in test" in str(e)
        assert counts[df["timestamp"].max()] > test_size * len(df) or df["timestamp"].nunique() == 1
        return
    check_common(df, s, cold)
    held = df.drop(s.train.index)
    assert s.train["timestamp"].max() < held["timestamp"].min()
    assert len(held) <= test_size * len(df)


@settings(max_examples=60, deadline=None)
@given(frames(min_rows=2), st.integers(2, 6), st.integers(0, 2**32 - 1), st.booleans())
def test_kfold_partitions_rows(df, k, seed, shuffle):
    k = min(k, len(df))
    splits = list(kfold(df, k, random_state=seed, shuffle=shuffle, cold="keep"))
    assert len(splits) == k
    tests = [set(s.test.index) for s in splits]
    assert set().union(*tests) == set(df.index)
    assert sum(len(t) for t in tests) == len(df)  # disjoint
    sizes = [len(t) for t in tests]
    assert max(sizes) - min(sizes) <= 1
    for s in splits:
        check_common(df, s, "keep")


@settings(max_examples=40, deadline=None)
@given(frames(min_rows=2), st.integers(2, 4), st.integers(0, 2**32 - 1))
def test_kfold_drop(df, k, seed):
    k = min(k, len(df))
    for s in kfold(df, k, random_state=seed, cold="drop"):
        check_common(df, s, "drop")


def test_determinism():
    df = pd.DataFrame({"user": np.repeat(np.arange(20), 5), "item": np.tile(np.arange(5), 20), "rating": 1.0})
    a = random_split(df, 0.3, random_state=4)
    b = random_split(df, 0.3, random_state=4)
    c = random_split(df, 0.3, random_state=5)
    pd.testing.assert_frame_equal(a.test, b.test)
    assert not a.test.index.equals(c.test.index)
    x = [s.test.index.tolist() for s in kfold(df, 4, random_state=1)]
    y = [s.test.index.tolist() for s in kfold(df, 4, random_state=1)]
    assert x == y


# --------------------------------------------------------------------------- worked cases
@pytest.fixture
def small():
    return pd.DataFrame({
        "user": ["a", "a", "a", "b", "b", "c"],
        "item": [1, 2, 3, 1, 4, 1],
        "rating": [5.0, 4.0, 3.0, 2.0, 1.0, 4.0],
        "timestamp": [10, 30, 20, 40, 50, 60],
    })


def test_temporal_split_worked(small):
    s = temporal_split(small, cutoff=45, cold="keep")
    assert s.test.index.tolist() == [4, 5]
    assert s.cold_users.tolist() == ["c"] and s.cold_items.tolist() == [4]
    assert s.n_cold_rows == 2 and s.n_dropped == 0
    d = temporal_split(small, cutoff=45)  # default: drop
    assert len(d.test) == 0 and d.n_dropped == 2
    with pytest.raises(ValueError, match=r"2 test rows .*cold users \['c'\], cold items \[4\]"):
        temporal_split(small, cutoff=45, cold="raise")
    # test_size: the earliest cut with at most 1/3 of the rows at or after it
    assert temporal_split(small, 1 / 3, cold="keep").test.index.tolist() == [4, 5]


def test_leave_last_out_worked(small):
    s = leave_last_out(small, cold="keep")
    assert s.test.index.tolist() == [1, 4]  # a's latest is t=30, b's t=50; c keeps its only rating
    assert repr(s) == "Split(n_train=4, n_test=2, cold_users=0, cold_items=2, n_cold_rows=2, n_dropped=0, cold='keep')"


def test_ties_in_time_broken_by_row_order():
    df = pd.DataFrame({"user": [1, 1, 1], "item": [7, 8, 9], "rating": 1.0, "timestamp": [5, 5, 5]})
    assert leave_last_out(df, cold="keep").test["item"].tolist() == [9]


def test_datetime_timestamps():
    df = pd.DataFrame({
        "user": [1, 1, 2, 2], "item": [1, 2, 1, 2], "rating": 1.0,
        "timestamp": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01", "2020-04-01"], utc=True),
    })
    s = temporal_split(df, cutoff="2020-02-15", cold="keep")
    assert s.test.index.tolist() == [2, 3]
    assert leave_last_out(df, cold="keep").test.index.tolist() == [1, 3]


def test_interactions_in_interactions_out(small):
    X = Interactions.from_frame(small)
    s = per_user_split(X, 1, random_state=0, cold="keep")
    assert isinstance(s.train, Interactions) and isinstance(s.test, Interactions)
    assert s.train.n_ratings + s.test.n_ratings == 6
    t = leave_last_out(X, cold="keep")
    assert t.test.to_frame()["timestamp"].tolist() == [30, 50]


def test_movielens_like_sizes():
    """Leave-last-out on many users: one test row per user with >= 2 ratings."""
    rng = np.random.default_rng(0)
    n = 5000
    flat = rng.choice(200 * 300, n, replace=False)
    df = pd.DataFrame({"user": flat // 300, "item": flat % 300, "rating": 3.0, "timestamp": rng.integers(0, 10**6, n)})
    s = leave_last_out(df, cold="keep")
    n_u = df["user"].value_counts()
    assert len(s.test) == int((n_u >= 2).sum())


# --------------------------------------------------------------------------- boundary errors
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda df: random_split(df, 1.5), r"test_size must be a finite real number > 0 and < 1, got 1.5"),
        (lambda df: random_split(df, 0.2, cold="ignore"), "cold must be one of .*got 'ignore'"),
        (lambda df: per_user_split(df, 0), "test_size must be a fraction in .* or an int >= 1, got 0"),
        (lambda df: per_user_split(df, 0.2, min_train=0), "min_train must be an integer >= 1, got 0"),
        (lambda df: leave_last_out(df, 0), "n must be an integer >= 1, got 0"),
        (lambda df: kfold(df, 1), r"n_splits must be an integer >= 2 and <= 6, got 1"),
        (lambda df: kfold(df, 7), r"n_splits must be an integer >= 2 and <= 6, got 7"),
        (lambda df: temporal_split(df, cutoff=0), "cutoff 0 puts all rows in test"),
        (lambda df: temporal_split(df, cutoff=100), "cutoff 100 puts no rows in test"),
        (lambda df: leave_last_out(df.drop(columns="timestamp")), r"missing column\(s\) \['timestamp'\]"),
        (lambda df: random_split(df.iloc[:0]), "empty"),
        (lambda df: random_split(pd.concat([df, df.iloc[[0]]], ignore_index=True)), "repeat a \\(user, item\\) pair"),
        (lambda df: random_split(pd.concat([df, df.iloc[[0]]])), "repeated labels"),
        (lambda df: random_split(df.assign(user=[None, "a", "a", "b", "b", "c"])), "'user' has missing values at rows \\[0\\]"),
        (lambda df: random_split(df.to_numpy()), "DataFrame or mathrec.data.Interactions; got ndarray"),
    ],
)
def test_bad_input(small, call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(small)


def test_temporal_needs_timestamps_in_interactions():
    X = Interactions.from_frame(pd.DataFrame({"user": [1, 2], "item": [1, 1], "rating": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="needs timestamps"):
        temporal_split(X)


# ------------------------------------------------------------ bad cutoffs and empty parts
@pytest.mark.parametrize("cutoff", ["2020-01-01", pd.Timestamp("2020-01-01"), b"5"])
def test_temporal_split_numeric_times_refuse_a_date_cutoff(cutoff, toy12):
    with pytest.raises(TypeError, match="cutoff must be a number, like the timestamps in column 'timestamp'"):
        temporal_split(toy12.assign(timestamp=range(12)), cutoff=cutoff)


def test_temporal_split_numeric_times_refuse_a_nan_cutoff(toy12):
    with pytest.raises(ValueError, match="cutoff must be a finite real number, got nan"):
        temporal_split(toy12.assign(timestamp=range(12)), cutoff=float("nan"))


@pytest.mark.parametrize("cutoff", ["garbage", float("nan")])
def test_temporal_split_datetime_times_refuse_a_bad_cutoff(cutoff, toy12):
    df = toy12.assign(timestamp=pd.date_range("2020-01-01", periods=12, freq="D"))
    with pytest.raises(ValueError, match="cutoff must be a date or time"):
        temporal_split(df, cutoff=cutoff)
    assert len(temporal_split(df, cutoff="2020-01-10", cold="keep").test) == 3


def test_split_of_interactions_with_an_empty_test_part_is_interactions(toy12):
    X = as_interactions(toy12.iloc[:2])
    s = random_split(X, 0.5, random_state=0)
    assert s.n_dropped == 1
    assert isinstance(s.train, Interactions) and isinstance(s.test, Interactions)
    assert s.test.n_ratings == 0 and len(s.test) == 0
    assert s.test.to_frame().columns.tolist() == ["user", "item", "rating"]


def test_split_repeated_column_name(toy12):
    df = pd.concat([toy12, toy12[["user"]]], axis=1)
    with pytest.raises(ValueError, match="ratings has 2 columns named 'user'"):
        random_split(df, 0.5, random_state=0)
