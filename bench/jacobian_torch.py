#!/usr/bin/env python3
"""Score-anatomy cost in PyTorch-Python, timed the same way as bench/torch/jacobian_bench.cpp:
seconds per image for the full 784 x 784 Jacobian of the U-Net score s(x, t) = -eps(x, t) / sigma_t
(batched VJP: x repeated `chunk` times, one backward with one-hot cotangents per chunk), its SVD
(torch.linalg.svd, float64) and the eigen-decomposition of the symmetrised Jacobian (torch.linalg.eigh),
on the same number of threads. The U-Net is bench/unet_torch.py's copy of include/rbsm/nn/unet.hpp.

usage: /usr/bin/python3 bench/jacobian_torch.py [--threads 2] [--repeats 3] [--chunks 64,98] [--json]
"""
import argparse, json, os, sys, time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet_torch import UNet, vp_sigma_alpha  # noqa: E402


def jacobian(score, x, chunk):
    D = x.numel()
    J = torch.empty(D, D, dtype=x.dtype)
    for b in range(0, D, chunk):
        c = min(chunk, D - b)
        xb = x.reshape(1, D).expand(c, D).clone().requires_grad_(True)
        g = score(xb)
        cot = torch.zeros(c, D, dtype=g.dtype)
        cot[torch.arange(c), torch.arange(b, b + c)] = 1.0
        (rows,) = torch.autograd.grad(g, xb, cot)
        J[b:b + c] = rows
    return J


def timed(f, repeats):
    f()  # warm-up
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return min(ts), sum(ts) / len(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--chunks", default="64,98")
    ap.add_argument("--t", type=float, default=0.05)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = UNet().eval()
    for p in net.parameters():
        p.requires_grad_(False)
    params = sum(p.numel() for p in net.parameters())
    _, sigma = vp_sigma_alpha(torch.tensor(a.t, dtype=torch.float64))
    sigma = float(sigma)

    def score(xb):
        n = xb.shape[0]
        return (-net(xb.reshape(n, 1, 28, 28), torch.full((n,), a.t)) / sigma).reshape(n, 784)

    x = torch.randn(784)
    res = {"threads": a.threads, "params": params, "torch": torch.__version__, "jacobian": {}}
    for c in [int(s) for s in a.chunks.split(",")]:
        best, mean = timed(lambda: jacobian(score, x, c), a.repeats)
        res["jacobian"][str(c)] = {"best_s": best, "mean_s": mean}
    J = jacobian(score, x, int(a.chunks.split(",")[0])).double()
    res["svd_s"] = timed(lambda: torch.linalg.svd(J), a.repeats)[0]
    res["eigh_s"] = timed(lambda: torch.linalg.eigh(0.5 * (J + J.T)), a.repeats)[0]
    best_jac = min(v["best_s"] for v in res["jacobian"].values())
    res["total_per_image_s"] = best_jac + res["svd_s"] + res["eigh_s"]
    if a.json:
        print(json.dumps(res))
    else:
        for c, v in res["jacobian"].items():
            print(f"jacobian chunk {c:>4}: {v['best_s']:.3f} s (mean {v['mean_s']:.3f})")
        print(f"svd  784x784 float64: {res['svd_s']:.3f} s")
        print(f"eigh 784x784 float64: {res['eigh_s']:.3f} s")
        print(f"total per image: {res['total_per_image_s']:.3f} s  ({params} parameters, {a.threads} threads)")


if __name__ == "__main__":
    main()
