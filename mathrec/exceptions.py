"""The errors that every mathrec estimator raises in the same situations.

The estimator contract (checked for every estimator by
``tests/test_estimator_contract.py``) fixes which error means what:

* :class:`NotFittedError`: the model was used before ``fit``;
* :class:`DivergenceError`: training stopped being finite;
* ``mathrec.data.UnknownUserError`` / ``UnknownItemError`` (both ``KeyError``):
  an id that the model was not fitted on;
* ``ValueError`` / ``TypeError`` naming the argument: a bad hyper-parameter
  or a malformed argument.
"""

from __future__ import annotations

__all__ = ["DivergenceError", "NotFittedError"]


class NotFittedError(ValueError, AttributeError):
    """A model was used before ``fit``.

    It derives from ``ValueError`` and ``AttributeError``, as scikit-learn's
    ``sklearn.exceptions.NotFittedError`` does, so code written for
    scikit-learn's estimators catches it the same way; and every mathrec
    estimator answers scikit-learn's ``check_is_fitted`` correctly.

    Examples
    --------
    >>> from mathrec import BiasedMF
    >>> BiasedMF().predict(1, 2)
    Traceback (most recent call last):
    ...
    mathrec.exceptions.NotFittedError: this BiasedMF is not fitted yet;
    call fit(ratings) first
    """


class DivergenceError(FloatingPointError):
    """Training diverged: the loss or the parameters stopped being finite.

    Raised instead of returning a model full of NaN or infinities; the message
    names the epoch and the hyper-parameter to change (usually a learning rate
    that is too large for the scale of the ratings).
    """
