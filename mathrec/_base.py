"""Shared plumbing for mathrec's recommender estimators.

`RecommenderMixin` turns a model that can score every item for one user into
a model with a ``recommend`` method that speaks the caller's ids, and holds
the small input checks that every estimator repeats.  Chapter 3 teaches the
models that use it.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np
import pandas as pd

__all__ = ["ParamsMixin", "RecommenderMixin", "check_positive_int"]


def check_positive_int(value, name, *, minimum=1):
    """Return ``value`` as an ``int`` after checking ``value >= minimum``.

    Parameters
    ----------
    value : object
        The value to check; booleans are refused.
    name : str
        The argument's name, used in the error message.
    minimum : int, default 1
        The smallest accepted value.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``value`` is not an integer.
    ValueError
        If ``value < minimum``.

    Examples
    --------
    >>> check_positive_int(10, "k")
    10
    >>> check_positive_int(0, "k")
    Traceback (most recent call last):
    ...
    ValueError: k must be an integer >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _one_blas_thread():
    """Limit BLAS to one thread in a ``with`` block, when threadpoolctl is installed.

    Used around ALS's batched k x k products and solves and L-BFGS's sparse
    products: they gain nothing from BLAS threads (each matrix is small), and
    on a busy machine threads that spin waiting for a core make them many
    times slower.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - depends on the environment
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


class ParamsMixin:
    """scikit-learn's hyper-parameter protocol: ``get_params``, ``set_params``, ``repr``.

    The hyper-parameters are the arguments of the class's ``__init__``, which
    stores each under its own name and does nothing else (scikit-learn's
    estimator contract), so they can be read back by name.

    Examples
    --------
    >>> from mathrec import ItemKNN
    >>> model = ItemKNN(k=20).set_params(similarity="pearson")
    >>> model.get_params()["k"], model.get_params()["similarity"]
    (20, 'pearson')
    """

    @classmethod
    def _param_names(cls):
        return [p.name for p in inspect.signature(cls.__init__).parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self, deep=True):
        """Hyper-parameters as a dict (scikit-learn's convention)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set hyper-parameters (scikit-learn's convention); returns ``self``."""
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"invalid parameter {key!r} for {type(self).__name__}; "
                                 f"valid parameters are {valid}")
            setattr(self, key, value)
        return self

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


class RecommenderMixin(ParamsMixin):
    """Give an estimator ``recommend(user, n, exclude_seen)`` from one hook.

    A subclass implements ``_score_items(user_index)``, returning a float array
    of length ``n_items`` (one score per internal item index; ``-inf`` or NaN
    means "cannot be recommended"), and keeps the fitted
    :class:`mathrec.data.Interactions` in ``self.interactions_``.

    Notes
    -----
    Items are ranked by decreasing score; equal scores are ranked by
    increasing internal item index, so the order is deterministic.
    """

    def _check_fitted(self):
        if not hasattr(self, "interactions_"):
            raise RuntimeError(
                f"this {type(self).__name__} is not fitted yet; call fit(ratings) first"
            )

    def _score_items(self, user_index):  # pragma: no cover - interface
        raise NotImplementedError

    def recommend(self, user, n=10, exclude_seen=True):
        """Recommend the ``n`` best-scored items for one user.

        Parameters
        ----------
        user : hashable
            A user id as given to ``fit``.
        n : int, default 10
            Length of the list (shorter if fewer items can be recommended).
        exclude_seen : bool, default True
            Leave out the items the user rated in the training data.

        Returns
        -------
        pandas.DataFrame
            Columns ``item`` (the caller's item ids) and ``score``, best first.

        Raises
        ------
        KeyError
            (``mathrec.data.UnknownUserError``) if ``user`` was not in the
            training data.
        ValueError
            If ``n < 1``.
        """
        self._check_fitted()
        n = check_positive_int(n, "n")
        inter = self.interactions_
        u = int(np.asarray(inter.user_index([user]))[0])
        scores = np.array(self._score_items(u), dtype=float, copy=True)
        if scores.shape != (inter.n_items,):
            raise RuntimeError(
                f"_score_items returned shape {scores.shape}, expected ({inter.n_items},)"
            )
        scores[np.isnan(scores)] = -np.inf
        if exclude_seen:
            csr = self._train_csr()
            seen = csr.indices[csr.indptr[u]:csr.indptr[u + 1]]
            scores[seen] = -np.inf
        candidates = np.flatnonzero(np.isfinite(scores))
        # stable sort on -score keeps index order among ties
        order = candidates[np.argsort(-scores[candidates], kind="stable")][:n]
        return pd.DataFrame(
            {"item": inter.items[order], "score": scores[order]}
        ).reset_index(drop=True)

    def _train_csr(self):
        csr = getattr(self, "_csr_cache_", None)
        if csr is None:
            csr = self.interactions_.to_csr()
            self._csr_cache_ = csr
        return csr
