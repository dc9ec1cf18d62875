#!/usr/bin/env python3
"""Fault injection against the rbsm binary (docs/reliability.md, issue 16). Usage: faults.py RBSM WORKDIR

  - stdout on a full device (/dev/full): error exit with one line on stderr, not a silent exit 0;
  - a closed stdout pipe: error exit, no crash by SIGPIPE;
  - a --out that cannot be created (read-only location): one line naming the folder, nothing left;
  - a command that fails after its run folder was opened: the folder is removed again;
  - two commands writing the same --out at once: the second refuses, naming the first one's pid;
    the first one killed by SIGKILL leaves a stale lock that the next run takes over;
  - stale NAME.tmp.PID files of a killed writer are removed when the folder is reopened;
  - with LibTorch: SIGKILL at random moments of `rbsm fit` (checkpoint writes included), then
    --resume: every resume starts from a complete checkpoint and the run finishes.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

rbsm, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    if not ok:
        failures.append(name)


def one_line_error(p, substring):
    lines = [l for l in p.stderr.strip().splitlines() if l.strip()]
    return p.returncode not in (0,) and p.returncode < 128 and len(lines) == 1 and substring in lines[0]


SCORE = [rbsm, "score", "--manifold", "sphere:2", "--dist", "vmf:kappa=2", "--point", "1,0,0", "--json"]
help_text = subprocess.run([rbsm, "--help"], capture_output=True, text=True).stdout
have_torch = " fit " in help_text or "\n  fit" in help_text

# ------------------------------------------------------------------ stdout to a full device
with open("/dev/full", "w") as full:
    p = subprocess.run(SCORE, stdout=full, stderr=subprocess.PIPE, text=True)
check("dev_full_json", one_line_error(p, "cannot write the result to stdout: No space left on device"),
      f"rc={p.returncode} stderr={p.stderr!r}")
with open("/dev/full", "w") as full:
    p = subprocess.run(SCORE[:-1], stdout=full, stderr=subprocess.PIPE, text=True)
check("dev_full_human", one_line_error(p, "cannot write the result to stdout"), f"rc={p.returncode} stderr={p.stderr!r}")

# ------------------------------------------------------------------ stdout pipe closed by the reader
r, w = os.pipe()
os.close(r)
p = subprocess.run(SCORE, stdout=w, stderr=subprocess.PIPE, text=True)
os.close(w)
check("closed_pipe", one_line_error(p, "cannot write the result to stdout"), f"rc={p.returncode} stderr={p.stderr!r}")

# ------------------------------------------------------------------ an --out that cannot be created
EQ_OPTS = {"--manifold": "sphere:2", "--dist": "vmf:kappa=2", "--drift": "true", "--chains": "8", "--steps": "40"}


def eq(**changes):
    """rbsm equilibrium with EQ_OPTS, options changed by keyword (drift="rb" -> --drift rb), and --json."""
    opts = dict(EQ_OPTS)
    for k, v in changes.items():
        opts["--" + k.replace("_", "-")] = v
    return [rbsm, "equilibrium"] + [x for kv in opts.items() for x in kv] + ["--json"]


EQ = eq()
ro = "/sys/rbsm-reliability-test/run"  # sysfs refuses mkdir even to root
p = subprocess.run(EQ + ["--out", ro], capture_output=True, text=True)
check("read_only_out", one_line_error(p, ro) and p.stdout == "" and not os.path.exists(ro),
      f"rc={p.returncode} stderr={p.stderr!r}")
if os.geteuid() != 0:
    d = os.path.join(work, "ro_parent")
    os.makedirs(d)
    os.chmod(d, 0o555)
    p = subprocess.run(EQ + ["--out", os.path.join(d, "run")], capture_output=True, text=True)
    check("read_only_parent", one_line_error(p, os.path.join(d, "run")), f"rc={p.returncode} stderr={p.stderr!r}")
    os.chmod(d, 0o755)

# ------------------------------------------------------------------ failure after the run folder was opened
bad_drift = os.path.join(work, "no-such-model")
out = os.path.join(work, "partial")
p = subprocess.run(eq(drift="true,model:" + bad_drift, out=out), capture_output=True, text=True)
check("failure_leaves_nothing", p.returncode == 1 and p.stdout == "" and not os.path.exists(out),
      f"rc={p.returncode} exists={os.path.exists(out)} stderr={p.stderr!r}")
# ... and a pre-existing empty folder stays empty
os.makedirs(out)
p = subprocess.run(eq(drift="true,model:" + bad_drift, out=out), capture_output=True, text=True)
check("failure_empty_folder_stays_empty", p.returncode == 1 and os.listdir(out) == [],
      f"rc={p.returncode} left={os.listdir(out)}")

# ------------------------------------------------------------------ two writers on one --out
out = os.path.join(work, "shared")
long_run = eq(chains="4", steps="400000000", record_every="100000", drift="rb-full", threads="1", out=out)
first = subprocess.Popen(long_run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
lock = os.path.join(out, ".rbsm.lock")
for _ in range(600):
    if os.path.exists(lock) or first.poll() is not None:
        break
    time.sleep(0.05)
p = subprocess.run(EQ + ["--out", out], capture_output=True, text=True)
check("second_writer_refused", one_line_error(p, f"is in use by another rbsm process (pid {first.pid}"),
      f"rc={p.returncode} first_running={first.poll() is None} stderr={p.stderr!r}")
first.send_signal(signal.SIGKILL)
first.wait()
# the killed writer left its lock and perhaps a temporary: both are cleared by the next writer
dead_tmp = os.path.join(out, f"checkpoint.pt.tmp.{first.pid}")
open(dead_tmp, "w").write("torn")
p = subprocess.run(EQ + ["--out", out], capture_output=True, text=True)
check("stale_lock_taken_over", p.returncode == 0 and json.loads(p.stdout).get("out") == out,
      f"rc={p.returncode} stderr={p.stderr!r}")
check("stale_temporary_removed", not os.path.exists(dead_tmp))
check("lock_released", not os.path.exists(lock))

# ------------------------------------------------------------------ SIGKILL during training and checkpoints
if have_torch and os.environ.get("RBSM_FAULTS_SKIP_TORCH") != "1":
    run = os.path.join(work, "fit")
    args = ["--steps", "400", "--batch", "64", "--width", "16", "--depth", "1", "--eval-every", "5",
            "--levels", "4", "--no-kde", "--threads", "1", "--seed", "3", "--json"]
    rng = random.Random(16)
    kills = resumes = 0
    started = False
    for attempt in range(6):
        cmd = [rbsm, "fit", "--data", "earth:volcano"] + (["--resume", run] if started else ["--out", run]) + args
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if not started:  # let the first run reach its first checkpoint, so that the kills hit resumes
            ckpt = os.path.join(run, "checkpoint.pt")
            for _ in range(1200):
                if os.path.exists(ckpt) or proc.poll() is not None:
                    break
                time.sleep(0.05)
        time.sleep(rng.uniform(0.05, 1.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        o, e = proc.communicate()
        if proc.returncode == 0:
            break
        if proc.returncode != -signal.SIGKILL:
            check(f"fit_attempt_{attempt}", False, f"rc={proc.returncode} stderr={e[-400:]!r}")
            break
        resumes += started
        started = os.path.exists(os.path.join(run, "checkpoint.pt"))
        if not started:
            shutil.rmtree(run, ignore_errors=True)  # killed before its first checkpoint: start afresh
    cmd = [rbsm, "fit", "--data", "earth:volcano"] + (["--resume", run] if started else ["--out", run]) + args
    p = subprocess.run(cmd, capture_output=True, text=True)
    print(f"fit: {kills} kills, {resumes} of them during resumed runs")
    check(f"fit_resumes_after_{kills}_kills", p.returncode == 0 and "nll" in json.loads(p.stdout or "{}") and resumes > 0,
          f"rc={p.returncode} resumes={resumes} stderr={p.stderr[-400:]!r}")
    left = [f for f in os.listdir(run) if ".tmp." in f or f == ".rbsm.lock"] if os.path.isdir(run) else []
    check("fit_no_stale_files", left == [], str(left))

sys.exit(1 if failures else 0)
