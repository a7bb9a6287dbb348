"""Tests for mathrec.data: the Interactions container and its boundary checks."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mathrec.data import (
    Interactions,
    UnknownIdError,
    UnknownItemError,
    UnknownUserError,
    as_interactions,
)


def frame(users, items, ratings, **extra):
    return pd.DataFrame({"user": users, "item": items, "rating": ratings, **extra})


@pytest.fixture
def small():
    return frame(["ann", "bob", "ann", "cid"], ["x", "y", "y", "z"], [5.0, 3.0, 4.0, 1.0])


# ---------------------------------------------------------------- worked example
def test_worked_example_csr(small):
    X = Interactions.from_frame(small)
    assert (X.n_users, X.n_items, X.n_ratings) == (3, 3, 4)
    assert X.users.tolist() == ["ann", "bob", "cid"]  # sorted ids
    assert X.items.tolist() == ["x", "y", "z"]
    R = X.to_csr()
    assert isinstance(R, sp.csr_matrix)
    assert R.dtype == np.float64 and R.has_sorted_indices
    np.testing.assert_array_equal(R.toarray(), [[5, 4, 0], [0, 3, 0], [0, 0, 1]])
    assert X.density == pytest.approx(4 / 9)
    np.testing.assert_array_equal(X.user_counts(), [2, 1, 1])
    np.testing.assert_array_equal(X.item_counts(), [1, 2, 1])
    assert X.timestamps is None
    assert repr(X) == "Interactions(n_users=3, n_items=3, n_ratings=4, density=0.4444)"


def test_zero_rating_is_stored_explicitly():
    X = Interactions.from_frame(frame([1, 2], [1, 1], [0.0, 2.0]))
    assert X.to_csr().nnz == 2


def test_csr_matches_dense_construction(rng):
    m, n = 13, 17
    mask = rng.random((m, n)) < 0.3
    dense = np.where(mask, rng.integers(1, 6, (m, n)).astype(float), 0.0)
    u, i = np.nonzero(mask)
    X = Interactions.from_frame(frame(u, i, dense[u, i]))
    # internal order = sorted ids, which here are 0..m-1 restricted to users that occur
    full = np.zeros((m, n))
    full[np.ix_(X.users, X.items)] = X.to_csr().toarray()
    np.testing.assert_array_equal(full, dense)


# ---------------------------------------------------------------- round trip of ids
@pytest.mark.parametrize(
    "users",
    [
        [3, 1, 2, 3],
        ["c", "a", "b", "c"],
        [(1, "a"), (0, "b"), (2, "c"), (1, "a")],
        [1.5, -2.0, 7.25, 1.5],
        [1, "a", (2, 3), 1],  # mixed, unorderable
        [pd.Timestamp("2020-01-01"), pd.Timestamp("2019-01-01"), pd.Timestamp("2021-01-01"), pd.Timestamp("2020-01-01")],
    ],
)
def test_ids_round_trip(users):
    items = ["i", "j", "k", "l"]
    df = frame(users, items, [1.0, 2.0, 3.0, 4.0])
    X = Interactions.from_frame(df)
    out = X.to_frame()
    assert out["user"].tolist() == df["user"].tolist()
    assert out["item"].tolist() == items
    assert out["rating"].tolist() == [1.0, 2.0, 3.0, 4.0]
    # index lookups agree with the stored internal indices
    np.testing.assert_array_equal(X.user_index(list(df["user"])), X.user_idx)
    # compared as values: pandas 2 keeps Timestamp ids as datetime64, pandas 3 as objects
    assert pd.Series(X.users[X.user_index(list(df["user"]))]).tolist() == out["user"].tolist()


def test_scalar_and_tuple_lookup():
    X = Interactions.from_frame(frame([(1, 2), "a", 3], ["x", "y", "x"], [1, 2, 3]))
    assert X.user_index((1, 2)) == X.users.tolist().index((1, 2))
    assert isinstance(X.user_index("a"), (int, np.integer))
    assert X.user_index([(1, 2), 3]).tolist() == [X.user_index((1, 2)), X.user_index(3)]
    assert X.item_index(np.array(["y", "x"], dtype=object)).tolist() == [1, 0]
    assert X.user_index([]).shape == (0,)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-5, 5) | st.text(max_size=3), st.integers(0, 8), st.floats(-10, 10)),
        min_size=1,
        max_size=40,
        unique_by=lambda t: (type(t[0]).__name__, t[0], t[1]),
    )
)
def test_property_round_trip(rows):
    users, items, ratings = zip(*rows)
    df = pd.DataFrame({"user": pd.Series(users, dtype=object), "item": items, "rating": ratings})
    X = Interactions.from_frame(df)
    out = X.to_frame()
    assert out["user"].tolist() == list(users)
    assert out["item"].tolist() == list(items)
    np.testing.assert_array_equal(out["rating"].to_numpy(), np.asarray(ratings, dtype=float))
    R = X.to_csr()
    assert R.nnz == len(rows)
    np.testing.assert_array_equal(R[X.user_idx, X.item_idx].A1, X.ratings)


def test_timestamps_kept_and_datetimes_converted():
    df = frame([1, 2], [1, 1], [1.0, 2.0], timestamp=[10, 20])
    X = Interactions.from_frame(df)
    assert X.timestamps.dtype == np.int64 and X.timestamps.tolist() == [10, 20]
    assert X.to_frame().columns.tolist() == ["user", "item", "rating", "timestamp"]
    dt = frame([1], [1], [1.0], when=pd.to_datetime(["1970-01-02"]))
    assert Interactions.from_frame(dt, timestamp="when").timestamps.tolist() == [86400]
    assert Interactions.from_frame(df, timestamp=None).timestamps is None


def test_custom_column_names_movielens_style():
    df = pd.DataFrame({"userId": [1, 2], "movieId": [5, 6], "stars": [4, 5], "timestamp": [1, 2]})
    X = Interactions.from_frame(df, user="userId", item="movieId", rating="stars")
    assert X.n_ratings == 2 and X.ratings.dtype == np.float64


# ---------------------------------------------------------------- boundary errors
def test_not_a_frame():
    with pytest.raises(TypeError, match="DataFrame.*got list"):
        Interactions.from_frame([[1, 2, 3]])


def test_missing_columns_say_which_exist():
    df = pd.DataFrame({"userId": [1], "movieId": [2], "rating": [3.0]})
    with pytest.raises(ValueError) as e:
        Interactions.from_frame(df)
    msg = str(e.value)
    assert "user='user'" in msg and "item='item'" in msg and "rating" not in msg.split(";")[0]
    assert "['userId', 'movieId', 'rating']" in msg


def test_missing_explicit_timestamp_column():
    with pytest.raises(ValueError, match="timestamp='when'"):
        Interactions.from_frame(frame([1], [1], [1.0]), timestamp="when")


def test_empty():
    with pytest.raises(ValueError, match="empty"):
        Interactions.from_frame(frame([], [], []))


@pytest.mark.parametrize("bad, what", [(np.nan, "missing \\(NaN\\)"), (np.inf, "infinite"), (-np.inf, "infinite")])
def test_bad_ratings_name_rows(bad, what):
    df = frame([1, 2, 3, 4], [1, 1, 1, 1], [1.0, bad, 2.0, bad])
    df.index = [10, 11, 12, 13]
    with pytest.raises(ValueError, match=f"2 {what} ratings .*rows \\[11, 13\\]"):
        Interactions.from_frame(df)


def test_non_numeric_rating_names_row_and_value():
    df = frame([1, 2, 3], [1, 1, 1], ["4", "five", 3.0])
    with pytest.raises(ValueError, match=r"1 non-numeric rating .*rows \[1\]: values \['five'\]"):
        Interactions.from_frame(df)


def test_numeric_strings_are_accepted():
    X = Interactions.from_frame(frame([1, 2], [1, 1], ["4", "3.5"]))
    assert X.ratings.tolist() == [4.0, 3.5]


def test_missing_ids_name_rows():
    with pytest.raises(ValueError, match=r"missing user id \(NaN/None\) .*rows \[1\]"):
        Interactions.from_frame(frame([1, None, 3], [1, 1, 1], [1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"2 missing item ids .*rows \[0, 2\]"):
        Interactions.from_frame(frame([1, 2, 3], [np.nan, 1, np.nan], [1.0, 2.0, 3.0]))


def test_bad_timestamps():
    with pytest.raises(ValueError, match=r"whole numbers; rows \[1\]"):
        Interactions.from_frame(frame([1, 2], [1, 1], [1.0, 1.0], timestamp=[1, 1.5]))
    with pytest.raises(ValueError, match=r"missing \(NaN\) timestamp .*rows \[0\]"):
        Interactions.from_frame(frame([1, 2], [1, 1], [1.0, 1.0], timestamp=[np.nan, 1]))


def test_rows_named_by_position_when_index_repeats():
    df = frame([1, 2], [1, 1], [np.nan, 1.0])
    df.index = [0, 0]
    with pytest.raises(ValueError, match=r"rows \[0\]"):
        Interactions.from_frame(df)
    df = frame([1, 2], [1, 1], [1.0, np.nan])
    df.index = [0, 0]
    with pytest.raises(ValueError, match=r"rows \[1\]"):
        Interactions.from_frame(df)


# ---------------------------------------------------------------- duplicates
@pytest.fixture
def dups():
    return frame([1, 1, 2, 1], [10, 10, 20, 10], [4.0, 2.0, 5.0, 3.0], timestamp=[5, 9, 1, 7])


def test_duplicates_raise_by_default(dups):
    with pytest.raises(ValueError, match=r"1 duplicate \(user, item\) pair: \(1, 10\) at rows \[0, 1, 3\]"):
        Interactions.from_frame(dups)


@pytest.mark.parametrize(
    "policy, rating, ts", [("first", 4.0, 5), ("last", 3.0, 7), ("mean", 3.0, 9)]
)
def test_duplicate_policies(dups, policy, rating, ts):
    X = Interactions.from_frame(dups, duplicates=policy)
    out = X.to_frame().set_index(["user", "item"])
    assert X.n_ratings == 2
    assert out.loc[(1, 10), "rating"] == rating
    assert out.loc[(1, 10), "timestamp"] == ts
    assert out.loc[(2, 20), "rating"] == 5.0


def test_duplicate_policy_matches_pandas():
    rng = np.random.default_rng(1)
    df = frame(rng.integers(0, 5, 200), rng.integers(0, 7, 200), rng.integers(1, 6, 200).astype(float))
    for policy in ("first", "last"):
        X = Interactions.from_frame(df, duplicates=policy)
        expected = df.drop_duplicates(["user", "item"], keep=policy).reset_index(drop=True)
        pd.testing.assert_frame_equal(X.to_frame(), expected, check_dtype=False)
    X = Interactions.from_frame(df, duplicates="mean")
    expected = df.groupby(["user", "item"])["rating"].mean()
    got = X.to_frame().set_index(["user", "item"])["rating"].sort_index()
    pd.testing.assert_series_equal(got, expected, check_dtype=False)


def test_bad_duplicate_policy():
    with pytest.raises(ValueError, match="duplicates must be one of .*got 'sum'"):
        Interactions.from_frame(frame([1], [1], [1.0]), duplicates="sum")


# ---------------------------------------------------------------- unknown ids
def test_unknown_ids(small):
    X = Interactions.from_frame(small)
    with pytest.raises(UnknownUserError, match=r"unknown users \['dan', 'eve'\]") as e:
        X.user_index(["ann", "dan", "eve", "dan"])
    assert e.value.ids == ["dan", "eve"]
    assert isinstance(e.value, KeyError) and isinstance(e.value, ValueError)
    assert isinstance(e.value, UnknownIdError)
    with pytest.raises(UnknownItemError, match=r"unknown item \['w'\]"):
        X.item_index("w")
    np.testing.assert_array_equal(X.user_index(["bob", "dan"], strict=False), [1, -1])
    assert X.item_index("w", strict=False) == -1
    # the message is not wrapped in quotes as KeyError's default would be
    assert str(UnknownUserError([1])).startswith("unknown user [1]")


# ---------------------------------------------------------------- from_matrix, as_interactions
def test_from_matrix_dense_and_sparse():
    R = np.array([[5.0, np.nan, 0.0], [np.nan, np.nan, np.nan], [1.0, 2.0, np.nan]])
    X = Interactions.from_matrix(R, users=["a", "b", "c"])
    assert X.shape == (3, 3) and X.n_ratings == 4  # the user without ratings is kept
    np.testing.assert_array_equal(X.to_csr().toarray(), np.nan_to_num(R))
    S = sp.csr_matrix(np.nan_to_num(R))
    Y = Interactions.from_matrix(S)
    assert Y.n_ratings == S.nnz == 3  # explicit zeros are not stored by csr_matrix(dense)
    with pytest.raises(ValueError, match="users must have 3 ids"):
        Interactions.from_matrix(R, users=["a"])


def test_as_interactions(small):
    X = as_interactions(small)
    assert isinstance(X, Interactions)
    assert as_interactions(X) is X
    with pytest.raises(TypeError, match="got ndarray"):
        as_interactions(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="keyword arguments"):
        as_interactions(X, duplicates="mean")
    Y = as_interactions(small.rename(columns={"user": "u"}), user="u")
    assert Y.n_users == 3


def test_lookup_with_typed_arrays():
    X = Interactions.from_frame(frame(["ann", "bob"], [10, 20], [1.0, 2.0]))
    assert X.user_index(np.array(["bob", "ann"])).tolist() == [1, 0]  # numpy str dtype
    assert X.user_index(pd.Series(["bob"], dtype="str")).tolist() == [1]  # pandas string dtype
    assert X.item_index(np.array([20, 10], dtype=np.int32)).tolist() == [1, 0]
    assert X.item_index(pd.Index([20.0])).tolist() == [1]
    with pytest.raises(UnknownItemError, match=r"unknown item \[30\]"):
        X.item_index(np.array([10, 30]))
    with pytest.raises(ValueError, match="1-d"):
        X.item_index(np.array([[10, 20]]))


# ------------------------------------------------------------ bad frames and ids
TOY = frame([1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5],
            [10, 20, 30, 10, 40, 20, 30, 50, 10, 50, 40, 60],
            [5., 3, 4, 4, 2, 1, 5, 3, 2, 4, 3, 5])


def test_duplicate_column_name_is_refused_by_name():
    df = pd.concat([TOY, TOY[["rating"]]], axis=1)
    with pytest.raises(ValueError, match="df has 2 columns named 'rating'"):
        Interactions.from_frame(df)
    from mathrec import ItemKNN

    with pytest.raises(ValueError, match="2 columns named 'rating'"):
        ItemKNN().fit(df)


def test_duplicate_unused_column_is_fine():
    df = pd.concat([TOY, TOY[["rating"]].rename(columns={"rating": "x"}),
                    TOY[["rating"]].rename(columns={"rating": "x"})], axis=1)
    assert Interactions.from_frame(df).n_ratings == 12


@pytest.mark.parametrize("query", [[1, 2], np.array([1, 2]), {1: 2}])
def test_unhashable_user_id_gets_a_clear_error(query):
    X = Interactions.from_frame(TOY)
    with pytest.raises(TypeError, match="a user id must be hashable.*got the (list|ndarray|dict)"):
        X.user_index([query])
    from mathrec import ALS, ItemKNN

    for model in (ItemKNN().fit(TOY), ALS(n_factors=2, random_state=0).fit(TOY)):
        with pytest.raises(TypeError, match="a user id must be hashable"):
            model.recommend([query])  # a list of ids is many users; an unhashable one is refused


def test_tuple_ids_stay_single_ids():
    df = frame([(1, "a"), (1, "a"), (2, "b")], ["x", "y", "x"], [1.0, 2.0, 3.0])
    X = Interactions.from_frame(df)
    assert X.user_index((2, "b")) == 1


@pytest.mark.parametrize("scale", [1e101, -1e200, 1e308])
def test_ratings_too_large_to_square_are_refused(scale):
    df = TOY.assign(rating=TOY.rating / 5 * scale)
    with pytest.raises(ValueError, match=r"ratings must have magnitude <= 1e\+100; 12 ratings in column 'rating'"):
        Interactions.from_frame(df)
    with pytest.raises(ValueError, match="magnitude <= 1e\\+100"):
        Interactions.from_matrix(np.array([[scale, np.nan], [1.0, 2.0]]))


def test_ratings_at_the_magnitude_limit_are_kept():
    df = TOY.assign(rating=TOY.rating * 1e99 / 5)
    X = Interactions.from_frame(df)
    assert np.abs(X.ratings).max() == 1e99
    assert np.isfinite((X.ratings ** 2).sum())


@pytest.mark.parametrize("name", ["BiasedMF", "ALS", "ImplicitALS", "OnlineMF", "PureSVD"])
def test_estimators_refuse_overflowing_ratings_at_the_boundary(name):
    import mathrec

    model = getattr(mathrec, name)(n_factors=2)
    with pytest.raises(ValueError, match="ratings must have magnitude"):
        model.fit(TOY.assign(rating=TOY.rating * 1e200))
