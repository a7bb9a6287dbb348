r"""Attention and position bias: click models for ranked lists.

Chapter 1 of the book (source section 1, 背景介绍) makes the source's claim that
attention is a scarce resource measurable: a user looks at the top of a list
and rarely at its bottom, so where an item is shown changes how often it is
clicked as much as what the item is. Taught in chapter 1
(``notebooks/ch01_attention.ipynb``).

Three groups of tools live here:

* **click models** -- the position-based model (PBM), in which a user examines
  rank :math:`k` with probability :math:`\theta_k` and clicks an examined item
  with its relevance :math:`r`, and the cascade model, in which the user reads
  top-down and stops at the first click:
  :func:`pbm_click_probabilities`, :func:`cascade_click_probabilities`,
  :func:`expected_clicks`, :func:`simulate_clicks`, and :func:`dcg_discount`,
  the discount of DCG read as an attention curve;
* **estimating the attention curve** :math:`\theta_k` from click logs: from
  randomised rankings (:func:`randomized_rankings`,
  :func:`estimate_examination_randomized`) and by expectation-maximisation
  for the PBM (:class:`PositionBasedModel`);
* **debiasing clicks**: :func:`naive_ctr` (clicks per impression, biased
  toward items shown high) and :func:`ipw_relevance` (inverse propensity
  weighting, unbiased for the relevance when :math:`\theta` is right).

Conventions: a *ranking* is a row of item indices ``0 .. n_items - 1``, best
first; a click log is a pair of equally shaped arrays ``rankings`` (sessions x
positions) and ``clicks`` (0/1). Ranks in formulas start at 1; array positions
at 0.
"""

from __future__ import annotations


import numpy as np

from mathrec._base import NotFittedError, ParamsMixin, check_positive_int
from mathrec._validation import check_choice, check_real

__all__ = [
    "dcg_discount",
    "pbm_click_probabilities",
    "cascade_click_probabilities",
    "expected_clicks",
    "simulate_clicks",
    "randomized_rankings",
    "ctr_by_position",
    "estimate_examination_randomized",
    "PositionBasedModel",
    "naive_ctr",
    "ipw_relevance",
    "CLICK_MODELS",
]

#: The values accepted by ``model=...``.
CLICK_MODELS = ("pbm", "cascade")


# ----------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------
def _probabilities(x, name, *, ndim=(1,), positive=False):
    """Return ``x`` as a float array of probabilities in [0, 1] or raise."""
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be an array of probabilities, got {x!r}"
        ) from exc
    if arr.ndim not in ndim:
        want = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(
            f"{name} must be {want}, got an array of shape {arr.shape}"
        )
    if arr.size == 0 or arr.shape[-1] == 0:
        raise ValueError(
            f"{name} is empty: a ranking needs at least one position"
        )
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    bad = (arr < 0) | (arr > 1) | ((arr <= 0) if positive else False)
    if bad.any():
        where = "(0, 1]" if positive else "[0, 1]"
        raise ValueError(
            f"{name} must hold probabilities in {where}; got "
            f"{arr[bad].ravel()[:5].tolist()}"
        )
    return arr


def _model(model):
    return check_choice(model, "model", CLICK_MODELS)


def _rng(random_state):
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


def _rankings(rankings, n_items=None, name="rankings"):
    """Return ``rankings`` as a 2-D int array of item indices (sessions x positions)."""
    arr = np.asarray(rankings)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 1-D or 2-D, got an array of shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty: there is no ranked position")
    if arr.dtype.kind == "f":
        if np.isnan(arr).any() or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold integer item indices")
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(
            f"{name} must hold integer item indices, got dtype {arr.dtype}"
        )
    if arr.min() < 0 or (n_items is not None and arr.max() >= n_items):
        hi = "" if n_items is None else f" and < {n_items}"
        bad = arr[
            (arr < 0) | ((arr >= n_items) if n_items is not None else False)
        ]
        raise ValueError(
            f"{name} must hold item indices >= 0{hi}; got {bad[:5].tolist()}"
        )
    return arr.astype(np.int64, copy=False)


def _log(rankings, clicks, n_items=None):
    """Validate a click log: equally shaped rankings and 0/1 clicks."""
    r = _rankings(rankings, n_items)
    c = np.asarray(clicks)
    if c.ndim == 1:
        c = c[None, :]
    if c.shape != r.shape:
        raise ValueError(
            f"clicks must have the shape of rankings {r.shape}, got {c.shape}"
        )
    cf = c.astype(float)
    if np.isnan(cf).any() or not np.isin(cf, (0.0, 1.0)).all():
        raise ValueError("clicks must hold only 0 and 1 (no click / click)")
    return r, cf


def _examination_for(examination, n_positions, name="examination"):
    theta = _probabilities(examination, name)
    if theta.size < n_positions:
        raise ValueError(
            f"{name} has {theta.size} positions but the rankings have "
            f"{n_positions}"
        )
    return theta[:n_positions]


def _n_items(rankings, n_items):
    if n_items is None:
        return int(rankings.max()) + 1
    return check_positive_int(n_items, "n_items")


# ----------------------------------------------------------------------------
# click models
# ----------------------------------------------------------------------------
def dcg_discount(n_positions):
    r"""The discount of DCG, :math:`1/\log_2(k+1)` for ranks :math:`k = 1..n`.

    Read as a model of attention, it says how much a relevant item at rank
    :math:`k` is worth compared with the same item at rank 1.

    Parameters
    ----------
    n_positions : int >= 1

    Returns
    -------
    ndarray of shape (n_positions,)

    Notes
    -----
    .. math:: d_k = \frac{1}{\log_2(k + 1)}, \qquad k = 1, 2, \dots

    so :math:`\mathrm{DCG} = \sum_k d_k\, g_k` is the expected gain collected
    by a user who sees rank :math:`k` with "probability" :math:`d_k`, a
    position-based model with :math:`\theta_k = d_k`
    (:func:`mathrec.metrics.dcg_at_k` uses the same discount).  It decays
    slowly: :math:`d_{10} \approx 0.29`, while measured click curves often
    fall like :math:`1/k`.

    References
    ----------
    .. [1] Järvelin, K., Kekäläinen, J. (2002). Cumulated gain-based evaluation
       of IR techniques. ACM TOIS 20(4), 422-446. doi:10.1145/582415.582418

    Examples
    --------
    >>> dcg_discount(3).round(4)
    array([1.    , 0.6309, 0.5   ])
    """
    n = check_positive_int(n_positions, "n_positions")
    return 1.0 / np.log2(np.arange(2, n + 2))


def pbm_click_probabilities(relevance, examination):
    r"""Click probability at each rank under the position-based model.

    Parameters
    ----------
    relevance : array_like of shape (n_positions,) or (n_sessions, n_positions)
        The attractiveness :math:`r_k \in [0, 1]` of the item shown at each
        rank, in rank order (best first); one row per list.
    examination : array_like of shape (>= n_positions,)
        The examination probabilities :math:`\theta_1, \theta_2, \dots`;
        extra entries are ignored.

    Returns
    -------
    ndarray of the shape of ``relevance``

    Raises
    ------
    ValueError
        On an empty list, NaN, values outside [0, 1], or fewer examination
        probabilities than positions.

    Notes
    -----
    The user examines rank :math:`k` (:math:`E_k = 1`) with a probability
    that depends on the rank only, and clicks an examined item when it
    attracts them, independently:

    .. math:: P(C_k = 1) = P(E_k = 1)\, P(A_k = 1) = \theta_k\, r_k .

    References
    ----------
    .. [1] Craswell, N., Zoeter, O., Taylor, M., Ramsey, B. (2008). An
       experimental comparison of click position-bias models. WSDM.
       doi:10.1145/1341531.1341545
    .. [2] Chuklin, A., Markov, I., de Rijke, M. (2015). Click Models for Web
       Search. Morgan & Claypool. doi:10.2200/S00654ED1V01Y201507ICR043

    Examples
    --------
    >>> pbm_click_probabilities([0.6, 0.5, 0.4], [1.0, 0.5, 0.25]).round(4)
    array([0.6 , 0.25, 0.1 ])
    """
    r = _probabilities(relevance, "relevance", ndim=(1, 2))
    theta = _examination_for(examination, r.shape[-1])
    return r * theta


def cascade_click_probabilities(relevance):
    r"""Click probability at each rank under the cascade model.

    Parameters
    ----------
    relevance : array_like of shape (n_positions,) or (n_sessions, n_positions)
        The probability :math:`r_k \in [0, 1]` that the item at rank :math:`k`
        is clicked once it is examined, in rank order.

    Returns
    -------
    ndarray of the shape of ``relevance``

    Raises
    ------
    ValueError
        On an empty list, NaN or values outside [0, 1].

    Notes
    -----
    The user reads the list top-down; at rank :math:`k` they click with
    probability :math:`r_k` and stop, or go on to rank :math:`k+1`.  Rank
    :math:`k` is examined only if nothing above it was clicked:

    .. math:: P(C_k = 1) = r_k \prod_{j < k} (1 - r_j),

    so at most one item is clicked, the examination probability
    :math:`\prod_{j<k}(1-r_j)` depends on the items above (not only on the
    rank), and :math:`\sum_k P(C_k = 1) = 1 - \prod_k (1 - r_k)`.

    References
    ----------
    .. [1] Craswell, N., Zoeter, O., Taylor, M., Ramsey, B. (2008). An
       experimental comparison of click position-bias models. WSDM.
       doi:10.1145/1341531.1341545

    Examples
    --------
    >>> cascade_click_probabilities([0.6, 0.5, 0.4]).round(4)
    array([0.6 , 0.2 , 0.08])
    """
    r = _probabilities(relevance, "relevance", ndim=(1, 2))
    return r * _cascade_examination(r)


def _cascade_examination(r):
    """P(rank k is examined) in the cascade model: no click on ranks 1..k-1."""
    no_click_so_far = np.cumprod(1.0 - r, axis=-1)  # P(no click on ranks 1..k)
    first = np.ones(r.shape[:-1] + (1,))  # rank 1 is always examined
    return np.concatenate([first, no_click_so_far[..., :-1]], axis=-1)


def _click_probabilities(relevance, model, examination):
    if _model(model) == "pbm":
        if examination is None:
            raise ValueError(
                "model='pbm' needs examination probabilities (examination=...)"
            )
        return pbm_click_probabilities(relevance, examination)
    if examination is not None:
        raise ValueError(
            "model='cascade' takes no examination probabilities; "
            "its examination follows from the relevances above each rank"
        )
    return cascade_click_probabilities(relevance)


def expected_clicks(relevance, model="pbm", examination=None):
    r"""Expected number of clicks on a ranked list under a click model.

    Parameters
    ----------
    relevance : array_like of shape (n_positions,) or (n_sessions, n_positions)
        Relevance (attractiveness) of the item at each rank, best first.
    model : {"pbm", "cascade"}, default "pbm"
    examination : array_like, optional
        :math:`\theta_k` for the PBM (required there, refused for the cascade).

    Returns
    -------
    float, or ndarray of shape (n_sessions,) for 2-D ``relevance``

    Notes
    -----
    .. math:: \mathrm{E}[\text{clicks}] = \sum_k P(C_k = 1),

    that is :math:`\sum_k \theta_k r_k` (PBM) or
    :math:`1 - \prod_k (1 - r_k)` (cascade, where it is also the
    probability of at least one click).  With :math:`\theta_k =
    1/\log_2(k+1)` the PBM value is the DCG of the list with gains
    :math:`r_k`.  Both are largest when the items are sorted by decreasing
    relevance under the PBM with decreasing :math:`\theta` (rearrangement
    inequality); the cascade value does not depend on the order.

    Examples
    --------
    >>> round(expected_clicks([0.6, 0.5, 0.4], "pbm", [1.0, 0.5, 0.25]), 4)
    0.95
    >>> round(expected_clicks([0.6, 0.5, 0.4], "cascade"), 4)
    0.88
    """
    p = _click_probabilities(relevance, model, examination)
    s = p.sum(axis=-1)
    return float(s) if np.ndim(s) == 0 else s


def simulate_clicks(
    rankings, relevance, model="pbm", examination=None, *, random_state=None
):
    r"""Simulate a click log: one row of clicks per shown ranking.

    Parameters
    ----------
    rankings : array_like of int, shape (n_sessions, n_positions) or (n_positions,)
        Item indices shown in each session, best first.
    relevance : array_like of shape (n_items,)
        True relevance :math:`r_i \in [0, 1]` of every item.
    model : {"pbm", "cascade"}, default "pbm"
    examination : array_like, optional
        :math:`\theta_k`, required for the PBM.
    random_state : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of int8, shape (n_sessions, n_positions)
        1 where the item shown at that position was clicked.

    Raises
    ------
    ValueError
        On item indices outside ``0 .. n_items - 1``, invalid probabilities,
        or an unknown model.

    Notes
    -----
    PBM: independent Bernoulli draws with probability :math:`\theta_k r_{i_k}`
    (:func:`pbm_click_probabilities`).  Cascade: the user clicks the first
    rank whose Bernoulli(:math:`r_{i_k}`) draw succeeds and looks no further,
    so each session has at most one click.

    Examples
    --------
    >>> clicks = simulate_clicks([[0, 1, 2]] * 4, [0.9, 0.5, 0.1], "cascade",
    ...                          random_state=0)
    >>> clicks.shape, bool((clicks.sum(axis=1) <= 1).all())
    ((4, 3), True)
    """
    r_items = _probabilities(relevance, "relevance")
    rk = _rankings(rankings, r_items.size)
    model = _model(model)
    rng = _rng(random_state)
    rel = r_items[rk]
    u = rng.random(rk.shape)
    if model == "pbm":
        if examination is None:
            raise ValueError(
                "model='pbm' needs examination probabilities (examination=...)"
            )
        theta = _examination_for(examination, rk.shape[1])
        return (u < rel * theta).astype(np.int8)
    if examination is not None:
        raise ValueError(
            "model='cascade' takes no examination probabilities; "
            "its examination follows from the relevances above each rank"
        )
    attracted = u < rel
    first = np.argmax(attracted, axis=1)
    clicks = np.zeros(rk.shape, dtype=np.int8)
    rows = np.flatnonzero(attracted.any(axis=1))
    clicks[rows, first[rows]] = 1
    return clicks


# ----------------------------------------------------------------------------
# estimating the attention curve
# ----------------------------------------------------------------------------
def randomized_rankings(items, n_sessions, *, random_state=None):
    """Show the same items in a fresh uniformly random order in every session.

    This is the "RandTop-k" intervention: shuffling the top :math:`k` results
    makes every item equally likely at every rank, so that any difference in
    click-through rate between ranks is due to the rank alone.

    Parameters
    ----------
    items : array_like of int, shape (n_positions,)
        The item indices to shuffle (e.g. a ranker's top k).
    n_sessions : int >= 1
    random_state : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of int64, shape (n_sessions, n_positions)

    Examples
    --------
    >>> r = randomized_rankings([3, 1, 2], 5, random_state=0)
    >>> r.shape, bool((np.sort(r, axis=1) == [1, 2, 3]).all())
    ((5, 3), True)
    """
    it = _rankings(items, name="items")
    if it.shape[0] != 1:
        raise ValueError(
            f"items must be 1-D, got an array of shape {np.shape(items)}"
        )
    n = check_positive_int(n_sessions, "n_sessions")
    rng = _rng(random_state)
    order = np.argsort(rng.random((n, it.shape[1])), axis=1)
    return it[0][order]


def ctr_by_position(clicks):
    """Click-through rate at each position: the mean of each column of ``clicks``.

    Parameters
    ----------
    clicks : array_like of 0/1, shape (n_sessions, n_positions)

    Returns
    -------
    ndarray of shape (n_positions,)

    Examples
    --------
    >>> ctr_by_position([[1, 0, 0], [1, 1, 0]])
    array([1. , 0.5, 0. ])
    """
    c = np.asarray(clicks)
    _, cf = _log(np.zeros(c.shape, dtype=np.int64), c)
    return cf.mean(axis=0)


def estimate_examination_randomized(clicks):
    r"""Relative examination probabilities from randomised rankings.

    Parameters
    ----------
    clicks : array_like of 0/1, shape (n_sessions, n_positions)
        Clicks logged while the shown items were shuffled uniformly at random
        in every session (:func:`randomized_rankings`).

    Returns
    -------
    theta : ndarray of shape (n_positions,)
        :math:`\hat\theta_k / \hat\theta_1`, so ``theta[0] == 1``.
    stderr : ndarray of shape (n_positions,)
        Approximate standard errors of ``theta`` (delta method); 0 at rank 1.

    Raises
    ------
    ValueError
        If nothing was clicked at rank 1 (the ratio is undefined).

    Notes
    -----
    Under the PBM, when every item is equally likely at every rank, the
    click-through rate at rank :math:`k` is

    .. math:: \mathrm{CTR}_k = \theta_k \, \bar r, \qquad
              \bar r = \tfrac{1}{n}\textstyle\sum_i r_i ,

    the same average relevance for every rank, so
    :math:`\mathrm{CTR}_k / \mathrm{CTR}_1 = \theta_k / \theta_1`.  Only
    ratios are identified: :math:`(\theta, r)` and :math:`(c\,\theta, r/c)`
    give the same clicks.  The standard error of the ratio of two
    independent-looking binomial proportions :math:`\hat p_k/\hat p_1` is
    approximated by :math:`\hat p_k/\hat p_1 \sqrt{(1-\hat p_k)/(N \hat p_k) +
    (1-\hat p_1)/(N \hat p_1)}` (their covariance within a session is
    ignored).

    References
    ----------
    .. [1] Joachims, T., Swaminathan, A., Schnabel, T. (2017). Unbiased
       learning-to-rank with biased feedback. WSDM.
       doi:10.1145/3018661.3018699
    .. [2] Wang, X., Golbandi, N., Bendersky, M., Metzler, D., Najork, M.
       (2018). Position bias estimation for unbiased learning to rank in
       personal search. WSDM. doi:10.1145/3159652.3159732

    Examples
    --------
    >>> clicks = [[1, 1], [1, 0], [0, 0], [1, 0]]
    >>> theta, se = estimate_examination_randomized(clicks)
    >>> theta.round(4)
    array([1.    , 0.3333])
    """
    c = np.asarray(clicks)
    _, cf = _log(np.zeros(c.shape, dtype=np.int64), c)
    n = cf.shape[0]
    p = cf.mean(axis=0)
    if p[0] == 0:
        raise ValueError(
            "no click at rank 1: the ratios theta_k / theta_1 are undefined"
        )
    ratio = p / p[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_var = np.where(p > 0, (1 - p) / (n * p), 0.0) + (1 - p[0]) / (
            n * p[0]
        )
    stderr = ratio * np.sqrt(rel_var)
    stderr[0] = 0.0  # theta_1 / theta_1 = 1 exactly
    return ratio, stderr


class PositionBasedModel(ParamsMixin):
    r"""The position-based click model fitted by expectation-maximisation.

    Learns, from a click log, the examination probability :math:`\theta_k`
    of every rank and the relevance :math:`\gamma_i` of every item.

    Parameters
    ----------
    max_iter : int, default 500
        Largest number of EM iterations.
    tol : float, default 1e-8
        Stop when the log-likelihood per observation improves by less.
    normalize : bool, default True
        Report ``examination_`` divided by its first entry (so
        ``examination_[0] == 1``) and ``relevance_`` multiplied by it; the
        clicks identify :math:`\theta` only up to such a factor.

    Attributes
    ----------
    examination_ : ndarray of shape (n_positions,)
    relevance_ : ndarray of shape (n_items,)
        NaN for items that never appear in the log.
    log_likelihood_ : list of float
        Mean log-likelihood per (session, position) after each iteration; it
        never decreases.
    n_iter_ : int

    Notes
    -----
    Each observation is a (rank :math:`k`, item :math:`i`, click :math:`c`)
    triple with :math:`P(c = 1) = \theta_k \gamma_i`.  A click means the
    item was examined and relevant.  A non-click hides which of the two
    failed; the E-step computes the posteriors

    .. math::
        P(E=1, R=0 \mid C=0) = \frac{\theta_k (1-\gamma_i)}{1 - \theta_k\gamma_i},
        \qquad
        P(E=0, R=1 \mid C=0) = \frac{(1-\theta_k)\gamma_i}{1 - \theta_k\gamma_i},

    and the M-step averages them:

    .. math::
        \begin{aligned}
        \theta_k &\leftarrow \frac{1}{|S_k|} \sum_{(k,i,c) \in S_k}
            \Big(c + (1-c) \frac{\theta_k (1-\gamma_i)}{1 - \theta_k\gamma_i}\Big),
        \\
        \gamma_i &\leftarrow \frac{1}{|S_i|} \sum_{(k,i,c) \in S_i}
            \Big(c + (1-c) \frac{(1-\theta_k)\gamma_i}{1 - \theta_k\gamma_i}\Big),
        \end{aligned}

    where :math:`S_k` holds the observations at rank :math:`k` and
    :math:`S_i` those of item :math:`i`.  Position and relevance can be told
    apart only if items appear at several ranks (through randomisation or
    the natural variation of the ranker); an item always shown at one rank
    carries no information about :math:`\theta`.  One iteration costs
    :math:`O(\text{observations})` (``numpy.bincount``).

    References
    ----------
    .. [1] Chuklin, A., Markov, I., de Rijke, M. (2015). Click Models for Web
       Search. Morgan & Claypool. doi:10.2200/S00654ED1V01Y201507ICR043
    .. [2] Wang, X., Golbandi, N., Bendersky, M., Metzler, D., Najork, M.
       (2018). Position bias estimation for unbiased learning to rank in
       personal search. WSDM. doi:10.1145/3159652.3159732

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> rankings = randomized_rankings([0, 1, 2, 3], 20000, random_state=rng)
    >>> clicks = simulate_clicks(rankings, [0.8, 0.6, 0.4, 0.2], "pbm",
    ...                          [1.0, 0.6, 0.4, 0.3], random_state=rng)
    >>> PositionBasedModel().fit(rankings, clicks).examination_.round(1)
    array([1. , 0.6, 0.4, 0.3])
    """

    def __init__(self, max_iter=500, tol=1e-8, normalize=True):
        self.max_iter = max_iter
        self.tol = tol
        self.normalize = normalize

    def predict_proba(self, rankings):
        r"""Click probability :math:`\theta_k \gamma_i` of every shown (rank, item).

        Parameters
        ----------
        rankings : array_like of int, shape (n_sessions, n_positions)
            Item indices seen in ``fit``, at most as many positions as in ``fit``.

        Returns
        -------
        ndarray of float, shape of ``rankings``
            The same with or without ``normalize``: the common factor that
            the clicks cannot identify cancels in the product.
        """
        if not hasattr(self, "examination_"):
            raise NotFittedError(
                "this PositionBasedModel is not fitted yet; call fit first"
            )
        rk = _rankings(rankings, self.relevance_.size)
        if rk.shape[1] > self.examination_.size:
            raise ValueError(
                f"rankings have {rk.shape[1]} positions but the model was "
                f"fitted on {self.examination_.size}"
            )
        gamma = self.relevance_[rk]
        if np.isnan(gamma).any():
            raise ValueError(
                "rankings hold items that never appeared in the fitted log"
            )
        return self.examination_[: rk.shape[1]] * gamma

    def fit(self, rankings, clicks, n_items=None):
        r"""Fit :math:`\theta` and :math:`\gamma` to a click log.

        Parameters
        ----------
        rankings : array_like of int, shape (n_sessions, n_positions)
        clicks : array_like of 0/1, same shape
        n_items : int, optional
            Number of items (default: largest index + 1).

        Returns
        -------
        self
        """
        max_iter = check_positive_int(self.max_iter, "max_iter")
        check_real(self.tol, "tol", low=0)
        rk, c = _log(rankings, clicks, n_items)
        n = _n_items(rk, n_items)
        if n <= rk.max():
            raise ValueError(
                f"n_items={n} but rankings hold item index {rk.max()}"
            )
        n_pos = rk.shape[1]
        pos = np.broadcast_to(np.arange(n_pos), rk.shape).ravel()
        item = rk.ravel()
        c = c.ravel()
        n_at_pos = np.bincount(pos, minlength=n_pos).astype(float)
        n_of_item = np.bincount(item, minlength=n).astype(float)
        seen = n_of_item > 0
        # start: theta flat, gamma from click rates (kept inside (0, 1))
        eps = 1e-6
        theta = np.full(n_pos, 0.5)
        gamma = np.full(n, 0.5)
        clicks_of_item = np.bincount(item, weights=c, minlength=n)
        gamma[seen] = np.clip(
            clicks_of_item[seen] / n_of_item[seen], 0.05, 0.95
        )
        history = []
        it = 0
        for it in range(1, max_iter + 1):
            t, g = theta[pos], gamma[item]
            tg = t * g
            denom = np.maximum(1.0 - tg, eps)
            e_post = c + (1 - c) * t * (1 - g) / denom
            r_post = c + (1 - c) * (1 - t) * g / denom
            theta = np.clip(
                np.bincount(pos, weights=e_post, minlength=n_pos) / n_at_pos,
                eps,
                1 - eps,
            )
            gamma_new = np.bincount(item, weights=r_post, minlength=n)
            gamma[seen] = np.clip(
                gamma_new[seen] / n_of_item[seen], eps, 1 - eps
            )
            p = theta[pos] * gamma[item]
            ll = float(np.mean(c * np.log(p) + (1 - c) * np.log1p(-p)))
            history.append(ll)
            if len(history) > 1 and history[-1] - history[-2] < self.tol:
                break
        gamma = np.where(seen, gamma, np.nan)
        if self.normalize:
            gamma = gamma * theta[0]
            theta = theta / theta[0]
        self.examination_ = theta
        self.relevance_ = gamma
        self.log_likelihood_ = history
        self.n_iter_ = it
        return self


# ----------------------------------------------------------------------------
# debiasing clicks
# ----------------------------------------------------------------------------
def naive_ctr(rankings, clicks, n_items=None):
    r"""Click-through rate of every item: clicks / impressions, ignoring rank.

    Parameters
    ----------
    rankings : array_like of int, shape (n_sessions, n_positions)
    clicks : array_like of 0/1, same shape
    n_items : int, optional

    Returns
    -------
    ndarray of shape (n_items,)
        NaN for items never shown (no impression, no rate).

    Notes
    -----
    .. math:: \widehat{\mathrm{CTR}}_i = \frac{\sum_{s} c_{s,i}}{|\{s: i \text{ shown in } s\}|},
              \qquad \mathrm{E}[\widehat{\mathrm{CTR}}_i] = r_i\, \bar\theta_i ,

    under the PBM, where :math:`\bar\theta_i` is the mean examination
    probability of the ranks at which item :math:`i` was shown: items the
    ranker puts on top look better than they are, items it buries look worse.

    Examples
    --------
    >>> naive_ctr([[0, 1], [1, 0]], [[1, 0], [1, 1]])
    array([1. , 0.5])
    """
    return _per_item_mean(rankings, clicks, None, n_items)


def ipw_relevance(rankings, clicks, examination, n_items=None):
    r"""Inverse-propensity-weighted click rate of every item.

    Parameters
    ----------
    rankings : array_like of int, shape (n_sessions, n_positions)
    clicks : array_like of 0/1, same shape
    examination : array_like of shape (>= n_positions,)
        The examination probabilities (propensities) :math:`\theta_k > 0`,
        known or estimated (:func:`estimate_examination_randomized`,
        :class:`PositionBasedModel`).
    n_items : int, optional

    Returns
    -------
    ndarray of shape (n_items,)
        NaN for items never shown.

    Raises
    ------
    ValueError
        If an examination probability is 0 (a rank nobody sees cannot be
        re-weighted) or outside [0, 1].

    Notes
    -----
    Each click is weighted by the inverse of the probability that its rank
    was examined:

    .. math:: \hat r_i = \frac{1}{|S_i|} \sum_{(s, k) \in S_i} \frac{c_{s,k}}{\theta_k},
              \qquad
              \mathrm{E}\Big[\frac{c_{s,k}}{\theta_k}\Big] = \frac{\theta_k r_i}{\theta_k} = r_i ,

    so :math:`\hat r_i` is unbiased for :math:`r_i` under the PBM whatever
    ranks the item was shown at.  The price is variance: clicks at rarely
    examined ranks get large weights.  Relative propensities
    (:math:`\theta_1 = 1`) give :math:`\theta_1 r_i`, the relevance up to
    one common factor, which leaves the ranking of items unchanged.

    References
    ----------
    .. [1] Joachims, T., Swaminathan, A., Schnabel, T. (2017). Unbiased
       learning-to-rank with biased feedback. WSDM.
       doi:10.1145/3018661.3018699

    Examples
    --------
    >>> ipw_relevance([[0, 1], [1, 0]], [[1, 0], [1, 1]], [1.0, 0.5])
    array([1.5, 0.5])
    """
    rk = _rankings(rankings)
    theta = _examination_for(examination, rk.shape[1])
    if (theta == 0).any():
        raise ValueError(
            "examination must be > 0 at every position to weight by 1/theta; "
            f"got {theta.tolist()[:10]}"
        )
    return _per_item_mean(rk, clicks, theta, n_items)


def _per_item_mean(rankings, clicks, theta, n_items):
    rk, c = _log(rankings, clicks, n_items)
    n = _n_items(rk, n_items)
    if n <= rk.max():
        raise ValueError(f"n_items={n} but rankings hold item index {rk.max()}")
    w = c if theta is None else c / theta
    num = np.bincount(rk.ravel(), weights=w.ravel(), minlength=n)
    den = np.bincount(rk.ravel(), minlength=n).astype(float)
    out = np.full(n, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out
