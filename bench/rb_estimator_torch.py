#!/usr/bin/python3
"""The RB estimator of rbsm (docs/targets.md §4) written vectorised in PyTorch, for the benchmark in
docs/benchmarks.md: S^10 in R^11, 4096 vMF(kappa=2) references x 4096 queries, 2 threads, float64.

Same mathematics as src/dsm/rb_estimator.cpp: log w(c) = c^2/(2 sigma^2) + log J_10(c/sigma) (+ const),
J_n(m) = int_0^inf v^n exp(-(v-m)^2/2) dv by the forward recurrence (m >= -4) and Miller's backward
recurrence (m < -4), self-normalised weights in log space, r = P_T(y) sum w Z / (sigma^2 sum w), ESS.

Run: /usr/bin/python3 bench/rb_estimator_torch.py [--sigmas 0.01,0.1,0.5,1] [--repeats 3]
Prints one JSON object: per sigma, seconds per call and query x reference pairs per second."""
import argparse
import json
import math
import time

import torch


def sample_vmf(n, d, kappa, gen):
    """vMF(e_1, kappa) on S^d by rejection from the uniform law (fine for small kappa)."""
    out = []
    while sum(x.shape[0] for x in out) < n:
        z = torch.randn(4 * n, d + 1, generator=gen, dtype=torch.float64)
        z = z / z.norm(dim=1, keepdim=True)
        u = torch.rand(4 * n, generator=gen, dtype=torch.float64)
        out.append(z[u < torch.exp(kappa * (z[:, 0] - 1.0))])
    return torch.cat(out)[:n]


def log_half_line_moment(n, m):
    """log J_n(m), elementwise."""
    out = torch.empty_like(m)
    fwd = m >= -0.5
    mf = m[fwd]
    j_prev = math.sqrt(math.pi / 2) * torch.special.erfc(-mf / math.sqrt(2.0))
    j = mf * j_prev + torch.exp(-0.5 * mf * mf)
    if n == 0:
        j = j_prev
    for k in range(2, n + 1):
        j, j_prev = mf * j + (k - 1) * j_prev, j
    out[fwd] = torch.log(j)
    if (~fwd).any():
        a = -m[~fwd]
        top = int(math.ceil((math.sqrt(n + 1.0) + 20.0 / 0.5) ** 2)) + 10
        k_next = torch.zeros_like(a)
        k_cur = torch.ones_like(a)
        k_n = torch.ones_like(a) if top == n else torch.zeros_like(a)
        for k in range(top, 0, -1):
            k_prev = (k_next + a * k_cur) / k
            k_next, k_cur = k_cur, k_prev
            if k - 1 == n:
                k_n = k_cur.clone()
            # Going down, J_{k-1} ~ J_{k+1} / k shrinks: rescale before it underflows (only the ratio
            # J_n / J_0 is used).
            small = k_cur.abs() < 1e-200
            k_cur = torch.where(small, k_cur * 1e200, k_cur)
            k_next = torch.where(small, k_next * 1e200, k_next)
            k_n = torch.where(small, k_n * 1e200, k_n)
        log_k0 = torch.log(math.sqrt(math.pi / 2) * torch.special.erfcx(a / math.sqrt(2.0)))
        out[~fwd] = -0.5 * a * a + torch.log(k_n) - torch.log(k_cur) + log_k0
    return out


def rb_estimate(queries, refs, sigma, block=512):
    d = refs.shape[1] - 1
    r = torch.empty_like(queries)
    ess = torch.empty(queries.shape[0], dtype=queries.dtype)
    for s in range(0, queries.shape[0], block):
        y = queries[s:s + block]
        c = y @ refs.T
        logw = c * c / (2 * sigma * sigma) + log_half_line_moment(d, c / sigma)
        logw = logw - logw.max(dim=1, keepdim=True).values
        w = torch.exp(logw)
        sw = w.sum(dim=1)
        sw2 = (w * w).sum(dim=1)
        S = w @ refs
        r[s:s + block] = (S - (S * y).sum(dim=1, keepdim=True) * y) / (sigma * sigma * sw[:, None])
        ess[s:s + block] = sw * sw / sw2
    return r, ess


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sigmas", default="0.01,0.1,0.5,1")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n", type=int, default=4096)
    args = ap.parse_args()
    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(0)
    refs = sample_vmf(args.n, 10, 2.0, gen)
    queries = sample_vmf(args.n, 10, 2.0, gen)
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "n_refs": args.n, "n_queries": args.n}
    for sigma in [float(s) for s in args.sigmas.split(",")]:
        rb_estimate(queries[:64], refs, sigma)  # warm-up
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            r, ess = rb_estimate(queries, refs, sigma)
            times.append(time.perf_counter() - t0)
        best = min(times)
        result[str(sigma)] = {"seconds": best, "pairs_per_second": args.n * args.n / best,
                              "mean_ess": float(ess.mean()), "finite": bool(torch.isfinite(r).all())}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
