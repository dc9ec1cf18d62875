"""rbsm.TorchScriptModel (LibTorch builds; docs/python.md §7): a torch.jit.ScriptModule from Python in the anatomy
and LID pipeline. A scripted Gaussian-subspace score (closed-form Jacobian for every parametrisation and schedule),
a traced MLP against torch.autograd's Jacobian, the same numbers as `rbsm lid-bench --torchscript`, bad input."""
import math
import os
import subprocess
import sys
import json

import numpy as np
import pytest

import rbsm
from conftest import cli_path, csv

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not hasattr(rbsm, "TorchScriptModel"), reason="rbsm was built without LibTorch")

D, K = 16, 3


# The scripted Gaussian-subspace model of the CLI tests (one definition: tests/cli/torchscript_models.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from torchscript_models import Gauss  # noqa: E402


def alpha_sigma(schedule, t):
    if schedule == "vp":
        B = 0.1 * t + 0.5 * 19.9 * t * t
        return math.exp(-0.5 * B), math.sqrt(-math.expm1(-B))
    return 1.0, 0.01 * (50.0 / 0.01) ** t


@pytest.fixture(scope="module")
def subspace():
    Q, _ = np.linalg.qr(np.random.default_rng(5).standard_normal((D, K)))
    return Q


def gauss(Q, schedule, param):
    return torch.jit.script(Gauss(torch.from_numpy(Q @ Q.T), schedule == "vp", param))


@pytest.mark.parametrize("schedule", ["vp", "ve"])
@pytest.mark.parametrize("param", ["score", "eps", "x0"])
def test_gaussian_subspace_exact_anatomy(subspace, schedule, param, rng):
    Q = subspace
    m = rbsm.TorchScriptModel(gauss(Q, schedule, param), (1, 4, 4), parametrisation=param, schedule=schedule)
    assert m.D == D and m.dtype == "Double"
    X = rng.standard_normal((3, D))
    (res,) = m.anatomy(points=X, sigma=0.1, progress=False)
    t = m.time_of_sigma(0.1)
    a, s = alpha_sigma(schedule, t)
    assert abs(s - 0.1) < 1e-12 and abs(res["sigma"] - 0.1) < 1e-12 and res["t"] == pytest.approx(t, abs=1e-14)
    c = a * a + s * s
    want = np.r_[np.full(K, 1 / c), np.full(D - K, 1 / s**2)]
    assert res["singular_values"].shape == (3, D)
    np.testing.assert_allclose(res["singular_values"], np.tile(want, (3, 1)), rtol=1e-9)
    np.testing.assert_allclose(res["eigenvalues"], -np.tile(want, (3, 1)), rtol=1e-9)
    np.testing.assert_allclose(res["cos_uv"], -1.0, atol=1e-8)
    assert res["local_dim"].tolist() == [K] * 3
    np.testing.assert_array_equal(res["points"], X)
    # the score and the Jacobian themselves: -C^{-1} x, C = alpha^2 P + sigma^2 I
    P = Q @ Q.T
    J = -(P / c + (np.eye(D) - P) / s**2)
    np.testing.assert_allclose(m.score(X, t), X @ J.T, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(m.jacobian(X[0], t), J, rtol=1e-10, atol=1e-8)


def test_traced_mlp_matches_torch_autograd(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 32), torch.nn.Tanh(), torch.nn.Linear(32, 5)).double()

    class Score(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x, t):
            return self.net(torch.cat([x, t[:, None]], 1))

    mod = Score()
    traced = torch.jit.trace(mod, (torch.zeros(2, 5, dtype=torch.float64), torch.full((2,), 0.5, dtype=torch.float64)))
    m = rbsm.TorchScriptModel(traced, [5])
    x = np.linspace(-1, 1, 5)
    t = 0.2
    want = torch.autograd.functional.jacobian(
        lambda v: mod(v[None], torch.tensor([t], dtype=torch.float64))[0], torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(m.jacobian(x, t, chunk=2), want, rtol=1e-12, atol=1e-14)
    # a path gives the same model
    path = tmp_path / "mlp.pt"
    traced.save(str(path))
    np.testing.assert_array_equal(rbsm.TorchScriptModel(str(path), [5]).jacobian(x, t), m.jacobian(x, t))
    np.testing.assert_array_equal(rbsm.TorchScriptModel(path, [5]).score(x, t), m.score(x, t))
    # float32 and non-contiguous points are converted
    X = np.asfortranarray(np.random.default_rng(0).standard_normal((4, 5)))
    np.testing.assert_allclose(m.score(X.astype(np.float32), t), m.score(X.astype(np.float32).astype(np.float64), t))
    assert m.score(X[:, ::1], t).shape == (4, 5)


def test_lid_and_sampling_match_the_cli(subspace, tmp_path):
    Q = subspace
    scripted = gauss(Q, "ve", "x0")
    model_path = tmp_path / "gauss.pt"
    scripted.save(str(model_path))
    m = rbsm.TorchScriptModel(scripted, (16,), parametrisation="x0", schedule="ve")
    X0 = np.random.default_rng(2).standard_normal((3, K)) @ Q.T
    r = m.lid(points=X0, t=0.01, seed=3, progress=False)
    assert r["singular-value"].tolist() == [K] * 3 and r["normal-bundle"].tolist() == [K] * 3
    a, s = alpha_sigma("ve", 0.01)
    c = a * a + s * s
    flipd = K - K * s * s / c + s * s * a * a * (X0**2).sum(1) / c**2
    np.testing.assert_allclose(r["flipd"], flipd, atol=1e-9)
    S = m.sample(5, steps=40, seed=7, progress=False)
    assert S.shape == (5, D)
    path = cli_path()
    if not path:
        pytest.skip("the rbsm CLI is not built (RBSM_CLI)")
    pts = tmp_path / "points.csv"
    pts.write_text("\n".join(csv(row) for row in X0) + "\n")
    out = subprocess.run([path, "lid-bench", "--torchscript", str(model_path), "--input-shape", "16", "--parametrisation",
                          "x0", "--schedule", "ve", "--t", "0.01", "--points", str(pts), "--seed", "3", "--out",
                          str(tmp_path / "lid"), "--json"], capture_output=True, text=True, check=True)
    j = json.loads(out.stdout)
    for mj in j["methods"]:
        np.testing.assert_allclose(r[mj["method"]], mj["estimates"], rtol=1e-12, atol=1e-12)
    # sampled points: the same draws as the CLI's for the same seed
    r2 = m.lid(n=2, steps=30, t=0.05, seed=11, progress=False)
    out = subprocess.run([path, "lid-bench", "--torchscript", str(model_path), "--input-shape", "16", "--parametrisation",
                          "x0", "--schedule", "ve", "--t", "0.05", "--sample-points", "2", "--sample-steps", "30",
                          "--seed", "11", "--out", str(tmp_path / "lid2"), "--json"], capture_output=True, text=True,
                         check=True)
    j = json.loads(out.stdout)
    np.testing.assert_allclose(r2["flipd"], j["methods"][2]["estimates"], rtol=1e-12)


def test_bad_input(subspace, tmp_path):
    Q = subspace
    with pytest.raises(TypeError, match="ScriptModule"):
        rbsm.TorchScriptModel(Gauss(torch.from_numpy(Q @ Q.T), True, "score"), (16,))
    with pytest.raises(OSError, match="no such file"):
        rbsm.TorchScriptModel(str(tmp_path / "none.pt"), (16,))
    junk = tmp_path / "junk.pt"
    junk.write_text("junk")
    with pytest.raises(OSError, match="not a TorchScript archive"):
        rbsm.TorchScriptModel(str(junk), (16,))
    with pytest.raises(ValueError, match="check --input-shape"):
        rbsm.TorchScriptModel(gauss(Q, "vp", "score"), (3, 3))
    with pytest.raises(ValueError, match="parametrisation"):
        rbsm.TorchScriptModel(gauss(Q, "vp", "score"), (16,), parametrisation="v")

    class NaN(torch.nn.Module):
        def forward(self, x, t):
            return x / (x - x)

    with pytest.raises(RuntimeError, match="non-finite"):
        rbsm.TorchScriptModel(torch.jit.script(NaN()), (4,))

    class OneArg(torch.nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(ValueError, match="signature"):
        rbsm.TorchScriptModel(torch.jit.script(OneArg()), (4,))
    m = rbsm.TorchScriptModel(gauss(Q, "vp", "score"), (16,))
    with pytest.raises(ValueError, match=r"\(N, 16\)"):
        m.score(np.zeros((2, 15)), 0.1)
    with pytest.raises(ValueError, match="not both"):
        m.anatomy(points=np.zeros((1, 16)), times=[0.1], sigma=0.1, progress=False)
    with pytest.raises(ValueError, match="outside"):
        m.anatomy(points=np.zeros((1, 16)), sigma=3.0, progress=False)
    with pytest.raises(TypeError):
        m.score(np.zeros((2, 16), dtype=complex), 0.1)
