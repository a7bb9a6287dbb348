"""NCF on MovieLens: GMF, MLP and NeuMF against factorisation baselines.

The protocol of He et al. (2017), "Neural collaborative filtering" (WWW):

* every rating is a positive example (implicit feedback: the ratings are
  set to 1 before any model sees them);
* each user's latest rating is held out (``leave_last_out(n=1)``; a user
  whose latest item no other rating of the training part mentions is
  dropped, since no model can score it);
* the held-out item is ranked with ``--negatives`` (default 99, as in the
  NCF authors' published test files: "rank among 100 items") items
  the user never rated, drawn by ``mathrec.evaluation.sampled_ranks``
  with ``exclude`` = all ratings and ``random_state`` = the seed, so that
  every model ranks the same lists; HR@10 = [rank <= 10] and NDCG@10 =
  [rank <= 10] / log2(1 + rank), the DCG of the single relevant item;
* beside it, the same two metrics of the full ranking: the held-out
  item's place in ``recommend(user, n=10, exclude_seen=True)``, i.e. among
  all the items the user has not rated in training.

Each figure is the mean over users with a 95 % percentile-bootstrap
interval (1,000 resamples of the users, the same resamples for every
model); with several seeds, each user's value is first averaged over the
seeds.

Models and settings (without ``--tune``):

* Popularity; PureSVD (50 factors); ImplicitALS and BPR (mathrec's
  defaults: 100 factors and 15 sweeps; 64 factors and 100 epochs);
* GMF, MLP and NeuMF as in He et al.'s code for 8 predictive factors:
  GMF with 8 factors, MLP tower (64, 32, 16, 8), NeuMF with both, batch
  256, Adam with lr 0.001, 4 negatives per positive, 20 epochs;
  "NeuMF-pre" starts from a GMF and an MLP trained with the same settings
  (``pretrain=True``, alpha 0.5). The paper trains the pre-trained NeuMF
  with plain SGD; mathrec's ``pretrain`` uses one optimiser for all three
  phases, so this script keeps Adam, as the authors' published command
  for pre-trained NeuMF does;
* "GMF-k16-neg8": the sizes of the dot-product MF of Rendle et al. (2020):
  16 factors, 8 negatives per positive, learning rate 0.002. It differs
  from their model: GMF learns a weight vector h over the product
  p_u * q_i (their MF fixes h = 1), it is trained by Adam without L2
  (they use SGD with regularisation 0.005), and for 20 epochs, not 256.

``--epochs`` scales every number of epochs (GMF, MLP, NeuMF, BPR). The
papers' epochs do not all fit a run on a 2-core machine: one NeuMF epoch
at ML-1M's size (6,040 users, 3,706 items, 994,169 positives of
``make_synthetic``, batch 256) took 22 s of CPU time here, so NCF's 20
epochs take about 7 minutes per model and seed (twice that with
pre-training) and Rendle et al.'s 256 would take an hour and a half. A
default run on ML-1M should take about 40 minutes per seed (an estimate
from these epoch times, not measured: ML-1M is not on this machine).

``--tune`` chooses the settings on a validation split instead: the
training part is split again by ``leave_last_out`` (each user's
second-latest rating), each setting of a small grid is fitted on the rest
and ranked by the sampled NDCG@10 of the validation items (seed 0); the
test split is never looked at. The epochs of the neural models are chosen
after every epoch of one run per grid point (the weights after epoch e of
a longer run are those of a run of e epochs: the same random stream).
NeuMF-pre takes the factors and epochs chosen for NeuMF. The chosen
settings are then refitted on the whole training part.

The published numbers (ML-1M only) are printed beside the table: He et
al. 2017, Table 2 (NeuMF with pre-training), and Rendle et al. 2020,
"Neural collaborative filtering vs. matrix factorization revisited"
(RecSys), whose tuned dot-product MF reaches about HR@10 0.73 and NDCG@10
0.45 in their figure 2 (read the exact values off the paper). The
authors' published ML-1M test files hold 99 sampled negatives per user
(the held-out item is ranked among 100), hence the default; the book's
chapters use 100 negatives (``--negatives 100`` reproduces their lists).

Speed: seconds per epoch of GMF, MLP and NeuMF (4 negatives per positive,
batches of 256 and 1024; the difference of a 1-epoch and a
(1 + repeats)-epoch fit, so without the set-up), beside the fit times of
PureSVD, ImplicitALS and BPR; the peak memory of a one-epoch NeuMF fit
(``tracemalloc``, which sees NumPy's buffers) at batches of 256 to 65,536,
beside the size a dense users x items matrix would have. When the Python
that runs the script can import PyTorch (a benchmark-only dependency,
never mathrec's), the same NeuMF is timed in PyTorch as a reference (one
thread, sparse embeddings with ``SparseAdam``, like mathrec's lazy Adam,
the same negative sampler), in float64 and float32. Keep it out of the
project's environment: for example ``python -m venv /tmp/torchvenv``,
``/tmp/torchvenv/bin/pip install torch==2.13.0 numpy scipy pandas numba``
(the CPU build), then run the script with ``PYTHONPATH=.
/tmp/torchvenv/bin/python`` and ``--speed-only``.

One thread (the environment variables below are set unless given).
ML-1M (the papers' data set) is downloaded on first use; offline, put the
unzipped ``ml-1m`` folder under ``MATHREC_DATA``. Run from the repository
root::

    MATHREC_DATA=/work/shared/data .venv/bin/python \\
        benchmarks/ncf_movielens.py --variant ml-latest-small --quick
    .venv/bin/python benchmarks/ncf_movielens.py [--variant ml-1m] \\
        [--seeds 1] [--epochs 1.0] [--negatives 99] [--tune] \\
        [--only NeuMF,GMF] [--no-speed | --speed-only]

On ml-latest-small, on a 2-core machine shared with other work,
``--quick`` (5 epochs) took about 2 minutes, ``--tune --no-speed`` 8 to
12 (half of it tuning) and ``--speed-only`` about 2.
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import os
import sys
import time
import tracemalloc

for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mathrec.baselines import Popularity  # noqa: E402
from mathrec.data import as_interactions  # noqa: E402
from mathrec.datasets import (  # noqa: E402
    MOVIELENS_VARIANTS,
    DatasetUnavailableError,
    load_movielens,
)
from mathrec.evaluation import sampled_ranks  # noqa: E402
from mathrec.factorization import ImplicitALS, PureSVD  # noqa: E402
from mathrec.neural import GMF, MLP, NeuMF, sample_negatives  # noqa: E402
from mathrec.ranking import BPR  # noqa: E402
from mathrec.split import leave_last_out  # noqa: E402

K = 10
N_BOOT = 1000
LEVEL = 0.95
NCF_EPOCHS = 20  # He et al.'s code, for GMF, MLP and NeuMF alike

#: He et al. (2017), Table 2: NeuMF with pre-training on MovieLens 1M,
#: leave-one-out, HR@10 and NDCG@10, by predictive factors (as printed).
PUBLISHED_NEUMF = (
    (8, 0.701, 0.425),
    (16, 0.720, 0.439),
    (32, 0.722, 0.441),
    (64, 0.730, 0.447),
)


# ================================================================ protocol
def hit_ndcg(ranks, k=K):
    """HR@k and NDCG@k of one held-out item per user, from its ranks.

    ``ranks`` are 1-based; a rank above ``k`` (``np.inf`` for "not in the
    top k") scores 0. Returns two float arrays of the shape of ``ranks``:
    ``[rank <= k]`` and ``[rank <= k] / log2(1 + rank)``.
    """
    r = np.asarray(ranks, dtype=float)
    if np.isnan(r).any() or (r < 1).any():
        raise ValueError("ranks must be >= 1 (np.inf: not in the top k)")
    hit = r <= k
    ndcg = np.zeros(r.shape)
    ndcg[hit] = 1.0 / np.log2(1.0 + r[hit])
    return hit.astype(float), ndcg


def full_ranks(model, test, k=K):
    """Rank of each test item in its user's top k (``np.inf`` if not there).

    The list is ``model.recommend(users, n=k, exclude_seen=True)``: every
    item the user did not rate in training competes. One test row per user.
    """
    users = test["user"].to_numpy()
    if len(np.unique(users)) != len(users):
        raise ValueError("full_ranks needs one test item per user")
    rec = model.recommend(users, n=k, exclude_seen=True)
    found = rec.merge(test[["user", "item"]], on=["user", "item"])
    rank = pd.Series(
        found["rank"].to_numpy(dtype=float), index=found["user"].to_numpy()
    )
    return test["user"].map(rank).fillna(np.inf).to_numpy(dtype=float)


def bootstrap_ci(values, n_boot=N_BOOT, level=LEVEL, seed=0):
    """Mean of ``values`` and its percentile-bootstrap interval.

    The users are resampled with replacement ``n_boot`` times; the same
    ``seed`` draws the same resamples for arrays of the same length, so
    that models are compared on the same resamples.
    """
    v = np.asarray(values, dtype=float)
    n = v.size
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    step = max(1, (1 << 22) // max(n, 1))  # at most 4M indices at once
    for a in range(0, n_boot, step):
        b = min(n_boot, a + step)
        means[a:b] = v[rng.integers(0, n, size=(b - a, n))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(v.mean()), float(lo), float(hi)


def tower(factors):
    """He et al.'s MLP tower for ``factors`` predictive factors."""
    return (8 * factors, 4 * factors, 2 * factors, factors)


def grid(**axes):
    """Every combination of the values of ``axes``, as dicts, in order."""
    names = list(axes)
    return [
        dict(zip(names, combo)) for combo in itertools.product(*axes.values())
    ]


def with_epoch_callback(cls):
    """A subclass of a mathrec.neural estimator that reports every epoch.

    After each epoch it sets ``network_`` to the network being trained and
    calls ``self.on_epoch(self, epoch)``; the caller must have set
    ``interactions_`` to the Interactions passed to ``fit`` so that
    ``predict`` works in between. The callback draws no random numbers from
    the model's stream, so the weights after epoch e are those of an
    ``n_epochs=e`` fit. (It relies on the estimators' internal ``_epoch``.)
    """
    if not hasattr(cls, "_epoch"):
        raise TypeError(f"{cls.__name__} has no per-epoch training loop")

    class EveryEpoch(cls):
        def _epoch(self, network, *args):
            row = super()._epoch(network, *args)
            self.network_ = network
            self.on_epoch(self, row[0])
            return row

    EveryEpoch.__name__ = EveryEpoch.__qualname__ = cls.__name__
    return EveryEpoch


# ================================================================== models
class Spec:
    """A model of the comparison: class, settings, and its tuning grid."""

    def __init__(self, name, cls, params, tune=(), by_epoch=False, like=None):
        self.name, self.cls, self.params = name, cls, dict(params)
        self.tune = list(tune)  # dicts of settings to try
        self.by_epoch = by_epoch  # choose n_epochs after every epoch
        self.like = like  # take the tuned settings of this model

    def make(self, seed, **extra):
        kw = {**self.params, **extra}
        if "random_state" in inspect.signature(self.cls).parameters:
            kw["random_state"] = seed
        return self.cls(**kw)


def model_specs(scale):
    def e(n):
        return max(1, round(n * scale))

    ncf = dict(
        batch_size=256,
        lr=0.001,
        optimizer="adam",
        n_negatives=4,
        n_epochs=e(NCF_EPOCHS),
    )
    return [
        Spec("Popularity", Popularity, {}),
        Spec(
            "PureSVD",
            PureSVD,
            {"n_factors": 50},
            grid(n_factors=[10, 20, 50, 100, 200]),
        ),
        Spec(
            "ImplicitALS",
            ImplicitALS,
            {
                "n_factors": 100,
                "n_iter": 15,
                "regularization": 0.01,
                "alpha": 1.0,
            },
            grid(
                n_factors=[32, 64, 128],
                alpha=[1.0, 10.0],
                regularization=[0.01, 10.0],
            ),
        ),
        Spec(
            "BPR",
            BPR,
            {"n_factors": 64, "n_epochs": e(100)},
            grid(n_factors=[32, 64, 128], n_epochs=[e(50), e(100)]),
        ),
        Spec(
            "GMF",
            GMF,
            {"n_factors": 8, **ncf},
            grid(n_factors=[8, 16, 32]),
            by_epoch=True,
        ),
        Spec(
            "GMF-k16-neg8",
            GMF,
            {"n_factors": 16, **ncf, "n_negatives": 8, "lr": 0.002},
            [{}],
            by_epoch=True,
        ),
        Spec("MLP", MLP, {"layers": tower(8), **ncf}, [{}], by_epoch=True),
        Spec(
            "NeuMF",
            NeuMF,
            {"n_factors": 8, "layers": tower(8), **ncf},
            [{"n_factors": f, "layers": tower(f)} for f in (8, 16)],
            by_epoch=True,
        ),
        Spec(
            "NeuMF-pre",
            NeuMF,
            {"n_factors": 8, "layers": tower(8), **ncf, "pretrain": True},
            like="NeuMF",
        ),
    ]


def describe(params):
    """Settings as ``key=value`` text, without the defaults shared by all."""
    skip = {"optimizer", "batch_size"}
    return ", ".join(f"{k}={v}" for k, v in params.items() if k not in skip)


# ================================================================== tuning
def sampled(model, test, n_negatives, exclude, seed):
    """Ranks of the test items among ``n_negatives`` sampled unrated items."""
    return sampled_ranks(
        model, test, n_negatives, exclude=exclude, random_state=seed
    )["rank"].to_numpy()


def tune(spec, fit_inter, val, exclude, n_negatives, log):
    """Fit ``spec``'s grid on ``fit_inter``; keep the best validation NDCG."""
    rows = []  # (settings, epochs, HR, NDCG)

    def score(model):
        ranks = sampled(model, val, n_negatives, exclude, 0)
        hit, ndcg = hit_ndcg(ranks)
        return hit.mean(), ndcg.mean()

    for point in spec.tune:
        t0 = time.perf_counter()
        if spec.by_epoch:
            model = with_epoch_callback(spec.cls)(
                **{**spec.params, **point}, random_state=0
            )
            model.interactions_ = fit_inter

            def on_epoch(m, epoch, point=point):
                rows.append((point, epoch, *score(m)))

            model.on_epoch = on_epoch
            model.fit(fit_inter)
        else:
            model = spec.make(0, **point).fit(fit_inter)
            rows.append((point, None, *score(model)))
        log(
            f"  tune {spec.name} {describe(point) or '-'}: "
            f"{time.perf_counter() - t0:.1f} s"
        )
    best = max(rows, key=lambda r: r[3])  # the first of equal NDCGs
    chosen = dict(best[0])
    if best[1] is not None:
        chosen["n_epochs"] = best[1]
    return chosen, best[2], best[3], rows


SHORT = {"n_factors": "k", "regularization": "reg", "n_epochs": "epochs"}


def grid_axes(spec):
    """The values each setting of ``spec``'s grid takes, in order."""
    axes = {}
    for point in spec.tune:
        for k, v in point.items():
            if k != "layers" and v not in axes.setdefault(k, []):
                axes[k].append(v)
    if spec.by_epoch:
        axes["n_epochs"] = list(range(1, spec.params["n_epochs"] + 1))
    return axes


def grid_text(axes):
    parts = []
    for k, v in axes.items():
        if len(v) > 2 and v == list(range(1, len(v) + 1)):
            values = f"1-{len(v)}"  # every epoch
        else:
            values = "/".join(f"{x:g}" for x in v)
        parts.append(f"{SHORT.get(k, k)} {values}")
    return "; ".join(parts)


def at_edge(axes, picked):
    """The settings whose chosen value is the largest or smallest tried."""
    return [
        SHORT.get(k, k)
        for k, v in axes.items()
        if len(v) > 1 and k in picked and picked[k] in (min(v), max(v))
    ]


def run_tuning(specs, train, n_negatives, log):
    """Tune every spec with a grid on a validation split of ``train``."""
    fit_part, val = leave_last_out(train, n=1)
    fit_inter = as_interactions(fit_part)
    print(
        f"\nTuning on a validation split (each user's second-latest "
        f"rating, {len(val):,} users), by sampled NDCG@10; *: the choice "
        f"is at the end of the grid:"
    )
    print(f"{'model':<13} {'grid':<36} {'HR@10':>6} {'NDCG@10':>7}  chosen")
    chosen = {}
    for spec in specs:
        if spec.like is not None or not spec.tune:
            continue
        axes = grid_axes(spec)
        picked, hr, ndcg, _ = tune(
            spec, fit_inter, val, train, n_negatives, log
        )
        chosen[spec.name] = picked
        spec.params.update(picked)
        edge = at_edge(axes, picked)
        text = describe({k: v for k, v in picked.items() if k != "layers"})
        print(
            f"{spec.name:<13} {grid_text(axes):<36} {hr:>6.3f} {ndcg:>7.3f}"
            f"  {text}" + (f" *({', '.join(edge)})" if edge else "")
        )
    for spec in specs:
        if spec.like is None:
            continue
        if spec.like in chosen:
            spec.params.update(chosen[spec.like])
            print(f"{spec.name:<13} the settings chosen for {spec.like}")
        else:
            print(
                f"{spec.name:<13} its defaults ({spec.like} is not tuned "
                f"in this run)"
            )


# ================================================================= running
def timed_fit(model, data):
    t, c = time.perf_counter(), time.process_time()
    model.fit(data)
    return time.perf_counter() - t, time.process_time() - c


def ci_text(m, lo, hi):
    return f"{m:.3f} ({lo:.3f}-{hi:.3f})"


def warm_up(ratings):
    """Compile the numba kernels of ImplicitALS and BPR before any timing."""
    small = ratings.iloc[:2000]
    ImplicitALS(n_factors=4, n_iter=1, random_state=0).fit(small)
    BPR(n_factors=4, n_epochs=1, random_state=0).fit(small)


def evaluate_models(specs, train_inter, test, ratings, seeds, n_negatives, log):
    """Fit every model for every seed; per-user metrics and fit times."""
    warm_up(ratings)
    out = {}
    for spec in specs:
        per_seed, times = [], []
        for seed in seeds:
            model = spec.make(seed)
            wall, cpu = timed_fit(model, train_inter)
            s_hit, s_ndcg = hit_ndcg(
                sampled(model, test, n_negatives, ratings, seed)
            )
            f_hit, f_ndcg = hit_ndcg(full_ranks(model, test))
            per_seed.append(np.stack((s_hit, s_ndcg, f_hit, f_ndcg)))
            times.append((wall, cpu))
            log(
                f"{spec.name} seed {seed}: fit {wall:.1f} s, sampled "
                f"HR@10 {s_hit.mean():.3f}, full HR@10 {f_hit.mean():.3f}"
            )
        out[spec.name] = (np.array(per_seed), np.array(times))
    return out


def print_results(results, n_seeds):
    cols = ["sampled HR@10", "sampled NDCG@10", "full HR@10", "full NDCG@10"]
    print(
        f"{'model':<13}" + "".join(f" {c:>21}" for c in cols) + f" {'fit s':>7}"
    )
    for name, (per_seed, times) in results.items():
        per_user = per_seed.mean(axis=0)  # (4, n_users), mean over seeds
        cells = [ci_text(*bootstrap_ci(v)) for v in per_user]
        print(
            f"{name:<13}"
            + "".join(f" {c:>21}" for c in cells)
            + f" {np.median(times[:, 0]):>7.1f}"
        )
    if n_seeds > 1:
        print(
            f"\nspread over the {n_seeds} seeds (standard deviation of "
            f"the per-seed means):"
        )
        print(f"{'model':<13}" + "".join(f" {c:>16}" for c in cols))
        for name, (per_seed, _) in results.items():
            sd = per_seed.mean(axis=2).std(axis=0, ddof=1)
            print(f"{name:<13}" + "".join(f" {s:>16.4f}" for s in sd))


def print_published(results, variant, n_negatives, factors):
    """The published ML-1M numbers; ``factors``: NeuMF-pre's, in this run."""
    print(
        "\nPublished, MovieLens 1M, same protocol (the held-out item "
        "among sampled unrated items):"
    )
    print(
        f"{'source':<34} {'model':<24} {'factors':>7} {'HR@10':>6} "
        f"{'NDCG@10':>7}"
    )
    for f, hr, ndcg in PUBLISHED_NEUMF:
        print(
            f"{'He et al. 2017, Table 2':<34} {'NeuMF, pre-trained':<24} "
            f"{f:>7} {hr:>6.3f} {ndcg:>7.3f}"
        )
    print(
        f"{'Rendle et al. 2020, figure 2':<34} "
        f"{'MF (dot product), tuned':<24} {'':>7} {'~0.73':>6} "
        f"{'~0.45':>7}"
    )
    print(
        "(He et al.: as printed in the paper; Rendle et al.: approximate, "
        "read the exact values off their figure 2.)"
    )
    if variant != "ml-1m":
        print(
            f"This run is on {variant}, not ML-1M (other users, items and "
            "sparsity): its levels are not comparable with the published "
            "ones."
        )
        return
    same = [row for row in PUBLISHED_NEUMF if row[0] == factors]
    if "NeuMF-pre" in results and same:
        hr, ndcg = results["NeuMF-pre"][0].mean(axis=(0, 2))[:2]
        print(
            f"NeuMF-pre here minus He et al. ({factors} factors): HR@10 "
            f"{hr - same[0][1]:+.3f}, NDCG@10 {ndcg - same[0][2]:+.3f} "
            f"({n_negatives} negatives here; their test lists hold 99)."
        )


# =================================================================== speed
def epoch_seconds(cls, params, inter, repeats):
    """Wall and CPU seconds per epoch: (fit(1 + r) - fit(1)) / r epochs."""
    w1, c1 = timed_fit(cls(**params, n_epochs=1, random_state=0), inter)
    w2, c2 = timed_fit(
        cls(**params, n_epochs=1 + repeats, random_state=0), inter
    )
    return max(w2 - w1, 0.0) / repeats, max(c2 - c1, 0.0) / repeats


def neumf_peak_memory(inter, batch):
    """Peak traced bytes of a one-epoch NeuMF fit (above the start); its net."""
    model = NeuMF(8, tower(8), n_epochs=1, batch_size=batch, random_state=0)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        model.fit(inter)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return peak, model.network_


def print_speed(inter, results, specs, repeats, mem_batches):
    n_pos = inter.n_ratings
    n_ex = n_pos * 5
    print(
        f"\nSeconds per epoch ({n_pos:,} positives + 4 negatives each = "
        f"{n_ex:,} examples; one thread; fit(1 + {repeats} epochs) minus "
        f"fit(1 epoch), over {repeats}):"
    )
    print(
        f"{'model':<10} {'batch':>6} {'steps':>6} {'wall s':>7} "
        f"{'CPU s':>6} {'CPU us/example':>15}"
    )
    models = [
        ("GMF", GMF, {"n_factors": 8}),
        ("MLP", MLP, {"layers": tower(8)}),
        ("NeuMF", NeuMF, {"n_factors": 8, "layers": tower(8)}),
    ]
    per_epoch = {}
    for name, cls, params in models:
        for batch in (256, 1024):
            wall, cpu = epoch_seconds(
                cls, {**params, "batch_size": batch}, inter, repeats
            )
            per_epoch[name, batch] = wall, cpu
            print(
                f"{name:<10} {batch:>6} {-(-n_ex // batch):>6,} "
                f"{wall:>7.2f} {cpu:>6.2f} {1e6 * cpu / n_ex:>15.2f}"
            )
    names = [
        s.name for s in specs if s.name in ("PureSVD", "ImplicitALS", "BPR")
    ]
    if names:
        print(
            "\nfor comparison, whole fits (median over the seeds of the "
            "runs above; else one fit, seed 0):"
        )
        print(f"{'model':<12} {'wall s':>7} {'CPU s':>6}  settings")
    if any(name not in results for name in names):
        warm_up(inter.to_frame())
    for spec in specs:
        if spec.name not in names:
            continue
        if spec.name in results:
            times = results[spec.name][1]
        else:
            times = np.array([timed_fit(spec.make(0), inter)])
        print(
            f"{spec.name:<12} {np.median(times[:, 0]):>7.2f} "
            f"{np.median(times[:, 1]):>6.2f}  {describe(spec.params)}"
        )
    dense = inter.n_users * inter.n_items * 8
    print(
        f"\nPeak memory of a one-epoch NeuMF fit (tracemalloc, above the "
        f"start), against the activations of one batch; a dense "
        f"{inter.n_users:,} x {inter.n_items:,} float64 matrix would "
        f"take {dense / 2**20:.1f} MiB:"
    )
    print(
        f"{'batch':>6} {'peak MiB':>9} {'growth MiB':>11} "
        f"{'activations MiB':>16}"
    )
    first = None
    for batch in mem_batches:
        peak, net = neumf_peak_memory(inter, batch)
        first = peak if first is None else first
        act = batch * net.floats_per_example() * 8
        print(
            f"{batch:>6} {peak / 2**20:>9.1f} "
            f"{(peak - first) / 2**20:>11.1f} {act / 2**20:>16.1f}"
        )
    n_param = sum(p.value.nbytes for p in net.parameters())
    print(
        f"(growth: over batch {mem_batches[0]}; activations: batch x "
        f"{net.floats_per_example()} floats of the forward pass, which "
        f"backward about doubles. The part that does not depend on the "
        f"batch: the weights, {n_param / 2**20:.1f} MiB, and Adam's two "
        f"moments of the same size, proportional to users + items; the "
        f"epoch's {n_ex:,} examples, {n_ex * 24 / 2**20:.1f} MiB a copy "
        f"(several while they are drawn and shuffled), proportional to "
        f"the interactions. The batch shows once its activations outgrow "
        f"these.)"
    )
    torch_reference(inter, per_epoch, repeats)


def torch_reference(inter, per_epoch, repeats):
    """The same NeuMF in PyTorch, timed per epoch, when torch is there."""
    try:
        import torch
    except ImportError:
        print(
            "\nPyTorch not installed: no time reference (optional; the CPU "
            "build, pip install torch==2.13.0, in a separate environment)."
        )
        return
    torch.set_num_threads(1)
    layers, k = tower(8), 8

    class TorchNeuMF(torch.nn.Module):
        def __init__(self, n_users, n_items):
            super().__init__()
            d = layers[0] // 2

            def emb(n, m):
                e = torch.nn.Embedding(n, m, sparse=True)
                torch.nn.init.normal_(e.weight, std=0.01)
                return e

            self.p_g, self.q_g = emb(n_users, k), emb(n_items, k)
            self.p_m, self.q_m = emb(n_users, d), emb(n_items, d)
            mods = []
            for a, b in zip(layers[:-1], layers[1:]):
                mods += [torch.nn.Linear(a, b), torch.nn.ReLU()]
            self.tower = torch.nn.Sequential(*mods)
            self.out = torch.nn.Linear(k + layers[-1], 1)

        def forward(self, u, i):
            g = self.p_g(u) * self.q_g(i)
            m = self.tower(torch.cat((self.p_m(u), self.q_m(i)), dim=1))
            return self.out(torch.cat((g, m), dim=1))[:, 0]

    csr = inter.to_csr()
    pos_u = inter.user_idx.astype(np.int64)
    pos_i = inter.item_idx.astype(np.int64)

    def one_epoch(net, opts, batch, rng, dtype):
        neg_u, neg_i = sample_negatives(csr, pos_u, 4, rng)
        u = np.concatenate((pos_u, neg_u))
        i = np.concatenate((pos_i, neg_i))
        y = np.concatenate((np.ones(pos_u.size), np.zeros(neg_u.size)))
        order = rng.permutation(u.size)
        u, i = torch.from_numpy(u[order]), torch.from_numpy(i[order])
        y = torch.from_numpy(y[order]).to(dtype)
        loss_fn = torch.nn.functional.binary_cross_entropy_with_logits
        for a in range(0, u.shape[0], batch):
            for opt in opts:
                opt.zero_grad()
            loss = loss_fn(
                net(u[a : a + batch], i[a : a + batch]), y[a : a + batch]
            )
            loss.backward()
            for opt in opts:
                opt.step()

    print(
        f"\nThe same NeuMF in PyTorch {torch.__version__} (one thread), "
        f"seconds per epoch, and mathrec's time over torch's:"
    )
    print(
        f"{'dtype':<8} {'batch':>6} {'torch wall s':>13} {'CPU s':>6} "
        f"{'mathrec/torch (CPU)':>20}"
    )
    for dtype in (torch.float64, torch.float32):
        for batch in (256, 1024):
            torch.manual_seed(0)
            net = TorchNeuMF(inter.n_users, inter.n_items).to(dtype)
            sparse = [
                p
                for n, p in net.named_parameters()
                if n.split(".")[0] in ("p_g", "q_g", "p_m", "q_m")
            ]
            dense = [
                p
                for n, p in net.named_parameters()
                if n.split(".")[0] not in ("p_g", "q_g", "p_m", "q_m")
            ]
            opts = [
                torch.optim.SparseAdam(sparse, lr=0.001),
                torch.optim.Adam(dense, lr=0.001),
            ]
            rng = np.random.RandomState(0)
            one_epoch(net, opts, batch, rng, dtype)  # warm-up
            t, c = time.perf_counter(), time.process_time()
            for _ in range(repeats):
                one_epoch(net, opts, batch, rng, dtype)
            wall = (time.perf_counter() - t) / repeats
            cpu = (time.process_time() - c) / repeats
            ratio = per_epoch["NeuMF", batch][1] / cpu
            name = str(dtype).replace("torch.", "")
            print(
                f"{name:<8} {batch:>6} {wall:>13.2f} {cpu:>6.2f} {ratio:>20.2f}"
            )
    print("(mathrec computes in float64.)")


# ==================================================================== main
def load(variant, data_home):
    try:
        ratings = load_movielens(variant, data_home)
    except DatasetUnavailableError as exc:
        sys.exit(
            f"{exc}\n\nHint: this benchmark needs MovieLens {variant!r}. "
            "Without a network, copy the unzipped folder into the data "
            "folder (MATHREC_DATA or --data-home), or run it on a variant "
            "that is there, e.g. --variant ml-latest-small."
        )
    return ratings.assign(rating=1.0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--variant", default="ml-1m", choices=list(MOVIELENS_VARIANTS)
    )
    ap.add_argument(
        "--data-home", default=None, help="data folder (default: MATHREC_DATA)"
    )
    ap.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="random states 0..seeds-1 (models and negatives)",
    )
    ap.add_argument(
        "--epochs",
        type=float,
        default=None,
        help="scale of every number of epochs (default 1; 0.25 with --quick)",
    )
    ap.add_argument(
        "--negatives",
        type=int,
        default=99,
        help="sampled negatives per held-out item (99: as in the NCF "
        "authors' test files)",
    )
    ap.add_argument(
        "--tune",
        action="store_true",
        help="choose settings on a validation split",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="5 epochs, one timed epoch, two memory batches",
    )
    ap.add_argument("--only", default=None, help="comma-separated model names")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--no-speed", action="store_true")
    group.add_argument("--speed-only", action="store_true")
    args = ap.parse_args(argv)
    if args.seeds < 1:
        ap.error("--seeds must be at least 1")
    scale = (
        args.epochs
        if args.epochs is not None
        else (0.25 if args.quick else 1.0)
    )
    if not scale > 0:
        ap.error("--epochs must be positive")
    if args.negatives < 1:
        ap.error("--negatives must be at least 1")
    specs = model_specs(scale)
    if args.only:
        only = set(args.only.split(","))
        unknown = only - {s.name for s in specs}
        if unknown:
            ap.error(
                f"--only: unknown model(s) {sorted(unknown)}; choose "
                f"from {[s.name for s in specs]}"
            )
        specs = [s for s in specs if s.name in only]

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    ratings = load(args.variant, args.data_home)
    train, test = leave_last_out(ratings, n=1)
    train_inter = as_interactions(train)
    n_users = ratings["user"].nunique()
    print(
        f"MovieLens {args.variant}: {len(ratings):,} ratings of "
        f"{n_users:,} users and {ratings['item'].nunique():,} items, all "
        f"positives; test: each user's latest ({len(test):,} users; "
        f"{n_users - len(test)} dropped, their item is not in training)"
    )
    if not args.speed_only:
        print(
            f"sampled: the held-out item among {args.negatives} unrated "
            f"items; full: among all unrated items. Mean over users "
            f"(95 % bootstrap interval); seeds 0..{args.seeds - 1}; epochs "
            f"x{scale:g}"
        )

    results = {}
    if not args.speed_only:
        if args.tune:
            run_tuning(specs, train, args.negatives, log)
        print("\nSettings:")
        for spec in specs:
            print(f"  {spec.name:<13} {describe(spec.params) or '-'}")
        results = evaluate_models(
            specs,
            train_inter,
            test,
            ratings,
            range(args.seeds),
            args.negatives,
            log,
        )
        print()
        print_results(results, args.seeds)
        factors = {s.name: s.params.get("n_factors") for s in specs}
        print_published(
            results, args.variant, args.negatives, factors.get("NeuMF-pre")
        )
    if not args.no_speed:
        repeats = 1 if args.quick else 2
        mem = (256, 65536) if args.quick else (256, 8192, 65536)
        print_speed(train_inter, results, specs, repeats, mem)
    return 0


if __name__ == "__main__":
    sys.exit(main())
