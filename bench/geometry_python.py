#!/usr/bin/python3
"""Batched geometry through the Python package against the same formulas vectorised in NumPy
(bench/geometry_numpy.py), every manifold, 4096 points (docs/benchmarks.md "Geometry through Python").

Per point: the nearest-point projection of a point near M and every curvature operator at the projected
point (P_T, P_N, H, W_H, Ric#, K, scalar curvature): rbsm's M.local(X) (one call, rows looped in C++)
against geometry_numpy's vectorised local(X). Wall-clock, best of 5; NumPy's BLAS pinned to one thread.
rbsm runs with threads=1 (the like-for-like ratio) and with every core.

Usage: /usr/bin/python3 bench/geometry_python.py [--points N]   (PYTHONPATH=build/python for a fresh build)
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import geometry_numpy as ref  # noqa: E402  (pins BLAS to one thread before numpy is imported)
import numpy as np  # noqa: E402

import rbsm  # noqa: E402


def best_of(f, repeats=5):
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=4096)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    cores = os.cpu_count()
    print(f"# {args.points} points, load average {os.getloadavg()[0]:.2f} on {cores} cores, rbsm {rbsm.__file__}")
    print(f"{'manifold':<22}{'numpy pts/s':>13}{'rbsm 1 thr':>13}{'ratio':>8}{f'rbsm {cores} thr':>13}{'ratio':>8}")
    for spec, local in ref.MODELS.items():
        z, reach = ref.samples(spec, args.points, rng)
        x = z + 0.1 * reach * rng.standard_normal(z.shape) / np.sqrt(z.shape[1])
        M = rbsm.manifold(spec)
        # the same operators from both (a check that the benchmark compares like with like)
        g = M.local(x[:64])
        zn, PT, PN, H, WH, ric, K, scalar = local(x[:64])
        assert np.allclose(g["z"], zn, atol=1e-8) and np.allclose(g["K"], K, atol=1e-6), spec
        local(x[:16])
        t_np = best_of(lambda: local(x))
        t_1 = best_of(lambda: M.local(x, threads=1))
        t_all = best_of(lambda: M.local(x, threads=0))
        n = args.points
        print(f"{spec:<22}{n / t_np:13.0f}{n / t_1:13.0f}{t_np / t_1:8.2f}{n / t_all:13.0f}{t_np / t_all:8.2f}")
    print(f"# load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
