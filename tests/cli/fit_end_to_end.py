"""End-to-end check of `rbsm fit`, `rbsm density` and `rbsm sample` on a manifold run (tests/cli/fit.cmake)."""
import csv
import json
import math
import os
import shutil
import subprocess
import sys

rbsm, out = sys.argv[1], sys.argv[2]
shutil.rmtree(out, ignore_errors=True)


def run(*args):
    p = subprocess.run([rbsm, *args, "--json", "--threads", "2"], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{args[0]} failed ({p.returncode}): {p.stderr.strip()[-500:]}")
    return json.loads(p.stdout)


fit = run("fit", "--data", "earth:volcano", "--out", out, "--steps", "150", "--batch", "128", "--width", "32",
          "--depth", "2", "--eval-every", "50", "--levels", "8", "--sigma-min", "0.05", "--seed", "1")
for key in ("nll", "sigma_eval", "log_normaliser", "log_normaliser_error", "n", "test_duplicates_in_train"):
    assert key in fit, f"fit --json lacks {key}"
# 827 rows cut at the rounded cumulative fractions (data::make_split): round(0.8 n) = 662, round(0.9 n) = 744
assert fit["n"] == {"train": 662, "val": 82, "test": 83}, fit["n"]
assert 0 < fit["test_duplicates_in_train"] <= 83
for split in ("train", "val", "test"):
    assert math.isfinite(fit["nll"][split])
assert fit["nll"]["train"] < math.log(4 * math.pi), fit["nll"]
assert fit["log_normaliser_error"] <= 1e-4, fit["log_normaliser_error"]
assert "kde" in fit and fit["kde"]["nll"]["test"] < math.log(4 * math.pi)
for f in ("config.json", "metrics.csv", "checkpoint.pt", "density.json", "density_map.png", "log.txt"):
    assert os.path.exists(os.path.join(out, f)), f"run folder lacks {f}"

pts = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fit", "points.csv")
d = run("density", "--checkpoint", out, "--points", pts, "--format", "latlon")
assert len(d["log_density"]) == 4
assert abs(d["log_normaliser"] - fit["log_normaliser"]) < 2e-4, (d["log_normaliser"], fit["log_normaliser"])

s = run("sample", "--checkpoint", out, "--n", "50", "--out", out + "_samples", "--steps-per-level", "5",
        "--mala-steps", "20")
with open(s["samples"]) as f:
    rows = list(csv.reader(f))
assert rows[0] == ["lat", "lon"] and len(rows) == 51, rows[:2]
assert all(-90 <= float(r[0]) <= 90 and -180 <= float(r[1]) <= 180 for r in rows[1:])
assert 0 < s["acceptance_rate"] <= 1
shutil.rmtree(out, ignore_errors=True)
shutil.rmtree(out + "_samples", ignore_errors=True)
print("ok")
