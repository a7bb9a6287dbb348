"""Run a recommender against a train/test split and tabulate its metrics.

:func:`evaluate` fits a model on the training ratings, scores its rating
predictions on the test ratings (RMSE, MAE) and its top-k lists against each
test user's relevant items (precision, recall, hit rate, NDCG, MAP@k, MRR,
catalogue coverage), and returns one tidy table.  Chapters 3 and 5 use it.

:func:`sampled_ranks` is the protocol of the NCF paper (He et al. 2017): each
test item is ranked among a fixed number of sampled items its user never
rated.  Chapter 3 (sections 3.5 and 3.6) compares it with the full ranking.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mathrec import metrics
from mathrec._base import (
    RecommenderMixin,
    check_positive_int,
    check_random_state,
)
from mathrec._validation import check_real
from mathrec.data import as_interactions

__all__ = ["evaluate", "sampled_ranks"]


def _lists(model, users, k, exclude_seen):
    """Each user's top-``k`` item ids, computed in blocks of users when the model can."""
    if not users:
        return []
    if (
        isinstance(model, RecommenderMixin)
        and type(model).recommend is RecommenderMixin.recommend
    ):
        inter = model.interactions_
        uidx = np.asarray(inter.user_index(users), dtype=np.intp).reshape(-1)
        items, _, counts = model._top_n(uidx, k, exclude_seen)
        ids = inter.items[items].tolist()
        ends = np.cumsum(counts)
        return [ids[e - c : e] for c, e in zip(counts, ends)]
    return [
        model.recommend(u, n=k, exclude_seen=exclude_seen)["item"].tolist()
        for u in users
    ]


def evaluate(
    model,
    train,
    test,
    k=10,
    relevance_threshold=4.0,
    *,
    fit=True,
    exclude_seen=True,
    users=None,
    rating_metrics=True,
    ranking_metrics=True,
):
    r"""Fit ``model`` on ``train`` and measure it on ``test``.

    Parameters
    ----------
    model : estimator
        Has ``fit(ratings)`` and ``recommend(user, n, exclude_seen)``; rating
        metrics are computed only for models whose ``predict`` returns ratings
        (``model.predicts_ratings`` is True), never for models that produce
        ranking scores (PureSVD, ImplicitALS, ContentBased, Popularity).
    train, test : pandas.DataFrame or mathrec.data.Interactions
        Columns ``user, item, rating``.
    k : int, default 10
        Length of the recommendation lists and cut-off of the top-N metrics.
    relevance_threshold : float, default 4.0
        A test item is relevant to its user when its rating is
        :math:`\ge` this threshold.
    fit : bool, default True
        Fit the model on ``train`` first; False uses it as it is (it must
        have been fitted on ``train``).
    exclude_seen : bool, default True
        Leave each user's training items out of their list.
    users : sequence of user ids, optional
        Evaluate the lists of these users only (default: every test user
        with a relevant item who is in the training data).
    rating_metrics, ranking_metrics : bool, default True
        Which families to compute.

    Returns
    -------
    pandas.DataFrame
        One row per metric with columns ``metric``, ``k`` (NaN for rating
        metrics), ``value`` and ``n`` (number of test ratings scored, or of
        users averaged over).

    Notes
    -----
    Test pairs whose user or item does not occur in ``train`` cannot be
    scored by a collaborative model and are left out of RMSE/MAE; their
    number is ``len(test)`` minus the ``n`` of the ``rmse`` row.  Top-N
    metrics are averaged over users with at least one relevant test item
    (users without one make recall, AP and NDCG undefined); ``map@k`` is the
    mean of :func:`mathrec.metrics.average_precision_at_k` and ``mrr@k`` the
    mean reciprocal rank within the first ``k``.  ``coverage@k`` is the share
    of training items that appear in at least one of the evaluated lists.

    Examples
    --------
    >>> import pandas as pd
    >>> from mathrec.baselines import Popularity
    >>> train = pd.DataFrame({"user": [1, 1, 2, 2, 3],
    ...                       "item": ["a", "b", "a", "c", "a"],
    ...                       "rating": [5.0, 4.0, 4.0, 2.0, 3.0]})
    >>> test = pd.DataFrame({"user": [3], "item": ["b"], "rating": [5.0]})
    >>> evaluate(Popularity(), train, test, k=1).round(3)
            metric  k  value  n
    0  precision@k  1  1.000  1
    1     recall@k  1  1.000  1
    2   hit_rate@k  1  1.000  1
    3       ndcg@k  1  1.000  1
    4        map@k  1  1.000  1
    5        mrr@k  1  1.000  1
    6   coverage@k  1  0.333  1
    """
    k = check_positive_int(k, "k")
    relevance_threshold = check_real(relevance_threshold, "relevance_threshold")
    train_i = as_interactions(train)
    test_df = as_interactions(test).to_frame()
    if fit:
        model.fit(train_i)
    elif hasattr(model, "_check_fitted"):
        # NotFittedError, not an AttributeError on interactions_
        model._check_fitted()
    inter = model.interactions_
    rows = []

    known_u = inter.user_index(test_df["user"].to_numpy(), strict=False) >= 0
    known_i = inter.item_index(test_df["item"].to_numpy(), strict=False) >= 0
    if rating_metrics and getattr(model, "predicts_ratings", False):
        scored = test_df[known_u & known_i]
        if len(scored):
            est = model.predict(
                scored["user"].to_numpy(), scored["item"].to_numpy()
            )
            y = scored["rating"].to_numpy()
            rows.append(("rmse", np.nan, metrics.rmse(y, est), len(scored)))
            rows.append(("mae", np.nan, metrics.mae(y, est), len(scored)))

    if ranking_metrics:
        rel = test_df[
            known_u & (test_df["rating"].to_numpy() >= relevance_threshold)
        ]
        relevant = rel.groupby("user", sort=True)["item"].agg(list)
        if users is not None:
            wanted = list(users)
            missing = [u for u in wanted if u not in relevant.index]
            if missing:
                raise ValueError(
                    f"users {missing[:5]} have no relevant test item or are "
                    f"not in train"
                )
            relevant = relevant.loc[wanted]
        lists, per_user = [], []
        recs = _lists(model, list(relevant.index), k, exclude_seen)
        for (user, items), rec in zip(relevant.items(), recs):
            lists.append(rec)
            rs = set(items)
            per_user.append(
                (
                    metrics.precision_at_k(rec, rs, k),
                    metrics.recall_at_k(rec, rs, k),
                    metrics.hit_rate_at_k(rec, rs, k),
                    metrics.ndcg_at_k(rec, rs, k),
                    metrics.average_precision_at_k(rec, rs, k),
                    metrics.reciprocal_rank(rec, rs, k),
                )
            )
        if per_user:
            means = np.mean(np.array(per_user), axis=0)
            names = [
                "precision@k",
                "recall@k",
                "hit_rate@k",
                "ndcg@k",
                "map@k",
                "mrr@k",
            ]
            rows.extend(
                (nm, k, float(v), len(per_user)) for nm, v in zip(names, means)
            )
            rows.append(
                (
                    "coverage@k",
                    k,
                    metrics.catalogue_coverage(lists, inter.n_items),
                    len(per_user),
                )
            )
    out = pd.DataFrame(rows, columns=["metric", "k", "value", "n"])
    out["k"] = out["k"].astype("Int64")
    return out


def _pairs_frame(pairs, name):
    """The ``user, item`` columns of a DataFrame or Interactions."""
    if isinstance(pairs, pd.DataFrame):
        missing = [c for c in ("user", "item") if c not in pairs.columns]
        if missing:
            raise ValueError(
                f"{name} lacks the column(s) {missing}; it has "
                f"{list(pairs.columns)}"
            )
        return pairs[["user", "item"]].reset_index(drop=True)
    return as_interactions(pairs).to_frame()[["user", "item"]]


def sampled_ranks(
    model,
    test,
    n_negatives=100,
    *,
    exclude=None,
    ties="random",
    random_state=None,
):
    r"""Rank each test pair among ``n_negatives`` items its user never rated.

    The protocol of the NCF paper (He et al. 2017): for each (user, item) of
    ``test``, draw ``n_negatives`` items of the training catalogue, without
    replacement, among those the user has not rated (in the model's training
    data, in ``exclude``, or this test item), and rank the test item among
    these ``n_negatives + 1`` by the model's scores.  Then

    .. math:: \mathrm{HR@}k = \operatorname{mean}[r \le k], \qquad
              \mathrm{NDCG@}k = \operatorname{mean}\frac{[r \le k]}
              {\log_2(1 + r)}

    over the pairs (one held-out item per user in the paper's leave-one-out
    split, where its NDCG is the DCG of the single relevant item).  Krichene
    and Rendle (2020) showed that these sampled metrics can order models
    differently from the full ranking (chapter 3, section 3.5).

    Parameters
    ----------
    model : fitted estimator
        Its ``predict(users, items)`` gives the scores (probabilities,
        ratings or ranking scores: only their order matters).
    test : pandas.DataFrame or Interactions
        Columns ``user, item``; every user and item must be in the model's
        training data.
    n_negatives : int >= 1, default 100
    exclude : pandas.DataFrame or Interactions, optional
        More (user, item) pairs never to draw as negatives, e.g. the whole
        test set when a user has several test items; pairs of unknown users
        or items are ignored.
    ties : {"random", "optimistic"}, default "random"
        A negative scored exactly like the test item: ``"random"`` puts the
        test item at a uniformly random place among its ties (the expected
        rank of an arbitrary tie-break), ``"optimistic"`` above them all
        (the rank is one plus the number of negatives scored strictly
        higher).  A model that scores every item alike then has HR@10 =
        10/101 with ``"random"`` and 1 with ``"optimistic"``.
    random_state : int, Generator or None
        Seeds the negatives and the tie-breaks; the same seed draws the same
        negatives for every model, so that models are compared on the same
        lists.

    Returns
    -------
    pandas.DataFrame
        ``user, item, rank`` (int64, 1 to ``n_negatives + 1``), one row per
        test pair, in the order of ``test``.

    Raises
    ------
    NotFittedError
        ``model`` is not fitted.
    UnknownUserError, UnknownItemError
        A test user or item is not in the training data.
    ValueError
        A user has fewer than ``n_negatives`` unrated items to draw from, or
        a parameter is invalid.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mathrec.baselines import Popularity
    >>> train = pd.DataFrame({"user": [1, 1, 2, 2, 3, 3],
    ...                       "item": ["a", "b", "a", "c", "a", "d"],
    ...                       "rating": 1.0})
    >>> test = pd.DataFrame({"user": [2], "item": ["b"]})
    >>> model = Popularity().fit(train)
    >>> sampled_ranks(model, test, n_negatives=1, random_state=0)
       user item  rank
    0     2    b     1
    """
    n_negatives = check_positive_int(n_negatives, "n_negatives")
    if ties not in ("random", "optimistic"):
        raise ValueError(
            f"ties must be 'random' or 'optimistic'; got {ties!r}"
        )
    if hasattr(model, "_check_fitted"):
        model._check_fitted()
    rng = check_random_state(random_state)
    inter = model.interactions_
    frame = _pairs_frame(test, "test")
    users = frame["user"].to_numpy()
    items = frame["item"].to_numpy()
    u = inter.user_index(users)
    i = inter.item_index(items)
    n_items = inter.n_items
    rated = [set() for _ in range(inter.n_users)]
    for a, b in zip(inter.user_idx.tolist(), inter.item_idx.tolist()):
        rated[a].add(b)
    if exclude is not None:
        ex = _pairs_frame(exclude, "exclude")
        eu = inter.user_index(ex["user"].to_numpy(), strict=False)
        ei = inter.item_index(ex["item"].to_numpy(), strict=False)
        keep = (eu >= 0) & (ei >= 0)
        for a, b in zip(eu[keep].tolist(), ei[keep].tolist()):
            rated[a].add(b)
    negatives = np.empty((len(frame), n_negatives), dtype=np.intp)
    for row, (a, b) in enumerate(zip(u.tolist(), i.tolist())):
        blocked = rated[a] | {b}
        n_free = n_items - len(blocked)
        if n_free < n_negatives:
            raise ValueError(
                f"user {users[row]!r} has {n_free} unrated items to draw from, "
                f"fewer than n_negatives={n_negatives}"
            )
        mask = np.ones(n_items, dtype=bool)
        mask[list(blocked)] = False
        negatives[row] = rng.choice(
            np.flatnonzero(mask), n_negatives, replace=False
        )
    if hasattr(model, "predict"):  # scores of the 1 + n_negatives pairs only
        pos = np.asarray(model.predict(users, items), dtype=np.float64)
        neg = np.asarray(
            model.predict(
                np.repeat(users, n_negatives), inter.items[negatives.ravel()]
            ),
            dtype=np.float64,
        ).reshape(len(frame), n_negatives)
    else:  # e.g. Popularity: the scores its recommend() ranks by
        pos = np.empty(len(frame))
        neg = np.empty((len(frame), n_negatives))
        rows = np.arange(len(frame))
        for start in range(0, len(frame), 256):
            block = rows[start : start + 256]
            S = np.asarray(model._score_block(u[block]), dtype=np.float64)
            pos[block] = S[np.arange(len(block)), i[block]]
            neg[block] = np.take_along_axis(S, negatives[block], axis=1)
    if not (np.isfinite(pos).all() and np.isfinite(neg).all()):
        raise ValueError("the model's scores are not all finite")
    above = (neg > pos[:, None]).sum(axis=1)
    if ties == "random":
        tied = (neg == pos[:, None]).sum(axis=1)
        above = above + rng.randint(0, tied + 1)
    return pd.DataFrame(
        {
            "user": users,
            "item": items,
            "rank": (1 + above).astype(np.int64),
        }
    )
