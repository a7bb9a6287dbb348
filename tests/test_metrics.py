"""Tests for mathrec.metrics: hand-computed cases, scikit-learn cross-checks, properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, mean_absolute_error, mean_squared_error, ndcg_score

from mathrec import metrics as M

# ---------------------------------------------------------------- rating metrics


def test_rmse_mae_by_hand():
    # errors -0.5, 0, -1: squares 0.25, 0, 1 -> mean 5/12; abs mean 0.5
    assert M.rmse([4, 3, 5], [3.5, 3, 4]) == pytest.approx(math.sqrt(1.25 / 3))
    assert M.mae([4, 3, 5], [3.5, 3, 4]) == pytest.approx(0.5)


def test_rmse_mae_vs_sklearn(rng):
    t, p = rng.uniform(1, 5, 200), rng.uniform(1, 5, 200)
    assert M.rmse(t, p) == pytest.approx(math.sqrt(mean_squared_error(t, p)))
    assert M.mae(t, p) == pytest.approx(mean_absolute_error(t, p))


def test_rmse_and_mae_are_the_loss_functions():
    from mathrec import losses

    assert M.rmse is losses.rmse and M.mae is losses.mae
    assert "rmse" in M.__all__ and "mae" in M.__all__


@pytest.mark.parametrize("t,p,msg", [([1, 2], [1], "same shape"), ([], [], "empty"),
                                     ([1, np.nan], [1, 2], "non-finite")])
def test_rating_metric_errors(t, p, msg):
    with pytest.raises(ValueError, match=msg):
        M.rmse(t, p)


# ----------------------------------------------------------------- top-N by hand

REC = ["a", "b", "c", "d", "e"]
REL = {"b", "d", "x"}


def test_precision_recall_hit_by_hand():
    assert M.precision_at_k(REC, REL, k=4) == 0.5  # b, d in the first four
    assert M.precision_at_k(REC, REL, k=1) == 0.0
    assert M.recall_at_k(REC, REL, k=4) == pytest.approx(2 / 3)
    assert M.hit_rate_at_k(REC, REL, k=1) == 0.0
    assert M.hit_rate_at_k(REC, REL, k=2) == 1.0
    # a short list is penalised by the k in the denominator
    assert M.precision_at_k(["b"], REL, k=10) == 0.1


def test_ap_at_k_versus_full_ap_by_hand():
    # hits at ranks 2 and 4: precisions 1/2 and 2/4
    assert M.average_precision_at_k(REC, REL, k=4) == pytest.approx((0.5 + 0.5) / 3)
    assert M.average_precision_at_k(REC, REL, k=2) == pytest.approx(0.5 / 2)  # min(k,|T|)=2
    assert M.average_precision(REC, REL) == pytest.approx((0.5 + 0.5) / 3)
    # x found at rank 6 changes AP but not AP@5: MAP@k is not MAP
    full = REC + ["x"]
    assert M.average_precision(full, REL) == pytest.approx((0.5 + 0.5 + 3 / 6) / 3)
    assert M.average_precision_at_k(full, REL, k=5) == pytest.approx(1 / 3)


def test_reciprocal_rank_by_hand():
    assert M.reciprocal_rank(REC, REL) == 0.5
    assert M.reciprocal_rank(REC, REL, k=1) == 0.0
    assert M.reciprocal_rank(REC, {"zzz"}) == 0.0


def test_ndcg_binary_by_hand():
    # DCG = 1/log2(3) + 1/log2(5); IDCG (3 relevant, k=4) = 1 + 1/log2(3) + 1/2
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 0.5
    assert M.dcg_at_k(REC, REL, k=4) == pytest.approx(dcg)
    assert M.ndcg_at_k(REC, REL, k=4) == pytest.approx(dcg / idcg)
    # the ideal list ranks all relevant items, including x that is not recommended
    assert M.ndcg_at_k(["b", "d", "x"], REL, k=3) == pytest.approx(1.0)


def test_ndcg_graded_by_hand():
    gains = {"a": 1.0, "b": 3.0}
    dcg = 1.0 + 3.0 / math.log2(3)
    idcg = 3.0 + 1.0 / math.log2(3)
    assert M.ndcg_at_k(["a", "b", "c"], gains, k=3) == pytest.approx(dcg / idcg)
    dcg_e = 1.0 + 7.0 / math.log2(3)
    idcg_e = 7.0 + 1.0 / math.log2(3)
    assert M.ndcg_at_k(["a", "b", "c"], gains, k=3, gain="exponential") == pytest.approx(dcg_e / idcg_e)


def test_catalogue_coverage_by_hand():
    assert M.catalogue_coverage([["a", "b"], ["a", "c"]], 8) == 3 / 8
    assert M.catalogue_coverage([["a", "b"], ["a", "c"]], ["a", "b", "c", "d"]) == 0.75
    with pytest.raises(ValueError, match="not in the catalogue"):
        M.catalogue_coverage([["zz"]], ["a"])


# -------------------------------------------------------------- sklearn cross-check


def _ranking(scores):
    return list(np.argsort(-scores, kind="stable"))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 3, 10, 30])
def test_ndcg_matches_sklearn_graded(seed, k):
    rng = np.random.default_rng(seed)
    n = 30
    gains = rng.integers(0, 6, n).astype(float)
    gains[0] = 5.0  # at least one positive gain
    scores = rng.permutation(n).astype(float)  # no ties
    rel = {i: g for i, g in enumerate(gains) if g > 0}
    ours = M.ndcg_at_k(_ranking(scores), rel, k=k)
    assert ours == pytest.approx(ndcg_score(gains[None, :], scores[None, :], k=k))


@pytest.mark.parametrize("seed", range(5))
def test_ndcg_matches_sklearn_binary(seed):
    rng = np.random.default_rng(seed)
    n = 25
    y = (rng.random(n) < 0.3).astype(float)
    y[3] = 1.0
    scores = rng.permutation(n).astype(float)
    rel = set(np.flatnonzero(y).tolist())
    assert M.ndcg_at_k(_ranking(scores), rel, k=10) == pytest.approx(
        ndcg_score(y[None, :], scores[None, :], k=10))


@pytest.mark.parametrize("seed", range(5))
def test_full_ap_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = 40
    y = (rng.random(n) < 0.25).astype(int)
    y[0] = 1
    scores = rng.permutation(n).astype(float)
    rel = set(np.flatnonzero(y).tolist())
    assert M.average_precision(_ranking(scores), rel) == pytest.approx(average_precision_score(y, scores))


# ------------------------------------------------------------------- properties

items = st.lists(st.integers(0, 30), unique=True, max_size=20)


@settings(max_examples=60, deadline=None)
@given(rec=items, rel=st.sets(st.integers(0, 30), min_size=1, max_size=10), k=st.integers(1, 25))
def test_bounds_and_relations(rec, rel, k):
    p, r = M.precision_at_k(rec, rel, k), M.recall_at_k(rec, rel, k)
    n, ap = M.ndcg_at_k(rec, rel, k), M.average_precision_at_k(rec, rel, k)
    hr, rr = M.hit_rate_at_k(rec, rel, k), M.reciprocal_rank(rec, rel, k)
    for v in (p, r, n, ap, hr, rr):
        assert 0.0 <= v <= 1.0 + 1e-12
    # every metric is 0 exactly when there is no hit in the top k
    assert (hr == 0) == (p == 0) == (r == 0) == (n == 0) == (ap == 0) == (rr == 0)
    assert rr <= hr
    hits = len(set(rec[:k]) & rel)
    assert p * k == pytest.approx(hits)


@settings(max_examples=40, deadline=None)
@given(rel=st.sets(st.integers(0, 30), min_size=1, max_size=10), k=st.integers(1, 12))
def test_perfect_list_scores_one(rel, k):
    rec = sorted(rel) + [100, 101]
    assert M.ndcg_at_k(rec, rel, k) == pytest.approx(1.0)
    assert M.average_precision_at_k(rec, rel, k) == pytest.approx(1.0)
    assert M.recall_at_k(rec, rel, k) == pytest.approx(min(k, len(rel)) / len(rel))


# ------------------------------------------------------------------- edge cases


def test_k_must_be_positive_integer():
    with pytest.raises(ValueError, match="k must be an integer >= 1, got 0"):
        M.precision_at_k(REC, REL, k=0)
    with pytest.raises(TypeError, match="k must be an integer"):
        M.ndcg_at_k(REC, REL, k=2.5)


def test_undefined_cases_raise():
    with pytest.raises(ValueError, match="relevant is empty"):
        M.recall_at_k(REC, set(), k=3)
    with pytest.raises(ValueError, match="relevant is empty"):
        M.average_precision_at_k(REC, [], k=3)
    with pytest.raises(ValueError, match="undefined"):
        M.ndcg_at_k(REC, {"a": 0.0}, k=3)
    with pytest.raises(ValueError, match="more than once"):
        M.precision_at_k(["a", "a"], REL, k=2)
    with pytest.raises(ValueError, match="gain must be"):
        M.ndcg_at_k(REC, REL, k=2, gain="log")
    with pytest.raises(ValueError, match="gains must be finite"):
        M.ndcg_at_k(REC, {"a": -1.0}, k=2)


def test_empty_recommendations():
    assert M.precision_at_k([], REL, k=5) == 0.0
    assert M.ndcg_at_k([], REL, k=5) == 0.0
    assert M.average_precision([], REL) == 0.0
    assert M.reciprocal_rank([], REL) == 0.0


# ------------------------------------------------------------ argument checks
@pytest.mark.parametrize("metric", [M.precision_at_k, M.recall_at_k, M.hit_rate_at_k, M.ndcg_at_k,
                                    M.dcg_at_k, M.average_precision_at_k])
def test_a_string_is_not_a_list_of_recommendations(metric):
    with pytest.raises(TypeError, match="recommended must be a list or array of ids, not a single str"):
        metric("abc", {"abc"}, k=3)
    with pytest.raises(TypeError, match="relevant must be a .* not a single str, got 'abc'"):
        metric(["abc"], "abc", k=3)
    assert metric(["abc"], {"abc"}, k=1) == pytest.approx(1.0)


def test_string_checks_in_untruncated_metrics():
    with pytest.raises(TypeError, match="recommended must be a list"):
        M.average_precision("abc", {"a"})
    with pytest.raises(TypeError, match="recommended must be a list"):
        M.reciprocal_rank("abc", {"a"})
    assert M.reciprocal_rank(["abc"], {"abc"}) == 1.0


@pytest.mark.parametrize("k", [-5, 0, 2.5, True])
def test_reciprocal_rank_checks_k_on_an_empty_list(k):
    with pytest.raises((ValueError, TypeError), match="k must be an integer >= 1"):
        M.reciprocal_rank([], {"a"}, k=k)


@pytest.mark.parametrize("catalogue", [10.0, True, np.float64(3.0)])
def test_catalogue_coverage_refuses_a_non_integer_count(catalogue):
    with pytest.raises(TypeError, match="catalogue must be the number of items .* got"):
        M.catalogue_coverage([["a"]], catalogue)


def test_catalogue_coverage_strings_and_sets():
    with pytest.raises(TypeError, match="catalogue must be .* not a single str"):
        M.catalogue_coverage([["a"]], "abc")
    with pytest.raises(TypeError, match="each recommendation list must be .* not a single str"):
        M.catalogue_coverage(["ab"], 3)
    assert M.catalogue_coverage([{"a"}, ["b"]], {"a", "b", "c", "d"}) == 0.5
