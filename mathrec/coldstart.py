r"""Cold start: recommending from item features, and switching between models.

A collaborative model knows a user or an item only through ratings, so it has
nothing to say about a new user (no ratings yet) or a new item (nobody has
rated it).  Source §9.2 (个性化推荐系统如何处理冷启动问题) lists the usual
answers; this module implements two of them so that they can be measured:

* :func:`feature_matrix` and :func:`tfidf` turn item attributes (MovieLens
  genres) into sparse TF-IDF vectors, and :class:`ContentBased` recommends by
  the cosine between a user's *profile* (the rating-weighted mean of the
  vectors of the items they rated) and each item's vector -- so an item with
  features but no ratings can be recommended;
* :class:`SwitchingHybrid` serves users with fewer than ``min_ratings``
  ratings from popularity, everybody else from a collaborative model, and
  reserves slots of the list for cold items ranked by content.

Taught in chapter 9 (source §9.2), notebook ``notebooks/ch09_faq.ipynb``.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import scipy.sparse as sp

from mathrec._base import (
    NotFittedError,
    ParamsMixin,
    RecommenderMixin,
    check_positive_int,
    clone,
)
from mathrec._validation import check_choice, check_hashable_id
from mathrec.baselines import Popularity
from mathrec.data import Interactions, as_interactions

__all__ = ["feature_matrix", "tfidf", "ContentBased", "SwitchingHybrid"]


def feature_matrix(items, column="genres", *, item="item"):
    r"""One-hot (bag-of-attributes) matrix of items from a column of lists.

    Parameters
    ----------
    items : pandas.DataFrame
        One row per item: an id column ``item`` and a column ``column`` whose
        cells are lists (or tuples) of attribute names, e.g. the ``genres`` of
        :func:`mathrec.datasets.load_movielens_items`.  An empty list is an
        item without attributes.
    column : str, default "genres"
        The column of attribute lists.
    item : str, default "item"
        The column of item ids (must be unique).

    Returns
    -------
    X : scipy.sparse.csr_matrix of float64, shape (n_items, n_features)
        :math:`x_{if} = 1` when item :math:`i` has attribute :math:`f`.
    item_ids : numpy.ndarray
        The item id of each row, in the frame's order.
    features : numpy.ndarray of str
        The attribute of each column, sorted.

    Raises
    ------
    ValueError
        If a column is missing, the ids repeat or a cell is not a list.

    Notes
    -----
    Taught in chapter 9.  A repeated attribute in one list counts once.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"item": [10, 20, 30],
    ...                    "genres": [["Comedy"], ["Comedy", "Drama"], []]})
    >>> X, ids, feats = feature_matrix(df)
    >>> X.toarray()
    array([[1., 0.],
           [1., 1.],
           [0., 0.]])
    >>> ids.tolist(), feats.tolist()
    ([10, 20, 30], ['Comedy', 'Drama'])
    """
    if not isinstance(items, pd.DataFrame):
        raise TypeError(
            f"items must be a pandas DataFrame, got {type(items).__name__}"
        )
    missing = [c for c in (item, column) if c not in items.columns]
    if missing:
        raise ValueError(
            f"items is missing column(s) {missing}; it has "
            f"{list(items.columns)}"
        )
    if len(items) == 0:
        raise ValueError("items is empty")
    ids = items[item].to_numpy()
    if not items[item].is_unique:
        dup = items[item][items[item].duplicated()].tolist()[:5]
        raise ValueError(f"item ids in column {item!r} repeat: {dup}")
    cells = items[column].tolist()
    bad = [c for c in cells if not isinstance(c, (list, tuple, np.ndarray))]
    if bad:
        raise ValueError(
            f"column {column!r} must hold lists of attributes; got e.g. "
            f"{bad[0]!r}"
        )
    lengths = np.fromiter(
        (len(c) for c in cells), dtype=np.intp, count=len(cells)
    )
    flat = [f for c in cells for f in c]
    rows = np.repeat(np.arange(len(cells)), lengths)
    codes, features = pd.factorize(pd.Series(flat, dtype=object), sort=True)
    X = sp.csr_matrix(
        (np.ones(len(flat)), (rows, codes)), shape=(len(cells), len(features))
    )
    X.sum_duplicates()
    X.data[:] = 1.0
    return X, ids, np.asarray(features, dtype=object).astype(str)


def tfidf(X, *, smooth_idf=True, sublinear_tf=False, norm="l2"):
    r"""TF-IDF weighting of a sparse item-feature matrix (rows = items).

    Parameters
    ----------
    X : scipy.sparse matrix or array_like, shape (n_items, n_features)
        Non-negative term counts (for genres: 0/1).
    smooth_idf : bool, default True
        Add one to document frequencies, as if one extra item had every feature.
    sublinear_tf : bool, default False
        Replace a count :math:`t` by :math:`1 + \log t`.
    norm : {"l2", None}, default "l2"
        Scale each row to unit Euclidean length (rows of zeros stay zero).

    Returns
    -------
    scipy.sparse.csr_matrix of float64

    Notes
    -----
    With :math:`n` items and :math:`\mathrm{df}_f` the number of items that
    have feature :math:`f`, the weight of feature :math:`f` in item :math:`i` is

    .. math:: w_{if} = \mathrm{tf}_{if} \cdot \mathrm{idf}_f, \qquad
              \mathrm{idf}_f = \ln\frac{1 + n}{1 + \mathrm{df}_f} + 1

    (without smoothing :math:`\ln(n / \mathrm{df}_f) + 1`), then each row is
    divided by its Euclidean norm.  These are exactly the conventions of
    scikit-learn's ``TfidfTransformer`` (Salton & Buckley 1988), against which
    the tests check it.  A rare genre ("Film-Noir") thus weighs more than a
    common one ("Drama").  Taught in chapter 9.

    References
    ----------
    .. [1] Salton, G., Buckley, C. (1988). Term-weighting approaches in automatic
       text retrieval. Information Processing & Management 24(5), 513-523.
       doi:10.1016/0306-4573(88)90021-0

    Examples
    --------
    >>> import numpy as np
    >>> W = tfidf(np.array([[1, 0], [1, 1], [1, 0]]), norm=None)
    >>> np.round(W.toarray(), 4)
    array([[1.    , 0.    ],
           [1.    , 1.6931],
           [1.    , 0.    ]])
    """
    check_choice(norm, "norm", ("l2", None))
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    if X.data.size and (not np.isfinite(X.data).all() or (X.data < 0).any()):
        raise ValueError("X must hold finite non-negative counts")
    X.eliminate_zeros()
    n = X.shape[0]
    df = np.bincount(X.indices, minlength=X.shape[1]).astype(np.float64)
    if smooth_idf:
        idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    else:
        with np.errstate(divide="ignore"):
            idf = np.where(df > 0, np.log(n / np.maximum(df, 1.0)) + 1.0, 0.0)
    if sublinear_tf:
        X.data = 1.0 + np.log(X.data)
    X.data *= idf[X.indices]
    if norm == "l2":
        X = _l2_rows(X)
    return X


def _l2_rows(X):
    """Rows scaled to unit Euclidean norm; zero rows stay zero (CSR in, CSR out)."""
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    X.data *= np.repeat(scale, np.diff(X.indptr))
    return X


def _features_from(item_features, column, use_tfidf):
    """(csr rows = items, item ids, feature names) from a frame or an (X, ids) pair."""
    if isinstance(item_features, pd.DataFrame):
        X, ids, names = feature_matrix(item_features, column)
    elif isinstance(item_features, tuple) and len(item_features) == 2:
        X, ids = item_features
        X = sp.csr_matrix(X, dtype=np.float64)
        ids = np.asarray(ids)
        if X.shape[0] != len(ids):
            raise ValueError(
                f"item_features: {X.shape[0]} rows but {len(ids)} item ids"
            )
        if len(pd.unique(ids)) != len(ids):
            raise ValueError("item_features: item ids repeat")
        names = np.array([str(j) for j in range(X.shape[1])])
    else:
        raise TypeError(
            "item_features must be a DataFrame with columns item and "
            f"{column!r}, or a pair (X, item_ids); got "
            f"{type(item_features).__name__}"
        )
    X = tfidf(X) if use_tfidf else _l2_rows(X)
    return X, ids, names


class ContentBased(RecommenderMixin):
    r"""Content-based recommender: cosine between a user profile and item feature vectors.

    Parameters
    ----------
    use_tfidf : bool, default True
        Weight the item features by TF-IDF (:func:`tfidf`); False uses the
        unit-normalised one-hot vectors.
    center : bool, default False
        Centre each user's ratings on that user's own mean: weight each rated
        item by :math:`r_{ui} - \bar r_u` instead of :math:`r_{ui}`, with
        :math:`\bar r_u` the mean of :math:`u`'s training ratings, so that
        items rated below the user's mean push the profile away.
    feature_column : str, default "genres"
        Column of attribute lists when ``item_features`` is a DataFrame.

    Attributes
    ----------
    interactions_ : mathrec.data.Interactions
        The training ratings, indexed over the whole catalogue: every item of
        ``item_features`` and of the ratings (items without ratings included).
    item_features_ : scipy.sparse.csr_matrix, shape (n_items, n_features)
        Unit-length feature vectors :math:`x_i`, rows in ``interactions_.items`` order.
    feature_names_ : numpy.ndarray of str
    user_profiles_ : scipy.sparse.csr_matrix, shape (n_users, n_features)
        Unit-length profiles :math:`p_u`.
    cold_items_ : numpy.ndarray
        Ids of catalogue items without a training rating.

    Notes
    -----
    With :math:`I_u` the items user :math:`u` rated and :math:`x_i` the
    unit-length TF-IDF vector of item :math:`i`, the profile is the
    rating-weighted mean

    .. math:: p_u = \frac{\sum_{i \in I_u} w_{ui}\, x_i}{\sum_{i \in I_u} |w_{ui}|},
              \qquad w_{ui} = r_{ui} \ \ (\text{or } r_{ui} - \bar r_u),

    and the score of any item :math:`j` -- rated by others or by nobody -- is the cosine

    .. math:: s_{uj} = \cos(p_u, x_j) = \frac{p_u^\top x_j}{\lVert p_u\rVert\,\lVert x_j\rVert}
              \in [-1, 1].

    Items or profiles that are zero vectors score 0.  The scores rank items;
    they are not ratings.  Everything is one sparse product
    :math:`P X^\top`, computed for the requested user only.  Taught in
    chapter 9 (source §9.2, "基于内容的推荐"); see Lops, de Gemmis & Semeraro
    (2011) for the family of methods.

    References
    ----------
    .. [1] Lops, P., de Gemmis, M., Semeraro, G. (2011). Content-based
       recommender systems: state of the art and trends. In Recommender
       Systems Handbook, 73-105. doi:10.1007/978-0-387-85820-3_3

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame(
    ...     {"item": ["a", "b", "c", "d"],
    ...      "genres": [["Comedy"], ["Drama"], ["Comedy"], ["Drama", "War"]]})
    >>> ratings = pd.DataFrame({"user": [1, 1, 2], "item": ["a", "b", "b"],
    ...                         "rating": [5.0, 1.0, 4.0]})
    >>> m = ContentBased(use_tfidf=False).fit(ratings, items)
    >>> m.cold_items_.tolist()
    ['c', 'd']
    >>> m.recommend(1, n=2).round(4)
      item   score
    0    c  0.9806
    1    d  0.1387
    """

    def __init__(self, use_tfidf=True, center=False, feature_column="genres"):
        self.use_tfidf = use_tfidf
        self.center = center
        self.feature_column = feature_column

    def fit(self, ratings, item_features):
        """Build item vectors and user profiles; returns ``self``.

        Parameters
        ----------
        ratings : pandas.DataFrame or mathrec.data.Interactions
            Columns ``user, item, rating``.
        item_features : pandas.DataFrame or (sparse matrix, item ids)
            Columns ``item`` and ``feature_column`` (lists of attributes), or
            a matrix with one row per item and the ids of its rows.  Rated
            items missing from it get a zero vector.

        Raises
        ------
        ValueError
            If no rated item has a row in ``item_features`` (usually ids of
            another type, e.g. ``"10"`` read from text against ``10``).
        """
        if not isinstance(self.feature_column, str):
            raise TypeError(
                f"feature_column must be a column name (str); got "
                f"{self.feature_column!r}"
            )
        inter = as_interactions(ratings)
        X, ids, names = _features_from(
            item_features, self.feature_column, bool(self.use_tfidf)
        )
        # catalogue = rated items (in their order) + feature items nobody rated
        found = pd.Index(inter.items).isin(ids)
        if not found.any():
            raise ValueError(
                f"none of the {inter.n_items} rated items has a row in "
                f"item_features: rated item "
                f"ids look like {inter.items[:3].tolist()} (dtype "
                f"{inter.items.dtype}), feature "
                f"ids like {ids[:3].tolist()} (dtype {ids.dtype}); convert one "
                f"to the other's "
                "type (e.g. items['item'].astype(int) for ids read as text)"
            )
        extra = ids[~pd.Index(ids).isin(inter.items)]
        items = (
            np.concatenate([inter.items, extra])
            if len(extra)
            else inter.items.copy()
        )
        if items.dtype != object and (
            extra.dtype == object
            or (
                items.dtype.kind == "f"
                and "f" not in (inter.items.dtype.kind, extra.dtype.kind)
            )
        ):
            # int64 + uint64 ids promote to float64, which merges distinct large
            # ids
            items = np.concatenate(
                [inter.items.astype(object), extra.astype(object)]
            )
        self.interactions_ = Interactions(
            inter.users,
            items,
            inter.user_idx,
            inter.item_idx,
            inter.ratings,
            inter.timestamps,
        )
        self._csr_cache_ = None
        # rows of X in catalogue order (zero rows for rated items without
        # features)
        pos = pd.Index(ids).get_indexer(items)
        have = pos >= 0
        P = sp.csr_matrix(
            (np.ones(have.sum()), (np.flatnonzero(have), pos[have])),
            shape=(len(items), X.shape[0]),
        )
        self.item_features_ = (P @ X).tocsr()
        self.feature_names_ = names
        w = inter.ratings.copy()
        if self.center:
            sums = np.bincount(
                inter.user_idx, weights=w, minlength=inter.n_users
            )
            w = w - (sums / np.maximum(inter.user_counts(), 1))[inter.user_idx]
        W = sp.csr_matrix(
            (w, (inter.user_idx, inter.item_idx)),
            shape=(inter.n_users, len(items)),
        )
        self.user_profiles_ = _l2_rows(W @ self.item_features_)
        self.cold_items_ = items[inter.n_items :]
        return self

    def _score_items(self, user_index):
        p = self.user_profiles_[user_index]
        return np.asarray((self.item_features_ @ p.T).todense()).ravel()

    def _score_block(self, user_indices):
        P = self.user_profiles_[np.asarray(user_indices)]
        return np.asarray((self.item_features_ @ P.T).todense()).T

    def score_items(self, user, items=None):
        r"""Cosine scores :math:`s_{uj}` of one user for many items, in the caller's ids.

        Parameters
        ----------
        user : hashable
            A user of the training ratings.
        items : sequence of item ids or None, default None
            The items to score, in the order wanted; None scores the whole
            catalogue (``interactions_.items``: rated items first, then the
            cold items, in the order of ``cold_items_``).

        Returns
        -------
        pandas.Series of float
            :math:`s_{uj} = \cos(p_u, x_j) \in [-1, 1]`, indexed by item id.
            Items the user has rated are scored too (nothing is excluded).

        Raises
        ------
        UnknownUserError, UnknownItemError
            For a user or an item that the model does not know.

        Notes
        -----
        One sparse matrix-vector product, :math:`X p_u`, over the catalogue;
        :meth:`recommend` ranks the same scores.  Taught in chapter 9, where
        it ranks the cold items alone.

        Examples
        --------
        >>> import pandas as pd
        >>> items = pd.DataFrame(
        ...     {"item": ["a", "b", "c", "d"],
        ...      "genres": [["Comedy"], ["Drama"], ["Comedy"], ["Drama", "War"]]})
        >>> ratings = pd.DataFrame({"user": [1, 1, 2], "item": ["a", "b", "b"],
        ...                         "rating": [5.0, 1.0, 4.0]})
        >>> m = ContentBased(use_tfidf=False).fit(ratings, items)
        >>> m.score_items(1, ["d", "c"]).round(4).to_dict()
        {'d': 0.1387, 'c': 0.9806}
        """
        self._check_fitted()
        inter = self.interactions_
        s = self._score_items(int(inter.user_index(user)))
        if items is None:
            return pd.Series(
                s, index=pd.Index(inter.items, name="item"), name="score"
            )
        items = list(items)
        pos = np.asarray(inter.item_index(items), dtype=np.intp).reshape(-1)
        return pd.Series(
            s[pos], index=pd.Index(items, name="item"), name="score"
        )

    def predict(self, users, items):
        """Cosine scores :math:`s_{uj}` for pairs ``(users[k], items[k])`` in the caller's ids.

        Unknown users raise ``UnknownUserError``; unknown items
        (in neither the ratings nor the features) raise ``UnknownItemError``.
        """
        u, i, scalar = self._pair_indices(users, items)
        if len(u) == 0:
            return np.empty(0)
        s = np.asarray(
            self.user_profiles_[u].multiply(self.item_features_[i]).sum(axis=1)
        ).ravel()
        return float(s[0]) if scalar else s


class SwitchingHybrid(ParamsMixin):
    r"""Switch between popularity, collaborative filtering and content by what is known.

    Parameters
    ----------
    cf : estimator
        A collaborative model with ``fit(ratings)`` and ``recommend(user, n,
        exclude_seen)`` (e.g. :class:`mathrec.ItemKNN`, :class:`mathrec.BiasedMF`).
    content : ContentBased or None, default None
        Ranks the cold items; None shows no cold items.
    min_ratings : int, default 5
        Users with fewer training ratings get the popularity list; so do new
        users (unknown to the training ratings) always, even with
        ``min_ratings=0``, which otherwise sends every known user to ``cf``.
    cold_slots : int, default 0
        Number of positions at the end of a warm user's list given to the
        best cold items by content score (0: none).

    Attributes
    ----------
    popularity_ : mathrec.baselines.Popularity
    cf_, content_ : the fitted models
    user_counts_ : pandas.Series
        Training ratings per user.

    Notes
    -----
    For user :math:`u` with :math:`n_u` training ratings the list is

    .. math:: L_u = \begin{cases}
              \text{top-}N \text{ by popularity} & n_u < m,\\
              \text{top-}(N - c) \text{ by CF} \;\|\; \text{top-}c
              \text{ cold items by content} & n_u \ge m,
              \end{cases}

    with :math:`m` = ``min_ratings`` and :math:`c` = ``cold_slots``: the
    *switching* hybrid of Burke (2002).  Scores of different sources are not
    comparable, so the lists are concatenated, not merged by score; the
    column ``source`` says which model placed each item.  Taught in chapter 9
    (source §9.2, "融合多种方法").

    References
    ----------
    .. [1] Burke, R. (2002). Hybrid recommender systems: survey and
       experiments. User Modeling and User-Adapted Interaction 12(4),
       331-370. doi:10.1023/A:1021240730564

    Examples
    --------
    >>> import pandas as pd
    >>> from mathrec.baselines import BaselineOnly
    >>> ratings = pd.DataFrame({"user": [1, 1, 1, 2, 3],
    ...                         "item": ["a", "b", "c", "a", "a"],
    ...                         "rating": [5.0, 4.0, 2.0, 4.0, 3.0]})
    >>> h = SwitchingHybrid(BaselineOnly(), min_ratings=2).fit(ratings)
    >>> h.recommend("new user", n=2)
      item  score      source
    0    a    3.0  popularity
    1    b    1.0  popularity
    """

    def __init__(self, cf, content=None, min_ratings=5, cold_slots=0):
        self.cf = cf
        self.content = content
        self.min_ratings = min_ratings
        self.cold_slots = cold_slots

    def fit(self, ratings, item_features=None):
        """Fit popularity, the CF model and (if given) the content model; returns ``self``."""
        check_positive_int(self.min_ratings, "min_ratings", minimum=0)
        check_positive_int(self.cold_slots, "cold_slots", minimum=0)
        if self.content is not None and item_features is None:
            raise ValueError(
                "item_features is required when content is not None"
            )
        for name in ("cf", "content"):
            est = getattr(self, name)
            if (est is None and name == "content") or (
                not isinstance(est, type)
                and callable(getattr(est, "fit", None))
            ):
                continue
            raise TypeError(
                f"{name} must be an estimator instance with a fit method "
                f"(e.g. ItemKNN()); got {est!r}"
            )
        inter = as_interactions(ratings)
        self.popularity_ = Popularity().fit(inter)
        # fit copies: the estimators passed in stay unfitted hyper-parameters
        self.cf_ = clone(self.cf).fit(inter)
        self.content_ = (
            None
            if self.content is None
            else clone(self.content).fit(inter, item_features)
        )
        self.user_counts_ = pd.Series(
            inter.user_counts(), index=pd.Index(inter.users)
        )
        self.interactions_ = inter
        return self

    def route(self, user):
        """Which model serves ``user``: ``"popularity"`` or ``"cf"``.

        A user unknown to the training ratings always gets popularity (the CF
        model cannot score a user it has not seen), whatever ``min_ratings``.
        """
        if not hasattr(self, "interactions_"):
            raise NotFittedError(
                "this SwitchingHybrid is not fitted yet; call fit(ratings) "
                "first"
            )
        check_hashable_id(user, "user")
        if user not in self.user_counts_.index:
            return "popularity"
        n_u = int(self.user_counts_.get(user, 0))
        return "popularity" if n_u < self.min_ratings else "cf"

    def recommend(self, user, n=10, exclude_seen=True):
        """Recommend ``n`` items; new users are served, not refused.

        Returns
        -------
        pandas.DataFrame
            Columns ``item``, ``score`` (of the model that placed the item)
            and ``source`` (``"popularity"``, ``"cf"`` or ``"content"``).
        """
        n = check_positive_int(n, "n")
        if self.route(user) == "popularity":
            known = user in self.user_counts_.index
            rec = (
                self.popularity_.recommend(user, n, exclude_seen)
                if known
                else self.popularity_.recommend(
                    self.interactions_.users[0], n, exclude_seen=False
                )
            )
            return rec.assign(source="popularity")
        c = min(self.cold_slots, n) if self.content_ is not None else 0
        c = min(c, len(self.content_.cold_items_)) if c else 0
        parts = []
        if n - c > 0:
            parts.append(
                self.cf_.recommend(user, n - c, exclude_seen).assign(
                    source="cf"
                )
            )
        if c:
            u = self.content_.interactions_.user_index(user)
            s = self.content_._score_items(u)[self.interactions_.n_items :]
            top = np.argsort(-s, kind="stable")[:c]
            parts.append(
                pd.DataFrame(
                    {
                        "item": self.content_.cold_items_[top],
                        "score": s[top],
                        "source": "content",
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)
