"""The collect -> train -> recommend -> feedback loop, simulated; inequality of exposure.

Taught in chapter 2 (source section 2, 核心概念与联系): the source's flowchart
(数据收集 -> 数据预处理 -> 模型训练 -> 兴趣预测 -> 推荐生成 -> 用户反馈 -> back to
数据收集) made executable, to measure the risk it does not mention and that the
source raises only later (sections 8.3 and 9.3): a system that learns from the
feedback to its own recommendations concentrates exposure on fewer items.

Users and items come from :func:`mathrec.datasets.make_synthetic`, whose ground
truth says how much each user would like each item.  The recommenders here are
deliberately simple and self-contained (popularity, damped item mean, item-item
co-occurrence, random) so that the loop, not the model, is what is studied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mathrec._validation import (
    check_positive_int,
    check_real,
    check_unique_columns,
)
from mathrec.metrics import catalogue_coverage

# re-exported: the feedback loop measures exposure with it
from mathrec.metrics import gini

__all__ = [
    "SimulationResult",
    "coverage",
    "gini",
    "simulate_feedback_loop",
    "RECOMMENDERS",
]


def _whole_ids(ratings, column):
    """The integer ids of one column; fractional, missing or non-numeric ids are refused."""
    col = ratings[column]
    if pd.api.types.is_integer_dtype(col.dtype) and not pd.isna(col).any():
        return col.to_numpy(np.int64)
    num = pd.to_numeric(col, errors="coerce").to_numpy(
        np.float64, na_value=np.nan
    )
    bad = ~np.isfinite(num)
    bad[~bad] = num[~bad] != np.round(num[~bad])
    if bad.any():
        rows = col.index[bad].tolist()[:10]
        raise ValueError(
            f"ratings[{column!r}] must hold integer ids (0, 1, 2, ...); rows "
            f"{rows} hold "
            f"{col[bad].tolist()[:10]}"
        )
    return num.astype(np.int64)


def coverage(items, n_items: int) -> float:
    """Catalogue coverage: the fraction of the ``n_items`` items that occur in ``items``.

    Parameters
    ----------
    items : array_like of int
        Item indices that were recommended (repeats allowed).
    n_items : int
        Size of the catalogue.

    Notes
    -----
    It is :func:`mathrec.metrics.catalogue_coverage` of one list holding all
    of ``items``, for the integer item indices the simulation uses.

    Examples
    --------
    >>> coverage([0, 1, 1, 3], 10)
    0.3
    """
    n_items = check_positive_int(n_items, "n_items")
    a = np.asarray(items).ravel()
    if a.size and (a.min() < 0 or a.max() >= n_items):
        raise ValueError(f"items must lie in [0, {n_items})")
    return catalogue_coverage([np.unique(a)], n_items)


# ---------------------------------------------------------------------------
# recommenders
def _popularity(X, users, rng):
    counts = np.diff(X.tocsc().indptr).astype(np.float64)
    return np.broadcast_to(counts, (len(users), X.shape[1]))


def _item_mean(X, users, rng, damping=5.0):
    """Damped item mean (a Bayesian average): $(\\sum_u r_{ui} + m\\mu) / (n_i + m)$."""
    C = X.tocsc()
    n_i = np.diff(C.indptr)
    s = np.asarray(C.sum(axis=0)).ravel()
    mu = s.sum() / max(n_i.sum(), 1)
    mean = (s + damping * mu) / (n_i + damping)
    return np.broadcast_to(mean, (len(users), X.shape[1]))


def _cooccurrence(X, users, rng):
    """Item-item cosine on who-rated-what: score $= \\sum_{j \\in I_u} \\cos(i, j)$."""
    B = X.copy()
    B.data[:] = 1.0
    norms = np.sqrt(np.asarray(B.sum(axis=0)).ravel())
    norms[norms == 0] = 1.0
    Bn = B @ sp.diags(1.0 / norms)
    S = (Bn.T @ Bn).tocsr()
    return (Bn[users] @ S).toarray()


def _random(X, users, rng):
    return rng.random((len(users), X.shape[1]))


#: Recommenders available to :func:`simulate_feedback_loop`: name -> scorer
# : ``f(X, users, rng) -> scores`` of shape ``(len(users), n_items)``, where
# ``X``
#: is the CSR matrix of the ratings collected so far.
RECOMMENDERS = {
    "popularity": _popularity,
    "item_mean": _item_mean,
    "cooccurrence": _cooccurrence,
    "random": _random,
}


def _top_n(scores, seen_rows, n, rng):
    """Best ``n`` unseen items per row of ``scores`` (ties broken at random)."""
    scores = np.array(scores, dtype=np.float64)  # writable copy
    scores += 1e-9 * rng.random(scores.shape) * (np.abs(scores).max() + 1.0)
    rows, cols = seen_rows.nonzero()
    scores[rows, cols] = -np.inf
    n = min(n, scores.shape[1])
    top = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    order = np.argsort(
        -np.take_along_axis(scores, top, axis=1), axis=1, kind="stable"
    )
    top = np.take_along_axis(top, order, axis=1)
    valid = np.isfinite(np.take_along_axis(scores, top, axis=1))
    return top, valid


# ---------------------------------------------------------------------------
# the loop
@dataclass
class SimulationResult:
    """What :func:`simulate_feedback_loop` measured.

    Attributes
    ----------
    history : pandas.DataFrame
        One row per round (round 0 = the initial data, before any
        recommendation) with columns ``round``; ``exposure_gini`` (Gini of how
        often each item was recommended in the round, all items counted);
        ``coverage`` (fraction of the catalogue recommended at least once in the
        round); ``cumulative_coverage`` (since round 1); ``data_gini`` (Gini of
        the number of ratings per item in the data collected so far);
        ``n_ratings`` (size of that data); ``click_rate`` (fraction of
        recommendations the users accepted) and ``mean_true_rating`` (mean true
        rating $r^*_{ui}$ of the recommended items: what the users got).
    ratings : pandas.DataFrame
        All ratings at the end (initial plus collected), ``user, item, rating,
        round``.
    exposure : numpy.ndarray, shape (n_rounds + 1, n_items)
        How often each item was recommended in each round (row 0 is zeros).
    """

    history: pd.DataFrame
    ratings: pd.DataFrame
    exposure: np.ndarray


def simulate_feedback_loop(
    ratings,
    truth,
    *,
    recommender="popularity",
    n_rounds: int = 20,
    n_recs: int = 10,
    users_per_round: int | None = None,
    exploration: float = 0.0,
    click_threshold: float = 3.5,
    click_temperature: float = 0.5,
    random_state=None,
) -> SimulationResult:
    """Run the collect -> train -> recommend -> feedback loop for ``n_rounds`` rounds.

    Parameters
    ----------
    ratings : pandas.DataFrame
        The initially collected data ``user, item, rating`` with integer ids
        ``0..n_users-1`` and ``0..n_items-1``, e.g. from
        :func:`mathrec.datasets.make_synthetic`.
    truth : SyntheticTruth
        The ground truth of the same world (``truth.true_ratings``).
    recommender : str or callable, default "popularity"
        A key of :data:`RECOMMENDERS` (``"popularity"``, ``"item_mean"``,
        ``"cooccurrence"``, ``"random"``) or a scorer ``f(X, users, rng)``
        returning a ``(len(users), n_items)`` array of scores.
    n_rounds : int, default 20
    n_recs : int, default 10
        Length of each recommendation list.
    users_per_round : int, optional
        Users who visit in a round (drawn at random, without replacement);
        default: all users.
    exploration : float in [0, 1], default 0
        Probability that a list slot shows a random unseen item instead of the
        recommender's next choice (epsilon-greedy exploration).
    click_threshold, click_temperature : float
        A shown item is accepted (and rated) with probability
        $\\sigma((r^*_{ui} - \\tau) / T)$, the logistic function of its true
        rating; $\\tau$ is the threshold, $T$ the temperature.
    random_state : int, numpy.random.Generator or None

    Returns
    -------
    SimulationResult
        Per-round ``history``, final ``ratings``, per-round ``exposure``.

    Notes
    -----
    Each round $t = 1, \\dots, T$:

    1. *collect*: $\\mathbf{R}^{(t)}$ holds every rating so far (CSR);
    2. *train and predict*: the recommender scores every item for the
       visiting users from $\\mathbf{R}^{(t)}$;
    3. *recommend*: each visiting user is shown the ``n_recs`` best-scored
       items he or she has not rated (with probability ``exploration`` per slot,
       a random unseen item instead);
    4. *feedback*: user $u$ accepts item $i$ with probability
       $\\sigma((r^*_{ui} - \\tau)/T)$ and then rates it
       $r^*_{ui} + \\varepsilon$, rounded to the rating scale; accepted
       ratings join the data.

    Only accepted items produce data, and only shown items can be accepted:
    the model's own choices decide what it will learn from next, which is the
    loop studied by Chaney, Stewart and Engelhardt (2018).  Exposure is
    measured by the Gini coefficient (:func:`gini`) of per-item
    recommendation counts and by catalogue coverage (:func:`coverage`).

    Time and memory per round grow with the number of visiting users times
    the number of items (the score matrix of the visiting users), never with
    all users times all items at once unless everyone visits.

    References
    ----------
    .. [1] A. J. B. Chaney, B. M. Stewart and B. E. Engelhardt, "How
       algorithmic confounding in recommendation systems increases homogeneity
       and decreases utility", RecSys 2018. https://doi.org/10.1145/3240323.3240370

    Examples
    --------
    >>> from mathrec.datasets import make_synthetic
    >>> data, truth = make_synthetic(200, 100, 1000, random_state=0)
    >>> res = simulate_feedback_loop(data, truth, n_rounds=3, random_state=0)
    >>> res.history.columns.tolist()[:4]
    ['round', 'exposure_gini', 'coverage', 'cumulative_coverage']
    >>> len(res.history)
    4
    """
    if not isinstance(ratings, pd.DataFrame) or not {
        "user",
        "item",
        "rating",
    } <= set(ratings.columns):
        raise ValueError(
            "ratings must be a DataFrame with columns user, item, rating"
        )
    check_unique_columns(ratings, ["user", "item", "rating"], "ratings")
    if callable(recommender):
        score = recommender
    elif recommender in RECOMMENDERS:
        score = RECOMMENDERS[recommender]
    else:
        raise ValueError(
            f"recommender must be one of {sorted(RECOMMENDERS)} or a callable; "
            f"got {recommender!r}"
        )
    n_rounds = check_positive_int(n_rounds, "n_rounds")
    n_recs = check_positive_int(n_recs, "n_recs")
    exploration = check_real(exploration, "exploration", low=0, high=1)
    click_threshold = check_real(click_threshold, "click_threshold")
    click_temperature = check_real(
        click_temperature, "click_temperature", low=0, closed="neither"
    )
    m, n = truth.n_users, truth.n_items
    u0 = _whole_ids(ratings, "user")
    i0 = _whole_ids(ratings, "item")
    if len(u0) and (
        u0.min() < 0 or u0.max() >= m or i0.min() < 0 or i0.max() >= n
    ):
        raise ValueError(
            f"user ids must lie in [0, {m}) and item ids in [0, {n}), as in "
            f"truth"
        )
    if users_per_round is None:
        users_per_round = m
    users_per_round = check_positive_int(
        users_per_round, "users_per_round", maximum=m
    )
    rng = (
        np.random.default_rng(random_state)
        if not isinstance(random_state, np.random.Generator)
        else random_state
    )
    lo, hi = truth.rating_scale
    step = truth.rating_step

    us, its = [u0], [i0]
    rs = [ratings["rating"].to_numpy(np.float64)]
    rounds = [np.zeros(len(u0), dtype=np.int64)]
    exposure = np.zeros((n_rounds + 1, n), dtype=np.int64)
    ever = np.zeros(n, dtype=bool)
    counts0 = np.bincount(i0, minlength=n)
    rows = [
        dict(
            round=0,
            exposure_gini=np.nan,
            coverage=np.nan,
            cumulative_coverage=np.nan,
            data_gini=gini(counts0),
            n_ratings=len(u0),
            click_rate=np.nan,
            mean_true_rating=np.nan,
        )
    ]
    for t in range(1, n_rounds + 1):
        u_all, i_all, r_all = (
            np.concatenate(us),
            np.concatenate(its),
            np.concatenate(rs),
        )
        X = sp.csr_matrix((r_all, (u_all, i_all)), shape=(m, n))
        visitors = np.sort(rng.choice(m, users_per_round, replace=False))
        seen = X[visitors]
        scores = score(X, visitors, rng)
        top, valid = _top_n(scores, seen, n_recs, rng)
        if exploration > 0:
            explore = (rng.random(top.shape) < exploration) & valid
            if explore.any():
                # a random unseen item not already in the list, per exploring
                # slot
                noise = rng.random((len(visitors), n))
                noise[seen.nonzero()] = -np.inf
                np.put_along_axis(noise, top, -np.inf, axis=1)
                k = int(explore.sum(axis=1).max())
                alt = np.argsort(-noise, axis=1)[:, :k]
                alt_ok = np.isfinite(np.take_along_axis(noise, alt, axis=1))
                slot_rank = np.cumsum(explore, axis=1) - 1
                use = explore & np.take_along_axis(
                    alt_ok, np.clip(slot_rank, 0, k - 1), axis=1
                )
                top = np.where(
                    use,
                    np.take_along_axis(
                        alt, np.clip(slot_rank, 0, k - 1), axis=1
                    ),
                    top,
                )
        uu = np.repeat(visitors, top.shape[1])[valid.ravel()]
        ii = top.ravel()[valid.ravel()]
        exposure[t] = np.bincount(ii, minlength=n)
        ever[ii] = True
        r_true = truth.true_ratings(uu, ii)
        p_click = 1.0 / (
            1.0 + np.exp(-(r_true - click_threshold) / click_temperature)
        )
        click = rng.random(len(uu)) < p_click
        r_obs = r_true[click] + truth.noise * rng.standard_normal(
            int(click.sum())
        )
        r_obs = np.clip(lo + np.round((r_obs - lo) / step) * step, lo, hi)
        us.append(uu[click])
        its.append(ii[click])
        rs.append(r_obs)
        rounds.append(np.full(int(click.sum()), t, dtype=np.int64))
        n_total = sum(len(a) for a in us)
        counts = np.bincount(np.concatenate(its), minlength=n)
        rows.append(
            dict(
                round=t,
                exposure_gini=gini(exposure[t]),
                coverage=coverage(ii, n),
                cumulative_coverage=float(ever.mean()),
                data_gini=gini(counts),
                n_ratings=n_total,
                click_rate=float(click.mean()) if len(click) else np.nan,
                mean_true_rating=float(r_true.mean())
                if len(r_true)
                else np.nan,
            )
        )
    history = pd.DataFrame(rows)
    final = pd.DataFrame(
        {
            "user": np.concatenate(us),
            "item": np.concatenate(its),
            "rating": np.concatenate(rs),
            "round": np.concatenate(rounds),
        }
    )
    return SimulationResult(history=history, ratings=final, exposure=exposure)
