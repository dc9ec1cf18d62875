"""rbsm.density: closed forms (vMF normaliser, score, Laplacian and b_q on S^2; uniform densities), exact
sampling statistics, mixtures given as dicts, and the CLI (`rbsm score --json`) on the same points."""
import json

import numpy as np
import pytest

import rbsm
from conftest import csv


def test_vmf_closed_forms(rng):
    kappa, d = 2.5, 2
    M = rbsm.manifold("sphere:2")
    mu = np.array([0.0, 0.6, 0.8])
    q = rbsm.density(M, f"vmf:kappa={kappa}", mean=mu)
    Z = M.project(rng.standard_normal((30, 3)))
    t = Z @ mu
    np.testing.assert_allclose(q.log_prob(Z), np.log(kappa / (4 * np.pi * np.sinh(kappa))) + kappa * t, rtol=1e-13)
    PT = np.eye(3) - Z[:, :, None] * Z[:, None, :]
    grad = kappa * PT @ mu
    np.testing.assert_allclose(q.score(Z), grad, atol=1e-13)
    # Delta_M <mu, z> = -d <mu, z> on S^d; b_q = 1/2 grad_M(Delta log q + |grad log q|^2) = -(d/2 + kappa t) grad
    np.testing.assert_allclose(q.laplacian_log_prob(Z), -d * kappa * t, atol=1e-12)
    np.testing.assert_allclose(q.b_q(Z), -(d / 2 + kappa * t)[:, None] * grad, atol=1e-12)


def test_uniform_densities():
    for spec, volume in [("sphere:2", 4 * np.pi), ("torus:3,1", 4 * np.pi**2 * 3), ("clifford-torus:1,0.5", 4 * np.pi**2 * 0.5)]:
        M = rbsm.manifold(spec)
        q = rbsm.density(M, "uniform")
        Z = q.sample(10, seed=3)
        np.testing.assert_allclose(q.log_prob(Z), -np.log(volume), rtol=1e-13)
        np.testing.assert_allclose(q.score(Z), 0, atol=1e-14)
        np.testing.assert_allclose(M.project(Z), Z, atol=1e-12)  # draws lie on M


def test_vmf_sampling_mean():
    kappa = 2.0
    M = rbsm.manifold("sphere:2")
    q = rbsm.density(M, f"vmf:kappa={kappa}")
    Z = q.sample(20000, seed=7, progress=False)
    t = Z[:, 0]
    expected = 1 / np.tanh(kappa) - 1 / kappa
    assert abs(t.mean() - expected) < 4 * t.std() / np.sqrt(len(t))
    np.testing.assert_array_equal(q.sample(5, seed=7), Z[:5])  # draw i from Rng(seed, i)
    assert not np.array_equal(q.sample(5, seed=8), Z[:5])


MIX = {"weights": [1, 3], "components": [{"dist": "vmf:kappa=4", "mean": [0, 0, 1]}, {"dist": "vmf:kappa=1"}]}


def test_mixture_dict_closed_form(rng):
    M = rbsm.manifold("sphere:2")
    q = rbsm.density(M, MIX)
    a = rbsm.density(M, "vmf:kappa=4", mean=[0, 0, 1])
    b = rbsm.density(M, "vmf:kappa=1")
    Z = M.project(rng.standard_normal((20, 3)))
    np.testing.assert_allclose(q.log_prob(Z), np.logaddexp(np.log(0.25) + a.log_prob(Z), np.log(0.75) + b.log_prob(Z)),
                               rtol=1e-13)
    pa = 0.25 * np.exp(a.log_prob(Z) - q.log_prob(Z))
    np.testing.assert_allclose(q.score(Z), pa[:, None] * a.score(Z) + (1 - pa)[:, None] * b.score(Z), atol=1e-12)


@pytest.mark.parametrize("manifold,dist,mean", [
    ("sphere:2", "vmf:kappa=3", "0,0.6,0.8"),
    ("torus:3,1", "vonmises:kappa1=1,kappa2=3", "1,3,0.5"),
    ("clifford-torus:1,0.5", "vonmises:kappa1=2,kappa2=0.5", None),
    ("so3", "matrix-fisher:1,2,3", None),
    ("ellipsoid:1,1.5,2.5", "uniform", None),
])
def test_against_cli(cli, manifold, dist, mean):
    M = rbsm.manifold(manifold)
    q = rbsm.density(M, dist, mean=None if mean is None else np.array([float(v) for v in mean.split(",")]))
    X = M.sample_uniform(3, seed=5) * 1.01
    for x in X:
        args = ["--manifold", manifold, "--dist", dist, "--point", csv(x)] + (["--mean", mean] if mean else [])
        j = cli("score", *args)
        z = M.project(x)
        np.testing.assert_allclose(z, j["z"], atol=1e-13)
        assert q.log_prob(z) == pytest.approx(j["log_q"], rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(q.score(z), j["grad_log_q"], rtol=1e-12, atol=1e-12)
        assert q.laplacian_log_prob(z) == pytest.approx(j["laplacian_log_q"], rel=1e-10, abs=1e-10)
        np.testing.assert_allclose(q.b_q(z), j["b_q"], rtol=1e-10, atol=1e-10)
        e = rbsm.expansion(q, x, 0.1)
        np.testing.assert_allclose(e["sigma2_coefficient"], j["sigma2_coefficient"], rtol=1e-10, atol=1e-10)


def test_mixture_against_cli(cli, tmp_path):
    path = tmp_path / "mix.json"
    path.write_text(json.dumps(MIX))
    M = rbsm.manifold("sphere:2")
    q = rbsm.density(M, MIX)
    x = np.array([0.3, -0.4, 0.8])
    j = cli("score", "--manifold", "sphere:2", "--dist", f"@{path}", "--point", csv(x))
    assert q.spec == j["dist"]
    z = M.project(x)
    assert q.log_prob(z) == pytest.approx(j["log_q"], rel=1e-13)
    np.testing.assert_allclose(q.b_q(z), j["b_q"], rtol=1e-12, atol=1e-12)


def test_bad_densities():
    S2 = rbsm.manifold("sphere:2")
    T = rbsm.manifold("torus:3,1")
    with pytest.raises(ValueError, match="negative"):
        rbsm.density(S2, "vmf:kappa=-1")
    with pytest.raises(ValueError, match="unknown density"):
        rbsm.density(S2, "gauss:sigma=1")
    with pytest.raises(ValueError):
        rbsm.density(T, "vmf:kappa=1")
    with pytest.raises(ValueError, match="weight"):
        rbsm.density(S2, {"weights": [1, -1], "components": [{"dist": "uniform"}, {"dist": "uniform"}]})
    with pytest.raises(ValueError, match="unknown key"):
        rbsm.density(S2, {"weights": [1], "components": [{"dist": "uniform"}], "extra": 1})
    with pytest.raises(ValueError, match=r"\(3,\)"):
        rbsm.density(S2, "vmf:kappa=1", mean=[1, 0])
    with pytest.raises(TypeError):
        rbsm.density(S2, 3)
    with pytest.raises(ValueError, match=r"expected shape \(N, 3\)"):
        rbsm.density(S2, "uniform").log_prob(np.zeros((2, 4)))
