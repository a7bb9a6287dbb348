r"""Differential privacy for recommender statistics: the Laplace mechanism and randomised response.

Source §9.5 (个性化营销技术对用户隐私的影响) recommends "数据匿名化" (anonymising
the data).  Removing names is not enough -- Narayanan & Shmatikov (2008)
re-identified Netflix Prize subscribers from a handful of ratings and dates --
so this module implements the guarantee that does not depend on what an
attacker knows, :math:`\varepsilon`-differential privacy:

* :func:`laplace_mechanism` adds Laplace noise of scale
  :math:`\Delta / \varepsilon` to a statistic of L1 sensitivity :math:`\Delta`;
  :func:`private_item_counts` and :func:`private_item_means` use it to
  release item popularity and item mean ratings over a public catalogue;
* :func:`randomized_response` lets each user perturb their own click before
  it is collected, and :func:`rr_estimate` recovers unbiased click rates.

*Neighbouring data sets.*  Throughout, two rating data sets are neighbours
when one is the other plus or minus **one rating** (unbounded, event-level
differential privacy).  The sensitivities below hold for that relation.
Under *replacement* of one rating (bounded DP) they double: the count
vector changes by 2 in L1 (one count -1, another +1) and the centred sums
by up to :math:`b - a`.  Protecting one *user's* whole history, of at most
:math:`m` ratings, multiplies them by :math:`m`.

*Composition.*  Releases computed from the same ratings add up their
budgets (sequential composition); releases computed from disjoint parts of
the data cost the largest of their budgets (parallel composition); anything
computed from a release alone costs nothing more (post-processing)
(Dwork & Roth 2014, ch. 2-3).

Taught in chapter 9 (source §9.5), notebook ``notebooks/ch09_faq.ipynb``.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from mathrec._validation import check_real
from mathrec.data import as_interactions

__all__ = [
    "laplace_mechanism",
    "private_item_counts",
    "private_item_means",
    "randomized_response",
    "rr_estimate",
    "rr_probability",
]


def _check_epsilon(epsilon):
    return check_real(epsilon, "epsilon", low=0, closed="neither")


def _rng(random_state):
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


def laplace_mechanism(values, sensitivity, epsilon, *, random_state=None):
    r"""Add Laplace noise of scale :math:`b = \Delta/\varepsilon` to each value.

    Parameters
    ----------
    values : array_like of float
        The true statistic(s) :math:`f(D)`.
    sensitivity : float > 0
        Its L1 sensitivity :math:`\Delta f = \max \lVert f(D) - f(D')\rVert_1`
        over data sets :math:`D, D'` that differ in one record.
    epsilon : float > 0
        The privacy budget; smaller is more private and noisier.
    random_state : int, numpy.random.Generator or None

    Returns
    -------
    numpy.ndarray of float
        :math:`f(D) + (Y_1, \dots, Y_k)`, :math:`Y_j \sim \mathrm{Laplace}(0, b)` i.i.d.

    Raises
    ------
    TypeError
        If ``epsilon`` or ``sensitivity`` is not a real number.
    ValueError
        If ``epsilon`` or ``sensitivity`` is not a finite number > 0, a
        value is not finite, or the noise scale is so large (a tiny
        ``epsilon``) that the noisy values overflow.

    Notes
    -----
    The Laplace density :math:`p(y) = \frac{1}{2b} e^{-|y|/b}` has mean 0 and
    variance :math:`2b^2`.  For neighbouring :math:`D, D'` and any output
    :math:`z`, the ratio of densities is

    .. math:: \frac{p_D(z)}{p_{D'}(z)} = \prod_j
              \exp\Bigl(\frac{|z_j - f(D')_j| - |z_j - f(D)_j|}{b}\Bigr)
              \le \exp\Bigl(\frac{\lVert f(D) - f(D')\rVert_1}{b}\Bigr)
              \le e^{\varepsilon}

    by the triangle inequality, which is :math:`\varepsilon`-differential
    privacy (Dwork, McSherry, Nissim & Smith 2006).  Taught in chapter 9.

    References
    ----------
    .. [1] Dwork, C., McSherry, F., Nissim, K., Smith, A. (2006). Calibrating
       noise to sensitivity in private data analysis. TCC 2006, LNCS 3876,
       265-284. doi:10.1007/11681878_14

    Examples
    --------
    >>> noisy = laplace_mechanism([100.0, 5.0], sensitivity=1, epsilon=1.0,
    ...                           random_state=0)
    >>> noisy.round(3)
    array([100.32 ,   4.383])
    """
    epsilon = _check_epsilon(epsilon)
    check_real(sensitivity, "sensitivity", low=0, closed="neither")
    x = np.asarray(values, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError("values must be finite")
    b = float(sensitivity) / epsilon
    with np.errstate(over="ignore"):
        out = x + _rng(random_state).laplace(0.0, b, size=x.shape)
    if not np.isfinite(out).all():
        raise ValueError(
            f"the noise scale b = sensitivity / epsilon = {b:.3g} is too "
            f"large: the noisy values "
            f"overflow float64 (epsilon={epsilon!r}, "
            f"sensitivity={sensitivity!r}); raise epsilon"
        )
    return out


def _catalogue_index(inter, catalogue):
    """Public catalogue as an Index, and the catalogue position of each data item."""
    if catalogue is None:
        raise TypeError(
            "catalogue is required: pass the public list of item ids to "
            "release "
            "(e.g. load_movielens_items()['item']); releasing only the items "
            "present in the data would reveal which items were rated"
        )
    if isinstance(catalogue, (str, bytes)) or not np.iterable(catalogue):
        raise TypeError(
            f"catalogue must be a sequence of item ids, got "
            f"{type(catalogue).__name__}"
        )
    cat = pd.Index(
        catalogue if hasattr(catalogue, "__len__") else list(catalogue),
        name="item",
    )
    if len(cat) == 0:
        raise ValueError("catalogue is empty")
    if not cat.is_unique:
        dup = cat[cat.duplicated()].unique().tolist()[:5]
        raise ValueError(f"catalogue ids repeat: {dup}")
    pos = cat.get_indexer(inter.items)
    if (pos < 0).any():
        missing = inter.items[pos < 0].tolist()
        raise ValueError(
            f"{len(missing)} item(s) of the ratings are not in the catalogue, "
            f"e.g. {missing[:5]}"
        )
    return cat, pos


def private_item_counts(ratings, epsilon, *, catalogue, random_state=None):
    r"""Item popularity (number of ratings per item) released with the Laplace mechanism.

    Parameters
    ----------
    ratings : pandas.DataFrame or mathrec.data.Interactions
        Columns ``user, item`` (and ``rating``).
    epsilon : float > 0
    catalogue : sequence of item ids, required
        The **public** list of items whose counts are released, e.g. the ids
        of :func:`mathrec.datasets.load_movielens_items`.  Every catalogue
        item gets a noisy count, those nobody rated included (true count 0).
        It must contain every item of ``ratings``.
    random_state : int, numpy.random.Generator or None

    Returns
    -------
    pandas.Series of float
        Noisy counts indexed by the catalogue's item ids, in the catalogue's
        order (they can be negative or fractional: rounding or clipping
        afterwards is post-processing and keeps the guarantee).

    Raises
    ------
    TypeError
        If ``catalogue`` is missing, or ``epsilon`` is not a real number.
    ValueError
        If ``epsilon`` is not a finite number > 0, the catalogue is empty or
        repeats an id, or an item of ``ratings`` is not in the catalogue
        (the message names it).

    Notes
    -----
    Neighbouring data sets differ by adding or removing one rating.  That
    changes exactly one item's count by 1, so the vector of counts has L1
    sensitivity :math:`\Delta = 1` and each count gets noise of scale
    :math:`1/\varepsilon` (standard deviation :math:`\sqrt 2/\varepsilon`).

    *Why a catalogue.*  The set of released keys must not depend on the
    data: if only the items present in ``ratings`` were released, removing
    the only rating of an item would remove its key with certainty, the two
    output distributions would have disjoint supports and no
    :math:`\varepsilon` would bound the privacy loss.  Hence the keys come
    from a catalogue that is public anyway, and zero counts are released
    with noise like the others.

    This protects each *rating* (event-level privacy).  Under replacement
    of one rating the sensitivity is 2; to protect a whole user who may
    have rated up to :math:`m` items it is :math:`m`, and the noise
    :math:`m` times larger.  Taught in chapter 9.

    References
    ----------
    .. [1] Dwork, C., Roth, A. (2014). The algorithmic foundations of
       differential privacy. Foundations and Trends in Theoretical Computer
       Science 9(3-4), 211-407. doi:10.1561/0400000042

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": [1, 2, 2], "item": ["a", "a", "b"],
    ...                    "rating": 4.0})
    >>> private_item_counts(df, epsilon=1.0, catalogue=["a", "b", "c"],
    ...                     random_state=0).round(3).to_dict()
    {'a': 2.32, 'b': 0.383, 'c': -2.502}
    """
    epsilon = _check_epsilon(epsilon)
    inter = as_interactions(ratings)
    cat, pos = _catalogue_index(inter, catalogue)
    counts = np.bincount(pos[inter.item_idx], minlength=len(cat)).astype(float)
    noisy = laplace_mechanism(counts, 1.0, epsilon, random_state=random_state)
    return pd.Series(noisy, index=cat, name="count")


def private_item_means(
    ratings, epsilon, *, catalogue, lower=0.5, upper=5.0, random_state=None
):
    r"""Item mean ratings released with the Laplace mechanism, from clipped ratings.

    Parameters
    ----------
    ratings : pandas.DataFrame or mathrec.data.Interactions
    epsilon : float > 0
        Total budget, split equally between the noisy sums and the noisy counts.
    catalogue : sequence of item ids, required
        The public list of items to release, as in :func:`private_item_counts`:
        every catalogue item gets a noisy mean, those nobody rated included.
    lower, upper : float, default 0.5 and 5.0
        The rating range; ratings are clipped into it first.
    random_state : int, numpy.random.Generator or None

    Returns
    -------
    pandas.DataFrame
        Indexed by the catalogue's item ids, columns ``mean`` (noisy, clipped
        to ``[lower, upper]``) and ``count`` (noisy) -- the release -- and
        ``true_mean``, the non-private mean (NaN for an item without ratings),
        which is *not* part of the release and is returned only to measure
        the error.

    Raises
    ------
    TypeError
        If ``catalogue`` is missing, or ``epsilon`` is not a real number.
    ValueError
        On a bad ``epsilon``, ``lower`` or ``upper``, or a catalogue that is
        empty, repeats an id or lacks an item of ``ratings``.

    Notes
    -----
    With :math:`c = (a + b)/2` the midpoint of the range :math:`[a, b]`, the
    mechanism releases, for every catalogue item :math:`i`,

    .. math:: \tilde S_i = \sum_{u} (\mathrm{clip}(r_{ui}) - c) + Y_i, \qquad
              \tilde n_i = n_i + Z_i, \qquad
              \tilde\mu_i = \mathrm{clip}\Bigl(c + \frac{\tilde S_i}{\max(\tilde n_i, 1)}\Bigr),

    with :math:`Y_i \sim \mathrm{Laplace}(0, \tfrac{(b - a)/2}{\varepsilon/2})`
    and :math:`Z_i \sim \mathrm{Laplace}(0, \tfrac{1}{\varepsilon/2})`: a
    noisy centred sum over a noisy count, the construction of McSherry &
    Mironov (2009).

    *Sensitivity.*  Adding or removing one rating changes one item's centred
    sum by :math:`|\mathrm{clip}(r) - c| \le (b - a)/2` and its count by 1,
    so the sums have L1 sensitivity :math:`(b-a)/2` and the counts 1.  Without
    clipping a single rating could move a sum without bound; centring halves
    the sensitivity compared with raw sums (:math:`\max(|a|, |b|) = b`).
    Under replacement of one rating the sensitivities double
    (:math:`b - a` and 2).  Each release spends :math:`\varepsilon/2`; by
    sequential composition the pair is :math:`\varepsilon`-DP, and the
    division and clipping are post-processing.  The means of items with few
    ratings are dominated by noise: the signal :math:`n_i (\mu_i - c)` grows
    with :math:`n_i`, the noise does not.  Taught in chapter 9.

    References
    ----------
    .. [1] McSherry, F., Mironov, I. (2009). Differentially private
       recommender systems: building privacy into the Netflix Prize
       contenders. KDD 2009, 627-636. doi:10.1145/1557019.1557090

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": range(200), "item": "a", "rating": 4.0})
    >>> out = private_item_means(df, epsilon=1.0, catalogue=["a"], random_state=0)
    >>> out.round(3).to_dict("records")
    [{'mean': 4.015, 'count': 198.766, 'true_mean': 4.0}]
    """
    epsilon = _check_epsilon(epsilon)
    check_real(lower, "lower")
    check_real(upper, "upper")
    if not lower < upper:
        raise ValueError(
            f"lower must be < upper, got lower={lower!r}, upper={upper!r}"
        )
    inter = as_interactions(ratings)
    cat, pos = _catalogue_index(inter, catalogue)
    rng = _rng(random_state)
    c = 0.5 * (lower + upper)
    idx = pos[inter.item_idx]
    r = np.clip(inter.ratings, lower, upper)
    n = np.bincount(idx, minlength=len(cat)).astype(float)
    sums = np.bincount(idx, weights=r - c, minlength=len(cat))
    noisy_sums = laplace_mechanism(
        sums, (upper - lower) / 2.0, epsilon / 2.0, random_state=rng
    )
    noisy_n = laplace_mechanism(n, 1.0, epsilon / 2.0, random_state=rng)
    mean = np.clip(c + noisy_sums / np.maximum(noisy_n, 1.0), lower, upper)
    raw = np.bincount(idx, weights=inter.ratings, minlength=len(cat))
    true_mean = np.divide(raw, n, out=np.full(len(cat), np.nan), where=n > 0)
    return pd.DataFrame(
        {"mean": mean, "count": noisy_n, "true_mean": true_mean}, index=cat
    )


def rr_probability(epsilon):
    r"""Probability :math:`p = e^\varepsilon / (1 + e^\varepsilon)` of answering truthfully.

    Examples
    --------
    >>> round(rr_probability(1.0), 4)
    0.7311
    """
    epsilon = _check_epsilon(epsilon)
    return float(1.0 / (1.0 + np.exp(-epsilon)))


def randomized_response(x, epsilon, *, random_state=None):
    r"""Randomised response: each bit is kept with probability :math:`p`, flipped otherwise.

    Parameters
    ----------
    x : array_like of bool or {0, 1}
        True answers, e.g. whether each user clicked an item (any shape).
    epsilon : float > 0
        Local privacy budget; :math:`p = e^\varepsilon/(1 + e^\varepsilon)`.
    random_state : int, numpy.random.Generator or None

    Returns
    -------
    numpy.ndarray of bool
        The reported bits, same shape as ``x``.

    Notes
    -----
    Warner (1965)'s design, as used for local differential privacy: a user
    with true bit :math:`x` reports :math:`x` with probability :math:`p` and
    :math:`1 - x` with probability :math:`1 - p`.  Whatever the report
    :math:`y`, :math:`P(y \mid x) / P(y \mid 1 - x) \le p / (1 - p) =
    e^{\varepsilon}`, so each report is :math:`\varepsilon`-differentially
    private on its own -- no trusted collector is needed (local differential
    privacy; RAPPOR, Erlingsson, Pihur & Korolova 2014, deploys it).  A user
    who reports :math:`k` bits, each at budget :math:`\varepsilon`, is
    protected at :math:`k\varepsilon` as a whole (sequential composition).  The collector
    sees :math:`\rho = P(y = 1) = \pi p + (1 - \pi)(1 - p)` for a true rate
    :math:`\pi`, and undoes it with :func:`rr_estimate`.  Taught in chapter 9.

    References
    ----------
    .. [1] Warner, S. L. (1965). Randomized response: a survey technique for
       eliminating evasive answer bias. Journal of the American Statistical
       Association 60(309), 63-69. doi:10.1080/01621459.1965.10480775
    .. [2] Erlingsson, U., Pihur, V., Korolova, A. (2014). RAPPOR: randomized
       aggregatable privacy-preserving ordinal response. CCS 2014,
       1054-1067. doi:10.1145/2660267.2660348

    Examples
    --------
    >>> answers = randomized_response([1, 1, 0, 0, 1], epsilon=2.0, random_state=0)
    >>> answers.astype(int).tolist()
    [1, 1, 0, 0, 1]
    """
    p = rr_probability(epsilon)
    a = np.asarray(x)
    if a.dtype != bool:
        if a.size and not np.isin(a, (0, 1)).all():
            raise ValueError("x must hold booleans or 0/1 values")
        a = a.astype(bool)
    keep = _rng(random_state).random(a.shape) < p
    return np.where(keep, a, ~a)


# : Smallest 2p - 1 for which rr_estimate's variance factor 1/(2p - 1)^2 fits in
# float64.
_MIN_RR_GAP = 1e-150


def rr_estimate(reports, epsilon, axis=None):
    r"""Unbiased estimate of the true rate of ones from randomised-response reports.

    Parameters
    ----------
    reports : array_like of bool or {0, 1}
        Reports from :func:`randomized_response` with the same ``epsilon``.
    epsilon : float > 0
    axis : int or None, default None
        Estimate along this axis (e.g. ``axis=0`` for one rate per item from
        a users x items array); None pools all reports.

    Returns
    -------
    float or numpy.ndarray
        :math:`\hat\pi`; not clipped to [0, 1] (clipping would bias it).

    Raises
    ------
    TypeError
        If ``epsilon`` is not a real number.
    ValueError
        On a bad ``epsilon`` (including one below about ``2e-150``, where
        :math:`1/(2p-1)^2` overflows) or reports that are not 0/1.

    Notes
    -----
    With :math:`\bar y` the share of reported ones,

    .. math:: \hat\pi = \frac{\bar y - (1 - p)}{2p - 1}, \qquad
              E[\hat\pi] = \frac{\pi p + (1 - \pi)(1 - p) - (1 - p)}{2p - 1} = \pi,

    and, conditional on the :math:`n` users' fixed true bits,
    :math:`\operatorname{Var}\hat\pi = \frac{p(1-p)}{n (2p-1)^2}` (each
    report is a coin with bias :math:`p` or :math:`1 - p`): the price of
    privacy is the factor :math:`1/(2p - 1)^2`, which explodes as
    :math:`\varepsilon \to 0`.  If the :math:`n` users are themselves a
    random sample from a population with rate :math:`\pi` (Warner's
    frame), the sampling variance :math:`\pi(1-\pi)/n` adds to it.
    It is computed as :math:`(\bar y - \tfrac12)/(2p - 1) + \tfrac12` with
    :math:`2p - 1 = \tanh(\varepsilon/2)`, which stays exact for a tiny
    :math:`\varepsilon` where :math:`p` itself rounds to :math:`\tfrac12`.
    Taught in chapter 9.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.zeros(100_000, dtype=bool); truth[:30_000] = True
    >>> y = randomized_response(truth, epsilon=1.0, random_state=1)
    >>> round(float(rr_estimate(y, epsilon=1.0)), 2)
    0.3
    """
    epsilon = _check_epsilon(epsilon)
    # 2p - 1 = tanh(epsilon / 2), exact even where p itself rounds to 1/2
    gap = float(np.tanh(epsilon / 2.0))
    if gap < _MIN_RR_GAP:
        raise ValueError(
            f"epsilon must be >= about {2 * _MIN_RR_GAP:.0e} for rr_estimate; "
            f"got {epsilon!r}: "
            f"2p - 1 = tanh(epsilon/2) = {gap:.3g}, so the estimate's variance "
            f"factor "
            "1/(2p - 1)^2 exceeds float64's range (the reports carry no usable "
            "signal)"
        )
    y = np.asarray(reports)
    if y.size == 0:
        raise ValueError("reports is empty")
    if y.dtype != bool and not np.isin(y, (0, 1)).all():
        raise ValueError("reports must hold booleans or 0/1 values")
    rho = y.mean(axis=axis, dtype=np.float64)
    est = (rho - 0.5) / gap + 0.5
    return float(est) if np.ndim(est) == 0 else est
