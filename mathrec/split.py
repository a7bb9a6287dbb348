"""Train/test splits that cannot leak, with cold users and items reported.

Taught in chapter 2 (source section 2, 核心概念与联系) and used from chapter 3 on
to evaluate every model.

Every function takes a DataFrame of interactions (columns ``user``, ``item``
and, for the time-based splits, ``timestamp``; other columns ride along) or an
:class:`mathrec.data.Interactions`, and returns a :class:`Split` that unpacks as
``train, test``::

    train, test = random_split(ratings, test_size=0.2, random_state=0)

The guarantees, checked by property tests:

* a test row is never a train row, and no (user, item) pair is in both (a
  repeated pair in the input is an error, because its copies could land on
  both sides);
* users and items that occur in test but not in train (*cold*) are listed in
  the split's ``cold_users`` and ``cold_items`` and handled by the explicit
  ``cold`` policy: ``"drop"`` (default) removes their test rows, ``"keep"``
  keeps them, ``"raise"`` raises;
* with ``cold="keep"`` every input row is in train or test, and the split is a
  partition of the rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._validation import (
    check_choice,
    check_positive_int,
    check_probability,
    check_real,
    check_unique_columns,
)
from .data import Interactions

__all__ = [
    "Split",
    "kfold",
    "leave_last_out",
    "per_user_split",
    "random_split",
    "temporal_split",
]

_COLD_POLICIES = ("drop", "keep", "raise")


class Split:
    """A train/test split and what it did with cold users and items.

    Unpacks as ``train, test``.

    Attributes
    ----------
    train, test : pandas.DataFrame or Interactions
        The two parts, of the same type as the input (a test part left with no
        rows, e.g. when every test row was cold and dropped, is an empty
        frame or an ``Interactions`` with no ratings).  DataFrames keep the
        input's index labels, so every row can be traced back.
    cold_users, cold_items : numpy.ndarray
        Users / items that occur in the test rows (before any dropping) but not
        in train.
    n_cold_rows : int
        Test rows whose user or item is cold.
    n_dropped : int
        Test rows removed by ``cold="drop"`` (0 with ``"keep"``).
    cold : str
        The policy used.
    """

    def __init__(
        self, train, test, cold_users, cold_items, n_cold_rows, n_dropped, cold
    ):
        self.train = train
        self.test = test
        self.cold_users = cold_users
        self.cold_items = cold_items
        self.n_cold_rows = int(n_cold_rows)
        self.n_dropped = int(n_dropped)
        self.cold = cold

    def __iter__(self):
        yield self.train
        yield self.test

    def __len__(self):
        return 2

    def __getitem__(self, k):
        return (self.train, self.test)[k]

    def __repr__(self):
        return (
            f"Split(n_train={len(self.train)}, n_test={len(self.test)}, "
            f"cold_users={len(self.cold_users)}, "
            f"cold_items={len(self.cold_items)}, "
            f"n_cold_rows={self.n_cold_rows}, n_dropped={self.n_dropped}, "
            f"cold={self.cold!r})"
        )


# ---------------------------------------------------------------------------
# helpers
def _as_frame(ratings, user, item, timestamp=None):
    """Validate the input once; return (frame, was_interactions)."""
    if isinstance(ratings, Interactions):
        df = ratings.to_frame()
        if timestamp is not None and "timestamp" not in df:
            raise ValueError(
                "this split needs timestamps, but the Interactions have none"
            )
        return df, True
    if not isinstance(ratings, pd.DataFrame):
        raise TypeError(
            f"ratings must be a pandas DataFrame or mathrec.data.Interactions; "
            f"got {type(ratings).__name__}"
        )
    needed = [c for c in (user, item, timestamp) if c is not None]
    missing = [c for c in needed if c not in ratings.columns]
    if missing:
        raise ValueError(
            f"missing column(s) {missing}; the frame has columns "
            f"{list(ratings.columns)}"
        )
    check_unique_columns(ratings, needed, "ratings")
    if len(ratings) == 0:
        raise ValueError("ratings is empty: there is nothing to split")
    if not ratings.index.is_unique:
        raise ValueError(
            "the index of ratings has repeated labels; call "
            "reset_index(drop=True) first"
        )
    for c in needed:
        bad = pd.isna(ratings[c]).to_numpy()
        if bad.any():
            raise ValueError(
                f"column {c!r} has missing values at rows "
                f"{ratings.index[bad][:10].tolist()}"
            )
    dup = ratings.duplicated([user, item], keep=False).to_numpy()
    if dup.any():
        raise ValueError(
            f"{int(dup.sum())} rows repeat a (user, item) pair (rows "
            f"{ratings.index[dup][:10].tolist()}); "
            "a split could put copies of one pair on both sides. Resolve them "
            "first, e.g. with "
            "Interactions.from_frame(..., duplicates='last')"
        )
    return ratings, False


def _check_cold(cold):
    check_choice(cold, "cold", _COLD_POLICIES)


def _check_fraction(name, value):
    return check_probability(value, name, open_low=True, open_high=True)


def _rng(random_state):
    return (
        random_state
        if isinstance(random_state, np.random.Generator)
        else np.random.default_rng(random_state)
    )


def _finish(df, test_mask, user, item, cold, was_interactions):
    """Cut ``df`` by ``test_mask``; report and handle cold users/items."""
    train = df[~test_mask]
    test = df[test_mask]
    train_users = pd.unique(train[user])
    train_items = pd.unique(train[item])
    cold_u_rows = ~test[user].isin(train_users).to_numpy()
    cold_i_rows = ~test[item].isin(train_items).to_numpy()
    cold_users = np.asarray(pd.unique(test[user][cold_u_rows]))
    cold_items = np.asarray(pd.unique(test[item][cold_i_rows]))
    cold_rows = cold_u_rows | cold_i_rows
    n_dropped = 0
    if cold_rows.any():
        if cold == "raise":
            raise ValueError(
                f"{int(cold_rows.sum())} test rows have a user or item absent "
                f"from train "
                f"(cold users {cold_users[:10].tolist()}, cold items "
                f"{cold_items[:10].tolist()}); "
                "pass cold='drop' or cold='keep'"
            )
        if cold == "drop":
            test = test[~cold_rows]
            n_dropped = int(cold_rows.sum())
    if was_interactions:
        train = Interactions.from_frame(train)
        test = (
            Interactions.from_frame(test)
            if len(test)
            else _empty_interactions(test, user, item)
        )
    return Split(
        train,
        test,
        cold_users,
        cold_items,
        int(cold_rows.sum()),
        n_dropped,
        cold,
    )


def _empty_interactions(frame, user, item):
    """An :class:`Interactions` with no rating (every test row was cold and dropped)."""
    ts = np.empty(0, dtype=np.int64) if "timestamp" in frame else None
    return Interactions(
        frame[user].to_numpy()[:0],
        frame[item].to_numpy()[:0],
        np.empty(0, np.intp),
        np.empty(0, np.intp),
        np.empty(0),
        ts,
    )


# ---------------------------------------------------------------------------
# splits
def random_split(
    ratings,
    test_size=0.2,
    *,
    random_state=None,
    cold="drop",
    user="user",
    item="item",
):
    """Hold out a uniformly random fraction of the rows.

    Parameters
    ----------
    ratings : pandas.DataFrame or Interactions
        One row per (user, item) pair.
    test_size : float in (0, 1), default 0.2
        Fraction of rows in test: ``round(test_size * n)`` rows exactly.
    random_state : int, numpy.random.Generator or None
    cold : {"drop", "keep", "raise"}, default "drop"
        What to do with test rows whose user or item is not in train.
    user, item : str
        Column names.

    Returns
    -------
    Split
        Unpacks as ``train, test``; reports ``cold_users``, ``cold_items``.

    Notes
    -----
    Each row goes to test with the same probability, independently of its
    user, item or time.  Users with few ratings may lose all of them to test
    (they become cold users); :func:`per_user_split` avoids that.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": [1, 1, 1, 2, 2, 3], "item": list("abcabd"),
    ...                    "rating": [5, 3, 4, 4, 2, 1]})
    >>> s = random_split(df, test_size=0.5, random_state=0, cold="keep")
    >>> train, test = s
    >>> rows = sorted(set(train.index) | set(test.index))
    >>> len(train), len(test), rows == list(range(6))
    (3, 3, True)
    """
    df, was = _as_frame(ratings, user, item)
    _check_cold(cold)
    test_size = _check_fraction("test_size", test_size)
    n = len(df)
    n_test = int(round(test_size * n))
    mask = np.zeros(n, dtype=bool)
    mask[_rng(random_state).permutation(n)[:n_test]] = True
    return _finish(df, mask, user, item, cold, was)


def per_user_split(
    ratings,
    test_size=0.2,
    *,
    min_train=1,
    random_state=None,
    cold="drop",
    user="user",
    item="item",
):
    """Hold out a random part of each user's ratings; each user keeps ``min_train`` in train.

    Parameters
    ----------
    ratings : pandas.DataFrame or Interactions
    test_size : float in (0, 1) or int >= 1, default 0.2
        A fraction of each user's ratings (rounded down), or a number of
        ratings per user.
    min_train : int >= 1, default 1
        Ratings each user keeps in train at least; users with at most
        ``min_train`` ratings keep them all.
    random_state, cold, user, item
        As in :func:`random_split`.

    Returns
    -------
    Split
        No user is cold; items can be.

    Notes
    -----
    User $u$ with $n_u$ ratings gives $\\min(t_u, n_u - m)^+$ random ratings to
    test, where $t_u = \\lfloor \\text{test\\_size} \\cdot n_u \\rfloor$ (or
    ``test_size`` itself when it is an int) and $m$ is ``min_train``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": [1, 1, 1, 1, 2], "item": list("abcda"),
    ...                    "rating": 1.0})
    >>> s = per_user_split(df, test_size=0.5, random_state=0, cold="keep")
    >>> sorted(s.train["user"].unique().tolist()), s.test["user"].tolist()
    ([1, 2], [1, 1])

    Items b, c and d were rated only by user 1, so the test items are cold;
    the default ``cold="drop"`` would remove those rows and say so:

    >>> s.cold_items.tolist(), per_user_split(df, 0.5, random_state=0).n_dropped
    (['c', 'd'], 2)
    """
    df, was = _as_frame(ratings, user, item)
    _check_cold(cold)
    if isinstance(test_size, (int, np.integer)) and not isinstance(
        test_size, bool
    ):
        if test_size < 1:
            raise ValueError(
                f"test_size must be a fraction in (0, 1) or an int >= 1, got "
                f"{test_size!r}"
            )
        per_user = None
        count = int(test_size)
    else:
        per_user = _check_fraction("test_size", test_size)
    check_positive_int(min_train, "min_train")
    rng = _rng(random_state)
    n = len(df)
    codes = pd.factorize(df[user])[0]
    n_u = np.bincount(codes)
    want = (
        np.floor(per_user * n_u).astype(np.int64)
        if per_user is not None
        else np.full(len(n_u), count)
    )
    n_test_u = np.clip(np.minimum(want, n_u - min_train), 0, None)
    # a random rank of each row within its user: shuffle, then stable-sort by
    # user
    order = rng.permutation(n)
    order = order[np.argsort(codes[order], kind="stable")]
    starts = np.concatenate([[0], np.cumsum(n_u)[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, n_u)
    mask = rank < n_test_u[codes]
    return _finish(df, mask, user, item, cold, was)


def leave_last_out(
    ratings,
    n=1,
    *,
    cold="drop",
    user="user",
    item="item",
    timestamp="timestamp",
):
    """Hold out each user's ``n`` latest ratings (by timestamp).

    Parameters
    ----------
    ratings : pandas.DataFrame or Interactions
        Must have timestamps.
    n : int >= 1, default 1
        Ratings per user in test.  Users with at most ``n`` ratings keep one in
        train and give the rest (so every user stays in train).
    cold, user, item, timestamp
        As in :func:`random_split`; ``timestamp`` names the time column.

    Returns
    -------
    Split
        For each user, every test rating is at least as late as every train
        rating; ties in time are broken by row order (later rows count as later).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": [1, 1, 1, 2, 2], "item": list("abcab"),
    ...                    "rating": 1.0, "timestamp": [3, 1, 2, 5, 4]})
    >>> train, test = leave_last_out(df, cold="keep")
    >>> test[["user", "item"]].values.tolist()
    [[1, 'a'], [2, 'a']]
    """
    df, was = _as_frame(ratings, user, item, timestamp)
    _check_cold(cold)
    n = check_positive_int(n, "n")
    codes = pd.factorize(df[user])[0]
    t = _times(df[timestamp], timestamp)
    # sort by (user, time, row position); rank from the end within each user
    order = np.lexsort((np.arange(len(df)), t, codes))
    n_u = np.bincount(codes)
    ends = np.cumsum(n_u)
    pos_from_end = np.empty(len(df), dtype=np.int64)
    pos_from_end[order] = np.repeat(ends, n_u) - 1 - np.arange(len(df))
    n_test_u = np.minimum(n, n_u - 1)
    mask = pos_from_end < n_test_u[codes]
    return _finish(df, mask, user, item, cold, was)


def _times(col, name):
    """Timestamps as comparable numbers (datetimes as int64 nanoseconds, UTC)."""
    if pd.api.types.is_datetime64_any_dtype(col):
        if getattr(col.dt, "tz", None) is not None:
            col = col.dt.tz_convert("UTC").dt.tz_localize(None)
        return col.to_numpy().astype("datetime64[ns]").astype(np.int64)
    if not pd.api.types.is_numeric_dtype(col):
        raise ValueError(
            f"column {name!r} must hold numbers or datetimes; got dtype "
            f"{col.dtype}"
        )
    return col.to_numpy()


def temporal_split(
    ratings,
    test_size=0.2,
    *,
    cutoff=None,
    cold="drop",
    user="user",
    item="item",
    timestamp="timestamp",
):
    """Cut all ratings at one moment: earlier ones train, the rest test.

    Parameters
    ----------
    ratings : pandas.DataFrame or Interactions
        Must have timestamps.
    test_size : float in (0, 1), default 0.2
        Choose the cut so that about this fraction of rows is in test (the
        earliest time $t$ with at most that fraction at or after it, so ties
        stay together); ignored when ``cutoff`` is given.
    cutoff : number or datetime-like, optional
        Rows with ``timestamp >= cutoff`` go to test. A finite number for
        numeric timestamps (an :class:`~mathrec.data.Interactions` stores seconds since
        1970), a date or time for a datetime column; anything else raises.
    cold, user, item, timestamp
        As in :func:`random_split`.

    Returns
    -------
    Split
        Every train timestamp is earlier than every test timestamp: the model
        sees only the past, as it would in production.  New users and items
        are common in test, hence the cold report.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": [1, 1, 2, 2], "item": list("abab"),
    ...                    "rating": 1.0, "timestamp": [1, 2, 3, 4]})
    >>> s = temporal_split(df, cutoff=3, cold="keep")
    >>> s.test["timestamp"].tolist(), s.cold_users.tolist()
    ([3, 4], [2])
    """
    df, was = _as_frame(ratings, user, item, timestamp)
    _check_cold(cold)
    t = _times(df[timestamp], timestamp)
    if cutoff is None:
        test_size = _check_fraction("test_size", test_size)
        uniq, counts = np.unique(t, return_counts=True)
        at_or_after = np.cumsum(counts[::-1])[::-1]  # rows with time >= uniq[k]
        ok = np.flatnonzero(at_or_after <= test_size * len(t))
        if len(ok) == 0:
            raise ValueError(
                f"no cut leaves at most {test_size:.0%} of rows in test: the "
                f"latest time alone has "
                f"{at_or_after[-1]} of {len(t)} rows"
            )
        cut = uniq[ok[0]]
    else:
        if pd.api.types.is_datetime64_any_dtype(df[timestamp]):
            try:
                c = pd.Timestamp(cutoff)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"cutoff must be a date or time, like the timestamps in "
                    f"column {timestamp!r}; "
                    f"got {cutoff!r}"
                ) from exc
            if c is pd.NaT:
                raise ValueError(
                    f"cutoff must be a date or time; got {cutoff!r}"
                )
            if c.tz is not None:
                c = c.tz_convert("UTC").tz_localize(None)
            cut = np.datetime64(c, "ns").astype(np.int64)
        else:
            if isinstance(
                cutoff, (str, bytes, pd.Timestamp, np.datetime64)
            ) or hasattr(cutoff, "isoformat"):
                raise TypeError(
                    f"cutoff must be a number, like the timestamps in column "
                    f"{timestamp!r} "
                    f"(dtype {df[timestamp].dtype}); got {cutoff!r}. For "
                    f"timestamps in seconds "
                    f"since 1970, pass "
                    f"pd.Timestamp({str(cutoff)!r}).timestamp()"
                )
            cut = check_real(cutoff, "cutoff")
    mask = t >= cut
    if mask.all() or not mask.any():
        raise ValueError(
            f"cutoff {cutoff!r} puts {'all' if mask.all() else 'no'} rows in "
            f"test"
        )
    return _finish(df, mask, user, item, cold, was)


def kfold(
    ratings,
    n_splits=5,
    *,
    random_state=None,
    shuffle=True,
    cold="drop",
    user="user",
    item="item",
):
    """K-fold cross-validation over rows: each row is in exactly one test fold.

    Parameters
    ----------
    ratings : pandas.DataFrame or Interactions
    n_splits : int >= 2, default 5
    random_state : int, numpy.random.Generator or None
        Seeds the shuffle.
    shuffle : bool, default True
        If False, folds are consecutive blocks of rows.
    cold, user, item
        As in :func:`random_split` (with ``cold="drop"`` the dropped rows are
        in no test fold).

    Yields
    ------
    Split
        ``n_splits`` splits, each unpacking as ``train, test``.  Fold sizes
        differ by at most one row (before dropping cold rows).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": [1, 1, 2, 2, 3, 3], "item": list("ababab"),
    ...                    "rating": 1.0})
    >>> [len(test) for train, test in kfold(df, 3, random_state=0, cold="keep")]
    [2, 2, 2]
    """
    df, was = _as_frame(ratings, user, item)
    _check_cold(cold)
    n = len(df)
    n_splits = check_positive_int(n_splits, "n_splits", minimum=2, maximum=n)
    order = _rng(random_state).permutation(n) if shuffle else np.arange(n)
    fold = np.empty(n, dtype=np.int64)
    fold[order] = np.arange(n) * n_splits // n
    return (
        _finish(df, fold == k, user, item, cold, was) for k in range(n_splits)
    )
