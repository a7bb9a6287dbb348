"""mathrec.ctr: one-hot features, LogisticCTR, calibration (chapter 6)."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import approx_fprime
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression

import mathrec
from mathrec.ctr import (
    ConvergenceWarning,
    LogisticCTR,
    calibration_table,
    expected_calibration_error,
    one_hot_features,
)
from mathrec.losses import binary_cross_entropy


def _random_problem(seed, n=300, d=40, density=0.1, sparse=True):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=rng)
    X.data = rng.normal(size=X.nnz)
    w = rng.normal(size=d)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w) + 0.3))).astype(int)
    return (X if sparse else X.toarray()), y


# ----------------------------------------------------------------------------
# gradient and objective
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gradient_matches_finite_differences(fit_intercept):
    X, y = _random_problem(0, n=80, d=12, density=0.3)
    model = LogisticCTR(alpha=0.05, fit_intercept=fit_intercept)
    rng = np.random.default_rng(1)
    params = rng.normal(size=12 + int(fit_intercept))
    _, grad = model._objective(params, X, y.astype(float))
    numeric = approx_fprime(params, lambda p: model._objective(p, X, y.astype(float))[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_objective_is_mean_cross_entropy_plus_half_alpha_norm():
    X, y = _random_problem(2, sparse=False)
    rng = np.random.default_rng(3)
    w, b = rng.normal(size=X.shape[1]), 0.7
    model = LogisticCTR(alpha=0.2)
    J, _ = model._objective(np.append(w, b), X, y.astype(float))
    z = X @ w + b
    p = 1 / (1 + np.exp(-z))
    by_hand = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) + 0.1 * w @ w
    assert J == pytest.approx(by_hand, rel=1e-12)


def test_gradient_vanishes_at_the_solution():
    X, y = _random_problem(4)
    model = LogisticCTR(alpha=1e-2).fit(X, y)
    _, grad = model._objective(np.append(model.coef_, model.intercept_), X, y.astype(float))
    assert np.abs(grad).max() < 1e-7


def test_loss_decreases_monotonically():
    X, y = _random_problem(5)
    model = LogisticCTR(alpha=1e-3).fit(X, y)
    curve = np.array(model.loss_curve_)
    assert curve[0] == pytest.approx(np.log(2))  # w = 0, b = 0: every p = 1/2
    assert np.all(np.diff(curve) <= 1e-12)
    assert curve[-1] == pytest.approx(model.loss_)
    assert model.loss_ < 0.9 * curve[0]


# ----------------------------------------------------------------------------
# agreement with scikit-learn: C = 1 / (alpha n)
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("alpha", [1e-3, 1e-1])
@pytest.mark.parametrize("sparse", [True, False])
def test_matches_sklearn_logistic_regression(seed, alpha, sparse):
    X, y = _random_problem(seed, sparse=sparse)
    n = X.shape[0]
    ours = LogisticCTR(alpha=alpha, tol=1e-10).fit(X, y)
    ref = LogisticRegression(C=1 / (alpha * n), tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_.ravel(), atol=1e-5)
    assert ours.intercept_ == pytest.approx(ref.intercept_[0], abs=1e-5)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-5)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_matches_sklearn_without_intercept():
    X, y = _random_problem(7)
    ours = LogisticCTR(alpha=0.01, fit_intercept=False, tol=1e-10).fit(X, y)
    ref = LogisticRegression(C=1 / (0.01 * X.shape[0]), fit_intercept=False, tol=1e-12,
                             max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_.ravel(), atol=1e-5)
    assert ours.intercept_ == 0.0


def test_predict_proba_rows_sum_to_one_and_match_sigmoid():
    X, y = _random_problem(8)
    model = LogisticCTR(alpha=0.01).fit(X, y)
    P = model.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_allclose(P[:, 1], 1 / (1 + np.exp(-model.decision_function(X))))
    assert binary_cross_entropy(y, P[:, 1]) == pytest.approx(
        binary_cross_entropy(y, logits=model.decision_function(X)))


def test_stronger_regularisation_shrinks_the_weights():
    X, y = _random_problem(9)
    norms = [np.linalg.norm(LogisticCTR(alpha=a).fit(X, y).coef_) for a in (1e-3, 1e-2, 1e-1, 1.0)]
    assert all(a > b for a, b in zip(norms, norms[1:]))


def test_intercept_alone_learns_the_base_rate():
    # only an intercept (an all-zero feature column): sigma(b) = mean(y) exactly
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0])
    model = LogisticCTR(alpha=1.0).fit(np.zeros((8, 1)), y)
    assert model.predict_proba(np.zeros((1, 1)))[0, 1] == pytest.approx(0.25, abs=1e-8)


def test_max_iter_reached_warns():
    X, y = _random_problem(10)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        LogisticCTR(alpha=1e-4, max_iter=2).fit(X, y)


# ----------------------------------------------------------------------------
# validation and edge cases
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("label", [0, 1])
def test_single_class_labels_raise(label):
    X, _ = _random_problem(0, n=20)
    with pytest.raises(ValueError, match=f"only the label {label}"):
        LogisticCTR().fit(X, np.full(20, label))


def test_nan_features_raise():
    X = np.ones((4, 2))
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match="X contains a non-finite value"):
        LogisticCTR().fit(X, [0, 1, 0, 1])
    Xs = sp.csr_matrix(np.ones((4, 2)))
    Xs.data[0] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        LogisticCTR().fit(Xs, [0, 1, 0, 1])


def test_wrong_shapes_raise():
    with pytest.raises(ValueError, match="one label per row of X"):
        LogisticCTR().fit(np.ones((4, 2)), [0, 1, 0])
    with pytest.raises(ValueError, match="X must be 2-D"):
        LogisticCTR().fit(np.ones(4), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="X has no rows"):
        LogisticCTR().fit(np.ones((0, 2)), [])
    model = LogisticCTR().fit(np.eye(4), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="X has 3 features, but the model was fitted with 4"):
        model.predict_proba(np.ones((2, 3)))


def test_labels_other_than_zero_one_raise():
    with pytest.raises(ValueError, match=r"only 0 and 1, got 2\.0"):
        LogisticCTR().fit(np.eye(3), [0, 1, 2])


@pytest.mark.parametrize("alpha, error", [(-1e-3, ValueError), (float("nan"), ValueError),
                                          (float("inf"), ValueError), ("0.1", TypeError),
                                          (True, TypeError)])
def test_bad_alpha_raises(alpha, error):
    with pytest.raises(error, match="alpha must be a finite real number >= 0, got"):
        LogisticCTR(alpha=alpha).fit(np.eye(2), [0, 1])


@pytest.mark.parametrize("kw, error, match", [({"tol": 0}, ValueError, "tol must be .*, got 0"),
                                              ({"max_iter": 0}, ValueError, "max_iter must be .*, got 0"),
                                              ({"max_iter": 2.5}, TypeError, "max_iter must be .*, got 2.5"),
                                              ({"fit_intercept": 1}, TypeError,
                                               "fit_intercept must be True or False, got 1")])
def test_bad_solver_settings_raise(kw, error, match):
    with pytest.raises(error, match=match):
        LogisticCTR(**kw).fit(np.eye(2), [0, 1])


def test_unfitted_model_raises():
    with pytest.raises(ValueError, match="not fitted"):
        LogisticCTR().predict_proba(np.eye(2))


def test_constructor_only_stores_parameters():
    model = LogisticCTR(alpha=0.5, fit_intercept=False, tol=1e-3, max_iter=7)
    assert vars(model) == {"alpha": 0.5, "fit_intercept": False, "tol": 1e-3, "max_iter": 7}
    assert not hasattr(model, "coef_")


def test_lazy_top_level_names():
    assert mathrec.LogisticCTR is LogisticCTR
    assert mathrec.one_hot_features is one_hot_features
    assert mathrec.expected_calibration_error is expected_calibration_error


# ----------------------------------------------------------------------------
# one_hot_features
# ----------------------------------------------------------------------------
FRAME = pd.DataFrame({
    "user": [1, 1, 2, 3],
    "item": ["a", "b", "a", "c"],
    "genres": [["Comedy"], ["Drama", "Comedy"], ["Comedy"], []],
})


def test_one_hot_columns_and_vocabulary():
    X, vocab = one_hot_features(FRAME, ["user", "item"])
    assert sp.isspmatrix_csr(X)
    assert list(vocab) == ["user=1", "user=2", "user=3", "item=a", "item=b", "item=c"]
    np.testing.assert_array_equal(X.sum(axis=1).A.ravel(), [2, 2, 2, 2])
    assert X[1, vocab["item=b"]] == 1 and X[1, vocab["user=1"]] == 1


def test_multi_hot_and_crosses():
    X, vocab = one_hot_features(FRAME, ["genres"], crosses=[("user", "genres")])
    assert list(vocab) == ["genres=Comedy", "genres=Drama", "user×genres=1×Comedy",
                           "user×genres=1×Drama", "user×genres=2×Comedy"]
    np.testing.assert_array_equal(X.toarray(), [
        [1, 0, 1, 0, 0],
        [1, 1, 1, 1, 0],
        [1, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],  # no genres: no genre feature, no cross
    ])


def test_vocabulary_reuse_ignores_unseen_values():
    _, vocab = one_hot_features(FRAME, ["user", "item"])
    new = pd.DataFrame({"user": [2, 9], "item": ["z", "c"]})
    X, vocab2 = one_hot_features(new, ["user", "item"], vocabulary=vocab)
    assert vocab2 == vocab and X.shape == (2, len(vocab))
    np.testing.assert_array_equal(X.toarray(), [[0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1]])


def test_one_hot_bad_input():
    with pytest.raises(ValueError, match="column 'genre' is not in frame"):
        one_hot_features(FRAME, ["user"], crosses=[("user", "genre")])
    with pytest.raises(ValueError, match="at least two columns"):
        one_hot_features(FRAME, ["user"], crosses=[("user",)])
    with pytest.raises(ValueError, match="pandas DataFrame"):
        one_hot_features(FRAME.to_numpy(), ["user"])
    with pytest.raises(ValueError, match="at least one column"):
        one_hot_features(FRAME, [])


# ----------------------------------------------------------------------------
# calibration
# ----------------------------------------------------------------------------
def test_ece_hand_computed():
    # bins [0, .5) and [.5, 1]: (0.1, 0.3) -> mean p .2, rate .5; (0.8, 0.9) -> .85, 1.0
    # ECE = 2/4 * |0.5 - 0.2| + 2/4 * |1.0 - 0.85| = 0.15 + 0.075 = 0.225
    assert expected_calibration_error([0, 1, 1, 1], [0.1, 0.3, 0.8, 0.9], n_bins=2) == pytest.approx(0.225)
    # three bins: [0, 1/3) holds 0.1, 0.3 (rate .5, mean .2); [2/3, 1] holds 0.8, 0.9
    assert expected_calibration_error([0, 1, 1, 1], [0.1, 0.3, 0.8, 0.9], n_bins=3) == pytest.approx(0.225)
    # one bin: |mean(y) - mean(p)| = |0.75 - 0.525|
    assert expected_calibration_error([0, 1, 1, 1], [0.1, 0.3, 0.8, 0.9], n_bins=1) == pytest.approx(0.225)
    assert expected_calibration_error([0, 1], [0.0, 1.0]) == 0.0
    assert expected_calibration_error([0, 1], [1.0, 0.0]) == 1.0


def test_calibration_table_edges_and_last_bin_closed():
    t = calibration_table([1, 0, 1], [1.0, 0.0, 0.55], n_bins=10)
    assert list(t["lower"]) == [0.0, 0.5, 0.9]
    assert list(t["count"]) == [1, 1, 1]


@pytest.mark.parametrize("seed", range(3))
def test_calibration_table_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(int)
    t = calibration_table(y, p, n_bins=7)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=7, strategy="uniform")
    np.testing.assert_allclose(t["observed_rate"], prob_true)
    np.testing.assert_allclose(t["mean_predicted"], prob_pred)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=1, max_size=40),
       st.integers(1, 20))
def test_ece_bounds_and_counts(rows, n_bins):
    y, p = np.array(rows, dtype=float).T
    ece = expected_calibration_error(y, p, n_bins=n_bins)
    assert 0.0 <= ece <= 1.0
    assert ece >= abs(y.mean() - p.mean()) - 1e-12  # triangle inequality: ECE >= |bias|
    assert calibration_table(y, p, n_bins=n_bins)["count"].sum() == len(y)


@pytest.mark.parametrize("y, p, n_bins, match", [
    ([0, 1], [0.5], 10, "same length"),
    ([0, 1], [0.5, 1.2], 10, "p must lie in"),
    ([0, np.nan], [0.5, 0.5], 10, "y must lie in"),
    ([], [], 10, "empty"),
    ([0, 1], [0.5, 0.5], 0, "n_bins"),
])
def test_calibration_bad_input(y, p, n_bins, match):
    with pytest.raises(ValueError, match=match):
        calibration_table(y, p, n_bins=n_bins)


# ------------------------------------------------------------ bad inputs
def test_one_hot_missing_category_names_column_and_rows():
    df = pd.DataFrame({"user": [1, 2, 3], "device": ["ios", None, "android"]}, index=[7, 8, 9])
    with pytest.raises(ValueError, match=r"column 'device' has 1 missing value \(NaN/None\) at rows \[8\]"):
        one_hot_features(df, ["user", "device"])
    with pytest.raises(ValueError, match="column 'device' has 1 missing"):
        one_hot_features(df, ["user"], crosses=[("user", "device")])
    X, vocab = one_hot_features(df.fillna({"device": "unknown"}), ["device"])
    assert "device=unknown" in vocab and X.sum() == 3


def test_one_hot_missing_list_cell_is_refused_empty_list_is_not():
    df = pd.DataFrame({"user": [1, 2, 3], "genres": [["a"], [], np.nan]})
    with pytest.raises(ValueError, match=r"column 'genres' has 1 missing value .* at rows \[2\]"):
        one_hot_features(df, ["genres"])
    X, _ = one_hot_features(df.iloc[:2], ["genres"])
    assert X.toarray().tolist() == [[1.0], [0.0]]


def test_one_hot_duplicate_column_name():
    df = pd.DataFrame([[1, "a", "b"]], columns=["user", "device", "device"])
    with pytest.raises(ValueError, match="frame has 2 columns named 'device'"):
        one_hot_features(df, ["user", "device"])


@pytest.mark.parametrize("scale", [1e101, 1e200])
def test_logistic_refuses_overflowing_features(scale):
    X = np.array([[1.0, 0], [1, 0], [0, 1], [0, 1]]) * scale
    y = np.array([1, 0, 1, 1])
    with pytest.raises(ValueError, match=r"X must hold features of magnitude <= 1e\+100"):
        LogisticCTR().fit(X, y)
    with pytest.raises(ValueError, match=r"magnitude <= 1e\+100"):
        LogisticCTR().fit(sp.csr_matrix(X), y)


@pytest.mark.parametrize("scale", [1e15, 1e50])
def test_logistic_badly_scaled_features_fail_loudly(scale):
    # before: L-BFGS stopped at w = 0 and the model predicted 0.5 everywhere
    X = np.array([[1.0, 0], [1, 0], [0, 1], [0, 1]]) * scale
    with pytest.raises(ValueError, match="could not take a first step.*rescale X"):
        LogisticCTR(alpha=0.1, fit_intercept=False).fit(X, np.array([1, 0, 1, 1]))
