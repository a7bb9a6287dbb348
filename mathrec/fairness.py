r"""Popularity bias and diversity: measures, and re-rankers that trade accuracy for them.

Source §9.3 (如何确保个性化推荐算法的公平性) proposes "多样性控制" (diversity
control) and "偏见检测与校正" (bias detection and correction).  This module
makes both measurable on lists of recommendations:

* measures: :func:`average_popularity` (mean popularity of the recommended
  items), :func:`exposure_gini` (inequality of how often each catalogue item
  is shown, via :func:`mathrec.simulate.gini`), :func:`long_tail_share`
  (share of slots given to long-tail items, split off by
  :func:`long_tail_items`), :func:`intra_list_diversity` (mean pairwise
  distance of the items in a list); catalogue coverage is
  :func:`mathrec.metrics.catalogue_coverage`;
* re-rankers, which pick ``n`` items greedily from a longer candidate list:
  :func:`mmr` (maximal marginal relevance) and :func:`xquad` (a long-tail
  version of xQuAD), each with a trade-off :math:`\lambda \in [0, 1]` that
  follows its paper: ``mmr(lam=1)`` and ``xquad(diversity_weight=0)`` rank by
  relevance alone.

Taught in chapter 9 (source §9.3), notebook ``notebooks/ch09_faq.ipynb``.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import scipy.sparse as sp

from mathrec._base import check_positive_int
from mathrec._validation import check_array, check_id_list, check_probability
from mathrec.metrics import gini

__all__ = [
    "average_popularity",
    "exposure_gini",
    "long_tail_items",
    "long_tail_share",
    "intra_list_diversity",
    "mmr",
    "xquad",
]


def _lists(recommendations):
    """A list of lists, refusing an empty collection."""
    if isinstance(recommendations, (str, bytes)):
        raise TypeError(
            "recommendations must be a sequence of lists of item ids, not a "
            "string"
        )
    lists = [list(lst) for lst in recommendations]
    if not lists:
        raise ValueError("recommendations is empty: give at least one list")
    return lists


def _lookup(series, name, lists):
    """Values of ``series`` (indexed by item id) for every item of ``lists``, flat."""
    if not isinstance(series, pd.Series):
        raise TypeError(
            f"{name} must be a pandas Series indexed by item id, got "
            f"{type(series).__name__}"
        )
    if not series.index.is_unique:
        raise ValueError(f"the index of {name} has repeated item ids")
    flat = [i for lst in lists for i in lst]
    q = np.empty(len(flat), dtype=object)
    q[:] = flat
    pos = series.index.get_indexer(q) if flat else np.empty(0, dtype=np.intp)
    if (pos < 0).any():
        unknown = list(dict.fromkeys(q[pos < 0].tolist()))[:5]
        raise ValueError(f"recommended items not in {name}: {unknown}")
    return series.to_numpy()[pos], pos


def average_popularity(recommendations, popularity):
    r"""Average recommendation popularity (ARP): mean popularity of the listed items.

    Parameters
    ----------
    recommendations : sequence of sequences of item ids
        One list per user (lists may differ in length; empty lists are skipped).
    popularity : pandas.Series
        Popularity of every item (e.g. its number of training ratings),
        indexed by item id.

    Returns
    -------
    float

    Notes
    -----
    .. math:: \mathrm{ARP} = \frac{1}{|U|} \sum_{u \in U} \frac{1}{|L_u|}
              \sum_{i \in L_u} \phi(i),

    with :math:`\phi(i)` the popularity of item :math:`i` and :math:`L_u` the
    list of user :math:`u` (Abdollahpouri, Burke & Mobasher 2019).  A
    popularity baseline maximises it.  Taught in chapter 9.

    References
    ----------
    .. [1] Abdollahpouri, H., Burke, R., Mobasher, B. (2019). Managing
       popularity bias in recommender systems with personalized re-ranking.
       FLAIRS-32, 413-418. https://arxiv.org/abs/1901.07555

    Examples
    --------
    >>> import pandas as pd
    >>> pop = pd.Series({"a": 10, "b": 4, "c": 1})
    >>> average_popularity([["a", "b"], ["c"]], pop)
    4.0
    """
    lists = [lst for lst in _lists(recommendations) if len(lst)]
    if not lists:
        raise ValueError("every recommendation list is empty")
    values, _ = _lookup(popularity, "popularity", lists)
    try:
        values = values.astype(np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"popularity must hold numbers; got dtype {popularity.dtype}"
        ) from None
    bad = ~np.isfinite(values)
    if bad.any():
        flat = [i for lst in lists for i in lst]
        items = list(dict.fromkeys(flat[j] for j in np.flatnonzero(bad)))[:5]
        raise ValueError(
            f"popularity must be finite for every listed item; items {items} "
            f"have "
            f"{values[bad][:5].tolist()}"
        )
    lengths = np.array([len(lst) for lst in lists])
    owner = np.repeat(np.arange(len(lists)), lengths)
    per_user = np.bincount(owner, weights=values.astype(float)) / lengths
    return float(per_user.mean())


def exposure_gini(recommendations, catalogue):
    r"""Gini coefficient of exposure: how unequally the lists' slots fall on catalogue items.

    Parameters
    ----------
    recommendations : sequence of sequences of item ids
    catalogue : sequence of item ids
        Every item that could be recommended; items never shown count with
        exposure 0 (leaving them out would understate the inequality).

    Returns
    -------
    float in :math:`[0, 1 - 1/n]`

    Notes
    -----
    Item :math:`i` is exposed :math:`e_i = |\{u : i \in L_u\}|` times; the
    result is :func:`mathrec.simulate.gini` of :math:`(e_i)_{i \in I}`.  It is
    0 when every item is shown equally often and near 1 when a few items take
    all slots, as with a popularity list.  Taught in chapter 9.

    Examples
    --------
    >>> exposure_gini([["a", "b"], ["a", "b"]], ["a", "b", "c", "d"])
    0.5
    """
    lists = _lists(recommendations)
    cat = pd.Series(0, index=pd.Index(list(catalogue)))
    if len(cat) == 0:
        raise ValueError("catalogue is empty")
    _, pos = _lookup(cat, "catalogue", lists)
    return gini(np.bincount(pos, minlength=len(cat)))


def long_tail_items(popularity, head_fraction=0.2):
    r"""Split items into a short head and a long tail by popularity.

    Parameters
    ----------
    popularity : pandas.Series
        Popularity of every item, indexed by item id.
    head_fraction : float in (0, 1), default 0.2
        Share of the items (the most popular ones) that form the head.

    Returns
    -------
    pandas.Series of bool
        True for long-tail items, same index as ``popularity``.

    Notes
    -----
    The head is the :math:`\lceil h \cdot |I| \rceil` most popular items
    (ties broken by order in ``popularity``), with :math:`h` = ``head_fraction``;
    every other item is in the long tail.  On MovieLens the 20 % head holds
    most of the ratings.  Taught in chapter 9.

    Examples
    --------
    >>> import pandas as pd
    >>> popularity = pd.Series({"a": 1, "b": 50, "c": 3, "d": 2, "e": 9})
    >>> long_tail_items(popularity, 0.4).tolist()
    [True, False, True, True, False]
    """
    if not isinstance(popularity, pd.Series) or len(popularity) == 0:
        raise ValueError(
            "popularity must be a non-empty pandas Series indexed by item id"
        )
    check_probability(
        head_fraction, "head_fraction", open_low=True, open_high=True
    )
    n_head = int(np.ceil(head_fraction * len(popularity)))
    order = np.argsort(-popularity.to_numpy(dtype=float), kind="stable")
    tail = np.ones(len(popularity), dtype=bool)
    tail[order[:n_head]] = False
    return pd.Series(tail, index=popularity.index)


def long_tail_share(recommendations, is_long_tail):
    r"""Share of the recommended slots that show long-tail items.

    Parameters
    ----------
    recommendations : sequence of sequences of item ids
    is_long_tail : pandas.Series of bool
        Indexed by item id, e.g. from :func:`long_tail_items`.

    Returns
    -------
    float in [0, 1]

    Notes
    -----
    .. math:: \frac{\sum_u |L_u \cap T|}{\sum_u |L_u|},

    with :math:`T` the long tail: the exposure share of the tail (the APLT of
    Abdollahpouri et al. 2019 averages the per-list shares instead; the two
    agree when all lists have the same length).  Taught in chapter 9.

    Examples
    --------
    >>> import pandas as pd
    >>> tail = pd.Series({"a": False, "b": True, "c": True})
    >>> long_tail_share([["a", "b"], ["a", "c"]], tail)
    0.5
    """
    lists = _lists(recommendations)
    values, _ = _lookup(is_long_tail, "is_long_tail", lists)
    if values.size == 0:
        raise ValueError("every recommendation list is empty")
    return float(np.mean(values.astype(bool)))


def intra_list_diversity(recommendations, features, items):
    r"""Mean pairwise cosine distance between the items of each list, averaged over lists.

    Parameters
    ----------
    recommendations : sequence of sequences of item ids
        Lists with fewer than two items are skipped.
    features : scipy.sparse matrix or array, shape (n_items, n_features)
        One feature vector per item (e.g. genres, or TF-IDF genres).
    items : sequence of item ids
        The item id of each row of ``features``.

    Returns
    -------
    float in [0, 2] (in [0, 1] for non-negative features)

    Notes
    -----
    For a list :math:`L` of :math:`k \ge 2` items,

    .. math:: \mathrm{ILD}(L) = \frac{1}{k(k-1)} \sum_{i \in L} \sum_{j \in L, j \ne i}
              \bigl(1 - \cos(x_i, x_j)\bigr)
            = 1 - \frac{\mathbf 1^\top G \mathbf 1 - \operatorname{tr} G}{k(k-1)},

    where :math:`G = \hat X_L \hat X_L^\top` is the Gram matrix of the
    unit-length feature vectors (a zero vector has cosine 0 with everything,
    as in scikit-learn).  Since :math:`\mathbf 1^\top G \mathbf 1 = \lVert
    \sum_{i \in L} \hat x_i \rVert^2`, all lists are done with one sparse
    product (lists x items times items x features), without any Gram matrix.
    (Ziegler et al. 2005; Smyth & McClave 2001.)  Taught in chapter 9.

    References
    ----------
    .. [1] Ziegler, C.-N., McNee, S. M., Konstan, J. A., Lausen, G. (2005).
       Improving recommendation lists through topic diversification. WWW,
       22-32. doi:10.1145/1060745.1060754

    Examples
    --------
    >>> import numpy as np
    >>> F = np.array([[1, 0], [1, 0], [0, 1]])
    >>> round(intra_list_diversity([["a", "b", "c"]], F, ["a", "b", "c"]), 4)
    0.6667
    """
    lists = [lst for lst in _lists(recommendations) if len(lst) >= 2]
    if not lists:
        raise ValueError("no recommendation list has two or more items")
    from mathrec.coldstart import _l2_rows

    F = sp.csr_matrix(features, dtype=np.float64)
    if not np.isfinite(F.data).all():
        bad = F.data[~np.isfinite(F.data)][0]
        raise ValueError(f"features must be finite; got {float(bad)!r}")
    ids = check_id_list(items, "items")
    if len(ids) != F.shape[0]:
        raise ValueError(
            f"features has {F.shape[0]} rows but items has {len(ids)} ids"
        )
    Xn = _l2_rows(F)
    index = pd.Series(np.arange(Xn.shape[0]), index=pd.Index(ids))
    rows, _ = _lookup(index, "items", lists)
    k = np.array([len(lst) for lst in lists], dtype=np.float64)
    owner = np.repeat(np.arange(len(lists)), k.astype(np.intp))
    M = sp.csr_matrix(
        (np.ones(len(rows)), (owner, rows)), shape=(len(lists), Xn.shape[0])
    )
    S = M @ Xn  # per list: the sum of its unit vectors
    sq_sum = np.asarray(S.multiply(S).sum(axis=1)).ravel()  # 1'G1
    # tr G (0 for zero vectors)
    trace = M @ np.asarray(Xn.multiply(Xn).sum(axis=1)).ravel()
    out = 1.0 - (sq_sum - trace) / (k * (k - 1))
    return float(out.mean())


def _check_weight(value, name):
    return check_probability(value, name)


def _check_relevance(relevance):
    return check_array(
        relevance,
        "relevance",
        ndim=1,
        purpose="there are no candidates to re-rank",
    )


def _best(score, rel):
    """Index of the best score; ties (after scaling) go to higher relevance, then lower index."""
    tied = np.flatnonzero(score == score.max())
    return int(tied[np.argmax(rel[tied])])


def _minmax(x):
    top = np.abs(x).max()
    # max - min could overflow; min-max scaling is scale-free
    if top > 2.0**1000:
        x = np.ldexp(x, -int(np.frexp(top)[1]))
    span = x.max() - x.min()
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)


def mmr(relevance, similarity, n=10, lam=0.5):
    r"""Maximal marginal relevance: re-rank candidates for relevance and novelty.

    Parameters
    ----------
    relevance : array_like, shape (m,)
        Score of each candidate (any scale).
    similarity : array_like or sparse, shape (m, m)
        Similarity between candidates (e.g. cosine of genre vectors).
    n : int, default 10
        Length of the returned list (at most ``m``).
    lam : float in [0, 1], default 0.5
        Weight of relevance, :math:`\lambda` in Carbonell & Goldstein's
        notation: 1 ranks by relevance alone, 0 by novelty alone.  (:func:`xquad`
        weighs the other way round: its ``diversity_weight`` is the weight of
        the diversity term, 0 for relevance alone.)

    Returns
    -------
    numpy.ndarray of int
        Positions of the chosen candidates, in the order chosen.

    Notes
    -----
    Greedily, with :math:`S` the items chosen so far (Carbonell & Goldstein 1998),

    .. math:: i^\ast = \arg\max_{i \notin S} \Bigl[\lambda\, \tilde s_i -
              (1 - \lambda) \max_{j \in S} \mathrm{sim}(i, j)\Bigr],

    where :math:`\tilde s` is the relevance min-max scaled to [0, 1] (so that
    :math:`\lambda` means the same whatever the model's scale) and the max
    over an empty :math:`S` is 0.  The running maximum is updated with one
    row of the similarity per step, :math:`O(nm)` in all.  Ties go to the
    more relevant, then the earlier candidate, so with :math:`\lambda = 1`
    the result is the relevance ranking.  Taught in chapter 9.

    References
    ----------
    .. [1] Carbonell, J., Goldstein, J. (1998). The use of MMR,
       diversity-based reranking for reordering documents and producing
       summaries. SIGIR, 335-336. doi:10.1145/290941.291025

    Examples
    --------
    >>> import numpy as np
    >>> sim = np.array([[1, .9, 0], [.9, 1, 0], [0, 0, 1]])
    >>> mmr([1.0, 0.9, 0.5], sim, n=3, lam=1.0).tolist()
    [0, 1, 2]
    >>> mmr([1.0, 0.9, 0.5], sim, n=3, lam=0.5).tolist()
    [0, 2, 1]
    """
    rel = _check_relevance(relevance)
    lam = _check_weight(lam, "lam")
    n = check_positive_int(n, "n")
    m = rel.size
    S = (
        similarity.toarray()
        if sp.issparse(similarity)
        else np.asarray(similarity, dtype=np.float64)
    )
    if S.shape != (m, m):
        raise ValueError(
            f"similarity must have shape ({m}, {m}), got {S.shape}"
        )
    if not np.isfinite(S).all():
        i, j = np.argwhere(~np.isfinite(S))[0]
        raise ValueError(
            f"similarity must be finite; got {float(S[i, j])!r} at position "
            f"({i}, {j})"
        )
    s = _minmax(rel)
    max_sim = np.zeros(m)
    chosen = np.zeros(m, dtype=bool)
    order = []
    for _ in range(min(n, m)):
        score = lam * s - (1.0 - lam) * max_sim
        score[chosen] = -np.inf
        i = _best(score, rel)
        order.append(i)
        chosen[i] = True
        np.maximum(max_sim, S[i], out=max_sim)
    return np.array(order, dtype=np.intp)


def xquad(
    relevance,
    is_long_tail,
    n=10,
    diversity_weight=0.5,
    *,
    tail_preference=0.5,
    smooth=True,
):
    r"""Long-tail re-ranking in the manner of xQuAD (Abdollahpouri, Burke & Mobasher 2019).

    Parameters
    ----------
    relevance : array_like, shape (m,)
        Score of each candidate.
    is_long_tail : array_like of bool, shape (m,)
        Whether each candidate is in the long tail.
    n : int, default 10
    diversity_weight : float in [0, 1], default 0.5
        Weight :math:`\lambda` of the coverage (diversity) term, as in the xQuAD
        papers: 0 ranks by relevance alone, 1 by coverage alone.  (:func:`mmr`
        weighs the other way round: its ``lam`` is the weight of relevance,
        1 for relevance alone.)
    tail_preference : float in [0, 1], default 0.5
        :math:`P(T \mid u)`, how much the user cares for the tail (e.g. the
        share of long-tail items among their ratings); the head gets
        :math:`1 - P(T \mid u)`.
    smooth : bool, default True
        Smooth coverage (the share of the category already in the list);
        False gives the binary variant (a category is covered once one item
        of it is chosen).

    Returns
    -------
    numpy.ndarray of int
        Positions of the chosen candidates, in the order chosen.

    Notes
    -----
    Items fall in two categories, head :math:`H` and tail :math:`T`.  Greedily,

    .. math:: i^\ast = \arg\max_{i \notin S} \Bigl[(1 - \lambda)\, \tilde s_i
              + \lambda\, P(c_i \mid u)\, \bigl(1 - \mathrm{cov}(c_i, S)\bigr)\Bigr],

    with :math:`c_i \in \{H, T\}` the category of :math:`i`, :math:`\tilde s`
    the min-max scaled relevance, and :math:`\mathrm{cov}(c, S)` the share of
    :math:`S` in :math:`c` (smooth; 0 for empty :math:`S`) or
    :math:`\mathbb 1[S \cap c \neq \emptyset]` (binary).  The bonus goes to
    the category the list so far under-serves, so tail items enter the list
    as :math:`\lambda` (``diversity_weight``) grows.  This is the
    binary/smooth xQuAD of the reference with its :math:`\sum_c P(c\mid u)
    P(i \mid c) \prod_{j \in S} (1 - P(j \mid c, S))` collapsed to the two
    categories.  Taught in chapter 9.

    References
    ----------
    .. [1] Abdollahpouri, H., Burke, R., Mobasher, B. (2019). Managing
       popularity bias in recommender systems with personalized re-ranking.
       FLAIRS-32, 413-418. https://arxiv.org/abs/1901.07555
    .. [2] Santos, R. L. T., Macdonald, C., Ounis, I. (2010). Exploiting query
       reformulations for web search result diversification. WWW, 881-890.
       doi:10.1145/1772690.1772780

    Examples
    --------
    >>> tail = [False, False, False, True]
    >>> xquad([1.0, 0.9, 0.8, 0.1], tail, n=2, diversity_weight=0.0).tolist()
    [0, 1]
    >>> xquad([1.0, 0.9, 0.8, 0.1], tail, n=2, diversity_weight=0.8).tolist()
    [0, 3]
    """
    rel = _check_relevance(relevance)
    lam = _check_weight(diversity_weight, "diversity_weight")
    n = check_positive_int(n, "n")
    tail = np.asarray(is_long_tail)
    if tail.shape != rel.shape or tail.dtype != bool:
        raise ValueError(
            f"is_long_tail must be a bool array of shape {rel.shape}, got "
            f"{tail.dtype} {tail.shape}"
        )
    check_probability(tail_preference, "tail_preference")
    s = _minmax(rel)
    pref = np.where(tail, float(tail_preference), 1.0 - float(tail_preference))
    chosen = np.zeros(rel.size, dtype=bool)
    order = []
    n_tail = 0
    for k in range(min(n, rel.size)):
        if smooth:
            share_tail = n_tail / k if k else 0.0
            cov = np.where(tail, share_tail, 1.0 - share_tail if k else 0.0)
        else:
            cov = np.where(tail, float(n_tail > 0), float(k - n_tail > 0))
        score = (1.0 - lam) * s + lam * pref * (1.0 - cov)
        score[chosen] = -np.inf
        i = _best(score, rel)
        order.append(i)
        chosen[i] = True
        n_tail += bool(tail[i])
    return np.array(order, dtype=np.intp)
