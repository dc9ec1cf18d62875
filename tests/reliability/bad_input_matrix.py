#!/usr/bin/env python3
"""The bad-input matrix (issue 16, docs/reliability.md). Usage: bad_input_matrix.py RBSM WORKDIR

For every command, a small valid invocation is mutated one option at a time: each of its values is
replaced by bad ones (nan, inf, -1, 0, 1e308, -1e308, text, empty), and the global options get bad
values too (--seed -1, --threads 100000, an unknown option). Every run must keep the contract:
  - exit 0 with exactly one JSON object on stdout whose numbers are all finite (the value was valid), or
  - an exit code != 0 and < 128, 1 to 3 lines on stderr starting with "rbsm: ", nothing on stdout,
    and nothing left in --out (the folder does not exist afterwards);
  - and within TIMEOUT seconds (a hang is a failure).
Commands that need LibTorch are covered when the binary has them (options failing before any training).
Prints one line per violation and a summary; exit 1 if any.
"""
import json
import math
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

rbsm, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
TIMEOUT = float(os.environ.get("RBSM_MATRIX_TIMEOUT", "60"))
here = os.path.dirname(os.path.abspath(__file__))
fit_points = os.path.join(here, "..", "cli", "fit", "points.csv")

BAD_NUMBERS = ["nan", "inf", "-1", "0", "1e308", "-1e308", "abc", ""]
BAD_SPECS = ["", "sphere", "sphere:", "sphere:1e308", "sphere:-1", "torus:1e308,1", "nope:1", "sphere:2,", ":", "vmf:kappa=1e308"]
BAD_POINTS = ["", "1e308,1e308,1e308", "nan,0,0", "1,0", "0,0,0", "a,b,c", "1,,0"]

# command -> (valid base arguments, {option: bad values}); "{out}" is replaced by a fresh folder.
CORE = {
    "geometry": (["--manifold", "sphere:2", "--point", "1,2,3"],
                 {"--manifold": BAD_SPECS, "--point": BAD_POINTS}),
    "score": (["--manifold", "sphere:2", "--dist", "vmf:kappa=2", "--point", "1,0,0"],
              {"--manifold": BAD_SPECS, "--dist": BAD_SPECS + ["@/nonexistent.json", "vmf:kappa=-1", "uniform:1"],
               "--point": BAD_POINTS, "--mean": BAD_POINTS}),
    "target": (["--manifold", "sphere:2", "--dist", "vmf:kappa=2", "--point", "1,0,0", "--sigma", "0.3"],
               {"--sigma": BAD_NUMBERS, "--point": BAD_POINTS, "--dist": BAD_SPECS, "--refs": BAD_NUMBERS,
                "--method": ["", "nope"]}),
    "variance": (["--manifold", "sphere:2", "--dist", "vmf:kappa=2", "--samples", "50", "--sigmas", "2",
                  "--out", "{out}"],
                 {"--samples": BAD_NUMBERS, "--sigmas": BAD_NUMBERS, "--manifold": BAD_SPECS, "--dist": BAD_SPECS,
                  "--out": ["", "/sys/rbsm-matrix/run"]}),
    "expansion": (["--sigmas", "2", "--out", "{out}"], {"--sigmas": BAD_NUMBERS}),
    "equilibrium": (["--manifold", "sphere:2", "--dist", "vmf:kappa=2", "--drift", "true", "--chains", "8",
                     "--steps", "40", "--sigma", "0.3", "--out", "{out}"],
                    {"--sigma": BAD_NUMBERS, "--chains": BAD_NUMBERS, "--steps": BAD_NUMBERS,
                     "--step-size": BAD_NUMBERS, "--burn-in": ["-2", "40", "1e308", "abc"],
                     "--record-every": BAD_NUMBERS, "--bins": BAD_NUMBERS, "--drift": ["", "nope", ",", "model:"],
                     "--manifold": BAD_SPECS, "--dist": BAD_SPECS, "--mean": BAD_POINTS}),
}
# LibTorch commands: invocations that must fail before any training or sampling starts.
TORCH = {
    "train": (["--data", "mnist", "--steps", "2", "--out", "{out}"],
              {"--steps": ["-1", "0", "abc", "1e308"], "--batch": ["-1", "0", "abc", "100000000000"],
               "--lr": ["nan", "-1", "0", "inf"], "--data": ["", "/nonexistent"]}),
    "sample": (["--checkpoint", "/nonexistent/run", "--n", "4", "--out", "{out}"],
               {"--n": ["-1", "0", "abc"], "--steps": ["-1", "0", "abc"]}),
    "fit": (["--data", fit_points, "--format", "latlon", "--steps", "2", "--out", "{out}"],
            {"--steps": ["-1", "0", "abc"], "--batch": ["-1", "0", "abc"], "--width": ["-1", "0", "abc"],
             "--sigma-min": ["nan", "-1", "0"], "--format": ["", "nope"], "--data": ["", "/nonexistent.csv"]}),
    "anatomy": (["--field", "vmf-sphere:d=2,kappa=4", "--out", "{out}"],
                {"--field": ["", "nope", "vmf-sphere:d=2,kappa=1e308", "vmf-sphere:d=1e308,kappa=1"],
                 "--points": ["-1", "0", "abc"]}),
    "evaluate": (["--checkpoint", "/nonexistent/run", "--out", "{out}"], {"--n": ["-1", "0", "abc"]}),
    "density": (["--checkpoint", "/nonexistent/run", "--points", fit_points], {"--format": ["", "nope"]}),
}

help_text = subprocess.run([rbsm, "--help"], capture_output=True, text=True).stdout
commands = dict(CORE)
for name, spec in TORCH.items():
    if any(line.strip().startswith(name + " ") or line.strip() == name for line in help_text.splitlines()):
        commands[name] = spec

cases = []
for name, (base, bad) in commands.items():
    for opt, values in bad.items():
        for v in values:
            args = list(base)
            if opt in args:
                args[args.index(opt) + 1] = v
            else:
                args += [opt, v]
            cases.append((name, args))
    extras = [["--seed", "-1"], ["--seed", "1.5"], ["--threads", "100000"], ["--threads", "-1"], ["--no-such-option", "1"]]
    for extra in (extras if name in CORE else extras[::2]):  # LibTorch commands start slowly: fewer
        cases.append((name, list(base) + extra))


def all_finite(j):
    if isinstance(j, float):
        return math.isfinite(j)
    if isinstance(j, dict):
        return all(all_finite(v) for v in j.values())
    if isinstance(j, list):
        return all(all_finite(v) for v in j)
    return True


def run(i_case):
    i, (name, args) = i_case
    out = os.path.join(work, f"out{i}")
    args = [a.replace("{out}", out) for a in args]
    cmd = [rbsm, name] + args + ["--json"]
    shown = " ".join(repr(a) if (a == "" or " " in a) else a for a in [name] + args)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        shutil.rmtree(out, ignore_errors=True)
        return ("hang", shown, f"no exit within {TIMEOUT:.0f} s")
    problems = []
    if p.returncode == 0:
        try:
            j = json.loads(p.stdout)
            if not isinstance(j, dict):
                problems.append("stdout is not one JSON object")
            elif not all_finite(j):
                problems.append("a non-finite number in the result")
        except json.JSONDecodeError:
            problems.append("stdout is not one JSON object")
        kind = "accepted"
    else:
        # progress bars ("[langevin true] 100% ...") and log lines may precede the error line
        lines = [l for l in p.stderr.strip().splitlines() if l.strip() and not l.lstrip().startswith("[")]
        if not 0 < p.returncode < 128:
            problems.append(f"exit code {p.returncode}")
        if not 1 <= len(lines) <= 3:
            problems.append(f"{len(lines)} lines on stderr")
        elif not lines[-1].startswith("rbsm: "):
            problems.append("last stderr line does not start with 'rbsm: '")
        if "Traceback" in p.stderr or "[json.exception" in p.stderr or "enforce fail" in p.stderr:
            problems.append("a raw library message")
        if p.stdout.strip():
            problems.append("stdout written on failure")
        if os.path.exists(out) and os.listdir(out):
            problems.append("left " + ",".join(sorted(os.listdir(out))[:5]) + " in --out")
        kind = "refused"
    shutil.rmtree(out, ignore_errors=True)
    last = (p.stderr.strip().splitlines() or [""])[-1][:200]
    return ("violation" if problems else kind, shown, "; ".join(problems) + (f" [rc={p.returncode}: {last}]" if problems else ""))


with ThreadPoolExecutor(max_workers=int(os.environ.get("RBSM_MATRIX_JOBS", "2"))) as pool:
    results = list(pool.map(run, enumerate(cases)))
counts = {}
for kind, shown, detail in results:
    counts[kind] = counts.get(kind, 0) + 1
    if kind in ("violation", "hang") or (kind == "accepted" and os.environ.get("RBSM_MATRIX_VERBOSE")):
        print(f"{kind.upper()}: rbsm {shown}: {detail}")
print(f"bad-input matrix: {len(results)} runs over {len(commands)} commands: " +
      ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
sys.exit(1 if counts.get("violation") or counts.get("hang") else 0)
