"""The estimator contract, checked for every estimator of mathrec.

In the spirit of scikit-learn's ``check_estimator``: each estimator is
registered once in ``RECOMMENDERS`` (models with ``fit(ratings)`` and
``recommend``) or ``OTHER_ESTIMATORS`` (models with another ``fit``), and every
check below runs on every registered estimator. A new estimator is registered
here before its own tests are written.

The contract:

* the constructor only stores hyper-parameters; ``get_params``/``set_params``
  round-trip, and scikit-learn's ``clone`` gives an unfitted copy;
* ``fit`` returns ``self``; fitting again on other data replaces every learned
  state (the second fit behaves exactly like a fresh model);
* before ``fit``, every method raises :class:`mathrec.NotFittedError`, which
  scikit-learn's code catches as its own ``NotFittedError`` (same bases), and
  ``sklearn.utils.validation.check_is_fitted`` answers correctly;
* a fitted model survives a pickle round trip;
* ``predict`` takes one pair of scalar ids (and returns a float) or two 1-D
  sequences of ids of equal length (and returns an array), nothing else; a
  string id is one id; rating models accept ``unknown="raise"|"fallback"``;
* models that produce scores rather than ratings say so
  (``predicts_ratings = False``) and ``evaluate`` never reports RMSE for them;
* ``random_state`` accepts None, an int, a ``RandomState`` and a
  ``Generator``; the same int gives the same model;
* every hyper-parameter is validated, with a message naming it;
* ids are the caller's: any hashable ids go in, the same ids come out.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone as sk_clone
from sklearn.exceptions import NotFittedError as SkNotFittedError
from sklearn.utils.validation import check_is_fitted

import mathrec
from mathrec import (
    ALS,
    BPR,
    EASE,
    BaselineOnly,
    BiasedMF,
    ImplicitALS,
    IncrementalALS,
    ItemKNN,
    OnlineMF,
    Popularity,
    PureSVD,
    UserKNN,
    make_synthetic,
)
from mathrec.attention import PositionBasedModel, randomized_rankings, simulate_clicks
from mathrec.coldstart import ContentBased, SwitchingHybrid
from mathrec.ctr import LogisticCTR
from mathrec.neural import GMF, MLP, NeuMF

# ----------------------------------------------------------------------- data
RATINGS_A, _ = make_synthetic(60, 40, 700, random_state=0)
# other ids (strings), other sizes: a refit must forget everything about A
_B, _ = make_synthetic(30, 25, 300, random_state=1)
RATINGS_B = _B.assign(user="u" + _B["user"].astype(str), item="i" + _B["item"].astype(str))


def _features(ratings):
    items = pd.unique(ratings["item"])
    genres = [["g%d" % (j % 4), "g%d" % (j % 7 + 4)] for j in range(len(items))]
    return pd.DataFrame({"item": items, "genres": genres})


_ALS_BASE = ALS(n_factors=3, n_iter=5, random_state=0).fit(RATINGS_A)


@dataclass
class Spec:
    """One registered estimator: how to build it, fit it, and what it promises."""

    name: str
    make: Callable[[], object]
    fit: Callable[[object, pd.DataFrame], object] = lambda m, df: m.fit(df)
    random: bool = False                      # has random_state
    bad_params: dict = field(default_factory=dict)   # name -> a value fit must refuse
    refit_data: pd.DataFrame | None = None    # other data for the refit check (default B)

    def __repr__(self):  # pytest ids
        return self.name


RECOMMENDERS = [
    Spec("Popularity", lambda: Popularity(), bad_params={"min_rating": float("nan")}),
    Spec("BaselineOnly", lambda: BaselineOnly(),
         bad_params={"reg_u": -1.0, "reg_i": float("nan"), "n_epochs": 0}),
    Spec("UserKNN", lambda: UserKNN(k=5),
         bad_params={"k": 0, "similarity": "euclid", "shrinkage": -1.0, "min_support": -1,
                     "centering": "median", "baseline_options": {"reg_u": -2.0}}),
    Spec("ItemKNN", lambda: ItemKNN(k=5, similarity="pearson"),
         bad_params={"k": 1.5, "recommend_by": "votes", "shrinkage": float("inf"),
                     "baseline_options": {"reg_i": float("nan")}}),
    Spec("PureSVD", lambda: PureSVD(n_factors=3, random_state=0), random=True,
         bad_params={"n_factors": 0, "random_state": "seed"}),
    Spec("BiasedMF", lambda: BiasedMF(n_factors=3, n_epochs=5, random_state=0), random=True,
         bad_params={"n_factors": 0, "lr_all": -0.1, "reg_all": float("nan"),
                     "init_mean": float("nan"), "init_std_dev": 0.0, "random_state": 1.5}),
    Spec("ALS", lambda: ALS(n_factors=3, n_iter=4, random_state=0), random=True,
         bad_params={"n_factors": -1, "regularization": 0.0, "reg_mode": "l1",
                     "init_std_dev": 0.0}),
    Spec("ImplicitALS", lambda: ImplicitALS(n_factors=3, n_iter=3, random_state=0),
         random=True,
         bad_params={"alpha": -1.0, "regularization": float("nan"), "init_scale": 0.0,
                     "cg_steps": 0}),
    Spec("BPR", lambda: BPR(n_factors=3, n_epochs=3, random_state=0), random=True,
         bad_params={"n_factors": 0, "learning_rate": 0.0, "regularization": -1.0,
                     "item_bias": "yes", "min_rating": float("nan"), "init_std_dev": 0.0}),
    Spec("EASE", lambda: EASE(regularization=10.0),
         bad_params={"regularization": 0.0, "binary": 1, "min_rating": "4",
                     "max_memory": 1000}),
    Spec("OnlineMF", lambda: OnlineMF(n_factors=3, n_epochs=3, random_state=0), random=True,
         bad_params={"lr_all": float("inf"), "init_std_dev": -1.0}),
    Spec("IncrementalALS", lambda: IncrementalALS(_ALS_BASE),
         bad_params={"unknown_items": "drop"},
         refit_data=RATINGS_A[RATINGS_A["user"].isin(RATINGS_A["user"].unique()[:10])]),
    Spec("ContentBased", lambda: ContentBased(),
         fit=lambda m, df: m.fit(df, _features(df)),
         bad_params={"feature_column": 3}),
    Spec("GMF", lambda: GMF(n_factors=3, n_epochs=2, batch_size=64, random_state=0),
         random=True,
         bad_params={"n_factors": 0, "n_epochs": 0, "batch_size": 1.5, "lr": -0.1,
                     "optimizer": "rmsprop", "n_negatives": -1, "init_std": 0.0,
                     "min_rating": float("nan"), "verbose": "yes"}),
    Spec("MLP", lambda: MLP(layers=(6, 4), n_epochs=2, batch_size=64, random_state=0),
         random=True,
         bad_params={"layers": (7, 4), "lr": float("inf"), "random_state": "seed"}),
    Spec("NeuMF", lambda: NeuMF(n_factors=2, layers=(4, 2), n_epochs=1, batch_size=64,
                                pretrain=True, random_state=0),
         random=True,
         bad_params={"alpha": 1.5, "pretrain": "yes", "layers": (), "n_factors": -2}),
]

RATING_MODELS = [s for s in RECOMMENDERS if s.make().predicts_ratings]
ALL_WITH_PREDICT = [s for s in RECOMMENDERS if hasattr(s.make(), "predict")]


def _fitted(spec, data=RATINGS_A):
    return spec.fit(spec.make(), data)


def _some_user_item(model):
    inter = model.interactions_
    return inter.users[inter.user_idx[0]], inter.items[inter.item_idx[0]]


def _recs(model, user):
    return model.recommend(user, n=5)


# ------------------------------------------------------------- construction
@pytest.mark.parametrize("spec", RECOMMENDERS, ids=repr)
def test_params_round_trip_and_clone(spec):
    model = spec.make()
    params = model.get_params(deep=False)
    assert model.set_params(**params) is model
    assert model.get_params(deep=False) == params
    for cloner in (sk_clone, mathrec._base.clone):
        copy = cloner(model)
        assert copy is not model
        assert type(copy) is type(model)
        assert copy.get_params(deep=False).keys() == params.keys()
        assert not hasattr(copy, "interactions_")
    with pytest.raises(ValueError, match="invalid parameter"):
        model.set_params(no_such_parameter=1)


@pytest.mark.parametrize("spec", RECOMMENDERS, ids=repr)
def test_fit_returns_self_and_a_clone_fits_alike(spec):
    model = spec.make()
    assert spec.fit(model, RATINGS_A) is model
    copy = spec.fit(sk_clone(spec.make()), RATINGS_A)
    user, _ = _some_user_item(model)
    pd.testing.assert_frame_equal(_recs(model, user), _recs(copy, user))


# ---------------------------------------------------------------- not fitted
@pytest.mark.parametrize("spec", RECOMMENDERS, ids=repr)
def test_not_fitted(spec):
    model = spec.make()
    with pytest.raises(mathrec.NotFittedError, match="not fitted"):
        model.recommend(1)
    with pytest.raises(SkNotFittedError):  # scikit-learn's own class catches ours
        check_is_fitted(model)
    assert issubclass(mathrec.NotFittedError, (ValueError, AttributeError))
    if hasattr(model, "predict"):
        with pytest.raises(mathrec.NotFittedError):
            model.predict(1, 2)
    spec.fit(model, RATINGS_A)
    check_is_fitted(model)  # does not raise


# --------------------------------------------------------------------- refit
@pytest.mark.parametrize("spec", RECOMMENDERS, ids=repr)
def test_refit_replaces_all_learned_state(spec):
    other = RATINGS_B if spec.refit_data is None else spec.refit_data
    model = _fitted(spec)
    user_a, _ = _some_user_item(model)
    _recs(model, user_a)                    # fills any cache of the first fit
    spec.fit(model, other)
    fresh = _fitted(spec, other)
    for user in pd.unique(other["user"])[:5]:
        pd.testing.assert_frame_equal(_recs(model, user), _recs(fresh, user))
    if hasattr(model, "predict"):
        u = other["user"].to_numpy()[:10]
        i = other["item"].to_numpy()[:10]
        np.testing.assert_array_equal(model.predict(u, i), fresh.predict(u, i))


# -------------------------------------------------------------------- pickle
@pytest.mark.parametrize("spec", RECOMMENDERS, ids=repr)
def test_pickle_round_trip(spec):
    model = _fitted(spec)
    back = pickle.loads(pickle.dumps(model))
    user, item = _some_user_item(model)
    pd.testing.assert_frame_equal(_recs(model, user), _recs(back, user))
    if hasattr(model, "predict"):
        assert model.predict(user, item) == back.predict(user, item)


# ------------------------------------------------------------------- predict
@pytest.mark.parametrize("spec", ALL_WITH_PREDICT, ids=repr)
def test_predict_scalar_pair_and_arrays(spec):
    model = _fitted(spec)
    inter = model.interactions_
    users = inter.users[inter.user_idx[:6]]
    items = inter.items[inter.item_idx[:6]]
    many = model.predict(users, items)
    assert isinstance(many, np.ndarray) and many.shape == (6,)
    assert np.isfinite(many).all()
    one = model.predict(users[0], items[0])
    assert isinstance(one, float)
    assert one == pytest.approx(many[0], rel=1e-12, abs=1e-12)
    assert model.predict(list(users), tuple(items)).shape == (6,)
    assert model.predict(pd.Series(users), pd.Series(items)).shape == (6,)
    assert model.predict([], []).shape == (0,)
    with pytest.raises(ValueError, match="same length"):
        model.predict(users, items[:3])
    with pytest.raises(ValueError, match="1-D"):
        model.predict(np.array([users, users]), np.array([items, items]))
    with pytest.raises(ValueError, match="scalar"):
        model.predict(users[0], items)
    with pytest.raises(KeyError):
        model.predict("no such user", items[0])


@pytest.mark.parametrize("spec", ALL_WITH_PREDICT, ids=repr)
def test_a_string_id_is_one_id(spec):
    """``predict('ab', 'xy')`` means the pair ('ab', 'xy'), never ('a','x'), ('b','y')."""
    df = pd.DataFrame({"user": ["a", "a", "b", "b", "ab", "ab", "c", "c"],
                       "item": ["x", "y", "x", "xy", "y", "xy", "x", "y"],
                       "rating": [5.0, 3, 4, 2, 1, 4, 2, 5]})
    if spec.name == "IncrementalALS":
        model = IncrementalALS(ALS(n_factors=2, n_iter=3, random_state=0).fit(df)).fit(df)
    else:
        model = spec.make()
        if "n_factors" in model.get_params():
            model.set_params(n_factors=1)
        model = spec.fit(model, df)  # ContentBased: item features for x, y, xy
    assert model.predict("ab", "xy") == pytest.approx(model.predict(["ab"], ["xy"])[0])


@pytest.mark.parametrize("spec", RATING_MODELS, ids=repr)
def test_rating_models_share_the_unknown_option(spec):
    model = _fitted(spec)
    user, item = _some_user_item(model)
    with pytest.raises(mathrec.UnknownUserError):
        model.predict(["nobody"], [item])
    with pytest.raises(mathrec.UnknownItemError):
        model.predict([user], ["nothing"])
    est = model.predict(["nobody", user], [item, "nothing"], unknown="fallback")
    assert np.isfinite(est).all()
    lo, hi = RATINGS_A["rating"].min(), RATINGS_A["rating"].max()
    assert ((est >= lo - 1e-9) & (est <= hi + 1e-9)).all()
    with pytest.raises(ValueError, match="unknown"):
        model.predict([user], [item], unknown="ignore")


def test_score_models_say_so_and_get_no_rmse():
    rating = {s.name for s in RATING_MODELS}
    assert rating == {"BaselineOnly", "UserKNN", "ItemKNN", "BiasedMF", "ALS", "OnlineMF",
                      "IncrementalALS"}
    train, test = mathrec.random_split(RATINGS_A, 0.2, random_state=0)
    for model in (PureSVD(n_factors=3, random_state=0), ImplicitALS(n_factors=3, n_iter=2,
                                                                    random_state=0)):
        metrics = mathrec.evaluate(model, train, test, k=5, relevance_threshold=3)
        metrics = metrics["metric"].tolist()
        assert "rmse" not in metrics and "mae" not in metrics and "ndcg@k" in metrics
    metrics = mathrec.evaluate(BiasedMF(n_epochs=2, random_state=0), train, test, k=5,
                               relevance_threshold=3)
    assert {"rmse", "ndcg@k"} <= set(metrics["metric"])


# -------------------------------------------------------------- randomness
@pytest.mark.parametrize("spec", [s for s in RECOMMENDERS if s.random], ids=repr)
def test_random_state_conventions(spec):
    user, _ = _some_user_item(_fitted(spec))
    same = [spec.fit(spec.make().set_params(random_state=7), RATINGS_A) for _ in range(2)]
    pd.testing.assert_frame_equal(_recs(same[0], user), _recs(same[1], user))
    from_rs = spec.fit(spec.make().set_params(random_state=np.random.RandomState(7)), RATINGS_A)
    pd.testing.assert_frame_equal(_recs(same[0], user), _recs(from_rs, user))
    gens = [spec.fit(spec.make().set_params(random_state=np.random.default_rng(3)), RATINGS_A)
            for _ in range(2)]
    pd.testing.assert_frame_equal(_recs(gens[0], user), _recs(gens[1], user))
    spec.fit(spec.make().set_params(random_state=None), RATINGS_A)
    for bad in (1.5, "seed", True):
        with pytest.raises(TypeError, match="random_state"):
            spec.fit(spec.make().set_params(random_state=bad), RATINGS_A)


# ------------------------------------------------------- hyper-parameters
@pytest.mark.parametrize(
    "spec, name, value",
    [(s, name, value) for s in RECOMMENDERS for name, value in s.bad_params.items()],
    ids=lambda v: v.name if isinstance(v, Spec) else repr(v)[:20],
)
def test_bad_hyper_parameters_are_refused_by_name(spec, name, value):
    model = spec.make().set_params(**{name: value})
    with pytest.raises((ValueError, TypeError)) as info:
        spec.fit(model, RATINGS_A)
    assert name in str(info.value)


# -------------------------------------------------------------- divergence
@pytest.mark.parametrize("model", [BiasedMF(lr_all=0.5, n_epochs=20, random_state=0),
                                   OnlineMF(lr_all=0.5, n_epochs=20, random_state=0)],
                         ids=["BiasedMF", "OnlineMF"])
def test_divergence_raises_with_advice(model):
    with pytest.raises(mathrec.DivergenceError, match="lr_all"):
        model.fit(RATINGS_A)


def test_online_update_that_diverges_leaves_no_nan_model():
    model = OnlineMF(n_factors=3, n_epochs=3, random_state=0).fit(RATINGS_A)
    model.set_params(lr_all=50.0)
    with pytest.raises(mathrec.DivergenceError):
        for _ in range(5):
            model.partial_fit(RATINGS_A.iloc[:200])


# ------------------------------------------------------------------ ids
@pytest.mark.parametrize("spec", [s for s in RECOMMENDERS if s.name != "IncrementalALS"],
                         ids=repr)
def test_ids_are_the_callers(spec):
    ts = pd.Timestamp("2020-01-01")
    df = RATINGS_A.assign(user=[(int(u), "x") for u in RATINGS_A["user"]],
                          item=[ts + pd.Timedelta(days=int(i)) for i in RATINGS_A["item"]])
    model = spec.fit(spec.make(), df)
    user = df["user"].iloc[0]
    rec = model.recommend(user, n=5)
    assert set(rec["item"]) <= set(df["item"])
    assert list(rec.columns[:2]) == ["item", "score"]


# ----------------------------------------------- estimators with another fit
def test_other_estimators_follow_the_same_contract():
    rankings = randomized_rankings(list(range(6)), 400, random_state=0)
    clicks = simulate_clicks(rankings, np.linspace(0.9, 0.2, 6), examination=[1, .7, .5, .4, .3, .2],
                             random_state=0)
    X = np.random.default_rng(0).normal(size=(200, 3))
    y = (X[:, 0] + 0.3 * np.random.default_rng(1).normal(size=200) > 0).astype(int)
    cases = [
        (PositionBasedModel(), lambda m: m.fit(rankings, clicks),
         lambda m: m.predict_proba(rankings)),
        (LogisticCTR(alpha=0.01), lambda m: m.fit(X, y), lambda m: m.predict_proba(X)),
        (SwitchingHybrid(ItemKNN(k=5)), lambda m: m.fit(RATINGS_A),
         lambda m: m.recommend(RATINGS_A["user"].iloc[0], n=3)["item"].to_numpy()),
    ]
    for model, fit, use in cases:
        name = type(model).__name__
        with pytest.raises(mathrec.NotFittedError):
            use(model)
        with pytest.raises(SkNotFittedError):
            check_is_fitted(model)
        copy = sk_clone(model)
        assert fit(model) is model, name
        check_is_fitted(model)
        np.testing.assert_array_equal(use(pickle.loads(pickle.dumps(model))), use(model))
        np.testing.assert_array_equal(use(fit(copy)), use(model))


def test_meta_estimator_does_not_fit_what_it_was_given():
    cf = ItemKNN(k=5)
    hybrid = SwitchingHybrid(cf).fit(RATINGS_A)
    assert not hasattr(cf, "interactions_")
    assert hybrid.cf_ is not cf
    assert hybrid.get_params()["cf__k"] == 5
    hybrid.set_params(cf__k=7)
    assert cf.k == 7
    for bad in (None, ItemKNN):
        with pytest.raises(TypeError, match="cf must be an estimator"):
            SwitchingHybrid(bad).fit(RATINGS_A)


# ------------------------------------------------------- many users at once
@pytest.mark.parametrize("spec", RECOMMENDERS, ids=repr)
def test_recommend_for_many_users_equals_one_at_a_time(spec):
    model = _fitted(spec)
    users = list(model.interactions_.users[:12]) + [model.interactions_.users[0]]
    many = model.recommend(users, n=5)
    assert list(many.columns) == ["user", "item", "score", "rank"]
    parts = []
    for u in users:
        one = model.recommend(u, n=5)
        assert list(one.columns) == ["item", "score"]
        parts.append(one.assign(user=[u] * len(one), rank=np.arange(1, len(one) + 1)))
    want = pd.concat(parts, ignore_index=True)[["user", "item", "score", "rank"]]
    pd.testing.assert_frame_equal(many.reset_index(drop=True), want, check_dtype=False)
    # the block scores are the per-user scores
    idx = np.arange(min(7, model.interactions_.n_users))
    block = np.asarray(model._score_block(idx), dtype=float)
    rows = np.array([np.asarray(model._score_items(int(u)), dtype=float) for u in idx])
    np.testing.assert_allclose(block, rows, rtol=1e-12, atol=1e-12)
    with pytest.raises(KeyError):
        model.recommend(users[:2] + ["no such user"], n=5)
