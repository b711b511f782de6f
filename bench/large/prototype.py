"""NumPy prototype of the large-data diagnosis designs, at n where the whole data still fits.

Each design gives every row a leave-one-out kernel-ridge prediction F_i (λ fixed); the figure
is the AUROC of the flipped rows against the suspicion margin max_{k≠y} F_ik − F_iy.

- exact:        the whole data, one factorization (the reference).
- random:       stratified random chunks of ~m rows (today's chunked mode, one partition).
- cells:        spherical k-means cells of ~m rows, each fitted alone.
- halo-cent:    each cell fitted on its core rows plus the h rows of other cells nearest to its
                centroid; LOO reported for the core rows only.
- halo-2nd:     each cell fitted on its core rows plus up to h rows whose 2nd (then 3rd) nearest
                centroid is this cell's, nearest first (computable in one streaming pass).
- halo-knn:     each cell fitted on its core rows plus their k nearest rows outside the cell.
- halo+nys:     halo-2nd cells exact, every other kernel entry Nyström (m landmarks): exact LOO
                of that kernel for the core rows, from the Schur complement of the cell.
- block+nys:    K̃ = B + ΦΦᵀ (exact within the cells, Nyström with m landmarks across), exact
                LOO of K̃ by Woodbury from per-cell Cholesky factors and one m×m system.

    python bench/large/prototype.py [--n 6000] [--cell 1000] [--halo 1000] [--landmarks 1000]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import scipy.linalg as sla
from sklearn.datasets import load_digits, make_classification
from sklearn.metrics import roc_auc_score

from cgscore_native._kernels import cross_gram

LAM = 0.3


def unit(X):
    X = np.asarray(X, dtype=np.float64)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def flip(y, K, frac, seed):
    rng = np.random.default_rng(seed)
    rows = rng.choice(y.size, size=int(round(frac * y.size)), replace=False)
    noisy = y.copy()
    noisy[rows] = (y[rows] + rng.integers(1, K, size=rows.size)) % K
    flipped = np.zeros(y.size, bool)
    flipped[rows] = True
    return noisy, flipped


def targets(codes, K):
    Y = -np.ones((codes.size, K))
    Y[np.arange(codes.size), codes] = 1.0
    return Y


def loo_exact(U, codes, K, depth, lam=LAM):
    """F = Y − A/D of (K + λI) on the rows U."""
    G = cross_gram(U, U, depth)
    G[np.diag_indices_from(G)] += lam
    c = sla.cho_factor(G, lower=True, check_finite=False)
    Y = targets(codes, K)
    A = sla.cho_solve(c, Y, check_finite=False)
    Linv = sla.solve_triangular(c[0], np.eye(G.shape[0]), lower=True, check_finite=False)
    D = np.sum(Linv * Linv, axis=0)
    return Y - A / D[:, None]


def margin(F, codes):
    idx = np.arange(codes.size)
    g = F[idx, codes].copy()
    F = F.copy()
    F[idx, codes] = -np.inf
    return F.max(axis=1) - g


def spherical_kmeans(U, k, seed, iters=15):
    rng = np.random.default_rng(seed)
    C = U[rng.choice(U.shape[0], size=k, replace=False)].copy()
    for _ in range(iters):
        S = U @ C.T
        a = S.argmax(axis=1)
        for j in range(k):
            mem = a == j
            if mem.any():
                c = U[mem].sum(axis=0)
                C[j] = c / np.linalg.norm(c)
    S = U @ C.T
    return S.argmax(axis=1), C, S


def run_cells(U, codes, K, depth, cells, halo_of):
    F = np.zeros((U.shape[0], K))
    for j, core in enumerate(cells):
        extra = halo_of(j, core)
        rows = np.concatenate([core, extra])
        F[core] = loo_exact(U[rows], codes[rows], K, depth)[: core.size]
    return F


def random_chunks(n, codes, m, seed):
    rng = np.random.default_rng(seed)
    k = max(1, round(n / m))
    out = [[] for _ in range(k)]
    for c in np.unique(codes):
        mem = rng.permutation(np.flatnonzero(codes == c))
        for i, part in enumerate(np.array_split(mem, k)):
            out[i].append(part)
    return [np.concatenate(p) for p in out]


def block_nystrom(U, codes, K, depth, cells, m, seed, lam=LAM):
    """Exact LOO of K̃ = B + ΦΦᵀ, B block-diagonal (K − ΦΦᵀ within the cells)."""
    n = U.shape[0]
    rng = np.random.default_rng(seed)
    L = U[np.sort(rng.choice(n, size=m, replace=False))]
    KLL = cross_gram(L, L, depth)
    s, V = np.linalg.eigh(KLL)
    keep = s > 1e-10 * s[-1]
    W = V[:, keep] / np.sqrt(s[keep])  # K_LL^{-1/2}
    Phi = cross_gram(U, L, depth) @ W  # (n, r)
    Y = targets(codes, K)
    MinvY = np.empty_like(Y)
    MinvPhi = np.empty_like(Phi)
    dM = np.empty(n)
    for core in cells:
        P = Phi[core]
        B = cross_gram(U[core], U[core], depth) - P @ P.T
        B[np.diag_indices_from(B)] += lam
        c = sla.cho_factor(B, lower=True, check_finite=False)
        MinvY[core] = sla.cho_solve(c, Y[core], check_finite=False)
        MinvPhi[core] = sla.cho_solve(c, P, check_finite=False)
        Linv = sla.solve_triangular(c[0], np.eye(core.size), lower=True, check_finite=False)
        dM[core] = np.sum(Linv * Linv, axis=0)
    C = np.eye(Phi.shape[1]) + Phi.T @ MinvPhi
    cc = sla.cho_factor(C, lower=True, check_finite=False)
    A = MinvY - MinvPhi @ sla.cho_solve(cc, Phi.T @ MinvY, check_finite=False)
    T = sla.solve_triangular(cc[0], MinvPhi.T, lower=True, check_finite=False)  # (r, n)
    D = dM - np.sum(T * T, axis=0)
    return Y - A / D[:, None]


def nystrom_features(U, depth, m, seed):
    rng = np.random.default_rng(seed)
    L = U[np.sort(rng.choice(U.shape[0], size=min(m, U.shape[0]), replace=False))]
    s, V = np.linalg.eigh(cross_gram(L, L, depth))
    keep = s > 1e-10 * s[-1]
    return cross_gram(U, L, depth) @ (V[:, keep] / np.sqrt(s[keep]))


def halo_nystrom(U, codes, K, depth, cells, halo_of, m, seed, lam=LAM):
    """Each cell's rows S (core + halo) exact, every other entry of the kernel Nyström (R×R block
    ΦΦᵀ + δI, δ the mean Nyström residual of the diagonal): the S block of (K̃ + λI)⁻¹ is the
    inverse of the Schur complement K_SS + λI − Φ_S G_R(G_R + λ_R)⁻¹Φ_Sᵀ, G_R = Φ_RᵀΦ_R."""
    Phi = nystrom_features(U, depth, m, seed)
    Y = targets(codes, K)
    G, g = Phi.T @ Phi, Phi.T @ Y
    delta = float(np.mean(cross_gram(U[:1], U[:1], depth)[0, 0] - np.sum(Phi * Phi, axis=1)))
    lam_r = lam + max(delta, 0.0)
    F = np.zeros((U.shape[0], K))
    r = Phi.shape[1]
    for j, core in enumerate(cells):
        S = np.concatenate([core, halo_of(j, core)])
        PS = Phi[S]
        GR = G - PS.T @ PS
        P = np.linalg.inv(GR + lam_r * np.eye(r))
        M = GR @ P
        T = cross_gram(U[S], U[S], depth) - PS @ M @ PS.T
        T[np.diag_indices_from(T)] += lam
        rhs = Y[S] - PS @ (P @ (g - PS.T @ Y[S]))
        c = sla.cho_factor(T, lower=True, check_finite=False)
        A = sla.cho_solve(c, rhs, check_finite=False)
        Linv = sla.solve_triangular(c[0], np.eye(S.size), lower=True, check_finite=False)
        D = np.sum(Linv * Linv, axis=0)
        F[core] = (Y[S] - A / D[:, None])[: core.size]
    return F


def datasets(n):
    X, y = make_classification(n_samples=n, n_features=40, n_informative=12, n_redundant=4, n_classes=5,
                               n_clusters_per_class=8, class_sep=1.5, random_state=1)
    yield "multicluster", X, y, 5
    d = load_digits()
    yield "digits", d.data, d.target, 10


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=6000)
    ap.add_argument("--cell", type=int, default=1000)
    ap.add_argument("--halo", type=int, default=1000)
    ap.add_argument("--landmarks", type=int, default=1000)
    ap.add_argument("--depths", default="0,4")
    ap.add_argument("--out", default="bench/large/prototype.json")
    ap.add_argument("--methods", default="exact,random,cells,halo-cent,halo-knn,block+nys")
    ap.add_argument("--sets", default="multicluster,digits")
    args = ap.parse_args()
    results = []
    for name, X, y, K in datasets(args.n):
        if name not in args.sets.split(","):
            continue
        U = unit(X)
        codes, flipped = flip(y, K, 0.2, seed=0)
        n = U.shape[0]
        ncell = max(2, round(n / args.cell))
        assign, C, S = spherical_kmeans(U, ncell, seed=0)
        cells = [np.flatnonzero(assign == j) for j in range(ncell)]
        halo = args.halo
        top3 = np.argsort(-S, axis=1, kind="stable")[:, :3]  # each row's 3 nearest cells

        def halo_2nd(j, core, S=S, top3=top3, halo=halo):
            """Rows whose 2nd (then 3rd) nearest cell is j, nearest to its centroid first."""
            picked = []
            for r in (1, 2):
                cand = np.flatnonzero(top3[:, r] == j)
                picked.append(cand[np.argsort(-S[cand, j], kind="stable")])
            return np.concatenate(picked)[:halo]

        def halo_cent(j, core, S=S, assign=assign, halo=halo):
            other = np.flatnonzero(assign != j)
            return other[np.argsort(-S[other, j], kind="stable")[:halo]]

        def halo_knn(j, core, U=U, assign=assign, halo=halo):
            sim = U[core] @ U.T
            sim[:, assign == j] = -np.inf
            kk = max(1, int(np.ceil(2 * halo / core.size)))
            nb = np.unique(np.argpartition(-sim, kk, axis=1)[:, :kk])
            best = sim.max(axis=0)[nb]  # closeness to the cell: the nearest core row
            return nb[np.argsort(-best, kind="stable")[:halo]]

        for depth in [int(v) for v in args.depths.split(",")]:
            row = {"set": name, "n": n, "depth": depth, "n_cells": ncell, "halo": halo, "landmarks": args.landmarks}
            for method, fn in [
                ("exact", lambda: loo_exact(U, codes, K, depth)),
                ("random", lambda: run_cells(U, codes, K, depth, random_chunks(n, codes, args.cell, 0),
                                             lambda j, c: np.empty(0, int))),
                ("cells", lambda: run_cells(U, codes, K, depth, cells, lambda j, c: np.empty(0, int))),
                ("halo-cent", lambda: run_cells(U, codes, K, depth, cells, halo_cent)),
                ("halo-2nd", lambda: run_cells(U, codes, K, depth, cells, halo_2nd)),
                ("halo-knn", lambda: run_cells(U, codes, K, depth, cells, halo_knn)),
                ("halo+nys", lambda: halo_nystrom(U, codes, K, depth, cells, halo_2nd, args.landmarks, 0)),
                ("block+nys", lambda: block_nystrom(U, codes, K, depth, cells, args.landmarks, 0)),
            ]:
                if method not in args.methods.split(","):
                    continue
                t = time.perf_counter()
                F = fn()
                row[method] = round(float(roc_auc_score(flipped, margin(F, codes))), 4)
                row[method + "_s"] = round(time.perf_counter() - t, 2)
            print(json.dumps(row), flush=True)
            results.append(row)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
