"""Accuracy metrics for rating prediction and for top-N recommendation lists.

Two families:

* **rating metrics** compare predicted ratings with held-out ratings:
  :func:`rmse`, :func:`mae` (the functions of :mod:`mathrec.losses`);
* **top-N metrics** judge one user's ranked list against the set of items that
  user found relevant in held-out data: :func:`precision_at_k`,
  :func:`recall_at_k`, :func:`hit_rate_at_k`, :func:`ndcg_at_k`,
  :func:`average_precision_at_k` (AP@k, whose mean over users is MAP@k),
  :func:`average_precision` (untruncated AP, whose mean is MAP),
  :func:`reciprocal_rank` (whose mean is MRR); and one list-of-lists metric,
  :func:`catalogue_coverage`;
* **concentration**: :func:`gini`, the inequality of exposure or popularity
  (also importable from :mod:`mathrec.simulate`, where chapter 2 first uses it).

Top-N functions take one user's ranked recommendations (best first; ids of any
hashable type) and that user's relevant items (a collection of ids, or for
graded NDCG a mapping id -> gain).  :func:`mathrec.evaluation.evaluate`
averages them over users.

Chapters 3 and 5 use these metrics; chapter 1 explains DCG's discount as a
model of attention.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mathrec import losses as _losses
from mathrec._base import check_positive_int
from mathrec._validation import check_id_list

__all__ = [
    "rmse",
    "mae",
    "precision_at_k",
    "recall_at_k",
    "hit_rate_at_k",
    "dcg_at_k",
    "ndcg_at_k",
    "average_precision_at_k",
    "average_precision",
    "reciprocal_rank",
    "catalogue_coverage",
    "gini",
]


# --------------------------------------------------------------------- rating
#: Root mean squared error: :func:`mathrec.losses.rmse`, the same function.
rmse = _losses.rmse

#: Mean absolute error: :func:`mathrec.losses.mae`, the same function.
mae = _losses.mae


# -------------------------------------------------------------------- top-N
def _ranked(recommended, k):
    k = check_positive_int(k, "k")
    rec = check_id_list(recommended, "recommended")
    if len(set(rec)) != len(rec):
        raise ValueError("recommended contains the same item more than once")
    return rec[:k], k


def _relevant_set(relevant):
    if isinstance(relevant, Mapping):
        return set(relevant.keys())
    return set(check_id_list(relevant, "relevant", ordered=False))


def _need_relevant(rel, metric):
    if not rel:
        raise ValueError(
            f"relevant is empty: {metric} is undefined for a user with no "
            f"relevant "
            "item (leave such users out of the average)"
        )


def precision_at_k(recommended, relevant, k=10):
    r"""Precision at k: the share of the first k recommendations that are relevant.

    Parameters
    ----------
    recommended : sequence of hashable
        The user's ranked list, best first, without repeats.
    relevant : collection of hashable
        The items that are relevant to the user (e.g. held-out ratings >= 4).
    k : int, default 10
        Cut-off, ``k >= 1``.

    Returns
    -------
    float in [0, 1]

    Notes
    -----
    With :math:`L_k` the first :math:`k` recommended items and :math:`T` the
    relevant items,

    .. math:: \mathrm{P@}k = \frac{|L_k \cap T|}{k}.

    The denominator is :math:`k` even when the list is shorter than
    :math:`k` (a short list is penalised). An empty ``relevant`` gives 0.

    References
    ----------
    .. [1] Manning, C. D., Raghavan, P., Schütze, H. (2008). *Introduction to
       Information Retrieval*, ch. 8. Cambridge University Press.

    Examples
    --------
    >>> precision_at_k(["a", "b", "c", "d"], {"b", "d", "x"}, k=4)
    0.5
    """
    top, k = _ranked(recommended, k)
    rel = _relevant_set(relevant)
    return sum(1 for i in top if i in rel) / k


def recall_at_k(recommended, relevant, k=10):
    r"""Recall at k: the share of the relevant items found in the first k.

    Parameters
    ----------
    recommended : sequence of hashable
    relevant : collection of hashable, not empty
    k : int, default 10

    Returns
    -------
    float in [0, 1]

    Raises
    ------
    ValueError
        If ``relevant`` is empty (recall is undefined).

    Notes
    -----
    .. math:: \mathrm{R@}k = \frac{|L_k \cap T|}{|T|}.

    When :math:`|T| > k`, recall at k cannot reach 1.

    References
    ----------
    .. [1] Manning, Raghavan & Schütze (2008), ch. 8.

    Examples
    --------
    >>> recall_at_k(["a", "b", "c", "d"], {"b", "d", "x"}, k=4)
    0.6666666666666666
    """
    top, k = _ranked(recommended, k)
    rel = _relevant_set(relevant)
    _need_relevant(rel, "recall")
    return sum(1 for i in top if i in rel) / len(rel)


def hit_rate_at_k(recommended, relevant, k=10):
    r"""Hit rate at k: 1 if at least one of the first k items is relevant, else 0.

    Parameters
    ----------
    recommended : sequence of hashable
    relevant : collection of hashable
    k : int, default 10

    Returns
    -------
    float, 0.0 or 1.0

    Notes
    -----
    .. math:: \mathrm{HR@}k = \mathbb 1\left[\,|L_k \cap T| \ge 1\,\right].

    Averaged over users it is the share of users given at least one hit
    (Deshpande & Karypis 2004 use it with one held-out item per user).

    References
    ----------
    .. [1] Deshpande, M., Karypis, G. (2004). Item-based top-N recommendation
       algorithms. ACM TOIS 22(1), 143-177. doi:10.1145/963770.963776

    Examples
    --------
    >>> hit_rate_at_k(["a", "b"], {"b"}, k=1), hit_rate_at_k(["a", "b"], {"b"}, k=2)
    (0.0, 1.0)
    """
    top, k = _ranked(recommended, k)
    rel = _relevant_set(relevant)
    return float(any(i in rel for i in top))


def _gains(relevant):
    if isinstance(relevant, Mapping):
        g = {i: float(v) for i, v in relevant.items()}
        bad = [i for i, v in g.items() if not np.isfinite(v) or v < 0]
        if bad:
            raise ValueError(
                f"gains must be finite and >= 0; bad gains for items {bad[:5]}"
            )
        return g
    return {i: 1.0 for i in check_id_list(relevant, "relevant", ordered=False)}


def _transform(g, gain):
    if gain == "linear":
        return g
    if gain == "exponential":
        return 2.0**g - 1.0
    raise ValueError(f"gain must be 'linear' or 'exponential', got {gain!r}")


def dcg_at_k(recommended, relevant, k=10, *, gain="linear"):
    r"""Discounted cumulative gain of the first k recommendations.

    Parameters
    ----------
    recommended : sequence of hashable
    relevant : collection of hashable or mapping hashable -> float
        A collection means binary gains (1 for a relevant item, 0 otherwise);
        a mapping gives each relevant item its graded gain :math:`g_i \ge 0`
        (e.g. its held-out rating).
    k : int, default 10
    gain : {"linear", "exponential"}, default "linear"
        Use :math:`g` as it is, or :math:`2^{g}-1` (Burges et al. 2005).

    Returns
    -------
    float

    Notes
    -----
    .. math:: \mathrm{DCG@}k = \sum_{r=1}^{\min(k, |L|)}
              \frac{g(L_r)}{\log_2(r + 1)},

    where :math:`L_r` is the item at rank :math:`r` and :math:`g` its gain (0
    for items outside ``relevant``).  This is the form used by scikit-learn's
    ``dcg_score``.  Järvelin & Kekäläinen's original leaves the ranks below
    the logarithm's base undiscounted; the form here discounts every rank by
    :math:`\log_2(r+1)`.

    References
    ----------
    .. [1] Järvelin, K., Kekäläinen, J. (2002). Cumulated gain-based evaluation
       of IR techniques. ACM TOIS 20(4), 422-446. doi:10.1145/582415.582418

    Examples
    --------
    >>> round(dcg_at_k(["a", "b", "c"], {"a", "c"}, k=3), 6)
    1.5
    """
    top, k = _ranked(recommended, k)
    g = _gains(relevant)
    vals = np.array([g.get(i, 0.0) for i in top], dtype=float)
    vals = _transform(vals, gain)
    disc = 1.0 / np.log2(np.arange(2, vals.size + 2))
    return float(np.sum(vals * disc))


def ndcg_at_k(recommended, relevant, k=10, *, gain="linear"):
    r"""Normalised discounted cumulative gain at k.

    Parameters
    ----------
    recommended : sequence of hashable
    relevant : collection of hashable or mapping hashable -> float
        Binary (collection) or graded (mapping id -> gain) relevance, as in
        :func:`dcg_at_k`.
    k : int, default 10
    gain : {"linear", "exponential"}, default "linear"

    Returns
    -------
    float in [0, 1]

    Raises
    ------
    ValueError
        If no item has a positive gain (the ideal DCG is 0).

    Notes
    -----
    .. math:: \mathrm{nDCG@}k = \frac{\mathrm{DCG@}k(L)}{\mathrm{IDCG@}k},
       \qquad
       \mathrm{IDCG@}k = \sum_{r=1}^{\min(k, |T|)} \frac{g(T_{(r)})}{\log_2(r+1)},

    where :math:`T_{(1)}, T_{(2)}, \dots` are **all** the user's relevant items
    sorted by decreasing gain: the ideal list is the best ranking of the whole
    relevant set, not a re-sorting of the recommended list, so an item that
    is relevant but missing from the list lowers the score.  With binary gains
    :math:`\mathrm{IDCG@}k = \sum_{r=1}^{\min(k,|T|)} 1/\log_2(r+1)`.

    This coincides with ``sklearn.metrics.ndcg_score(y_true, y_score, k=k)``
    when the scored candidates are the whole catalogue, ``y_true`` holds the
    linear gains, and scores have no ties.

    References
    ----------
    .. [1] Järvelin & Kekäläinen (2002), doi:10.1145/582415.582418.
    .. [2] Burges, C. et al. (2005). Learning to rank using gradient descent.
       ICML. doi:10.1145/1102351.1102363

    Examples
    --------
    >>> round(ndcg_at_k(["a", "b", "c"], {"a", "c"}, k=3), 6)
    0.919721
    >>> round(ndcg_at_k(["a", "b", "c"], {"a": 1, "b": 3}, k=3), 6)
    0.796708
    """
    top, k = _ranked(recommended, k)
    g = _gains(relevant)
    ideal = np.sort(np.array(list(g.values()), dtype=float))[::-1][:k]
    ideal = _transform(ideal, gain)
    idcg = float(np.sum(ideal / np.log2(np.arange(2, ideal.size + 2))))
    if idcg <= 0:
        raise ValueError(
            "no relevant item has a positive gain: nDCG is undefined"
        )
    return dcg_at_k(top, g, k, gain=gain) / idcg


def average_precision_at_k(recommended, relevant, k=10):
    r"""Average precision at k (AP@k); its mean over users is MAP@k.

    Parameters
    ----------
    recommended : sequence of hashable
    relevant : collection of hashable, not empty
    k : int, default 10

    Returns
    -------
    float in [0, 1]

    Raises
    ------
    ValueError
        If ``relevant`` is empty.

    Notes
    -----
    .. math:: \mathrm{AP@}k = \frac{1}{\min(k, |T|)} \sum_{r=1}^{\min(k,|L|)}
              \mathrm{P@}r \cdot \mathbb 1[L_r \in T].

    The normaliser :math:`\min(k, |T|)` is the largest number of hits a list
    of length :math:`k` can hold, so a perfect list scores 1 (the convention
    of Kaggle's ``apk`` and of most recommender libraries).  It differs from
    the untruncated :func:`average_precision`, which divides by :math:`|T|`
    and scans the whole ranking: MAP@k is **not** MAP.

    References
    ----------
    .. [1] Manning, Raghavan & Schütze (2008), ch. 8.4.

    Examples
    --------
    >>> average_precision_at_k(["a", "b", "c", "d"], {"b", "d", "x"}, k=4)
    0.3333333333333333
    """
    top, k = _ranked(recommended, k)
    rel = _relevant_set(relevant)
    _need_relevant(rel, "AP@k")
    hits, total = 0, 0.0
    for r, i in enumerate(top, start=1):
        if i in rel:
            hits += 1
            total += hits / r
    return total / min(k, len(rel))


def average_precision(recommended, relevant):
    r"""Average precision over the whole ranking (untruncated AP); its mean is MAP.

    Parameters
    ----------
    recommended : sequence of hashable
        A full ranking (relevant items absent from it count as never retrieved).
    relevant : collection of hashable, not empty

    Returns
    -------
    float in [0, 1]

    Notes
    -----
    .. math:: \mathrm{AP} = \frac{1}{|T|} \sum_{r=1}^{|L|}
              \mathrm{P@}r \cdot \mathbb 1[L_r \in T].

    Equals ``sklearn.metrics.average_precision_score`` for a ranking of the
    whole catalogue without ties.

    References
    ----------
    .. [1] Manning, Raghavan & Schütze (2008), ch. 8.4.

    Examples
    --------
    >>> average_precision(["a", "b", "c", "d"], {"b", "d", "x"})
    0.3333333333333333
    >>> average_precision(["a", "b", "c", "d", "x"], {"b", "d", "x"})
    0.5333333333333333
    """
    rec = check_id_list(recommended, "recommended")
    if not rec:
        rel = _relevant_set(relevant)
        _need_relevant(rel, "AP")
        return 0.0
    top, _ = _ranked(rec, len(rec))
    rel = _relevant_set(relevant)
    _need_relevant(rel, "AP")
    hits, total = 0, 0.0
    for r, i in enumerate(top, start=1):
        if i in rel:
            hits += 1
            total += hits / r
    return total / len(rel)


def reciprocal_rank(recommended, relevant, k=None):
    r"""Reciprocal rank of the first relevant item; its mean over users is MRR.

    Parameters
    ----------
    recommended : sequence of hashable
    relevant : collection of hashable
    k : int or None, default None
        Look only at the first ``k`` items (None: the whole list).

    Returns
    -------
    float in [0, 1]
        :math:`1/r` for the rank :math:`r` of the first relevant item, 0 if
        there is none.

    Notes
    -----
    .. math:: \mathrm{RR} = \frac{1}{\min\{r : L_r \in T\}}, \qquad
              \mathrm{MRR} = \frac{1}{|U|}\sum_u \mathrm{RR}_u.

    References
    ----------
    .. [1] Voorhees, E. M. (1999). The TREC-8 question answering track report.
       TREC-8, NIST Special Publication 500-246.

    Examples
    --------
    >>> reciprocal_rank(["a", "b", "c"], {"c"})
    0.3333333333333333
    """
    rec = check_id_list(recommended, "recommended")
    if k is not None:
        check_positive_int(k, "k")
    top, _ = _ranked(rec, len(rec) if k is None else k) if rec else ([], None)
    rel = _relevant_set(relevant)
    for r, i in enumerate(top, start=1):
        if i in rel:
            return 1.0 / r
    return 0.0


def gini(x) -> float:
    """Gini coefficient of non-negative amounts (e.g. how often each item was shown).

    Chapter 2 measures the exposure of the feedback loop with it, and chapter 9
    the popularity bias of recommendation lists.

    Parameters
    ----------
    x : array_like, 1-d, non-negative
        One amount per member of the population (items with zero exposure
        included: leaving them out understates the inequality).

    Returns
    -------
    float
        In $[0, 1 - 1/n]$: 0 when all amounts are equal, $1 - 1/n$ when one
        member has everything.  Defined as 0 when all amounts are 0.

    Raises
    ------
    ValueError
        If ``x`` is empty, not 1-d, or holds negative, NaN or infinite values.

    Notes
    -----
    The Gini coefficient is half the relative mean absolute difference,

    $$G = \\frac{\\sum_{i=1}^n \\sum_{j=1}^n |x_i - x_j|}{2 n^2 \\bar x},$$

    computed in $O(n \\log n)$ from the sorted amounts
    $x_{(1)} \\le \\dots \\le x_{(n)}$ as

    $$G = \\frac{2 \\sum_{k=1}^n k\\, x_{(k)}}{n \\sum_{k=1}^n x_{(k)}} - \\frac{n + 1}{n}.$$

    It equals twice the area between the Lorenz curve and the diagonal
    (population form, without the $n / (n - 1)$ small-sample correction).

    Examples
    --------
    >>> gini([1, 1, 1, 1])
    0.0
    >>> gini([0, 0, 0, 1])
    0.75
    >>> gini([1, 2, 3, 4])
    0.25
    """
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(
            f"x must be a non-empty 1-d array; got shape {a.shape}"
        )
    if not np.isfinite(a).all() or (a < 0).any():
        bad = a[~np.isfinite(a) | (a < 0)]
        raise ValueError(
            f"x must hold finite non-negative amounts; got {bad[:5].tolist()}"
        )
    top = a.max()
    if top == 0:
        return 0.0
    n = a.size
    # sums of huge (tiny) amounts overflow (underflow)
    if top > 2.0**400 or top < 2.0**-400:
        a = np.ldexp(a, -int(np.frexp(top)[1]))  # exact, and G is scale-free
    total = a.sum()
    s = np.sort(a)
    g = 2.0 * np.dot(np.arange(1, n + 1), s) / (n * total) - (n + 1) / n
    return float(max(g, 0.0))


def catalogue_coverage(recommendations, catalogue):
    r"""Share of the catalogue that appears in at least one recommendation list.

    Parameters
    ----------
    recommendations : iterable of sequences of hashable
        One list per user.
    catalogue : int or collection of hashable
        The number of items that could be recommended, or the items themselves
        (then items outside it raise).

    Returns
    -------
    float in [0, 1]

    Notes
    -----
    .. math:: \mathrm{coverage} = \frac{\left|\bigcup_u L_u\right|}{|I|}.

    A popularity ranking has tiny coverage: every user gets the same list.

    References
    ----------
    .. [1] Ge, M., Delgado-Battenfeld, C., Jannach, D. (2010). Beyond accuracy:
       evaluating recommender systems by coverage and serendipity. RecSys.
       doi:10.1145/1864708.1864761

    Examples
    --------
    >>> catalogue_coverage([["a", "b"], ["a", "c"]], ["a", "b", "c", "d"])
    0.75
    """
    shown = set()
    for lst in check_id_list(recommendations, "recommendations"):
        shown.update(
            check_id_list(lst, "each recommendation list", ordered=False)
        )
    if isinstance(catalogue, (int, np.integer)) and not isinstance(
        catalogue, bool
    ):
        n = check_positive_int(int(catalogue), "catalogue")
        if len(shown) > n:
            raise ValueError(
                f"{len(shown)} distinct items recommended but catalogue={n}"
            )
        return len(shown) / n
    if isinstance(catalogue, (bool, np.bool_, float, np.floating)):
        raise TypeError(
            "catalogue must be the number of items (an int >= 1) or a "
            "collection of item ids; "
            f"got {catalogue!r}"
        )
    cat = set(check_id_list(catalogue, "catalogue", ordered=False))
    if not cat:
        raise ValueError("catalogue is empty")
    outside = shown - cat
    if outside:
        raise ValueError(
            f"recommended items not in the catalogue: "
            f"{sorted(map(repr, outside))[:5]}"
        )
    return len(shown) / len(cat)
