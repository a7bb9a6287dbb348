"""User-item interactions: validated once, stored sparse, in the caller's own ids.

Taught in chapter 2 (source section 2, 核心概念与联系): the user-item matrix.

Every estimator in :mod:`mathrec` accepts either a :class:`pandas.DataFrame`
with columns ``user, item, rating`` (and optionally ``timestamp``) or an
:class:`Interactions` object, and converts the former with
:func:`as_interactions`.  All input checks happen here, at the boundary, so the
models can trust their input.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mathrec._validation import (
    check_choice,
    check_hashable_id,
    check_unique_columns,
)

__all__ = [
    "Interactions",
    "UnknownIdError",
    "UnknownItemError",
    "UnknownUserError",
    "as_interactions",
]

_DUPLICATE_POLICIES = ("raise", "last", "first", "mean")
#: Largest accepted rating magnitude. Squared errors and sums of squares of
#: ratings beyond it overflow float64 (largest value about 1.8e308), which would
#: turn a fit into NaN; rescale such ratings before building interactions.
MAX_ABS_RATING = 1e100
_MAX_SHOWN = 10


def _show(values, limit=_MAX_SHOWN):
    """Format at most ``limit`` values for an error message."""
    values = list(values)
    shown = ", ".join(repr(_plain(v)) for v in values[:limit])
    if len(values) > limit:
        shown += f", ... ({len(values) - limit} more)"
    return "[" + shown + "]"


def _plain(v):
    """NumPy scalars as Python scalars, so messages read ``3`` not ``np.int64(3)``."""
    return v.item() if isinstance(v, np.generic) else v


class UnknownIdError(KeyError, ValueError):
    """An id that the interactions (the training data) do not contain.

    It is both a :class:`KeyError` (an id was looked up and not found) and a
    :class:`ValueError` (the argument has a bad value), so either ``except``
    clause catches it.  The attribute ``ids`` lists the unknown ids.
    """

    kind = "id"

    def __init__(self, ids, known=None):
        self.ids = list(ids)
        msg = f"unknown {self.kind}{'s' if len(self.ids) != 1 else ''} {_show(self.ids)}"
        if known is not None:
            msg += f": not among the {known} {self.kind}s of the training data"
        self.message = msg
        super().__init__(msg)

    def __str__(self):  # KeyError would otherwise quote the message
        return self.message


class UnknownUserError(UnknownIdError):
    """A user id that the interactions do not contain (see :class:`UnknownIdError`)."""

    kind = "user"


class UnknownItemError(UnknownIdError):
    """An item id that the interactions do not contain (see :class:`UnknownIdError`)."""

    kind = "item"


def _is_many(ids):
    """Whether ``ids`` holds several ids (list, array, Series, Index, range)."""
    return isinstance(
        ids,
        (
            list,
            np.ndarray,
            pd.Series,
            pd.Index,
            range,
            pd.api.extensions.ExtensionArray,
        ),
    )


def _codes_and_uniques(values, what):
    """Factorise ids into codes 0..n-1; uniques sorted when the ids are sortable."""
    try:
        codes, uniques = pd.factorize(values, sort=True)
    # mixed, unorderable ids (e.g. 1 and "a"): first appearance
    except TypeError:
        codes, uniques = pd.factorize(values, sort=False)
    if isinstance(uniques, pd.Index):
        uniques = uniques.to_numpy()
    uniques = np.asarray(uniques)
    if uniques.dtype.kind in "US":  # keep arbitrary-length strings as objects
        uniques = uniques.astype(object)
    if uniques.dtype == object:
        arr = np.empty(len(uniques), dtype=object)  # tuples must stay tuples
        arr[:] = list(uniques)
        uniques = arr
    return codes.astype(np.intp, copy=False), uniques


class Interactions:
    """Validated user-item interactions with id <-> index maps and a CSR matrix.

    Build one with :meth:`from_frame` (or :meth:`from_matrix`); the constructor
    takes already-clean arrays and is meant for internal use.

    Parameters
    ----------
    users : array_like
        The caller's user ids; position ``u`` holds the id of internal index ``u``.
        Must be unique.
    items : array_like
        The caller's item ids, likewise.
    user_idx, item_idx : array_like of int
        Internal user and item index of each rating.
    ratings : array_like of float
        One finite rating per interaction.
    timestamps : array_like of int, optional
        One timestamp per interaction (e.g. seconds since 1970), or None.

    Attributes
    ----------
    users, items : numpy.ndarray
        The caller's ids; position = internal index.
    n_users, n_items, n_ratings : int
        Sizes.
    user_idx, item_idx : numpy.ndarray of intp
        Internal indices, one per rating.
    ratings : numpy.ndarray of float64
        One rating per interaction.
    timestamps : numpy.ndarray of int64 or None
        One timestamp per interaction, if the input had them.

    Notes
    -----
    The interactions are the observed entries of the rating matrix
    $R \\in \\mathbb{R}^{m \\times n}$ with $m$ users and $n$ items:
    $r_{ui}$ is known for $(u, i) \\in \\mathcal{K}$, the set of observed pairs, and
    missing otherwise.  The *density* is $|\\mathcal{K}| / (mn)$.  Missing is not
    zero: :meth:`to_csr` stores only $\\mathcal{K}$, and a stored zero rating stays
    an explicit entry of the CSR matrix.

    Each $(u, i)$ pair occurs at most once (duplicates are resolved or
    rejected by :meth:`from_frame`), so ``to_csr`` never sums entries.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": ["ann", "bob", "ann"],
    ...                    "item": ["x", "y", "y"],
    ...                    "rating": [5.0, 3.0, 4.0]})
    >>> X = Interactions.from_frame(df)
    >>> X
    Interactions(n_users=2, n_items=2, n_ratings=3, density=0.75)
    >>> X.to_csr().toarray()
    array([[5., 4.],
           [0., 3.]])
    >>> X.user_index(["bob", "ann"])
    array([1, 0])
    >>> X.items[[1, 0]].tolist()
    ['y', 'x']
    """

    def __init__(
        self, users, items, user_idx, item_idx, ratings, timestamps=None
    ):
        self.users = np.asarray(users)
        self.items = np.asarray(items)
        self.user_idx = np.asarray(user_idx, dtype=np.intp)
        self.item_idx = np.asarray(item_idx, dtype=np.intp)
        self.ratings = np.asarray(ratings, dtype=np.float64)
        self.timestamps = (
            None
            if timestamps is None
            else np.asarray(timestamps, dtype=np.int64)
        )
        n = len(self.ratings)
        if not (len(self.user_idx) == len(self.item_idx) == n) or (
            self.timestamps is not None and len(self.timestamps) != n
        ):
            raise ValueError(
                "user_idx, item_idx, ratings (and timestamps) must have the "
                "same length; got "
                f"{len(self.user_idx)}, {len(self.item_idx)}, {n}"
                + (
                    ""
                    if self.timestamps is None
                    else f", {len(self.timestamps)}"
                )
            )
        if n and (
            self.user_idx.min() < 0 or self.user_idx.max() >= len(self.users)
        ):
            raise ValueError(
                f"user_idx must lie in [0, {len(self.users)}), the number of "
                f"users"
            )
        if n and (
            self.item_idx.min() < 0 or self.item_idx.max() >= len(self.items)
        ):
            raise ValueError(
                f"item_idx must lie in [0, {len(self.items)}), the number of "
                f"items"
            )
        self._user_lookup = None
        self._item_lookup = None

    # ------------------------------------------------------------------ sizes
    @property
    def n_users(self) -> int:
        """Number of distinct users."""
        return int(len(self.users))

    @property
    def n_items(self) -> int:
        """Number of distinct items."""
        return int(len(self.items))

    @property
    def n_ratings(self) -> int:
        """Number of interactions (observed user-item pairs)."""
        return int(len(self.ratings))

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_users, n_items)``, the shape of :meth:`to_csr`."""
        return (self.n_users, self.n_items)

    @property
    def density(self) -> float:
        """Fraction of the user-item matrix that is observed, $|\\mathcal{K}| / (mn)$."""
        cells = self.n_users * self.n_items
        return self.n_ratings / cells if cells else 0.0

    def __len__(self) -> int:
        return self.n_ratings

    def __repr__(self) -> str:
        return (
            f"Interactions(n_users={self.n_users}, n_items={self.n_items}, "
            f"n_ratings={self.n_ratings}, density={self.density:.4g})"
        )

    def user_counts(self) -> np.ndarray:
        """Number of ratings of each user (by internal index)."""
        return np.bincount(self.user_idx, minlength=self.n_users)

    def item_counts(self) -> np.ndarray:
        """Number of ratings of each item (by internal index): its popularity."""
        return np.bincount(self.item_idx, minlength=self.n_items)

    # ------------------------------------------------------------ construction
    @classmethod
    def from_frame(
        cls,
        df,
        *,
        user="user",
        item="item",
        rating="rating",
        timestamp="timestamp",
        duplicates="raise",
    ) -> Interactions:
        """Validate a DataFrame of interactions and build the container.

        Parameters
        ----------
        df : pandas.DataFrame
            One row per interaction.
        user, item, rating : str
            Column names of the user id, item id and rating.  Ids may be of any
            hashable type (ints, strings, tuples, ...); they come back unchanged.
        timestamp : str or None, default "timestamp"
            Column of timestamps.  Optional: with the default name the column is
            used when present and ignored when absent; a non-default name must
            exist; None ignores timestamps.  Datetime columns are converted to
            whole seconds since 1970-01-01 UTC.
        duplicates : {"raise", "last", "first", "mean"}, default "raise"
            What to do when a (user, item) pair occurs more than once.
            ``"raise"`` rejects it; ``"last"`` / ``"first"`` keep the last /
            first occurrence in row order (with its timestamp); ``"mean"``
            averages the ratings and keeps the latest timestamp.

        Returns
        -------
        Interactions

        Raises
        ------
        TypeError
            If ``df`` is not a DataFrame.
        ValueError
            If ``df`` is empty; a column is missing (the message lists the
            columns that exist) or its name occurs twice; a user or item id is
            missing (NaN/None); a rating is NaN, infinite, not a number or
            larger in magnitude than ``MAX_ABS_RATING`` (``1e100``, whose
            square already nears float64's limit); a timestamp is missing or
            not a whole number; or a (user, item) pair is duplicated and
            ``duplicates="raise"``.  The message names the offending rows
            (index labels) and values.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"user": [1, 1, 2], "item": [10, 10, 20],
        ...                    "rating": [4.0, 2.0, 5.0]})
        >>> Interactions.from_frame(df)
        Traceback (most recent call last):
        ...
        ValueError: 1 duplicate (user, item) pair: (1, 10) at rows [0, 1];
        pass duplicates='last', 'first' or 'mean' to resolve duplicates
        >>> Interactions.from_frame(df, duplicates="mean").to_frame()
           user  item  rating
        0     1    10     3.0
        1     2    20     5.0
        """
        if not isinstance(df, pd.DataFrame):
            raise TypeError(
                f"df must be a pandas DataFrame with columns user, item, "
                f"rating; got {type(df).__name__}"
            )
        check_choice(duplicates, "duplicates", _DUPLICATE_POLICIES)
        for arg, name in (("user", user), ("item", item), ("rating", rating)):
            if not isinstance(name, Hashable) or name is None:
                raise TypeError(f"{arg} must be a column name; got {name!r}")

        columns = list(df.columns)
        wanted = {"user": user, "item": item, "rating": rating}
        missing = [
            f"{arg}={name!r}"
            for arg, name in wanted.items()
            if name not in df.columns
        ]
        if (
            timestamp is not None
            and timestamp != "timestamp"
            and timestamp not in df.columns
        ):
            missing.append(f"timestamp={timestamp!r}")
        if missing:
            raise ValueError(
                f"missing column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}; "
                f"the frame has columns {columns!r}. Name them with the user=, "
                f"item=, "
                "rating= (and timestamp=) arguments."
            )
        use_ts = timestamp is not None and timestamp in df.columns
        check_unique_columns(
            df, [user, item, rating] + ([timestamp] if use_ts else []), "df"
        )
        if len(set(wanted.values())) < 3:
            raise ValueError(
                f"user, item and rating must name different columns; got "
                f"{wanted}"
            )
        if len(df) == 0:
            raise ValueError(
                "df is empty: there are no interactions to learn from"
            )

        # name rows by their index label when labels identify them, else by
        # position
        labels = df.index if df.index.is_unique else pd.RangeIndex(len(df))
        for arg, name in (("user", user), ("item", item)):
            bad = pd.isna(df[name]).to_numpy()
            if bad.any():
                raise ValueError(
                    f"{bad.sum()} missing {arg} "
                    f"id{'s' if bad.sum() > 1 else ''} "
                    f"(NaN/None) in column {name!r} at rows "
                    f"{_show(labels[bad])}"
                )

        ratings = _validate_numbers(
            df[rating], name=rating, what="rating", labels=labels
        )
        _check_magnitude(ratings, name=rating, labels=labels)
        timestamps = None
        if use_ts:
            timestamps = _validate_timestamps(
                df[timestamp], name=timestamp, labels=labels
            )

        user_codes, users = _codes_and_uniques(df[user], "user")
        item_codes, items = _codes_and_uniques(df[item], "item")

        # duplicate (user, item) pairs
        key = user_codes.astype(np.int64) * len(items) + item_codes
        sorted_key = np.sort(key)
        if (sorted_key[1:] == sorted_key[:-1]).any():
            keep, ratings, timestamps = _resolve_duplicates(
                key,
                ratings,
                timestamps,
                duplicates,
                users,
                items,
                user_codes,
                item_codes,
                labels,
            )
            user_codes, item_codes = user_codes[keep], item_codes[keep]
            # a user or item can no longer vanish: every pair keeps one row
        return cls(users, items, user_codes, item_codes, ratings, timestamps)

    @classmethod
    def from_matrix(cls, R, *, users=None, items=None) -> Interactions:
        """Build interactions from a rating matrix.

        Parameters
        ----------
        R : array_like or scipy.sparse matrix, shape (n_users, n_items)
            Dense: NaN marks a missing rating (every other value, zero included,
            is a rating).  Sparse: the stored entries are the ratings.
        users, items : array_like, optional
            Ids of the rows and columns; default ``0..n-1``.

        Returns
        -------
        Interactions
            Users and items keep their row/column order, even those without a
            rating.

        Examples
        --------
        >>> import numpy as np
        >>> R = np.array([[5, np.nan], [np.nan, 1]])
        >>> Interactions.from_matrix(R, users=["a", "b"]).to_frame()
          user  item  rating
        0    a     0     5.0
        1    b     1     1.0
        """
        if sp.issparse(R):
            coo = sp.coo_matrix(R)
            coo.sum_duplicates()
            shape = coo.shape
            u, i, r = coo.row, coo.col, coo.data.astype(np.float64)
        else:
            A = np.asarray(R, dtype=np.float64)
            if A.ndim != 2:
                raise ValueError(
                    f"R must be 2-dimensional; got shape {A.shape}"
                )
            shape = A.shape
            u, i = np.nonzero(~np.isnan(A))
            r = A[u, i]
        if not np.isfinite(r).all():
            raise ValueError("R contains infinite ratings")
        _check_magnitude(r, name="R", labels=None)
        users = np.arange(shape[0]) if users is None else np.asarray(users)
        items = np.arange(shape[1]) if items is None else np.asarray(items)
        for arg, ids, n in (
            ("users", users, shape[0]),
            ("items", items, shape[1]),
        ):
            if len(ids) != n:
                raise ValueError(
                    f"{arg} must have {n} ids (the matrix has shape {shape}); "
                    f"got {len(ids)}"
                )
            if len(pd.unique(pd.Series(ids))) != n:
                raise ValueError(f"{arg} must be unique")
        order = np.lexsort((i, u))
        return cls(users, items, u[order], i[order], r[order])

    # ------------------------------------------------------------- conversion
    def to_csr(self) -> sp.csr_matrix:
        """The user-item matrix as CSR, shape ``(n_users, n_items)``, float64.

        Only observed pairs are stored (a zero rating is an explicit entry);
        indices are sorted.  A new matrix is built on every call.
        """
        R = sp.csr_matrix(
            (self.ratings, (self.user_idx, self.item_idx)),
            shape=self.shape,
            dtype=np.float64,
        )
        R.sort_indices()
        return R

    def to_frame(self) -> pd.DataFrame:
        """The interactions as a DataFrame ``user, item, rating[, timestamp]`` in the caller's ids."""
        data = {
            "user": self.users[self.user_idx],
            "item": self.items[self.item_idx],
            "rating": self.ratings,
        }
        if self.timestamps is not None:
            data["timestamp"] = self.timestamps
        return pd.DataFrame(data)

    # ---------------------------------------------------------------- lookups
    def _lookup(self, kind):
        attr = f"_{kind}_lookup"
        if getattr(self, attr) is None:
            ids = self.users if kind == "user" else self.items
            setattr(
                self,
                attr,
                pd.Index(
                    ids, dtype=ids.dtype if ids.dtype != object else object
                ),
            )
        return getattr(self, attr)

    def _index(self, ids, kind, strict):
        many = _is_many(ids)
        index = self._lookup(kind)
        if many and not isinstance(ids, (list, range)):
            q = np.asarray(ids)  # arrays keep their dtype: fast lookups
            if q.ndim != 1:
                raise ValueError(
                    f"{kind} ids must be one id or a 1-d list/array of ids; "
                    f"got shape {q.shape}"
                )
        else:  # an object array, so that tuples stay single ids
            query = list(ids) if many else [ids]
            q = np.empty(len(query), dtype=object)
            q[:] = query
        try:
            pos = index.get_indexer(q) if len(q) else np.empty(0, dtype=np.intp)
        except TypeError:  # an unhashable "id" (a list, an array) among the ids
            for one in q:
                check_hashable_id(one, f"a {kind} id")
            raise
        pos = np.asarray(pos, dtype=np.intp)
        if strict and (pos < 0).any():
            err = UnknownUserError if kind == "user" else UnknownItemError
            unknown = list(dict.fromkeys(q[pos < 0].tolist()))
            raise err(unknown, known=len(index))
        return pos if many else pos[0]

    def user_index(self, ids, *, strict=True):
        """Internal indices of user ids.

        Parameters
        ----------
        ids : hashable or list/array of hashables
            One id (returns one integer) or several (a list, array, Series or
            Index; returns an array).  A tuple is taken as one id.
        strict : bool, default True
            If True, unknown ids raise :class:`UnknownUserError`; if False they
            map to -1.

        Returns
        -------
        int or numpy.ndarray of intp

        Raises
        ------
        UnknownUserError
            If ``strict`` and some ids are unknown; the message names them.
        """
        return self._index(ids, "user", strict)

    def item_index(self, ids, *, strict=True):
        """Internal indices of item ids (see :meth:`user_index`); raises :class:`UnknownItemError`."""
        return self._index(ids, "item", strict)


def _validate_numbers(col, *, name, what, labels):
    """Ratings as float64, with errors naming rows with NaN/inf/non-numeric values."""
    values = col.to_numpy()
    if col.dtype == bool:
        return values.astype(np.float64)
    numeric = pd.to_numeric(col, errors="coerce")
    num = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
    originally_missing = pd.isna(col).to_numpy()
    non_numeric = np.isnan(num) & ~originally_missing
    if non_numeric.any():
        raise ValueError(
            f"{non_numeric.sum()} non-numeric "
            f"{what}{'s' if non_numeric.sum() > 1 else ''} in column "
            f"{name!r} at rows {_show(labels[non_numeric])}: values "
            f"{_show(values[non_numeric])}"
        )
    nan = np.isnan(num)
    if nan.any():
        raise ValueError(
            f"{nan.sum()} missing (NaN) {what}{'s' if nan.sum() > 1 else ''} "
            f"in column {name!r} "
            f"at rows {_show(labels[nan])}; drop or fill them before building "
            f"interactions"
        )
    inf = np.isinf(num)
    if inf.any():
        raise ValueError(
            f"{inf.sum()} infinite {what}{'s' if inf.sum() > 1 else ''} in "
            f"column {name!r} "
            f"at rows {_show(labels[inf])}: values {_show(num[inf])}"
        )
    return num


def _check_magnitude(ratings, *, name, labels):
    """Refuse ratings whose magnitude exceeds ``MAX_ABS_RATING``."""
    big = np.abs(ratings) > MAX_ABS_RATING
    if big.any():
        where = (
            f"in column {name!r} at rows {_show(labels[big])}"
            if labels is not None
            else f"in {name}"
        )
        raise ValueError(
            f"ratings must have magnitude <= {MAX_ABS_RATING:g}; {big.sum()} "
            f"rating"
            f"{'s' if big.sum() > 1 else ''} {where} hold "
            f"{_show(ratings[big])}: their squares "
            "overflow float64 during fitting; rescale the ratings (e.g. divide "
            "them by a constant)"
        )


def _validate_timestamps(col, *, name, labels):
    """Timestamps as int64 (datetimes -> whole seconds since the epoch)."""
    if pd.api.types.is_datetime64_any_dtype(col):
        bad = pd.isna(col).to_numpy()
        if bad.any():
            raise ValueError(
                f"missing timestamps (NaT) in column {name!r} at rows "
                f"{_show(labels[bad])}"
            )
        dt = (
            col.dt.tz_convert("UTC").dt.tz_localize(None)
            if col.dt.tz is not None
            else col
        )
        return dt.to_numpy().astype("datetime64[s]").astype(np.int64)
    num = _validate_numbers(col, name=name, what="timestamp", labels=labels)
    frac = num != np.round(num)
    if frac.any():
        raise ValueError(
            f"timestamps in column {name!r} must be whole numbers; rows "
            f"{_show(labels[frac])} "
            f"hold {_show(num[frac])}"
        )
    return num.astype(np.int64)


def _resolve_duplicates(
    key, ratings, timestamps, policy, users, items, ucodes, icodes, labels
):
    """Apply the duplicate policy; return kept row positions, ratings, timestamps."""
    s = pd.Series(key)
    dup_mask = s.duplicated(keep=False).to_numpy()
    if policy == "raise":
        dup_keys = pd.unique(key[dup_mask])
        parts = []
        for k in dup_keys[:5]:
            rows = np.flatnonzero(key == k)
            pair = (
                _plain(users[ucodes[rows[0]]]),
                _plain(items[icodes[rows[0]]]),
            )
            parts.append(f"{pair!r} at rows {_show(labels[rows])}")
        more = (
            f" (and {len(dup_keys) - 5} more pairs)"
            if len(dup_keys) > 5
            else ""
        )
        n = len(dup_keys)
        raise ValueError(
            f"{n} duplicate (user, item) pair{'s' if n > 1 else ''}: "
            f"{'; '.join(parts)}{more}; "
            "pass duplicates='last', 'first' or 'mean' to resolve duplicates"
        )
    if policy in ("first", "last"):
        keep = np.flatnonzero(~s.duplicated(keep=policy).to_numpy())
        return (
            keep,
            ratings[keep],
            None if timestamps is None else timestamps[keep],
        )
    # mean: one row per pair, at the position of its first occurrence
    keep = np.flatnonzero(~s.duplicated(keep="first").to_numpy())
    g = pd.DataFrame({"k": key, "r": ratings})
    if timestamps is not None:
        g["t"] = timestamps
    agg = g.groupby("k", sort=False).agg(
        **{"r": ("r", "mean")},
        **({"t": ("t", "max")} if timestamps is not None else {}),
    )
    agg = agg.reindex(key[keep])
    return (
        keep,
        agg["r"].to_numpy(np.float64),
        None if timestamps is None else agg["t"].to_numpy(np.int64),
    )


def as_interactions(ratings, **kwargs) -> Interactions:
    """Return ``ratings`` as :class:`Interactions`.

    Parameters
    ----------
    ratings : Interactions or pandas.DataFrame
        An :class:`Interactions` is returned unchanged; a DataFrame goes
        through :meth:`Interactions.from_frame`.
    **kwargs
        Passed to :meth:`Interactions.from_frame` (column names,
        ``duplicates``); not allowed with an :class:`Interactions`.

    Returns
    -------
    Interactions

    Raises
    ------
    TypeError
        If ``ratings`` is neither, or keyword arguments come with an
        :class:`Interactions`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": [1], "item": [2], "rating": [3.0]})
    >>> X = as_interactions(df)
    >>> as_interactions(X) is X
    True
    """
    if isinstance(ratings, Interactions):
        if kwargs:
            raise TypeError(
                f"keyword arguments {sorted(kwargs)} apply only to a "
                f"DataFrame, not to Interactions"
            )
        return ratings
    if isinstance(ratings, pd.DataFrame):
        return Interactions.from_frame(ratings, **kwargs)
    raise TypeError(
        "ratings must be a pandas DataFrame with columns user, item, rating[, "
        "timestamp] "
        f"or a mathrec.data.Interactions; got {type(ratings).__name__}"
    )
