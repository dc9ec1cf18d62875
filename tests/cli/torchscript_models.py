#!/usr/bin/env python3
"""TorchScript models for the CLI tests of `--torchscript` (tests/cli/torchscript.cmake; docs/anatomy.md §11).

usage: torchscript_models.py write DIR        writes the models and points below into DIR
       torchscript_models.py compare A B      A, B: anatomy run folders; their spectra.csv and local_dim.csv
                                              must agree (singular values to 1e-5 of the largest, dimensions exactly)

Models (input shape 1,4,4, D = 16): data N(0, P) on a k = 3 dimensional subspace (P = Q Q^T, Q from a
fixed seed), noised by the schedule: x_t ~ N(0, C_t), C_t = alpha_t^2 P + sigma_t^2 I, so the exact score is
s(x, t) = -(P x / (alpha_t^2 + sigma_t^2) + (I - P) x / sigma_t^2); gauss_{vp,ve}_{score,eps,x0}.pt return
s, eps = -sigma_t s or x0 = (x + sigma_t^2 s) / alpha_t. Bad models: one_arg.pt (forward(x)),
wrong_shape.pt (returns x.sum(1)), nan.pt (0/0), junk.pt (not an archive). points.csv: 3 points in span(Q)
(flattened, 16 columns).
"""
import csv, math, os, sys

import torch


class Gauss(torch.nn.Module):
    def __init__(self, P: torch.Tensor, vp: bool, param: str):
        super().__init__()
        self.register_buffer("P", P)
        self.vp = vp
        self.param = param
        self.log_ratio = math.log(50.0 / 0.01)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        n = x.size(0)
        xf = x.reshape(n, -1)
        tt = t.to(xf.dtype).reshape(n, 1)
        if self.vp:  # rbsm's VP-SDE: beta(t) = 0.1 + 19.9 t
            B = 0.1 * tt + 0.5 * 19.9 * tt * tt
            a = torch.exp(-0.5 * B)
            s2 = -torch.expm1(-B)
        else:  # VE: sigma_t = 0.01 (50 / 0.01)^t
            s = 0.01 * torch.exp(tt * self.log_ratio)
            a = torch.ones_like(tt)
            s2 = s * s
        px = xf @ self.P
        score = -(px / (a * a + s2) + (xf - px) / s2)
        if self.param == "eps":
            out = -torch.sqrt(s2) * score
        elif self.param == "x0":
            out = (xf + s2 * score) / a
        else:
            out = score
        return out.reshape(x.shape)


class OneArg(torch.nn.Module):
    def forward(self, x):
        return x


class WrongShape(torch.nn.Module):
    def forward(self, x, t):
        return x.sum(1)


class NaN(torch.nn.Module):
    def forward(self, x, t):
        return x / (x - x)


def subspace(D=16, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(D, k, generator=g, dtype=torch.float64))
    return Q


def write(out):
    os.makedirs(out, exist_ok=True)
    Q = subspace()
    P = Q @ Q.T
    for sched in ("vp", "ve"):
        for param in ("score", "eps", "x0"):
            torch.jit.script(Gauss(P, sched == "vp", param)).save(os.path.join(out, f"gauss_{sched}_{param}.pt"))
    torch.jit.script(OneArg()).save(os.path.join(out, "one_arg.pt"))
    torch.jit.script(WrongShape()).save(os.path.join(out, "wrong_shape.pt"))
    torch.jit.script(NaN()).save(os.path.join(out, "nan.pt"))
    with open(os.path.join(out, "junk.pt"), "w") as f:
        f.write("not a TorchScript archive\n")
    z = torch.tensor([[1.0, 0.0, -0.5], [0.3, 1.2, 0.4], [-0.8, 0.1, 0.9]], dtype=torch.float64)
    with open(os.path.join(out, "points.csv"), "w", newline="") as f:
        w = csv.writer(f)
        for row in (z @ Q.T).tolist():
            w.writerow([repr(v) for v in row])
    with open(os.path.join(out, "points_wrong_width.csv"), "w") as f:
        f.write("1,2,3\n4,5,6\n")


def read(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def compare(a, b):
    sa, sb = read(os.path.join(a, "spectra.csv")), read(os.path.join(b, "spectra.csv"))
    la, lb = read(os.path.join(a, "local_dim.csv")), read(os.path.join(b, "local_dim.csv"))
    if len(sa) != len(sb) or len(sa) == 0:
        sys.exit(f"spectra.csv: {len(sa)} and {len(sb)} rows")
    # Weyl: |s_i(J) - s_i(J')| <= |J - J'|_2, so float32 rounding shows relative to the largest singular value
    # (the smallest ones of a 784 x 784 float32 Jacobian carry errors of order 1e-7 |J|, large relative to themselves)
    smax = max(float(r["s"]) for r in sa)
    worst = max(abs(float(ra["s"]) - float(rb["s"])) for ra, rb in zip(sa, sb)) / smax
    if not worst < 1e-5:
        sys.exit(f"singular values differ by {worst:.3g} of the largest")
    if [r["local_dim"] for r in la] != [r["local_dim"] for r in lb]:
        sys.exit(f"local dimensions differ: {[r['local_dim'] for r in la]} vs {[r['local_dim'] for r in lb]}")
    print(f"{len(sa)} singular values agree to {worst:.2g} of the largest; local dimensions {[r['local_dim'] for r in la]}")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    elif sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
