r"""Numerical kernels: the inner loops that the models repeat, kept apart from the models.

A kernel takes plain NumPy arrays (and SciPy CSR matrices), updates or returns
arrays, and checks nothing: the estimators validate their inputs once, at the
boundary, and then call these.  The sequential loops are written as scalar
loops so that numba can compile them; numba is imported lazily, on the first
call that asks for a compiled kernel (``import mathrec`` does not import it),
and when it is not installed each kernel's NumPy fallback runs the same
arithmetic, more slowly.

Factorization and ranking kernels (used by :mod:`mathrec.factorization`,
:mod:`mathrec.incremental` and :mod:`mathrec.ranking`):

``rowwise_dot(P, Q, u, i)``
    ``sum(P[u] * Q[i], axis=1)``, the scores $p_u^\top q_i$ of many pairs, in
    chunks of at most ``CHUNK_FLOATS`` floats (no n_pairs x k temporary).
    NumPy only.
``sgd_epoch(u_idx, i_idx, r, order, mu, bu, bi, P, Q, lr_bu, ..., reg_qi, biased)``
    One pass of biased-MF SGD (Surprise's update rules) over the ratings
    ``r[order]``, with the four learning rates ``lr_bu, lr_bi, lr_pu, lr_qi``
    and the four penalties ``reg_bu, reg_bi, reg_pu, reg_qi``, updating
    ``bu, bi, P, Q`` in place; returns None.
    Fallback: ``sgd_epoch_numpy`` (the same updates with NumPy row operations).
``sse(u_idx, i_idx, r, mu, bu, bi, P, Q)``
    The sum of squared errors $\sum (r_{ui} - \mu - b_u - b_i - p_u^\top q_i)^2$.
    Fallback: ``sse_numpy`` (vectorised, through ``rowwise_dot``).
``sgd_kernels(compiled=True)``
    The pair ``(sgd_epoch, sse)``: compiled when ``compiled`` and numba is
    importable, else the NumPy fallbacks.
``cg_half_step(C, X, Y, lam, cg_steps, compiled=True)``
    One implicit-ALS half step: ``cg_steps`` conjugate-gradient steps on
    every row's system $(Y^\top Y + \lambda I + Y^\top (C_u - I) Y)\,x_u =
    Y^\top C_u p_u$, warm-started at ``X``, which it updates in place and
    returns.  ``C`` is the CSR matrix of confidences of the observed cells.
    Compiled: ``cg_rows`` (one row at a time, scalar loops); fallback:
    ``cg_half_step_batched`` (all rows of a chunk advance together in NumPy,
    the same steps).
``bpr_epoch(users, pos, neg, P, Q, b, lr, reg, use_bias)``
    One pass of BPR's SGD over the triples ``(users[t], pos[t], neg[t])``,
    updating ``P, Q, b`` in place; returns the sum of $-\ln\sigma(x_{uij})$,
    each term taken before its own update.  Fallback: ``bpr_epoch_numpy``.
``bpr_kernel(compiled=True)``
    ``bpr_epoch`` compiled when ``compiled`` and numba is importable, else
    ``bpr_epoch_numpy``.
``compiled_kernel(name)``
    The numba dispatch: the compiled version of ``"sgd_epoch"``, ``"sse"``,
    ``"cg_rows"`` or ``"bpr_epoch"`` (compiled once per process, cached on
    disk by numba), or None when numba is not installed.

Neighbourhood kernels (:mod:`mathrec.neighbors`)
------------------------------------------------
``corated_rows(targets, xptr, xcol, xval, tptr, tcol, tval, n)``
    The co-rated sums of each target entity against every entity it shares
    a rater with: for the pair ``(a, b)``, over the raters of both, ``n``,
    ``sum v_a v_b``, ``sum v_a^2``, ``sum v_b^2``, ``sum v_a``, ``sum v_b``.
    ``(xptr, xcol, xval)`` is the CSR of entities x raters, ``(tptr, tcol,
    tval)`` its transpose.  Returns the pairs compactly: per target its
    count, then the partner columns and the six sums of every pair, so that
    the similarities (:mod:`mathrec.similarity`) are computed on the pairs
    that exist only.  Fallback: the sparse products of the model.
``corated_upper(xptr, xcol, xval, tptr, tcol, tval, n)``
    The same for all entities, each against the entities of equal or larger
    index only: half the work, the other half by symmetry.
``knn_pair_sums(S, Sr, rows, self_x, ys, indptr, nbr, val, k)``
    For each pair ``p``: row ``rows[p]`` of the dense similarity slab ``S``
    and column entity ``ys[p]``, whose candidate neighbours
    ``nbr[indptr[y]:indptr[y+1]]`` come in training order with values
    ``val``: among those with a positive rounded similarity ``Sr`` the ``k``
    largest, ties to the earlier candidate; returns the weighted sum, the sum
    of weights and the count (what ``predict`` needs).
``knn_walk_sums(targets, counts, cols, sim, simr, eptr, ec, ev, yptr, ynbr, yval, yof, k, ...)``
    The same sums for every (target, column) of a block at once (what
    ``recommend`` needs): each target's positive neighbours are walked in
    decreasing similarity and their ratings added to their columns until a
    column holds ``k``, so the zero-similarity candidates are never visited.
    Equal results to ``knn_pair_sums``, up to the order of the additions.

``knn_kernels()``
    The tuple ``(corated_rows, pair_sums, walk_sums, corated_upper)``,
    compiled, or None without numba: then ``predict`` uses sparse products
    and ``recommend`` the prediction path.

The compiled and the NumPy versions agree to rounding (the tests compare
them); which one ran never changes a result beyond that.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

# Work arrays are processed in chunks of at most this many float64 numbers
# (32 MiB), so that no step allocates memory proportional to n_ratings * k.
CHUNK_FLOATS = 1 << 22


# ======================================================= numba dispatch
_PLAIN = {}  # name -> the Python (scalar-loop) function that numba compiles
_COMPILED = {}  # name -> its compiled version, or None without numba


def compiled_kernel(name):
    """The numba-compiled kernel ``name``, or None when numba is not installed."""
    if name not in _COMPILED:
        try:
            import numba
        except ImportError:  # pragma: no cover - depends on the environment
            _COMPILED[name] = None
        else:
            jit = numba.njit(cache=True, nogil=True, fastmath=False)
            _COMPILED[name] = jit(_PLAIN[name])
    return _COMPILED[name]


# ============================================ factorization and ranking kernels
def rowwise_dot(P, Q, u, i):
    """``sum(P[u] * Q[i], axis=1)`` in chunks, without an n x k temporary."""
    out = np.empty(len(u), dtype=np.float64)
    step = max(1, CHUNK_FLOATS // max(1, P.shape[1]))
    for a in range(0, len(u), step):
        b = min(a + step, len(u))
        out[a:b] = np.einsum("nk,nk->n", P[u[a:b]], Q[i[a:b]])
    return out


# ------------------------------------------------------------ biased-MF SGD
def sgd_epoch(
    u_idx,
    i_idx,
    r,
    order,
    mu,
    bu,
    bi,
    P,
    Q,
    lr_bu,
    lr_bi,
    lr_pu,
    lr_qi,
    reg_bu,
    reg_bi,
    reg_pu,
    reg_qi,
    biased,
):
    """One SGD pass over ``order`` (Surprise's update rules), in place.

    Written as scalar loops so that numba compiles it to tight machine code.
    """
    k = P.shape[1]
    for t in range(order.shape[0]):
        j = order[t]
        u = u_idx[j]
        i = i_idx[j]
        dot = 0.0
        for f in range(k):
            dot += Q[i, f] * P[u, f]
        err = r[j] - (mu + bu[u] + bi[i] + dot)
        if biased:
            bu[u] += lr_bu * (err - reg_bu * bu[u])
            bi[i] += lr_bi * (err - reg_bi * bi[i])
        for f in range(k):
            puf = P[u, f]
            qif = Q[i, f]
            P[u, f] += lr_pu * (err * qif - reg_pu * puf)
            Q[i, f] += lr_qi * (err * puf - reg_qi * qif)


def sgd_epoch_numpy(
    u_idx,
    i_idx,
    r,
    order,
    mu,
    bu,
    bi,
    P,
    Q,
    lr_bu,
    lr_bi,
    lr_pu,
    lr_qi,
    reg_bu,
    reg_bi,
    reg_pu,
    reg_qi,
    biased,
):
    """The same pass with NumPy row operations: the fallback without numba."""
    for j in order:
        u = u_idx[j]
        i = i_idx[j]
        pu = P[u].copy()
        qi = Q[i]
        err = r[j] - (mu + bu[u] + bi[i] + pu @ qi)
        if biased:
            bu[u] += lr_bu * (err - reg_bu * bu[u])
            bi[i] += lr_bi * (err - reg_bi * bi[i])
        P[u] += lr_pu * (err * qi - reg_pu * pu)
        Q[i] += lr_qi * (err * pu - reg_qi * qi)


def sse(u_idx, i_idx, r, mu, bu, bi, P, Q):
    """Sum of squared errors over the given ratings (scalar loops for numba)."""
    k = P.shape[1]
    total = 0.0
    for j in range(r.shape[0]):
        u = u_idx[j]
        i = i_idx[j]
        dot = 0.0
        for f in range(k):
            dot += Q[i, f] * P[u, f]
        e = r[j] - (mu + bu[u] + bi[i] + dot)
        total += e * e
    return total


def sse_numpy(u_idx, i_idx, r, mu, bu, bi, P, Q):
    e = r - (mu + bu[u_idx] + bi[i_idx] + rowwise_dot(P, Q, u_idx, i_idx))
    return float(e @ e)


def sgd_kernels(compiled=True):
    """``(sgd_epoch, sse)``: compiled when ``compiled`` and numba is importable, else NumPy."""
    if compiled and compiled_kernel("sgd_epoch") is not None:
        return compiled_kernel("sgd_epoch"), compiled_kernel("sse")
    return sgd_epoch_numpy, sse_numpy


# ------------------------------------------------------- implicit ALS by CG
def _row_chunks(indptr, k, budget=CHUNK_FLOATS):
    """Consecutive row ranges whose entries times ``k`` stay within ``budget``."""
    limit = max(1, budget // max(1, k))
    bounds = [0]
    n = len(indptr) - 1
    while bounds[-1] < n:
        a = bounds[-1]
        b = int(np.searchsorted(indptr, indptr[a] + limit, side="right")) - 1
        bounds.append(min(n, max(b, a + 1)))
    return list(zip(bounds[:-1], bounds[1:]))


def cg_rows(indptr, indices, conf, X, Y, A0, cg_steps):
    r"""Per-row CG with scalar loops (compiled by numba), the same steps as the batched version.

    ``A0`` is $Y^\top Y + \lambda I$; row $u$'s matrix is applied as
    $A_0 v + \sum_{i \in I_u} (c_{ui} - 1)(y_i^\top v)\, y_i$.
    """
    n_rows, k = X.shape
    r = np.empty(k)
    p = np.empty(k)
    Ap = np.empty(k)
    for u in range(n_rows):
        lo = indptr[u]
        hi = indptr[u + 1]
        if lo == hi:
            for a in range(k):
                X[u, a] = 0.0
            continue
        # r = b - A x with b = sum_i c_ui y_i
        r[:] = -np.dot(A0, X[u])
        for j in range(lo, hi):
            i = indices[j]
            c = conf[j]
            d = 0.0
            for a in range(k):
                d += Y[i, a] * X[u, a]
            t = c - (c - 1.0) * d
            for a in range(k):
                r[a] += t * Y[i, a]
        rsold = 0.0
        for a in range(k):
            p[a] = r[a]
            rsold += r[a] * r[a]
        if rsold < 1e-20:
            continue
        for _ in range(cg_steps):
            Ap[:] = np.dot(A0, p)
            for j in range(lo, hi):
                i = indices[j]
                d = 0.0
                for a in range(k):
                    d += Y[i, a] * p[a]
                t = (conf[j] - 1.0) * d
                for a in range(k):
                    Ap[a] += t * Y[i, a]
            pAp = 0.0
            for a in range(k):
                pAp += p[a] * Ap[a]
            if pAp <= 0.0:
                break
            alpha = rsold / pAp
            rsnew = 0.0
            for a in range(k):
                X[u, a] += alpha * p[a]
                r[a] -= alpha * Ap[a]
                rsnew += r[a] * r[a]
            if rsnew < 1e-20:
                break
            beta = rsnew / rsold
            for a in range(k):
                p[a] = r[a] + beta * p[a]
            rsold = rsnew


def cg_half_step(C, X, Y, lam, cg_steps, compiled=True):
    """Dispatch: the compiled per-row solver when numba is available, else the batched one."""
    kernel = compiled_kernel("cg_rows") if compiled else None
    if kernel is None:
        return cg_half_step_batched(C, X, Y, lam, cg_steps)
    A0 = Y.T @ Y + lam * np.eye(Y.shape[1])
    kernel(C.indptr, C.indices, C.data, X, Y, A0, cg_steps)
    return X


def cg_half_step_batched(C, X, Y, lam, cg_steps):
    r"""A few conjugate-gradient steps on every row's system, warm-started at ``X``.

    Row $u$ solves $(Y^\top Y + \lambda I + Y^\top (C_u - I) Y)\,x_u =
    Y^\top C_u p_u$ where ``C.data`` holds the confidences $c_{ui}$ of the
    observed cells ($p_{ui} = 1$ there, $c = 1$ and $p = 0$ elsewhere).
    The product with the matrix uses only $Y^\top Y$ and the observed rows of
    $Y$, as in ``implicit``'s CG solver; all rows of a chunk advance together.
    """
    n_rows, k = X.shape
    YtY = Y.T @ Y + lam * np.eye(k)
    for a, b in _row_chunks(C.indptr, k):
        lo, hi = C.indptr[a], C.indptr[b]
        indptr = C.indptr[a : b + 1] - lo
        idx = C.indices[lo:hi]
        c = C.data[lo:hi]
        cm1 = c - 1.0
        nr = b - a
        counts = np.diff(indptr)
        rowid = np.repeat(np.arange(nr), counts)
        Yg = Y[idx]
        shape = (nr, Y.shape[0])

        def Amul(p):
            s = np.einsum("nk,nk->n", Yg, p[rowid]) * cm1
            return p @ YtY + sp.csr_matrix((s, idx, indptr), shape=shape) @ Y

        x = X[a:b].copy()
        r = sp.csr_matrix((c, idx, indptr), shape=shape) @ Y - Amul(x)
        p = r.copy()
        rsold = np.einsum("nk,nk->n", r, r)
        active = (rsold >= 1e-20) & (counts > 0)
        for _ in range(cg_steps):
            if not active.any():
                break
            Ap = Amul(p)
            pAp = np.einsum("nk,nk->n", p, Ap)
            alpha = np.divide(
                rsold, pAp, out=np.zeros(nr), where=active & (pAp > 0)
            )
            x += alpha[:, None] * p
            r -= alpha[:, None] * Ap
            rsnew = np.einsum("nk,nk->n", r, r)
            active &= rsnew >= 1e-20
            beta = np.divide(rsnew, rsold, out=np.zeros(nr), where=active)
            p = r + beta[:, None] * p
            rsold = rsnew
        x[counts == 0] = 0.0
        X[a:b] = x
    return X


# --------------------------------------------------------------- BPR's SGD
def bpr_epoch(users, pos, neg, P, Q, b, lr, reg, use_bias):
    r"""One SGD pass over the triples ``(users[t], pos[t], neg[t])``, in place.

    Returns the sum of $-\ln\sigma(x_{uij})$ over the triples, each taken
    before its own update.  Written as scalar loops so that numba compiles it
    to tight machine code.
    """
    k = P.shape[1]
    total = 0.0
    for t in range(users.shape[0]):
        u = users[t]
        i = pos[t]
        j = neg[t]
        x = b[i] - b[j]
        for f in range(k):
            x += P[u, f] * (Q[i, f] - Q[j, f])
        # z = 1 - sigma(x) = sigma(-x), and -ln sigma(x), without overflow
        if x >= 0.0:
            e = math.exp(-x)
            z = e / (1.0 + e)
            total += math.log1p(e)
        else:
            e = math.exp(x)
            z = 1.0 / (1.0 + e)
            total += math.log1p(e) - x
        if use_bias:
            bi = b[i]
            bj = b[j]
            b[i] = bi + lr * (z - reg * bi)
            b[j] = bj + lr * (-z - reg * bj)
        for f in range(k):
            puf = P[u, f]
            qif = Q[i, f]
            qjf = Q[j, f]
            P[u, f] = puf + lr * (z * (qif - qjf) - reg * puf)
            Q[i, f] = qif + lr * (z * puf - reg * qif)
            Q[j, f] = qjf + lr * (-z * puf - reg * qjf)
    return total


def bpr_epoch_numpy(users, pos, neg, P, Q, b, lr, reg, use_bias):
    """The same pass with NumPy row operations: the fallback without numba."""
    total = 0.0
    for u, i, j in zip(users.tolist(), pos.tolist(), neg.tolist()):
        pu = P[u].copy()
        qi = Q[i].copy()
        qj = Q[j].copy()
        x = float(b[i] - b[j] + pu @ (qi - qj))
        if x >= 0.0:
            e = math.exp(-x)
            z = e / (1.0 + e)
            total += math.log1p(e)
        elif np.isfinite(x):
            e = math.exp(x)
            z = 1.0 / (1.0 + e)
            total += math.log1p(e) - x
        else:  # NaN or -inf: the model has diverged; let the caller say so
            return float("nan")
        if use_bias:
            bi, bj = b[i], b[j]
            b[i] = bi + lr * (z - reg * bi)
            b[j] = bj + lr * (-z - reg * bj)
        P[u] = pu + lr * (z * (qi - qj) - reg * pu)
        Q[i] = qi + lr * (z * pu - reg * qi)
        Q[j] = qj + lr * (-z * pu - reg * qj)
    return total


def bpr_kernel(compiled=True):
    """The BPR epoch: numba-compiled when ``compiled`` and numba is importable, else NumPy."""
    kernel = compiled_kernel("bpr_epoch") if compiled else None
    return bpr_epoch_numpy if kernel is None else kernel


_PLAIN.update(
    sgd_epoch=sgd_epoch, sse=sse, cg_rows=cg_rows, bpr_epoch=bpr_epoch
)


# ------------------------------------------------------- neighbourhood kernels
def _heap_less(s1, j1, s2, j2):
    """Heap order of the top-k selection: a smaller similarity, or an equal one rated later."""
    return s1 < s2 or (s1 == s2 and j1 > j2)


def _topk_sums(S, Sr, t, me, lo, hi, nbr, val, k, bs, bj, hs, hj):
    """``(sum s * val, sum s, count)`` over the top ``k`` candidates ``lo:hi`` of target row ``t``.

    ``S[t]`` holds the similarities of the target to every entity and ``Sr``
    the same rounded to 12 decimals (used for ranking); the candidates
    ``nbr[lo:hi]`` come in training order, with values ``val``. Of those with
    a positive (rounded) similarity, other than the target itself (``me``),
    the ``k`` largest are kept, ties going to the earlier rating.

    First the usable candidates are compacted into ``bs``/``bj`` without a
    branch (most candidates of a long rating list have similarity 0, and a
    branch on that would be mispredicted); then, if more than ``k`` remain,
    one pass with a min-heap of size ``k`` (``hs``, ``hj``) whose root is the
    weakest neighbour kept: the smallest similarity, the latest rating among
    equal ones.  A candidate enters only if it beats the root strictly, so
    among equal similarities the earlier rating stays.
    """
    cnt = 0
    for j in range(lo, hi):
        x = nbr[j]
        s = Sr[t, x]
        bs[cnt] = s
        bj[cnt] = j
        cnt += (s > 0.0) & (x != me)
    a = 0.0
    d = 0.0
    if cnt <= k:
        for q in range(cnt):
            j = bj[q]
            w = S[t, nbr[j]]
            a += w * val[j]
            d += w
        return a, d, cnt
    size = 0
    for q in range(cnt):
        s = bs[q]
        j = bj[q]
        if size < k:  # push, sift up
            pos = size
            size += 1
            while pos > 0:
                parent = (pos - 1) // 2
                if _heap_less(s, j, hs[parent], hj[parent]):
                    hs[pos] = hs[parent]
                    hj[pos] = hj[parent]
                    pos = parent
                else:
                    break
            hs[pos] = s
            hj[pos] = j
        elif s > hs[0]:  # replace the root, sift down
            pos = 0
            while True:
                c = 2 * pos + 1
                if c >= size:
                    break
                if c + 1 < size and _heap_less(
                    hs[c + 1], hj[c + 1], hs[c], hj[c]
                ):
                    c += 1
                if _heap_less(hs[c], hj[c], s, j):
                    hs[pos] = hs[c]
                    hj[pos] = hj[c]
                    pos = c
                else:
                    break
            hs[pos] = s
            hj[pos] = j
    for q in range(size):
        j = hj[q]
        w = S[t, nbr[j]]
        a += w * val[j]
        d += w
    return a, d, size


def _longest(indptr, ys):
    """The longest candidate list among the columns ``ys`` (at least 1)."""
    w = 1
    for c in range(ys.size):
        n = indptr[ys[c] + 1] - indptr[ys[c]]
        if n > w:
            w = n
    return w


def _knn_pair_sums(S, Sr, rows, self_x, ys, indptr, nbr, val, k):
    """Neighbour sums for pairs: target row ``rows[p]`` of ``S`` and column ``ys[p]``."""
    m = rows.size
    num = np.zeros(m)
    den = np.zeros(m)
    cnt = np.zeros(m, dtype=np.int64)
    w = _longest(indptr, ys)
    bs = np.empty(w)
    bj = np.empty(w, dtype=np.int64)
    hs = np.empty(k)
    hj = np.empty(k, dtype=np.int64)
    for p in range(m):
        y = ys[p]
        num[p], den[p], cnt[p] = _topk_sums(
            S,
            Sr,
            rows[p],
            self_x[p],
            indptr[y],
            indptr[y + 1],
            nbr,
            val,
            k,
            bs,
            bj,
            hs,
            hj,
        )
    return num, den, cnt


def _corated_rows(targets, xptr, xcol, xval, tptr, tcol, tval, n):
    """Co-rated sums of each target against the entities it shares a rater with.

    Returns ``(counts, cols, sums)``: target ``i`` has ``counts[i]`` partners,
    stored one target after the other in ``cols`` (the partner) and
    ``sums[:, p]`` (``n, sum va vb, sum va^2, sum vb^2, sum va, sum vb``).
    Each target's sums are accumulated in one row buffer (cache-resident),
    over its raters in order, then copied out and the buffer cleared.
    """
    m = targets.size
    width = 0
    for i in range(m):
        a = targets[i]
        w = 0
        for p in range(xptr[a], xptr[a + 1]):
            r = xcol[p]
            w += tptr[r + 1] - tptr[r]
        width += min(w, n)
    counts = np.zeros(m, dtype=np.int64)
    cols = np.empty(width, dtype=np.int64)
    sums = np.empty((6, width))
    acc = np.zeros((n, 6))
    touched = np.empty(n, dtype=np.int64)
    seen = np.zeros(n, dtype=np.bool_)
    out = 0
    for i in range(m):
        a = targets[i]
        nt = 0
        for p in range(xptr[a], xptr[a + 1]):
            r = xcol[p]
            va = xval[p]
            va2 = va * va
            for q in range(tptr[r], tptr[r + 1]):
                b = tcol[q]
                vb = tval[q]
                if not seen[b]:
                    seen[b] = True
                    touched[nt] = b
                    nt += 1
                acc[b, 0] += 1.0
                acc[b, 1] += va * vb
                acc[b, 2] += va2
                acc[b, 3] += vb * vb
                acc[b, 4] += va
                acc[b, 5] += vb
        counts[i] = nt
        for z in range(nt):
            b = touched[z]
            cols[out] = b
            for s in range(6):
                sums[s, out] = acc[b, s]
                acc[b, s] = 0.0
            seen[b] = False
            out += 1
    return counts, cols[:out], sums[:, :out]


def _knn_walk_sums(
    targets,
    counts,
    cols,
    sim,
    simr,
    eptr,
    ec,
    ev,
    yptr,
    ynbr,
    yval,
    yof,
    k,
    num,
    den,
    cnt,
):
    """Neighbour sums for every (target, column) of a block, walking each target's neighbours.

    ``counts``/``cols``/``sim``/``simr`` are the targets' similarities to the
    entities they share a rater with, compactly (as ``corated_rows`` returns
    them; ``simr`` rounded). For each target, its positive neighbours ``x``
    (other than itself) are visited in decreasing rounded similarity, and
    each rating of ``x`` (``ec``: its output column, ``ev``: the value,
    rows ``eptr[x]:eptr[x+1]``) is added to its column's sums until that
    column holds ``k`` neighbours: the same top-``k`` as ``_topk_sums``,
    without scanning the columns' zero-similarity candidates.  Equal
    similarities form a group; a column that has room for only part of a
    group takes its earliest ratings of it, found in its own ratings in
    training order (``yptr``, ``ynbr``, ``yval``: for each column entity,
    the rated entities and values, as ``_topk_sums``' candidates; ``yof``:
    the column entity of each output column).  Writes ``num``, ``den``,
    ``cnt`` (shape ``(len(targets), n_cols)``, zeros on entry).
    """
    m = targets.size
    n_cols = num.shape[1]
    # the group that last touched a column
    stamp = np.full(n_cols, -1, dtype=np.int64)
    over = np.zeros(n_cols, dtype=np.bool_)
    snap_num = np.zeros(n_cols)
    snap_den = np.zeros(n_cols)
    snap_cnt = np.zeros(n_cols, dtype=np.int64)
    touched = np.empty(n_cols, dtype=np.int64)
    n_x = eptr.size - 1
    in_group = np.full(n_x, -1, dtype=np.int64)
    wx = np.zeros(n_x)
    gid = 0
    start = 0
    width = 1
    for i in range(m):
        if counts[i] > width:
            width = counts[i]
    # positive rounded similarities are at most 1 and multiples of 1e-12: as
    # integers below 2**40 they sort, with the pair's position in 23 more bits,
    # as one int64 key (much faster than an argsort of floats)
    packed = width < (1 << 23)
    keys = np.empty(width)
    idx = np.empty(width, dtype=np.int64)
    pk = np.empty(width, dtype=np.int64)
    order = np.empty(width, dtype=np.int64)
    for i in range(m):
        me = targets[i]
        num_i = num[i]
        den_i = den[i]
        cnt_i = cnt[i]
        stop = start + counts[i]
        npos = 0
        for p in range(start, stop):
            keys[npos] = -simr[p]
            idx[npos] = p
            npos += (simr[p] > 0.0) & (cols[p] != me)
        start = stop
        if packed:
            for q in range(npos):
                level = np.int64(np.rint(-keys[q] * 1e12))
                pk[q] = (((np.int64(1) << 40) - level) << 23) | q
            srt = np.sort(pk[:npos])
            for q in range(npos):
                order[q] = srt[q] & ((np.int64(1) << 23) - 1)
        else:
            order[:npos] = np.argsort(keys[:npos])
        g = 0
        while g < npos:
            h = g + 1
            while h < npos and keys[order[h]] == keys[order[g]]:
                h += 1
            if h == g + 1:  # one neighbour: each column rated it at most once
                p = idx[order[g]]
                x = cols[p]
                w = sim[p]
                for e in range(eptr[x], eptr[x + 1]):
                    c = ec[e]
                    # without a branch: whether the column is full is hard to
                    # predict
                    take = cnt_i[c] < k
                    num_i[c] += (w * ev[e]) * take
                    den_i[c] += w * take
                    cnt_i[c] += take
                g = h
                continue
            # a group of equal similarities: its ratings are added in any
            # order; a column that fills up inside the group is restored to
            # its state before the group and redone below, by training order
            gid += 1
            nt = 0
            n_over = 0
            for r in range(g, h):
                p = idx[order[r]]
                x = cols[p]
                w = sim[p]
                for e in range(eptr[x], eptr[x + 1]):
                    c = ec[e]
                    if stamp[c] != gid:
                        stamp[c] = gid
                        snap_num[c] = num[i, c]
                        snap_den[c] = den[i, c]
                        snap_cnt[c] = cnt[i, c]
                        touched[nt] = c
                        nt += 1
                    if cnt[i, c] < k:
                        num[i, c] += w * ev[e]
                        den[i, c] += w
                        cnt[i, c] += 1
                    elif snap_cnt[c] < k and not over[c]:
                        over[c] = True
                        n_over += 1
            if n_over == 0:
                g = h
                continue
            # each overfull column: back to its state before the group, then
            # its own ratings in training order, the group's first
            for r in range(g, h):
                p = idx[order[r]]
                in_group[cols[p]] = gid
                wx[cols[p]] = sim[p]
            for z in range(nt):
                c = touched[z]
                if not over[c]:
                    continue
                num[i, c] = snap_num[c]
                den[i, c] = snap_den[c]
                cnt[i, c] = snap_cnt[c]
                y = yof[c]
                for j in range(yptr[y], yptr[y + 1]):
                    x = ynbr[j]
                    if in_group[x] == gid:
                        w = wx[x]
                        num[i, c] += w * yval[j]
                        den[i, c] += w
                        cnt[i, c] += 1
                        if cnt[i, c] == k:
                            break
            for z in range(nt):
                over[touched[z]] = False
            g = h


def _corated_upper(xptr, xcol, xval, tptr, tcol, tval, n):
    """``corated_rows`` for every entity against the entities of equal or larger index only.

    The co-rated sums are symmetric (``sqa``/``sqb`` and ``sa``/``sb`` swap),
    so this half determines the whole; it costs half of ``corated_rows`` over
    all entities.  Each rater's list of entities is sorted, and the targets
    come in increasing order, so a cursor per rater skips the smaller
    entities once.
    """
    cursor = tptr[:-1].copy()
    width = 0
    for a in range(n):
        w = 0
        for p in range(xptr[a], xptr[a + 1]):
            r = xcol[p]
            w += tptr[r + 1] - tptr[r]
        width += min(w, n - a)
    counts = np.zeros(n, dtype=np.int64)
    cols = np.empty(width, dtype=np.int64)
    sums = np.empty((6, width))
    acc = np.zeros((n, 6))
    touched = np.empty(n, dtype=np.int64)
    seen = np.zeros(n, dtype=np.bool_)
    out = 0
    for a in range(n):
        nt = 0
        for p in range(xptr[a], xptr[a + 1]):
            r = xcol[p]
            va = xval[p]
            va2 = va * va
            q0 = cursor[r]
            while tcol[q0] < a:  # a itself is in the list, so this stops
                q0 += 1
            cursor[r] = q0
            for q in range(q0, tptr[r + 1]):
                b = tcol[q]
                vb = tval[q]
                if not seen[b]:
                    seen[b] = True
                    touched[nt] = b
                    nt += 1
                acc[b, 0] += 1.0
                acc[b, 1] += va * vb
                acc[b, 2] += va2
                acc[b, 3] += vb * vb
                acc[b, 4] += va
                acc[b, 5] += vb
        counts[a] = nt
        for z in range(nt):
            b = touched[z]
            cols[out] = b
            for s in range(6):
                sums[s, out] = acc[b, s]
                acc[b, s] = 0.0
            seen[b] = False
            out += 1
    return counts, cols[:out], sums[:, :out]


_KNN = {}


def knn_kernels():
    """``(corated_rows, pair_sums, walk_sums, corated_upper)`` compiled with numba, or None without numba."""
    if "k" not in _KNN:
        try:
            import numba
        except ImportError:  # pragma: no cover - depends on the environment
            _KNN["k"] = None
        else:
            jit = numba.njit(cache=True, nogil=True)
            global _heap_less, _topk_sums, _longest
            _heap_less = jit(_heap_less)
            _topk_sums = jit(_topk_sums)
            _longest = jit(_longest)
            _KNN["k"] = (
                jit(_corated_rows),
                jit(_knn_pair_sums),
                jit(_knn_walk_sums),
                jit(_corated_upper),
            )
    return _KNN["k"]
