#!/usr/bin/python3
"""Reference for build-*/bench/langevin_bench: the same projected Euler-Maruyama update on S^10,
vectorised over chains in NumPy (float64, in-place where possible, NumPy's ziggurat normals):

    z' = normalise(z + h g(<mu, z>) (mu - <mu, z> z) + sqrt(2h) (xi - <xi, z> z)),  g = kappa = 2.

Prints chain-steps per second (median of repeats). Usage: /usr/bin/python3 bench/langevin_numpy.py
"""
import sys
import time

import numpy as np


def run(chains: int, steps: int, h: float = 0.01, kappa: float = 2.0, D: int = 11, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    mu = np.zeros(D)
    mu[0] = 1.0
    z = rng.standard_normal((chains, D))
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    s = np.sqrt(2.0 * h)
    xi = np.empty((chains, D))
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        rng.standard_normal(out=xi)
        t = z @ mu                      # <mu, z>
        xz = np.einsum("ij,ij->i", xi, z)  # <xi, z>
        a = h * kappa                   # h g(t), g = kappa
        # z + a (mu - t z) + s (xi - xz z) = z (1 - a t - s xz) + a mu + s xi
        c = 1.0 - a * t - s * xz
        z *= c[:, None]
        z += s * xi
        z[:, 0] += a                    # a mu with mu = e_1 (any mu: z += a * mu)
        z /= np.sqrt(np.einsum("ij,ij->i", z, z))[:, None]
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert np.all(np.isfinite(z))
    return chains * steps / elapsed, chains * steps / cpu


def main() -> None:
    chains = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    run(chains, 5)  # warm-up
    runs = [run(chains, steps, seed=r) for r in range(5)]
    rates = sorted(r[0] for r in runs)
    cpu_rates = sorted(r[1] for r in runs)
    print(f"numpy {np.__version__}: S^10 Langevin, {chains} chains x {steps} steps: "
          f"{rates[len(rates) // 2] / 1e6:.2f} M chain-steps/s wall (median of 5; min {rates[0] / 1e6:.2f}, "
          f"max {rates[-1] / 1e6:.2f}); {cpu_rates[2] / 1e6:.2f} M chain-steps per CPU-second")


if __name__ == "__main__":
    main()
