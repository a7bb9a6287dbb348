"""Matrix factorisation: PureSVD, biased MF by SGD, explicit ALS and implicit ALS.

Every model here writes the rating matrix (or a score matrix) as a product of
two thin factor matrices, $R \\approx P Q^\\top$, and differs only in what it
fits and how:

- :class:`PureSVD` takes the truncated SVD of the (optionally centred)
  zero-filled matrix: a closed form, no iterations;
- :class:`BiasedMF` fits $\\hat r_{ui} = \\mu + b_u + b_i + p_u^\\top q_i$ to the
  observed ratings only, by stochastic gradient descent (Funk; Koren, Bell &
  Volinsky), with Surprise's ``SVD`` update rules and defaults;
- :class:`ALS` fits $\\hat r_{ui} = \\mu + p_u^\\top q_i$ by alternating least
  squares, each half step a closed-form ridge regression per user or per item;
- :class:`ImplicitALS` fits preferences $1[r_{ui} > 0]$ with confidences
  $1 + \\alpha r_{ui}$ over *all* cells (Hu, Koren & Volinsky), solving each
  half step by a few conjugate-gradient steps.

Chapter 3 (``notebooks/ch03_factorisation.ipynb``) teaches them.

The SGD loop of :class:`BiasedMF` is sequential by nature (every update reads
what the previous one wrote), so it is compiled with numba when numba is
installed; without numba the same updates run as a NumPy loop over ratings,
which gives the same numbers about 30 times more slowly (1.5 s instead of
0.05 s per epoch over the 100,836 ratings of ml-latest-small, k = 100).  These
loops, and ImplicitALS's conjugate-gradient solvers, live in
``mathrec._kernels``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._base import (
    DivergenceError,
    RecommenderMixin,
    _one_blas_thread,
    check_positive_int,
    check_random_state,
)
from ._kernels import CHUNK_FLOATS, cg_half_step, rowwise_dot, sgd_kernels
from ._validation import check_choice, check_real
from .data import MAX_ABS_RATING, as_interactions
from .linalg import truncated_svd

__all__ = [
    "PureSVD",
    "BiasedMF",
    "ALS",
    "ImplicitALS",
    "sgd_pass",
    "als_solve",
    "implicit_als_solve",
]


# --------------------------------------------------------------------- checks
def _check_random_state(random_state):
    """mathrec's one ``random_state`` convention (``mathrec._base.check_random_state``)."""
    return check_random_state(random_state)


def _check_float(value, name, *, minimum=0.0, strict=False):
    """A finite real number ``>= minimum`` (``> minimum`` with ``strict``)."""
    return check_real(
        value, name, low=minimum, closed="neither" if strict else "both"
    )


def _check_real(value, name):
    """A finite real number (any sign)."""
    return check_real(value, name)


def _check_diverged(model, step, loss, arrays, advice):
    """Raise :class:`DivergenceError` when the loss or any parameter is not finite."""
    if np.isfinite(loss) and all(np.isfinite(a).all() for a in arrays):
        return
    raise DivergenceError(
        f"{model} diverged at iteration {step}: the training loss or the "
        f"parameters are "
        f"no longer finite. Advice: {advice}."
    )


def _check_unknown(unknown):
    return check_choice(unknown, "unknown", ("raise", "fallback"))


# ------------------------------------------------------------- shared plumbing
class _FactorModel(RecommenderMixin):
    """Plumbing shared by the factorisation estimators (not public)."""

    def _start_fit(self, ratings):
        inter = as_interactions(ratings)
        self.interactions_ = inter
        self.users_ = inter.users
        self.items_ = inter.items
        self._csr_cache_ = None
        return inter

    def _validation_pairs(self, validation):
        """Map a validation set onto the training indices (-1 for unseen ids)."""
        if validation is None:
            return None
        val = as_interactions(validation)
        inter = self.interactions_
        u = np.asarray(
            inter.user_index(val.users, strict=False), dtype=np.intp
        )[val.user_idx]
        i = np.asarray(
            inter.item_index(val.items, strict=False), dtype=np.intp
        )[val.item_idx]
        return u, i, val.ratings

    def _score_items(self, user_index):
        return (
            self.item_factors_ @ self.user_factors_[user_index]
            + self._item_offset()
        )

    def _score_block(self, user_indices):
        # one matrix product for the block: (n_block x k) (k x n_items)
        return (
            self.user_factors_[user_indices] @ self.item_factors_.T
            + self._item_offset()
        )

    def _score_scale(self, scores):
        """Largest possible score magnitude, max ||p_u|| * max ||q_i|| + max |offset|.

        A user whose history lies outside the model's subspace (one rating of
        a rarely rated movie, in PureSVD) gets scores of the size of rounding
        errors; measured against the model's scale they are all zero, so they
        rank as ties (by item index) on every machine, not by noise.
        """
        cache = getattr(self, "_scale_cache_", None)
        if not (isinstance(cache, tuple) and cache[0] is self.user_factors_):
            p = np.sqrt(
                np.max(
                    np.einsum(
                        "uk,uk->u", self.user_factors_, self.user_factors_
                    ),
                    initial=0.0,
                )
            )
            q = np.sqrt(
                np.max(
                    np.einsum(
                        "ik,ik->i", self.item_factors_, self.item_factors_
                    ),
                    initial=0.0,
                )
            )
            offset = float(np.max(np.abs(self._item_offset()), initial=0.0))
            cache = (self.user_factors_, p * q + offset)
            self._scale_cache_ = cache
        return cache[1]

    def _item_offset(self):
        return 0.0


# ===================================================================== PureSVD
def _is_zero_after_centring(R, center):
    """Whether PureSVD's matrix, ``R`` (zero-filled) or its item-centred form, is all zeros."""
    if center != "item":
        return not np.any(R.data)
    # R_0 - 1 c^T vanishes exactly when every column of R_0 is constant
    return bool(
        np.array_equal(R.max(axis=0).toarray(), R.min(axis=0).toarray())
    )


class PureSVD(_FactorModel):
    r"""Truncated SVD of the zero-filled rating matrix (Cremonesi, Koren & Turrin).

    PureSVD fills every unobserved cell with 0, optionally subtracts each
    item's column mean, and keeps the ``n_factors`` leading singular triplets.
    The score of item $i$ for user $u$ is the reconstructed cell.  It is a
    top-N ranker, not a rating predictor: a missing rating is treated as a
    (strong) signal of dislike.

    Parameters
    ----------
    n_factors : int, default 50
        Number of singular triplets kept, $k$.  Must be smaller than
        ``min(n_users, n_items)`` (ARPACK computes a *truncated* SVD).
    center : {None, "item"}, default None
        What is subtracted before the SVD.  ``None``: nothing, it factorises
        $R_0$, the zero-filled matrix (the original PureSVD).  ``"item"``:
        each column's mean over *all* users, it factorises
        $R_0 - \mathbf 1 c^\top$ with $c_i = \frac1m \sum_u (R_0)_{ui}$ (the
        zeros of the unrated cells included, so $c_i$ is not the mean rating
        of item $i$), i.e. the principal components of $R_0$; $c$ is added
        back to every score.  The centred matrix is dense, so it is never
        formed: ARPACK sees it only through a
        :class:`scipy.sparse.linalg.LinearOperator`.
    random_state : None, int, RandomState or Generator, default None
        Seeds ARPACK's starting vector (see :func:`mathrec.linalg.truncated_svd`,
        which computes the factorisation).

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_factors)
        $U_k \Sigma_k$.
    item_factors_ : ndarray of shape (n_items, n_factors)
        $V_k$ (orthonormal columns).
    singular_values_ : ndarray of shape (n_factors,)
        $\sigma_1 \ge \dots \ge \sigma_k$.
    item_means_ : ndarray of shape (n_items,)
        $c$ (all zeros when ``center=None``).
    interactions_ : mathrec.data.Interactions
        The training data.

    Notes
    -----
    With $X = R_0 - \mathbf 1 c^\top$ and its truncated SVD
    $X \approx U_k \Sigma_k V_k^\top$ (Eckart--Young: the best rank-$k$
    approximation in Frobenius norm), the scores are

    .. math:: \hat X = U_k \Sigma_k V_k^\top + \mathbf 1 c^\top
              = (R_0 - \mathbf 1 c^\top) V_k V_k^\top + \mathbf 1 c^\top,

    so a user's scores are her (centred) row projected on the span of the top
    $k$ right singular vectors.  The operator applies
    $Xv = R_0 v - \mathbf 1 (c^\top v)$ and $X^\top w = R_0^\top w - c
    (\mathbf 1^\top w)$: two sparse products, never a dense matrix.
    The factorisation is :func:`mathrec.linalg.truncated_svd` of that
    operator, with its sign convention (the largest entry of each column of
    $U_k$ is positive). When $X = 0$ (every rating is 0, or with
    ``center="item"`` every column of $R_0$ is constant) the
    exact answer is taken, as :func:`mathrec.linalg.truncated_svd` does for a
    zero matrix: $\Sigma_k = 0$, so ``user_factors_`` is 0 and every score is
    the item mean $c_i$.

    Taught in chapter 3 (matrix factorisation).

    References
    ----------
    .. [1] P. Cremonesi, Y. Koren and R. Turrin, "Performance of recommender
       algorithms on top-N recommendation tasks", RecSys 2010,
       doi:10.1145/1864708.1864721.

    Examples
    --------
    >>> import pandas as pd
    >>> from mathrec.factorization import PureSVD
    >>> df = pd.DataFrame({"user": [1, 1, 2, 2, 3, 3],
    ...                    "item": ["a", "b", "b", "c", "a", "c"],
    ...                    "rating": [5.0, 4.0, 4.0, 2.0, 5.0, 1.0]})
    >>> model = PureSVD(n_factors=1, random_state=0).fit(df)
    >>> model.singular_values_.round(3)
    array([8.011])
    >>> model.recommend(2, n=1).round(3)
      item  score
    0    a  2.043
    """

    def __init__(self, n_factors=50, *, center=None, random_state=None):
        self.n_factors = n_factors
        self.center = center
        self.random_state = random_state

    def fit(self, ratings):
        """Factorise the training ratings; returns ``self``.

        Parameters
        ----------
        ratings : pandas.DataFrame or mathrec.data.Interactions
            Columns ``user, item, rating``.
        """
        k = check_positive_int(self.n_factors, "n_factors")
        if self.center not in (None, "item"):
            raise ValueError(
                f"center must be None or 'item'; got {self.center!r}"
            )
        rng = _check_random_state(self.random_state)
        inter = self._start_fit(ratings)
        R = inter.to_csr()
        m, n = R.shape
        if k >= min(m, n):
            raise ValueError(
                f"n_factors must be smaller than min(n_users, n_items) = "
                f"{min(m, n)}; got {k}"
            )
        c = (
            np.asarray(R.mean(axis=0)).ravel()
            if self.center == "item"
            else np.zeros(n)
        )
        Rt = R.T.tocsr()
        ones_m = np.ones(m)

        def matvec(v):
            v = np.asarray(v, dtype=np.float64).ravel()
            return R @ v - ones_m * (c @ v)

        def rmatvec(w):
            w = np.asarray(w, dtype=np.float64).ravel()
            return Rt @ w - c * w.sum()

        def matmat(V):
            return R @ V - np.outer(ones_m, c @ V)

        def rmatmat(W):
            return Rt @ W - np.outer(c, W.sum(axis=0))

        X = spla.LinearOperator(
            (m, n),
            matvec=matvec,
            rmatvec=rmatvec,
            matmat=matmat,
            rmatmat=rmatmat,
            dtype=np.float64,
        )
        # the truncated SVD of chapter 4 (one sign convention: the largest entry
        # of each left singular vector is positive)
        if _is_zero_after_centring(R, self.center):
            # ARPACK cannot start from a zero range; the exact answer, as
            # truncated_svd's
            U, s, Vt = np.eye(m, k), np.zeros(k), np.eye(k, n)
        else:
            U, s, Vt = truncated_svd(X, k, random_state=rng)
        self.singular_values_ = s
        P = U * s
        # A user whose (centred) row is orthogonal to the k singular vectors
        # (e.g. one
        # rating on a movie outside their span) has p_u = x_u V_k = 0 exactly;
        # ARPACK
        # returns rounding noise of order 1e-16 instead, whose sign pattern
        # depends on
        # the BLAS kernel and would order that user's list at random. Set it to
        # 0, so
        # all their scores tie and the documented tie rule (item index) applies.
        row_sq = (
            np.asarray(R.multiply(R).sum(axis=1)).ravel()
            - 2.0 * (R @ c)
            + c @ c
        )
        P[
            np.linalg.norm(P, axis=1) <= 1e-9 * np.sqrt(np.maximum(row_sq, 0.0))
        ] = 0.0
        self.user_factors_ = P
        self.item_factors_ = Vt.T.copy()
        self.item_means_ = c
        return self

    def _item_offset(self):
        return self.item_means_

    def predict(self, users, items):
        """Reconstructed scores $\\hat x_{ui}$ of (user, item) pairs.

        Unknown ids raise :class:`mathrec.data.UnknownUserError` /
        ``UnknownItemError``: PureSVD has nothing to say about them.
        """
        u, i, scalar = self._pair_indices(users, items, "raise")
        out = (
            rowwise_dot(self.user_factors_, self.item_factors_, u, i)
            + self.item_means_[i]
        )
        return float(out[0]) if scalar else out


def _first_appearance_order(idx, n):
    """Position of each index's first occurrence in ``idx`` and the indices sorted by it."""
    first = np.full(n, len(idx), dtype=np.intp)
    np.minimum.at(first, idx, np.arange(len(idx), dtype=np.intp))
    return first, np.argsort(first, kind="stable")


# ==================================================================== BiasedMF
class BiasedMF(_FactorModel):
    r"""Biased matrix factorisation learned by SGD (Funk's "SVD", Surprise's ``SVD``).

    Parameters
    ----------
    n_factors : int, default 100
        Number of latent factors $k$.
    n_epochs : int, default 20
        Number of passes over the training ratings.
    biased : bool, default True
        Learn $\mu, b_u, b_i$; if False, $\hat r_{ui} = p_u^\top q_i$.
    lr_all, reg_all : float, default 0.005 and 0.02
        Learning rate $\eta$ and regularisation $\lambda$ for every parameter.
    lr_bu, lr_bi, lr_pu, lr_qi, reg_bu, reg_bi, reg_pu, reg_qi : float or None
        Per-parameter overrides of ``lr_all`` / ``reg_all`` (as in Surprise).
    init_mean, init_std_dev : float, default 0 and 0.1
        $p_u$ and $q_i$ start as independent normal draws; biases start at 0.
    shuffle : bool, default False
        ``False`` visits the ratings in Surprise's order in every epoch: grouped
        by user, users in the order of their first rating in the training data,
        each user's ratings in data order.  ``True`` draws a fresh random
        permutation of all ratings every epoch (textbook SGD).
    clip : bool, default True
        Clip predictions to the range of the training ratings (Surprise clips
        to the rating scale).
    random_state : int, RandomState or None, default None
        Seeds the initial factors (and the shuffles).  Initial factors are drawn
        as Surprise draws them: ``RandomState(seed).normal`` for all users
        (in order of first appearance), then for all items.

    Attributes
    ----------
    global_mean_ : float
        $\mu$, the mean training rating (0 when ``biased=False``).
    user_bias_, item_bias_ : ndarray
        $b_u$ and $b_i$ by internal index.
    user_factors_, item_factors_ : ndarray of shape (n_users, k), (n_items, k)
        $P$ and $Q$.
    history_ : pandas.DataFrame
        One row per epoch: ``iteration`` (the epoch, from 1), ``train_rmse``,
        ``objective`` (the regularised objective below, evaluated at the end
        of the epoch) and ``valid_rmse`` (NaN when no validation set was
        given).
    interactions_ : mathrec.data.Interactions
        The training data.

    Notes
    -----
    The prediction is $\hat r_{ui} = \mu + b_u + b_i + p_u^\top q_i$ and the
    objective, summed over the set $\mathcal K$ of observed ratings, is

    .. math:: J = \sum_{(u,i)\in\mathcal K} \Big[ e_{ui}^2 +
              \lambda\big(b_u^2 + b_i^2 + \|p_u\|^2 + \|q_i\|^2\big)\Big],
              \qquad e_{ui} = r_{ui} - \hat r_{ui}.

    (A user with $n_u$ ratings thus pays $\lambda n_u \|p_u\|^2$: the
    penalty is weighted by activity, as in ALS-WR.)  SGD visits one rating at
    a time and steps against the gradient of its term, with the factor 2
    absorbed into $\eta$:

    .. math::
        b_u &\leftarrow b_u + \eta (e_{ui} - \lambda b_u), \qquad
        b_i \leftarrow b_i + \eta (e_{ui} - \lambda b_i), \\
        p_u &\leftarrow p_u + \eta (e_{ui} q_i - \lambda p_u), \qquad
        q_i \leftarrow q_i + \eta (e_{ui} p_u - \lambda q_i),

    where $q_i$ in the $p_u$ update and $p_u$ in the $q_i$ update are the
    values before the step.  A user or item unseen in training contributes
    $b = 0$ and $p = 0$ with ``unknown="fallback"``; so does one that is in
    the training container but has no rating (its factors are set to 0).

    The loop is sequential, so it is compiled with numba when available
    (a NumPy fallback runs the same updates, about 30 times more slowly).

    *Lists.* ``recommend`` ranks items by predicted rating, the quantity the
    model is fitted to.  Over a whole catalogue that is a trade-off against
    the lists: items with few ratings can be predicted high, and a rating
    model is not trained to order items for a user (Cremonesi, Koren and
    Turrin 2010, doi:10.1145/1864708.1864721).  On a validation split of
    *ml-latest-small* (``random_split(train, 0.2, random_state=1)`` of
    ``random_split(ratings, 0.2, random_state=0)``'s training part),
    ``BiasedMF(random_state=0)`` has precision@10 0.0415 and NDCG@10 0.0518,
    against 0.0881 and 0.1199 for :class:`mathrec.Popularity` and 0.1153 and
    0.1640 for :class:`PureSVD`.  For top-N lists use a model fitted to rank
    (:class:`PureSVD`, :class:`ImplicitALS`, :class:`mathrec.EASE`,
    :class:`mathrec.BPR`); chapter 3 compares both kinds.

    Taught in chapter 3 (matrix factorisation).

    References
    ----------
    .. [1] S. Funk, "Netflix Update: Try This at Home", 2006,
       https://sifter.org/~simon/journal/20061211.html
    .. [2] Y. Koren, R. Bell and C. Volinsky, "Matrix factorization techniques
       for recommender systems", Computer 42(8), 2009, doi:10.1109/MC.2009.263.

    Examples
    --------
    >>> import pandas as pd
    >>> from mathrec.factorization import BiasedMF
    >>> df = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": [10, 20, 10, 30, 20],
    ...                    "rating": [5.0, 3.0, 4.0, 1.0, 2.0]})
    >>> model = BiasedMF(n_factors=2, n_epochs=50, lr_all=0.05, random_state=0)
    >>> model = model.fit(df)
    >>> round(model.global_mean_, 2)
    3.0
    >>> # clipped to the rating range [1, 5]
    >>> model.predict([1, 3], [10, 30]).round(2)
    array([5.  , 1.29])
    """

    predicts_ratings = True

    def __init__(
        self,
        n_factors=100,
        n_epochs=20,
        *,
        biased=True,
        lr_all=0.005,
        reg_all=0.02,
        lr_bu=None,
        lr_bi=None,
        lr_pu=None,
        lr_qi=None,
        reg_bu=None,
        reg_bi=None,
        reg_pu=None,
        reg_qi=None,
        init_mean=0.0,
        init_std_dev=0.1,
        shuffle=False,
        clip=True,
        random_state=None,
    ):
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.biased = biased
        self.lr_all = lr_all
        self.reg_all = reg_all
        self.lr_bu = lr_bu
        self.lr_bi = lr_bi
        self.lr_pu = lr_pu
        self.lr_qi = lr_qi
        self.reg_bu = reg_bu
        self.reg_bi = reg_bi
        self.reg_pu = reg_pu
        self.reg_qi = reg_qi
        self.init_mean = init_mean
        self.init_std_dev = init_std_dev
        self.shuffle = shuffle
        self.clip = clip
        self.random_state = random_state

    def _rates(self):
        lr_all = _check_float(self.lr_all, "lr_all")
        reg_all = _check_float(self.reg_all, "reg_all")
        out = {}
        for name in ("lr_bu", "lr_bi", "lr_pu", "lr_qi"):
            v = getattr(self, name)
            out[name] = lr_all if v is None else _check_float(v, name)
        for name in ("reg_bu", "reg_bi", "reg_pu", "reg_qi"):
            v = getattr(self, name)
            out[name] = reg_all if v is None else _check_float(v, name)
        return out

    def fit(self, ratings, validation=None, *, _compiled=True):
        """Learn biases and factors by SGD; returns ``self``.

        Parameters
        ----------
        ratings : pandas.DataFrame or mathrec.data.Interactions
            Training ratings, columns ``user, item, rating``.
        validation : pandas.DataFrame or Interactions, optional
            Held-out ratings whose RMSE is recorded after every epoch in
            ``history_`` (unseen ids fall back to the biases).
        """
        k = check_positive_int(self.n_factors, "n_factors")
        n_epochs = check_positive_int(self.n_epochs, "n_epochs", minimum=0)
        rates = self._rates()
        init_std = _check_float(self.init_std_dev, "init_std_dev", strict=True)
        init_mean = _check_real(self.init_mean, "init_mean")
        rng = _check_random_state(self.random_state)
        inter = self._start_fit(ratings)
        val = self._validation_pairs(validation)
        u = np.ascontiguousarray(inter.user_idx, dtype=np.int64)
        i = np.ascontiguousarray(inter.item_idx, dtype=np.int64)
        r = np.ascontiguousarray(inter.ratings, dtype=np.float64)
        n_u, n_i = inter.n_users, inter.n_items

        # Surprise's inner ids: users and items numbered by first appearance
        first_u, users_in_order = _first_appearance_order(u, n_u)
        _, items_in_order = _first_appearance_order(i, n_i)
        P = np.empty((n_u, k))
        Q = np.empty((n_i, k))
        P[users_in_order] = rng.normal(init_mean, init_std, size=(n_u, k))
        Q[items_in_order] = rng.normal(init_mean, init_std, size=(n_i, k))
        bu = np.zeros(n_u)
        bi = np.zeros(n_i)
        mu = float(r.mean()) if self.biased else 0.0
        order = np.argsort(first_u[u], kind="stable").astype(np.int64)

        sgd, sse = sgd_kernels(_compiled)
        biased = bool(self.biased)
        rows = []
        for epoch in range(1, n_epochs + 1):
            if self.shuffle:
                order = rng.permutation(len(r)).astype(np.int64)
            # an overflow is reported once, by _check_diverged, not as NumPy
            # warnings
            with np.errstate(over="ignore", invalid="ignore"):
                sgd(
                    u,
                    i,
                    r,
                    order,
                    mu,
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
                    biased,
                )
                train_sse = sse(u, i, r, mu, bu, bi, P, Q)
            _check_diverged(
                type(self).__name__,
                epoch,
                train_sse,
                (bu, bi, P, Q),
                "the learning rates (lr_all, lr_bu, ...) are too large for "
                "these "
                "ratings: lower them (the default is 0.005) or raise reg_all",
            )
            penalty = (
                rates["reg_bu"] * np.bincount(u, minlength=n_u) @ bu**2
                + rates["reg_bi"] * np.bincount(i, minlength=n_i) @ bi**2
                + rates["reg_pu"]
                * np.bincount(u, minlength=n_u)
                @ (P**2).sum(1)
                + rates["reg_qi"]
                * np.bincount(i, minlength=n_i)
                @ (Q**2).sum(1)
            )
            valid = np.nan
            if val is not None:
                valid = self._rmse_pairs(val, mu, bu, bi, P, Q, r)
            rows.append(
                (epoch, np.sqrt(train_sse / len(r)), train_sse + penalty, valid)
            )
        # a user or item with no training rating keeps no random factors
        P[np.bincount(u, minlength=n_u) == 0] = 0.0
        Q[np.bincount(i, minlength=n_i) == 0] = 0.0
        self.global_mean_ = mu
        self.user_bias_ = bu
        self.item_bias_ = bi
        self.user_factors_ = P
        self.item_factors_ = Q
        self.rating_range_ = (float(r.min()), float(r.max()))
        self.history_ = pd.DataFrame(
            rows, columns=["iteration", "train_rmse", "objective", "valid_rmse"]
        )
        return self

    def _raw_predict(self, u, i, mu, bu, bi, P, Q):
        ku, ki = u >= 0, i >= 0
        both = ku & ki
        est = np.full(len(u), mu)
        est[ku] += bu[u[ku]]
        est[ki] += bi[i[ki]]
        est[both] += rowwise_dot(P, Q, u[both], i[both])
        return est

    def _rmse_pairs(self, val, mu, bu, bi, P, Q, r_train):
        u, i, r = val
        est = self._raw_predict(u, i, mu, bu, bi, P, Q)
        if self.clip:
            est = np.clip(est, r_train.min(), r_train.max())
        return float(np.sqrt(np.mean((r - est) ** 2)))

    def predict(self, users, items, *, unknown="raise"):
        r"""Predicted ratings $\hat r_{ui}$ for (user, item) pairs.

        Parameters
        ----------
        users, items : array-like of ids (or two scalars)
            The pairs, in the caller's ids.
        unknown : {"raise", "fallback"}, default "raise"
            ``"raise"``: an id unseen in training raises
            :class:`mathrec.data.UnknownUserError` / ``UnknownItemError``.
            ``"fallback"``: unseen users/items contribute zero bias and zero
            factors, so the prediction falls back to $\mu + b_i$, $\mu + b_u$
            or $\mu$ (Surprise's rule).

        Returns
        -------
        ndarray of float (a float for two scalars)
        """
        u, i, scalar = self._pair_indices(users, items, unknown)
        est = self._raw_predict(
            u,
            i,
            self.global_mean_,
            self.user_bias_,
            self.item_bias_,
            self.user_factors_,
            self.item_factors_,
        )
        if self.clip:
            est = np.clip(est, *self.rating_range_)
        return float(est[0]) if scalar else est

    def _score_items(self, user_index):
        return (
            self.global_mean_
            + self.user_bias_[user_index]
            + self.item_bias_
            + self.item_factors_ @ self.user_factors_[user_index]
        )

    def _score_block(self, user_indices):
        out = self.user_factors_[user_indices] @ self.item_factors_.T
        out += self.user_bias_[user_indices][:, None]
        out += self.global_mean_ + self.item_bias_
        return out


# ======================================================================== ALS
def _rows_by_count_chunks(counts, k, budget=CHUNK_FLOATS):
    """Split rows, sorted by their number of entries, into chunks that fit ``budget``.

    Each chunk is padded to its longest row, so sorting by count keeps the
    padding small; a chunk holds at most ``budget`` floats of gathered factors
    and of stacked k x k systems.
    """
    order = np.argsort(counts, kind="stable")
    sorted_counts = counts[order]
    start = np.searchsorted(sorted_counts, 1)  # rows with no entries come first
    chunks = []
    a = start
    n = len(order)
    while a < n:
        # grow the chunk while (rows * max_len * k) and (rows * k * k) fit
        longest = sorted_counts[a]
        per_row = max(longest * k, k * k, 1)
        b = min(n, a + max(1, budget // per_row))
        longest = sorted_counts[b - 1]
        per_row = max(longest * k, k * k, 1)
        b = min(b, a + max(1, budget // per_row))
        chunks.append(order[a:b])
        a = b
    return order[:start], chunks


def _als_half_step(R, Y, lam, weighted, out):
    r"""Solve $\min_x \sum_i (r_{ui} - x^\top y_i)^2 + \lambda_u \|x\|^2$ for every row of ``R``.

    Rows are processed in chunks: the factors of each row's items are gathered
    into a zero-padded ``(rows, L, k)`` stack, the normal matrices
    $Y_u^\top Y_u + \lambda_u I$ are formed with one batched ``matmul`` and
    solved with one batched ``numpy.linalg.solve``.
    """
    k = Y.shape[1]
    counts = np.diff(R.indptr)
    empty, chunks = _rows_by_count_chunks(counts, k)
    out[empty] = 0.0
    eye = np.eye(k)
    for rows in chunks:
        lens = counts[rows]
        L = int(lens.max())
        pos = np.arange(L)
        mask = pos < lens[:, None]
        flat = (R.indptr[rows][:, None] + pos)[mask]
        G = np.zeros((len(rows), L, k))
        G[mask] = Y[R.indices[flat]]
        rv = np.zeros((len(rows), L))
        rv[mask] = R.data[flat]
        Gt = G.transpose(0, 2, 1)
        A = Gt @ G
        A += (lam * (lens if weighted else np.ones_like(lens)))[
            :, None, None
        ] * eye
        b = Gt @ rv[:, :, None]
        out[rows] = np.linalg.solve(A, b)[:, :, 0]
    return out


class ALS(_FactorModel):
    r"""Alternating least squares for explicit ratings (ALS-WR / Spark's ALS).

    Parameters
    ----------
    n_factors : int, default 10
        Number of latent factors $k$ (Spark's ``rank``).
    n_iter : int, default 10
        Number of sweeps; each sweep solves all users, then all items.
    regularization : float, default 0.1
        $\lambda$ (Spark's ``regParam``).
    reg_mode : {"weighted", "plain"}, default "weighted"
        ``"weighted"``: user $u$ pays $\lambda n_u \|p_u\|^2$ and item $i$
        pays $\lambda n_i \|q_i\|^2$ (Zhou et al.'s ALS-WR, Spark);
        ``"plain"``: $\lambda \|p_u\|^2$ and $\lambda \|q_i\|^2$.
    center : bool, default True
        Subtract one number, the global mean $\mu$ of the training ratings,
        from every rating, fit $r_{ui} - \mu$, and add $\mu$ back to every
        prediction; no user or item means are removed (the factors absorb
        them).  Spark fits $r_{ui}$ itself: ``center=False``.
    init_std_dev : float, default 0.1
        Item factors start as normal draws with this standard deviation.
    clip : bool, default True
        Clip predictions to the range of the training ratings.
    random_state : int, RandomState or None, default None
        Seeds the initial item factors.

    Attributes
    ----------
    global_mean_ : float
        $\mu$ (0 when ``center=False``).
    user_factors_, item_factors_ : ndarray
        $P$ and $Q$.
    history_ : pandas.DataFrame
        One row per sweep: ``iteration`` (from 1), ``train_rmse``,
        ``objective`` ($J$ below, after the sweep) and ``valid_rmse`` (NaN
        when no validation set was given).
    interactions_ : mathrec.data.Interactions

    Notes
    -----
    The objective over the observed set $\mathcal K$ is

    .. math:: J(P, Q) = \sum_{(u,i)\in\mathcal K} (r_{ui} - \mu - p_u^\top q_i)^2
              + \lambda \Big(\sum_u w_u \|p_u\|^2 + \sum_i w_i \|q_i\|^2\Big),

    with $w = n$ (weighted) or $w = 1$ (plain).  For fixed $Q$ it is a sum of
    independent ridge regressions, one per user; setting the gradient to zero
    gives the normal equations

    .. math:: \big(Q_u^\top Q_u + \lambda w_u I\big)\, p_u = Q_u^\top (r_u - \mu),

    where $Q_u$ stacks the factors of the items $u$ rated.  Symmetrically for
    items.  Each half step can only decrease $J$, so $J$ is monotone over
    sweeps.  A user with no ratings gets $p_u = 0$.

    The systems are solved in batches (a zero-padded stack per chunk of users
    with similar numbers of ratings, one batched ``matmul`` and one batched
    ``numpy.linalg.solve``), with BLAS limited to one thread when
    ``threadpoolctl`` is installed: the matrices are small, and BLAS threads
    only add contention.

    *Lists.* ``recommend`` ranks items by predicted rating, the quantity the
    model is fitted to.  Over a whole catalogue that is a trade-off against
    the lists: items with few ratings can be predicted high, and a rating
    model is not trained to order items for a user (Cremonesi, Koren and
    Turrin 2010, doi:10.1145/1864708.1864721).  On a validation split of
    *ml-latest-small* (``random_split(train, 0.2, random_state=1)`` of
    ``random_split(ratings, 0.2, random_state=0)``'s training part),
    ``ALS(random_state=0)`` has precision@10 0.0037 and NDCG@10 0.0033 (its
    lists are rarely rated items),
    against 0.0881 and 0.1199 for :class:`mathrec.Popularity` and 0.1153 and
    0.1640 for :class:`PureSVD`.  For top-N lists use a model fitted to rank
    (:class:`PureSVD`, :class:`ImplicitALS`, :class:`mathrec.EASE`,
    :class:`mathrec.BPR`); chapter 3 compares both kinds.

    Taught in chapter 3 (matrix factorisation).

    References
    ----------
    .. [1] Y. Zhou, D. Wilkinson, R. Schreiber and R. Pan, "Large-scale
       parallel collaborative filtering for the Netflix Prize", AAIM 2008,
       doi:10.1007/978-3-540-68880-8_32.

    Examples
    --------
    >>> import pandas as pd
    >>> from mathrec.factorization import ALS
    >>> df = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": [10, 20, 10, 30, 20],
    ...                    "rating": [5.0, 3.0, 4.0, 1.0, 2.0]})
    >>> model = ALS(n_factors=2, n_iter=20, regularization=0.01, random_state=0)
    >>> model = model.fit(df)
    >>> bool(model.history_.objective.is_monotonic_decreasing)
    True
    >>> model.predict([1], [30]).round(2)
    array([1.98])
    """

    predicts_ratings = True

    def __init__(
        self,
        n_factors=10,
        n_iter=10,
        regularization=0.1,
        *,
        reg_mode="weighted",
        center=True,
        init_std_dev=0.1,
        clip=True,
        random_state=None,
    ):
        self.n_factors = n_factors
        self.n_iter = n_iter
        self.regularization = regularization
        self.reg_mode = reg_mode
        self.center = center
        self.init_std_dev = init_std_dev
        self.clip = clip
        self.random_state = random_state

    def fit(self, ratings, validation=None):
        """Alternate closed-form user and item solves; returns ``self``.

        Parameters
        ----------
        ratings : pandas.DataFrame or mathrec.data.Interactions
            Training ratings.
        validation : pandas.DataFrame or Interactions, optional
            Held-out ratings whose RMSE is recorded after every sweep.
        """
        k = check_positive_int(self.n_factors, "n_factors")
        n_iter = check_positive_int(self.n_iter, "n_iter", minimum=0)
        lam = _check_float(self.regularization, "regularization")
        if self.reg_mode not in ("weighted", "plain"):
            raise ValueError(
                f"reg_mode must be 'weighted' or 'plain'; got {self.reg_mode!r}"
            )
        weighted = self.reg_mode == "weighted"
        if lam == 0:
            # with lam = 0 the normal equations of a user (item) with fewer than
            # n_factors ratings are singular
            raise ValueError(
                "regularization must be > 0: with 0, the normal equations of "
                "any user or "
                f"item with fewer than n_factors={k} ratings are singular; got "
                f"0.0"
            )
        init_std = _check_float(self.init_std_dev, "init_std_dev", strict=True)
        rng = _check_random_state(self.random_state)
        inter = self._start_fit(ratings)
        val = self._validation_pairs(validation)
        mu = float(inter.ratings.mean()) if self.center else 0.0
        R = sp.csr_matrix(
            (inter.ratings - mu, (inter.user_idx, inter.item_idx)),
            shape=inter.shape,
        )
        R.sort_indices()
        Rt = R.T.tocsr()
        Rt.sort_indices()
        P = np.zeros((inter.n_users, k))
        Q = rng.normal(0.0, init_std, size=(inter.n_items, k))
        n_u = np.diff(R.indptr)
        n_i = np.diff(Rt.indptr)
        u, i, r = inter.user_idx, inter.item_idx, inter.ratings
        rows = []
        self.global_mean_ = mu
        self.rating_range_ = (float(r.min()), float(r.max()))
        for it in range(1, n_iter + 1):
            with _one_blas_thread():
                try:
                    _als_half_step(R, Q, lam, weighted, P)
                    _als_half_step(Rt, P, lam, weighted, Q)
                except np.linalg.LinAlgError as exc:
                    raise DivergenceError(
                        f"ALS: the normal equations became singular at sweep "
                        f"{it} ({exc}); "
                        f"regularization={lam!r} is too small for these "
                        f"ratings: raise it"
                    ) from None
            e = r - mu - rowwise_dot(P, Q, u, i)
            _check_diverged(
                "ALS",
                it,
                e @ e,
                (P, Q),
                "raise regularization, or rescale the ratings",
            )
            wu = n_u if weighted else np.ones_like(n_u)
            wi = n_i if weighted else np.ones_like(n_i)
            obj = e @ e + lam * (wu @ (P**2).sum(1) + wi @ (Q**2).sum(1))
            valid = np.nan
            if val is not None:
                self.user_factors_, self.item_factors_ = P, Q
                valid = self._valid_rmse(val)
            rows.append((it, float(np.sqrt(np.mean(e**2))), float(obj), valid))
        self.user_factors_ = P
        self.item_factors_ = Q
        self.history_ = pd.DataFrame(
            rows, columns=["iteration", "train_rmse", "objective", "valid_rmse"]
        )
        return self

    def _raw(self, u, i):
        est = np.full(len(u), self.global_mean_)
        both = (u >= 0) & (i >= 0)
        est[both] += rowwise_dot(
            self.user_factors_, self.item_factors_, u[both], i[both]
        )
        if self.clip:
            est = np.clip(est, *self.rating_range_)
        return est

    def _valid_rmse(self, val):
        u, i, r = val
        return float(np.sqrt(np.mean((r - self._raw(u, i)) ** 2)))

    def predict(self, users, items, *, unknown="raise"):
        r"""Predicted ratings $\mu + p_u^\top q_i$ for (user, item) pairs.

        ``unknown="fallback"`` predicts $\mu$ for pairs with an unseen id;
        ``"raise"`` (default) raises ``UnknownUserError`` / ``UnknownItemError``.
        """
        u, i, scalar = self._pair_indices(users, items, unknown)
        est = self._raw(u, i)
        return float(est[0]) if scalar else est

    def _item_offset(self):
        return self.global_mean_


# ================================================================ ImplicitALS
class ImplicitALS(_FactorModel):
    r"""Implicit-feedback ALS (Hu, Koren & Volinsky 2008) with a conjugate-gradient solver.

    Every cell of the user-item matrix takes part: an observed cell
    ($r_{ui} > 0$) says "preference 1" with confidence $1 + \alpha r_{ui}$, an
    unobserved cell says "preference 0" with confidence 1.

    Parameters
    ----------
    n_factors : int, default 100
        Number of latent factors $k$.
    n_iter : int, default 15
        Number of sweeps (users then items).
    regularization : float, default 0.01
        $\lambda$.
    alpha : float, default 1.0
        Confidence slope $\alpha$; the largest confidence $1 + \alpha r$ must
        stay at most ``1e100`` (the bound on ratings, see
        :meth:`mathrec.data.Interactions.from_frame`), else ``fit`` raises.
    cg_steps : int, default 3
        Conjugate-gradient steps per row and half step, warm-started from the
        previous sweep (``implicit``'s default).  Large values give the exact
        least-squares solution.
    init_scale : float, default 0.01
        Factors start uniform on $[0, \text{init\_scale})$.
    compute_loss : bool, default True
        Record the objective after every sweep in ``history_`` (costs about
        one more pass over the data per sweep; ``implicit`` skips it by
        default, ``calculate_training_loss=False``).
    random_state : int, RandomState or None, default None

    Attributes
    ----------
    user_factors_, item_factors_ : ndarray
        $X$ and $Y$.
    history_ : pandas.DataFrame
        One row per sweep: ``iteration`` (from 1) and ``objective``, the
        objective below divided by the total confidence (as ``implicit``
        reports its loss); NaN when ``compute_loss=False``.
    interactions_ : mathrec.data.Interactions

    Notes
    -----
    With $p_{ui} = 1[r_{ui} > 0]$ and $c_{ui} = 1 + \alpha r_{ui}$ the
    objective over *all* $m n$ cells is

    .. math:: \sum_{u,i} c_{ui} (p_{ui} - x_u^\top y_i)^2
              + \lambda \Big(\sum_u \|x_u\|^2 + \sum_i \|y_i\|^2\Big).

    For fixed $Y$ the minimiser for user $u$ solves

    .. math:: \big(Y^\top C_u Y + \lambda I\big) x_u = Y^\top C_u p_u,
              \qquad Y^\top C_u Y = Y^\top Y + Y^\top (C_u - I) Y,

    and $C_u - I$ is non-zero only on the $n_u$ items $u$ touched.  So
    $Y^\top Y$ is computed once per half step and the product of the matrix
    with a vector $v$ costs $O(k^2 + n_u k)$:
    $Y^\top Y v + \lambda v + \sum_{i \in I_u} (c_{ui}-1)(y_i^\top v)\, y_i$.
    Conjugate gradient needs nothing else (Takács, Pilászy & Tikk 2011).
    With numba installed each row runs a compiled loop (as ``implicit``'s
    Cython solver does); without it all rows of a chunk advance together in
    vectorised NumPy, with the same steps and results.

    The ``implicit`` library (0.7) takes its confidence to be ``alpha * r``
    itself rather than $1 + \alpha r$; it fits the same model as this class
    when given ``alpha=1`` and the matrix $1 + \alpha R$ on the observed cells
    (``benchmarks/implicit_als_vs_implicit.py`` does exactly that).

    Taught in chapter 3 (``notebooks/ch03_comparison.ipynb``).

    References
    ----------
    .. [1] Y. Hu, Y. Koren and C. Volinsky, "Collaborative filtering for
       implicit feedback datasets", ICDM 2008, doi:10.1109/ICDM.2008.22.
    .. [2] G. Takács, I. Pilászy and D. Tikk, "Applications of the conjugate
       gradient method for implicit feedback collaborative filtering",
       RecSys 2011, doi:10.1145/2043932.2043987.

    Examples
    --------
    >>> import pandas as pd
    >>> from mathrec.factorization import ImplicitALS
    >>> df = pd.DataFrame({"user": [1, 1, 2, 2, 3, 3, 4, 4],
    ...                    "item": ["a", "b", "a", "b", "c", "d", "a", "c"],
    ...                    "rating": 1.0})
    >>> model = ImplicitALS(n_factors=2, alpha=10.0, regularization=0.1,
    ...                     random_state=0).fit(df)
    >>> model.recommend(3, n=2)["item"].tolist()  # user 4 links c to a
    ['a', 'b']
    """

    def __init__(
        self,
        n_factors=100,
        n_iter=15,
        regularization=0.01,
        alpha=1.0,
        *,
        cg_steps=3,
        init_scale=0.01,
        compute_loss=True,
        random_state=None,
    ):
        self.n_factors = n_factors
        self.n_iter = n_iter
        self.regularization = regularization
        self.alpha = alpha
        self.cg_steps = cg_steps
        self.init_scale = init_scale
        self.compute_loss = compute_loss
        self.random_state = random_state

    def _confidence(self, inter):
        """Confidence CSR ``1 + alpha r`` on the cells with ``r > 0`` (others are dropped)."""
        alpha = _check_float(self.alpha, "alpha")
        keep = inter.ratings > 0
        if (inter.ratings < 0).any():
            raise ValueError(
                "ratings must be >= 0 for ImplicitALS (counts, clicks, ratings)"
            )
        r_max = float(inter.ratings.max()) if inter.n_ratings else 0.0
        # alpha * r_max may be inf: no overflow warning
        if alpha * r_max > MAX_ABS_RATING:
            raise ValueError(
                f"alpha must keep the confidences 1 + alpha * r <= "
                f"{MAX_ABS_RATING:g}, where "
                f"their squares stay finite in float64; got alpha={alpha!r} "
                f"with a largest "
                f"rating of {r_max!r}: lower alpha or rescale the interactions"
            )
        C = sp.csr_matrix(
            (
                1.0 + alpha * inter.ratings[keep],
                (inter.user_idx[keep], inter.item_idx[keep]),
            ),
            shape=inter.shape,
        )
        C.sort_indices()
        return C

    def fit(self, ratings, *, _compiled=True):
        """Alternate CG solves for users and items; returns ``self``.

        Parameters
        ----------
        ratings : pandas.DataFrame or mathrec.data.Interactions
            Interactions with ``rating >= 0`` (a count, a play time or an
            explicit rating; 0 means "not observed").
        """
        k = check_positive_int(self.n_factors, "n_factors")
        n_iter = check_positive_int(self.n_iter, "n_iter", minimum=0)
        cg_steps = check_positive_int(self.cg_steps, "cg_steps")
        lam = _check_float(self.regularization, "regularization")
        scale = _check_float(self.init_scale, "init_scale", strict=True)
        rng = _check_random_state(self.random_state)
        inter = self._start_fit(ratings)
        C = self._confidence(inter)
        Ct = C.T.tocsr()
        Ct.sort_indices()
        rowid = (
            np.repeat(np.arange(C.shape[0]), np.diff(C.indptr))
            if self.compute_loss
            else None
        )
        X = rng.random((inter.n_users, k)) * scale
        Y = rng.random((inter.n_items, k)) * scale
        rows = []
        for it in range(1, n_iter + 1):
            # an overflow is reported once, by _check_diverged, not as NumPy
            # warnings
            with (
                _one_blas_thread(),
                np.errstate(over="ignore", invalid="ignore"),
            ):
                cg_half_step(C, X, Y, lam, cg_steps, _compiled)
                cg_half_step(Ct, Y, X, lam, cg_steps, _compiled)
                loss = (
                    self._loss(C, X, Y, lam, rowid)
                    if self.compute_loss
                    else np.nan
                )
                rows.append((it, loss))
            _check_diverged(
                "ImplicitALS",
                it,
                loss if self.compute_loss else 0.0,
                (X, Y),
                "lower alpha (the confidences 1 + alpha * r overflow) or "
                "rescale the interactions",
            )
        self.user_factors_ = X
        self.item_factors_ = Y
        self.history_ = pd.DataFrame(rows, columns=["iteration", "objective"])
        return self

    @staticmethod
    def _loss(C, X, Y, lam, rows):
        """Objective / total confidence, without touching the unobserved cells one by one."""
        s = rowwise_dot(X, Y, rows, C.indices)
        c = C.data
        # all cells as if unobserved (c=1, p=0): sum s^2 = trace(X^T X Y^T Y)
        total = np.sum((X.T @ X) * (Y.T @ Y))
        total += np.sum(c * (1.0 - s) ** 2 - s**2)
        total += lam * (np.sum(X**2) + np.sum(Y**2))
        n_cells = C.shape[0] * C.shape[1]
        return float(total / (c.sum() + n_cells - C.nnz))

    def predict(self, users, items):
        r"""Preference scores $x_u^\top y_i$ for (user, item) pairs (unknown ids raise)."""
        u, i, scalar = self._pair_indices(users, items, "raise")
        out = rowwise_dot(self.user_factors_, self.item_factors_, u, i)
        return float(out[0]) if scalar else out


# ============================================================ public steps
# The single steps that the models above repeat, exposed so that a chapter (or
# a user) can run one of them on a small example and compare it with a hand
# computation.  Each calls the very kernel the model uses.
def _as_factor_matrix(a, name, k=None):
    a = np.ascontiguousarray(a, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (rows x factors), got shape {a.shape}"
        )
    if k is not None and a.shape[1] != k:
        raise ValueError(f"{name} must have {k} columns, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def sgd_pass(
    user_idx,
    item_idx,
    ratings,
    mu,
    user_bias,
    item_bias,
    P,
    Q,
    *,
    lr=0.005,
    reg=0.02,
    biased=True,
    order=None,
):
    r"""One pass of :class:`BiasedMF`'s SGD updates over the given ratings, in place.

    For each rating $r_{ui}$ in turn, with $e_{ui} = r_{ui} - (\mu + b_u + b_i
    + p_u^\top q_i)$:

    .. math::

        b_u \leftarrow b_u + \eta (e_{ui} - \lambda b_u), \quad
        b_i \leftarrow b_i + \eta (e_{ui} - \lambda b_i), \\
        p_u \leftarrow p_u + \eta (e_{ui} q_i - \lambda p_u), \quad
        q_i \leftarrow q_i + \eta (e_{ui} p_u - \lambda q_i),

    both factor updates using the values from before the step.  This is the
    compiled loop :meth:`BiasedMF.fit` runs once per epoch.

    Parameters
    ----------
    user_idx, item_idx : array of int
        Row of ``P`` and of ``Q`` of each rating (0-based positions).
    ratings : array of float
        $r_{ui}$, same length.
    mu : float
        Global mean $\mu$.
    user_bias, item_bias : ndarray of float64
        $b_u$ and $b_i$, updated in place.
    P, Q : ndarray of float64, C-contiguous
        User and item factors, updated in place.
    lr, reg : float
        Learning rate $\eta$ and penalty $\lambda$ (the same for all four
        updates, as with ``BiasedMF(lr_all=..., reg_all=...)``).
    biased : bool, default True
        Update the biases (False leaves them untouched).
    order : array of int, optional
        Order in which the ratings are visited (default: as given).

    Returns
    -------
    None
        The arrays are modified in place.

    Raises
    ------
    ValueError
        If lengths or shapes disagree, an index is out of range, or an array
        is not a float64 array that can be written in place.

    Notes
    -----
    Taught in chapter 3 (matrix factorisation), "One step by hand".

    Examples
    --------
    >>> import numpy as np
    >>> bu, bi = np.zeros(1), np.zeros(1)
    >>> P, Q = np.array([[0.1, 0.2]]), np.array([[0.3, -0.1]])
    >>> sgd_pass([0], [0], [5.0], 3.0, bu, bi, P, Q, lr=0.1, reg=0.1)
    >>> print(bu.round(4), P.round(4))
    [0.199] [[0.1587 0.1781]]
    """
    u = np.asarray(user_idx, dtype=np.intp).ravel()
    i = np.asarray(item_idx, dtype=np.intp).ravel()
    r = np.asarray(ratings, dtype=np.float64).ravel()
    if not (len(u) == len(i) == len(r)):
        raise ValueError(
            f"user_idx, item_idx and ratings must have the same length, "
            f"got {len(u)}, {len(i)}, {len(r)}"
        )
    for name, arr in (
        ("user_bias", user_bias),
        ("item_bias", item_bias),
        ("P", P),
        ("Q", Q),
    ):
        if not (
            isinstance(arr, np.ndarray)
            and arr.dtype == np.float64
            and arr.flags.c_contiguous
            and arr.flags.writeable
        ):
            raise ValueError(
                f"{name} must be a writeable C-contiguous float64 array "
                f"(updated in place)"
            )
    if P.ndim != 2 or Q.ndim != 2 or P.shape[1] != Q.shape[1]:
        raise ValueError(
            f"P and Q must be 2-D with the same number of columns, got "
            f"{P.shape} and {Q.shape}"
        )
    if user_bias.shape != (P.shape[0],) or item_bias.shape != (Q.shape[0],):
        raise ValueError(
            "user_bias and item_bias must have one entry per row of P and of Q"
        )
    if len(u) and (
        u.min() < 0
        or u.max() >= P.shape[0]
        or i.min() < 0
        or i.max() >= Q.shape[0]
    ):
        raise ValueError(
            "user_idx and item_idx must be valid row positions of P and Q"
        )
    if not np.all(np.isfinite(r)):
        raise ValueError("ratings contain NaN or infinite values")
    order = (
        np.arange(len(r), dtype=np.intp)
        if order is None
        else np.asarray(order, dtype=np.intp).ravel()
    )
    if len(order) and (order.min() < 0 or order.max() >= len(r)):
        raise ValueError("order must hold positions 0 .. len(ratings) - 1")
    lr = _check_float(lr, "lr")
    reg = _check_float(reg, "reg")
    sgd, _ = sgd_kernels(True)
    sgd(
        u,
        i,
        r,
        order,
        float(mu),
        user_bias,
        item_bias,
        P,
        Q,
        lr,
        lr,
        lr,
        lr,
        reg,
        reg,
        reg,
        reg,
        bool(biased),
    )


def _solve_inputs(M, Y, name):
    """``M`` as sorted CSR float64 and ``Y`` as a factor matrix with one row per column of ``M``."""
    M = sp.csr_matrix(M, dtype=np.float64)
    M.sum_duplicates()
    M.sort_indices()
    Y = _as_factor_matrix(Y, "Y")
    if M.shape[1] != Y.shape[0]:
        raise ValueError(
            f"{name} has {M.shape[1]} columns but Y has {Y.shape[0]} rows"
        )
    return M, Y


def als_solve(R, Y, regularization, *, weighted=True):
    r"""One ALS half step: the ridge regression of every row of ``R`` on ``Y``.

    Row $u$ of the result solves

    .. math:: \big(Y_u^\top Y_u + \lambda w_u I\big)\, x_u = Y_u^\top r_u,

    where $Y_u$ stacks the rows of ``Y`` of the columns stored in row $u$ of
    ``R``, $r_u$ holds those stored values, and $w_u = n_u$ (the number of
    stored values, ``weighted=True``, ALS-WR) or 1.  A row with no stored
    value gets $x_u = 0$.  :class:`ALS` calls the same solver with the
    centred ratings $r_{ui} - \mu$, for the users and then (on $R^\top$) for
    the items.

    Parameters
    ----------
    R : scipy.sparse matrix, shape (n_rows, n_cols)
        The stored entries are the targets; missing entries take no part.
    Y : ndarray, shape (n_cols, k)
        The fixed factors.
    regularization : float
        $\lambda \ge 0$.
    weighted : bool, default True
        Penalty $\lambda n_u$ (True) or $\lambda$ (False).

    Returns
    -------
    ndarray, shape (n_rows, k)

    Raises
    ------
    ValueError
        If the shapes disagree or ``regularization`` is negative.

    Notes
    -----
    Taught in chapter 3 (matrix factorisation), "One user by hand".

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> Y = np.array([[1.0, 0.2], [0.8, -0.1], [-0.5, 1.0]])
    >>> R = sp.csr_matrix(np.array([[1.5, 0.5, -1.5]]))
    >>> als_solve(R, Y, 0.1).round(4)
    array([[ 1.1033, -0.6154]])
    """
    R, Y = _solve_inputs(R, Y, "R")
    lam = _check_float(regularization, "regularization")
    out = np.zeros((R.shape[0], Y.shape[1]))
    with _one_blas_thread():
        return _als_half_step(R, Y, lam, bool(weighted), out)


def implicit_als_solve(C, Y, regularization, *, cg_steps=3, X0=None):
    r"""One implicit-ALS half step by conjugate gradient, as :class:`ImplicitALS` runs it.

    ``C`` holds the confidences $c_{ui}$ of the observed cells (where the
    preference $p_{ui}$ is 1); every other cell has $c_{ui} = 1$ and
    $p_{ui} = 0$.  Row $u$ of the result approximately solves

    .. math:: \big(Y^\top Y + Y^\top (C_u - I) Y + \lambda I\big)\, x_u
              = Y^\top C_u p_u

    by ``cg_steps`` conjugate-gradient steps started from row $u$ of ``X0``
    (zeros by default).  With ``cg_steps >= k`` the steps reach the exact
    solution up to rounding.

    Parameters
    ----------
    C : scipy.sparse matrix, shape (n_rows, n_cols)
        Confidences of the observed cells (values ≥ 1 in the model).
    Y : ndarray, shape (n_cols, k)
        The fixed factors.
    regularization : float
        $\lambda \ge 0$.
    cg_steps : int, default 3
        Conjugate-gradient steps per row.
    X0 : ndarray, shape (n_rows, k), optional
        Starting point (the model warm-starts from the previous sweep).

    Returns
    -------
    ndarray, shape (n_rows, k)

    Raises
    ------
    ValueError
        If the shapes disagree or a parameter is out of range.

    Notes
    -----
    Taught in chapter 3 (``notebooks/ch03_comparison.ipynb``, "Implicit feedback: ALS with
    confidences").

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> Y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> C = sp.csr_matrix(np.array([[3.0, 0.0, 0.0]]))
    >>> implicit_als_solve(C, Y, 0.5, cg_steps=2).round(4)  # exact: (30, -12) / 41
    array([[ 0.7317, -0.2927]])
    """
    C, Y = _solve_inputs(C, Y, "C")
    lam = _check_float(regularization, "regularization")
    steps = check_positive_int(cg_steps, "cg_steps")
    k = Y.shape[1]
    X = (
        np.zeros((C.shape[0], k))
        if X0 is None
        else _as_factor_matrix(X0, "X0", k).copy()
    )
    if X.shape[0] != C.shape[0]:
        raise ValueError(f"X0 must have {C.shape[0]} rows, got {X.shape[0]}")
    with _one_blas_thread():
        return cg_half_step(C, X, Y, lam, steps)
