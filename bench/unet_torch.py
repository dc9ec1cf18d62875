#!/usr/bin/env python3
"""The rbsm U-Net (include/rbsm/nn/unet.hpp) in PyTorch-Python, timed the same way as
bench/torch/unet_bench.cpp: ms per training step (batch 128: forward, eps-MSE loss, backward, Adam step)
and ms per sampling step (one Euler-Maruyama step of the reverse VP-SDE at batch 64 = one forward pass
under no_grad), on the same number of threads.

usage: /usr/bin/python3 bench/unet_torch.py [--threads 2] [--repeats 5] [--json]
"""
import argparse, json, math, time

import torch
import torch.nn as nn
import torch.nn.functional as F


def gn(ch):
    return nn.GroupNorm(min(32, ch // 4), ch, eps=1e-6)


def conv(i, o, k, stride=1, zero=False):
    c = nn.Conv2d(i, o, k, stride=stride, padding=k // 2)
    (nn.init.zeros_ if zero else nn.init.xavier_uniform_)(c.weight)
    nn.init.zeros_(c.bias)
    return c


def linear(i, o):
    l = nn.Linear(i, o)
    nn.init.xavier_uniform_(l.weight)
    nn.init.zeros_(l.bias)
    return l


class ResBlock(nn.Module):
    def __init__(self, i, o, temb, dropout):
        super().__init__()
        self.norm1, self.conv1, self.temb_proj = gn(i), conv(i, o, 3), linear(temb, o)
        self.norm2, self.drop, self.conv2 = gn(o), nn.Dropout(dropout), conv(o, o, 3, zero=True)
        self.skip = conv(i, o, 1) if i != o else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.drop(F.silu(self.norm2(h))))
        return (self.skip(x) if self.skip is not None else x) + h


class AttnBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.norm, self.qkv, self.proj = gn(ch), conv(ch, 3 * ch, 1), conv(ch, ch, 1, zero=True)

    def forward(self, x):
        B, C, H, W = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(B, 3, C, H * W).unbind(1)
        w = torch.softmax(torch.bmm(q.transpose(1, 2), k) * C ** -0.5, -1)
        return x + self.proj(torch.bmm(v, w.transpose(1, 2)).reshape(B, C, H, W))


def timestep_embedding(pos, dim):
    half = dim // 2
    freqs = torch.exp(torch.arange(half, dtype=torch.float32) * -(math.log(10000.0) / max(half - 1, 1)))
    args = pos.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], 1)


class UNet(nn.Module):
    def __init__(self, ch=32, mult=(1, 2, 2), nres=2, attn=(7,), size=28, cin=1, dropout=0.0):
        super().__init__()
        self.ch, self.mult, self.nres = ch, mult, nres
        temb = 4 * ch
        self.temb0, self.temb1 = linear(ch, temb), linear(temb, temb)
        self.conv_in = conv(cin, ch, 3)
        self.down_res, self.down_attn, self.downsample = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        skips, c, res = [ch], ch, size
        for l, m in enumerate(mult):
            for _ in range(nres):
                self.down_res.append(ResBlock(c, ch * m, temb, dropout))
                c = ch * m
                self.down_attn.append(AttnBlock(c) if res in attn else nn.Identity())
                skips.append(c)
            if l + 1 < len(mult):
                self.downsample.append(conv(c, c, 3, 2))
                skips.append(c)
                res //= 2
        self.mid1, self.mid_attn, self.mid2 = ResBlock(c, c, temb, dropout), AttnBlock(c), ResBlock(c, c, temb, dropout)
        self.up_res, self.up_attn, self.upsample = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for l in reversed(range(len(mult))):
            for _ in range(nres + 1):
                self.up_res.append(ResBlock(c + skips.pop(), ch * mult[l], temb, dropout))
                c = ch * mult[l]
                self.up_attn.append(AttnBlock(c) if res in attn else nn.Identity())
            if l > 0:
                self.upsample.append(conv(c, c, 3))
                res *= 2
        self.norm_out, self.conv_out = gn(c), conv(c, cin, 3, zero=True)

    def forward(self, x, t):
        temb = self.temb1(F.silu(self.temb0(timestep_embedding(t * 999.0, self.ch))))
        hs, k = [self.conv_in(x)], 0
        for l in range(len(self.mult)):
            for _ in range(self.nres):
                hs.append(self.down_attn[k](self.down_res[k](hs[-1], temb)))
                k += 1
            if l + 1 < len(self.mult):
                hs.append(self.downsample[l](hs[-1]))
        h = self.mid2(self.mid_attn(self.mid1(hs[-1], temb)), temb)
        k, u = 0, 0
        for l in reversed(range(len(self.mult))):
            for _ in range(self.nres + 1):
                h = self.up_attn[k](self.up_res[k](torch.cat([h, hs.pop()], 1), temb))
                k += 1
            if l > 0:
                h = self.upsample[u](F.interpolate(h, scale_factor=2.0, mode="nearest"))
                u += 1
        return self.conv_out(F.silu(self.norm_out(h)))


def vp_sigma_alpha(t, bmin=0.1, bmax=20.0):
    B = bmin * t + 0.5 * (bmax - bmin) * t * t
    return torch.exp(-0.5 * B), torch.sqrt(-torch.expm1(-B))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--sample-batch", type=int, default=64)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = UNet()
    params = sum(p.numel() for p in net.parameters())
    opt = torch.optim.Adam(net.parameters(), lr=2e-4)
    x0 = torch.rand(a.batch, 1, 28, 28) * 2 - 1

    def train_step():
        t = torch.rand(a.batch) * (1 - 1e-5) + 1e-5
        eps = torch.randn_like(x0)
        al, si = vp_sigma_alpha(t)
        xt = al[:, None, None, None] * x0 + si[:, None, None, None] * eps
        loss = F.mse_loss(net(xt, t), eps)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()

    xs = torch.randn(a.sample_batch, 1, 28, 28)

    def sample_step():
        with torch.no_grad():
            t, dt = 0.5, 1e-3
            tt = torch.full((a.sample_batch,), t)
            beta = 0.1 + 19.9 * t
            _, si = vp_sigma_alpha(tt)
            score = -net(xs, tt) / si[:, None, None, None]
            return xs + (0.5 * beta * xs + beta * score) * dt + math.sqrt(beta * dt) * torch.randn_like(xs)

    def timeit(f, warm=1):
        for _ in range(warm):
            f()
        ts = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t0)
        ts.sort()
        return 1e3 * ts[len(ts) // 2]

    res = {"torch": torch.__version__, "threads": a.threads, "parameters": params,
           "train_step_ms_batch%d" % a.batch: timeit(train_step),
           "sample_step_ms_batch%d" % a.sample_batch: timeit(sample_step, warm=2)}
    print(json.dumps(res) if a.json else "\n".join("%s: %s" % kv for kv in res.items()))


if __name__ == "__main__":
    main()
