"""Similarity between users or items: cosine, Pearson, Jaccard and friends.

Chapter 4 of the book (source section 4, 数学模型和公式) derives these measures and
works the source's examples; chapter 3 uses :func:`similarity_matrix` inside the
neighbourhood models.

Two families live here:

* **vector functions** -- :func:`cosine`, :func:`pearson`, :func:`jaccard` and
  :func:`adjusted_cosine` compare two complete, equally long vectors, as a
  textbook does;
* **the matrix function** -- :func:`similarity_matrix` compares every pair of
  rows (users) or columns (items) of a sparse rating matrix in which only the
  *stored* entries are ratings. There, cosine and Pearson are taken over the
  co-rated entries only, as in the collaborative-filtering literature and in
  the Surprise library.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from mathrec._validation import (
    check_array,
    check_choice,
    check_positive_int,
    check_real,
)

__all__ = [
    "adjusted_cosine",
    "cosine",
    "jaccard",
    "pearson",
    "similarity_matrix",
    "CORATED_KINDS",
    "SIMILARITY_KINDS",
]

# ----------------------------------------------------------------------------
# the co-rated measures: one function each, registered with the sums it needs
# ----------------------------------------------------------------------------
#: How each co-rated sum of a pair (a, b) is computed: the left and right
#: factor of one sparse product, with V the (prepared) values, B the 0/1
#: indicator of the stored entries and V2 the squared values. For example
#: ``sqa`` = V2 B^T = sum over the co-rated entries of r_a^2.
_SUM_FACTORS = {
    "n": ("B", "B"),  # |I_ab|, the number of co-rated entries
    "prods": ("V", "V"),  # sum r_a r_b
    "sqa": ("V2", "B"),  # sum r_a^2
    "sqb": ("B", "V2"),  # sum r_b^2
    "sa": ("V", "B"),  # sum r_a
    "sb": ("B", "V"),  # sum r_b
}

_MEASURES = {}


def _measure(name, needs, values="raw"):
    r"""Register a co-rated similarity: ``f(sums, counts_a, counts_b) -> array``.

    ``counts_a`` and ``counts_b`` (how many entries each side rated)
    broadcast against the sums.

    ``needs`` names the co-rated sums it reads (keys of ``_SUM_FACTORS``);
    ``values`` says what the sums are taken of: ``"raw"`` ratings,
    ``"other_mean"`` (ratings centred on the mean of the other axis, the
    adjusted cosine) or ``"baseline"`` (residuals from :math:`\mu+b_u+b_i`).
    Adding a measure to :func:`similarity_matrix` and to the neighbourhood
    models is one registered function.
    """

    def register(f):
        _MEASURES[name] = (f, tuple(needs), values)
        return f

    return register


def _cosine_of_sums(T):
    with np.errstate(divide="ignore", invalid="ignore"):
        den = T["sqa"] * T["sqb"]
        out = np.where(
            den > 0, T["prods"] / np.sqrt(np.where(den > 0, den, 1.0)), 0.0
        )
    return np.clip(out, -1.0, 1.0, out=out)


@_measure("cosine", ("prods", "sqa", "sqb"))
def _sim_cosine(T, ca, cb):
    """Cosine over the co-rated entries."""
    return _cosine_of_sums(T)


@_measure("pearson", ("n", "prods", "sqa", "sqb", "sa", "sb"))
def _sim_pearson(T, ca, cb):
    """Pearson over the co-rated entries, centred by the co-rated means."""
    n, sa, sb = T["n"], T["sa"], T["sb"]
    num = n * T["prods"] - sa * sb
    va = n * T["sqa"] - sa**2
    vb = n * T["sqb"] - sb**2
    # a constant co-rated vector has variance 0 up to rounding
    va[va <= 1e-12 * n * T["sqa"]] = 0.0
    vb[vb <= 1e-12 * n * T["sqb"]] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        den = va * vb
        out = np.where(den > 0, num / np.sqrt(np.where(den > 0, den, 1.0)), 0.0)
    return np.clip(out, -1.0, 1.0, out=out)


@_measure("adjusted_cosine", ("prods", "sqa", "sqb"), values="other_mean")
def _sim_adjusted_cosine(T, ca, cb):
    """Cosine over the co-rated entries of ratings centred on the other axis' means."""
    return _cosine_of_sums(T)


@_measure("pearson_baseline", ("prods", "sqa", "sqb"), values="baseline")
def _sim_pearson_baseline(T, ca, cb):
    """Cosine over the co-rated entries of the baseline residuals (Surprise's pearson_baseline)."""
    return _cosine_of_sums(T)


@_measure("jaccard", ("n",))
def _sim_jaccard(T, ca, cb):
    """|I_a & I_b| / |I_a | I_b|."""
    n = T["n"]
    union = ca + cb - n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, n / np.where(union > 0, union, 1.0), 0.0)


@_measure("msd", ("n", "prods", "sqa", "sqb"))
def _sim_msd(T, ca, cb):
    """1 / (1 + mean squared difference over the co-rated entries)."""
    n = T["n"]
    with np.errstate(divide="ignore", invalid="ignore"):
        msd = np.where(
            n > 0,
            (T["sqa"] + T["sqb"] - 2.0 * T["prods"]) / np.where(n > 0, n, 1.0),
            0.0,
        )
    return np.where(n > 0, 1.0 / (1.0 + np.maximum(msd, 0.0)), 0.0)


#: The co-rated measures, computed by both :func:`similarity_matrix` and the
#: neighbourhood models (:class:`mathrec.UserKNN`, :class:`mathrec.ItemKNN`).
CORATED_KINDS = tuple(_MEASURES)

#: The values accepted by ``similarity_matrix(kind=...)``.
SIMILARITY_KINDS = CORATED_KINDS + ("cosine_full",)


def _corated_sum_names(kind, min_support, shrinkage):
    """The co-rated sums that ``kind`` needs, with ``n`` when support or shrinkage need it."""
    needs = _MEASURES[kind][1]
    if "n" not in needs and (min_support > 1 or shrinkage > 0):
        needs = ("n",) + needs
    return needs


def _from_corated_sums(
    kind, T, counts_a, counts_b, *, min_support=1, shrinkage=0.0, pairs=False
):
    """Turn the co-rated sums of a block of pairs into their similarities.

    The one implementation of every co-rated measure: :func:`similarity_matrix`
    and the neighbourhood models both call it.

    Parameters
    ----------
    kind : str
        A key of ``CORATED_KINDS``.
    T : dict of str to ndarray of shape (n_a, n_b), or of shape (m,) with ``pairs``
        The sums named by :func:`_corated_sum_names` (see ``_SUM_FACTORS``).
    counts_a, counts_b : ndarray of shape (n_a,) and (n_b,), or (m,) with ``pairs``
        Number of entries rated by each row of the block (for Jaccard's union).
    min_support, shrinkage
        As in :func:`similarity_matrix`.
    pairs : bool, default False
        The sums are a list of ``m`` pairs (row ``j`` of ``a`` with row ``j``
        of ``b``) instead of a block of every ``a`` against every ``b``.
    """
    if not pairs:
        counts_a, counts_b = counts_a[:, None], counts_b[None, :]
    sim = _MEASURES[kind][0](T, counts_a, counts_b)
    n = T.get("n")
    if shrinkage > 0:
        nm1 = np.maximum(n - 1.0, 0.0)
        sim = sim * (nm1 / (nm1 + shrinkage))
    if n is not None:
        sim[n < max(min_support, 1)] = 0.0
    # without n, a pair with nothing in common has zero sums, hence similarity 0
    return sim


def _corated_values(X, kind, baseline=None):
    r"""The values whose co-rated sums ``kind`` takes; rows of ``X`` are the entities compared.

    ``"other_mean"``: every entry centred on its column's mean (the mean of
    the other axis: user means when items are compared); ``"baseline"``: the
    residual :math:`r - (\mu + b_{row} + b_{col})` with ``baseline = (mu,
    b_rows, b_cols)``. The sparsity pattern is kept (a residual of exactly 0
    is still a stored, co-rated entry).
    """
    how = _MEASURES[kind][2]
    if how == "raw":
        return X
    V = X.copy()
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    if how == "other_mean":
        counts = np.bincount(X.indices, minlength=X.shape[1]).astype(float)
        sums = np.bincount(X.indices, weights=X.data, minlength=X.shape[1])
        means = _divide(sums, counts)
        V.data = X.data - means[X.indices]
    else:
        mu, b_rows, b_cols = baseline
        V.data = X.data - (mu + b_rows[rows] + b_cols[X.indices])
    return V


def _corated_factors(V):
    """The three factors of the co-rated sums: values, indicator, squares (CSR)."""
    B = V.copy()
    # the indicator keeps explicit zeros as "rated"
    B.data = np.ones_like(B.data)
    V2 = V.copy()
    V2.data = V.data**2
    return {"V": V, "B": B, "V2": V2}


# ----------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------
def _as_vector(x, name):
    """Return ``x`` as a finite, non-empty 1-D float array or raise ValueError."""
    return check_array(
        x, name, ndim=1, purpose="a similarity needs at least one entry"
    )


def _pair(a, b, names=("a", "b")):
    a = _as_vector(a, names[0])
    b = _as_vector(b, names[1])
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same length, "
            f"got {a.size} and {b.size}"
        )
    return a, b


#: A vector whose squared deviations from its mean sum to at most this
#: fraction of its sum of squares is constant (Pearson's rule, as in
#: ``_sim_pearson``).
_CONSTANT_RTOL = 1e-12


def _scaled(x):
    """Divide by the largest absolute entry (no-op for a zero vector).

    Scaling first keeps the dot products away from overflow and underflow; the
    cosine does not change because it is scale invariant.
    """
    m = np.max(np.abs(x))
    return x / m if m > 0 else x


def _cos_of(a, b):
    a = _scaled(a)
    b = _scaled(b)
    na = np.sqrt(np.dot(a, a))
    nb = np.sqrt(np.dot(b, b))
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))


# ----------------------------------------------------------------------------
# vector functions
# ----------------------------------------------------------------------------
def cosine(a, b):
    r"""Cosine of the angle between two vectors.

    Taught in chapter 4 (source section 4.1.1 and 4.3.1).

    Parameters
    ----------
    a, b : array_like of shape (n,)
        Two finite vectors of the same length (a scipy.sparse row or column
        vector is accepted too).

    Returns
    -------
    float
        A number in :math:`[-1, 1]`; 0 when either vector is all zeros.

    Raises
    ------
    ValueError
        If an argument is empty, not 1-D, contains NaN or infinity, or the
        lengths differ. The message names the argument.

    Notes
    -----
    .. math::

        \cos\theta_{ab} = \frac{a \cdot b}{\lVert a \rVert_2 \, \lVert b \rVert_2}
        = \frac{\sum_k a_k b_k}{\sqrt{\sum_k a_k^2}\,\sqrt{\sum_k b_k^2}} .

    The angle to a zero vector is undefined; like
    :func:`sklearn.metrics.pairwise.cosine_similarity` this function returns 0
    in that case. Every entry counts, zeros included: for ratings with missing
    entries use :func:`similarity_matrix`, which sums over co-rated items only.

    References
    ----------
    .. [1] Sarwar, Karypis, Konstan and Riedl, "Item-based collaborative
       filtering recommendation algorithms", WWW 2001,
       https://doi.org/10.1145/371920.372071

    Examples
    --------
    The source's example, :math:`11/14`:

    >>> from mathrec.similarity import cosine
    >>> cosine([1, 2, 3], [2, 3, 1])
    0.7857142857142857
    >>> cosine([1, 2, 3], [0, 0, 0])
    0.0
    """
    a, b = _pair(a, b)
    return _cos_of(a, b)


def pearson(a, b):
    r"""Pearson correlation coefficient of two vectors.

    Taught in chapter 4 (source section 4.1.1).

    Parameters
    ----------
    a, b : array_like of shape (n,)
        Two finite vectors of the same length.

    Returns
    -------
    float
        A number in :math:`[-1, 1]`; 0 when either vector is constant
        (including a vector of length 1).

    Raises
    ------
    ValueError
        If an argument is empty, not 1-D, contains NaN or infinity, or the
        lengths differ.

    Notes
    -----
    Each vector is centred by **its own** mean, then the cosine is taken:

    .. math::

        \rho_{ab} = \frac{\sum_k (a_k - \bar a)(b_k - \bar b)}
        {\sqrt{\sum_k (a_k - \bar a)^2}\,\sqrt{\sum_k (b_k - \bar b)^2}} .

    A constant vector has no variation to correlate with; :func:`scipy.stats.pearsonr`
    returns NaN and warns, this function returns 0. A vector counts as constant
    when :math:`\sum_k (a_k - \bar a)^2 \le 10^{-12} \sum_k a_k^2`: the spread
    of ``[0.1 + 0.2, 0.3, 0.3]`` is rounding noise, and gives 0, not a
    correlation of -0.5 (:func:`similarity_matrix` applies the same rule). On
    the vectors where both are defined the two agree. For rating vectors with missing entries use
    :func:`similarity_matrix` with ``kind="pearson"``.

    References
    ----------
    .. [1] Resnick, Iacovou, Suchak, Bergstrom and Riedl, "GroupLens: an open
       architecture for collaborative filtering of netnews", CSCW 1994,
       https://doi.org/10.1145/192844.192905

    Examples
    --------
    >>> from mathrec.similarity import pearson
    >>> round(pearson([1, 2, 3], [2, 4, 6]), 12)
    1.0
    >>> round(pearson([1, 2, 3], [2, 3, 1]), 4)
    -0.5
    >>> pearson([3, 3, 3], [1, 2, 3])
    0.0
    >>> pearson([0.1 + 0.2, 0.3, 0.3], [1, 2, 3])
    0.0
    """
    a, b = _pair(a, b)
    a = _centred_or_none(a)
    b = _centred_or_none(b)
    if a is None or b is None:
        return 0.0
    return _cos_of(a, b)


def _centred_or_none(x):
    """``x`` minus its mean, or None when ``x`` is constant up to rounding.

    ``x`` is scaled first, so that its mean cannot overflow. It counts as
    constant when the sum of squared deviations is at most ``1e-12`` times the
    sum of squares, the rule :func:`similarity_matrix` applies to co-rated
    vectors; a spread that small is rounding noise, not variation.
    """
    x = _scaled(x)
    d = x - x.mean()
    if np.dot(d, d) <= _CONSTANT_RTOL * np.dot(x, x):
        return None
    return d


def jaccard(a, b):
    r"""Jaccard similarity of the sets of non-zero positions of two vectors.

    Taught in chapter 4.

    Parameters
    ----------
    a, b : array_like of shape (n,)
        Two finite vectors of the same length. Entry ``k`` is *present* when it
        is non-zero (binary/set semantics: a rating of 1 and of 5 both count as
        "present"; the values themselves are ignored).

    Returns
    -------
    float
        :math:`|A \cap B| / |A \cup B|` in :math:`[0, 1]`; 0 when both sets are
        empty.

    Raises
    ------
    ValueError
        If an argument is empty, not 1-D, contains NaN or infinity, or the
        lengths differ.

    Notes
    -----
    With :math:`A = \{k : a_k \ne 0\}` and :math:`B = \{k : b_k \ne 0\}`,

    .. math::

        J(a, b) = \frac{|A \cap B|}{|A \cup B|} .

    For two empty sets the ratio is 0/0. This function returns 0 (nothing in
    common, consistent with the zero-vector rule of :func:`cosine`);
    :func:`scipy.spatial.distance.jaccard` returns a *distance* of 0 there, so
    ``1 - scipy.spatial.distance.jaccard`` agrees with this function on every
    pair except two all-zero vectors.

    Examples
    --------
    >>> from mathrec.similarity import jaccard
    >>> jaccard([1, 0, 4, 0], [5, 2, 0, 0])
    0.3333333333333333
    >>> jaccard([0, 0], [0, 0])
    0.0
    """
    a, b = _pair(a, b)
    pa = a != 0
    pb = b != 0
    union = np.count_nonzero(pa | pb)
    if union == 0:
        return 0.0
    return float(np.count_nonzero(pa & pb) / union)


def adjusted_cosine(a, b, means):
    r"""Adjusted cosine of two items, centred by each user's mean rating.

    Taught in chapter 4; used for item-based filtering in chapter 3.

    Parameters
    ----------
    a, b : array_like of shape (n,)
        The ratings that the same ``n`` users gave to item :math:`i` (``a``)
        and to item :math:`j` (``b``): the users who rated both items.
    means : array_like of shape (n,)
        Each of these users' mean rating :math:`\bar r_u`, taken over **all**
        of the user's ratings (not only these two items).

    Returns
    -------
    float
        A number in :math:`[-1, 1]`; 0 when a centred vector is all zeros.

    Raises
    ------
    ValueError
        If an argument is empty, not 1-D, non-finite, or the lengths differ.

    Notes
    -----
    Sarwar et al. (2001) remove each *user's* mean before comparing two
    *items*, so that a generous and a harsh rater count alike:

    .. math::

        \operatorname{sim}(i, j) = \frac{\sum_{u \in U_{ij}}
        (r_{ui} - \bar r_u)(r_{uj} - \bar r_u)}
        {\sqrt{\sum_{u \in U_{ij}} (r_{ui} - \bar r_u)^2}\,
         \sqrt{\sum_{u \in U_{ij}} (r_{uj} - \bar r_u)^2}} .

    Pearson would instead subtract each *item's* mean. The whole matrix of
    adjusted cosines is ``similarity_matrix(R, kind="adjusted_cosine",
    axis="items")``.

    References
    ----------
    .. [1] Sarwar, Karypis, Konstan and Riedl, "Item-based collaborative
       filtering recommendation algorithms", WWW 2001,
       https://doi.org/10.1145/371920.372071

    Examples
    --------
    Three users rated both items; their overall means are 3, 2 and 4:

    >>> from mathrec.similarity import adjusted_cosine
    >>> round(adjusted_cosine([4, 3, 5], [5, 1, 5], means=[3, 2, 4]), 4)
    0.4714
    """
    a, b = _pair(a, b)
    m = _as_vector(means, "means")
    if m.shape != a.shape:
        raise ValueError(
            f"means must have the same length as a and b, got {m.size} and "
            f"{a.size}"
        )
    return _cos_of(a - m, b - m)


# ----------------------------------------------------------------------------
# the matrix function
# ----------------------------------------------------------------------------
def _as_rating_matrix(R):
    """Validate ``R`` and return it as a canonical CSR float matrix."""
    if sp.issparse(R):
        if R.ndim != 2:
            raise ValueError(f"R must be 2-D, got shape {R.shape}")
        coo = sp.coo_matrix(R)
        if coo.nnz:
            lin = coo.row.astype(np.int64) * coo.shape[1] + coo.col
            if np.unique(lin).size != coo.nnz:
                raise ValueError(
                    "R stores the same (row, column) entry more than once; "
                    "a user can rate an item only once (sum or drop the "
                    "duplicates first)"
                )
        X = sp.csr_matrix(coo, dtype=float)
        X.sort_indices()
    else:
        try:
            arr = np.asarray(R, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"R must be a 2-D array or scipy.sparse matrix, got {R!r}"
            ) from exc
        if arr.ndim != 2:
            raise ValueError(
                f"R must be 2-D, got an array of shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(
                "R contains NaN or infinity; in a dense R a missing rating is "
                "0 "
                "(or pass a scipy.sparse matrix whose stored entries are the "
                "ratings)"
            )
        X = sp.csr_matrix(arr)  # zeros are not stored: they mean "not rated"
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"R is empty (shape {X.shape})")
    if not np.all(np.isfinite(X.data)):
        bad = X.data[~np.isfinite(X.data)][0]
        raise ValueError(
            f"R contains a non-finite rating ({bad!r}); remove or impute it "
            f"first"
        )
    return X


def _divide(num, den):
    """num / den where den > 0, else 0 (no warnings)."""
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _default_chunk(n):
    # about 2**22 float64 entries (32 MiB) per temporary block
    return max(1, (1 << 22) // max(n, 1))


#: The kinds that do not change when one row is multiplied by a positive number.
_ROW_SCALE_FREE = ("cosine", "pearson", "jaccard", "cosine_full")


def _safe_magnitude(X, kind):
    """``X`` (rows = the entities compared) rescaled so that its sums of squares stay finite.

    Each row of a row-scale-free kind, or the whole matrix for
    ``"adjusted_cosine"`` (its centring mixes the rows), is multiplied by the
    power of two that brings its largest entry into [0.5, 1). A power of two
    is exact, so the similarities are the same to the last bit for ratings of
    ordinary size, and stay correct for values near 1e300 or 1e-300. ``"msd"``
    and ``"pearson_baseline"`` depend on the scale itself: values whose
    squared sums would overflow are refused.
    """
    if X.nnz == 0:
        return X
    absdata = np.abs(X.data)
    if kind in _ROW_SCALE_FREE:
        top = np.zeros(X.shape[0])
        np.maximum.at(
            top, np.repeat(np.arange(X.shape[0]), np.diff(X.indptr)), absdata
        )
        exp = np.frexp(top)[1]  # 0 for an all-zero row
        X = X.copy()
        X.data = np.ldexp(X.data, -np.repeat(exp, np.diff(X.indptr)))
        return X
    top = float(absdata.max())
    if kind == "adjusted_cosine":
        X = X.copy()
        X.data = np.ldexp(X.data, -int(np.frexp(top)[1]))
        return X
    limit = math.sqrt(np.finfo(np.float64).max / (16.0 * max(X.shape[1], 1)))
    if top > limit:
        raise ValueError(
            f"R holds values as large as {top:g}, beyond {limit:.3g}, where "
            f"the sums of "
            f"squares of kind={kind!r} overflow float64; rescale R (this kind "
            f"depends on "
            f"the scale of the ratings)"
        )
    return X


def _check_baseline(baseline, X):
    """``(mu, b_users, b_items)`` for pearson_baseline: given, or fitted on ``X`` (users x items)."""
    n_users, n_items = X.shape
    if baseline is None:
        # the baseline of BaselineOnly, its defaults
        from mathrec.baselines import _fit_biases

        coo = X.tocoo()
        return _fit_biases(
            coo.row, coo.col, coo.data, n_users, n_items, 15.0, 10.0, 10
        )
    try:
        mu, b_users, b_items = baseline
        mu = float(mu)
        b_users = np.asarray(b_users, dtype=float)
        b_items = np.asarray(b_items, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "baseline must be a tuple (mu, b_users, b_items) of a number and "
            "two arrays"
        ) from exc
    if b_users.shape != (n_users,) or b_items.shape != (n_items,):
        raise ValueError(
            f"baseline biases must have shapes ({n_users},) and ({n_items},), "
            f"got {b_users.shape} and {b_items.shape}"
        )
    if not (
        np.isfinite(mu)
        and np.isfinite(b_users).all()
        and np.isfinite(b_items).all()
    ):
        raise ValueError("baseline contains NaN or infinity")
    return mu, b_users, b_items


def similarity_matrix(
    R,
    kind="cosine",
    axis="users",
    *,
    min_support=1,
    shrinkage=0.0,
    chunk_size=None,
    dtype=np.float64,
    baseline=None,
):
    r"""All pairwise similarities between the users (or the items) of a rating matrix.

    Taught in chapter 4 (the formulas) and used by the neighbourhood models of
    chapter 3.

    Parameters
    ----------
    R : scipy.sparse matrix or array_like of shape (n_users, n_items)
        The ratings. For a sparse matrix every **stored** entry is an observed
        rating -- an explicitly stored 0 too (a rating of 0 on a 0-5 scale is a
        rating) -- and every entry that is not stored is missing. For a dense
        array, zeros are taken as missing. Duplicate stored entries are an error.
    kind : {"cosine", "pearson", "adjusted_cosine", "pearson_baseline", "jaccard", "msd", "cosine_full"}
        The measure; see Notes. Default ``"cosine"`` (over co-rated items).
    axis : {"users", "items"}
        Compare the rows (users, result ``n_users x n_users``) or the columns
        (items, result ``n_items x n_items``).
    min_support : int, default 1
        Pairs with fewer than ``min_support`` co-rated entries,
        :math:`|I_{uv}| <` ``min_support``, get similarity 0 (as in Surprise).
    shrinkage : float, default 0
        If positive, multiply every similarity by
        :math:`(|I_{uv}| - 1) / (|I_{uv}| - 1 + \lambda)` with
        :math:`\lambda =` ``shrinkage``, the factor of Surprise's
        ``pearson_baseline`` (Koren 2008 uses :math:`n/(n+\lambda)`). Pairs
        with fewer than 2 co-rated entries then get 0.
    chunk_size : int, optional
        Number of rows of the result computed at a time; bounds the
        temporaries (default: about 32 MiB per temporary block).
    dtype : numpy float dtype, default float64
        dtype of the returned matrix (the computation is in float64;
        ``np.float32`` halves the memory of the result).
    baseline : tuple (mu, b_users, b_items), optional
        Only for ``kind="pearson_baseline"``: the baseline
        :math:`b_{ui} = \mu + b_u + b_i` whose residuals are compared. By
        default it is fitted on ``R`` as :class:`mathrec.baselines.BaselineOnly`
        does (``reg_u=15, reg_i=10, n_epochs=10``, Surprise's defaults).

    Returns
    -------
    S : ndarray of shape (n, n)
        Dense and symmetric, ``n`` = number of users (``axis="users"``) or
        items (``axis="items"``). It takes :math:`8 n^2` bytes in float64: 3 MB
        for the 610 users of MovieLens *ml-latest-small*, 760 MB for its 9,742
        items (use ``dtype=np.float32`` or a subset of items there).
        The diagonal follows the same formula as every other entry, so a row
        with no ratings (or a constant row, for Pearson) has self-similarity 0.
        Off the diagonal, ``"cosine"``, ``"pearson"`` and ``"msd"`` equal
        Surprise's similarities (the tests compare them); Surprise sets the
        whole diagonal to 1.

    Raises
    ------
    TypeError
        If ``min_support``, ``shrinkage`` or ``chunk_size`` is not a number
        (an integer for ``min_support`` and ``chunk_size``).
    ValueError
        On a bad ``kind``, ``axis``, ``min_support``, ``shrinkage``,
        ``chunk_size`` or ``baseline``; on an empty ``R``, a non-finite rating, or a duplicate
        stored entry; for ``"msd"`` and ``"pearson_baseline"``, on ratings so large
        (about 1e150) that their sums of squares overflow. The other kinds rescale
        each row (or the whole matrix) by a power of two first, so any finite
        ratings work.

    Notes
    -----
    Write the formulas for ``axis="users"`` (for ``axis="items"`` swap the
    roles of users and items). :math:`I_u` is the set of items that user
    :math:`u` rated and :math:`I_{uv} = I_u \cap I_v` the co-rated items.

    ``"cosine"`` -- cosine over co-rated items, Surprise's ``cosine``:

    .. math::

        s_{uv} = \frac{\sum_{i \in I_{uv}} r_{ui} r_{vi}}
        {\sqrt{\sum_{i \in I_{uv}} r_{ui}^2}\,\sqrt{\sum_{i \in I_{uv}} r_{vi}^2}} .

    ``"pearson"`` -- Pearson over co-rated items, each user centred by the mean
    of **their co-rated ratings** :math:`\bar r_{u|v} = \frac{1}{|I_{uv}|}
    \sum_{i \in I_{uv}} r_{ui}`, not by their mean over all their ratings:

    .. math::

        s_{uv} = \frac{\sum_{i \in I_{uv}} (r_{ui} - \bar r_{u|v})(r_{vi} - \bar r_{v|u})}
        {\sqrt{\sum_{i \in I_{uv}} (r_{ui} - \bar r_{u|v})^2}\,
         \sqrt{\sum_{i \in I_{uv}} (r_{vi} - \bar r_{v|u})^2}} .

    This is exactly what Surprise's ``pearson`` computes (its docstring writes
    :math:`\mu_u`, but its code,
    :math:`(n\sum xy - \sum x \sum y) / \sqrt{(n\sum x^2 - (\sum x)^2)(n\sum y^2 - (\sum y)^2)}`
    with all sums over :math:`I_{uv}`, is the sample correlation of the
    co-rated ratings). It is also ``scipy.stats.pearsonr`` applied to the
    co-rated pairs. A pair with a single co-rated item, or constant co-rated
    ratings, gets 0.

    ``"adjusted_cosine"`` -- for ``axis="items"``, Sarwar et al.'s adjusted
    cosine: every rating is first centred by its *user's* mean over all the
    user's ratings, :math:`\bar r_u`, then the co-rated cosine is taken (for
    ``axis="users"`` the ratings are centred by the *item* means instead).

    ``"pearson_baseline"`` -- Surprise's ``pearson_baseline`` (Koren 2010):
    the co-rated cosine of the baseline residuals
    :math:`e_{ui} = r_{ui} - (\mu + b_u + b_i)`,

    .. math::

        s_{uv} = \frac{\sum_{i \in I_{uv}} e_{ui} e_{vi}}
        {\sqrt{\sum_{i \in I_{uv}} e_{ui}^2}\,\sqrt{\sum_{i \in I_{uv}} e_{vi}^2}} ;

    Surprise multiplies it by the shrinkage factor below with
    :math:`\lambda = 100` by default (pass ``shrinkage=100`` for the same).

    ``"jaccard"`` -- :math:`|I_{uv}| / |I_u \cup I_v|`: which items were rated,
    not how.

    ``"msd"`` -- Surprise's mean-squared-difference similarity (KNNBasic's
    default): :math:`1 / (1 + \frac{1}{|I_{uv}|}\sum_{i \in I_{uv}} (r_{ui} - r_{vi})^2)`,
    in :math:`(0, 1]`; it is never negative, so every co-rated pair is a
    candidate neighbour.

    ``"cosine_full"`` -- plain cosine of the full rows, missing entries counted
    as 0: equals :func:`sklearn.metrics.pairwise.cosine_similarity`. It differs
    from ``"cosine"``: the norms run over all of a user's ratings, so two users
    who agree on the few items they share but rated many others get a small
    value.

    Every pair with :math:`|I_{uv}| = 0` (nothing in common) gets 0, and so
    does every pair whose denominator is 0. Cosine-type results are clipped to
    :math:`[-1, 1]` to remove rounding overshoot.

    Implementation: with :math:`B` the 0/1 indicator of stored entries,
    :math:`X` the values and :math:`X^{\circ 2}` their squares, the co-rated
    sums are sparse matrix products -- :math:`|I_{uv}| = (BB^T)_{uv}`,
    :math:`\sum_{I_{uv}} r_{ui} r_{vi} = (XX^T)_{uv}`,
    :math:`\sum_{I_{uv}} r_{ui}^2 = (X^{\circ 2} B^T)_{uv}`,
    :math:`\sum_{I_{uv}} r_{ui} = (XB^T)_{uv}` -- computed a block of rows at
    a time; there is no Python loop over pairs. One private function turns
    these sums into every co-rated measure, and the neighbourhood models
    (:class:`mathrec.UserKNN`, :class:`mathrec.ItemKNN`) call the same
    function on the blocks they need, so their similarities are these.

    References
    ----------
    .. [1] Hug, "Surprise: a Python library for recommender systems", JOSS 2020,
       https://doi.org/10.21105/joss.02174 (``surprise/similarities.pyx``)
    .. [2] Sarwar, Karypis, Konstan and Riedl, "Item-based collaborative
       filtering recommendation algorithms", WWW 2001,
       https://doi.org/10.1145/371920.372071
    .. [3] Herlocker, Konstan, Borchers and Riedl, "An algorithmic framework for
       performing collaborative filtering", SIGIR 1999,
       https://doi.org/10.1145/312624.312682

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from mathrec.similarity import similarity_matrix
    >>> R = sp.csr_matrix(np.array([[5, 3, 0], [4, 0, 1], [1, 1, 5]], dtype=float))
    >>> similarity_matrix(R, "cosine").round(3)
    array([[1.   , 1.   , 0.97 ],
           [1.   , 1.   , 0.428],
           [0.97 , 0.428, 1.   ]])
    >>> similarity_matrix(R, "cosine_full").round(3)
    array([[1.   , 0.832, 0.264],
           [0.832, 1.   , 0.42 ],
           [0.264, 0.42 , 1.   ]])
    """
    check_choice(kind, "kind", SIMILARITY_KINDS)
    check_choice(axis, "axis", ("users", "items"))
    min_support = check_positive_int(min_support, "min_support", minimum=0)
    shrinkage = check_real(shrinkage, "shrinkage", low=0)
    if chunk_size is not None:
        chunk_size = check_positive_int(chunk_size, "chunk_size")

    X = _as_rating_matrix(R)
    if kind == "pearson_baseline":
        mu, b_users, b_items = _check_baseline(baseline, X)
    if axis == "items":
        X = X.T.tocsr()
        X.sort_indices()
    X = _safe_magnitude(X, kind)
    n = X.shape[0]
    step = chunk_size or _default_chunk(n)
    S = np.empty((n, n), dtype=dtype)

    if kind == "cosine_full":
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
        XT = X.T.tocsc()
        for start in range(0, n, step):
            rows = slice(start, min(n, start + step))
            block = _divide(
                (X[rows] @ XT).toarray(), norms[rows, None] * norms[None, :]
            )
            S[rows] = np.clip(block, -1.0, 1.0, out=block)
        return S

    if kind == "pearson_baseline":
        baseline = (
            (mu, b_users, b_items)
            if axis == "users"
            else (mu, b_items, b_users)
        )
    F = _corated_factors(_corated_values(X, kind, baseline))
    counts = np.diff(X.indptr).astype(float)  # |I_u|
    names = _corated_sum_names(kind, min_support, shrinkage)
    right = {f: F[f].T.tocsc() for f in {_SUM_FACTORS[t][1] for t in names}}
    for start in range(0, n, step):
        rows = slice(start, min(n, start + step))
        T = {
            t: (
                F[_SUM_FACTORS[t][0]][rows] @ right[_SUM_FACTORS[t][1]]
            ).toarray()
            for t in names
        }
        S[rows] = _from_corated_sums(
            kind,
            T,
            counts[rows],
            counts,
            min_support=min_support,
            shrinkage=shrinkage,
        )
    return S
