"""mathrec.neural's hand-written backward passes against PyTorch's autodiff.

For each of GMF, MLP and NeuMF: a model is trained for one epoch on
ml-latest-small (with ``--synthetic``, or when the data are not there, on
``make_synthetic`` data), so that the weights are no longer their initial
values; then one mini-batch of positives and sampled negatives (4 per
positive) goes through

* mathrec's NumPy network: ``forward``, :class:`mathrec.neural.LogitBCE`
  (``mathrec.losses.binary_cross_entropy`` from logits), ``backward``;
* the same network with the same weights written in PyTorch operations
  (``embedding lookup``, ``x @ W + b``, ``relu``, ``cat``,
  ``binary_cross_entropy_with_logits``), in float64, differentiated by
  ``torch.autograd``.

It prints, per model, the absolute difference of the two losses and, per
parameter, the largest absolute difference of the gradients relative to the
largest gradient entry, and checks that every one is below 1e-10. The
embedding gradients of mathrec are row-sparse; they are compared as full
tables (zeros on untouched rows).

PyTorch is a benchmark-only dependency, never a dependency of mathrec or of
its tests. Install the CPU build (``pip install torch==2.13.0`` on this
project's machines; a plain ``pip install torch`` may fetch a CUDA build of
several GB). Without torch the script says so and exits 0.

    MATHREC_DATA=/work/shared/data .venv/bin/python benchmarks/neural_vs_autodiff.py
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from mathrec.neural import (
    GMF,
    MLP,
    GMFNetwork,
    LogitBCE,
    MLPNetwork,
    NeuMF,
    NeuMFNetwork,
    sample_negatives,
)

TOLERANCE = 1e-10


def _data(synthetic):
    from mathrec import make_synthetic

    if not synthetic:
        try:
            from mathrec import load_movielens

            return load_movielens(), "ml-latest-small"
        except Exception as exc:  # noqa: BLE001 - any failure: fall back, and say so
            print(f"ml-latest-small unavailable ({type(exc).__name__}); using synthetic data")
    return make_synthetic(600, 2000, 60_000, random_state=0)[0], "make_synthetic(600, 2000)"


def _batch(model, size, n_negatives, rng):
    """``size`` positives of the training data and ``n_negatives`` sampled negatives each."""
    inter = model.interactions_
    csr = inter.to_csr()
    pick = rng.choice(inter.n_ratings, size=size, replace=False)
    pos_u = inter.user_idx[pick].astype(np.int64)
    pos_i = inter.item_idx[pick].astype(np.int64)
    neg_u, neg_i = sample_negatives(csr, pos_u, n_negatives, rng)
    u = np.concatenate((pos_u, neg_u))
    i = np.concatenate((pos_i, neg_i))
    y = np.concatenate((np.ones(size), np.zeros(neg_u.size)))
    return u, i, y


def _torch_features(torch, net, T, u, i):
    """The features feeding the output layer, in torch, from the tensors ``T`` of ``net``."""
    if isinstance(net, GMFNetwork):
        return T[id(net.user_embedding.weight)][u] * T[id(net.item_embedding.weight)][i]
    if isinstance(net, MLPNetwork):
        x = torch.cat((T[id(net.user_embedding.weight)][u], T[id(net.item_embedding.weight)][i]),
                      dim=1)
        for layer in net.tower:
            x = torch.relu(x @ T[id(layer.weight)] + T[id(layer.bias)])
        return x
    if isinstance(net, NeuMFNetwork):
        return torch.cat((_torch_features(torch, net.gmf, T, u, i),
                          _torch_features(torch, net.mlp, T, u, i)), dim=1)
    raise TypeError(type(net).__name__)


def _compare(torch, name, net, u, i, y):
    params = net.parameters()
    # mathrec: forward, loss, backward
    out = LogitBCE()
    loss_np = out.forward(net.forward(u, i), y)
    net.backward(out.backward())
    grads_np = {p.name: p.dense_grad() for p in params}
    # torch: the same weights, autodiff
    T = {id(p): torch.tensor(p.value, dtype=torch.float64, requires_grad=True) for p in params}
    tu, ti = torch.as_tensor(u), torch.as_tensor(i)
    ty = torch.as_tensor(y, dtype=torch.float64)
    z = (_torch_features(torch, net, T, tu, ti) @ T[id(net.output.weight)]
         + T[id(net.output.bias)])[:, 0]
    loss_t = torch.nn.functional.binary_cross_entropy_with_logits(z, ty)
    loss_t.backward()
    rows = [(name, "loss", "()", abs(loss_np - loss_t.item()) / max(abs(loss_t.item()), 1e-300),
             loss_np)]
    for p in params:
        g_t = T[id(p)].grad.numpy()
        g = grads_np[p.name]
        scale = max(np.abs(g_t).max(), 1e-300)
        rows.append((name, p.name, str(p.value.shape), np.abs(g - g_t).max() / scale, scale))
    net.clear()
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--synthetic", action="store_true", help="use make_synthetic data")
    parser.add_argument("--batch", type=int, default=256, help="positives in the batch")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: nothing to compare. Install the CPU build "
              "(pip install torch==2.13.0) to run this benchmark.")
        return 0
    torch.set_default_dtype(torch.float64)
    ratings, source = _data(args.synthetic)
    print(f"mathrec.neural vs torch {torch.__version__} autograd, float64; data: {source}; "
          f"batch: {args.batch} positives + 4 negatives each\n")
    rng = np.random.RandomState(0)
    models = [GMF(n_factors=8, n_epochs=1, random_state=0),
              MLP(layers=(64, 32, 16, 8), n_epochs=1, random_state=0),
              NeuMF(n_factors=8, layers=(64, 32, 16, 8), n_epochs=1, random_state=0)]
    table, worst = [], 0.0
    for model in models:
        model.fit(ratings)
        u, i, y = _batch(model, args.batch, 4, rng)
        rows = _compare(torch, type(model).__name__, model.network_, u, i, y)
        table += rows
        worst = max(worst, max(r[3] for r in rows))
    print(f"{'model':6} {'quantity':26} {'shape':12} {'rel. difference':>16} {'scale':>10}")
    for name, what, shape, diff, scale in table:
        print(f"{name:6} {what:26} {shape:12} {diff:16.2e} {scale:10.3g}")
    print("\n(loss rows: |L_mathrec - L_torch| / L_torch, scale = the loss; gradient rows: "
          "max |g_mathrec - g_torch| / max |g_torch|, scale = max |g_torch|)")
    ok = worst < TOLERANCE
    print(f"\nlargest relative difference {worst:.2e}: "
          f"{'below' if ok else 'ABOVE'} the tolerance {TOLERANCE:g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
