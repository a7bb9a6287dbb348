"""mathrec: recommender systems from first principles.

The package behind the book *Recommender systems from first principles*. Each
module holds one idea and names the chapter that teaches it.

``import mathrec`` is fast: submodules (``mathrec.similarity``,
``mathrec.losses``, ...) and the public names listed in ``_LAZY_NAMES`` are
imported only when first used:

>>> import mathrec
>>> round(mathrec.cosine([1, 2, 3], [2, 3, 1]), 4)
0.7857
>>> mathrec.similarity.pearson([1, 2, 3], [2, 4, 6]) > 0.999
True
"""

import importlib as _importlib

__version__ = "0.1.0"

#: Public top-level names -> the submodule that defines them.
#: To expose a new name as ``mathrec.<name>``, add one line here.
_LAZY_NAMES = {
    # the estimator contract (every estimator): errors it raises
    "NotFittedError": "exceptions",
    "DivergenceError": "exceptions",
    # chapter 1: attention and position-bias click models
    "expected_clicks": "attention",
    "simulate_clicks": "attention",
    "PositionBasedModel": "attention",
    "ipw_relevance": "attention",
    # chapter 4: similarity, losses, linear algebra
    "cosine": "similarity",
    "pearson": "similarity",
    "jaccard": "similarity",
    "adjusted_cosine": "similarity",
    "similarity_matrix": "similarity",
    "mse": "losses",
    "rmse": "losses",
    "mae": "losses",
    "half_sse": "losses",
    "binary_cross_entropy": "losses",
    "cross_entropy": "losses",
    "svd": "linalg",
    "truncated_svd": "linalg",
    "rank_k_approximation": "linalg",
    "approximation_error": "linalg",
    "energy_kept": "linalg",
    # chapter 2: data, data sets, splits, the feedback loop
    "Interactions": "data",
    "as_interactions": "data",
    "UnknownUserError": "data",
    "UnknownItemError": "data",
    "load_movielens": "datasets",
    "load_movielens_items": "datasets",
    "make_synthetic": "datasets",
    "random_split": "split",
    "per_user_split": "split",
    "leave_last_out": "split",
    "temporal_split": "split",
    "kfold": "split",
    "gini": "metrics",
    "simulate_feedback_loop": "simulate",
    # chapter 3: neighbourhood methods, baselines, evaluation
    "UserKNN": "neighbors",
    "ItemKNN": "neighbors",
    "Popularity": "baselines",
    "BaselineOnly": "baselines",
    "evaluate": "evaluation",
    # chapter 3: matrix factorisation
    "PureSVD": "factorization",
    "BiasedMF": "factorization",
    "ALS": "factorization",
    "ImplicitALS": "factorization",
    # chapter 3: neural collaborative filtering
    "GMF": "neural",
    "MLP": "neural",
    "NeuMF": "neural",
    # learning to rank from implicit feedback
    "BPR": "ranking",
    "EASE": "ranking",
    # chapter 8: real-time (incremental) updates
    "fold_in_users": "incremental",
    "IncrementalALS": "incremental",
    "OnlineMF": "incremental",
    # chapter 6: click-through prediction
    "LogisticCTR": "ctr",
    "one_hot_features": "ctr",
    "calibration_table": "ctr",
    "expected_calibration_error": "ctr",
    # chapter 9: cold start, popularity bias and diversity, privacy
    "ContentBased": "coldstart",
    "SwitchingHybrid": "coldstart",
    "mmr": "fairness",
    "xquad": "fairness",
    "laplace_mechanism": "privacy",
    "randomized_response": "privacy",
}


def _submodule_names():
    import pkgutil

    return {
        m.name
        for m in pkgutil.iter_modules(__path__)
        if not m.name.startswith("_")
    }


def __getattr__(name):
    if name in _LAZY_NAMES:
        value = getattr(
            _importlib.import_module(f"{__name__}.{_LAZY_NAMES[name]}"), name
        )
    elif not name.startswith("_") and name in _submodule_names():
        value = _importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | _submodule_names() | set(_LAZY_NAMES))


__all__ = sorted(_LAZY_NAMES)
