"""Tests of mathrec.fairness: popularity-bias and diversity measures, MMR and xQuAD re-ranking."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics.pairwise import cosine_similarity

from mathrec.fairness import (average_popularity, exposure_gini, intra_list_diversity, long_tail_items,
                              long_tail_share, mmr, xquad)
from mathrec.simulate import gini

POP = pd.Series({"a": 10, "b": 4, "c": 1, "d": 0})


def test_average_popularity_by_hand():
    # user 1: (10 + 4) / 2 = 7; user 2: 1; mean 4
    assert average_popularity([["a", "b"], ["c"]], POP) == 4.0
    assert average_popularity([["a", "b"], [], ["c"]], POP) == 4.0  # empty lists skipped


def test_exposure_gini_counts_unshown_items():
    # exposures (2, 2, 0, 0): G = 0.5
    assert exposure_gini([["a", "b"], ["a", "b"]], list("abcd")) == 0.5
    assert exposure_gini([["a", "b"], ["a", "b"]], list("abcd")) == gini([2, 2, 0, 0])
    assert exposure_gini([["a"], ["b"], ["c"], ["d"]], list("abcd")) == 0.0


def test_long_tail_items_and_share():
    tail = long_tail_items(POP, head_fraction=0.25)  # ceil(0.25 * 4) = 1 head item
    assert tail.tolist() == [False, True, True, True]
    assert long_tail_share([["a", "b"], ["a", "c"]], tail) == 0.5
    assert long_tail_share([["a"], ["b", "c", "d"]], tail) == 0.75


def test_intra_list_diversity_by_hand_and_sklearn():
    F = np.array([[1, 0], [1, 0], [0, 1]])
    # pairs: (a,b) 0, (a,c) 1, (b,c) 1 -> 2/3
    assert intra_list_diversity([["a", "b", "c"]], F, list("abc")) == pytest.approx(2 / 3)
    rng = np.random.default_rng(1)
    X = rng.integers(0, 2, size=(15, 6)).astype(float)
    X[3] = 0  # a zero vector: cosine 0 with everything, as in scikit-learn
    lists = [rng.choice(15, size=5, replace=False).tolist() for _ in range(8)]
    C = cosine_similarity(X)
    expect = np.mean([np.mean([1 - C[i, j] for i in L for j in L if i != j]) for L in lists])
    assert intra_list_diversity(lists, X, range(15)) == pytest.approx(expect)


@pytest.mark.parametrize("call, match", [
    (lambda: average_popularity([], POP), "empty"),
    (lambda: average_popularity([[]], POP), "empty"),
    (lambda: average_popularity([["zzz"]], POP), "not in popularity"),
    (lambda: exposure_gini([["a"]], []), "empty"),
    (lambda: long_tail_items(POP, 1.5), "head_fraction"),
    (lambda: intra_list_diversity([["a"]], np.eye(2), ["a", "b"]), "two or more"),
    (lambda: mmr([], np.zeros((0, 0))), "empty"),
    (lambda: mmr([1.0, 2.0], np.eye(2), lam=1.5), "lam"),
    (lambda: mmr([1.0, 2.0], np.eye(2), lam=-0.1), "lam"),
    (lambda: mmr([1.0, 2.0], np.eye(3)), "shape"),
    (lambda: xquad([1.0, 2.0], [True, False], diversity_weight=2), "diversity_weight must be"),
    (lambda: xquad([1.0, 2.0], [True, False], lam=0.5), "lam"),  # mmr's name, not xquad's
    (lambda: xquad([1.0, 2.0], [1, 0]), "bool"),
    (lambda: xquad([1.0, np.nan], [True, False]), "finite"),
    (lambda: mmr([1.0, 2.0], np.eye(2), n=0), "n must"),
])
def test_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=1, max_size=25), st.integers(1, 30))
def test_mmr_with_lambda_one_is_the_relevance_ranking(rel, n):
    rng = np.random.default_rng(len(rel))
    X = rng.random((len(rel), 4))
    S = cosine_similarity(X)
    expect = np.argsort(-np.asarray(rel), kind="stable")[:n]
    assert mmr(rel, S, n=n, lam=1.0).tolist() == expect.tolist()
    assert xquad(rel, rng.random(len(rel)) < 0.5, n=n, diversity_weight=0.0).tolist() == expect.tolist()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=1, max_size=25), st.integers(1, 30), st.floats(0, 1))
def test_rerankers_return_distinct_candidates(rel, n, lam):
    rng = np.random.default_rng(0)
    S = cosine_similarity(rng.random((len(rel), 3)))
    for out in (mmr(rel, S, n=n, lam=lam), xquad(rel, rng.random(len(rel)) < 0.3, n=n, diversity_weight=lam)):
        assert len(out) == min(n, len(rel)) and len(set(out.tolist())) == len(out)


def test_mmr_by_hand():
    # relevance scaled to (1, 0.8, 0); at lam=0.5 the second pick is c: 0.5*0 - 0 > 0.5*0.8 - 0.5*0.9
    sim = np.array([[1, .9, 0], [.9, 1, 0], [0, 0, 1]])
    assert mmr([1.0, 0.9, 0.5], sim, n=3, lam=0.5).tolist() == [0, 2, 1]
    assert mmr([1.0, 0.9, 0.5], sim, n=3, lam=0.9).tolist() == [0, 1, 2]


def test_long_tail_share_rises_monotonically_with_lambda():
    rng = np.random.default_rng(7)
    m = 60
    pop = np.sort(rng.pareto(1.2, m))[::-1] * 100
    rel = pop / pop.max() + rng.normal(0, 0.05, m)  # a popularity-biased model
    tail = np.zeros(m, dtype=bool)
    tail[12:] = True
    shares = [tail[xquad(rel, tail, n=10, diversity_weight=w)].mean() for w in np.linspace(0, 1, 11)]
    assert shares[0] == tail[np.argsort(-rel, kind="stable")[:10]].mean() == 0.1  # weight 0: relevance
    assert shares[-1] == 0.5  # weight 1: coverage alone alternates head and tail
    assert all(b >= a for a, b in zip(shares, shares[1:])), shares


def test_xquad_binary_adds_at_most_one_tail_item_by_coverage():
    rel = np.linspace(1, 0, 20)
    tail = np.arange(20) >= 10
    out = xquad(rel, tail, n=10, diversity_weight=0.6, smooth=False)
    assert tail[out].sum() == 1


# ------------------------------------------------------------ NaN, inf and huge values
@pytest.mark.parametrize("bad", [np.inf, np.nan, -np.inf])
def test_mmr_refuses_a_non_finite_similarity(bad):
    from mathrec.fairness import mmr

    S = np.array([[1, bad, 0], [bad, 1, 0], [0, 0, 1.0]])
    with pytest.raises(ValueError, match=r"similarity must be finite; got .* at position \(0, 1\)"):
        mmr([1.0, 0.5, 0.2], S, n=3)
    import scipy.sparse as sp

    with pytest.raises(ValueError, match="similarity must be finite"):
        mmr([1.0, 0.5, 0.2], sp.csr_matrix(S), n=3)


def test_rerankers_are_scale_safe_for_huge_relevance():
    from mathrec.fairness import mmr, xquad

    rel = np.array([1e308, -1e308, 0.0])
    assert mmr(rel, np.eye(3), n=3, lam=1.0).tolist() == [0, 2, 1]
    assert mmr(rel, np.eye(3), n=3).tolist() == mmr(rel / 1e308, np.eye(3), n=3).tolist()
    tail = np.array([True, False, True])
    assert xquad(rel, tail, n=3).tolist() == xquad(rel / 1e308, tail, n=3).tolist()


@pytest.mark.parametrize("kw, match", [({"diversity_weight": float("nan")}, "diversity_weight must be"),
                                       ({"tail_preference": float("nan")}, "tail_preference must be")])
def test_xquad_refuses_nan_weights(kw, match):
    from mathrec.fairness import xquad

    with pytest.raises(ValueError, match=match):
        xquad([1.0, 0.5], np.array([True, False]), n=2, **kw)


def test_intra_list_diversity_checks_features_and_ids():
    with pytest.raises(ValueError, match="features must be finite; got nan"):
        intra_list_diversity([["a", "b"]], np.array([[np.nan, 1.0], [1.0, 0.0]]), ["a", "b"])
    with pytest.raises(ValueError, match="features has 3 rows but items has 2 ids"):
        intra_list_diversity([["a", "b"]], np.eye(3), ["a", "b"])
    with pytest.raises(TypeError, match="items must be a list or array of ids, not a single str"):
        intra_list_diversity([["a", "b"]], np.eye(2), "ab")


def test_average_popularity_refuses_nan_popularity():
    pop = pd.Series({"a": 10.0, "b": np.nan, "c": 1.0})
    with pytest.raises(ValueError, match=r"popularity must be finite for every listed item; items \['b'\]"):
        average_popularity([["a", "b"], ["c"]], pop)
    assert average_popularity([["a"], ["c"]], pop) == 5.5


def test_fractions_and_relevance_are_checked_by_name():
    from mathrec.fairness import mmr

    pop = pd.Series({"a": 1, "b": 50, "c": 3})
    with pytest.raises(TypeError, match="head_fraction must be a finite real number > 0 and < 1, got '0.2'"):
        long_tail_items(pop, "0.2")
    with pytest.raises(ValueError, match="head_fraction must be a finite real number > 0 and < 1, got 1"):
        long_tail_items(pop, 1)
    with pytest.raises(ValueError, match=r"relevance must be 1-D, got an array of shape \(1, 2\)"):
        mmr([[1.0, 0.5]], np.eye(2), n=1)
    with pytest.raises(ValueError, match=r"relevance contains a non-finite value \(nan at position 1\)"):
        mmr([1.0, np.nan], np.eye(2), n=1)
