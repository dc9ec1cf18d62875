"""rbsm.rb_target and rbsm.expansion: symmetry, the sigma^2 expansion, the CLI (`rbsm target --json`)
on the same inputs, references given or drawn, bad input."""
import numpy as np
import pytest

import rbsm
from conftest import csv


def test_uniform_sphere_target_vanishes(rng):
    M = rbsm.manifold("sphere:2")
    q = rbsm.density(M, "uniform")
    Y = M.project(rng.standard_normal((4, 3))) * 1.05
    np.testing.assert_allclose(rbsm.rb_target(M, q, Y, 0.3), 0, atol=1e-10)  # rotational symmetry about y


def test_exact_target_follows_the_expansion(rng):
    M = rbsm.manifold("sphere:2")
    q = rbsm.density(M, "vmf:kappa=2")
    Y = M.project(rng.standard_normal((5, 3)))
    sigma = 0.04
    r = rbsm.rb_target(M, q, Y, sigma)
    e = rbsm.expansion(q, Y, sigma)
    first = np.linalg.norm(r - e["grad_log_q"], axis=1)  # O(sigma^2)
    rest = np.linalg.norm(r - e["expansion"], axis=1)     # o(sigma^2)
    assert np.all(first > 1e-4)
    assert np.all(rest < 0.05 * first)


@pytest.mark.parametrize("manifold,dist,sigma", [("sphere:2", "vmf:kappa=2", 0.2),
                                                 ("clifford-torus:1,0.5", "vonmises:kappa1=1,kappa2=2", 0.15)])
def test_exact_against_cli(cli, manifold, dist, sigma):
    M = rbsm.manifold(manifold)
    q = rbsm.density(M, dist)
    y = M.sample_uniform(1, seed=2)[0] * 1.02
    j = cli("target", "--manifold", manifold, "--dist", dist, "--point", csv(y), "--sigma", str(sigma))
    np.testing.assert_allclose(rbsm.rb_target(M, q, y, sigma), j["r"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rbsm.expansion(q, y, sigma)["expansion"], j["expansion"], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("manifold,dist", [("sphere:2", "vmf:kappa=2"), ("so3", "matrix-fisher:1,2,3")])
def test_estimator_against_cli(cli, manifold, dist):
    M = rbsm.manifold(manifold)
    q = rbsm.density(M, dist)
    y = M.sample_uniform(1, seed=4)[0]
    j = cli("target", "--manifold", manifold, "--dist", dist, "--point", csv(y), "--sigma", "0.3",
            "--method", "estimator", "--refs", "700", "--seed", "3")
    r, ess = rbsm.rb_target(M, q, y, 0.3, method="estimator", n_references=700, seed=3, return_ess=True)
    np.testing.assert_allclose(r, j["r"], rtol=1e-10, atol=1e-12)
    assert ess == pytest.approx(j["ess"], rel=1e-10)
    # the same references passed explicitly
    refs = q.sample(700, seed=3)
    np.testing.assert_allclose(rbsm.rb_target(M, q, y, 0.3, method="estimator", references=refs), r, rtol=1e-13, atol=1e-14)


def test_estimator_batch_shapes():
    M = rbsm.manifold("torus:3,1")
    q = rbsm.density(M, "vonmises:kappa1=1,kappa2=1")
    Y = M.sample_uniform(6, seed=1)
    r, ess = rbsm.rb_target(M, q, Y, 0.2, method="estimator", n_references=300, return_ess=True)
    assert r.shape == (6, 3) and ess.shape == (6,)
    assert np.all((ess >= 1) & (ess <= 300))
    np.testing.assert_allclose(np.einsum("ni,ni->n", r, M.mean_curvature(Y)), 0, atol=1e-10)  # tangent


def test_bad_input():
    M = rbsm.manifold("sphere:2")
    q = rbsm.density(M, "vmf:kappa=1")
    y = np.array([1.0, 0, 0])
    with pytest.raises(ValueError, match="sigma"):
        rbsm.rb_target(M, q, y, -0.1)
    with pytest.raises(ValueError, match="method"):
        rbsm.rb_target(M, q, y, 0.1, method="magic")
    with pytest.raises(ValueError, match="references"):
        rbsm.rb_target(M, q, y, 0.1, method="estimator", references=np.zeros((5, 4)))
    with pytest.raises(ValueError, match="torus"):
        rbsm.rb_target(rbsm.manifold("torus:3,1"), q, np.ones(3), 0.1)
    with pytest.raises(ValueError):  # no exact quadrature on so3
        S = rbsm.manifold("so3")
        rbsm.rb_target(S, rbsm.density(S, "uniform"), np.eye(3).ravel(), 0.1)
