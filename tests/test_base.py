"""The shared estimator plumbing of mathrec._base: scikit-learn's parameter protocol."""

import pytest
from sklearn.base import clone

import mathrec
from mathrec.attention import PositionBasedModel
from mathrec.coldstart import ContentBased, SwitchingHybrid

ESTIMATORS = [
    mathrec.UserKNN, mathrec.ItemKNN, mathrec.Popularity, mathrec.BaselineOnly,
    mathrec.PureSVD, mathrec.BiasedMF, mathrec.ALS, mathrec.ImplicitALS,
    PositionBasedModel, ContentBased,
]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_scikit_learn_clone_round_trips_the_hyper_parameters(cls):
    model = cls()
    copy = clone(model)
    assert copy is not model
    assert copy.get_params() == model.get_params()
    assert repr(copy) == repr(model)
    assert repr(model).startswith(f"{cls.__name__}(")


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_set_params_names_a_bad_parameter(cls):
    with pytest.raises(ValueError, match="invalid parameter 'no_such_thing'"):
        cls().set_params(no_such_thing=1)


def test_set_params_changes_and_returns_the_model():
    model = mathrec.ItemKNN(k=20)
    assert model.set_params(k=5, similarity="pearson") is model
    assert (model.k, model.similarity) == (5, "pearson")


def test_nested_estimator_is_a_parameter():
    hybrid = SwitchingHybrid(cf=mathrec.ItemKNN(k=7))
    assert hybrid.get_params()["cf"].k == 7
    assert clone(hybrid).get_params()["cf"].k == 7
