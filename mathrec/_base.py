"""Shared plumbing for mathrec's recommender estimators.

`RecommenderMixin` turns a model that can score every item for one user into
a model with a ``recommend`` method that speaks the caller's ids, and holds
the small input checks that every estimator repeats.  Chapter 3 teaches the
models that use it.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np
import pandas as pd

from mathrec._validation import check_positive_int  # noqa: F401  (re-exported)
from mathrec.exceptions import DivergenceError, NotFittedError

__all__ = [
    "DivergenceError",
    "NotFittedError",
    "ParamsMixin",
    "RecommenderMixin",
    "check_pairs",
    "check_positive_int",
    "check_random_state",
    "clone",
]


def clone(estimator):
    """A new, unfitted estimator with the same hyper-parameters (scikit-learn's ``clone``).

    Hyper-parameters that are estimators themselves are cloned too, so a
    meta-estimator such as :class:`mathrec.coldstart.SwitchingHybrid` never
    fits, or shares, the object it was given.

    Examples
    --------
    >>> from mathrec import ItemKNN
    >>> a = ItemKNN(k=5)
    >>> b = clone(a)
    >>> b is a, b.get_params() == a.get_params()
    (False, True)
    """
    if hasattr(estimator, "__sklearn_clone__") and not isinstance(
        estimator, type
    ):
        return estimator.__sklearn_clone__()
    if not hasattr(estimator, "get_params"):
        import copy

        return copy.deepcopy(estimator)
    params = {
        k: clone(v)
        if hasattr(v, "get_params") and not isinstance(v, type)
        else v
        for k, v in estimator.get_params(deep=False).items()
    }
    return type(estimator)(**params)


def check_random_state(random_state, name="random_state"):
    """A NumPy random generator from ``None``, an int, a ``RandomState`` or a ``Generator``.

    One convention for every estimator and function of mathrec: ``None`` uses
    NumPy's global ``RandomState`` (scikit-learn's convention); an integer seeds a ``numpy.random.RandomState`` (the stream
    that the book's stored outputs were made with); a ``RandomState`` or a
    ``numpy.random.Generator`` is used as it is (and advanced).

    Parameters
    ----------
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
    name : str
        The argument's name, for the error message.

    Returns
    -------
    numpy.random.RandomState or numpy.random.Generator
        Both offer ``normal``, ``random`` and ``permutation``, which is all
        that mathrec draws.

    Raises
    ------
    TypeError
        For anything else (a float, a string, a bool).

    Examples
    --------
    >>> import numpy as np
    >>> check_random_state(0).normal() == np.random.RandomState(0).normal()
    True
    >>> rng = np.random.default_rng(0)
    >>> check_random_state(rng) is rng
    True
    """
    if random_state is None:
        return np.random.mtrand._rand
    if isinstance(
        random_state, (numbers.Integral, np.integer)
    ) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(
                f"{name} must be a non-negative integer seed; got "
                f"{random_state!r}"
            )
        return np.random.RandomState(int(random_state))
    if isinstance(random_state, (np.random.RandomState, np.random.Generator)):
        return random_state
    raise TypeError(
        f"{name} must be None, an int, a numpy.random.RandomState or a "
        f"numpy.random.Generator; "
        f"got {random_state!r}"
    )


def check_pairs(users, items):
    """Normalise the ``(users, items)`` arguments of ``predict``.

    ``predict`` takes either one pair of scalar ids or two 1-D sequences of ids
    of the same length; nothing else. A string is one id, never a sequence of
    one-character ids; a tuple is a sequence.

    Returns
    -------
    users, items : list or numpy.ndarray
        The ids as two 1-D sequences.
    scalar : bool
        True when one pair of scalars was given (``predict`` then returns a
        float).

    Raises
    ------
    ValueError
        If one argument is a scalar and the other a sequence, if either has
        more than one dimension, or if the lengths differ.

    Examples
    --------
    >>> check_pairs("ab", "xy")
    (['ab'], ['xy'], True)
    >>> check_pairs([1, 2], (3, 4))
    ([1, 2], [3, 4], False)
    """
    du, di = _id_ndim(users, "users"), _id_ndim(items, "items")
    if du == 0 and di == 0:
        return [users], [items], True
    if du != di:
        raise ValueError(
            "users and items must both be scalar ids or both 1-D sequences of "
            "ids; got "
            f"a {'scalar' if du == 0 else 'sequence'} and a "
            f"{'scalar' if di == 0 else 'sequence'}"
        )
    users = users if isinstance(users, np.ndarray) else list(users)
    items = items if isinstance(items, np.ndarray) else list(items)
    if len(users) != len(items):
        raise ValueError(
            f"users and items must have the same length; got {len(users)} and "
            f"{len(items)}"
        )
    return users, items, False


def _id_ndim(ids, name):
    """0 for one id, 1 for a 1-D sequence of ids; an error for anything else."""
    if isinstance(ids, (str, bytes)):
        return 0
    if isinstance(ids, (set, frozenset, dict)):
        raise TypeError(
            f"{name} must be a scalar id or a 1-D sequence of ids; got a "
            f"{type(ids).__name__}"
        )
    if isinstance(ids, np.ndarray):
        if ids.ndim > 1:
            raise ValueError(
                f"{name} must be a scalar id or a 1-D sequence of ids; got "
                f"{ids.ndim} dimensions"
            )
        return ids.ndim
    if isinstance(ids, (pd.Series, pd.Index)):
        return 1
    if isinstance(ids, (list, tuple)):
        # a list of ids may hold tuples (hashable ids), never lists or arrays
        if any(isinstance(e, (list, np.ndarray, pd.Series)) for e in ids):
            raise ValueError(
                f"{name} must be a scalar id or a 1-D sequence of ids; got "
                f"nested sequences"
            )
        return 1
    try:
        hash(ids)
    except TypeError:
        raise TypeError(
            f"{name} must be a scalar id or a 1-D sequence of ids; got "
            f"{type(ids).__name__}"
        ) from None
    return 0


def _one_blas_thread():
    """Limit BLAS to one thread in a ``with`` block, when threadpoolctl is installed.

    Used around ALS's batched k x k products and solves and L-BFGS's sparse
    products: they gain nothing from BLAS threads (each matrix is small), and
    on a busy machine threads that spin waiting for a core make them many
    times slower.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - depends on the environment
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


#: Scores closer than this, relative to the largest score of the list, are ties.
TIE_TOLERANCE = 1e-10


def _rank_order(scores, scale=None):
    """Positions of ``scores`` from best to worst; ties go to the lower position.

    Two scores that differ by less than ``TIE_TOLERANCE`` times ``scale``
    (default: the largest magnitude in ``scores``) count as tied. Items that
    are equal in exact arithmetic (two movies rated by the same single user,
    say) get scores that differ in the last bits, and which one wins then
    depends on the CPU's BLAS kernels; snapping them together first makes
    every list the same on every machine.

    Examples
    --------
    >>> _rank_order([1.0, 3.0, 3.0 + 1e-14, 2.0]).tolist()
    [1, 2, 3, 0]
    """
    scores = np.asarray(scores, dtype=float)
    if scores.size == 0:
        return np.empty(0, dtype=np.intp)
    if scale is None:
        scale = float(np.max(np.abs(scores)))
    key = np.round(scores / (scale * TIE_TOLERANCE)) if scale > 0 else scores
    return np.argsort(-key, kind="stable")


class ParamsMixin:
    """scikit-learn's hyper-parameter protocol: ``get_params``, ``set_params``, ``repr``.

    The hyper-parameters are the arguments of the class's ``__init__``, which
    stores each under its own name and does nothing else (scikit-learn's
    estimator contract), so they can be read back by name.

    Examples
    --------
    >>> from mathrec import ItemKNN
    >>> model = ItemKNN(k=20).set_params(similarity="pearson")
    >>> model.get_params()["k"], model.get_params()["similarity"]
    (20, 'pearson')
    """

    @classmethod
    def _param_names(cls):
        return [
            p.name
            for p in inspect.signature(cls.__init__).parameters.values()
            if p.name != "self"
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self, deep=True):
        """Hyper-parameters as a dict (scikit-learn's convention).

        With ``deep=True``, the hyper-parameters of a hyper-parameter that is
        itself an estimator are included as ``name__param``.
        """
        out = {}
        for name in self._param_names():
            value = getattr(self, name)
            out[name] = value
            if (
                deep
                and hasattr(value, "get_params")
                and not isinstance(value, type)
            ):
                out.update(
                    (f"{name}__{k}", v)
                    for k, v in value.get_params(deep=True).items()
                )
        return out

    def set_params(self, **params):
        """Set hyper-parameters (scikit-learn's convention, ``name__param`` too); returns ``self``."""
        valid = self._param_names()
        nested = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"invalid parameter {name!r} for {type(self).__name__}; "
                    f"valid parameters are {valid}"
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            inner = getattr(self, name)
            if not hasattr(inner, "set_params"):
                raise ValueError(
                    f"parameter {name!r} of {type(self).__name__} is not an "
                    f"estimator; cannot set {sorted(sub_params)}"
                )
            inner.set_params(**sub_params)
        return self

    def __sklearn_tags__(self):
        """scikit-learn's estimator tags (asked for by ``check_is_fitted``, scikit-learn >= 1.6).

        Only scikit-learn calls this, so mathrec itself never imports scikit-learn.
        """
        from sklearn.utils import Tags, TargetTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False))

    def __repr__(self):
        params = ", ".join(
            f"{k}={v!r}" for k, v in self.get_params(deep=False).items()
        )
        return f"{type(self).__name__}({params})"


# : Scores held at once by ``recommend`` for a block of users (float64 numbers,
# 32 MiB).
_SCORE_BLOCK_FLOATS = 1 << 22


class RecommenderMixin(ParamsMixin):
    """Give an estimator ``recommend(user, n, exclude_seen)`` from one hook.

    A subclass implements ``_score_items(user_index)``, returning a float array
    of length ``n_items`` (one score per internal item index; ``-inf`` or NaN
    means "cannot be recommended"), and keeps the fitted
    :class:`mathrec.data.Interactions` in ``self.interactions_``. For speed it
    may also implement ``_score_block(user_indices)``, the same scores for a
    block of users at once (an array ``(n_block, n_items)``).

    Notes
    -----
    Items are ranked by decreasing score; equal scores are ranked by
    increasing internal item index, so the order is deterministic.
    """

    #: True for models whose ``predict`` returns ratings on the scale of the
    #: training data (they are scored by RMSE/MAE); False for models that only
    #: produce ranking scores (popularity counts, PureSVD, implicit ALS, content
    #: cosines), which :func:`mathrec.evaluate` never scores by RMSE.
    predicts_ratings = False

    #: Scores that ``recommend`` asks ``_score_block`` for at once (float64
    #: numbers); a model whose block has a large fixed cost raises it.
    _score_block_floats = _SCORE_BLOCK_FLOATS

    def _check_fitted(self):
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call "
                f"fit(ratings) first"
            )

    def __sklearn_is_fitted__(self):
        """scikit-learn's ``check_is_fitted`` asks this: has ``fit`` run?"""
        return hasattr(self, "interactions_")

    def _pair_indices(self, users, items, unknown="raise"):
        """The one id mapping of ``predict``: caller ids to internal indices.

        ``users, items`` are one pair of scalar ids or two 1-D sequences
        (:func:`check_pairs`). With ``unknown="raise"`` an id unseen in ``fit``
        raises ``UnknownUserError`` / ``UnknownItemError`` (both ``KeyError``);
        with ``"fallback"`` it maps to -1, for the model's fallback.

        Returns
        -------
        u, i : numpy.ndarray of intp
        scalar : bool
            True when one pair of scalars was given.
        """
        self._check_fitted()
        if unknown not in ("raise", "fallback"):
            raise ValueError(
                f"unknown must be 'raise' or 'fallback', got {unknown!r}"
            )
        users, items, scalar = check_pairs(users, items)
        if len(users) == 0:
            return (
                np.empty(0, dtype=np.intp),
                np.empty(0, dtype=np.intp),
                scalar,
            )
        inter = self.interactions_
        strict = unknown == "raise"
        u = np.asarray(inter.user_index(users, strict=strict), dtype=np.intp)
        i = np.asarray(inter.item_index(items, strict=strict), dtype=np.intp)
        return u, i, scalar

    def _score_items(self, user_index):  # pragma: no cover - interface
        raise NotImplementedError

    def _score_block(self, user_indices):
        """Scores of every item for a block of users: an array ``(len(user_indices), n_items)``.

        The default stacks ``_score_items`` user by user; models override it
        with one vectorised computation for the whole block (a matrix product
        for the factor models, a broadcast for the bias models, sparse
        products for the neighbourhood models).
        """
        n_items = self.interactions_.n_items
        out = np.empty((len(user_indices), n_items))
        for row, u in enumerate(user_indices):
            scores = np.asarray(self._score_items(int(u)), dtype=float)
            if scores.shape != (n_items,):
                raise RuntimeError(
                    f"_score_items returned shape {scores.shape}, expected "
                    f"({n_items},)"
                )
            out[row] = scores
        return out

    def _top_n(self, user_indices, n, exclude_seen):
        """Internal item indices and scores of each user's top ``n``, in blocks of users.

        Returns ``(items, scores, counts)``: the lists of all users one after
        the other, and the length of each list.
        """
        inter = self.interactions_
        n_items = inter.n_items
        csr = self._train_csr() if exclude_seen else None
        step = max(1, self._score_block_floats // max(n_items, 1))
        kth = min(n, n_items) - 1
        items, scores, counts = [], [], []
        for start in range(0, len(user_indices), step):
            block = np.asarray(
                user_indices[start : start + step], dtype=np.intp
            )
            S = np.array(self._score_block(block), dtype=float, copy=True)
            if S.shape != (block.size, n_items):
                raise RuntimeError(
                    f"_score_block returned shape {S.shape}, expected "
                    f"({block.size}, {n_items})"
                )
            S[np.isnan(S)] = -np.inf
            if exclude_seen:
                sub = csr[block]
                S[
                    np.repeat(np.arange(block.size), np.diff(sub.indptr)),
                    sub.indices,
                ] = -np.inf
            # scores closer than TIE_TOLERANCE x the row's scale are ties (see
            # _rank_order)
            finite = np.isfinite(S)
            scale = self._row_scales(S, finite)
            key = S / np.where(scale > 0, scale * TIE_TOLERANCE, 1.0)[:, None]
            np.round(key, out=key)
            key = np.where((scale > 0)[:, None], key, S)
            # the n-th best key of each row; everything at least as good is a
            # candidate
            thr = -np.partition(-key, kth, axis=1)[:, kth]
            rows, cols = np.nonzero((key >= thr[:, None]) & finite)
            vals = S[rows, cols]
            # best first; equal keys by increasing item index
            order = np.lexsort((cols, -key[rows, cols], rows))
            rows, cols, vals = rows[order], cols[order], vals[order]
            first = np.searchsorted(rows, np.arange(block.size))
            keep = np.arange(rows.size) - first[rows] < n
            rows, cols, vals = rows[keep], cols[keep], vals[keep]
            items.append(cols)
            scores.append(vals)
            counts.append(np.bincount(rows, minlength=block.size))
        if not items:
            return np.zeros(0, np.intp), np.zeros(0), np.zeros(0, np.intp)
        return (
            np.concatenate(items),
            np.concatenate(scores),
            np.concatenate(counts),
        )

    def _row_scales(self, S, finite):
        """``_score_scale`` of every row of a block (over its finite entries)."""
        if type(self)._score_scale is RecommenderMixin._score_scale:
            return np.max(np.where(finite, np.abs(S), 0.0), axis=1, initial=0.0)
        return np.array(
            [self._score_scale(row[ok]) for row, ok in zip(S, finite)],
            dtype=float,
        )

    def _score_scale(self, scores):
        """The magnitude against which two of this model's scores count as tied.

        The default is the largest score of the list; models whose scores can
        all be rounding noise for some user (a factor model and a user outside
        its subspace) return a scale of the model instead, so that noise ranks
        as a tie and not as a preference.
        """
        return float(np.max(np.abs(scores))) if len(scores) else 0.0

    def recommend(self, user, n=10, exclude_seen=True):
        """Recommend the ``n`` best-scored items to one user, or to many.

        Parameters
        ----------
        user : hashable, or list / numpy.ndarray / pandas.Series / pandas.Index of them
            One user id as given to ``fit`` (a tuple is one id), or many.
        n : int, default 10
            Length of each list (shorter if fewer items can be recommended).
        exclude_seen : bool, default True
            Leave out the items the user rated in the training data.

        Returns
        -------
        pandas.DataFrame
            For one user: columns ``item`` (the caller's item ids) and
            ``score``, best first. For many users: one tidy frame with columns
            ``user``, ``item``, ``score``, ``rank`` (1 = best), the users in
            the order given, each user's list best first.

        Raises
        ------
        KeyError
            (``mathrec.data.UnknownUserError``) if a user was not in the
            training data.
        ValueError
            If ``n < 1``.

        Notes
        -----
        Items are ranked by decreasing score; scores within
        ``TIE_TOLERANCE`` of the list's scale are ties, ranked by
        increasing internal item index, so the order is deterministic on
        every machine (see ``_rank_order``). The scores are computed for
        blocks of users at a time (at most about
        32 MiB of scores per block), never for all users at once; in each
        block the seen items are masked through the training CSR and the top
        ``n`` is selected with ``numpy.partition`` before the final sort.
        """
        self._check_fitted()
        n = check_positive_int(n, "n")
        inter = self.interactions_
        many = isinstance(user, (list, np.ndarray, pd.Series, pd.Index))
        if isinstance(user, np.ndarray) and user.ndim != 1:
            raise ValueError(
                f"user must be one id or a 1-D sequence of ids; got "
                f"{user.ndim} dimensions"
            )
        ids = (
            (
                user.to_numpy()
                if isinstance(user, (pd.Series, pd.Index))
                else user
            )
            if many
            else [user]
        )
        uidx = np.asarray(inter.user_index(ids), dtype=np.intp).reshape(-1)
        items, scores, counts = self._top_n(uidx, n, exclude_seen)
        if not many:
            return pd.DataFrame({"item": inter.items[items], "score": scores})
        user_col = pd.Series(
            ids if isinstance(ids, np.ndarray) else list(ids), dtype=None
        )
        starts = np.cumsum(counts) - counts
        rank = np.arange(items.size) - np.repeat(starts, counts) + 1
        return pd.DataFrame(
            {
                "user": user_col.repeat(counts).to_numpy(),
                "item": inter.items[items],
                "score": scores,
                "rank": rank,
            }
        )

    def _train_csr(self):
        """The training matrix (users x items, CSR), built once per fit.

        The cache is keyed on the fitted :class:`~mathrec.data.Interactions`
        object itself, so a second ``fit`` on other data can never reuse the
        first fit's matrix, whatever the subclass's ``fit`` does.
        """
        cache = getattr(self, "_csr_cache_", None)
        if not (isinstance(cache, tuple) and cache[0] is self.interactions_):
            cache = (self.interactions_, self.interactions_.to_csr())
            self._csr_cache_ = cache
        return cache[1]
