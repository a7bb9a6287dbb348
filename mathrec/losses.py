"""Losses for rating prediction and click prediction.

Chapter 4 of the book (source section 4.1.3 and 4.3.3, 深度学习损失函数) derives
them and works the source's example; later chapters train and evaluate models
with them.

* regression (a rating): :func:`mse`, :func:`rmse`, :func:`mae`, and the
  source's :func:`half_sse` (:math:`\\tfrac12\\sum\\sum`, a sum, not a mean);
* classification (a click, a class): :func:`binary_cross_entropy` and
  :func:`cross_entropy`, from probabilities (clipped) or from logits
  (numerically stable for logits in the thousands).
"""

from __future__ import annotations

import math

import numpy as np

from mathrec._validation import check_array, check_real

__all__ = [
    "binary_cross_entropy",
    "cross_entropy",
    "half_sse",
    "mae",
    "mse",
    "rmse",
]


# ----------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------
def _as_array(x, name):
    return check_array(x, name, purpose="a loss needs at least one value")


def _same_shape(y_true, y_pred, names=("y_true", "y_pred")):
    a = _as_array(y_true, names[0])
    b = _as_array(y_pred, names[1])
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got "
            f"{a.shape} and {b.shape}"
        )
    return a, b


def _differences(a, b):
    """``b - a`` as ``(d, c)`` with ``b - a == c * d``, safe from overflow and underflow.

    Inputs of ordinary magnitude give ``c = 1`` and the plain difference, so
    results are bit-identical to the direct formula; entries beyond
    ``2**400`` (or all below ``2**-400``) are first scaled by a power of two,
    which is exact, so that squares and sums of ``d`` stay finite and
    non-zero.
    """
    top = max(float(np.abs(a).max()), float(np.abs(b).max()))
    if top == 0.0 or 2.0**-400 <= top <= 2.0**400:
        return b - a, 1.0
    e = int(np.frexp(top)[1]) - 1  # top / 2**e lies in [1, 2)
    return np.ldexp(b, -e) - np.ldexp(a, -e), math.ldexp(1.0, e)


def _finite(value, name):
    """``value`` as a float; an error (not ``inf``) when it exceeds float64's range."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(
            f"the {name} of these values exceeds float64's range (about "
            f"1.8e308); "
            "rescale y_true and y_pred (e.g. divide both by a constant)"
        )
    return value


def _check_unit_interval(arr, name):
    if np.any(arr < 0) or np.any(arr > 1):
        bad = arr[(arr < 0) | (arr > 1)].flat[0]
        raise ValueError(f"{name} must lie in [0, 1], got {float(bad)!r}")


def _log_base(base):
    base = check_real(base, "base", low=0, closed="neither")
    if base == 1:
        raise ValueError("base must be a number > 0 and != 1, got 1")
    return math.log(base)


def _check_eps(eps):
    check_real(eps, "eps", low=0, high=0.5, closed="neither")


def _one_of(y_prob, logits):
    if (y_prob is None) == (logits is None):
        raise ValueError("give exactly one of y_prob and logits")


# ----------------------------------------------------------------------------
# regression losses
# ----------------------------------------------------------------------------
def mse(y_true, y_pred):
    r"""Mean squared error.

    Taught in chapter 4 (source section 4.1.3).

    Parameters
    ----------
    y_true, y_pred : array_like
        True and predicted values, any shape, the same shape, finite, non-empty.

    Returns
    -------
    float
        :math:`\frac{1}{N}\sum_{k=1}^{N} (\hat y_k - y_k)^2` over all
        :math:`N` entries.

    Raises
    ------
    ValueError
        On a shape mismatch, empty input, a non-finite value, or a result
        beyond float64's range (huge inputs are scaled exactly, so only a
        result that is itself too large is refused).

    Notes
    -----
    For ratings, the sum runs over the **observed** pairs :math:`(u, i)` only:
    pass the observed ratings and their predictions as flat arrays, not the
    filled-in user-item matrix. Equals
    :func:`sklearn.metrics.mean_squared_error`. Compare :func:`half_sse`, the
    source's formula, which is half the *sum* and grows with :math:`N`.

    Examples
    --------
    >>> from mathrec.losses import mse
    >>> mse([4, 3, 5], [3.5, 3, 4])
    0.4166666666666667
    """
    a, b = _same_shape(y_true, y_pred)
    d, c = _differences(a, b)
    if c == 1.0:
        return _finite(np.mean(d**2), "mean squared error")
    return _finite(float(np.mean(d**2)) * c * c, "mean squared error")


def rmse(y_true, y_pred):
    r"""Root mean squared error, :math:`\sqrt{\mathrm{MSE}}`, in the units of the ratings.

    Taught in chapter 4; the accuracy measure of the rating-prediction chapters.

    Parameters
    ----------
    y_true, y_pred : array_like
        Same shape, finite, non-empty.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        On a shape mismatch, empty input, a non-finite value, or a result
        beyond float64's range (huge inputs are scaled exactly, so only a
        result that is itself too large is refused).

    Notes
    -----
    .. math:: \mathrm{RMSE} = \sqrt{\frac{1}{N}\sum_{k=1}^{N} (\hat y_k - y_k)^2}

    Examples
    --------
    >>> from mathrec.losses import rmse
    >>> rmse([4, 1, 5], [3, 3, 5])
    1.2909944487358056
    """
    a, b = _same_shape(y_true, y_pred)
    d, c = _differences(a, b)
    return _finite(float(np.sqrt(np.mean(d**2))) * c, "root mean squared error")


def mae(y_true, y_pred):
    r"""Mean absolute error, :math:`\frac1N\sum_k |\hat y_k - y_k|`.

    Taught in chapter 4.

    Parameters
    ----------
    y_true, y_pred : array_like
        Same shape, finite, non-empty.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        On a shape mismatch, empty input, a non-finite value, or a result
        beyond float64's range (huge inputs are scaled exactly, so only a
        result that is itself too large is refused).

    Examples
    --------
    >>> from mathrec.losses import mae
    >>> mae([4, 3, 5], [3.5, 3, 4])
    0.5
    """
    a, b = _same_shape(y_true, y_pred)
    d, c = _differences(a, b)
    return _finite(float(np.mean(np.abs(d))) * c, "mean absolute error")


def half_sse(y_true, y_pred):
    r"""Half the sum of squared errors, the source's "MSE" formula.

    Taught in chapter 4, which shows that this is not a mean.

    Parameters
    ----------
    y_true, y_pred : array_like
        Same shape (e.g. the :math:`N \times M` matrices of the source),
        finite, non-empty.

    Returns
    -------
    float
        :math:`\frac12 \sum_{i=1}^{N}\sum_{j=1}^{M} (\hat y_{ij} - y_{ij})^2`.

    Raises
    ------
    ValueError
        On a shape mismatch, empty input, a non-finite value, or a result
        beyond float64's range (huge inputs are scaled exactly, so only a
        result that is itself too large is refused).

    Notes
    -----
    The source (section 4.1.3) calls this the mean squared error. It is the
    squared-error *objective* often written for gradient descent -- the
    :math:`\frac12` cancels the 2 of the derivative,
    :math:`\partial/\partial \hat y_{ij} = \hat y_{ij} - y_{ij}` -- but it is
    half a **sum**: it grows with the number of entries, so it cannot compare
    data sets of different sizes. The mean is :math:`\mathrm{MSE} =
    \frac{2}{NM}\,\texttt{half\_sse}`. Both have the same minimiser.

    Examples
    --------
    >>> from mathrec.losses import half_sse, mse
    >>> y, y_hat = [[4, 3], [5, 1]], [[3, 3], [5, 2]]
    >>> half_sse(y, y_hat), mse(y, y_hat)
    (1.0, 0.5)
    """
    a, b = _same_shape(y_true, y_pred)
    d, c = _differences(a, b)
    return _finite(
        0.5 * float(np.sum(d**2)) * c * c, "half sum of squared errors"
    )


# ----------------------------------------------------------------------------
# classification losses
# ----------------------------------------------------------------------------
def _softplus(z):
    """log(1 + exp(z)) without overflow: max(z, 0) + log1p(exp(-|z|))."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def binary_cross_entropy(
    y_true, y_prob=None, *, logits=None, eps=1e-12, base=math.e
):
    r"""Mean binary cross-entropy (log loss) of click / no-click predictions.

    Taught in chapter 4 (source section 4.3.3: :math:`y = 1`,
    :math:`\hat y = 0.8` gives :math:`-\ln 0.8 \approx 0.2231`).

    Parameters
    ----------
    y_true : array_like
        Labels in :math:`[0, 1]` (usually 0 or 1; soft labels are allowed).
    y_prob : array_like, optional
        Predicted probabilities :math:`\hat y = P(y = 1)`, same shape as
        ``y_true``, in :math:`[0, 1]`; clipped to :math:`[\epsilon, 1-\epsilon]`
        so that a confident mistake costs :math:`-\log\epsilon` instead of
        infinity.
    logits : array_like, optional
        Instead of ``y_prob``: scores :math:`z` with :math:`\hat y =
        \sigma(z) = 1/(1+e^{-z})`. Give exactly one of ``y_prob`` and
        ``logits``. No clipping is needed here and the result is exact even for
        :math:`|z|` in the thousands.
    eps : float, default 1e-12
        The clipping margin for ``y_prob``.
    base : float, default e
        Base of the logarithm: ``e`` for nats, ``2`` for bits.

    Returns
    -------
    float
        The mean over all entries.

    Raises
    ------
    ValueError
        On a shape mismatch, empty input, NaN or infinity, labels or
        probabilities outside :math:`[0, 1]`, giving both or neither of
        ``y_prob`` and ``logits``, or a bad ``eps`` or ``base``.

    Notes
    -----
    .. math::

        \mathcal L = -\frac1N \sum_{k=1}^{N}
        \bigl[y_k \log \hat y_k + (1 - y_k) \log(1 - \hat y_k)\bigr].

    From a logit :math:`z`, :math:`-\log\sigma(z) = \operatorname{softplus}(-z)`
    and :math:`-\log(1-\sigma(z)) = \operatorname{softplus}(z)`, so
    :math:`\ell = y\operatorname{softplus}(-z) + (1-y)\operatorname{softplus}(z)
    = \operatorname{softplus}(z) - y z` with
    :math:`\operatorname{softplus}(z) = \max(z, 0) + \log(1 + e^{-|z|})`,
    which never overflows. Its gradient is :math:`\partial\ell/\partial z =
    \sigma(z) - y`: the error itself, which does not vanish when the model is
    confidently wrong (with squared error it would, by a factor
    :math:`\sigma'(z)`). Equals :func:`sklearn.metrics.log_loss` (natural log)
    when no probability needs clipping.

    References
    ----------
    .. [1] Goodfellow, Bengio and Courville, *Deep Learning*, MIT Press 2016,
       section 6.2.2, https://www.deeplearningbook.org/

    Examples
    --------
    >>> from mathrec.losses import binary_cross_entropy
    >>> round(binary_cross_entropy([1], [0.8]), 4)
    0.2231
    >>> round(binary_cross_entropy([1], [0.8], base=2), 4)
    0.3219
    >>> binary_cross_entropy([1, 0], logits=[-1000.0, 1000.0])
    1000.0
    """
    _one_of(y_prob, logits)
    _check_eps(eps)
    ln_base = _log_base(base)
    if logits is not None:
        y, z = _same_shape(y_true, logits, ("y_true", "logits"))
        _check_unit_interval(y, "y_true")
        # y softplus(-z) + (1 - y) softplus(z)  (= softplus(z) - y z, without
        # cancellation)
        losses = y * _softplus(-z) + (1.0 - y) * _softplus(z)
    else:
        y, p = _same_shape(y_true, y_prob, ("y_true", "y_prob"))
        _check_unit_interval(y, "y_true")
        _check_unit_interval(p, "y_prob")
        p = np.clip(p, eps, 1.0 - eps)
        losses = -(y * np.log(p) + (1.0 - y) * np.log1p(-p))
    return float(np.mean(losses) / ln_base)


def _log_softmax(z):
    m = np.max(z, axis=1, keepdims=True)
    shifted = z - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def cross_entropy(y_true, y_prob=None, *, logits=None, eps=1e-12, base=math.e):
    r"""Mean categorical cross-entropy over :math:`K` classes.

    Taught in chapter 4 (source section 4.1.3,
    :math:`-\sum_i\sum_j y_{ij}\log\hat y_{ij}`).

    Parameters
    ----------
    y_true : array_like of shape (n,) or (n, K)
        Integer class labels in ``0 .. K-1``, or one-hot (or soft) label rows
        in :math:`[0, 1]` summing to 1.
    y_prob : array_like of shape (n, K), optional
        Predicted class probabilities, rows in :math:`[0, 1]` summing to 1
        (within 1e-6); clipped to :math:`[\epsilon, 1]` before the log.
    logits : array_like of shape (n, K), optional
        Instead of ``y_prob``: scores turned into probabilities by the softmax.
        Computed with the log-sum-exp shift, stable for logits in the
        thousands. Give exactly one of ``y_prob`` and ``logits``.
    eps : float, default 1e-12
        The clipping margin for ``y_prob``.
    base : float, default e
        Base of the logarithm (2 for bits).

    Returns
    -------
    float
        The mean over the ``n`` rows.

    Raises
    ------
    ValueError
        On empty input, NaN or infinity, shape mismatch, labels that are not
        integers in ``0 .. K-1``, label or probability rows outside
        :math:`[0, 1]` or not summing to 1, or giving both or neither of
        ``y_prob`` and ``logits``.

    Notes
    -----
    .. math::

        \mathcal L = -\frac1n \sum_{i=1}^{n}\sum_{j=1}^{K} y_{ij}\log\hat y_{ij},
        \qquad
        \log\hat y_{ij} = z_{ij} - \log\sum_{l} e^{z_{il}} \text{ (from logits)}.

    With one-hot :math:`y` only the true class's term survives:
    :math:`-\log\hat y_{i,c_i}`. For :math:`K = 2` this is
    :func:`binary_cross_entropy`. The source's formula is this sum without
    the :math:`\frac1n`. Equals :func:`sklearn.metrics.log_loss` (natural log)
    when no probability needs clipping.

    Examples
    --------
    >>> from mathrec.losses import cross_entropy
    >>> round(cross_entropy([0], [[0.8, 0.2]]), 4)
    0.2231
    >>> round(cross_entropy([[0, 1, 0]], logits=[[2000.0, 1000.0, 0.0]]), 1)
    1000.0
    """
    _one_of(y_prob, logits)
    _check_eps(eps)
    ln_base = _log_base(base)
    pred_name = "logits" if logits is not None else "y_prob"
    P = _as_array(logits if logits is not None else y_prob, pred_name)
    if P.ndim != 2:
        raise ValueError(f"{pred_name} must be 2-D (n, K), got shape {P.shape}")
    n, K = P.shape
    Y = _as_array(y_true, "y_true")
    if Y.ndim == 1:
        if Y.shape[0] != n:
            raise ValueError(
                f"y_true has {Y.shape[0]} labels but {pred_name} has {n} rows"
            )
        if np.any(Y != np.round(Y)) or np.any(Y < 0) or np.any(Y >= K):
            bad = Y[(Y != np.round(Y)) | (Y < 0) | (Y >= K)][0]
            raise ValueError(
                f"y_true labels must be integers in 0..{K - 1}, got "
                f"{float(bad)!r}"
            )
        onehot = np.zeros((n, K))
        onehot[np.arange(n), Y.astype(np.intp)] = 1.0
        Y = onehot
    elif Y.shape != P.shape:
        raise ValueError(
            f"y_true and {pred_name} must have the same shape, got {Y.shape} "
            f"and {P.shape}"
        )
    else:
        _check_unit_interval(Y, "y_true")
        if not np.allclose(Y.sum(axis=1), 1.0, rtol=0, atol=1e-6):
            raise ValueError("each row of y_true must sum to 1")
    if logits is not None:
        logp = _log_softmax(P)
    else:
        _check_unit_interval(P, "y_prob")
        if not np.allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-6):
            raise ValueError("each row of y_prob must sum to 1")
        logp = np.log(np.clip(P, eps, 1.0))
    # 0 * log p = 0 even where p was clipped
    terms = np.where(Y > 0, Y * logp, 0.0)
    return float(-np.sum(terms) / n / ln_base)
