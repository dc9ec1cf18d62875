#!/usr/bin/python3
"""NumPy baseline for bench/core/geometry_bench.cpp (docs/benchmarks.md "Geometry").

Per point: the nearest-point projection of a point near M, then every curvature operator at the
projected point as D x D ambient matrices (P_T, P_N, H, W_H, Ric#, K, scalar curvature), with the
formulas of rbsm (docs/geometry.md, docs/level_set.md), vectorised over a batch of points:

  sphere:d          closed form (pi = x/|x|, H = -d z, W_H = d P_T, Ric# = (d-1) P_T);
  torus:R,r         closed form in the angles (W_nu = -<nu, n>(k2 e1 e1^T + k1 e2 e2^T), Ric# = K_G P_T);
  so3, ellipsoid    the generic level set: Gauss-Newton onto F = 0, Newton on the KKT system, frames from
                    the complete QR of J^T, W_nu = -P_T (sum lambda_i Hess F_i) P_T, Ric# by Gauss.

Usage: /usr/bin/python3 bench/geometry_numpy.py [--points N] [--cpp-json FILE]
FILE is Google Benchmark's --benchmark_format=json output of geometry_bench; the ratio C++/NumPy is
printed when it is given. BLAS is pinned to one thread (set before numpy is imported); times are
process CPU time (like Google Benchmark's items_per_second), best of 3, so a loaded machine affects them less.
"""
import argparse
import json
import os
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
import numpy as np  # noqa: E402


def outer(a, b):
    return a[:, :, None] * b[:, None, :]


# ------------------------------------------------------------------ closed forms
def sphere_local(x, d):
    z = x / np.linalg.norm(x, axis=1, keepdims=True)
    D = d + 1
    PT = np.eye(D)[None] - outer(z, z)
    PN = np.eye(D)[None] - PT
    H = -d * z
    WH = d * PT
    ric = (d - 1) * PT
    K = 0.5 * WH - ric
    scalar = np.einsum("nii->n", ric)
    return z, PT, PN, H, WH, ric, K, scalar


def torus_local(x, R, r):
    a2 = np.arctan2(x[:, 1], x[:, 0])
    rho = np.hypot(x[:, 0], x[:, 1])
    a1 = np.arctan2(x[:, 2], rho - R)
    c1, s1, c2, s2 = np.cos(a1), np.sin(a1), np.cos(a2), np.sin(a2)
    z = np.stack([(R + r * c1) * c2, (R + r * c1) * s2, r * s1], axis=1)
    n = np.stack([c1 * c2, c1 * s2, s1], axis=1)
    e1 = np.stack([-s1 * c2, -s1 * s2, c1], axis=1)
    e2 = np.stack([-s2, c2, np.zeros_like(c2)], axis=1)
    k1 = c1 / (R + r * c1)
    k2 = np.full_like(k1, 1.0 / r)
    E1, E2 = outer(e1, e1), outer(e2, e2)
    PT = E1 + E2
    PN = outer(n, n)

    def W(nu_dot_n):
        return -nu_dot_n[:, None, None] * (k2[:, None, None] * E1 + k1[:, None, None] * E2)

    trace_n = -(k1 + k2)
    H = trace_n[:, None] * n
    WH = W(trace_n)
    KG = k1 * k2
    ric = KG[:, None, None] * PT
    K = 0.5 * WH - ric
    return z, PT, PN, H, WH, ric, K, 2 * KG


# ------------------------------------------------------------------ generic level set
class LevelSet:
    def __init__(self, D, k, F, J, hessians):
        self.D, self.k, self.F, self.J, self.hess = D, k, F, J, hessians  # constant Hessians (k, D, D)

    def project(self, x, tol=1e-13):
        p = x.copy()
        for _ in range(60):  # Gauss-Newton: p <- p - J^T (J J^T)^{-1} F
            J = self.J(p)
            step = np.einsum("nki,nk->ni", J, np.linalg.solve(J @ J.transpose(0, 2, 1), self.F(p)[..., None])[..., 0])
            p -= step
            if np.max(np.linalg.norm(step, axis=1)) <= tol * (1 + np.max(np.linalg.norm(p, axis=1))):
                break
        J = self.J(p)
        mu = np.linalg.solve(J @ J.transpose(0, 2, 1), np.einsum("nki,ni->nk", J, x - p)[..., None])[..., 0]
        D, k = self.D, self.k
        for _ in range(40):  # Newton on the KKT system
            J = self.J(p)
            A = np.zeros((len(x), D + k, D + k))
            A[:, :D, :D] = np.eye(D) + np.einsum("nk,kij->nij", mu, self.hess)
            A[:, :D, D:] = J.transpose(0, 2, 1)
            A[:, D:, :D] = J
            res = np.concatenate([p - x + np.einsum("nki,nk->ni", J, mu), self.F(p)], axis=1)
            step = np.linalg.solve(A, -res[..., None])[..., 0]
            p += step[:, :D]
            mu += step[:, D:]
            if np.max(np.linalg.norm(step[:, :D], axis=1)) <= tol * (1 + np.max(np.linalg.norm(x, axis=1))):
                break
        return p

    def local(self, x):
        z = self.project(x)
        J = self.J(z)
        Q, _ = np.linalg.qr(J.transpose(0, 2, 1), mode="complete")
        N, E = Q[:, :, : self.k], Q[:, :, self.k :]
        PT = E @ E.transpose(0, 2, 1)
        PN = np.eye(self.D)[None] - PT
        G = J @ J.transpose(0, 2, 1)

        def W(nu):
            lam = np.linalg.solve(G, np.einsum("nki,ni->nk", J, nu)[..., None])[..., 0]
            S = np.einsum("nk,kij->nij", lam, self.hess)
            return -E @ (E.transpose(0, 2, 1) @ S @ E) @ E.transpose(0, 2, 1)

        Wa = [W(N[:, :, a]) for a in range(self.k)]
        H = sum(N[:, :, a] * np.einsum("nii->n", Wa[a])[:, None] for a in range(self.k))
        WH = W(H)
        ric = WH - sum(Wa_ @ Wa_ for Wa_ in Wa)
        K = 0.5 * WH - ric
        return z, PT, PN, H, WH, ric, K, np.einsum("nii->n", ric)


PAIRS = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]


def so3():
    hess = np.zeros((6, 9, 9))
    for p, (i, j) in enumerate(PAIRS):
        for c in range(3):
            hess[p, 3 * c + i, 3 * c + j] += 1
            hess[p, 3 * c + j, 3 * c + i] += 1

    def F(x):
        R = x.reshape(-1, 3, 3)
        C = R.transpose(0, 2, 1) @ R - np.eye(3)
        return np.stack([C[:, i, j] for i, j in PAIRS], axis=1)

    def J(x):
        R = x.reshape(-1, 3, 3)
        out = np.zeros((len(x), 6, 9))
        for p, (i, j) in enumerate(PAIRS):
            for c in range(3):
                out[:, p, 3 * c + i] += R[:, c, j]
                out[:, p, 3 * c + j] += R[:, c, i]
        return out

    return LevelSet(9, 6, F, J, hess)


def ellipsoid(a):
    inv = 1 / np.asarray(a, float) ** 2
    return LevelSet(len(a), 1, lambda x: (x * x @ inv - 1)[:, None], lambda x: (2 * x * inv)[:, None, :],
                    np.diag(2 * inv)[None])


# ------------------------------------------------------------------ sampling and timing
def samples(spec, n, rng):
    if spec.startswith("sphere"):
        g = rng.standard_normal((n, int(spec.split(":")[1]) + 1))
        return g / np.linalg.norm(g, axis=1, keepdims=True), 1.0
    if spec == "torus:3,1":
        a1, a2 = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 2 * np.pi, n)  # placement only
        return np.stack([(3 + np.cos(a1)) * np.cos(a2), (3 + np.cos(a1)) * np.sin(a2), np.sin(a1)], 1), 1.0
    if spec == "so3":
        q = rng.standard_normal((n, 4))
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        w, x, y, z = q.T
        R = np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
                      2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                      2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=1)
        return R, np.sqrt(2.0)
    if spec.startswith("ellipsoid"):
        a = np.array([float(v) for v in spec.split(":")[1].split(",")])
        g = rng.standard_normal((n, len(a)))
        return a * g / np.linalg.norm(g, axis=1, keepdims=True), a.min() ** 2 / a.max()
    raise ValueError(spec)


MODELS = {
    "sphere:2": lambda x: sphere_local(x, 2),
    "sphere:10": lambda x: sphere_local(x, 10),
    "torus:3,1": lambda x: torus_local(x, 3.0, 1.0),
    "so3": so3().local,
    "ellipsoid:1,1.5,2.5": ellipsoid([1, 1.5, 2.5]).local,
}
CPP_NAMES = {
    "sphere:2": "BM_ProjectAndLocal/sphere_2",
    "sphere:10": "BM_ProjectAndLocal/sphere_10",
    "torus:3,1": "BM_ProjectAndLocal/torus_3_1",
    "so3": "BM_ProjectAndLocal/so3",
    "ellipsoid:1,1.5,2.5": "BM_ProjectAndLocal/ellipsoid_3d",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=4096)
    ap.add_argument("--cpp-json", help="geometry_bench --benchmark_format=json output")
    args = ap.parse_args()
    cpp = {}
    if args.cpp_json:
        with open(args.cpp_json) as f:
            for b in json.load(f)["benchmarks"]:
                cpp[b["name"]] = b.get("items_per_second")
    rng = np.random.default_rng(7)
    print(f"{'manifold':<22}{'numpy points/s':>16}{'C++ points/s':>16}{'C++/numpy':>11}")
    for spec, local in MODELS.items():
        z, reach = samples(spec, args.points, rng)
        x = z + 0.1 * reach * rng.standard_normal(z.shape) / np.sqrt(z.shape[1])
        local(x[:16])  # warm-up
        best = np.inf
        for _ in range(3):
            t0 = time.process_time()
            local(x)
            best = min(best, time.process_time() - t0)
        rate = args.points / best
        c = cpp.get(CPP_NAMES[spec])
        ratio = f"{c / rate:11.1f}" if c else f"{'-':>11}"
        cs = f"{c:16.0f}" if c else f"{'-':>16}"
        print(f"{spec:<22}{rate:16.0f}{cs}{ratio}")


if __name__ == "__main__":
    main()
