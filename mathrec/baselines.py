"""Baselines every recommender must beat: item popularity and the bias model.

* :class:`Popularity` recommends the most-rated items to everyone.
* :class:`BaselineOnly` predicts :math:`\\hat r_{ui} = \\mu + b_u + b_i`.

Chapter 3 uses both as the bar that collaborative filtering has to clear;
chapter 5 uses them in the corrected project pipeline.
"""

from __future__ import annotations

import numpy as np

from mathrec._base import RecommenderMixin, check_positive_int
from mathrec._validation import check_real
from mathrec.data import as_interactions

__all__ = ["Popularity", "BaselineOnly"]


def _check_nonneg(value, name):
    return check_real(value, name, low=0)


class Popularity(RecommenderMixin):
    r"""Recommend the items with the most ratings (optionally: most good ratings).

    Parameters
    ----------
    min_rating : float or None, default None
        Count only ratings :math:`\ge` ``min_rating`` (None counts them all).

    Attributes
    ----------
    interactions_ : mathrec.data.Interactions
    counts_ : numpy.ndarray of float, shape (n_items,)
        The score of each item: its number of (qualifying) training ratings.

    Notes
    -----
    The score of item :math:`i` is :math:`|\{u : r_{ui} \text{ observed}\}|`,
    the same for every user; ties are broken by item index.  It is not
    personalised, yet on MovieLens it is a strong top-N baseline because
    held-out ratings are themselves concentrated on popular items
    (Cremonesi, Koren & Turrin 2010).  Taught in chapter 3.

    References
    ----------
    .. [1] Cremonesi, P., Koren, Y., Turrin, R. (2010). Performance of
       recommender algorithms on top-N recommendation tasks. RecSys.
       doi:10.1145/1864708.1864721

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": [1, 1, 2, 3], "item": ["a", "b", "b", "c"],
    ...                    "rating": [5.0, 3.0, 4.0, 2.0]})
    >>> Popularity().fit(df).recommend(1, n=2)
      item  score
    0    c    1.0
    """

    def __init__(self, min_rating=None):
        self.min_rating = min_rating

    def fit(self, ratings):
        """Count each item's ratings; returns ``self``."""
        inter = as_interactions(ratings)
        if self.min_rating is None:
            w = np.ones(inter.n_ratings)
        else:
            m = check_real(self.min_rating, "min_rating", allow_none=True)
            w = (inter.ratings >= m).astype(float)
        self.interactions_ = inter
        self.counts_ = np.bincount(
            inter.item_idx, weights=w, minlength=inter.n_items
        )
        return self

    def _score_items(self, user_index):
        return self.counts_

    def _score_block(self, user_indices):
        return np.broadcast_to(
            self.counts_, (len(user_indices), self.counts_.size)
        )


class BaselineOnly(RecommenderMixin):
    r"""The bias model :math:`\hat r_{ui} = \mu + b_u + b_i`, fitted by alternating least squares.

    Parameters
    ----------
    reg_u, reg_i : float, default 15 and 10
        Ridge penalties :math:`\lambda_u, \lambda_i` on the user and item biases.
    n_epochs : int, default 10
        Number of alternating sweeps.
    clip : bool, default True
        Clip predictions to the range of the training ratings.

    Attributes
    ----------
    global_mean_ : float
        :math:`\mu`, the mean training rating.
    user_bias_, item_bias_ : numpy.ndarray
        :math:`b_u` and :math:`b_i` by internal index.

    Notes
    -----
    Minimises :math:`\sum_{(u,i)} (r_{ui} - \mu - b_u - b_i)^2 + \lambda_u
    \sum_u b_u^2 + \lambda_i \sum_i b_i^2` by exact coordinate updates, items
    first, as in Koren (2010, §2.1) and Surprise's ``BaselineOnly``:

    .. math:: b_i \leftarrow \frac{\sum_{u \in U_i} (r_{ui} - \mu - b_u)}
              {\lambda_i + |U_i|}, \qquad
              b_u \leftarrow \frac{\sum_{i \in I_u} (r_{ui} - \mu - b_i)}
              {\lambda_u + |I_u|}.

    Unknown users or items get a bias of 0.

    *Lists.* ``recommend`` ranks items by :math:`b_i` (the user's bias is the
    same for every item): the best-rated items, with their ratings shrunk
    towards :math:`\mu` by :math:`\lambda_i`.  On a validation split of *ml-latest-small*
    (``random_split(train, 0.2, random_state=1)`` of ``random_split(ratings,
    0.2, random_state=0)``'s training part), ``BaselineOnly()`` has
    precision@10 0.0549 and NDCG@10 0.0777, against 0.0881 and 0.1199 for
    :class:`Popularity`, which ranks by how often an item is rated.

    Taught in chapter 3.

    References
    ----------
    .. [1] Koren, Y. (2010). Factor in the neighbors: scalable and accurate
       collaborative filtering. ACM TKDD 4(1), 1-24. doi:10.1145/1644873.1644874

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": [1, 1, 2], "item": ["a", "b", "a"],
    ...                    "rating": [5.0, 3.0, 4.0]})
    >>> m = BaselineOnly(reg_u=0, reg_i=0, n_epochs=50).fit(df)
    >>> round(float(m.predict([2], ["b"])[0]), 3)
    3.0
    """

    predicts_ratings = True

    def __init__(self, reg_u=15.0, reg_i=10.0, n_epochs=10, clip=True):
        self.reg_u = reg_u
        self.reg_i = reg_i
        self.n_epochs = n_epochs
        self.clip = clip

    def fit(self, ratings):
        """Fit :math:`\\mu, b_u, b_i`; returns ``self``."""
        reg_u = _check_nonneg(self.reg_u, "reg_u")
        reg_i = _check_nonneg(self.reg_i, "reg_i")
        n_epochs = check_positive_int(self.n_epochs, "n_epochs")
        inter = as_interactions(ratings)
        self.interactions_ = inter
        self.global_mean_, self.user_bias_, self.item_bias_ = _fit_biases(
            inter.user_idx,
            inter.item_idx,
            inter.ratings,
            inter.n_users,
            inter.n_items,
            reg_u,
            reg_i,
            n_epochs,
        )
        self.rating_range_ = (
            float(inter.ratings.min()),
            float(inter.ratings.max()),
        )
        return self

    def predict(self, users, items, *, unknown="raise"):
        """Predict ratings for pairs ``(users[j], items[j])`` given in the caller's ids.

        Parameters
        ----------
        users, items : array_like, same length
        unknown : {"raise", "fallback"}, default "raise"
            Unknown ids raise ``UnknownUserError``/``UnknownItemError``, or
            get a bias of 0 with ``"fallback"``.

        Returns
        -------
        numpy.ndarray of float
        """
        self._check_fitted()
        u, i, scalar = self._pair_indices(users, items, unknown)
        bu = np.where(u >= 0, self.user_bias_[np.maximum(u, 0)], 0.0)
        bi = np.where(i >= 0, self.item_bias_[np.maximum(i, 0)], 0.0)
        est = self.global_mean_ + bu + bi
        if self.clip:
            est = np.clip(est, *self.rating_range_)
        return float(est[0]) if scalar else est

    def _score_items(self, user_index):
        est = self.global_mean_ + self.user_bias_[user_index] + self.item_bias_
        return np.clip(est, *self.rating_range_) if self.clip else est

    def _score_block(self, user_indices):
        est = (
            self.global_mean_
            + self.user_bias_[user_indices][:, None]
            + self.item_bias_
        )
        return np.clip(est, *self.rating_range_, out=est) if self.clip else est


def _fit_biases(uidx, iidx, r, n_users, n_items, reg_u, reg_i, n_epochs):
    """Alternating least squares for mu, b_u, b_i (Koren 2010, section 2.1)."""
    mu = float(r.mean())
    cu = np.bincount(uidx, minlength=n_users).astype(float)
    ci = np.bincount(iidx, minlength=n_items).astype(float)
    bu = np.zeros(n_users)
    bi = np.zeros(n_items)
    dev = r - mu
    for _ in range(n_epochs):
        bi = np.bincount(iidx, weights=dev - bu[uidx], minlength=n_items) / (
            reg_i + ci
        )
        bu = np.bincount(uidx, weights=dev - bi[iidx], minlength=n_users) / (
            reg_u + cu
        )
    return mu, bu, bi
