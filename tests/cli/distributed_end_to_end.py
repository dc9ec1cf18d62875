#!/usr/bin/env python3
"""`rbsm train --nproc 2` end to end (docs/distributed.md): a run on 2 workers, Ctrl-C on the launcher
stops both at the same step with a checkpoint, a run resumes across N (2 -> 1 -> 2), and a worker killed
with SIGKILL makes the launcher and rank 0 stop with one-line errors while the checkpoint stays loadable.

usage: distributed_end_to_end.py RBSM WORKDIR
"""
import json, os, re, shutil, signal, subprocess, sys, time

rbsm, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
TINY = ["--data", "mnist", "--channels", "8", "--mults", "1,2", "--res-blocks", "1", "--attention", "0",
        "--batch", "8", "--warmup", "0"]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(args, timeout=300):
    p = subprocess.run([rbsm] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def rank_of(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
    return int(env[b"RANK"])


def wait_for_checkpoint(path, proc, limit=120):
    t0 = time.time()
    while not os.path.exists(path):
        if proc.poll() is not None or time.time() - t0 > limit:
            return False
        time.sleep(0.1)
    return True


# 1. Two workers, 6 steps: one JSON object on stdout (rank 0's), workers recorded in config.json.
a = os.path.join(work, "a")
rc, out, err = run(["train", "--out", a, "--steps", "6", "--nproc", "2", "--threads", "2", "--json"] + TINY)
check(rc == 0, f"train --nproc 2 exits 0 (rc {rc}: {err.strip()[-300:]})")
if rc == 0:
    j = json.loads(out)
    check(j["step"] == 6 and j["distributed"]["workers"] == 2, "JSON: 6 steps on 2 workers")
    check(j["distributed"]["all_reduce_seconds"] > 0, "JSON: all-reduce time measured")
    cfg = json.load(open(os.path.join(a, "config.json")))
    check(cfg["workers"] == 2 and cfg["threads"] == 1, "config.json: 2 workers of 1 thread")
    # 2. Resume across N: the 2-worker checkpoint continues on one process, then on 2 again.
    rc, out, err = run(["train", "--resume", a, "--steps", "9", "--json"] + TINY[:2])
    check(rc == 0 and json.loads(out)["start_step"] == 6, f"resume on N = 1 from step 6 ({err.strip()[-200:]})")
    rc, out, err = run(["train", "--resume", a, "--steps", "12", "--nproc", "2", "--json"] + TINY[:2])
    check(rc == 0 and json.loads(out)["start_step"] == 9 and json.loads(out)["step"] == 12,
          f"resume on N = 2 from step 9 ({err.strip()[-200:]})")

# 2b. fit on 2 workers (a vector model: no likelihood evaluation afterwards) resumes on one.
f = os.path.join(work, "f")
FIT = ["fit", "--data", "synthetic:300", "--dist", "vmf:kappa=8", "--parametrisation", "vector", "--width", "16",
       "--depth", "1", "--batch", "32", "--eval-every", "10", "--json"]
rc, out, err = run(FIT + ["--out", f, "--steps", "20", "--nproc", "2", "--threads", "2"])
check(rc == 0 and json.loads(out)["steps"] == 20 and json.loads(out)["distributed"]["workers"] == 2,
      f"fit --nproc 2: 20 steps on 2 workers ({err.strip()[-300:]})")
rc, out, err = run(FIT + ["--resume", f, "--steps", "30"])
check(rc == 0 and json.loads(out)["steps"] == 30, f"fit resumes on N = 1 ({err.strip()[-300:]})")

# 3. Ctrl-C (SIGINT to the launcher): both workers stop after the same step, rank 0 checkpoints, and the
#    launcher ends like one process does (status 130, "interrupted"); the checkpoint resumes on 2 workers.
b = os.path.join(work, "b")
p = subprocess.Popen([rbsm, "train", "--out", b, "--steps", "100000", "--checkpoint-every", "3", "--nproc", "2",
                      "--threads", "2", "--json"] + TINY, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
if wait_for_checkpoint(os.path.join(b, "checkpoint.pt"), p):
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    lines = [l for l in err.splitlines() if l.startswith("rbsm: ")]
    check(p.returncode == 130 and out.strip() == "", f"Ctrl-C: launcher exits 130, nothing on stdout (rc {p.returncode})")
    check(not any("error" in l for l in lines), f"Ctrl-C: no error lines ({lines})")
    m = re.search(r"interrupted at step (\d+)", open(os.path.join(b, "log.txt")).read())
    check(m is not None, "Ctrl-C: log.txt says where it stopped")
    if m:
        step = int(m.group(1))
        rc, out2, err2 = run(["train", "--resume", b, "--steps", str(step + 2), "--nproc", "2", "--json"] + TINY[:2])
        check(rc == 0 and json.loads(out2)["start_step"] == step, f"Ctrl-C checkpoint (step {step}) resumes on 2 workers")
else:
    p.kill()
    check(False, "Ctrl-C run wrote a checkpoint")

# 4. SIGKILL of worker 1: rank 0 and the launcher stop with one-line errors; the checkpoint loads.
c = os.path.join(work, "c")
p = subprocess.Popen([rbsm, "train", "--out", c, "--steps", "100000", "--checkpoint-every", "3", "--nproc", "2",
                      "--threads", "2", "--timeout", "30"] + TINY, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     text=True)
if wait_for_checkpoint(os.path.join(c, "checkpoint.pt"), p):
    kids = children(p.pid)
    victim = [k for k in kids if rank_of(k) == 1]
    check(len(kids) == 2 and len(victim) == 1, f"launcher has 2 workers ({kids})")
    t0 = time.time()
    os.kill(victim[0], signal.SIGKILL)
    out, err = p.communicate(timeout=120)
    elapsed = time.time() - t0
    lines = [l for l in err.splitlines() if l.startswith("rbsm: error:")]
    check(p.returncode != 0, f"launcher exits non-zero (rc {p.returncode})")
    check(elapsed < 20, f"everything stopped {elapsed:.1f} s after the kill (timeout 30 s)")
    check(any("--nproc 2: worker 1 of 2 was killed by signal 9" in l for l in lines), f"launcher names the dead worker: {lines}")
    check(any("all-reduce failed on rank 0 of 2" in l and "is kept" in l for l in lines), f"rank 0 says what happened: {lines}")
    check(out.strip() == "", "nothing on stdout")
    rc, out, err = run(["sample", "--checkpoint", c, "--out", os.path.join(work, "c_samples"), "--n", "2", "--steps", "2",
                        "--json"])
    check(rc == 0, f"the kept checkpoint samples ({err.strip()[-200:]})")
else:
    p.kill()
    check(False, "kill run wrote a checkpoint")

shutil.rmtree(work, ignore_errors=True)
sys.exit(1 if failures else 0)
