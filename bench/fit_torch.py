#!/usr/bin/python3
"""`rbsm fit`'s training step written in PyTorch-Python, for the benchmark in docs/benchmarks.md ("fit"):
the same model, targets and optimiser as bench/torch/fit_bench.cpp (BM_FitTraining), on the same number
of threads, printing training examples per second.

Model: the energy residual MLP of src/fit/noise_net.cpp (input [x, sin(2^k log s), cos(2^k log s)], width
128, 3 blocks h + W2 SiLU(W1 SiLU(h)), output W SiLU(h); E = out / s), float64. Example: a training point
Z, a level s of 24 log-spaced in [0.01, 0.5], X = Z + s xi, y = X / |X|; score P_T(y) grad_x E by autograd
(create_graph); target raw P_T(y)(Z - y) / s^2, or the leave-one-out RB target on S^2,
r = P_T(y) sum_j w_j Z_j / (s^2 sum_j w_j), log w_j = c_j^2 / (2 s^2) + log J_2(c_j / s), c_j = <y, Z_j>,
the example's own reference left out (all 5000 references, dense: the vectorised way). Loss
mean |s score - s target|^2; Adam with warm-up and cosine decay, EMA of the weights.
Data: 5000 draws of the 5-component vMF mixture of data/mixtures/s2_vmf5.json (Wood's exact sampler).

Run: /usr/bin/python3 bench/fit_torch.py [--threads 2] [--steps 40] [--target raw|rb|both]
Prints one JSON object: examples per second per target."""
import argparse
import json
import math
import os
import time

import torch



def log_j2(m):
    """log J_2(m), J_2(m) = int_0^inf v^2 exp(-(v - m)^2 / 2) dv = (1 + m^2) sqrt(pi/2) erfc(-m / sqrt 2)
    + m exp(-m^2/2) in closed form (for m < 0 as exp(-m^2/2) [(1 + m^2) sqrt(pi/2) erfcx(-m / sqrt 2) + m]). For m << 0 the bracket cancels (it is ~ 2 / |m|^3): clamped,
    which only changes weights that are e^-40 below the largest (the references on the far side)."""
    pos = (1 + m * m) * math.sqrt(math.pi / 2) * torch.special.erfc(-m / math.sqrt(2.0)) + m * torch.exp(-0.5 * m * m)
    mn = m.clamp_max(0.0)
    neg = (1 + mn * mn) * math.sqrt(math.pi / 2) * torch.special.erfcx(-mn / math.sqrt(2.0)) + mn
    return torch.where(m >= 0, torch.log(pos), -0.5 * mn * mn + torch.log(neg.clamp_min(1e-300)))


class NoiseNet(torch.nn.Module):
    def __init__(self, dim=3, width=128, depth=3, freqs=8):
        super().__init__()
        self.freqs = freqs
        self.input = torch.nn.Linear(dim + 2 * freqs, width)
        self.blocks = torch.nn.ModuleList(
            torch.nn.Sequential(torch.nn.SiLU(), torch.nn.Linear(width, width), torch.nn.SiLU(),
                                torch.nn.Linear(width, width)) for _ in range(depth))
        self.output = torch.nn.Linear(width, 1)

    def forward(self, x, sigma):
        k = 2.0 ** torch.arange(self.freqs, dtype=x.dtype)
        phase = torch.log(sigma)[:, None] * k[None, :]
        h = self.input(torch.cat([x, torch.sin(phase), torch.cos(phase)], 1))
        for b in self.blocks:
            h = h + b(h)
        return self.output(torch.nn.functional.silu(h)).squeeze(1) / sigma


def sample_mixture(n, gen):
    """n draws of data/mixtures/s2_vmf5.json: a component by its weight, then Wood's exact vMF sampler on S^2
    (w = 1 + log(u + (1 - u) e^{-2 kappa}) / kappa, a uniform direction orthogonal to the mean)."""
    spec = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mixtures",
                                       "s2_vmf5.json")))
    weights = torch.tensor(spec["weights"], dtype=torch.float64)
    kappa = torch.tensor([float(c["dist"].split("=")[1]) for c in spec["components"]], dtype=torch.float64)
    mean = torch.tensor([c["mean"] for c in spec["components"]], dtype=torch.float64)
    mean = mean / mean.norm(dim=1, keepdim=True)
    k = torch.multinomial(weights, n, replacement=True, generator=gen)
    u = torch.rand(n, generator=gen, dtype=torch.float64)
    w = 1 + torch.log(u + (1 - u) * torch.exp(-2 * kappa[k])) / kappa[k]
    v = tangent(mean[k], torch.randn(n, 3, generator=gen, dtype=torch.float64))
    v = v / v.norm(dim=1, keepdim=True)
    return w[:, None] * mean[k] + torch.sqrt((1 - w * w).clamp_min(0))[:, None] * v


def tangent(y, v):
    return v - (v * y).sum(1, keepdim=True) * y


def train(target, steps, data, gen, batch=256, lr=2e-3, warmup=100, ema_decay=0.995):
    torch.manual_seed(0)
    net = NoiseNet().double()
    ema = NoiseNet().double()
    ema.load_state_dict(net.state_dict())
    adam = torch.optim.Adam(net.parameters(), lr=lr)
    levels = 0.01 * (50.0 ** (torch.arange(24, dtype=torch.float64) / 23))
    n = data.shape[0]
    for step in range(steps):
        idx = torch.randint(0, n, (batch,), generator=gen)
        Z = data[idx]
        s = levels[torch.randint(0, 24, (batch,), generator=gen)]
        X = Z + s[:, None] * torch.randn(batch, 3, generator=gen, dtype=torch.float64)
        y = X / X.norm(dim=1, keepdim=True)
        if target == "raw":
            t = tangent(y, Z - y) / (s * s)[:, None]
        else:
            c = y @ data.T
            logw = c * c / (2 * (s * s)[:, None]) + log_j2(c / s[:, None])
            logw[torch.arange(batch), idx] = -math.inf  # leave the example's own reference out
            w = torch.softmax(logw, dim=1)
            t = tangent(y, w @ data) / (s * s)[:, None]
        x = y.detach().requires_grad_(True)
        f = net(x, s) * s
        g = torch.autograd.grad(f.sum(), x, create_graph=True)[0]
        loss = (tangent(y, g) - t * s[:, None]).pow(2).sum(1).mean()
        adam.zero_grad()
        loss.backward()
        warm = min(1.0, (step + 1) / warmup)
        for grp in adam.param_groups:
            grp["lr"] = lr * warm * (0.1 + 0.45 * (1 + math.cos(math.pi * step / steps)))
        adam.step()
        with torch.no_grad():
            d = min(ema_decay, (1 + step) / (10 + step))
            for pe, p in zip(ema.parameters(), net.parameters()):
                pe.mul_(d).add_(p, alpha=1 - d)
    return float(loss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--target", default="both")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(0)
    data = sample_mixture(5000, gen)
    out = {"threads": a.threads, "steps": a.steps, "batch": 256}
    for target in (["raw", "rb"] if a.target == "both" else [a.target]):
        best = math.inf
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            train(target, a.steps, data, gen)
            best = min(best, time.perf_counter() - t0)
        out[target] = {"seconds": best, "examples_per_s": a.steps * 256 / best}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
