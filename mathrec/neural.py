r"""Neural collaborative filtering in NumPy: GMF, MLP and NeuMF (He et al. 2017).

Every observed interaction is a positive example ($y = 1$); for each one,
``n_negatives`` items the user has not interacted with are drawn as negatives
($y = 0$), and a network that maps a (user, item) pair to a logit $z$ is
trained to minimise the binary cross-entropy of $\sigma(z)$ against $y$ --
the loss of :func:`mathrec.losses.binary_cross_entropy`, computed from the
logits.

The network is built from three kinds of layer, each with an explicit
``forward`` and ``backward`` so that one pass of back-propagation can be read
line by line:

- :class:`Embedding`: a table lookup, $e = W_{[\text{idx}]}$; its gradient is
  a sum of rows, accumulated only for the rows the batch touched;
- :class:`Dense`: $a = \operatorname{ReLU}(x W + b)$ (or no activation for an
  output layer);
- :class:`LogitBCE`: the sigmoid output fused with the cross-entropy, whose
  gradient with respect to the logit is $(\sigma(z) - y) / B$.

:class:`SGD` and :class:`Adam` update the parameters from their gradients;
:func:`sample_negatives` draws the negatives, uniformly and without a Python
loop. :class:`GMFNetwork`, :class:`MLPNetwork` and :class:`NeuMFNetwork`
assemble the layers; :class:`GMF`, :class:`MLP` and :class:`NeuMF` are the
estimators (``fit``, ``predict``, ``recommend``).

Memory: the network's activations and gradients are proportional to the
mini-batch (embedding gradients are kept for the rows the batch touched
only, and Adam moves only those rows); an epoch's list of examples is
proportional to the number of interactions; scoring works in blocks of at
most 32 MiB of activations. Nothing is ever of size users x items. Speed: one
NeuMF epoch on ml-latest-small (100,836 positives, 4 negatives each, batches
of 256, ``layers=(64, 32, 16)``) takes about 2 s of CPU time.

Taught in chapter 3 (deep learning).
"""

from __future__ import annotations

import copy
import numbers
import time

import numpy as np
import pandas as pd
from scipy.special import expit

from ._base import (
    DivergenceError,
    RecommenderMixin,
    _one_blas_thread,
    check_positive_int,
    check_random_state,
)
from ._validation import check_bool, check_choice, check_real
from .data import as_interactions
from .losses import binary_cross_entropy

__all__ = [
    "Parameter",
    "Embedding",
    "Dense",
    "LogitBCE",
    "SGD",
    "Adam",
    "sample_negatives",
    "GMFNetwork",
    "MLPNetwork",
    "NeuMFNetwork",
    "GMF",
    "MLP",
    "NeuMF",
]

# Scoring works on at most this many float64 activations at once (32 MiB).
_CHUNK_FLOATS = 1 << 22


# ===================================================================== layers
class Parameter:
    """A weight array with its gradient.

    Attributes
    ----------
    value : numpy.ndarray
        The weights (updated in place by the optimisers).
    grad : numpy.ndarray or None
        The gradient of the last ``backward``: the same shape as ``value``,
        or, when ``rows`` is set, one row per entry of ``rows``.
    rows : numpy.ndarray of int or None
        For an embedding table: the (sorted, distinct) rows that the batch
        touched; every other row has a zero gradient and is not stored.
    name : str
    """

    def __init__(self, value, name):
        self.value = value
        self.name = name
        self.grad = None
        self.rows = None

    def dense_grad(self):
        """The gradient as a full array of the shape of ``value`` (zeros where untouched)."""
        if self.rows is None:
            return np.array(self.grad, dtype=float, copy=True)
        out = np.zeros_like(self.value)
        out[self.rows] = self.grad
        return out

    def __repr__(self):
        return f"Parameter({self.name!r}, shape={self.value.shape})"


def _sum_rows(idx, grad):
    """Distinct rows of ``idx`` and the sum of the rows of ``grad`` that point to each.

    The scatter-add ``G[idx] += grad`` without ``np.add.at`` (several times
    slower): ``np.unique`` numbers the distinct rows, and one ``np.bincount``
    over the flattened ``(row, column)`` positions adds the values, in a fixed
    order. Time and memory are proportional to the batch, not to the table.
    """
    rows, inverse = np.unique(idx, return_inverse=True)
    d = grad.shape[1]
    flat = (inverse[:, None] * d + np.arange(d)).ravel()
    sums = np.bincount(flat, weights=grad.ravel(), minlength=rows.size * d)
    return rows, sums.reshape(rows.size, d)


class Embedding:
    r"""A lookup table: row ``idx`` of a weight matrix for each index.

    Parameters
    ----------
    n : int
        Number of rows (users or items).
    dim : int
        Length of each vector.
    rng : numpy.random.RandomState or numpy.random.Generator
    std : float, default 0.01
        Initial weights are drawn from $\mathcal N(0, \text{std}^2)$, as in
        He et al. (2017).
    name : str, default "embedding"

    Notes
    -----
    Forward, for a batch of indices $\text{idx}_1, \dots, \text{idx}_B$:

    .. math:: e_b = W_{\text{idx}_b}, \qquad b = 1, \dots, B.

    Backward: given $g_b = \partial L / \partial e_b$, row $r$ of the weight
    gradient is the sum of the $g_b$ of the examples that looked it up,

    .. math:: \frac{\partial L}{\partial W_r} = \sum_{b : \text{idx}_b = r} g_b,

    and zero for rows no example used; only the used rows are stored
    (``weight.rows``). The indices have no gradient.

    Examples
    --------
    >>> import numpy as np
    >>> emb = Embedding(4, 2, rng=np.random.RandomState(0))
    >>> e = emb.forward(np.array([3, 1, 3]))
    >>> emb.backward(np.ones((3, 2)))
    >>> emb.weight.rows.tolist(), emb.weight.grad.tolist()
    ([1, 3], [[1.0, 1.0], [2.0, 2.0]])
    """

    def __init__(self, n, dim, *, rng, std=0.01, name="embedding"):
        self.weight = Parameter(rng.normal(0.0, std, size=(n, dim)), name)
        self._idx = None

    def forward(self, idx):
        """Rows ``idx`` of the table, shape ``(len(idx), dim)``."""
        self._idx = idx
        return self.weight.value[idx]

    def backward(self, grad_out):
        """Store the row-sparse gradient of the table; returns None (indices have none)."""
        self.weight.rows, self.weight.grad = _sum_rows(self._idx, grad_out)

    def parameters(self):
        """``[weight]``."""
        return [self.weight]

    def clear(self):
        """Forget the cached inputs of the last forward pass."""
        self._idx = None


class Dense:
    r"""A fully connected layer, $a = \phi(x W + b)$, with $\phi$ = ReLU or the identity.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    rng : numpy.random.RandomState or numpy.random.Generator
    activation : {"relu", None}, default "relu"
        None for an output layer that returns logits.
    name : str, default "dense"

    Notes
    -----
    Weights start Glorot-uniform, $W_{jk} \sim U(-c, c)$ with
    $c = \sqrt{6 / (n_\text{in} + n_\text{out})}$ (the default of the Keras
    code of He et al.); biases start at 0.

    Forward, for a batch $X$ of shape $(B, n_\text{in})$:

    .. math:: Z = X W + \mathbf 1 b^\top, \qquad A = \max(Z, 0).

    Backward, given $G = \partial L / \partial A$:

    .. math::

        \Delta = G \odot 1[Z > 0], \qquad
        \frac{\partial L}{\partial W} = X^\top \Delta, \qquad
        \frac{\partial L}{\partial b} = \Delta^\top \mathbf 1, \qquad
        \frac{\partial L}{\partial X} = \Delta W^\top.

    (Without activation, $\Delta = G$.) At $Z = 0$ the ReLU's derivative is
    taken to be 0.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Dense(3, 2, rng=np.random.RandomState(0))
    >>> a = layer.forward(np.ones((4, 3)))
    >>> layer.backward(np.ones((4, 2))).shape, layer.weight.grad.shape
    ((4, 3), (3, 2))
    """

    def __init__(self, n_in, n_out, *, rng, activation="relu", name="dense"):
        if activation not in ("relu", None):
            raise ValueError(
                f"activation must be 'relu' or None; got {activation!r}"
            )
        limit = np.sqrt(6.0 / (n_in + n_out))
        self.weight = Parameter(
            rng.uniform(-limit, limit, size=(n_in, n_out)), f"{name}.weight"
        )
        self.bias = Parameter(np.zeros(n_out), f"{name}.bias")
        self.activation = activation
        self._x = None
        self._active = None

    def forward(self, x):
        """$\\phi(x W + b)$, shape ``(len(x), n_out)``."""
        self._x = x
        z = x @ self.weight.value + self.bias.value
        if self.activation is None:
            return z
        self._active = z > 0
        return z * self._active

    def backward(self, grad_out):
        """Store the gradients of weight and bias; return $\\partial L / \\partial x$."""
        delta = grad_out if self.activation is None else grad_out * self._active
        self.weight.grad = self._x.T @ delta
        self.bias.grad = delta.sum(axis=0)
        return delta @ self.weight.value.T

    def parameters(self):
        """``[weight, bias]``."""
        return [self.weight, self.bias]

    def clear(self):
        """Forget the cached inputs of the last forward pass."""
        self._x = self._active = None


class LogitBCE:
    r"""The sigmoid output and the binary cross-entropy, fused: logits in, mean loss out.

    Notes
    -----
    For logits $z_b$ and labels $y_b \in \{0, 1\}$ of a batch of $B$
    examples, the forward pass is
    :func:`mathrec.losses.binary_cross_entropy` with ``logits=z``:

    .. math::
        \begin{aligned}
        L &= \frac1B \sum_{b=1}^B \bigl[y_b \operatorname{softplus}(-z_b)
              + (1 - y_b) \operatorname{softplus}(z_b)\bigr] \\
          &= -\frac1B \sum_b \bigl[y_b \log\sigma(z_b)
              + (1 - y_b)\log(1 - \sigma(z_b))\bigr].
        \end{aligned}

    Since $\operatorname{softplus}'(z) = \sigma(z)$ and
    $\sigma(-z) = 1 - \sigma(z)$, the derivative of one term is
    $-y\,(1 - \sigma(z)) + (1 - y)\,\sigma(z) = \sigma(z) - y$, and the
    backward pass is

    .. math:: \frac{\partial L}{\partial z_b} = \frac{\sigma(z_b) - y_b}{B}:

    the prediction error, which stays large when the model is confidently
    wrong. Fusing the two avoids computing $\log\sigma(z)$, which underflows
    for large $|z|$.

    Examples
    --------
    >>> import numpy as np
    >>> out = LogitBCE()
    >>> round(out.forward(np.array([0.0, 2.0]), np.array([1.0, 0.0])), 4)
    1.41
    >>> out.backward().round(4).tolist()
    [-0.25, 0.4404]
    """

    def __init__(self):
        self._z = self._y = None

    def forward(self, z, y):
        """Mean cross-entropy of ``sigmoid(z)`` against labels ``y``."""
        self._z, self._y = z, y
        return binary_cross_entropy(y, logits=z)

    def backward(self):
        """$\\partial L / \\partial z = (\\sigma(z) - y) / B$."""
        return (expit(self._z) - self._y) / self._z.shape[0]

    def clear(self):
        """Forget the cached logits and labels."""
        self._z = self._y = None


# ================================================================ optimisers
class SGD:
    r"""Mini-batch stochastic gradient descent, $\theta \leftarrow \theta - \eta\, g$.

    Parameters
    ----------
    params : list of Parameter
    lr : float
        The learning rate $\eta$.

    Notes
    -----
    For an embedding table only the rows of the batch move (the others have
    a zero gradient), so a step costs time proportional to the batch.

    Examples
    --------
    >>> import numpy as np
    >>> p = Parameter(np.array([1.0, 2.0]), "w")
    >>> p.grad = np.array([0.5, -1.0])
    >>> SGD([p], lr=0.1).step()
    >>> p.value.tolist()
    [0.95, 2.1]
    """

    def __init__(self, params, lr):
        self.params = list(params)
        self.lr = lr

    def step(self):
        """Update every parameter from its current gradient."""
        for p in self.params:
            if p.rows is None:
                p.value -= self.lr * p.grad
            else:
                p.value[p.rows] -= self.lr * p.grad


class Adam:
    r"""Adam (Kingma & Ba 2015), lazy on the rows of embedding tables.

    Parameters
    ----------
    params : list of Parameter
    lr : float, default 0.001
        Step size $\eta$.
    beta1, beta2 : float, default 0.9 and 0.999
        Decay rates of the first and second moment estimates.
    eps : float, default 1e-8

    Notes
    -----
    At step $t$, with gradient $g$ of a parameter $\theta$:

    .. math::

        m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2,

        \theta \leftarrow \theta - \eta\,
        \frac{m / (1 - \beta_1^t)}{\sqrt{v / (1 - \beta_2^t)} + \epsilon}.

    For an embedding table, $m$, $v$ and $\theta$ are updated only on the rows
    the batch touched (the "lazy" Adam of PyTorch's ``SparseAdam`` and
    TensorFlow's ``LazyAdam``): a row's moments decay only when the row is
    used. Dense Adam would touch all $n_\text{users} + n_\text{items}$ rows
    at every step, a cost proportional to the catalogue, not the batch.

    References
    ----------
    .. [1] D. P. Kingma and J. Ba, "Adam: a method for stochastic
       optimization", ICLR 2015, arXiv:1412.6980.

    Examples
    --------
    >>> import numpy as np
    >>> p = Parameter(np.array([1.0]), "w")
    >>> p.grad = np.array([4.0])
    >>> Adam([p], lr=0.1).step()  # the first step is lr * sign(g)
    >>> p.value.round(6).tolist()
    [0.9]
    """

    def __init__(self, params, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params = list(params)
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = [np.zeros_like(p.value) for p in self.params]
        self.v = [np.zeros_like(p.value) for p in self.params]
        self.t = 0

    def step(self):
        """One Adam update of every parameter from its current gradient."""
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        c1 = self.lr / (1.0 - b1**self.t)
        c2 = 1.0 / (1.0 - b2**self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad
            if p.rows is None:
                m *= b1
                m += (1.0 - b1) * g
                v *= b2
                v += (1.0 - b2) * (g * g)
                p.value -= c1 * m / (np.sqrt(v * c2) + self.eps)
            else:
                r = p.rows
                mr = b1 * m[r] + (1.0 - b1) * g
                vr = b2 * v[r] + (1.0 - b2) * (g * g)
                m[r] = mr
                v[r] = vr
                p.value[r] -= c1 * mr / (np.sqrt(vr * c2) + self.eps)


# ========================================================= negative sampling
def _unseen_keys(indptr, indices, n_items):
    """Per stored entry ``t`` of row ``u``: ``u * n_items + (indices[t] - position of t in its row)``.

    ``indices[t] - position`` counts the items of row ``u`` that come before
    ``indices[t]`` and are *not* stored; it is non-decreasing along a row, and
    the offset ``u * n_items`` makes the whole array non-decreasing.
    """
    counts = np.diff(indptr)
    row = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    position = np.arange(len(indices), dtype=np.int64) - indptr[row]
    return row * n_items + (indices.astype(np.int64) - position)


def sample_negatives(csr, users, n_negatives, rng, *, _keys=None):
    r"""For each user in ``users``, ``n_negatives`` items drawn uniformly from those it has not interacted with.

    Parameters
    ----------
    csr : scipy.sparse.csr_matrix, shape (n_users, n_items)
        The interactions; a stored entry (whatever its value) is an
        interaction. Indices must be sorted within rows (``sort_indices``).
    users : array of int
        Internal user indices (repeats allowed: one per positive example).
    n_negatives : int
    rng : numpy.random.RandomState or numpy.random.Generator

    Returns
    -------
    users, items : numpy.ndarray of int64
        ``users`` repeated ``n_negatives`` times each (``np.repeat``), and one
        sampled item for each; users who interacted with every item get no
        negatives (they are dropped from both arrays).

    Notes
    -----
    Without rejection and without a loop: for a user with sorted
    interacted items $s_0 < s_1 < \dots$ and $f$ free items, draw
    $r \sim U\{0, \dots, f - 1\}$; the $r$-th free item (from 0) is

    .. math:: j = r + \#\{t : s_t - t \le r\},

    because $s_t - t$ is the number of free items before $s_t$. One
    ``searchsorted`` over all users at once finds the count.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> R = sp.csr_matrix(np.array([[1, 0, 1, 0], [1, 1, 1, 0]]))
    >>> u, j = sample_negatives(R, np.array([0, 1]), 20, np.random.RandomState(0))
    >>> u.tolist() == [0] * 20 + [1] * 20
    True
    >>> sorted(set(j[u == 0].tolist())), sorted(set(j[u == 1].tolist()))
    ([1, 3], [3])
    """
    n_items = csr.shape[1]
    indptr = csr.indptr.astype(np.int64)
    keys = (
        _unseen_keys(indptr, csr.indices, n_items) if _keys is None else _keys
    )
    free = n_items - np.diff(indptr)
    u = np.repeat(np.asarray(users, dtype=np.int64), n_negatives)
    f = free[u]
    if (f == 0).any():
        u, f = u[f > 0], f[f > 0]
    r = np.minimum(np.floor(rng.random(u.size) * f).astype(np.int64), f - 1)
    before = np.searchsorted(keys, u * n_items + r, side="right") - indptr[u]
    return u, r + before


# ================================================================== networks
class GMFNetwork:
    r"""Generalized matrix factorisation: $z = h^\top (p_u \odot q_i) + b$.

    Parameters
    ----------
    n_users, n_items, n_factors : int
    rng : numpy.random.RandomState or numpy.random.Generator
    init_std : float, default 0.01

    Notes
    -----
    Forward: $p = P_u$, $q = Q_i$, $\phi = p \odot q$, $z = h^\top\phi + b$.
    Backward from $\delta = \partial L / \partial z$:

    .. math::

        \frac{\partial L}{\partial h} = \sum_b \delta_b \phi_b,\quad
        \frac{\partial L}{\partial \phi} = \delta h,\quad
        \frac{\partial L}{\partial p} = \frac{\partial L}{\partial \phi} \odot q,\quad
        \frac{\partial L}{\partial q} = \frac{\partial L}{\partial \phi} \odot p.

    With $h = \mathbf 1$ and $b = 0$ this is matrix factorisation,
    $z = p_u^\top q_i$.
    """

    def __init__(self, n_users, n_items, n_factors, *, rng, init_std=0.01):
        self.user_embedding = Embedding(
            n_users, n_factors, rng=rng, std=init_std, name="gmf.user_embedding"
        )
        self.item_embedding = Embedding(
            n_items, n_factors, rng=rng, std=init_std, name="gmf.item_embedding"
        )
        self.output = Dense(
            n_factors, 1, rng=rng, activation=None, name="gmf.output"
        )
        self._p = self._q = None

    def features(self, users, items):
        """$\\phi = p_u \\odot q_i$, the input of the output layer."""
        self._p = self.user_embedding.forward(users)
        self._q = self.item_embedding.forward(items)
        return self._p * self._q

    def backward_features(self, grad_phi):
        """Back-propagate $\\partial L / \\partial \\phi$ into the embeddings."""
        self.user_embedding.backward(grad_phi * self._q)
        self.item_embedding.backward(grad_phi * self._p)

    def forward(self, users, items):
        """Logits $z$, shape ``(len(users),)``."""
        return self.output.forward(self.features(users, items))[:, 0]

    def backward(self, grad_z):
        """Store every parameter's gradient, given $\\partial L / \\partial z$."""
        self.backward_features(self.output.backward(grad_z[:, None]))

    def feature_parameters(self):
        return (
            self.user_embedding.parameters() + self.item_embedding.parameters()
        )

    def parameters(self):
        """Every trainable :class:`Parameter`."""
        return self.feature_parameters() + self.output.parameters()

    def clear(self):
        """Forget the cached activations (they hold a batch, or a block of scores)."""
        for layer in (self.user_embedding, self.item_embedding, self.output):
            layer.clear()
        self._p = self._q = None

    def floats_per_example(self):
        """Activations a forward pass holds per example: $p$, $q$, $\\phi$ and $z$."""
        return 3 * self.user_embedding.weight.value.shape[1] + 1


class MLPNetwork:
    r"""A multi-layer perceptron over the concatenated embeddings.

    Parameters
    ----------
    n_users, n_items : int
    layers : sequence of int
        ``layers[0]`` is the width of the concatenated embedding (each of the
        user and item embeddings has ``layers[0] // 2`` entries); each further
        entry is a ReLU layer's width (He et al.'s code uses the same
        convention: ``(64, 32, 16, 8)``).
    rng : numpy.random.RandomState or numpy.random.Generator
    init_std : float, default 0.01

    Notes
    -----
    Forward: $x_0 = [p_u; q_i]$, $x_l = \operatorname{ReLU}(x_{l-1} W_l + b_l)$
    for $l = 1, \dots, L$, $z = h^\top x_L + b$. Backward: the output layer and
    each :class:`Dense` layer in reverse order turn $\partial L/\partial x_l$
    into $\partial L/\partial x_{l-1}$; the first $d$ columns of
    $\partial L / \partial x_0$ go to the user embedding, the rest to the
    item embedding.
    """

    def __init__(self, n_users, n_items, layers, *, rng, init_std=0.01):
        layers = tuple(int(w) for w in layers)
        d = layers[0] // 2
        self.user_embedding = Embedding(
            n_users, d, rng=rng, std=init_std, name="mlp.user_embedding"
        )
        self.item_embedding = Embedding(
            n_items, d, rng=rng, std=init_std, name="mlp.item_embedding"
        )
        self.tower = [
            Dense(a, b, rng=rng, activation="relu", name=f"mlp.layer{l}")
            for l, (a, b) in enumerate(zip(layers[:-1], layers[1:]), start=1)
        ]
        self.output = Dense(
            layers[-1], 1, rng=rng, activation=None, name="mlp.output"
        )
        self._d = d

    def features(self, users, items):
        """$x_L$, the output of the last ReLU layer."""
        x = np.concatenate(
            (
                self.user_embedding.forward(users),
                self.item_embedding.forward(items),
            ),
            axis=1,
        )
        for layer in self.tower:
            x = layer.forward(x)
        return x

    def backward_features(self, grad_x):
        """Back-propagate $\\partial L / \\partial x_L$ through the tower into the embeddings."""
        for layer in reversed(self.tower):
            grad_x = layer.backward(grad_x)
        self.user_embedding.backward(grad_x[:, : self._d])
        self.item_embedding.backward(grad_x[:, self._d :])

    def forward(self, users, items):
        """Logits $z$, shape ``(len(users),)``."""
        return self.output.forward(self.features(users, items))[:, 0]

    def backward(self, grad_z):
        """Store every parameter's gradient, given $\\partial L / \\partial z$."""
        self.backward_features(self.output.backward(grad_z[:, None]))

    def feature_parameters(self):
        out = (
            self.user_embedding.parameters() + self.item_embedding.parameters()
        )
        for layer in self.tower:
            out += layer.parameters()
        return out

    def parameters(self):
        """Every trainable :class:`Parameter`."""
        return self.feature_parameters() + self.output.parameters()

    def clear(self):
        """Forget the cached activations."""
        for layer in [
            self.user_embedding,
            self.item_embedding,
            *self.tower,
            self.output,
        ]:
            layer.clear()

    def floats_per_example(self):
        """Activations a forward pass holds per example (embeddings, their concatenation,
        each layer's pre-activation and output, the logit)."""
        return (
            4 * self._d
            + sum(2 * layer.weight.value.shape[1] for layer in self.tower)
            + 1
        )


class NeuMFNetwork:
    r"""NeuMF: GMF and MLP side by side, one output layer over both.

    Parameters
    ----------
    n_users, n_items, n_factors : int
        ``n_factors`` is the GMF embedding size.
    layers : sequence of int
        The MLP part (see :class:`MLPNetwork`).
    rng : numpy.random.RandomState or numpy.random.Generator
    init_std : float, default 0.01

    Notes
    -----
    The two parts have their own embeddings. Forward:

    .. math:: z = h^\top \begin{bmatrix}\phi^\text{GMF} \\ x_L^\text{MLP}\end{bmatrix} + b;

    backward: $\partial L / \partial[\phi; x_L] = \delta h$ is split between
    the two parts, which back-propagate as on their own.

    :meth:`load_pretrained` sets the weights from a fitted GMF and MLP
    network, with output weights $h = [\alpha h^\text{GMF}; (1 - \alpha)
    h^\text{MLP}]$ and bias $b = \alpha b^\text{GMF} + (1-\alpha) b^\text{MLP}$.
    """

    def __init__(
        self, n_users, n_items, n_factors, layers, *, rng, init_std=0.01
    ):
        self.gmf = GMFNetwork(
            n_users, n_items, n_factors, rng=rng, init_std=init_std
        )
        self.mlp = MLPNetwork(
            n_users, n_items, layers, rng=rng, init_std=init_std
        )
        self.output = Dense(
            n_factors + int(layers[-1]),
            1,
            rng=rng,
            activation=None,
            name="neumf.output",
        )
        self._k = n_factors

    def load_pretrained(self, gmf, mlp, alpha=0.5):
        """Copy the weights of fitted :class:`GMFNetwork` ``gmf`` and :class:`MLPNetwork` ``mlp``."""
        self.gmf = copy.deepcopy(gmf)
        self.mlp = copy.deepcopy(mlp)
        self.gmf.clear()
        self.mlp.clear()
        self.output.weight.value[...] = np.concatenate(
            (
                alpha * gmf.output.weight.value,
                (1.0 - alpha) * mlp.output.weight.value,
            )
        )
        self.output.bias.value[...] = (
            alpha * gmf.output.bias.value
            + (1.0 - alpha) * mlp.output.bias.value
        )
        return self

    def forward(self, users, items):
        """Logits $z$, shape ``(len(users),)``."""
        x = np.concatenate(
            (self.gmf.features(users, items), self.mlp.features(users, items)),
            axis=1,
        )
        return self.output.forward(x)[:, 0]

    def backward(self, grad_z):
        """Store every parameter's gradient, given $\\partial L / \\partial z$."""
        g = self.output.backward(grad_z[:, None])
        self.gmf.backward_features(g[:, : self._k])
        self.mlp.backward_features(g[:, self._k :])

    def parameters(self):
        """Every trainable :class:`Parameter` (not the two parts' unused output layers)."""
        return (
            self.gmf.feature_parameters()
            + self.mlp.feature_parameters()
            + self.output.parameters()
        )

    def clear(self):
        """Forget the cached activations."""
        self.gmf.clear()
        self.mlp.clear()
        self.output.clear()

    def floats_per_example(self):
        """Activations a forward pass holds per example (both parts and their concatenation)."""
        return (
            self.gmf.floats_per_example()
            + self.mlp.floats_per_example()
            + self.output.weight.value.shape[0]
        )


# ================================================================ estimators
def _check_float(
    value, name, *, low=0.0, high=None, strict_low=True, strict_high=False
):
    closed = {
        (False, False): "both",
        (False, True): "left",
        (True, False): "right",
        (True, True): "neither",
    }[strict_low, strict_high]
    return check_real(value, name, low=low, high=high, closed=closed)


def _check_layers(layers):
    msg = (
        "layers must be a sequence of positive integers whose first entry (the "
        "width of "
        "the concatenated user and item embeddings) is even; got "
    )
    if (
        isinstance(layers, (str, bytes))
        or not hasattr(layers, "__len__")
        or len(layers) == 0
    ):
        raise ValueError(msg + repr(layers))
    for w in layers:
        if isinstance(w, bool) or not isinstance(w, numbers.Integral) or w < 1:
            raise ValueError(msg + repr(layers))
    if layers[0] % 2 or layers[0] < 2:
        raise ValueError(msg + repr(layers))
    return tuple(int(w) for w in layers)


class _NeuralRecommender(RecommenderMixin):
    """Training loop, prediction and scoring shared by GMF, MLP and NeuMF (not public)."""

    predicts_ratings = False

    # --------------------------------------------------------------- checks
    def _check_common(self):
        self._n_epochs = check_positive_int(self.n_epochs, "n_epochs")
        self._batch_size = check_positive_int(self.batch_size, "batch_size")
        self._n_negatives = check_positive_int(
            self.n_negatives, "n_negatives", minimum=0
        )
        self._lr = _check_float(self.lr, "lr")
        self._init_std = _check_float(self.init_std, "init_std")
        check_choice(self.optimizer, "optimizer", ("adam", "sgd"))
        check_real(self.min_rating, "min_rating", allow_none=True)
        check_bool(self.verbose, "verbose")

    def _check_params(self):
        self._check_common()

    # ------------------------------------------------------------------ fit
    def fit(self, ratings):
        """Train the network on the interactions; returns ``self``.

        Parameters
        ----------
        ratings : pandas.DataFrame or mathrec.data.Interactions
            Columns ``user, item, rating``. Every row is a positive example
            (with ``min_rating``: every row rated at least that).

        Returns
        -------
        self

        Raises
        ------
        TypeError
            For a hyper-parameter of the wrong type (a string for ``lr``,
            ``1`` for ``verbose``); the message names it.
        ValueError
            For a bad hyper-parameter value (the message names it), or when no
            interaction is positive.
        mathrec.DivergenceError
            When the loss or the weights stop being finite.
        """
        self._check_params()
        rng = check_random_state(self.random_state)
        inter = as_interactions(ratings)
        self._train(inter, rng)
        self.interactions_ = inter
        self._csr_cache_ = None
        return self

    def _positives(self, inter):
        keep = np.ones(inter.n_ratings, bool)
        if self.min_rating is not None:
            keep = inter.ratings >= self.min_rating
        if not keep.any():
            raise ValueError(
                f"no interaction is a positive example: every rating is below "
                f"min_rating={self.min_rating!r}"
            )
        return inter.user_idx[keep].astype(np.int64), inter.item_idx[
            keep
        ].astype(np.int64)

    def _train(self, inter, rng, network=None):
        """Build (unless given) and train the network; sets ``network_`` and ``history_``."""
        if network is None:
            network = self._build(inter.n_users, inter.n_items, rng)
        pos_u, pos_i = self._positives(inter)
        csr = inter.to_csr()
        keys = _unseen_keys(
            csr.indptr.astype(np.int64), csr.indices, inter.n_items
        )
        params = network.parameters()
        opt = (
            Adam(params, lr=self._lr)
            if self.optimizer == "adam"
            else SGD(params, lr=self._lr)
        )
        loss_layer = LogitBCE()
        rows = []
        # overflow is detected (non-finite logits or weights) and reported as
        # divergence
        with _one_blas_thread(), np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(1, self._n_epochs + 1):
                rows.append(
                    self._epoch(
                        network,
                        opt,
                        loss_layer,
                        csr,
                        keys,
                        pos_u,
                        pos_i,
                        rng,
                        epoch,
                    )
                )
        network.clear()
        loss_layer.clear()
        self.network_ = network
        self.history_ = pd.DataFrame(rows, columns=["iteration", "objective"])
        return network

    def _epoch(
        self, network, opt, loss_layer, csr, keys, pos_u, pos_i, rng, epoch
    ):
        """One pass: draw negatives, shuffle, one optimiser step per mini-batch."""
        name = type(self).__name__
        bs = self._batch_size
        start = time.perf_counter()
        neg_u, neg_i = sample_negatives(
            csr, pos_u, self._n_negatives, rng, _keys=keys
        )
        users = np.concatenate((pos_u, neg_u))
        items = np.concatenate((pos_i, neg_i))
        labels = np.concatenate((np.ones(pos_u.size), np.zeros(neg_u.size)))
        order = rng.permutation(users.size)
        users, items, labels = users[order], items[order], labels[order]
        total = 0.0
        for a in range(0, users.size, bs):
            u, i, y = users[a : a + bs], items[a : a + bs], labels[a : a + bs]
            z = network.forward(u, i)
            if not np.isfinite(z).all():
                self._diverged(name, epoch)
            loss = loss_layer.forward(z, y)
            network.backward(loss_layer.backward())
            opt.step()
            total += loss * y.size
        if not all(np.isfinite(p.value).all() for p in opt.params):
            self._diverged(name, epoch)
        mean = total / users.size
        if self.verbose:
            print(
                f"{name} epoch {epoch:3d}/{self._n_epochs}  loss {mean:.4f}  "
                f"({time.perf_counter() - start:.1f} s)",
                flush=True,
            )
        return epoch, mean

    def _diverged(self, name, epoch):
        raise DivergenceError(
            f"{name} diverged in epoch {epoch}: the logits or the weights are "
            f"no longer "
            f"finite (lr={self.lr!r}, optimizer={self.optimizer!r}). Advice: "
            f"lower lr "
            f"(Adam's usual range is 1e-4 to 1e-2), or use optimizer='adam'."
        )

    # -------------------------------------------------------------- predict
    def _logits(self, users, items):
        """Logits of index pairs, in chunks of bounded memory."""
        net = self.network_
        out = np.empty(len(users))
        step = max(1, _CHUNK_FLOATS // net.floats_per_example())
        for a in range(0, len(users), step):
            out[a : a + step] = net.forward(
                users[a : a + step], items[a : a + step]
            )
        net.clear()
        return out

    def predict(self, users, items):
        r"""Probabilities $\sigma(z_{ui})$ that ``users[j]`` interacts with ``items[j]``.

        Parameters
        ----------
        users, items : scalar ids or 1-D sequences of ids of the same length

        Returns
        -------
        float or numpy.ndarray of float
            A float for one pair of scalars, else an array.

        Raises
        ------
        mathrec.NotFittedError
        KeyError
            (``UnknownUserError``/``UnknownItemError``) for an id not seen in ``fit``.
        """
        u, i, scalar = self._pair_indices(users, items)
        if len(u) == 0:
            return np.empty(0)
        p = expit(self._logits(u, i))
        return float(p[0]) if scalar else p

    def _score_block(self, user_indices):
        """Logits of every item for a block of users, ``(len(user_indices), n_items)``.

        The ranking score is the logit $z_{ui}$ (the same order as
        $\\sigma(z_{ui})$, without its saturation at 1). Users are scored a few
        at a time, and their (user, item) pairs in chunks, so that no more
        than about 4 million activations (32 MiB) exist at once.
        """
        users = np.asarray(user_indices, dtype=np.intp)
        n_items = self.interactions_.n_items
        out = np.empty((users.size, n_items))
        step = max(
            1,
            _CHUNK_FLOATS
            // (self.network_.floats_per_example() * max(n_items, 1)),
        )
        all_items = np.arange(n_items)
        for a in range(0, users.size, step):
            block = users[a : a + step]
            uu = np.repeat(block, n_items)
            ii = np.tile(all_items, block.size)
            out[a : a + block.size] = self._logits(uu, ii).reshape(
                block.size, n_items
            )
        return out

    def _score_items(self, user_index):
        return self._score_block(np.array([user_index]))[0]


_COMMON_PARAMS = r"""
    n_epochs : int, default 20
        Passes over the positives (each with freshly drawn negatives).
    batch_size : int, default 256
        Examples (positives and negatives, shuffled together) per gradient step.
    lr : float, default 0.001
        Learning rate.
    optimizer : {"adam", "sgd"}, default "adam"
        :class:`Adam` (lazy on embedding rows) or plain :class:`SGD`.
    n_negatives : int, default 4
        Negatives drawn per positive in each epoch, uniformly over the items
        the user has not interacted with (He et al. use 4).
    init_std : float, default 0.01
        Standard deviation of the Gaussian initial embeddings.
    min_rating : float or None, default None
        Only ratings $\ge$ ``min_rating`` are positives (None: every observed
        interaction). Items rated below it are still never drawn as negatives.
    random_state : None, int, RandomState or Generator, default None
        Seeds the initial weights, the negatives and the shuffling.
    verbose : bool, default False
        Print one line per epoch (loss and time)."""

_COMMON_ATTRIBUTES = r"""
    network_ : the trained network
        Its layers hold the weights (``network_.parameters()``).
    history_ : pandas.DataFrame
        One row per epoch: ``iteration`` (the epoch, from 1) and
        ``objective``, the mean training cross-entropy over the epoch's
        examples.
    interactions_ : mathrec.data.Interactions"""


class GMF(_NeuralRecommender):
    __doc__ = (
        r"""Generalized matrix factorisation (He et al. 2017), trained on implicit feedback.

    Parameters
    ----------
    n_factors : int, default 8
        Embedding size $k$ (the paper's "predictive factors")."""
        + _COMMON_PARAMS
        + r"""

    Attributes
    ----------"""
        + _COMMON_ATTRIBUTES
        + r"""

    Notes
    -----
    The score of user $u$ for item $i$ is

    .. math:: \hat y_{ui} = \sigma\big(h^\top (p_u \odot q_i) + b\big),

    trained by minimising the binary cross-entropy over the positives and
    the sampled negatives (:class:`LogitBCE`). Back-propagation, with
    $\delta = \sigma(z) - y$ divided by the batch size:
    $\partial L/\partial h = \sum \delta\,(p_u \odot q_i)$,
    $\partial L/\partial b = \sum\delta$,
    $\partial L/\partial p_u = \sum \delta\, h \odot q_i$ and
    $\partial L/\partial q_i = \sum \delta\, h \odot p_u$ (sums over the
    batch's examples of that user or item); see :class:`GMFNetwork`.

    ``predict`` returns $\hat y_{ui}$; ``recommend`` ranks by the logit
    $z_{ui}$ (the same order), which does not saturate at 1.

    Taught in chapter 3 (deep learning).

    References
    ----------
    .. [1] X. He, L. Liao, H. Zhang, L. Nie, X. Hu and T.-S. Chua, "Neural
       collaborative filtering", WWW 2017, doi:10.1145/3038912.3052569.

    Examples
    --------
    >>> import pandas as pd
    >>> from mathrec.neural import GMF
    >>> df = pd.DataFrame({"user": [1, 1, 2, 2, 3, 3, 4],
    ...                    "item": ["a", "b", "a", "b", "c", "d", "a"],
    ...                    "rating": 1.0})
    >>> model = GMF(n_factors=4, n_epochs=50, batch_size=8, lr=0.05,
    ...             random_state=0).fit(df)
    >>> model.recommend(4, n=1)["item"].tolist()  # users like 4 also chose b
    ['b']
    >>> 0 < model.predict(4, "b") < 1
    True
    """
    )

    def __init__(
        self,
        n_factors=8,
        *,
        n_epochs=20,
        batch_size=256,
        lr=0.001,
        optimizer="adam",
        n_negatives=4,
        init_std=0.01,
        min_rating=None,
        random_state=None,
        verbose=False,
    ):
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.n_negatives = n_negatives
        self.init_std = init_std
        self.min_rating = min_rating
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        self._check_common()
        self._k = check_positive_int(self.n_factors, "n_factors")

    def _build(self, n_users, n_items, rng):
        return GMFNetwork(
            n_users, n_items, self._k, rng=rng, init_std=self._init_std
        )


class MLP(_NeuralRecommender):
    __doc__ = (
        r"""A multi-layer perceptron over user and item embeddings (He et al. 2017).

    Parameters
    ----------
    layers : sequence of int, default (64, 32, 16)
        ``layers[0]``: width of the concatenated embeddings (user and item
        embeddings of ``layers[0] // 2`` each); the rest: widths of the ReLU
        layers (the convention of He et al.'s code)."""
        + _COMMON_PARAMS
        + r"""

    Attributes
    ----------"""
        + _COMMON_ATTRIBUTES
        + r"""

    Notes
    -----
    .. math::

        x_0 = \begin{bmatrix} p_u \\ q_i \end{bmatrix},\quad
        x_l = \operatorname{ReLU}(W_l^\top x_{l-1} + b_l)\ (l = 1..L),\quad
        \hat y_{ui} = \sigma(h^\top x_L + b).

    Backward, layer by layer from $\delta = \partial L / \partial z$:
    $\partial L/\partial x_L = \delta h$, and for each ReLU layer
    $\Delta_l = \partial L/\partial x_l \odot 1[W_l^\top x_{l-1} + b_l > 0]$,
    $\partial L/\partial W_l = x_{l-1}\Delta_l^\top$,
    $\partial L/\partial b_l = \Delta_l$,
    $\partial L/\partial x_{l-1} = W_l \Delta_l$ (summed over the batch);
    see :class:`Dense` and :class:`MLPNetwork`.

    Taught in chapter 3 (deep learning).

    References
    ----------
    .. [1] X. He, L. Liao, H. Zhang, L. Nie, X. Hu and T.-S. Chua, "Neural
       collaborative filtering", WWW 2017, doi:10.1145/3038912.3052569.

    Examples
    --------
    >>> import pandas as pd
    >>> from mathrec.neural import MLP
    >>> df = pd.DataFrame({"user": [1, 1, 2, 2, 3, 3],
    ...                    "item": ["a", "b", "a", "b", "c", "d"],
    ...                    "rating": 1.0})
    >>> model = MLP(layers=(8, 4), n_epochs=3, random_state=0).fit(df)
    >>> model.history_.columns.tolist(), model.history_.shape
    (['iteration', 'objective'], (3, 2))
    """
    )

    def __init__(
        self,
        layers=(64, 32, 16),
        *,
        n_epochs=20,
        batch_size=256,
        lr=0.001,
        optimizer="adam",
        n_negatives=4,
        init_std=0.01,
        min_rating=None,
        random_state=None,
        verbose=False,
    ):
        self.layers = layers
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.n_negatives = n_negatives
        self.init_std = init_std
        self.min_rating = min_rating
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        self._check_common()
        self._layers = _check_layers(self.layers)

    def _build(self, n_users, n_items, rng):
        return MLPNetwork(
            n_users, n_items, self._layers, rng=rng, init_std=self._init_std
        )


class NeuMF(_NeuralRecommender):
    __doc__ = (
        r"""Neural matrix factorisation: GMF and MLP fused under one output layer (He et al. 2017).

    Parameters
    ----------
    n_factors : int, default 8
        Embedding size of the GMF part.
    layers : sequence of int, default (64, 32, 16)
        The MLP part (see :class:`MLP`).
    pretrain : bool, default False
        First fit a :class:`GMF` and an :class:`MLP` with the same settings,
        then start NeuMF from their weights (the paper's pre-training).
    alpha : float in [0, 1], default 0.5
        With ``pretrain``: the weight of the GMF part in the output layer."""
        + _COMMON_PARAMS
        + r"""

    Attributes
    ----------"""
        + _COMMON_ATTRIBUTES
        + r"""
    gmf_, mlp_ : GMF and MLP
        With ``pretrain=True``: the fitted models NeuMF started from.

    Notes
    -----
    .. math:: \hat y_{ui} = \sigma\Big(h^\top
              \begin{bmatrix} p^G_u \odot q^G_i \\ x_L \end{bmatrix} + b\Big),

    with $x_L$ the MLP's last hidden layer over its own embeddings
    $p^M_u, q^M_i$. The gradient $\delta h$ of the concatenated vector is split
    and back-propagated into each part as in :class:`GMF` and :class:`MLP`
    (:class:`NeuMFNetwork`).

    Pre-training (section 3.4.1 of the paper): the embeddings and hidden
    layers are copied from the fitted GMF and MLP, and the output layer
    becomes $h = [\alpha h^\text{GMF}; (1-\alpha) h^\text{MLP}]$,
    $b = \alpha b^\text{GMF} + (1-\alpha) b^\text{MLP}$ (the paper gives
    $h$; its authors' code mixes the biases the same way). The paper then trains
    NeuMF with plain SGD, because Adam's moment estimates are not carried
    over: set ``optimizer="sgd"`` to do the same.

    Taught in chapter 3 (deep learning).

    References
    ----------
    .. [1] X. He, L. Liao, H. Zhang, L. Nie, X. Hu and T.-S. Chua, "Neural
       collaborative filtering", WWW 2017, doi:10.1145/3038912.3052569.

    Examples
    --------
    >>> import pandas as pd
    >>> from mathrec.neural import NeuMF
    >>> df = pd.DataFrame({"user": [1, 1, 2, 2, 3, 3],
    ...                    "item": ["a", "b", "a", "b", "c", "d"],
    ...                    "rating": 1.0})
    >>> model = NeuMF(n_factors=2, layers=(4, 2), n_epochs=2, pretrain=True,
    ...               random_state=0).fit(df)
    >>> model.gmf_.history_.shape, model.history_.shape
    ((2, 2), (2, 2))
    """
    )

    def __init__(
        self,
        n_factors=8,
        layers=(64, 32, 16),
        *,
        pretrain=False,
        alpha=0.5,
        n_epochs=20,
        batch_size=256,
        lr=0.001,
        optimizer="adam",
        n_negatives=4,
        init_std=0.01,
        min_rating=None,
        random_state=None,
        verbose=False,
    ):
        self.n_factors = n_factors
        self.layers = layers
        self.pretrain = pretrain
        self.alpha = alpha
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.n_negatives = n_negatives
        self.init_std = init_std
        self.min_rating = min_rating
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        self._check_common()
        self._k = check_positive_int(self.n_factors, "n_factors")
        self._layers = _check_layers(self.layers)
        check_bool(self.pretrain, "pretrain")
        self._alpha = _check_float(
            self.alpha, "alpha", low=0.0, high=1.0, strict_low=False
        )

    def _build(self, n_users, n_items, rng):
        return NeuMFNetwork(
            n_users,
            n_items,
            self._k,
            self._layers,
            rng=rng,
            init_std=self._init_std,
        )

    def fit(self, ratings):
        self._check_params()
        rng = check_random_state(self.random_state)
        inter = as_interactions(ratings)
        for name in ("gmf_", "mlp_"):
            self.__dict__.pop(name, None)
        network = None
        if self.pretrain:
            shared = {
                k: getattr(self, k)
                for k in (
                    "n_epochs",
                    "batch_size",
                    "lr",
                    "optimizer",
                    "n_negatives",
                    "init_std",
                    "min_rating",
                    "verbose",
                )
            }
            gmf = GMF(self.n_factors, random_state=rng, **shared).fit(inter)
            mlp = MLP(self.layers, random_state=rng, **shared).fit(inter)
            network = self._build(
                inter.n_users, inter.n_items, rng
            ).load_pretrained(gmf.network_, mlp.network_, self._alpha)
            self.gmf_, self.mlp_ = gmf, mlp
        self._train(inter, rng, network)
        self.interactions_ = inter
        self._csr_cache_ = None
        return self

    fit.__doc__ = _NeuralRecommender.fit.__doc__
