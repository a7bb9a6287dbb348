r"""Click-through prediction: one-hot features, logistic regression, calibration.

Taught in chapter 6 (source section 6, 实际应用场景; the advertising scenario
of section 6.8), which predicts clicks on MovieLens with the cross-entropy of
chapter 4.

* :func:`one_hot_features` turns categorical columns (user, item, genre, ...)
  and their crosses (user × genre) into a sparse CSR design matrix;
* :class:`LogisticCTR` is logistic regression trained by minimising the
  L2-regularised binary cross-entropy
  (:func:`mathrec.losses.binary_cross_entropy` from logits) with L-BFGS;
* :func:`calibration_table` and :func:`expected_calibration_error` check
  whether predicted probabilities match observed click rates.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._base import NotFittedError, ParamsMixin, _one_blas_thread
from ._validation import (
    check_bool,
    check_positive_int,
    check_real,
    check_unique_columns,
)
from .losses import binary_cross_entropy

__all__ = [
    "ConvergenceWarning",
    "LogisticCTR",
    "calibration_table",
    "expected_calibration_error",
    "one_hot_features",
]


class ConvergenceWarning(UserWarning):
    """L-BFGS stopped (iteration limit) before the gradient test was met."""


# ----------------------------------------------------------------------------
# features
# ----------------------------------------------------------------------------
def _is_listlike(v):
    return isinstance(v, (list, tuple, set, frozenset, np.ndarray))


def _block_pairs(frame, block):
    """(row, key) pairs of one feature block; list-valued cells are multi-hot."""
    part = pd.DataFrame({c: frame[c].to_numpy() for c in block})
    part.insert(0, "_row", np.arange(len(frame)))
    for c in block:
        col = part[c]
        if col.map(_is_listlike).any():
            part[c] = col.map(lambda v: list(v) if _is_listlike(v) else [v])
            part = part.explode(c, ignore_index=True)
            part = part[part[c].notna()]
    keys = "×".join(block) + "=" + part[block[0]].astype(str)
    for c in block[1:]:
        keys = keys + "×" + part[c].astype(str)
    return part["_row"].to_numpy(dtype=np.int64), keys.to_numpy(dtype=object)


def one_hot_features(frame, columns, crosses=(), *, vocabulary=None):
    r"""One-hot (and multi-hot) encode categorical columns and their crosses, as CSR.

    Taught in chapter 6.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per impression (a user shown an item).
    columns : sequence of str
        Columns to encode one-hot: one binary feature per distinct value,
        named ``"column=value"``. A cell holding a list (e.g. the genres of a
        movie) sets one feature per element (multi-hot); an empty list sets
        none.
    crosses : sequence of tuple of str, default ()
        Feature crosses, e.g. ``[("user", "genres")]``: one feature per
        combination of values, named ``"user×genres=7×Comedy"``. With a list
        column, every element is crossed.
    vocabulary : dict or None, default None
        Feature name -> column index, as returned by an earlier call (on the
        training data). Given, the columns are those of the vocabulary and
        values it does not contain are ignored (an unseen user gets an all-zero
        user block); None builds the vocabulary from ``frame``, in sorted order
        within each block.

    Returns
    -------
    X : scipy.sparse.csr_matrix, shape (n_rows, n_features)
        Entries 1.0 where a feature is present.
    vocabulary : dict
        Feature name -> column index.

    Raises
    ------
    ValueError
        If ``frame`` is not a DataFrame, a column is missing or its name
        occurs twice, a cell is missing (NaN/None; a missing category is not
        guessed: fill it, e.g. with ``"unknown"``, to give it a feature of its
        own), a cross has fewer than two columns, or no block is given.

    Notes
    -----
    Row :math:`k` of :math:`X` is :math:`\mathbf x_k`; a logistic model
    scores it as :math:`z_k = b + \mathbf w^\top \mathbf x_k`. With one-hot
    ``user`` and ``item`` blocks this is :math:`b + w_u + w_i`, a
    user and an item bias on the logit scale; a ``user×genre`` cross adds
    :math:`w_{u,g}`, a per-user taste for each genre: the only
    *personalised* part of the model.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": [1, 2], "item": ["a", "b"],
    ...                    "genres": [["Comedy"], ["Comedy", "Drama"]]})
    >>> X, vocab = one_hot_features(df, ["user", "item"],
    ...                             crosses=[("user", "genres")])
    >>> list(vocab)
    ['user=1', 'user=2', 'item=a', 'item=b', 'user×genres=1×Comedy',
     'user×genres=2×Comedy', 'user×genres=2×Drama']
    >>> X.toarray()
    array([[1., 0., 1., 0., 1., 0., 0.],
           [0., 1., 0., 1., 0., 1., 1.]])
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(
            f"frame must be a pandas DataFrame, got {type(frame).__name__}"
        )
    if isinstance(columns, str):
        columns = [columns]
    blocks = [(str(c),) for c in columns]
    for cross in crosses:
        if isinstance(cross, str) or len(cross) < 2:
            raise ValueError(
                f"a cross needs at least two columns, got {cross!r}"
            )
        blocks.append(tuple(str(c) for c in cross))
    if not blocks:
        raise ValueError("give at least one column or cross to encode")
    for block in blocks:
        for c in block:
            if c not in frame.columns:
                raise ValueError(
                    f"column {c!r} is not in frame (columns: "
                    f"{list(frame.columns)})"
                )
    used = list(dict.fromkeys(c for block in blocks for c in block))
    check_unique_columns(frame, used, "frame")
    for c in used:
        col = frame[c]
        missing = (pd.isna(col) & ~col.map(_is_listlike)).to_numpy(dtype=bool)
        if missing.any():
            rows = frame.index[missing].tolist()
            shown = ", ".join(map(repr, rows[:10])) + (
                f", ... ({len(rows) - 10} more)" if len(rows) > 10 else ""
            )
            raise ValueError(
                f"column {c!r} has {len(rows)} missing "
                f"value{'s' if len(rows) > 1 else ''} "
                f"(NaN/None) at rows [{shown}]; fill them (e.g. "
                f"frame[{c!r}].fillna('unknown'), "
                "which gives them a feature of their own) or drop those rows"
            )
    pairs = [_block_pairs(frame, b) for b in blocks]
    if vocabulary is None:
        vocabulary, n = {}, 0
        for _, keys in pairs:
            for k in sorted(set(keys)):
                vocabulary[k] = n
                n += 1
    rows, cols = [], []
    for r, keys in pairs:
        idx = (
            pd.Series(keys, dtype=object).map(vocabulary).to_numpy(dtype=float)
        )
        known = ~np.isnan(idx)
        rows.append(r[known])
        cols.append(idx[known].astype(np.int64))
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    X = sp.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(len(frame), len(vocabulary))
    )
    X.sum_duplicates()
    X.data[:] = 1.0  # a repeated list element still sets its feature once
    return X, dict(vocabulary)


# ----------------------------------------------------------------------------
# the model
# ----------------------------------------------------------------------------
def _sigmoid(z):
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


#: Largest feature magnitude that ``LogisticCTR.fit`` accepts: products of two
#: such numbers (logits, gradients, curvature) still fit in float64.
_MAX_ABS_FEATURE = 1e100


def _check_X(X, name="X", n_features=None):
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=float)
        data = X.data
    else:
        try:
            X = np.asarray(X, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} must be a 2-D array or sparse matrix of numbers"
            ) from exc
        data = X
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} has no rows")
    bad = ~np.isfinite(data)
    if bad.any():
        raise ValueError(
            f"{name} contains a non-finite value ({float(data[bad].flat[0])!r})"
        )
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the model was fitted with "
            f"{n_features}"
        )
    return X


class LogisticCTR(ParamsMixin):
    r"""Logistic regression for click-through prediction (L2, L-BFGS).

    Taught in chapter 6 (``notebooks/ch06_applications.ipynb``), which predicts
    clicks on MovieLens and compares it with a popularity baseline and with
    scikit-learn.

    Parameters
    ----------
    alpha : float, default 1e-4
        L2 strength :math:`\lambda \ge 0` on the weights (not the intercept).
    fit_intercept : bool, default True
        Learn an unpenalised bias :math:`b`.
    tol : float, default 1e-8
        L-BFGS stops when every component of the projected gradient is below
        ``tol`` (``gtol`` of :func:`scipy.optimize.minimize`).
    max_iter : int, default 1000
        Maximum number of L-BFGS iterations; reaching it warns with
        :class:`ConvergenceWarning`.

    Attributes
    ----------
    coef_ : numpy.ndarray, shape (n_features,)
        The weights :math:`\mathbf w`.
    intercept_ : float
        The bias :math:`b` (0.0 without ``fit_intercept``).
    n_features_in_ : int
    n_iter_ : int
        L-BFGS iterations used.
    loss_ : float
        The minimised objective :math:`J(\mathbf w, b)`.
    loss_curve_ : list of float
        :math:`J` after each iteration (starting from :math:`\mathbf w = 0`).

    Notes
    -----
    The click probability of impression :math:`k` with features
    :math:`\mathbf x_k` is :math:`\hat y_k = \sigma(z_k)`,
    :math:`z_k = \mathbf w^\top\mathbf x_k + b`,
    :math:`\sigma(z) = 1/(1+e^{-z})`. Training minimises the mean
    binary cross-entropy plus an L2 penalty,

    .. math::

        J(\mathbf w, b) = \frac1n\sum_{k=1}^{n}
        \bigl[\operatorname{softplus}(z_k) - y_k z_k\bigr]
        + \frac{\lambda}{2}\lVert\mathbf w\rVert^2,

    computed from the logits (no :math:`\log 0`), with gradient

    .. math::

        \nabla_{\mathbf w} J = \frac1n X^\top(\sigma(X\mathbf w + b) - \mathbf y)
        + \lambda\mathbf w, \qquad
        \frac{\partial J}{\partial b} = \frac1n\sum_k (\hat y_k - y_k).

    :math:`J` is convex (strictly, for :math:`\lambda > 0`), so any local
    minimum is the global one. **Solver.** Full-batch L-BFGS
    (:func:`scipy.optimize.minimize`, ``method="L-BFGS-B"``) with this
    analytic gradient. Newton's method (IRLS) would need the
    :math:`d\times d` Hessian :math:`X^\top S X/n + \lambda I`,
    :math:`S = \operatorname{diag}(\hat y_k(1-\hat y_k))`, and a solve with
    it at every step; with one-hot users, items and crosses :math:`d` runs
    to tens of thousands, while L-BFGS needs only two sparse products with
    :math:`X` per iteration and :math:`O(md)` memory.

    **Equivalence with scikit-learn.**
    :class:`sklearn.linear_model.LogisticRegression` (``penalty="l2"``)
    minimises :math:`\tfrac12\lVert\mathbf w\rVert^2 + C\sum_k \ell_k`.
    Dividing :math:`J` by :math:`\lambda` gives
    :math:`\tfrac12\lVert\mathbf w\rVert^2 + \frac{1}{\lambda n}\sum_k\ell_k`:
    the same minimiser when :math:`C = 1/(\lambda n)`.

    References
    ----------
    .. [1] H. B. McMahan et al., "Ad click prediction: a view from the
       trenches", KDD 2013, https://doi.org/10.1145/2487575.2488200
    .. [2] X. He et al., "Practical lessons from predicting clicks on ads at
       Facebook", ADKDD 2014, https://doi.org/10.1145/2648584.2648589
    .. [3] D. C. Liu and J. Nocedal, "On the limited memory BFGS method for
       large scale optimization", Mathematical Programming 45, 1989,
       https://doi.org/10.1007/BF01589116

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    >>> y = np.array([1, 0, 1, 1])
    >>> model = LogisticCTR(alpha=0.1, fit_intercept=False).fit(X, y)
    >>> model.coef_.round(3)
    array([0.   , 1.178])
    >>> model.predict_proba(X)[:, 1].round(3)
    array([0.5  , 0.5  , 0.764, 0.764])
    """

    def __init__(
        self, alpha=1e-4, *, fit_intercept=True, tol=1e-8, max_iter=1000
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def _check_params(self):
        check_real(self.alpha, "alpha", low=0)
        check_real(self.tol, "tol", low=0, closed="neither")
        check_positive_int(self.max_iter, "max_iter")
        check_bool(self.fit_intercept, "fit_intercept")

    def _objective(self, params, X, y):
        """J and its gradient at params = (w, b) (b last, present iff fit_intercept)."""
        n, d = X.shape
        w = params[:d]
        b = params[d] if self.fit_intercept else 0.0
        z = X @ w + b
        loss = binary_cross_entropy(y, logits=z) + 0.5 * self.alpha * float(
            w @ w
        )
        r = (_sigmoid(z) - y) / n
        grad_w = X.T @ r + self.alpha * w
        if self.fit_intercept:
            return loss, np.append(grad_w, r.sum())
        return loss, np.asarray(grad_w)

    def fit(self, X, y):
        """Fit the weights by minimising the regularised cross-entropy.

        Parameters
        ----------
        X : array_like or sparse matrix, shape (n_samples, n_features)
            Finite features (e.g. from :func:`one_hot_features`).
        y : array_like, shape (n_samples,)
            Clicks: 0 or 1, both present.

        Returns
        -------
        self

        Raises
        ------
        TypeError
            If a hyper-parameter has the wrong type (the message names it).
        ValueError
            On a bad hyper-parameter value, bad ``X`` or ``y``; if a feature's magnitude exceeds ``1e100``
            (its logits overflow); or if L-BFGS cannot take a single step from
            w = 0 because the features are badly scaled
            (standardise them).
        """
        from scipy.optimize import minimize

        self._check_params()
        X = _check_X(X)
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(
                f"y must be 1-D with one label per row of X ({X.shape[0]}), "
                f"got shape {y.shape}"
            )
        try:
            y = y.astype(float)
        except (TypeError, ValueError) as exc:
            raise ValueError("y must hold the numbers 0 and 1") from exc
        bad = (y != 0) & (y != 1)
        if bad.any():
            raise ValueError(
                f"y must hold only 0 and 1, got {float(y[bad][0])!r}"
            )
        if y.min() == y.max():
            raise ValueError(
                f"y holds only the label {int(y[0])}: the maximum-likelihood "
                f"intercept is "
                f"{'+' if y[0] == 1 else '-'}infinity; a click model needs "
                f"clicks and non-clicks"
            )
        scale = float(abs(X).max())
        if scale > _MAX_ABS_FEATURE:
            raise ValueError(
                f"X must hold features of magnitude <= {_MAX_ABS_FEATURE:g}; "
                f"got a largest |x| of "
                f"{scale:.3g}, whose logits and gradients overflow float64; "
                f"rescale X (e.g. divide "
                "each column by its standard deviation) before fit"
            )
        d = X.shape[1]
        x0 = np.zeros(d + int(bool(self.fit_intercept)))
        curve = [self._objective(x0, X, y)[0]]

        def record(intermediate_result):
            curve.append(float(intermediate_result.fun))

        # L-BFGS's own vector work is memory-bound: BLAS threads only add
        # overhead (many times slower on a busy machine).
        with _one_blas_thread():
            res = minimize(
                self._objective,
                x0,
                args=(X, y),
                jac=True,
                method="L-BFGS-B",
                callback=record,
                options={
                    "maxiter": self.max_iter,
                    "gtol": self.tol,
                    "ftol": 0.0,
                },
            )
        if res.status != 0 and res.nit == 0:
            raise ValueError(
                "L-BFGS could not take a first step from w = 0 ("
                + str(res.message).strip()
                + f"): the features are too large for the optimiser (largest |x| = {scale:.3g}); "
                "rescale X (e.g. divide each column by its standard deviation) "
                "before fit"
            )
        if res.nit >= self.max_iter:
            warnings.warn(
                f"L-BFGS reached max_iter={self.max_iter} before the gradient "
                f"fell below "
                f"tol={self.tol}; raise max_iter or tol",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.coef_ = res.x[:d].copy()
        self.intercept_ = float(res.x[d]) if self.fit_intercept else 0.0
        self.n_features_in_ = d
        self.n_iter_ = int(res.nit)
        self.loss_ = float(res.fun)
        self.loss_curve_ = curve
        return self

    def _check_fitted(self):
        if not hasattr(self, "coef_"):
            raise NotFittedError(
                "this LogisticCTR is not fitted yet: call fit(X, y) first"
            )

    def __sklearn_is_fitted__(self):
        """scikit-learn's ``check_is_fitted`` asks this: has ``fit`` run?"""
        return hasattr(self, "coef_")

    def decision_function(self, X):
        r"""The logits :math:`z = X\mathbf w + b`, shape (n_samples,)."""
        self._check_fitted()
        X = _check_X(X, n_features=self.n_features_in_)
        return np.asarray(X @ self.coef_ + self.intercept_, dtype=float).ravel()

    def predict_proba(self, X):
        r"""Probabilities, shape (n_samples, 2): column 1 is :math:`P(\text{click}) = \sigma(z)`."""
        p = _sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X):
        """Predicted labels: 1 where the click probability exceeds 0.5."""
        return (self.decision_function(X) > 0).astype(int)


# ----------------------------------------------------------------------------
# calibration
# ----------------------------------------------------------------------------
def _check_labels_probs(y, p, n_bins):
    check_positive_int(n_bins, "n_bins")
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.ndim != 1 or p.shape != y.shape:
        raise ValueError(
            f"y and p must be 1-D of the same length, got shapes {y.shape} and "
            f"{p.shape}"
        )
    if y.size == 0:
        raise ValueError("y is empty")
    for name, a in (("y", y), ("p", p)):
        bad = ~np.isfinite(a) | (a < 0) | (a > 1)
        if bad.any():
            raise ValueError(
                f"{name} must lie in [0, 1], got {float(a[bad][0])!r}"
            )
    return y, p


def calibration_table(y, p, n_bins=10):
    r"""Predicted probability against observed click rate, in equal-width bins.

    Taught in chapter 6.

    Parameters
    ----------
    y : array_like, shape (n,)
        Observed clicks (0/1).
    p : array_like, shape (n,)
        Predicted click probabilities in :math:`[0, 1]`.
    n_bins : int, default 10
        Bins :math:`[0, \tfrac1B), [\tfrac1B, \tfrac2B), \dots,
        [\tfrac{B-1}{B}, 1]`.

    Returns
    -------
    pandas.DataFrame
        One row per non-empty bin: ``lower``, ``upper``, ``count``,
        ``mean_predicted`` (mean of ``p``), ``observed_rate`` (mean of ``y``).

    Raises
    ------
    TypeError
        If ``n_bins`` is not an integer.
    ValueError
        On shape mismatch, empty input, values outside :math:`[0, 1]` or NaN,
        or ``n_bins < 1``.

    Notes
    -----
    A model is calibrated when, among impressions given probability about
    :math:`p`, a fraction about :math:`p` is clicked: the points
    (``mean_predicted``, ``observed_rate``) lie on the diagonal. Equals
    :func:`sklearn.calibration.calibration_curve` with ``strategy="uniform"``
    (which returns the same two columns without the counts).

    Examples
    --------
    >>> calibration_table([0, 1, 1, 1], [0.1, 0.3, 0.8, 0.9], n_bins=2)
       lower  upper  count  mean_predicted  observed_rate
    0    0.0    0.5      2            0.20            0.5
    1    0.5    1.0      2            0.85            1.0
    """
    y, p = _check_labels_probs(y, p, n_bins)
    b = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    count = np.bincount(b, minlength=n_bins)
    sum_p = np.bincount(b, weights=p, minlength=n_bins)
    sum_y = np.bincount(b, weights=y, minlength=n_bins)
    keep = count > 0
    edges = np.arange(n_bins + 1) / n_bins
    return pd.DataFrame(
        {
            "lower": edges[:-1][keep],
            "upper": edges[1:][keep],
            "count": count[keep],
            "mean_predicted": sum_p[keep] / count[keep],
            "observed_rate": sum_y[keep] / count[keep],
        }
    )


def expected_calibration_error(y, p, n_bins=10):
    r"""Expected calibration error (ECE) over equal-width bins.

    Taught in chapter 6.

    Parameters
    ----------
    y, p, n_bins
        As in :func:`calibration_table`.

    Returns
    -------
    float
        :math:`\mathrm{ECE} = \sum_{b} \frac{n_b}{n}\,
        \bigl|\bar y_b - \bar p_b\bigr|` over the non-empty bins :math:`b`,
        with :math:`n_b` impressions, observed rate :math:`\bar y_b` and mean
        prediction :math:`\bar p_b`. 0 for a perfectly calibrated model; in
        units of probability.

    Notes
    -----
    The ECE depends on the binning, and it says nothing about ranking: a
    model predicting the overall click rate for everyone has ECE near 0 and
    an AUC of 0.5. Read it together with the log loss and the AUC.

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration of
       modern neural networks", ICML 2017,
       https://proceedings.mlr.press/v70/guo17a.html

    Examples
    --------
    >>> y, p = [0, 1, 1, 1], [0.1, 0.3, 0.8, 0.9]
    >>> round(expected_calibration_error(y, p, n_bins=2), 4)
    0.225
    """
    t = calibration_table(y, p, n_bins)
    n = t["count"].sum()
    return float(
        np.sum(
            t["count"] / n * np.abs(t["observed_rate"] - t["mean_predicted"])
        )
    )
