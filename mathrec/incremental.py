r"""Incremental (real-time) updates of factor models: ALS fold-in and online SGD.

A fitted factor model goes stale as new ratings arrive.  Refitting from
scratch is exact but costs a full training run; this module offers two cheap
updates that leave the rest of the model alone:

- :func:`fold_in_users` and :class:`IncrementalALS` solve the ALS *user step*
  for new or changed users with the item factors $Q$ held fixed: one small
  ridge regression per user, the same closed form that
  :class:`mathrec.factorization.ALS` uses inside every sweep;
- :class:`OnlineMF` is a :class:`mathrec.factorization.BiasedMF` with a
  ``partial_fit`` method that runs one SGD pass over a batch of new events,
  adding rows for users and items it has not seen.

Chapter 8 (``notebooks/ch08_trends.ipynb``) teaches them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._base import NotFittedError, RecommenderMixin, _one_blas_thread
from ._kernels import rowwise_dot, sgd_kernels
from ._validation import check_choice
from .data import Interactions, UnknownItemError, as_interactions
from .factorization import (
    ALS,
    BiasedMF,
    _als_half_step,
    _check_diverged,
    _check_random_state,
)

__all__ = ["fold_in_users", "IncrementalALS", "OnlineMF"]


def _check_als(model, name="model"):
    if not isinstance(model, ALS):
        raise TypeError(
            f"{name} must be a fitted mathrec.factorization.ALS; got "
            f"{type(model).__name__}"
        )
    if not hasattr(model, "item_factors_"):
        raise NotFittedError(
            f"{name} is not fitted yet; call {name}.fit(ratings) first"
        )


def _check_unknown_items(unknown_items):
    return check_choice(unknown_items, "unknown_items", ("raise", "ignore"))


def _fold_in(model, ratings, unknown_items):
    """Validated fold-in: ``(Interactions on the model's items, factors)``."""
    _check_als(model)
    _check_unknown_items(unknown_items)
    new = as_interactions(ratings)
    if new.n_ratings == 0:
        raise ValueError("ratings is empty: there is no user to fold in")
    pos = np.asarray(
        model.interactions_.item_index(new.items, strict=False), dtype=np.intp
    )
    item_of_rating = pos[new.item_idx]
    known = item_of_rating >= 0
    if not known.all() and unknown_items == "raise":
        bad = list(dict.fromkeys(new.items[new.item_idx[~known]].tolist()))
        raise UnknownItemError(bad, known=len(model.items_))
    mu = model.global_mean_
    lam = float(model.regularization)
    weighted = model.reg_mode == "weighted"
    Q = model.item_factors_
    inter = Interactions(
        new.users,
        model.items_,
        new.user_idx[known],
        item_of_rating[known],
        new.ratings[known],
    )
    R = sp.csr_matrix(
        (inter.ratings - mu, (inter.user_idx, inter.item_idx)),
        shape=(new.n_users, Q.shape[0]),
    )
    R.sort_indices()
    P = np.zeros((new.n_users, Q.shape[1]))
    with _one_blas_thread():
        _als_half_step(R, Q, lam, weighted, P)
    return inter, P


def fold_in_users(model, ratings, *, unknown_items="raise"):
    r"""Factors of new or changed users for a fitted ALS model, with $Q$ fixed.

    Parameters
    ----------
    model : mathrec.factorization.ALS
        A fitted model; it is not modified.
    ratings : pandas.DataFrame or mathrec.data.Interactions
        Columns ``user, item, rating``: the *complete* rating history of each
        user to fold in (a changed user's old ratings and new ones together;
        fold-in replaces a user's factors, it does not add to them).
    unknown_items : {"raise", "ignore"}, default "raise"
        What to do with a rating of an item the model was not trained on:
        raise :class:`mathrec.data.UnknownItemError` naming the items, or
        skip those ratings (an item without a factor cannot inform $p_u$).

    Returns
    -------
    users : numpy.ndarray
        The user ids, in the order of the rows of ``factors`` (sorted when
        the ids are sortable).
    factors : numpy.ndarray of shape (n_users, n_factors)
        $p_u$ for each user; a user none of whose items is known gets
        $p_u = 0$ (the model then predicts $\mu$ for her, as ALS does).

    Raises
    ------
    TypeError
        If ``model`` is not a :class:`mathrec.factorization.ALS`.
    RuntimeError
        If ``model`` is not fitted.
    ValueError
        If ``ratings`` is empty or invalid (missing column, NaN, duplicates).
    mathrec.data.UnknownItemError
        With ``unknown_items="raise"`` and an item unseen in training.

    Notes
    -----
    With the item factors $Q$ fixed, the ALS objective restricted to user $u$
    is a ridge regression over the set $I_u$ of items she rated,

    .. math:: \min_{p_u} \sum_{i \in I_u} (r_{ui} - \mu - p_u^\top q_i)^2
              + \lambda w_u \|p_u\|^2,

    whose unique minimiser solves the normal equations

    .. math:: \big(Q_{I_u}^\top Q_{I_u} + \lambda w_u I\big)\, p_u
              = Q_{I_u}^\top (r_u - \mu),

    with $w_u = n_u = |I_u|$ when the model's ``reg_mode="weighted"`` and
    $w_u = 1$ when ``reg_mode="plain"``, and $\mu$ the model's ``global_mean_``
    (0 when it was fitted with ``center=False``).  This is exactly the user
    half step of an ALS sweep, so folding in a training user with the final
    $Q$ gives the factors one more user step would give.  The cost is
    $O(n_u k^2 + k^3)$ per user, against $O(T(|\mathcal K| k^2 + (m+n) k^3))$
    for a refit of $T$ sweeps.

    Taught in chapter 8 (trends: real-time updates).

    References
    ----------
    .. [1] B. Sarwar, G. Karypis, J. Konstan and J. Riedl, "Incremental
       singular value decomposition algorithms for highly scalable
       recommender systems", ICCIT 2002.
    .. [2] Y. Zhou, D. Wilkinson, R. Schreiber and R. Pan, "Large-scale
       parallel collaborative filtering for the Netflix Prize", AAIM 2008,
       doi:10.1007/978-3-540-68880-8_32.

    Examples
    --------
    >>> import pandas as pd
    >>> from mathrec.factorization import ALS
    >>> from mathrec.incremental import fold_in_users
    >>> train = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": [10, 20, 10, 30, 20],
    ...                       "rating": [5.0, 3.0, 4.0, 1.0, 2.0]})
    >>> als = ALS(n_factors=2, n_iter=20, regularization=0.01, random_state=0)
    >>> als = als.fit(train)
    >>> new = pd.DataFrame({"user": ["zoe", "zoe"], "item": [10, 30],
    ...                     "rating": [5.0, 1.0]})
    >>> users, P = fold_in_users(als, new)
    >>> users.tolist(), P.shape
    (['zoe'], (1, 2))
    """
    inter, P = _fold_in(model, ratings, unknown_items)
    return inter.users, P


class IncrementalALS(RecommenderMixin):
    r"""Serve new or changed users of a fitted ALS model by fold-in, without refitting.

    Parameters
    ----------
    model : mathrec.factorization.ALS
        A fitted ALS model whose item factors $Q$ (and $\mu$, $\lambda$,
        ``reg_mode``) are used as they are; it is not modified.
    unknown_items : {"raise", "ignore"}, default "raise"
        Ratings of items unseen by ``model``: raise, or skip them (see
        :func:`fold_in_users`).

    Attributes
    ----------
    users_ : numpy.ndarray
        The folded-in user ids.
    items_ : numpy.ndarray
        The model's item ids.
    user_factors_ : ndarray of shape (n_users, n_factors)
        $p_u$ from the closed-form user step.
    item_factors_ : ndarray of shape (n_items, n_factors)
        The model's $Q$ (the same array, not a copy).
    global_mean_ : float
        The model's $\mu$.
    interactions_ : mathrec.data.Interactions
        The folded-in ratings of known items, indexed by the model's items.

    Notes
    -----
    ``fit`` solves, for every user in ``ratings``,

    .. math:: p_u = \big(Q_{I_u}^\top Q_{I_u} + \lambda w_u I\big)^{-1}
              Q_{I_u}^\top (r_u - \mu),

    (see :func:`fold_in_users`); ``predict`` returns $\mu + p_u^\top q_i$
    (clipped like the model), and ``recommend`` ranks the model's items by
    that score, leaving out the items the user rated.

    Taught in chapter 8 (trends: real-time updates).

    Examples
    --------
    >>> import pandas as pd
    >>> from mathrec.factorization import ALS
    >>> from mathrec.incremental import IncrementalALS
    >>> train = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": [10, 20, 10, 30, 20],
    ...                       "rating": [5.0, 3.0, 4.0, 1.0, 2.0]})
    >>> als = ALS(n_factors=2, n_iter=20, regularization=0.01, random_state=0)
    >>> als = als.fit(train)
    >>> new = pd.DataFrame({"user": ["zoe"], "item": [10], "rating": [5.0]})
    >>> inc = IncrementalALS(als).fit(new)
    >>> inc.recommend("zoe", n=2)["item"].tolist()
    [20, 30]
    """

    predicts_ratings = True

    def __sklearn_clone__(self):
        """A clone keeps the fitted ``model`` it folds into (it is data, not a setting)."""
        return type(self)(self.model, unknown_items=self.unknown_items)

    def __init__(self, model, *, unknown_items="raise"):
        self.model = model
        self.unknown_items = unknown_items

    def get_params(self, deep=True):
        """Parameters as a dict (scikit-learn's convention)."""
        return {"model": self.model, "unknown_items": self.unknown_items}

    def set_params(self, **params):
        """Set parameters; returns ``self``."""
        for key, value in params.items():
            if key not in ("model", "unknown_items"):
                raise ValueError(
                    f"invalid parameter {key!r} for IncrementalALS"
                )
            setattr(self, key, value)
        return self

    def __repr__(self):
        return f"IncrementalALS(model={self.model!r}, unknown_items={self.unknown_items!r})"

    def fit(self, ratings):
        """Fold in every user of ``ratings`` (their complete histories); returns ``self``."""
        inter, P = _fold_in(self.model, ratings, self.unknown_items)
        self.interactions_ = inter
        self.users_ = inter.users
        self.items_ = inter.items
        self.user_factors_ = P
        self.item_factors_ = self.model.item_factors_
        self.global_mean_ = self.model.global_mean_
        self._csr_cache_ = None
        return self

    def predict(self, users, items, *, unknown="raise"):
        r"""Predicted ratings $\mu + p_u^\top q_i$ of (user, item) pairs.

        Parameters
        ----------
        users, items : scalar ids, or two 1-D sequences of ids of equal length
        unknown : {"raise", "fallback"}, default "raise"
            ``"raise"``: an unknown user or item raises ``UnknownUserError`` /
            ``UnknownItemError``; ``"fallback"``: such a pair is predicted as
            the global mean $\mu$.

        Returns
        -------
        float for a scalar pair, else numpy.ndarray of float
        """
        u, i, scalar = self._pair_indices(users, items, unknown)
        est = np.full(len(u), self.global_mean_, dtype=float)
        both = (u >= 0) & (i >= 0)
        est[both] += rowwise_dot(
            self.user_factors_, self.item_factors_, u[both], i[both]
        )
        if self.model.clip:
            est = np.clip(est, *self.model.rating_range_)
        return float(est[0]) if scalar else est

    def _score_items(self, user_index):
        return (
            self.global_mean_
            + self.item_factors_ @ self.user_factors_[user_index]
        )

    def _score_block(self, user_indices):
        return (
            self.global_mean_
            + self.user_factors_[user_indices] @ self.item_factors_.T
        )


class OnlineMF(BiasedMF):
    r"""Biased matrix factorisation that keeps learning from a stream (``partial_fit``).

    ``fit`` is :meth:`mathrec.factorization.BiasedMF.fit`; ``partial_fit``
    then runs **one** SGD pass over a batch of new ratings, in their order of
    arrival, with the same update rules and hyper-parameters.  All
    parameters are those of :class:`mathrec.factorization.BiasedMF`.

    Notes
    -----
    For each new event $(u, i, r_{ui})$, in order (by ``timestamp`` when the
    batch has one, else by row), with $e_{ui} = r_{ui} - \hat r_{ui}$:

    .. math::
        b_u &\leftarrow b_u + \eta (e_{ui} - \lambda b_u), \qquad
        b_i \leftarrow b_i + \eta (e_{ui} - \lambda b_i), \\
        p_u &\leftarrow p_u + \eta (e_{ui} q_i - \lambda p_u), \qquad
        q_i \leftarrow q_i + \eta (e_{ui} p_u - \lambda q_i).

    This is the "online-updating" scheme of Rendle & Schmidt-Thieme: a
    stochastic step on the new terms of the objective only, at cost $O(k)$
    per event.  A user or item first seen in the batch gets biases 0 and
    factors drawn from $\mathcal N(\text{init\_mean}, \text{init\_std\_dev}^2)$
    (from a generator seeded once by ``random_state``, so the stream is
    reproducible).  $\mu$ stays the training mean.  Set ``lr_qi=0`` (and
    ``lr_bi=0``) to update user parameters only.  After the pass the new
    ratings join ``interactions_`` (a later rating of the same pair replaces
    the earlier one), so ``recommend`` leaves them out.  ``history_`` is not
    extended.

    Taught in chapter 8 (trends: real-time updates).

    References
    ----------
    .. [1] S. Rendle and L. Schmidt-Thieme, "Online-updating regularized
       kernel matrix factorization models for large-scale recommender
       systems", RecSys 2008, doi:10.1145/1454008.1454047.
    .. [2] J. Vinagre, A. M. Jorge and J. Gama, "Fast incremental matrix
       factorization for recommendation with positive-only feedback",
       UMAP 2014, doi:10.1007/978-3-319-08786-3_41.

    Examples
    --------
    >>> import pandas as pd
    >>> from mathrec.incremental import OnlineMF
    >>> df = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": [10, 20, 10, 30, 20],
    ...                    "rating": [5.0, 3.0, 4.0, 1.0, 2.0]})
    >>> model = OnlineMF(n_factors=2, n_epochs=50, lr_all=0.05, random_state=0)
    >>> model = model.fit(df)
    >>> before = model.predict(3, 30)
    >>> new = pd.DataFrame({"user": [3], "item": [30], "rating": [5.0]})
    >>> _ = model.partial_fit(new)
    >>> bool(model.predict(3, 30) > before)
    True
    """

    def fit(self, ratings, validation=None, *, _compiled=True):
        super().fit(ratings, validation, _compiled=_compiled)
        self._stream_rng_ = None
        return self

    def partial_fit(self, ratings, *, _compiled=True):
        """One SGD pass over the new ratings ``ratings``; returns ``self``.

        Parameters
        ----------
        ratings : pandas.DataFrame or mathrec.data.Interactions
            New events, columns ``user, item, rating[, timestamp]``; ids may
            be new.  At most one event per (user, item) pair per batch.

        Raises
        ------
        RuntimeError
            If the model is not fitted.
        ValueError
            If ``ratings`` is empty or invalid.
        """
        self._check_fitted()
        rates = self._rates()
        new = as_interactions(ratings)
        if new.n_ratings == 0:
            raise ValueError("ratings is empty: there is nothing to learn from")
        if getattr(self, "_stream_rng_", None) is None:
            seed = self.random_state if self.random_state is not None else None
            if isinstance(seed, (np.random.RandomState, np.random.Generator)):
                self._stream_rng_ = seed
            else:
                base = _check_random_state(seed)
                self._stream_rng_ = np.random.RandomState(
                    base.randint(0, 2**31 - 1)
                )
        rng = self._stream_rng_
        old = self.interactions_
        new_frame = new.to_frame()[["user", "item", "rating"]]
        merged = Interactions.from_frame(
            pd.concat(
                [old.to_frame()[["user", "item", "rating"]], new_frame],
                ignore_index=True,
            ),
            timestamp=None,
            duplicates="last",
        )
        k = self.user_factors_.shape[1]
        init_std = float(self.init_std_dev)
        init_mean = float(self.init_mean)

        def grow(old_ids, new_ids, F, b, lookup):
            pos = np.asarray(lookup(old_ids), dtype=np.intp)
            fresh = np.ones(len(new_ids), dtype=bool)
            fresh[pos] = False
            F2 = np.empty((len(new_ids), k))
            F2[pos] = F
            F2[fresh] = rng.normal(
                init_mean, init_std, size=(int(fresh.sum()), k)
            )
            b2 = np.zeros(len(new_ids))
            b2[pos] = b
            return F2, b2

        P, bu = grow(
            old.users,
            merged.users,
            self.user_factors_,
            self.user_bias_,
            merged.user_index,
        )
        Q, bi = grow(
            old.items,
            merged.items,
            self.item_factors_,
            self.item_bias_,
            merged.item_index,
        )
        u = np.asarray(merged.user_index(new.users), dtype=np.int64)[
            new.user_idx
        ]
        i = np.asarray(merged.item_index(new.items), dtype=np.int64)[
            new.item_idx
        ]
        r = np.ascontiguousarray(new.ratings, dtype=np.float64)
        if new.timestamps is not None:
            order = np.argsort(new.timestamps, kind="stable").astype(np.int64)
        else:
            order = np.arange(len(r), dtype=np.int64)
        sgd, _ = sgd_kernels(_compiled)
        # an overflow is reported once, by _check_diverged, not as NumPy
        # warnings
        with np.errstate(over="ignore", invalid="ignore"):
            sgd(
                np.ascontiguousarray(u),
                np.ascontiguousarray(i),
                r,
                order,
                self.global_mean_,
                bu,
                bi,
                P,
                Q,
                rates["lr_bu"],
                rates["lr_bi"],
                rates["lr_pu"],
                rates["lr_qi"],
                rates["reg_bu"],
                rates["reg_bi"],
                rates["reg_pu"],
                rates["reg_qi"],
                bool(self.biased),
            )
        # a diverged update leaves the fitted model as it was
        _check_diverged(
            "OnlineMF.partial_fit",
            1,
            0.0,
            (bu, bi, P, Q),
            "the learning rates (lr_all, lr_bu, ...) are too large for these "
            "ratings: lower them (the default is 0.005) or raise reg_all",
        )
        self.user_factors_, self.item_factors_ = P, Q
        self.user_bias_, self.item_bias_ = bu, bi
        lo, hi = self.rating_range_
        self.rating_range_ = (min(lo, float(r.min())), max(hi, float(r.max())))
        self.interactions_ = merged
        self.users_ = merged.users
        self.items_ = merged.items
        self._csr_cache_ = None
        return self
