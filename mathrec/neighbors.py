r"""Neighbourhood collaborative filtering: user-based and item-based k-NN.

:class:`UserKNN` predicts a user's rating of an item from the ratings that the
most similar users gave that item; :class:`ItemKNN` predicts it from the
user's own ratings of the items most similar to it.  Both share one engine:
item-based CF is user-based CF on the transposed matrix.

The computation is vectorised over ``scipy.sparse`` matrices and chunked:
similarities are computed block by block, only between the entities a batch
of predictions needs, and never stored as a full matrix, so memory stays
bounded whatever the number of users or items.

Chapter 3 teaches these models (source §3.1-3.2); chapter 5 uses them in the
project pipeline.
"""

from __future__ import annotations

import numbers
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mathrec._base import RecommenderMixin, check_positive_int
from mathrec._kernels import knn_kernels as _knn_kernels
from mathrec.baselines import _check_nonneg, _fit_biases
from mathrec.data import as_interactions
from mathrec.similarity import (
    _SUM_FACTORS,
    CORATED_KINDS,
    _corated_factors,
    _corated_sum_names,
    _corated_values,
    _from_corated_sums,
)

__all__ = ["UserKNN", "ItemKNN"]

_SIMILARITIES = CORATED_KINDS
_CENTERINGS = ("none", "mean", "baseline")
_TIE_DECIMALS = 12  # similarities equal to 12 decimals are ranked as ties
# item-based recommend for fewer users than this goes user by user
_FEW_USERS = 32
# the sums of _kernels.corated_rows
_SUM_ORDER = ("n", "prods", "sqa", "sqb", "sa", "sb")


def _in_threads(fn, starts):
    """Run ``fn(start)`` for every start, on ``numba.get_num_threads()`` threads.

    The slabs are independent and write disjoint rows, and the compiled
    kernels release the GIL, so the result does not depend on the number of
    threads (``NUMBA_NUM_THREADS`` sets it).
    """
    starts = list(starts)
    import numba

    n_threads = min(int(numba.get_num_threads()), len(starts))
    if n_threads <= 1:
        for s in starts:
            fn(s)
        return
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        for _ in pool.map(fn, starts):
            pass


class _NeighbourhoodCF(RecommenderMixin):
    """Shared engine; the subclasses only say which axis holds the neighbours."""

    _user_based = True
    predicts_ratings = True

    def __init__(
        self,
        k=40,
        similarity="cosine",
        *,
        min_support=1,
        shrinkage=0.0,
        centering="none",
        min_k=1,
        clip=True,
        baseline_options=None,
        recommend_by="similarity",
        block_size=256,
        max_candidates=1_000_000,
    ):
        self.k = k
        self.similarity = similarity
        self.min_support = min_support
        self.shrinkage = shrinkage
        self.centering = centering
        self.min_k = min_k
        self.clip = clip
        self.baseline_options = baseline_options
        self.recommend_by = recommend_by
        self.block_size = block_size
        self.max_candidates = max_candidates

    # ------------------------------------------------------------------ fit
    def _validate_params(self):
        check_positive_int(self.k, "k")
        check_positive_int(self.min_k, "min_k")
        check_positive_int(self.min_support, "min_support", minimum=0)
        check_positive_int(self.block_size, "block_size")
        check_positive_int(self.max_candidates, "max_candidates")
        if self.similarity not in _SIMILARITIES:
            raise ValueError(
                f"similarity must be one of {_SIMILARITIES}, got "
                f"{self.similarity!r}"
            )
        if self.recommend_by not in ("rating", "similarity"):
            raise ValueError(
                f"recommend_by must be 'rating' or 'similarity', got "
                f"{self.recommend_by!r}"
            )
        if self.centering not in _CENTERINGS:
            raise ValueError(
                f"centering must be one of {_CENTERINGS}, got "
                f"{self.centering!r}"
            )
        s = self.shrinkage
        if (
            isinstance(s, bool)
            or not isinstance(s, numbers.Real)
            or not np.isfinite(s)
            or s < 0
        ):
            raise ValueError(
                f"shrinkage must be a finite number >= 0, got {s!r}"
            )
        opts = (
            {} if self.baseline_options is None else dict(self.baseline_options)
        )
        unknown = set(opts) - {"reg_u", "reg_i", "n_epochs"}
        if unknown:
            raise ValueError(
                f"baseline_options has unknown keys {sorted(unknown)}"
            )
        # the same checks as BaselineOnly's, so that a bad value fails here, not
        # as NaN biases
        for key in ("reg_u", "reg_i"):
            if key in opts:
                opts[key] = _check_nonneg(
                    opts[key], f"baseline_options[{key!r}]"
                )
        if "n_epochs" in opts:
            opts["n_epochs"] = check_positive_int(
                opts["n_epochs"], "baseline_options['n_epochs']"
            )
        return opts

    def fit(self, ratings):
        """Learn means, baselines and the sparse structures; returns ``self``.

        Parameters
        ----------
        ratings : pandas.DataFrame or mathrec.data.Interactions
            Columns ``user, item, rating``.  The order of the rows matters only
            to break ties between equally similar neighbours (the earlier
            rating wins, as in Surprise).

        Returns
        -------
        self
        """
        opts = self._validate_params()
        inter = as_interactions(ratings)
        self.interactions_ = inter
        r = inter.ratings
        pos = np.arange(inter.n_ratings, dtype=np.float64)
        if self._user_based:
            xi, yi, nx, ny = (
                inter.user_idx,
                inter.item_idx,
                inter.n_users,
                inter.n_items,
            )
        else:
            xi, yi, nx, ny = (
                inter.item_idx,
                inter.user_idx,
                inter.n_items,
                inter.n_users,
            )
        self.global_mean_ = float(r.mean())
        self.rating_range_ = (float(r.min()), float(r.max()))
        cx = np.bincount(xi, minlength=nx).astype(float)
        self._x_mean = np.bincount(xi, weights=r, minlength=nx) / np.maximum(
            cx, 1
        )

        # X: rows = entities among which similarities are computed
        X = sp.csr_matrix((r, (xi, yi)), shape=(nx, ny))
        X.sort_indices()
        self._x_count = cx
        need_baseline = (
            self.centering == "baseline"
            or self.similarity == "pearson_baseline"
        )
        if need_baseline:
            bopts = {"reg_u": 15.0, "reg_i": 10.0, "n_epochs": 10}
            bopts.update(opts)
            mu, bu, bi = _fit_biases(
                inter.user_idx,
                inter.item_idx,
                r,
                inter.n_users,
                inter.n_items,
                float(bopts["reg_u"]),
                float(bopts["reg_i"]),
                int(bopts["n_epochs"]),
            )
            self._bx, self._by = (bu, bi) if self._user_based else (bi, bu)
        else:
            self._bx = self._by = None
        # the values whose co-rated sums the similarity takes
        # (mathrec.similarity)
        F = _corated_factors(
            _corated_values(
                X, self.similarity, (self.global_mean_, self._bx, self._by)
            )
        )
        self._term_names = list(
            _corated_sum_names(
                self.similarity, self.min_support, self.shrinkage
            )
        )
        self._F = F
        # the stacked operators of the sparse-product path, built on first use
        self._PZ = None

        # Y: for each y, the x's that rated it (candidate neighbours), with the
        # value that enters the weighted average and the rating's position.
        if self.centering == "none":
            val = r
        elif self.centering == "mean":
            val = r - self._x_mean[xi]
        else:
            val = r - (self.global_mean_ + self._bx[xi] + self._by[yi])
        self._Yval = sp.csr_matrix((val, (yi, xi)), shape=(ny, nx))
        # +1: keep zeros stored
        self._Ypos = sp.csr_matrix((pos + 1.0, (yi, xi)), shape=(ny, nx))
        for M in (self._Yval, self._Ypos):
            M.sort_indices()
        # pragma: no cover
        if not np.array_equal(self._Yval.indices, self._Ypos.indices):
            raise RuntimeError("internal error: inconsistent sparse structures")
        # for recommend: each y's candidate neighbours in training order, and
        # (item-based) the values as rows of raters, for the co-rated sums
        rows = np.repeat(np.arange(ny), np.diff(self._Yval.indptr))
        o = np.lexsort((self._Ypos.data, rows))
        self._Ytrain = (
            self._Yval.indptr.astype(np.int64),
            self._Yval.indices[o].astype(np.int64),
            self._Yval.data[o],
        )
        # for the top-N walk: each x's ratings (column entity, value)
        o = np.argsort(xi, kind="stable")
        self._Eratings = (
            np.r_[0, np.cumsum(cx)].astype(np.int64),
            yi[o].astype(np.int64),
            val[o],
        )
        # for the compiled kernels: the values as entities x raters and
        # transposed
        Vx = F["V"].tocsr()
        Vx.sort_indices()
        VT = Vx.T.tocsr()
        VT.sort_indices()
        self._Xcsr = (
            Vx.indptr.astype(np.int64),
            Vx.indices.astype(np.int64),
            Vx.data,
        )
        self._Tcsr = (
            VT.indptr.astype(np.int64),
            VT.indices.astype(np.int64),
            VT.data,
        )
        return self

    def _stacked(self):
        """``(P, Z)``: the operators whose one sparse product gives every co-rated sum of a block.

        All co-rated sums of a block come from ONE sparse product P[a] @ Z[b].T:
        Z = [V | B | V2] and P stacks the left factors, each placed against the
        right factor it pairs with, e.g. [V 0 0] @ Z.T = V V^T (sum r_ui r_vi),
        [0 V2 0] @ Z.T = V2 B^T (sum of r_ui^2 over co-rated), and so on.
        """
        if self._PZ is None:
            F = self._F
            nx, ny = F["V"].shape
            zero = sp.csr_matrix((nx, ny))
            Z = sp.hstack([F["V"], F["B"], F["V2"]], format="csr")
            place = {"V": 0, "B": 1, "V2": 2}
            blocks = []
            for name in self._term_names:
                lname, rname = _SUM_FACTORS[name]
                row = [zero, zero, zero]
                row[place[rname]] = F[lname]
                blocks.append(sp.hstack(row, format="csr"))
            self._PZ = (sp.vstack(blocks, format="csr"), Z)
        return self._PZ

    # ------------------------------------------------------------- similarity
    def _right_operand(self, b, a):
        """Z[b].T for blocks of targets drawn from ``a``: dense or sparse CSR.

        Sparse @ dense is the fastest product when the targets' rows hold at
        least as many ratings as the dense copy has rows, and the copy is small.
        """
        Zb = self._stacked()[1][b]
        left_nnz = len(self._term_names) * self._x_count[a].sum()
        if (
            Zb.shape[1] * len(b) <= 4 * int(self.max_candidates)
            and Zb.shape[1] <= 16 * left_nnz
        ):
            return Zb.T.toarray(order="C")
        return Zb.T.tocsr()

    def _similarity_block(self, a, b, right=None):
        """Dense similarities between entity rows ``a`` and ``b`` (co-rated semantics).

        The co-rated sums come from one sparse product; the similarities from
        them are computed by :mod:`mathrec.similarity`, the function that
        :func:`mathrec.similarity.similarity_matrix` uses.
        ``right`` is ``self._right_operand(b)`` when the caller reuses it.
        """
        nx = self._x_count.size
        names = self._term_names
        rows = np.concatenate(
            [np.asarray(a) + t * nx for t in range(len(names))]
        )
        if right is None:
            right = self._right_operand(b, a)
        block = self._stacked()[0][rows] @ right
        if sp.issparse(block):
            block = block.toarray()
        T = dict(zip(names, block.reshape(len(names), len(a), len(b))))
        return _from_corated_sums(
            self.similarity,
            T,
            self._x_count[a],
            self._x_count[b],
            min_support=int(self.min_support),
            shrinkage=float(self.shrinkage),
        )

    # ------------------------------------------------------------- prediction
    def _estimate(self, x, y, *, return_weight=False):
        """Predictions for internal pairs (x[j], y[j]); returns (estimate, actual_k[, weight]).

        ``weight`` is the sum of the similarities of the neighbours used.

        Two equivalent schedules: pairs grouped by ``y`` (one similarity block
        target x's by the x's that rated y, used when each y has many pairs,
        e.g. item-based prediction or recommendation), or by blocks of target
        x's against the union of their candidate neighbours.
        """
        m = x.size
        est = np.empty(m)
        if m == 0:
            out = (est, np.zeros(0, dtype=np.intp))
            return out + (np.zeros(0),) if return_weight else out
        # rough costs, in similarity entries: per-y blocks compute exactly the
        # (pair, candidate) entries plus an overhead per group that grows with
        # the width of the rating rows (a transposed slice); target chunks
        # compute each target against (up to) every entity
        kern = _knn_kernels() if self._user_based else None
        if kern is not None:
            num, den, actual_k = self._sums_by_target_rows(x, y, kern)
        else:
            candidates = int(np.diff(self._Yval.indptr)[y].sum())
            cost_by_y = (
                candidates
                + (5000 + 3 * self._Yval.shape[0]) * np.unique(y).size
            )
            cost_by_target = candidates + np.unique(x).size * self._x_count.size
            if cost_by_y <= cost_by_target:
                num, den, actual_k = self._sums_by_y(x, y)
            else:
                num, den, actual_k = self._sums_by_target_block(x, y)
        ok = (actual_k >= int(self.min_k)) & (den > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            est = np.where(
                ok,
                self._base(x, y) + num / np.where(den > 0, den, 1.0),
                self._fallback(x, y),
            )
        if self.clip:
            np.clip(est, *self.rating_range_, out=est)
        if return_weight:
            return est, actual_k, den
        return est, actual_k

    def _slab_similarities(self, targets, corated_rows, *, dense=True):
        """Similarities of the entities ``targets`` to every entity, and the same rounded.

        With ``dense``, two arrays of shape ``(len(targets), n)``; otherwise
        the pairs that share a rater, compactly: ``(counts, cols, sim,
        rounded)`` with target ``i``'s ``counts[i]`` partners one target after
        the other.  The co-rated sums of those pairs are accumulated by a
        compiled kernel (one row buffer per target), and only those pairs are
        turned into similarities by :mod:`mathrec.similarity`; every other
        similarity is 0.  The rounded copy (12 decimals) is what neighbours are
        ranked on, so values that differ only by floating-point noise are ties.
        """
        n = self._x_count.size
        counts, cols, sums = corated_rows(
            np.asarray(targets, dtype=np.int64), *self._Xcsr, *self._Tcsr, n
        )
        rows = np.repeat(np.arange(len(targets)), counts)
        T = {
            t: sums[j]
            for j, t in enumerate(_SUM_ORDER)
            if t in self._term_names
        }
        sim = _from_corated_sums(
            self.similarity,
            T,
            self._x_count[targets][rows],
            self._x_count[cols],
            min_support=int(self.min_support),
            shrinkage=float(self.shrinkage),
            pairs=True,
        )
        rounded = np.round(sim, _TIE_DECIMALS)
        if not dense:
            return counts, cols, sim, rounded
        S = np.zeros((len(targets), n))
        Sr = np.zeros((len(targets), n))
        S[rows, cols] = sim
        Sr[rows, cols] = rounded
        return S, Sr

    def _all_similarities(self, corated_upper):
        """Dense similarities of every entity to every entity, and the same rounded.

        The co-rated sums of the pairs ``a <= b`` that share a rater, turned
        into similarities by :mod:`mathrec.similarity`, fill both ``S[a, b]``
        and ``S[b, a]``: every measure is symmetric, and the sums of
        ``(b, a)`` are those of ``(a, b)`` with the two sides swapped, added in
        the same order, so the mirrored values are the ones ``corated_rows``
        gives.
        """
        n = self._x_count.size
        counts, cols, sums = corated_upper(*self._Xcsr, *self._Tcsr, n)
        rows = np.repeat(np.arange(n), counts)
        T = {
            t: sums[j]
            for j, t in enumerate(_SUM_ORDER)
            if t in self._term_names
        }
        sim = _from_corated_sums(
            self.similarity,
            T,
            self._x_count[rows],
            self._x_count[cols],
            min_support=int(self.min_support),
            shrinkage=float(self.shrinkage),
            pairs=True,
        )
        S = np.zeros((n, n))
        S[rows, cols] = sim
        S[cols, rows] = sim
        return S, np.round(S, _TIE_DECIMALS)

    def _slab_size(self):
        """Targets per slab: the two dense similarity arrays of a slab hold about 32 MiB."""
        return max(1, (1 << 21) // max(self._x_count.size, 1))

    def _sums_by_target_rows(self, x, y, kern):
        """Compiled schedule: slabs of targets' similarities to every entity, then their pairs.

        The distinct targets are taken a slab at a time; each slab's
        similarity rows serve every pair of its targets.
        """
        corated_rows, pair_sums, _, corated_upper = kern
        m = x.size
        num, den = np.zeros(m), np.zeros(m)
        actual_k = np.zeros(m, dtype=np.intp)
        indptr, nbr, val = self._Ytrain
        targets, inv = np.unique(x, return_inverse=True)
        slab = self._slab_size()
        n = self._x_count.size
        if n <= slab and 2 * targets.size >= n:
            # every entity in one slab, half of them targets: all similarities
            # from the upper half of the co-rated sums, mirrored
            S, Sr = self._all_similarities(corated_upper)
            a, d, c = pair_sums(
                S,
                Sr,
                x.astype(np.int64),
                x.astype(np.int64),
                y.astype(np.int64),
                indptr,
                nbr,
                val,
                int(self.k),
            )
            return a, d, c.astype(np.intp)
        order = np.argsort(inv, kind="stable")
        inv_sorted = inv[order]
        for c0 in range(0, targets.size, slab):
            lo, hi = np.searchsorted(inv_sorted, [c0, c0 + slab])
            idx = order[lo:hi]
            S, Sr = self._slab_similarities(
                targets[c0 : c0 + slab], corated_rows
            )
            a, d, c = pair_sums(
                S,
                Sr,
                (inv[idx] - c0).astype(np.int64),
                x[idx].astype(np.int64),
                y[idx].astype(np.int64),
                indptr,
                nbr,
                val,
                int(self.k),
            )
            num[idx], den[idx], actual_k[idx] = a, d, c
        return num, den, actual_k

    def _top_k_mask(self, S):
        """Boolean mask of the k largest positive entries of each row of S.

        Columns must be in training order: among equal similarities the
        leftmost (earliest rating) wins.
        """
        k = int(self.k)
        M = S > 0
        cnt = M.sum(axis=1)
        big = np.flatnonzero(cnt > k)
        if big.size:
            Sb = S[big]
            w = Sb.shape[1]
            thr = np.partition(Sb, w - k, axis=1)[:, w - k][:, None]
            gt = Sb > thr
            eq = Sb == thr
            need = (k - gt.sum(axis=1))[:, None]
            M[big] = gt | (eq & (np.cumsum(eq, axis=1) <= need))
        return M

    def _sums_by_y(self, x, y):
        m = x.size
        num, den = np.zeros(m), np.zeros(m)
        actual_k = np.zeros(m, dtype=np.intp)
        Yv, Yp = self._Yval, self._Ypos
        indptr = Yv.indptr
        order = np.argsort(y, kind="stable")
        xs, ys = x[order], y[order]
        bounds = np.flatnonzero(np.r_[True, ys[1:] != ys[:-1], True])
        cap = int(self.max_candidates)

        for s, e in zip(bounds[:-1], bounds[1:]):
            lo, hi = indptr[ys[s]], indptr[ys[s] + 1]
            if hi == lo:
                continue
            co = np.argsort(Yp.data[lo:hi], kind="stable")  # training order
            nb, vals = Yv.indices[lo:hi][co], Yv.data[lo:hi][co]
            step = max(1, cap // nb.size)
            right = self._right_operand(nb, xs[s:e])
            for s2 in range(s, e, step):
                e2 = min(e, s2 + step)
                tx, idx = xs[s2:e2], order[s2:e2]
                S = self._similarity_block(tx, nb, right)
                S[tx[:, None] == nb[None, :]] = 0.0  # never one's own neighbour
                # rank on similarities rounded to 12 decimals: values that
                # differ
                # only by floating-point noise count as ties (earliest rating
                # wins)
                M = self._top_k_mask(np.round(S, _TIE_DECIMALS))
                W = np.where(M, S, 0.0)
                # no BLAS threads for a matvec
                num[idx] = np.einsum("ij,j->i", W, vals)
                den[idx] = W.sum(axis=1)
                actual_k[idx] = M.sum(axis=1)
        return num, den, actual_k

    def _sums_by_target_block(self, x, y):
        m = x.size
        k = int(self.k)
        num_all, den_all = np.zeros(m), np.zeros(m)
        actual_k = np.zeros(m, dtype=np.intp)
        Yv, Yp = self._Yval, self._Ypos
        indptr = Yv.indptr
        order = np.lexsort((y, x))
        xs, ys = x[order], y[order]
        lens = (indptr[ys + 1] - indptr[ys]).astype(np.int64)
        # chunk boundaries: at most block_size distinct targets and
        # max_candidates candidate neighbours per chunk
        new_target = np.r_[True, xs[1:] != xs[:-1]]
        target_rank = np.cumsum(new_target) - 1
        cum = np.cumsum(lens)
        key_a = target_rank // int(self.block_size)
        key_b = (cum - lens) // int(self.max_candidates)
        brk = np.flatnonzero(
            np.r_[
                True,
                (key_a[1:] != key_a[:-1]) | (key_b[1:] != key_b[:-1]),
                True,
            ]
        )
        for s, e in zip(brk[:-1], brk[1:]):
            xc, yc, lc = xs[s:e], ys[s:e], lens[s:e]
            total = int(lc.sum())
            if total == 0:
                continue
            seg = np.repeat(np.arange(e - s), lc)
            start = np.repeat(indptr[yc] - np.r_[0, np.cumsum(lc)[:-1]], lc)
            flat = start + np.arange(total)
            nbr = Yv.indices[flat]
            targets = np.unique(xc)
            cols = np.unique(nbr)
            t_pos = np.searchsorted(targets, xc)[seg]  # non-decreasing
            c_pos = np.searchsorted(cols, nbr)
            sims = np.empty(total)
            # similarity rows in pieces of at most max_candidates entries
            rows_per = max(
                1,
                int(self.max_candidates) // (cols.size * len(self._term_names)),
            )
            right = self._right_operand(cols, targets)
            for t0 in range(0, targets.size, rows_per):
                S = self._similarity_block(
                    targets[t0 : t0 + rows_per], cols, right
                )
                lo, hi = np.searchsorted(t_pos, [t0, t0 + rows_per])
                sims[lo:hi] = S[t_pos[lo:hi] - t0, c_pos[lo:hi]]
            # as the other schedules
            keep = (np.round(sims, _TIE_DECIMALS) > 0) & (nbr != xc[seg])
            seg, flat, sims = seg[keep], flat[keep], sims[keep]
            if seg.size == 0:
                continue
            # top-k per pair: by similarity, ties to the earlier training rating
            o = np.lexsort((Yp.data[flat], -np.round(sims, _TIE_DECIMALS), seg))
            seg, flat, sims = seg[o], flat[o], sims[o]
            first = np.searchsorted(seg, np.arange(e - s))
            rank = np.arange(seg.size) - first[seg]
            top = rank < k
            seg, flat, sims = seg[top], flat[top], sims[top]
            vals = Yv.data[flat]
            idx = order[s:e]
            num_all[idx] = np.bincount(
                seg, weights=sims * vals, minlength=e - s
            )
            den_all[idx] = np.bincount(seg, weights=sims, minlength=e - s)
            actual_k[idx] = np.bincount(seg, minlength=e - s)
        return num_all, den_all, actual_k

    def _base(self, x, y):
        if self.centering == "none":
            return np.zeros(x.size)
        if self.centering == "mean":
            return self._x_mean[x]
        return self.global_mean_ + self._bx[x] + self._by[y]

    def _fallback(self, x, y):
        """What is predicted when fewer than ``min_k`` neighbours have a positive similarity."""
        if self.centering == "none":
            return np.full(x.size, self.global_mean_)
        return self._base(x, y)

    def _fallback_unknown(self, x, y):
        """Prediction for pairs with an unknown user and/or item (index -1)."""
        out = np.full(x.size, self.global_mean_)
        if self.centering == "mean":
            known = x >= 0
            out[known] = self._x_mean[x[known]]
        elif self.centering == "baseline":
            out += np.where(x >= 0, self._bx[np.maximum(x, 0)], 0.0)
            out += np.where(y >= 0, self._by[np.maximum(y, 0)], 0.0)
        if self.clip:
            np.clip(out, *self.rating_range_, out=out)
        return out

    def predict(self, users, items, *, unknown="raise", return_details=False):
        """Predict the ratings of the pairs ``(users[j], items[j])``, in the caller's ids.

        Parameters
        ----------
        users, items : array_like, same length
            User and item ids as given to ``fit``.
        unknown : {"raise", "fallback"}, default "raise"
            With ``"raise"`` an id absent from the training data raises
            ``UnknownUserError`` / ``UnknownItemError`` (both ``KeyError``);
            with ``"fallback"`` such pairs get the fallback prediction (the
            global mean, the known entity's mean, or the partial baseline,
            according to ``centering``).
        return_details : bool, default False
            Also return a DataFrame with ``actual_k`` (neighbours used) and
            ``was_impossible`` (True where the fallback was used).

        Returns
        -------
        numpy.ndarray of float, or (ndarray, DataFrame) with ``return_details``
        """
        self._check_fitted()
        u, i, scalar = self._pair_indices(users, items, unknown)
        x, y = (u, i) if self._user_based else (i, u)
        known = (x >= 0) & (y >= 0)
        est = np.empty(x.size)
        ak = np.zeros(x.size, dtype=np.intp)
        est[known], ak[known] = self._estimate(x[known], y[known])
        est[~known] = self._fallback_unknown(x[~known], y[~known])
        out = float(est[0]) if scalar else est
        if not return_details:
            return out
        details = pd.DataFrame(
            {"actual_k": ak, "was_impossible": ak < int(self.min_k)}
        )
        return out, details

    def _score_items(self, user_index):
        return self._score_block(np.array([user_index]))[0]

    def _score_block(self, user_indices):
        """Scores of every item for a block of users (see ``recommend_by``).

        The same numbers as ``predict`` (``"rating"``) or its neighbour weight
        (``"similarity"``), computed for the whole block at once: the
        similarities of the block's targets to every entity, then, for every
        (target, column), the top-``k`` neighbours selected by a compiled
        kernel. User-based: the block's users against all users (one sparse
        product), then every item. Item-based: the co-rated sums of a slab of
        items against all items, accumulated over the users' rating rows,
        then every user of the block; slabs hold at most about 32 MiB.
        """
        u = np.asarray(user_indices, dtype=np.intp)
        kern = _knn_kernels()
        n_items = self.interactions_.n_items
        items = np.arange(n_items, dtype=np.intp)
        # item-based, the slabs cost one pass over every co-rated item pair
        # whatever the block; for a few users the prediction path is cheaper
        few = not self._user_based and u.size < _FEW_USERS
        if kern is None or few:  # the prediction path, user by user
            out = np.empty((u.size, n_items))
            for row, a in enumerate(u):
                users = np.full(n_items, a, dtype=np.intp)
                x, y = (users, items) if self._user_based else (items, users)
                est, _, weight = self._estimate(x, y, return_weight=True)
                out[row] = est if self.recommend_by == "rating" else weight
            return out
        corated_rows, _, walk_sums, _ = kern
        k = int(self.k)
        slab = self._slab_size()
        eptr, ey, ev = self._Eratings
        yptr, ynbr, yval = self._Ytrain
        if self._user_based:  # targets: the block's users; columns: every item
            n_t, n_c = u.size, n_items
            targets = u.astype(np.int64)
            yof = items.astype(np.int64)
        else:  # targets: every item; columns: the block's users
            n_t, n_c = n_items, u.size
            targets = items.astype(np.int64)
            yof = u.astype(np.int64)
            ymap = np.full(self.interactions_.n_users, -1, dtype=np.int64)
            ymap[u] = np.arange(u.size)
            # only the block's ratings are walked, each with its output column
            keep = ymap[ey] >= 0
            ex = np.repeat(np.arange(eptr.size - 1), np.diff(eptr))
            per_x = np.bincount(ex[keep], minlength=eptr.size - 1)
            eptr = np.r_[0, np.cumsum(per_x)].astype(np.int64)
            ey, ev = ymap[ey[keep]], ev[keep]
        num = np.zeros((n_t, n_c))
        den = np.zeros((n_t, n_c))
        cnt = np.zeros((n_t, n_c), dtype=np.int64)

        def one_slab(t0):
            tg = targets[t0 : t0 + slab]
            sims = self._slab_similarities(tg, corated_rows, dense=False)
            walk_sums(
                tg,
                *sims,
                eptr,
                ey,
                ev,
                yptr,
                ynbr,
                yval,
                yof,
                k,
                num[t0 : t0 + slab],
                den[t0 : t0 + slab],
                cnt[t0 : t0 + slab],
            )

        _in_threads(one_slab, range(0, n_t, slab))
        if self._user_based:
            x, y = u[:, None], items[None, :]
        else:
            num, den, cnt = num.T, den.T, cnt.T
            x, y = items[None, :], u[:, None]
        if self.recommend_by == "similarity":
            return den
        ok = (cnt >= int(self.min_k)) & (den > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            num /= den
        if self.centering == "none":
            est = np.where(ok, num, self.global_mean_)
        else:
            base = (
                self._x_mean[x]
                if self.centering == "mean"
                else self.global_mean_ + self._bx[x] + self._by[y]
            )
            est = np.where(ok, num + base, base)
        if self.clip:
            np.clip(est, *self.rating_range_, out=est)
        return est.reshape(u.size, n_items)


_DOC_PARAMS = r"""
    Parameters
    ----------
    k : int, default 40
        Largest number of neighbours :math:`k` that enter a prediction.
    similarity : {{"cosine", "pearson", "adjusted_cosine", "pearson_baseline", "jaccard", "msd"}}, default "cosine"
        Similarity between two {entities}, computed on their co-rated
        {others} only by :mod:`mathrec.similarity` (the definitions of
        :func:`mathrec.similarity.similarity_matrix`; see Notes).
        ``"msd"`` is Surprise's default, :math:`1/(1+\mathrm{{msd}})`;
        ``"pearson_baseline"`` is Surprise's cosine of baseline residuals
        (Surprise shrinks it with :math:`\lambda = 100` by default: pass
        ``shrinkage=100`` for the same similarities).
    min_support : int, default 1
        Two {entities} with fewer than ``min_support`` co-rated {others} have
        similarity 0.
    shrinkage : float, default {shrinkage_default}
        :math:`\lambda \ge 0`; similarities are multiplied by
        :math:`(n-1)/(n-1+\lambda)` where :math:`n` is the number of co-rated
        {others}, as in :func:`mathrec.similarity.similarity_matrix` and
        Surprise (Koren 2010 uses :math:`n/(n+\lambda)`); with
        :math:`\lambda > 0` a pair with a single co-rated entry gets 0.
        {shrinkage_note}
    centering : {{"none", "mean", "baseline"}}, default "none"
        What the neighbours' ratings are centred on before averaging (see
        Notes): nothing (Surprise's ``KNNBasic``), the neighbour's mean
        (``KNNWithMeans``), or the baseline :math:`b_{{ui}}=\mu+b_u+b_i`
        (``KNNBaseline``).
    min_k : int, default 1
        Fewer than ``min_k`` usable neighbours means the fallback is used.
    clip : bool, default True
        Clip predictions to the range of the training ratings.
    baseline_options : dict or None
        ``reg_u``, ``reg_i``, ``n_epochs`` of the baseline (``centering="baseline"``
        or ``similarity="pearson_baseline"``);
        defaults 15, 10, 10 as in :class:`mathrec.baselines.BaselineOnly`.
    recommend_by : {{"rating", "similarity"}}, default "similarity"
        What ``recommend`` ranks items by: the predicted rating
        :math:`\hat r_{{ui}}`, or the total similarity of the neighbours that
        support it, :math:`\sum_{{\text{{neighbours}}}} s` (the top-N score of
        Deshpande & Karypis 2004 and of Herlocker et al.'s "weighted vote").
        ``predict`` always returns ratings. The default is a trade-off in
        favour of the lists: a predicted rating resting on one neighbour is
        as high as one resting on forty, so ranking by rating fills the list
        with items that one or two neighbours rated 5 (precision@10 near 0),
        while the similarity sum prefers well-supported items. {recommend_note}
    block_size : int, default 256
        Largest number of distinct target {entities} handled in one chunk.
    max_candidates : int, default 1_000_000
        Largest number of (prediction, candidate neighbour) pairs, and of
        similarities, held at once; it bounds the temporary memory (see Notes).

    Attributes
    ----------
    interactions_ : mathrec.data.Interactions
        The training data with its id maps.
    global_mean_ : float
        :math:`\mu`.
    rating_range_ : tuple of float
        Smallest and largest training rating, the clipping range.
"""


class UserKNN(_NeighbourhoodCF):
    __doc__ = (
        r"""User-based collaborative filtering with the k most similar users.
"""
        + _DOC_PARAMS.format(
            entities="users",
            others="items",
            shrinkage_default="0",
            shrinkage_note="``shrinkage=100`` gives better lists (see ``recommend_by``) "
            "and a slightly higher RMSE.",
            recommend_note="Measured on a validation split of *ml-latest-small* "
            "(``random_split(train, 0.2, random_state=1)`` of "
            "``random_split(ratings, 0.2, random_state=0)``'s training part), "
            "``UserKNN()``: precision@10 0.0007 and NDCG@10 0.0008 by rating, "
            "0.0688 and 0.0912 by similarity (0.0915 and 0.1233 with "
            "``shrinkage=100``); chapter 5 shows the two lists side by side.",
        )
        + r"""
    Notes
    -----
    For a user :math:`u` and an item :math:`i`, let :math:`N^k_i(u)` be the
    (at most) :math:`k` users with the largest **positive** similarity to
    :math:`u` among those who rated :math:`i`.  The prediction is

    .. math::
        \hat r_{ui} = \beta_{ui} + \frac{\sum_{v \in N^k_i(u)} s_{uv}\,
        (r_{vi} - \beta_{vi})}{\sum_{v \in N^k_i(u)} s_{uv}},

    with :math:`\beta = 0` (``centering="none"``), :math:`\beta_{vi} = \bar r_v`
    (``"mean"``) or :math:`\beta_{vi} = \mu + b_v + b_i` (``"baseline"``).
    Similarities use only the co-rated items :math:`I_{uv}`:

    .. math::
        \begin{aligned}
        \cos(u,v) &= \frac{\sum_{i\in I_{uv}} r_{ui} r_{vi}}
        {\sqrt{\sum_{i\in I_{uv}} r_{ui}^2}\sqrt{\sum_{i\in I_{uv}} r_{vi}^2}},
        \\
        \rho(u,v) &= \frac{\sum_{i\in I_{uv}} (r_{ui}-\bar r^{uv}_u)(r_{vi}-\bar r^{uv}_v)}
        {\sqrt{\sum_{i\in I_{uv}} (r_{ui}-\bar r^{uv}_u)^2}\sqrt{\sum_{i\in I_{uv}} (r_{vi}-\bar r^{uv}_v)^2}},
        \end{aligned}

    where :math:`\bar r^{uv}_u` is the mean of :math:`u`'s ratings over
    :math:`I_{uv}`; ``adjusted_cosine`` is the cosine of ratings centred on
    the *item* means; ``jaccard`` is :math:`|I_u\cap I_v|/|I_u\cup I_v|`.  A
    zero denominator gives similarity 0.  Neighbours are ranked on
    similarities rounded to 12 decimals, so values that differ only by
    floating-point noise are ties.  These are the definitions of
    :func:`mathrec.similarity.similarity_matrix`; the model computes only the
    blocks of it that a batch of predictions needs.  Ties in similarity go to the
    neighbour whose rating comes first in the training data.

    *Fallback.* When fewer than ``min_k`` neighbours have a positive
    similarity, the prediction is :math:`\mu` (``"none"``, Surprise's
    ``was_impossible`` case), :math:`\bar r_u` (``"mean"``) or
    :math:`b_{ui}` (``"baseline"``).  ``predict(..., return_details=True)``
    reports these cases.  With ``centering="none"``, ``k``, ``min_k=1`` and
    ``clip=True`` the predictions are those of Surprise's ``KNNBasic``
    (``user_based=True``), except in the rare predictions where two candidate
    neighbours tie up to floating-point noise: Surprise orders them by the
    noise, ``mathrec`` by rating order.  On MovieLens *ml-latest-small* the
    5-fold RMSEs agree to four decimals (``benchmarks/knn_vs_surprise.py``).

    *Cost.* No similarity matrix is stored: each batch of predictions
    computes, with sparse products, only the similarities between its target
    users and the candidate neighbours it needs.  Pairs are grouped either
    by item (one block: the item's test users against the users who rated
    it) or in chunks of target users, and every dense block is cut so that
    it holds at most ``max_candidates`` similarities.  Peak temporary memory
    is therefore about :math:`200 \times` ``max_candidates`` bytes (≈ 200 MB
    with the default; lower it to use less), plus the training data,
    whatever the numbers of users and items: nothing of size
    :math:`n_{\text{users}}^2` or :math:`n_{\text{users}} \times
    n_{\text{items}}` is ever built.  For example, with Pearson similarity
    on 2 million synthetic ratings of 50,000 users and 20,000 items, fitting
    and predicting 10,000 held-out ratings took 26 s and at most 0.6 GB of
    traced memory, data included (``benchmarks/knn_scale.py``).

    *Top-N.* ``recommend`` scores every item for a block of users at once.
    For each user of the block, a compiled kernel accumulates the co-rated
    sums with every user it shares an item with (one row buffer per user),
    :mod:`mathrec.similarity` turns them into similarities, and a second
    kernel walks the user's positive neighbours in decreasing similarity,
    adding each neighbour's ratings to the items' sums until an item holds
    ``k`` neighbours (within a group of equal similarities, an item short of
    room takes the earliest ratings).  That is ``predict``'s neighbourhood
    for every item at once: the scores are ``predict``'s (or its neighbour
    weights) up to the order of the additions (about 1e-14), and candidates
    of similarity 0 are never visited.  No :math:`n_{\text{users}} \times
    n_{\text{items}}` matrix is built (the blocks hold at most about 32 MiB
    of scores); slabs of users run on ``numba.get_num_threads()`` threads.

    Taught in chapter 3 (source §3.1-3.2).

    References
    ----------
    .. [1] Herlocker, J. L., Konstan, J. A., Borchers, A., Riedl, J. (1999).
       An algorithmic framework for performing collaborative filtering. SIGIR.
       doi:10.1145/312624.312682
    .. [2] Koren, Y. (2010). Factor in the neighbors. ACM TKDD 4(1).
       doi:10.1145/1644873.1644874
    .. [3] Hug, N. (2020). Surprise: a Python library for recommender
       systems. JOSS 5(52), 2174. doi:10.21105/joss.02174

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": ["ann", "ann", "bob", "bob", "cy"],
    ...                    "item": ["x", "y", "x", "y", "x"],
    ...                    "rating": [5.0, 3.0, 4.0, 2.0, 1.0]})
    >>> m = UserKNN(k=2, similarity="cosine").fit(df)
    >>> m.predict(["cy"], ["y"]).round(3)
    array([2.5])
    >>> m.recommend("cy", n=1)  # ranked by the neighbours' total similarity
      item  score
    0    y    2.0
    >>> m.set_params(recommend_by="rating").recommend("cy", n=1)
      item  score
    0    y    2.5
"""
    )
    _user_based = True


class ItemKNN(_NeighbourhoodCF):
    __doc__ = (
        r"""Item-based collaborative filtering with the k most similar items.
"""
        + _DOC_PARAMS.format(
            entities="items",
            others="users",
            shrinkage_default="100",
            shrinkage_note="The default is not Surprise's (0, which "
            "``shrinkage=0`` restores): most item pairs of a long-tail "
            "catalogue "
            "share one or two raters, whose cosine is 1 or close to it, and "
            "without shrinkage these pairs decide both the predictions of "
            "rarely "
            "rated items and the lists.",
            recommend_note="Measured on a validation split of *ml-latest-small* "
            "(``random_split(train, 0.2, random_state=1)`` of "
            "``random_split(ratings, 0.2, random_state=0)``'s training part): "
            "``ItemKNN(shrinkage=0, recommend_by='rating')`` has precision@10 "
            "0.0005 and NDCG@10 0.0007 (its lists are items with one to three "
            "ratings, predicted 5), by similarity 0.0032 and 0.0044; the "
            "defaults (``shrinkage=100``, by similarity) give 0.1034 and "
            "0.1490, "
            "and a lower RMSE too (0.9508 against 0.9608).",
        )
        + r"""
    Notes
    -----
    For a user :math:`u` and an item :math:`i`, let :math:`N^k_u(i)` be the
    (at most) :math:`k` items with the largest **positive** similarity to
    :math:`i` among those that :math:`u` rated.  The prediction is

    .. math::
        \hat r_{ui} = \beta_{ui} + \frac{\sum_{j \in N^k_u(i)} s_{ij}\,
        (r_{uj} - \beta_{uj})}{\sum_{j \in N^k_u(i)} s_{ij}},

    with :math:`\beta = 0` (``centering="none"``), :math:`\beta_{uj} = \bar r_j`
    (``"mean"``, the item's mean) or :math:`\beta_{uj} = \mu + b_u + b_j`
    (``"baseline"``).  Similarities use only the users :math:`U_{ij}` who
    rated both items:

    .. math::
        \cos(i,j) = \frac{\sum_{u\in U_{ij}} r_{ui} r_{uj}}
        {\sqrt{\sum_{u\in U_{ij}} r_{ui}^2}\sqrt{\sum_{u\in U_{ij}} r_{uj}^2}},

    Pearson likewise with the means over :math:`U_{ij}`; ``adjusted_cosine``
    (Sarwar et al. 2001) is the cosine of ratings centred on each *user's*
    mean; ``jaccard`` is :math:`|U_i\cap U_j|/|U_i\cup U_j|`.  A zero
    denominator gives similarity 0; ties go to the item the user rated first
    in the training data.

    *Fallback.* When fewer than ``min_k`` neighbours have a positive
    similarity, the prediction is :math:`\mu` (``"none"``), :math:`\bar r_i`
    (``"mean"``) or :math:`b_{ui}` (``"baseline"``).  With
    ``centering="none"``, ``shrinkage=0``, ``min_k=1`` and ``clip=True`` the predictions are
    those of Surprise's ``KNNBasic`` (``user_based=False``), except where
    candidate neighbours tie up to floating-point noise (0.13-0.19 % of the test
    ratings per fold of ml-latest-small); the 5-fold RMSEs agree to four decimals.

    *Cost.* The :math:`n_{\text{items}}^2` similarity matrix is never
    stored: each batch of predictions computes, with sparse products, only
    the similarities between its target items and the items the users
    rated.  Pairs are grouped by user (one block: the user's target items
    against the user's rated items) or in chunks of target items, and every
    dense block is cut so that it holds at most ``max_candidates``
    similarities.  Peak temporary memory is therefore about
    :math:`200 \times` ``max_candidates`` bytes (≈ 200 MB with the default;
    lower it to use less), plus the training data, whatever the numbers of
    users and items (on 2 million ratings of 50,000 users and 20,000 items:
    11 s and at most 0.45 GB for 10,000 predictions, data included;
    ``benchmarks/knn_scale.py``).  On MovieLens *ml-latest-small*, fitting
    and predicting 20,000 held-out ratings takes about a second
    (``benchmarks/knn_vs_surprise.py``).

    *Top-N.* ``recommend`` scores every item for a block of users at once.
    For a slab of items, a compiled kernel accumulates the co-rated sums of
    each item with every item it shares a rater with (one row buffer per
    item), :mod:`mathrec.similarity` turns them into similarities, and a
    second kernel walks each item's positive neighbours in decreasing
    similarity, adding the block users' ratings of each neighbour to those
    users' sums until a user has ``k`` neighbours for the item (within a
    group of equal similarities, a user short of room takes the neighbours
    rated first).  That is ``predict``'s neighbourhood for every (user, item)
    at once: the scores are ``predict``'s (or its neighbour weights) up to
    the order of the additions (about 1e-14), and rated items of similarity
    0 are never visited.  Slabs run on ``numba.get_num_threads()`` threads.
    Every block of users costs one pass over all co-rated item pairs, so the
    blocks are larger than other models' (128 MiB of scores: all users of
    MovieLens 1M in one block); on *ml-latest-small* all 610 lists take
    about two seconds (``benchmarks/ranking_speed.py``).

    Taught in chapter 3 (source §3.1-3.2).

    References
    ----------
    .. [1] Sarwar, B., Karypis, G., Konstan, J., Riedl, J. (2001). Item-based
       collaborative filtering recommendation algorithms. WWW.
       doi:10.1145/371920.372071
    .. [2] Koren, Y. (2010). Factor in the neighbors. ACM TKDD 4(1).
       doi:10.1145/1644873.1644874
    .. [3] Hug, N. (2020). Surprise. JOSS 5(52), 2174. doi:10.21105/joss.02174

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": ["ann", "ann", "bob", "bob", "cy"],
    ...                    "item": ["x", "y", "x", "y", "x"],
    ...                    "rating": [5.0, 3.0, 4.0, 2.0, 1.0]})
    >>> m = ItemKNN(k=2, similarity="cosine").fit(df)
    >>> m.predict(["cy"], ["y"])
    array([1.])
"""
    )
    _user_based = False
    # every block of users costs one pass over all item pairs: take 4x the
    # usual block (128 MiB of scores), all users of a MovieLens-1M-sized set
    _score_block_floats = 1 << 24

    def __init__(
        self,
        k=40,
        similarity="cosine",
        *,
        min_support=1,
        shrinkage=100.0,
        centering="none",
        min_k=1,
        clip=True,
        baseline_options=None,
        recommend_by="similarity",
        block_size=256,
        max_candidates=1_000_000,
    ):
        super().__init__(
            k=k,
            similarity=similarity,
            min_support=min_support,
            shrinkage=shrinkage,
            centering=centering,
            min_k=min_k,
            clip=clip,
            baseline_options=baseline_options,
            recommend_by=recommend_by,
            block_size=block_size,
            max_candidates=max_candidates,
        )
