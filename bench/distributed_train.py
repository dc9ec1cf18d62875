#!/usr/bin/env python3
"""Data-parallel training cost (docs/distributed.md): steps/s of `rbsm train` (U-Net on MNIST) and
`rbsm fit` (RB targets on S^2) for N = 1 and N = 2 workers at equal total threads, and the all-reduce
time per step. With RBSM_DIST_PROFILE=1 each all-reduce is preceded by a timed barrier, so
`all-reduce` is the transfer itself and `wait` the time the faster rank waits for the slower one.

usage: /usr/bin/python3 bench/distributed_train.py build/rbsm [--threads 2] [--steps 30]
Prints one table; the machine's load average before and after (other work on the machine skews it).
"""
import argparse, json, os, shutil, subprocess, tempfile

ap = argparse.ArgumentParser()
ap.add_argument("rbsm")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--steps", type=int, default=30)
args = ap.parse_args()

UNET = ["train", "--data", "mnist", "--channels", "16", "--mults", "1,2,2", "--res-blocks", "1", "--attention", "0",
        "--batch", "64", "--warmup", "0", "--checkpoint-every", "100000"]
FIT = ["fit", "--data", "synthetic:4000", "--dist", "vmf:kappa=8", "--target", "rb", "--parametrisation", "energy",
       "--batch", "256", "--eval-every", "100000", "--checkpoint-every", "100000",
       "--patience", "0", "--no-kde", "--sigma-eval", "0.1", "--normaliser-tol", "1e-2"]


def run(cmd, n, threads, out):
    env = dict(os.environ, RBSM_DIST_PROFILE="1")
    p = subprocess.run([args.rbsm] + cmd + ["--out", out, "--steps", str(args.steps), "--nproc", str(n),
                                            "--threads", str(threads), "--json"],
                       capture_output=True, text=True, env=env, timeout=3600)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:1])} --nproc {n} failed: {p.stderr.strip()[-500:]}")
    return json.loads(p.stdout)


load0 = os.getloadavg()
rows = []
tmp = tempfile.mkdtemp(prefix="rbsm_dist_bench_")
try:
    for name, cmd in (("train (U-Net C=16, batch 64)", UNET), ("fit (RB, energy, batch 256)", FIT)):
        base = None
        # N = 1 and N = 2 at equal total threads, and N = 1 at the threads of one worker (a control: under
        # load, a process whose threads wait for each other at every parallel region suffers most).
        for n, threads in ((1, args.threads), (2, args.threads), (1, max(1, args.threads // 2))):
            out = os.path.join(tmp, f"{cmd[0]}_{n}_{threads}")
            j = run(cmd, n, threads, out)
            steps = j.get("step", j.get("steps"))
            seconds = j.get("seconds", j.get("train_seconds"))
            rate = steps / seconds
            d = j["distributed"]
            base = base or rate
            rows.append((name, n, threads // n, rate, rate / base, 1e3 * d["all_reduce_seconds_per_step"],
                         1e3 * d["wait_seconds_per_step"], 1e3 / rate))
            print("measured:", rows[-1], flush=True)
            shutil.rmtree(out, ignore_errors=True)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
load1 = os.getloadavg()

print(f"{'run':30s} {'N':>2s} {'thr/worker':>10s} {'steps/s':>8s} {'vs N=1':>7s} {'step ms':>8s} "
      f"{'all-reduce ms':>13s} {'wait ms':>8s}")
for name, n, t, rate, ratio, ar, wait, step_ms in rows:
    print(f"{name:30s} {n:2d} {t:10d} {rate:8.2f} {ratio:7.2f} {step_ms:8.1f} {ar:13.2f} {wait:8.2f}")
print(f"load average before {load0[0]:.2f} / after {load1[0]:.2f} on {os.cpu_count()} cores "
      f"({args.steps} steps per run, {args.threads} threads in total)")
