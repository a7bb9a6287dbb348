"""Shared argument checks: one message style for every function of mathrec.

Each checker returns the value in a canonical form (an ``int``, a ``float``, a
float array, a list of ids, ...) or raises an error whose message reads
``"<name> must be ..., got <value>"``, so a caller knows which argument was
wrong and what it held. A value of the wrong type (a string where a number
belongs) raises ``TypeError``; a value of the right type that is out of range,
NaN or infinite raises ``ValueError``.

Checks that encode a model's own rules stay in its module, built from these.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = [
    "check_array",
    "check_bool",
    "check_choice",
    "check_hashable_id",
    "check_id_list",
    "check_positive_int",
    "check_probability",
    "check_real",
    "check_unique_columns",
]

_CLOSED = ("both", "left", "right", "neither")


def check_real(
    value,
    name,
    *,
    low=None,
    high=None,
    closed="both",
    finite=True,
    allow_none=False,
):
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
    allow_none : bool, default False
        Accept None (returned as is), for an optional argument.

    Returns
    -------
    float or None

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
    ValueError: min_rating must be a finite real number, got nan
    >>> check_real(0, "epsilon", low=0, closed="neither")
    Traceback (most recent call last):
    ...
    ValueError: epsilon must be a finite real number > 0, got 0
    >>> check_real("4", "min_rating", allow_none=True)
    Traceback (most recent call last):
    ...
    TypeError: min_rating must be a finite real number or None, got '4'
    """
    if closed not in _CLOSED:
        raise ValueError(f"closed must be one of {_CLOSED}, got {closed!r}")
    parts = []
    if low is not None:
        parts.append(f"{'>=' if closed in ('both', 'left') else '>'} {low:g}")
    if high is not None:
        parts.append(f"{'<=' if closed in ('both', 'right') else '<'} {high:g}")
    what = (
        ("a finite real number" if finite else "a real number")
        + (" " + " and ".join(parts) if parts else "")
        + (" or None" if allow_none else "")
    )
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, numbers.Real
    ):
        raise TypeError(f"{name} must be {what}, got {value!r}")
    x = float(value)
    shown = _plain(value)
    if math.isnan(x) or (finite and math.isinf(x)):
        raise ValueError(f"{name} must be {what}, got {shown!r}")
    if low is not None and (
        x < low or (x == low and closed in ("right", "neither"))
    ):
        raise ValueError(f"{name} must be {what}, got {shown!r}")
    if high is not None and (
        x > high or (x == high and closed in ("left", "neither"))
    ):
        raise ValueError(f"{name} must be {what}, got {shown!r}")
    return x


def check_positive_int(value, name, *, minimum=1, maximum=None):
    """Return ``value`` as an ``int`` after checking ``minimum <= value <= maximum``.

    Parameters
    ----------
    value : object
        An integer (Python or NumPy); booleans, floats and strings are refused.
    name : str
        The argument's name, used in the error message.
    minimum : int, default 1
        The smallest accepted value (``minimum=0`` accepts zero).
    maximum : int, optional
        The largest accepted value (no upper bound when None).

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``value`` is not an integer (``2.0`` included).
    ValueError
        If ``value < minimum`` or ``value > maximum``.

    Examples
    --------
    >>> check_positive_int(10, "k")
    10
    >>> check_positive_int(0, "k")
    Traceback (most recent call last):
    ...
    ValueError: k must be an integer >= 1, got 0
    >>> check_positive_int(2.5, "n_factors")
    Traceback (most recent call last):
    ...
    TypeError: n_factors must be an integer >= 1, got 2.5
    >>> check_positive_int(7, "n_splits", minimum=2, maximum=6)
    Traceback (most recent call last):
    ...
    ValueError: n_splits must be an integer >= 2 and <= 6, got 7
    """
    what = f"an integer >= {minimum}" + (
        f" and <= {maximum}" if maximum is not None else ""
    )
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, numbers.Integral
    ):
        raise TypeError(f"{name} must be {what}, got {_short(value)}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {what}, got {_plain(value)!r}")
    return int(value)


def check_probability(value, name, *, open_low=False, open_high=False):
    """Return ``value`` as a ``float`` in [0, 1] (ends excluded on request).

    ``check_real(value, name, low=0, high=1, ...)`` under the name of what it
    checks.

    Examples
    --------
    >>> check_probability(0.25, "p")
    0.25
    >>> check_probability(1, "test_size", open_low=True, open_high=True)
    Traceback (most recent call last):
    ...
    ValueError: test_size must be a finite real number > 0 and < 1, got 1
    """
    closed = {
        (False, False): "both",
        (False, True): "left",
        (True, False): "right",
        (True, True): "neither",
    }[bool(open_low), bool(open_high)]
    return check_real(value, name, low=0, high=1, closed=closed)


def check_bool(value, name):
    """Return ``value`` as a ``bool`` after checking that it is True or False.

    ``1``, ``"yes"`` and ``None`` are refused: a flag is a ``bool``.

    Examples
    --------
    >>> check_bool(True, "verbose")
    True
    >>> check_bool(1, "verbose")
    Traceback (most recent call last):
    ...
    TypeError: verbose must be True or False, got 1
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_short(value)}")
    return bool(value)


def check_array(x, name, *, ndim=None, purpose=None):
    """Return ``x`` as a finite, non-empty float ndarray.

    Parameters
    ----------
    x : array_like
        Numbers; with ``ndim=1`` a scipy.sparse row or column vector too.
    name : str
        The argument's name, used in the error message.
    ndim : int, optional
        The required number of dimensions (any when None).
    purpose : str, optional
        Why it may not be empty, appended to that message
        ("a loss needs at least one value").

    Raises
    ------
    ValueError
        If ``x`` does not convert to numbers, has another number of
        dimensions, is empty, or holds NaN or an infinity (the message gives
        the first such value and its position).

    Examples
    --------
    >>> check_array([1, 2], "a", ndim=1)
    array([1., 2.])
    >>> check_array([[1.0, float("nan")]], "y_pred")
    Traceback (most recent call last):
    ...
    ValueError: y_pred contains a non-finite value (nan at position (0, 1))
    >>> check_array([[1, 2]], "a", ndim=1)
    Traceback (most recent call last):
    ...
    ValueError: a must be 1-D, got an array of shape (1, 2)
    """
    if sp.issparse(x):
        if ndim != 1:
            raise ValueError(
                f"{name} must be a dense array, got a sparse matrix of shape "
                f"{x.shape}"
            )
        if len(x.shape) == 2 and 1 not in x.shape:
            raise ValueError(
                f"{name} must be 1-D, got a sparse matrix of shape {x.shape}"
            )
        x = x.toarray().ravel()  # a sparse row or column vector
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        what = "a 1-D array" if ndim == 1 else "an array"
        raise ValueError(
            f"{name} must be {what} of numbers, got {_short(x)}"
        ) from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(
            f"{name} must be {ndim}-D, got an array of shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(
            f"{name} is empty" + (f"; {purpose}" if purpose else "")
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        pos = np.unravel_index(int(np.flatnonzero(bad)[0]), arr.shape)
        pos = int(pos[0]) if len(pos) == 1 else tuple(int(p) for p in pos)
        raise ValueError(
            f"{name} contains a non-finite value ({float(arr[bad].flat[0])!r} "
            f"at position {pos})"
        )
    return arr


def check_choice(value, name, choices):
    """Return ``value`` after checking that it is one of ``choices``.

    Examples
    --------
    >>> check_choice("drop", "cold", ("drop", "keep"))
    'drop'
    >>> check_choice("Drop", "cold", ("drop", "keep"))
    Traceback (most recent call last):
    ...
    ValueError: cold must be one of ('drop', 'keep'), got 'Drop'
    """
    try:
        ok = value in choices
    except TypeError:  # an unhashable value looked up in a set
        ok = False
    if not ok:
        raise ValueError(
            f"{name} must be one of {tuple(choices)!r}, got {value!r}"
        )
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
    TypeError: user must be hashable, one id such as an int, a str or a tuple,
    got the list [1, 2]
    """
    if isinstance(value, (np.ndarray, pd.Series, pd.Index)) or not isinstance(
        value, Hashable
    ):
        raise TypeError(
            f"{name} must be hashable, one id such as an int, a str or a "
            f"tuple, got the "
            f"{type(value).__name__} {_short(value)}"
        )
    try:
        hash(value)
    except TypeError:  # a tuple holding a list
        raise TypeError(
            f"{name} must be hashable, one id such as an int, a str or a "
            f"tuple, got the "
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
    TypeError: recommended must be a list or array of ids, not a single str,
    got 'abc' (wrap one id in a list: ['abc'])
    """
    if isinstance(ids, (str, bytes)):
        raise TypeError(
            f"{name} must be a list or array of ids, not a single "
            f"{type(ids).__name__}, "
            f"got {ids!r} (wrap one id in a list: [{ids!r}])"
        )
    if isinstance(ids, np.ndarray) and ids.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D list or array of ids, got an array of shape "
            f"{ids.shape}"
        )
    if (ordered and isinstance(ids, (dict, set, frozenset))) or not hasattr(
        ids, "__iter__"
    ):
        what = "a list or array of ids" if ordered else "a collection of ids"
        raise TypeError(f"{name} must be {what}, got {_short(ids)}")
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
    ValueError: ratings has 2 columns named 'rating'; rename or drop the extra
    ones (the columns are ['user', 'rating', 'rating'])
    """
    counts = pd.Index(frame.columns).value_counts()
    for c in columns:
        if c in counts.index and counts[c] > 1:
            raise ValueError(
                f"{name} has {counts[c]} columns named {c!r}; rename or drop "
                f"the extra ones "
                f"(the columns are {list(frame.columns)!r})"
            )


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _short(v, limit=60):
    text = repr(_plain(v))
    return text if len(text) <= limit else text[: limit - 3] + "..."
