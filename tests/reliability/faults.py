#!/usr/bin/env python3
"""Fault injection against the rbsm binary (docs/reliability.md, issue 16). Usage: faults.py RBSM WORKDIR

  - stdout on a full device (/dev/full): error exit with one line on stderr, not a silent exit 0;
  - a closed stdout pipe: error exit, no crash by SIGPIPE;
  - a --out that cannot be created (read-only location): one line naming the folder, nothing left;
  - a command that fails after its run folder was opened: the folder is removed again;
  - two commands writing the same --out at once: the second refuses, naming the first one's pid;
    the first one killed by SIGKILL leaves no --out (only its staging folder and a stale lock, which the
    next run removes and takes over), and the next run puts a complete --out in place;
  - stale NAME.tmp.PID files of a killed writer are removed when the folder is reopened;
  - with LibTorch: SIGINT sent to the process group of `rbsm train` / `rbsm fit` (as a terminal or
    `timeout -s INT` does, the latter signalling rbsm and then its group) at several moments: exit 130,
    one `rbsm: interrupted:` line, and either no run folder (stopped before it was written) or a complete
    checkpoint from which --resume finishes;
  - with LibTorch: a checkpoint with one flipped byte inside a tensor: `rbsm sample` refuses it (checksum
    mismatch), writes nothing;
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

# ------------------------------------------------------------------ two writers on one --out; SIGKILL of a staged command
# A short command writes a new --out in the staging folder .NAME.staging.PID beside it (lock .NAME.rbsm.lock)
# and renames it into place at the end: a SIGKILL leaves no --out at all.
out = os.path.join(work, "shared")
sibling_lock = os.path.join(work, ".shared.rbsm.lock")
long_run = eq(chains="4", steps="400000000", record_every="100000", drift="rb-full", threads="1", out=out)
first = subprocess.Popen(long_run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
staging = os.path.join(work, f".shared.staging.{first.pid}")
for _ in range(600):
    if os.path.exists(os.path.join(staging, "config.json")) or first.poll() is not None:
        break
    time.sleep(0.05)
p = subprocess.run(EQ + ["--out", out], capture_output=True, text=True)
check("second_writer_refused", one_line_error(p, f"is in use by another rbsm process (pid {first.pid}"),
      f"rc={p.returncode} first_running={first.poll() is None} stderr={p.stderr!r}")
check("staged_while_running", not os.path.exists(out) and os.path.isdir(staging) and os.path.exists(sibling_lock),
      f"out exists={os.path.exists(out)} work={sorted(os.listdir(work))}")
first.send_signal(signal.SIGKILL)
first.wait()
check("sigkill_leaves_no_out", not os.path.exists(out) and os.path.isdir(staging), f"work={sorted(os.listdir(work))}")
# the killed writer left its lock and its staging folder: the next writer takes the lock over, removes the
# staging folder and puts a complete --out in place
t0 = time.time()
p = subprocess.run(EQ + ["--out", out], capture_output=True, text=True)
check("stale_lock_taken_over", p.returncode == 0 and json.loads(p.stdout).get("out") == out,
      f"rc={p.returncode} stderr={p.stderr!r}")
files = sorted(os.listdir(out)) if os.path.isdir(out) else []
check("staged_result_complete", {"config.json", "log.txt", "metrics.csv", "summary.json"} <= set(files)
      and not [f for f in files if ".tmp." in f or f.startswith(".")], str(files))
left = [f for f in os.listdir(work) if f.startswith(".shared.")]
check("staging_and_lock_removed", left == [], str(left))
print(f"staged run after a SIGKILL: {time.time() - t0:.1f} s")

# ------------------------------------------------------------------ stale temporaries in an existing run folder
# (a folder that already holds files is written in place)
inplace = os.path.join(work, "inplace")
os.makedirs(inplace)
open(os.path.join(inplace, "notes.txt"), "w").write("the user's")
dead_tmp = os.path.join(inplace, f"checkpoint.pt.tmp.{first.pid}")
open(dead_tmp, "w").write("torn")
p = subprocess.run(EQ + ["--out", inplace], capture_output=True, text=True)
check("in_place_run", p.returncode == 0 and os.path.exists(os.path.join(inplace, "summary.json"))
      and os.path.exists(os.path.join(inplace, "notes.txt")), f"rc={p.returncode} stderr={p.stderr!r}")
check("stale_temporary_removed", not os.path.exists(dead_tmp))
check("lock_released", not os.path.exists(os.path.join(inplace, ".rbsm.lock"))
      and not os.path.exists(os.path.join(work, ".inplace.rbsm.lock")))

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

# ------------------------------------------------------------------ SIGINT to the process group of long runs
def rbsm_lines(err):
    return [l for l in err.splitlines() if l.startswith("rbsm:")]


def handles_sigint(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            caught = next(l for l in f if l.startswith("SigCgt:")).split()[1]
        return int(caught, 16) & (1 << (signal.SIGINT - 1)) != 0
    except (OSError, StopIteration):
        return False


def interrupt(cmd, run, moment, double):
    """Starts cmd in its own process group; at `moment` ("start": as soon as rbsm catches SIGINT, "checkpoint": as soon
    as this process wrote run/checkpoint.pt) sends SIGINT to the group (double: to rbsm first, then to the group, as
    `timeout -s INT` does). Returns (returncode, stdout, stderr, seconds from the signal to the exit)."""
    ckpt = os.path.join(run, "checkpoint.pt")
    before = os.stat(ckpt).st_mtime_ns if os.path.exists(ckpt) else None
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    if moment == "checkpoint":  # a new checkpoint was written by this process: it is training
        for _ in range(2400):
            if (os.path.exists(ckpt) and os.stat(ckpt).st_mtime_ns != before) or proc.poll() is not None:
                break
            time.sleep(0.025)
    else:  # as soon as rbsm handles SIGINT (before that, while the dynamic loader maps LibTorch, it dies by it)
        for _ in range(2400):
            if handles_sigint(proc.pid) or proc.poll() is not None:
                break
            time.sleep(0.005)
    t0 = time.time()
    if proc.poll() is None:
        if double:
            os.kill(proc.pid, signal.SIGINT)
        os.killpg(proc.pid, signal.SIGINT)
    o, e = proc.communicate(timeout=300)
    return proc.returncode, o, e, time.time() - t0


def interrupt_and_resume(name, start_cmd, resume_cmd, run):
    for moment, double in (("start", False), ("checkpoint", True), ("checkpoint", False)):
        had = os.path.exists(os.path.join(run, "checkpoint.pt"))
        rc, o, e, secs = interrupt(resume_cmd if had else start_cmd, run, moment, double)
        tag = f"{name}_sigint_{moment}{'_double' if double else ''}"
        lines = rbsm_lines(e)
        has_ckpt = os.path.exists(os.path.join(run, "checkpoint.pt"))
        check(tag + "_exit_130", rc == 130 and o == "" and len(lines) == 1 and lines[0].startswith("rbsm: interrupted: "),
              f"rc={rc} stdout={o[:200]!r} stderr={e[-600:]!r}")
        # the previous state (no folder for a run stopped before its first checkpoint) or a complete checkpoint
        ok_state = has_ckpt or not os.path.exists(run)
        check(tag + "_state", ok_state, f"run={sorted(os.listdir(run)) if os.path.isdir(run) else None}")
        if has_ckpt and moment == "checkpoint":
            with open(os.path.join(run, "status.json")) as f:
                check(tag + "_status", json.load(f).get("state") == "interrupted")
        print(f"{tag}: rc {rc} {secs:.1f} s after the signal, checkpoint {'kept' if has_ckpt else 'none, no folder'}")
    p = subprocess.run(resume_cmd if os.path.exists(os.path.join(run, "checkpoint.pt")) else start_cmd,
                       capture_output=True, text=True)
    check(f"{name}_sigint_then_resume_finishes", p.returncode == 0 and json.loads(p.stdout or "{}").get("stopped") in (False, None),
          f"rc={p.returncode} stderr={p.stderr[-400:]!r}")
    left = [f for f in os.listdir(run) if ".tmp." in f or f in (".rbsm.lock", "status.json")] if os.path.isdir(run) else []
    left += [f for f in os.listdir(os.path.dirname(run)) if f.startswith("." + os.path.basename(run) + ".")]
    check(f"{name}_sigint_nothing_stale", left == [], str(left))


if have_torch and os.environ.get("RBSM_FAULTS_SKIP_TORCH") != "1":
    t_start = time.time()
    run = os.path.join(work, "train_int")
    tiny = ["--data", "mnist", "--channels", "8", "--mults", "1,2", "--res-blocks", "1", "--attention", "0",
            "--batch", "8", "--checkpoint-every", "3", "--threads", "1", "--json"]
    interrupt_and_resume("train", [rbsm, "train", "--out", run, "--steps", "60"] + tiny,
                         [rbsm, "train", "--resume", run, "--steps", "60", "--checkpoint-every", "3", "--threads", "1", "--json"], run)
    print(f"train SIGINT cases: {time.time() - t_start:.1f} s")

    t_start = time.time()
    frun = os.path.join(work, "fit_int")
    fargs = ["--steps", "150", "--batch", "64", "--width", "16", "--depth", "1", "--eval-every", "5",
             "--levels", "4", "--no-kde", "--threads", "1", "--seed", "3", "--json"]
    interrupt_and_resume("fit", [rbsm, "fit", "--data", "earth:volcano", "--out", frun] + fargs,
                         [rbsm, "fit", "--data", "earth:volcano", "--resume", frun] + fargs, frun)
    print(f"fit SIGINT cases: {time.time() - t_start:.1f} s")

    # ---------------------------------------------------------------- a checkpoint with a flipped tensor byte
    import zipfile
    bad = os.path.join(work, "flipped_run")
    os.makedirs(bad)
    shutil.copy(os.path.join(run, "checkpoint.pt"), os.path.join(bad, "checkpoint.pt"))
    with zipfile.ZipFile(os.path.join(bad, "checkpoint.pt")) as z:
        tensor = max((i for i in z.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    with open(os.path.join(bad, "checkpoint.pt"), "r+b") as f:
        f.seek(tensor.header_offset + 26)
        name_len, extra_len = int.from_bytes(f.read(2), "little"), int.from_bytes(f.read(2), "little")
        at = tensor.header_offset + 30 + name_len + extra_len + tensor.file_size // 2
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0x04]))
    with zipfile.ZipFile(os.path.join(bad, "checkpoint.pt")) as z:  # Python's own zip reader agrees
        check("flipped_byte_breaks_the_zip_crc", z.testzip() == tensor.filename)
    never = os.path.join(work, "never_sampled")
    p = subprocess.run([rbsm, "sample", "--checkpoint", bad, "--out", never, "--n", "4", "--steps", "2", "--json"],
                       capture_output=True, text=True)
    check("sample_refuses_flipped_checkpoint",
          one_line_error(p, "checkpoint " + os.path.join(bad, "checkpoint.pt") + " is corrupted (checksum mismatch)")
          and p.stdout == "" and not os.path.exists(never)
          and not [f for f in os.listdir(work) if f.startswith(".never_sampled")],
          f"rc={p.returncode} stderr={p.stderr!r}")
    p = subprocess.run([rbsm, "sample", "--checkpoint", run, "--out", never, "--n", "4", "--steps", "2", "--json"],
                       capture_output=True, text=True)
    check("sample_from_the_intact_checkpoint", p.returncode == 0 and os.path.exists(os.path.join(never, "samples.png"))
          and json.loads(p.stdout).get("out") == never, f"rc={p.returncode} stderr={p.stderr[-400:]!r}")

sys.exit(1 if failures else 0)
