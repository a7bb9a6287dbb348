r"""Learning to rank from implicit feedback: BPR and EASE.

Both models learn from *which* items a user touched, not from how much they
liked them, and both produce ranking scores rather than ratings
(``predicts_ratings = False``):

- :class:`BPR` (Rendle et al. 2009) factorises the scores,
  $x_{ui} = p_u^\top q_i + b_i$, and learns them from pairs: an item the user
  touched should score above one they did not.  Its loss is the binary
  cross-entropy of the probability $\sigma(x_{ui} - x_{uj})$ that the pair is
  ordered correctly, minimised by SGD over sampled triples $(u, i, j)$;
- :class:`EASE` (Steck 2019) is a linear item-item model, $\hat X = X B$,
  whose weights have a closed form: one inverse of an
  $n_\text{items} \times n_\text{items}$ matrix.

Chapter 3 teaches them.

The SGD loop of :class:`BPR` is sequential (each update reads what the
previous one wrote), so it is compiled with numba when numba is installed;
without numba the same updates run as a NumPy loop over the sampled triples,
more slowly (both in ``mathrec._kernels``).
"""

from __future__ import annotations


import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ._base import RecommenderMixin, check_positive_int, check_random_state
from ._kernels import CHUNK_FLOATS, bpr_kernel, rowwise_dot
from ._validation import check_bool, check_choice, check_real
from .data import as_interactions
from .factorization import (
    _check_diverged,
    _check_float,
    _FactorModel,
)

__all__ = ["BPR", "EASE"]


def _check_min_rating(value):
    return check_real(value, "min_rating", allow_none=True)


def _positives(inter, min_rating):
    """Boolean mask of the interactions that count as positive feedback."""
    if min_rating is None:
        return np.ones(inter.n_ratings, dtype=bool)
    return inter.ratings >= min_rating


def _uniform_ints(rng, n, high):
    """``n`` integers uniform on ``[0, high)`` from a RandomState or a Generator."""
    return np.minimum((rng.random(n) * high).astype(np.int64), high - 1)


def _sample_triples(
    rng, pos_users, pos_items, keys, n_items, n_samples, sampling="uniform"
):
    r"""``n_samples`` triples $(u, i, j)$, $(u, i)$ uniform over the positives.

    ``sampling="uniform"``: $j$ uniform over the items that are not positives
    of $u$ (rejection sampling).  ``"popularity"``: $j$ is the item of a
    uniformly drawn positive interaction (so in proportion to its number of
    positives), and a triple whose $j$ is a positive of $u$ is dropped.
    ``keys`` are the sorted codes ``u * n_items + i`` of all positives.
    """
    t = _uniform_ints(rng, n_samples, len(pos_users))
    users, pos = pos_users[t], pos_items[t]

    def clashes(rows, neg):
        code = users[rows] * n_items + neg[rows]
        at = np.minimum(np.searchsorted(keys, code), len(keys) - 1)
        return keys[at] == code

    if sampling == "popularity":
        neg = pos_items[_uniform_ints(rng, n_samples, len(pos_items))]
        keep = ~clashes(np.arange(n_samples), neg)
        return users[keep], pos[keep], neg[keep]
    neg = _uniform_ints(rng, n_samples, n_items)
    redo = np.arange(n_samples)
    while redo.size:
        redo = redo[clashes(redo, neg)]
        neg[redo] = _uniform_ints(rng, redo.size, n_items)
    return users, pos, neg


# ======================================================================== BPR
class BPR(_FactorModel):
    r"""Bayesian personalised ranking: matrix factorisation learned from pairs.

    Parameters
    ----------
    n_factors : int, default 64
        Number of latent factors $k$.
    n_epochs : int, default 100
        Number of passes; each pass draws as many triples $(u, i, j)$ as there
        are positive interactions.
    learning_rate : float, default 0.05
        SGD step $\eta$.
    regularization : float, default 0.01
        L2 penalty $\lambda$ on the parameters a triple touches.
    item_bias : bool, default True
        Learn an item bias $b_i$ (a popularity term); False fixes $b_i = 0$.
    sampling : {"uniform", "popularity"}, default "uniform"
        How the negative item $j$ is drawn: uniformly from the items the user
        has not touched (Rendle et al.), or from the positive interactions of
        all users, i.e. in proportion to the item's popularity, dropping the
        triple when the user touched $j$ (``implicit``'s sampler).
    min_rating : float or None, default None
        An interaction is positive when its rating is $\ge$ ``min_rating``;
        None (the default) treats every observed interaction as positive.
    init_std_dev : float, default 0.1
        $p_u$ and $q_i$ start as independent normal draws $N(0, \sigma^2)$;
        biases start at 0.
    random_state : None, int, RandomState or Generator, default None
        Seeds the initial factors and the sampled triples
        (``mathrec._base.check_random_state``).

    Attributes
    ----------
    user_factors_, item_factors_ : ndarray of shape (n_users, k), (n_items, k)
        $P$ and $Q$; a user with no positive interaction has $p_u = 0$.
    item_bias_ : ndarray of shape (n_items,)
        $b_i$ (zeros when ``item_bias=False``).
    history_ : pandas.DataFrame
        One row per epoch: ``iteration`` (the epoch, from 1) and
        ``objective``, the mean of $-\ln\sigma(x_{uij})$ over the epoch's
        triples, each taken just before its own update.
    interactions_ : mathrec.data.Interactions
        The training data.

    Raises
    ------
    mathrec.DivergenceError
        If the loss or a parameter stops being finite during ``fit``.

    Notes
    -----
    The score of item $i$ for user $u$ is $x_{ui} = p_u^\top q_i + b_i$.
    BPR models the probability that $u$ prefers an item $i$ they touched to
    an item $j$ they did not as

    .. math:: \Pr(i \succ_u j) = \sigma(x_{uij}), \qquad
              x_{uij} = x_{ui} - x_{uj}, \qquad \sigma(x) = \frac{1}{1 + e^{-x}},

    and maximises the posterior of the parameters $\Theta$ with a Gaussian
    prior, i.e. minimises over the triples $D_S = \{(u,i,j): i \in I_u^+,
    j \notin I_u^+\}$

    .. math:: J(\Theta) = \sum_{(u,i,j) \in D_S} -\ln \sigma(x_{uij})
              + \frac{\lambda}{2} \|\Theta\|^2 .

    $-\ln\sigma(x_{uij})$ is the binary cross-entropy
    $-[y \ln \hat y + (1 - y)\ln(1 - \hat y)]$ of chapter 4 with label
    $y = 1$ ("$i$ before $j$") and predicted probability
    $\hat y = \sigma(x_{uij})$.  As there, the derivative with respect to the
    logit is the prediction minus the label:

    .. math:: \frac{\partial}{\partial x_{uij}} \big(-\ln\sigma(x_{uij})\big)
              = \sigma(x_{uij}) - 1 = -z, \qquad z = \sigma(-x_{uij}) .

    The chain rule with $\partial x_{uij}/\partial p_u = q_i - q_j$,
    $\partial x_{uij}/\partial q_i = p_u$, $\partial x_{uij}/\partial q_j =
    -p_u$ and $\partial x_{uij}/\partial b_i = 1 = -\partial x_{uij}/\partial
    b_j$ gives the SGD steps for one sampled triple (all right-hand sides use
    the values before the step):

    .. math::
        p_u &\leftarrow p_u + \eta\,\big(z\,(q_i - q_j) - \lambda p_u\big), \\
        q_i &\leftarrow q_i + \eta\,\big(z\,p_u - \lambda q_i\big), \qquad
        q_j \leftarrow q_j + \eta\,\big(-z\,p_u - \lambda q_j\big), \\
        b_i &\leftarrow b_i + \eta\,(z - \lambda b_i), \qquad
        b_j \leftarrow b_j + \eta\,(-z - \lambda b_j) .

    A triple already well ordered ($x_{uij} \gg 0$) has $z \approx 0$ and
    barely moves anything.  Triples are drawn as in Rendle et al.'s LearnBPR:
    $(u, i)$ uniformly (with replacement) from the positive interactions and
    $j$ uniformly from the items that are not positives of $u$ (rejection
    sampling).  A user who touched every item has no negative item and
    takes no part.  ``sampling="popularity"`` draws $j$ as ``implicit``
    does, which makes popular items negatives more often and so pushes them
    down the lists.

    The loop is sequential, so it is compiled with numba when available
    (a NumPy fallback runs the same updates more slowly).

    Taught in chapter 3.

    References
    ----------
    .. [1] S. Rendle, C. Freudenthaler, Z. Gantner and L. Schmidt-Thieme,
       "BPR: Bayesian personalized ranking from implicit feedback", UAI 2009,
       arXiv:1205.2618.

    Examples
    --------
    >>> import pandas as pd
    >>> from mathrec.ranking import BPR
    >>> df = pd.DataFrame({"user": [1, 1, 2, 2, 3, 3, 4],
    ...                    "item": ["a", "b", "a", "b", "a", "c", "a"],
    ...                    "rating": 1.0})
    >>> model = BPR(n_factors=4, n_epochs=200, random_state=0).fit(df)
    >>> model.recommend(4, n=2)["item"].tolist()  # b is touched with a more often
    ['b', 'c']
    >>> bool(model.predict(1, "a") > model.predict(1, "c"))
    True
    """

    def __init__(
        self,
        n_factors=64,
        n_epochs=100,
        learning_rate=0.05,
        regularization=0.01,
        *,
        item_bias=True,
        sampling="uniform",
        min_rating=None,
        init_std_dev=0.1,
        random_state=None,
    ):
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.item_bias = item_bias
        self.sampling = sampling
        self.min_rating = min_rating
        self.init_std_dev = init_std_dev
        self.random_state = random_state

    def fit(self, ratings, *, _compiled=True):
        """Learn the factors (and item biases) by SGD over sampled triples; returns ``self``.

        Parameters
        ----------
        ratings : pandas.DataFrame or mathrec.data.Interactions
            Interactions, columns ``user, item, rating``; every row is a
            positive unless ``min_rating`` says otherwise.
        """
        import pandas as pd

        k = check_positive_int(self.n_factors, "n_factors")
        n_epochs = check_positive_int(self.n_epochs, "n_epochs", minimum=0)
        lr = _check_float(self.learning_rate, "learning_rate", strict=True)
        reg = _check_float(self.regularization, "regularization")
        init_std = _check_float(self.init_std_dev, "init_std_dev", strict=True)
        check_bool(self.item_bias, "item_bias")
        check_choice(self.sampling, "sampling", ("uniform", "popularity"))
        min_rating = _check_min_rating(self.min_rating)
        rng = check_random_state(self.random_state)
        inter = self._start_fit(ratings)
        n_u, n_i = inter.n_users, inter.n_items

        keep = _positives(inter, min_rating)
        pu = inter.user_idx[keep].astype(np.int64)
        pi = inter.item_idx[keep].astype(np.int64)
        order = np.argsort(pu * n_i + pi, kind="stable")
        pu, pi = pu[order], pi[order]
        keys = pu * n_i + pi
        counts = np.bincount(pu, minlength=n_u)
        # a user with every item positive has no negative to sample
        usable = counts[pu] < n_i
        pu_s, pi_s = pu[usable], pi[usable]

        P = rng.normal(0.0, init_std, size=(n_u, k))
        Q = rng.normal(0.0, init_std, size=(n_i, k))
        b = np.zeros(n_i)
        epoch_fn = bpr_kernel(_compiled)
        use_bias = bool(self.item_bias)
        rows = []
        for epoch in range(1, n_epochs + 1):
            if pu_s.size == 0:
                rows.append((epoch, np.nan))
                continue
            users, pos, neg = _sample_triples(
                rng, pu_s, pi_s, keys, n_i, pu_s.size, self.sampling
            )
            # an overflow is reported once, by _check_diverged, not as NumPy
            # warnings
            with np.errstate(over="ignore", invalid="ignore"):
                total = epoch_fn(users, pos, neg, P, Q, b, lr, reg, use_bias)
            _check_diverged(
                "BPR",
                epoch,
                total,
                (P, Q, b),
                f"learning_rate={lr!r} is too large for regularization={reg!r} "
                "(each step multiplies a parameter by 1 - learning_rate * "
                "regularization, which must stay in (0, 1)): lower "
                "learning_rate "
                "(the default is 0.05)",
            )
            rows.append((epoch, total / max(users.size, 1)))
        P[counts == 0] = 0.0
        self.user_factors_ = P
        self.item_factors_ = Q
        self.item_bias_ = b
        self.history_ = pd.DataFrame(rows, columns=["iteration", "objective"])
        return self

    def _item_offset(self):
        return self.item_bias_

    def _score_block(self, user_indices):
        """Scores of all items for a block of users: ``P[block] @ Q.T + b``."""
        return (
            self.user_factors_[np.asarray(user_indices)] @ self.item_factors_.T
            + self.item_bias_
        )

    def predict(self, users, items):
        r"""Ranking scores $x_{ui} = p_u^\top q_i + b_i$ for (user, item) pairs.

        Parameters
        ----------
        users, items : array-like of ids (or two scalars)
            The pairs, in the caller's ids.

        Returns
        -------
        ndarray of float (a float for two scalars)
            Scores on no particular scale: only their order within a user
            means something.

        Raises
        ------
        KeyError
            (:class:`mathrec.data.UnknownUserError` / ``UnknownItemError``)
            for an id unseen in training.
        """
        u, i, scalar = self._pair_indices(users, items, "raise")
        out = (
            rowwise_dot(self.user_factors_, self.item_factors_, u, i)
            + self.item_bias_[i]
        )
        return float(out[0]) if scalar else out


# ======================================================================= EASE
def _format_bytes(n):
    return f"{n:,} bytes ({n / 2**30:.2f} GiB)"


class EASE(RecommenderMixin):
    r"""Embarrassingly shallow autoencoder: a closed-form item-item model (Steck 2019).

    Parameters
    ----------
    regularization : float, default 500.0
        $\lambda > 0$, the L2 penalty on the weights $B$.
    binary : bool, default True
        True: $X$ holds 1 for every positive interaction; False: $X$ holds the
        ratings themselves.
    min_rating : float or None, default None
        An interaction enters $X$ when its rating is $\ge$ ``min_rating``;
        None keeps every observed interaction.
    max_memory : int, float or None, default 2**30
        Budget in bytes for the dense item-item matrix, $8 n_\text{items}^2$
        bytes; ``fit`` refuses data with more items than the budget allows
        (2**30 bytes, 1 GiB, allows 11,585 items).  None: no limit.

    Attributes
    ----------
    weights_ : ndarray of shape (n_items, n_items)
        $B$, with zero diagonal.
    interactions_ : mathrec.data.Interactions
        The training data.

    Raises
    ------
    ValueError
        From ``fit``, if $8 n_\text{items}^2$ bytes exceed ``max_memory``.

    Notes
    -----
    EASE predicts the user-item matrix $X$ (users x items) from itself,
    $\hat X = X B$, with an item-item weight matrix $B$ whose diagonal is
    forced to zero (otherwise $B = I$ would be a perfect, useless answer):

    .. math:: \min_B \; \|X - X B\|_F^2 + \lambda \|B\|_F^2
              \quad \text{subject to} \quad \operatorname{diag}(B) = 0 .

    With a vector $\gamma$ of Lagrange multipliers for the $n$ constraints,
    the Lagrangian is $\|X - XB\|_F^2 + \lambda\|B\|_F^2 +
    2\gamma^\top \operatorname{diag}(B)$, and setting its gradient with
    respect to $B$ to zero gives, with $G = X^\top X$,

    .. math::
        \begin{aligned}
        (G + \lambda I) B &= G - \operatorname{diagMat}(\gamma) \\
        \;\Longrightarrow\;
        B &= I - P\,\operatorname{diagMat}(\lambda \mathbf 1 + \gamma),
        \qquad P = (G + \lambda I)^{-1} .
        \end{aligned}

    The constraint $B_{jj} = 0$ reads $1 - P_{jj}(\lambda + \gamma_j) = 0$,
    so $\lambda + \gamma_j = 1 / P_{jj}$ and

    .. math:: B = I - P \,\operatorname{diagMat}\big(1 / \operatorname{diag}(P)\big),
              \qquad B_{ij} = -P_{ij} / P_{jj} \;(i \ne j), \quad B_{jj} = 0 .

    The score of item $i$ for user $u$ is $\hat x_{ui} = \sum_j x_{uj} B_{ji}$.

    Memory: $G$, $P$ and $B$ are dense $n \times n$ matrices of float64,
    $8 n^2$ bytes each (for the $n = 9{,}724$ items of ml-latest-small,
    756 MB; for the 26,744 items of ml-20m, 5.7 GB).  ``fit`` builds $G$ in
    column blocks from the sparse $X$ (never densifying $X$), inverts it in
    place (LAPACK's LU, ``scipy.linalg.inv(..., overwrite_a=True)``) and turns
    $P$ into $B$ in place, so all three share one buffer of $8 n^2$ bytes;
    the rest (the sparse $X$, one column block of at most 32 MiB) is small
    beside it.  Beyond the budget,
    keep the items with enough interactions (the rest are rarely
    recommended anyway), or use a factor model (:class:`BPR`,
    :class:`mathrec.factorization.ImplicitALS`), whose memory grows as
    $n k$.  The inverse costs $O(n^3)$ time.

    Taught in chapter 3.

    References
    ----------
    .. [1] H. Steck, "Embarrassingly shallow autoencoders for sparse data",
       WWW 2019, doi:10.1145/3308558.3313710.

    Examples
    --------
    >>> import pandas as pd
    >>> from mathrec.ranking import EASE
    >>> df = pd.DataFrame({"user": [1, 1, 2, 2, 3, 3, 4],
    ...                    "item": ["a", "b", "a", "b", "a", "c", "a"],
    ...                    "rating": 1.0})
    >>> model = EASE(regularization=1.0).fit(df)
    >>> model.weights_.diagonal().tolist()
    [0.0, 0.0, 0.0]
    >>> model.recommend(4, n=2)["item"].tolist()  # b is touched with a more often
    ['b', 'c']
    """

    def __init__(
        self,
        regularization=500.0,
        *,
        binary=True,
        min_rating=None,
        max_memory=2**30,
    ):
        self.regularization = regularization
        self.binary = binary
        self.min_rating = min_rating
        self.max_memory = max_memory

    def _check_memory(self, n_items):
        budget = self.max_memory
        if budget is None:
            return
        budget = check_real(budget, "max_memory", low=0, closed="neither")
        need = 8 * n_items**2
        if need > budget:
            raise ValueError(
                f"EASE needs a dense item-item matrix of n_items**2 * 8 = "
                f"{n_items}**2 * 8 = "
                f"{_format_bytes(need)}, more than max_memory={budget!r} "
                f"({_format_bytes(int(budget))}). Keep "
                "fewer items (those with the most interactions), use a factor "
                "model "
                "(BPR, ImplicitALS), or raise max_memory if the machine has "
                "the memory"
            )

    def fit(self, ratings):
        """Compute $B$ in closed form; returns ``self``.

        Parameters
        ----------
        ratings : pandas.DataFrame or mathrec.data.Interactions
            Interactions, columns ``user, item, rating``.
        """
        lam = _check_float(self.regularization, "regularization", strict=True)
        if not isinstance(self.binary, (bool, np.bool_)):
            raise TypeError(
                f"binary must be True or False; got {self.binary!r}"
            )
        min_rating = _check_min_rating(self.min_rating)
        inter = as_interactions(ratings)
        n = inter.n_items
        self._check_memory(n)
        keep = _positives(inter, min_rating)
        values = (
            np.ones(int(keep.sum()))
            if self.binary
            else inter.ratings[keep].astype(float)
        )
        X = sp.csr_matrix(
            (values, (inter.user_idx[keep], inter.item_idx[keep])),
            shape=inter.shape,
        )
        Xc = X.tocsc()
        XT = X.T.tocsr()
        # G = X^T X, dense, built in column blocks so that X is never dense
        G = np.empty((n, n))
        # a block of X (n_users x step) and its product (n_items x step) fit the
        # chunk
        step = max(1, CHUNK_FLOATS // max(1, inter.n_users, n))
        for a in range(0, n, step):
            c = min(a + step, n)
            G[:, a:c] = XT @ Xc[:, a:c].toarray()
        G[np.diag_indices(n)] += lam
        # G is symmetric, so G.T is the same matrix in Fortran order: inverted
        # in place
        P = scipy.linalg.inv(G.T, overwrite_a=True, check_finite=False).T
        del G
        d = P.diagonal().copy()
        P /= -d[np.newaxis, :]
        P[np.diag_indices(n)] = 0.0
        self.interactions_ = inter
        self.users_ = inter.users
        self.items_ = inter.items
        self._X_ = X
        self._csr_cache_ = None
        self.weights_ = P
        return self

    def _score_items(self, user_index):
        X = self._X_
        row = slice(X.indptr[user_index], X.indptr[user_index + 1])
        return X.data[row] @ self.weights_[X.indices[row]]

    def _score_block(self, user_indices):
        """Scores of all items for a block of users: ``X[block] @ B``."""
        return np.asarray(self._X_[np.asarray(user_indices)] @ self.weights_)

    def predict(self, users, items):
        r"""Scores $\hat x_{ui} = \sum_j x_{uj} B_{ji}$ for (user, item) pairs.

        Parameters
        ----------
        users, items : array-like of ids (or two scalars)
            The pairs, in the caller's ids.

        Returns
        -------
        ndarray of float (a float for two scalars)

        Raises
        ------
        KeyError
            (:class:`mathrec.data.UnknownUserError` / ``UnknownItemError``)
            for an id unseen in training.
        """
        u, i, scalar = self._pair_indices(users, items)
        rows = self._X_[u]
        pair = np.repeat(np.arange(len(u)), np.diff(rows.indptr))
        out = np.bincount(
            pair,
            rows.data * self.weights_[rows.indices, i[pair]],
            minlength=len(u),
        ).astype(float)
        return float(out[0]) if scalar else out
