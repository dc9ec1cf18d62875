#!/usr/bin/env python3
"""Why do RB targets lose to raw targets on the earth catalogues? (docs/fit.md §7, "The other half")

For fits of one catalogue and split (run folders of `rbsm earth-benchmark` or `rbsm fit`), two tables:

1. Per noise level, how well each fit's score s(y, sigma) matches E_emp[T | y], the minimiser of both the raw
   and the RB loss (the RB estimator with every training row as reference: the conditional mean of the raw
   target under the empirical measure): mean sigma^2 |s - E_emp[T | y]|^2 over y = pi(Z + sigma xi), Z drawn
   from the training split (or the test split with --at test).
2. Per level, each fit's density p_sigma against the smoothed empirical measure q_sigma that its target is the
   score of (a vMF KDE of the training split with kappa = 1 / sigma^2): test NLL, log Z, the mass farther
   than 0.1 rad from every training point (log Z includes the energy's arbitrary constant: compare it only
   between levels of one fit), and the spread (sd) of log p - log q_sigma over the training
   points split into its between-cluster part (clusters: single linkage of the training points at 3 sigma;
   the sd of the cluster means, i.e. how wrong the relative masses of separated peaks are) and its
   within-cluster part (the local shape).

    PYTHONPATH=build/python /usr/bin/python3 scripts/rb_deficit.py volcano RUN_RAW RUN_RB [RUN ...]
"""
import argparse

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

import rbsm


def vmf_kde_log_density(Z, refs, kappa):
    """log (1/n) sum_j C(kappa) exp(kappa <z, z_j>) on S^2, stable for large kappa."""
    log_c = np.log(kappa) - np.log(2 * np.pi) - kappa - np.log1p(-np.exp(-2 * kappa))
    a = kappa * Z @ refs.T
    m = a.max(1, keepdims=True)
    return (m[:, 0] + np.log(np.exp(a - m).sum(1))) - np.log(len(refs)) + log_c


def between_within(g, labels):
    """sd of g split into the sd of its cluster means (weighted by size) and the sd within clusters."""
    k = labels - labels.min()
    size = np.bincount(k)
    means = np.bincount(k, weights=g) / size
    between = np.sqrt(np.average((means - g.mean())**2, weights=size))
    return between, np.sqrt(np.mean((g - means[k])**2))


def fibonacci_sphere(n):
    i = np.arange(n)
    z = 1 - (2 * i + 1) / n
    r = np.sqrt(1 - z * z)
    g = np.pi * (3 - np.sqrt(5)) * i
    return np.stack([r * np.cos(g), r * np.sin(g), z], 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", help="volcano, earthquake, flood or fire")
    ap.add_argument("runs", nargs="+", help="run folders (checkpoint.pt) trained on this catalogue and split")
    ap.add_argument("--split-seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=4000, help="noisy points per level")
    ap.add_argument("--at", choices=["train", "test"], default="train", help="where the noisy points are drawn")
    ap.add_argument("--levels", default="0.0277,0.039,0.0548", help="levels of table 2 (nearest fitted level)")
    ap.add_argument("--max-sigma", type=float, default=0.3, help="largest level of table 1")
    a = ap.parse_args()

    M = rbsm.manifold("sphere:2")
    d = rbsm.fit_data(M, "earth:" + a.dataset, split_seed=a.split_seed)
    train, test = d["train"], d["test"]
    runs = [rbsm.load_fit(r) for r in a.runs]
    uniform = rbsm.density(M, "uniform")
    for k, r in enumerate(a.runs):
        print(f"# fit {k}: {r}")

    print(f"\n## 1. mean sigma^2 |s - E_emp[T|y]|^2, y from the {a.at} split ({a.n} per level)")
    print("| sigma | sigma^2 E|E_emp[T|y]|^2 | median ESS | " + " | ".join(f"fit {k}" for k in range(len(runs))) + " |")
    print("|---" * (3 + len(runs)) + "|")
    source = train if a.at == "train" else test
    for s in runs[0].sigma_levels:
        if s > a.max_sigma:
            break
        rng = np.random.default_rng([7, int(s * 1e6)])
        Z = source[rng.integers(0, len(source), a.n)]
        X = Z + s * rng.standard_normal(Z.shape)
        Y = X / np.linalg.norm(X, axis=1, keepdims=True)
        r, ess = rbsm.rb_target(M, uniform, Y, s, method="estimator", references=train, return_ess=True,
                                progress=False)
        cells = [f"{s:.4f}", f"{s * s * (r**2).sum(1).mean():.3f}", f"{np.median(ess):.1f}"]
        for run in runs:
            cells.append(f"{s * s * ((run.score(Y, s) - r)**2).sum(1).mean():.4f}")
        print("| " + " | ".join(cells) + " |")

    print("\n## 2. density at sigma against q_sigma (vMF KDE of train, kappa = 1/sigma^2)")
    print("| sigma | q_sigma test NLL | " + " | ".join(
        f"fit {k}: test NLL, log Z, mass far, sd(log p - log q) between / within" for k in range(len(runs))) + " |")
    print("|---" * (2 + len(runs)) + "|")
    grid = fibonacci_sphere(40000)
    far = (grid @ train.T).max(1) < np.cos(0.1)
    for target in map(float, a.levels.split(",")):
        cells = [f"{target:.4f}", f"{-vmf_kde_log_density(test, train, 1 / target**2).mean():.3f}"]
        for run in runs:
            s = min(run.sigma_levels, key=lambda l: abs(l - target))
            q_train = vmf_kde_log_density(train, train, 1 / s**2)
            dens = run.density(sigma=s, tol=1e-3)
            mass_far = np.exp(run.log_density(grid[far], sigma=s, tol=1e-3)).sum() * 4 * np.pi / len(grid)
            gap = run.log_density(train, sigma=s, tol=1e-3) - q_train
            between, within = between_within(gap, fcluster(linkage(train, "single"), t=3 * s, criterion="distance"))
            test_nll = -run.log_density(test, sigma=s, tol=1e-3).mean()
            cells.append(f"{test_nll:.3f}, {dens['log_normaliser']:.2f}, {mass_far:.3f}, {between:.2f} / {within:.2f}")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
