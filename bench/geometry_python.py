#!/usr/bin/python3
"""Batched geometry through the Python package against the same formulas vectorised in NumPy
(bench/geometry_numpy.py), every manifold, 4096 points (docs/benchmarks.md "Geometry through Python").

Per point: the nearest-point projection of a point near M and every curvature operator at the projected
point (P_T, P_N, H, W_H, Ric#, K, scalar curvature): rbsm's M.local(X) (one call, rows looped in C++)
against geometry_numpy's vectorised local(X). Wall-clock, best of 5; NumPy's BLAS pinned to one thread.
rbsm runs with threads=1 (the like-for-like ratio) and with every core.

Also printed: the bytes of output per point and the rate they are written at (GB/s of the arrays returned:
NumPy's 8, rbsm's 10 — rbsm returns the tangent and normal frames as well), and, with --operators, each
batched per-operator method (M.project, M.tangent_projector, ...) against the per-point library loop it
replaced (M._per_point), both rbsm, one thread.

Page faults: fresh output memory costs about as much as computing it. glibc returns freed blocks above its
(adaptive) mmap and trim thresholds to the kernel, so NumPy's calls fault their outputs in again (zeroed by
the kernel) depending on what was freed before; rbsm's calls take their output block from a small cache of
freed blocks (python/output_block.cpp) and do not. To see NumPy without page faults as well, run with
  GLIBC_TUNABLES=glibc.malloc.trim_threshold=4294967296:glibc.malloc.mmap_threshold=4294967296

Usage: /usr/bin/python3 bench/geometry_python.py [--points N] [--runs R] [--operators]   (PYTHONPATH=build/python)
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
    ap.add_argument("--runs", type=int, default=1, help="repeat the whole comparison; then print each ratio's range")
    ap.add_argument("--operators", action="store_true", help="also time the per-operator methods")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    cores = os.cpu_count()
    n = args.points
    inputs = {}
    for spec, local in ref.MODELS.items():
        z, reach = ref.samples(spec, n, rng)
        x = z + 0.1 * reach * rng.standard_normal(z.shape) / np.sqrt(z.shape[1])
        M = rbsm.manifold(spec)
        # the same operators from both (a check that the benchmark compares like with like)
        g = M.local(x[:64])
        zn, PT, PN, H, WH, ric, K, scalar = local(x[:64])
        assert np.allclose(g["z"], zn, atol=1e-8) and np.allclose(g["K"], K, atol=1e-6), spec
        inputs[spec] = (M, local, x)
    ratios = {spec: [] for spec in ref.MODELS}
    loads = []
    for run in range(args.runs):
        loads.append(os.getloadavg()[0])
        print(f"# run {run + 1}/{args.runs}: {n} points, load average {loads[-1]:.2f} on {cores} cores, "
              f"rbsm {rbsm.__file__}")
        print(f"{'manifold':<22}{'numpy pts/s':>13}{'rbsm 1 thr':>13}{'ratio':>8}{f'rbsm {cores} thr':>13}"
              f"{'ratio':>8}{'np B/pt':>9}{'np GB/s':>9}{'rbsm B/pt':>10}{'GB/s 1thr':>10}")
        for spec, (M, local, x) in inputs.items():
            local(x[:16])
            t_np = best_of(lambda: local(x))
            t_1 = best_of(lambda: M.local(x, threads=1))
            t_all = best_of(lambda: M.local(x, threads=0))
            b_np = sum(a.nbytes for a in local(x[:1])) * 1.0
            b_rbsm = sum(a.nbytes for a in M.local(x[:2]).values()) / 2.0
            ratios[spec].append((n / t_np, n / t_1, t_np / t_1, t_np / t_all))
            print(f"{spec:<22}{n / t_np:13.0f}{n / t_1:13.0f}{t_np / t_1:8.2f}{n / t_all:13.0f}{t_np / t_all:8.2f}"
                  f"{b_np:9.0f}{b_np * n / t_np / 1e9:9.2f}{b_rbsm:10.0f}{b_rbsm * n / t_1 / 1e9:10.2f}")
    loads.append(os.getloadavg()[0])
    if args.runs > 1:
        print(f"# {args.runs} runs, load average {min(loads):.2f}-{max(loads):.2f}: min-max over the runs")
        print(f"{'manifold':<22}{'numpy pts/s':>22}{'rbsm 1 thr pts/s':>22}{'ratio 1 thr':>14}{f'ratio {cores} thr':>14}")
        for spec, rows in ratios.items():
            cols = list(zip(*rows))
            rng_of = lambda c, f: f"{f(min(c))}-{f(max(c))}"  # noqa: E731
            print(f"{spec:<22}{rng_of(cols[0], lambda v: f'{v:.3g}'):>22}{rng_of(cols[1], lambda v: f'{v:.3g}'):>22}"
                  f"{rng_of(cols[2], lambda v: f'{v:.2f}'):>14}{rng_of(cols[3], lambda v: f'{v:.2f}'):>14}")
    else:
        print(f"# load average after: {loads[-1]:.2f}")
    if args.operators:
        operators(args.points, rng)


def operators(n, rng):
    """Each batched per-operator method against the per-point library loop (M._per_point), 1 thread."""
    names = ["project", "tangent_projector", "ricci", "correction_operator", "mean_curvature", "geometric_drift"]
    print(f"# per-operator methods, {n} points, 1 thread: points/s batched (per-point loop), ratio")
    print(f"{'manifold':<22}" + "".join(f"{op:>26}" for op in names))
    for spec in ref.MODELS:
        M = rbsm.manifold(spec)
        z, reach = ref.samples(spec, n, rng)
        x = z + 0.1 * reach * rng.standard_normal(z.shape) / np.sqrt(z.shape[1])
        Z = M.project(x)
        cells = []
        for op in names:
            m = n if op != "geometric_drift" or not spec.startswith(("so3", "ellipsoid")) else 16  # numerical E_M
            A = (x if op == "project" else Z)[:m]
            t_b = best_of(lambda: getattr(M, op)(A, threads=1), 3)
            t_p = best_of(lambda: M._per_point(op, A, threads=1), 3)
            cells.append(f"{m / t_b:11.3g} ({m / t_p:9.3g}) {t_p / t_b:4.0f}x")
        print(f"{spec:<22}" + "".join(f"{c:>26}" for c in cells))


if __name__ == "__main__":
    main()
