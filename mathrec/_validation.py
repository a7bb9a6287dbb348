"""Shared argument checks: one message style for every function of mathrec.

Each checker returns the value in a canonical form (a ``float``, a list of
ids, ...) or raises an error whose message reads
``"<name> must be ...; got <value>"``, so a caller knows which argument was
wrong and what it held.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable

import numpy as np
import pandas as pd

__all__ = [
    "check_choice",
    "check_hashable_id",
    "check_id_list",
    "check_real",
    "check_unique_columns",
]

_CLOSED = ("both", "left", "right", "neither")


def check_real(value, name, *, low=None, high=None, closed="both", finite=True):
    """Return ``value`` as a ``float`` after checking its type and range.

    Parameters
    ----------
    value : object
        A real number (Python or NumPy); booleans and strings are refused.
    name : str
        The argument's name, used in the error message.
    low, high : float, optional
        Bounds of the accepted interval; None means unbounded on that side.
    closed : {"both", "left", "right", "neither"}, default "both"
        Which bounds belong to the interval.
    finite : bool, default True
        Refuse NaN and infinities. NaN is always refused when a bound is
        given (it compares false with everything).

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If it is NaN, infinite (with ``finite=True``) or outside the interval.

    Examples
    --------
    >>> check_real(0.5, "lam", low=0, high=1)
    0.5
    >>> check_real(float("nan"), "min_rating")
    Traceback (most recent call last):
    ...
    ValueError: min_rating must be a finite real number; got nan
    >>> check_real(0, "epsilon", low=0, closed="neither")
    Traceback (most recent call last):
    ...
    ValueError: epsilon must be a finite real number > 0; got 0
    """
    if closed not in _CLOSED:
        raise ValueError(f"closed must be one of {_CLOSED}; got {closed!r}")
    parts = []
    if low is not None:
        parts.append(f"{'>=' if closed in ('both', 'left') else '>'} {low:g}")
    if high is not None:
        parts.append(f"{'<=' if closed in ('both', 'right') else '<'} {high:g}")
    what = ("a finite real number" if finite else "a real number") + (
        " " + " and ".join(parts) if parts else "")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {what}; got {value!r}")
    x = float(value)
    shown = _plain(value)
    if math.isnan(x) or (finite and math.isinf(x)):
        raise ValueError(f"{name} must be {what}; got {shown!r}")
    if low is not None and (x < low or (x == low and closed in ("right", "neither"))):
        raise ValueError(f"{name} must be {what}; got {shown!r}")
    if high is not None and (x > high or (x == high and closed in ("left", "neither"))):
        raise ValueError(f"{name} must be {what}; got {shown!r}")
    return x


def check_choice(value, name, choices):
    """Return ``value`` after checking that it is one of ``choices``.

    Examples
    --------
    >>> check_choice("drop", "cold", ("drop", "keep"))
    'drop'
    >>> check_choice("Drop", "cold", ("drop", "keep"))
    Traceback (most recent call last):
    ...
    ValueError: cold must be one of ('drop', 'keep'); got 'Drop'
    """
    try:
        ok = value in choices
    except TypeError:  # an unhashable value looked up in a set
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {tuple(choices)!r}; got {value!r}")
    return value


def check_hashable_id(value, name):
    """Return ``value`` after checking that it can be one id (it is hashable).

    Ids may be of any hashable type (ints, strings, tuples, ...); a list or an
    array is several ids, never one.

    Examples
    --------
    >>> check_hashable_id(("a", 1), "user")
    ('a', 1)
    >>> check_hashable_id([1, 2], "user")
    Traceback (most recent call last):
    ...
    TypeError: user must be hashable, one id such as an int, a str or a tuple; got the list [1, 2]
    """
    if isinstance(value, (np.ndarray, pd.Series, pd.Index)) or not isinstance(value, Hashable):
        raise TypeError(
            f"{name} must be hashable, one id such as an int, a str or a tuple; got the "
            f"{type(value).__name__} {_short(value)}"
        )
    try:
        hash(value)
    except TypeError:  # a tuple holding a list
        raise TypeError(
            f"{name} must be hashable, one id such as an int, a str or a tuple; got the "
            f"{type(value).__name__} {_short(value)}"
        ) from None
    return value


def check_id_list(ids, name, *, ordered=True):
    """Return ``ids`` as a list of ids, refusing a string or a scalar in its place.

    A string is one id, not a list of one-character ids, so passing one where a
    list is expected is an error rather than a silent wrong answer.

    Parameters
    ----------
    ids : list, tuple, numpy.ndarray, pandas.Series, ...
        The ids.
    name : str
        The argument's name, used in the error message.
    ordered : bool, default True
        The ids form a ranking: a set (which has no order) is refused.
        With False, sets are accepted too.

    Examples
    --------
    >>> check_id_list(("a", "b"), "recommended")
    ['a', 'b']
    >>> check_id_list({"a"}, "relevant", ordered=False)
    ['a']
    >>> check_id_list("abc", "recommended")
    Traceback (most recent call last):
    ...
    TypeError: recommended must be a list or array of ids, not a single str; got 'abc' (wrap one id in a list: ['abc'])
    """
    if isinstance(ids, (str, bytes)):
        raise TypeError(
            f"{name} must be a list or array of ids, not a single {type(ids).__name__}; "
            f"got {ids!r} (wrap one id in a list: [{ids!r}])"
        )
    if isinstance(ids, np.ndarray) and ids.ndim != 1:
        raise ValueError(f"{name} must be a 1-D list or array of ids; got an array of shape {ids.shape}")
    if (ordered and isinstance(ids, (dict, set, frozenset))) or not hasattr(ids, "__iter__"):
        what = "a list or array of ids" if ordered else "a collection of ids"
        raise TypeError(f"{name} must be {what}; got {_short(ids)}")
    return list(ids)


def check_unique_columns(frame, columns, name="frame"):
    """Check that each of ``columns`` names exactly one column of ``frame``.

    ``frame[c]`` is a DataFrame, not a Series, when the name ``c`` repeats,
    and nothing downstream expects that.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame([[1, 2, 3]], columns=["user", "rating", "rating"])
    >>> check_unique_columns(df, ["user", "rating"], "ratings")
    Traceback (most recent call last):
    ...
    ValueError: ratings has 2 columns named 'rating'; rename or drop the extra ones (the columns are ['user', 'rating', 'rating'])
    """
    counts = pd.Index(frame.columns).value_counts()
    for c in columns:
        if c in counts.index and counts[c] > 1:
            raise ValueError(
                f"{name} has {counts[c]} columns named {c!r}; rename or drop the extra ones "
                f"(the columns are {list(frame.columns)!r})"
            )


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _short(v, limit=60):
    text = repr(_plain(v))
    return text if len(text) <= limit else text[: limit - 3] + "..."
