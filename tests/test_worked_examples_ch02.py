"""The numbers chapter 2 states (notebooks/ch02_data_and_feedback_loop.ipynb), asserted.

Worked examples are checked exactly; figures from real or simulated data are checked
against the claims the prose makes about them.
"""

from pathlib import Path

import numpy as np
import pytest

from mathrec.data import Interactions
from mathrec.datasets import load_movielens_items, make_synthetic, toy_ratings
from mathrec.simulate import gini, simulate_feedback_loop

needs_copy = pytest.mark.movielens


# --------------------------------------------------------------------------- by hand
def test_toy_matrix_and_its_csr_arrays():
    X = Interactions.from_frame(toy_ratings())
    assert (X.n_users, X.n_items, X.n_ratings) == (5, 6, 22)
    assert X.density == pytest.approx(22 / 30)
    R = X.to_csr()
    assert R.indptr.tolist() == [0, 4, 9, 13, 18, 22]
    assert R.indices[:4].tolist() == [0, 1, 3, 4]  # Ana: A, B, D, E
    assert R.data[:4].tolist() == [5.0, 4.0, 1.0, 2.0]
    assert X.user_index("Eli") == 4 and X.item_index("C") == 2


def test_gini_worked_examples():
    # text: (1, 2, 3, 4) -> 20 / (2 * 16 * 2.5) = 0.25, and by the sorted formula 1.5 - 1.25
    assert gini([1, 2, 3, 4]) == pytest.approx(20 / (2 * 16 * 2.5)) == pytest.approx(0.25)
    assert 2 * (1 + 4 + 9 + 16) / (4 * 10) - 5 / 4 == pytest.approx(0.25)
    assert gini([5, 5, 5, 5]) == 0.0 and gini([0, 0, 0, 1]) == pytest.approx(0.75)
    # exercise ex-ch02-gini: (4, 0, 1, 0, 0) -> 2*24/25 - 6/5 = 0.72; pairwise 36 / 50
    assert gini([4, 0, 1, 0, 0]) == pytest.approx(0.72)
    assert 2 * 24 / 25 - 6 / 5 == pytest.approx(36 / 50)
    assert gini([4, 1]) == pytest.approx(0.3)


def test_memory_exercise():
    dense = 4 * 5e7 * 1e7
    csr = 8 * 2e10 + 8 * (5e7 + 1)
    assert dense == 2e15
    assert 159e9 < csr < 161e9
    assert 2e10 > 2**31 - 1
    assert 2e10 / (5e7 * 1e7) == pytest.approx(4e-5)
    # SciPy widens both index arrays to int64: about 240 GB (float32), 320 GB (float64)
    assert round(((4 + 8) * 2e10 + 8 * (5e7 + 1)) / 1e9, 1) == 240.4
    assert round(((8 + 8) * 2e10 + 8 * (5e7 + 1)) / 1e9, 1) == 320.4
    assert round((8 * 2e10 + 8 * (5e7 + 1)) / 1e9, 1) == 160.4


def test_memory_table():
    # MovieLens 25M (README) and Netflix Prize (Bennett & Lanning 2007)
    ml25 = (162_541, 62_423, 25_000_095)
    nf = (480_189, 17_770, 100_480_507)
    assert 8 * ml25[0] * ml25[1] / 1e9 == pytest.approx(81.170, abs=5e-4)
    assert 8 * nf[0] * nf[1] / 1e9 == pytest.approx(68.264, abs=5e-4)
    assert (12 * nf[2] + 4 * (nf[0] + 1)) / 1e9 == pytest.approx(1.208, abs=5e-4)
    assert (12 * ml25[2] + 4 * (ml25[0] + 1)) / 1e9 == pytest.approx(0.301, abs=5e-4)
    assert 100 * nf[2] / (nf[0] * nf[1]) == pytest.approx(1.178, abs=5e-4)
    assert 100 * ml25[2] / (ml25[0] * ml25[1]) == pytest.approx(0.246, abs=5e-4)


# --------------------------------------------------------------------------- MovieLens
@needs_copy
def test_movielens_figures(movielens_ratings, movielens_home):
    ratings = movielens_ratings
    X = Interactions.from_frame(ratings)
    assert (X.n_users, X.n_items, X.n_ratings) == (610, 9_724, 100_836)
    assert round(100 * X.density, 2) == 1.70 and round(100 * (1 - X.density), 1) == 98.3
    assert len(load_movielens_items(data_home=movielens_home, download=False)) - X.n_items == 18
    r = ratings["rating"]
    assert round(r.mean(), 2) == 3.50
    assert round(100 * r.lt(3).mean(), 1) == 18.9
    assert round(100 * r.mod(1).eq(0).mean(), 1) == 69.9
    ic, uc = X.item_counts(), X.user_counts()
    assert round(100 * (ic == 1).mean(), 1) == 35.4 and ic.max() == 329
    assert round(np.sort(ic)[::-1][: X.n_items // 10].sum() / X.n_ratings, 3) == 0.600
    assert round(gini(ic), 3) == 0.716 and round(gini(uc), 2) == 0.60
    assert uc.min() == 20 and np.median(uc) == 70.5
    R = X.to_csr()
    assert R.data.nbytes + R.indices.nbytes + R.indptr.nbytes == 12 * X.n_ratings + 4 * (X.n_users + 1)


# --------------------------------------------------------------------------- the simulation
@pytest.fixture(scope="module")
def chapter_world():
    return make_synthetic(n_users=1000, n_items=1000, n_ratings=10_000, random_state=0)


def test_mnar_claim(chapter_world):
    data, truth = chapter_world
    everything = truth.true_ratings(np.arange(1000)[:, None], np.arange(1000)[None, :]).mean()
    assert round(everything, 2) == 3.40
    assert round(data["rating"].mean(), 2) == 4.04
    assert round(gini(np.bincount(data["item"], minlength=1000)), 3) == 0.715


def test_feedback_loop_claims(chapter_world):
    data, truth = chapter_world
    run = {name: simulate_feedback_loop(data, truth, recommender=name, n_rounds=30, n_recs=10,
                                        users_per_round=300, random_state=1).history
           for name in ["random", "popularity"]}
    pop, rnd = run["popularity"], run["random"]
    # numbers quoted in the chapter and the errata
    assert round(pop["data_gini"].iloc[-1], 3) == 0.896
    assert round(rnd["data_gini"].iloc[-1], 3) == 0.233
    assert round(pop["cumulative_coverage"].iloc[-1], 3) == 0.124
    late_pop = pop["mean_true_rating"].iloc[21:].mean()
    late_rnd = rnd["mean_true_rating"].iloc[21:].mean()
    assert (round(late_pop, 3), round(late_rnd, 3)) == (3.097, 3.402)
    explore = simulate_feedback_loop(data, truth, recommender="popularity", n_rounds=30,
                                     users_per_round=300, exploration=0.2, random_state=1).history
    assert round(explore["data_gini"].iloc[-1], 3) == 0.754
    assert explore["cumulative_coverage"].iloc[-1] == 1.0
    # random lists: about 1 - e^-3 of the items per round, all within three rounds
    assert round(1 - np.exp(-3), 3) == 0.950
    assert round(rnd["coverage"].iloc[1:].mean(), 3) == 0.950
    assert rnd["cumulative_coverage"].iloc[1:4].round(3).tolist() == [0.942, 0.998, 1.0]


def _late_value(world, seed, recommender):
    h = simulate_feedback_loop(*world, recommender=recommender, n_rounds=30,
                               users_per_round=300, random_state=seed).history
    return h["mean_true_rating"].iloc[21:].mean()


def test_popularity_below_random_over_seeds_and_worlds(chapter_world):
    worlds = {0: chapter_world}
    worlds.update({s: make_synthetic(n_users=1000, n_items=1000, n_ratings=10_000, random_state=s)
                   for s in range(1, 5)})
    expected = {
        "seeds": ((3.386, 0.009), (3.084, 0.013), (-0.302, 0.012)),
        "worlds": ((3.373, 0.025), (3.035, 0.075), (-0.338, 0.081)),
    }
    cases = {"seeds": [(worlds[0], s) for s in range(5)],
             "worlds": [(worlds[s], 1) for s in range(5)]}
    for label, pairs in cases.items():
        rnd = np.array([_late_value(w, s, "random") for w, s in pairs])
        pop = np.array([_late_value(w, s, "popularity") for w, s in pairs])
        got = [(rnd.mean(), rnd.std(ddof=1)), (pop.mean(), pop.std(ddof=1)),
               (np.mean(pop - rnd), np.std(pop - rnd, ddof=1))]
        for (m, sd), (m0, sd0) in zip(got, expected[label]):
            assert m == pytest.approx(m0, abs=5e-4) and sd == pytest.approx(sd0, abs=5e-4)
        assert np.all(pop < rnd)


def test_chapter_two_shows_the_gini_that_simulate_uses():
    """Chapter 2 shows `gini` from ``metrics.py``; ``mathrec.simulate`` re-exports that one.

    (How the listing is shown, code without docstring in a dropdown, is checked
    for every listing by tests/test_shown_source.py.)
    """
    import json

    from mathrec import metrics, simulate

    assert simulate.gini is metrics.gini
    nb = Path(__file__).resolve().parents[1] / "notebooks" / "ch02_data_and_feedback_loop.ipynb"
    text = "".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"])
    assert "literalinclude} ../mathrec/metrics.py\n:pyobject: gini\n```" in text


@needs_copy
def test_holdout_figures(movielens_ratings):
    from mathrec.split import random_split, temporal_split

    ratings = movielens_ratings
    rnd = random_split(ratings, test_size=0.2, random_state=0, cold="keep")
    late = temporal_split(ratings, test_size=0.2, cold="keep")
    assert len(rnd.test) == len(late.test) == 20_167
    assert (rnd.test["user"].nunique(), len(rnd.cold_users), len(rnd.cold_items), rnd.n_cold_rows) == (609, 0, 782, 859)
    assert round(rnd.n_cold_rows / len(rnd.test), 3) == 0.043
    assert (late.test["user"].nunique(), len(late.cold_users), len(late.cold_items)) == (116, 88, 1857)
    assert late.n_cold_rows == 18_857 and round(late.n_cold_rows / len(late.test), 3) == 0.935
    assert late.train["timestamp"].max() < late.test["timestamp"].min()
