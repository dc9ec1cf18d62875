"""rbsm.manifold: closed forms, the CLI (`rbsm geometry --json`) on the same points, shapes, dtypes,
non-contiguous and float32 input, bad input."""
import numpy as np
import pytest

import rbsm
from conftest import csv

SPECS = ["sphere:2", "sphere:5", "clifford-torus:1,0.5", "torus:3,1", "so3", "ellipsoid:1,1.5,2.5"]


def near(M, n, seed, scale=0.05):
    Z = M.sample_uniform(n, seed=seed)
    g = np.random.default_rng(seed).standard_normal(Z.shape)
    return Z + scale * min(M.reach, 1.0) * g


def test_sphere_closed_forms(rng):
    d = 4
    M = rbsm.manifold(f"sphere:{d}")
    X = rng.standard_normal((50, d + 1)) * 3
    Z = M.project(X)
    np.testing.assert_allclose(Z, X / np.linalg.norm(X, axis=1, keepdims=True), rtol=0, atol=1e-15)
    I = np.eye(d + 1)
    PT = I - Z[:, :, None] * Z[:, None, :]
    np.testing.assert_allclose(M.tangent_projector(Z), PT, atol=1e-13)
    np.testing.assert_allclose(M.normal_projector(Z), I - PT, atol=1e-13)
    E = M.tangent_frame(Z)
    assert E.shape == (50, d + 1, d)
    np.testing.assert_allclose(np.einsum("nij,nik->njk", E, E), np.broadcast_to(np.eye(d), (50, d, d)), atol=1e-13)
    np.testing.assert_allclose(np.einsum("nij,ni->nj", E, Z), 0, atol=1e-13)
    np.testing.assert_allclose(M.mean_curvature(Z), -d * Z, atol=1e-12)
    np.testing.assert_allclose(M.weingarten_H(Z), d * PT, atol=1e-12)
    np.testing.assert_allclose(M.ricci(Z), (d - 1) * PT, atol=1e-12)
    np.testing.assert_allclose(M.correction_operator(Z), (1 - d / 2) * PT, atol=1e-12)
    np.testing.assert_allclose(M.scalar_curvature(Z), d * (d - 1), atol=1e-11)
    np.testing.assert_allclose(M.geometric_drift(Z), 0, atol=1e-9)
    assert M.d == d and M.D == d + 1 and M.codim == 1
    assert M.volume == pytest.approx(8 * np.pi**2 / 3)  # |S^4| = 8 pi^2 / 3


def test_torus_of_revolution_closed_forms(rng):
    R, r = 3.0, 1.0
    M = rbsm.manifold(f"torus:{R:g},{r:g}")
    a1, a2 = rng.uniform(0, 2 * np.pi, 40), rng.uniform(0, 2 * np.pi, 40)
    n = np.stack([np.cos(a1) * np.cos(a2), np.cos(a1) * np.sin(a2), np.sin(a1)], 1)
    Z0 = np.stack([(R + r * np.cos(a1)) * np.cos(a2), (R + r * np.cos(a1)) * np.sin(a2), r * np.sin(a1)], 1)
    t = rng.uniform(-0.5, 0.5, (40, 1))
    Z = M.project(Z0 + t * n)  # moving along the normal projects back to the same point
    np.testing.assert_allclose(Z, Z0, atol=1e-12)
    # principal curvatures 1/r (meridian) and cos a1 / (R + r cos a1) (parallel); H = -(k1 + k2) n
    k1, k2 = 1 / r, np.cos(a1) / (R + r * np.cos(a1))
    np.testing.assert_allclose(M.mean_curvature(Z), -(k1 + k2)[:, None] * n, atol=1e-12)
    KG = k1 * k2  # Gaussian curvature; Ric# = K_G P_T, scalar curvature 2 K_G
    np.testing.assert_allclose(M.scalar_curvature(Z), 2 * KG, atol=1e-12)
    PT = np.eye(3) - n[:, :, None] * n[:, None, :]
    np.testing.assert_allclose(M.ricci(Z), KG[:, None, None] * PT, atol=1e-12)
    assert M.volume == pytest.approx(4 * np.pi**2 * R * r)


@pytest.mark.parametrize("spec", SPECS)
def test_local_matches_single_operators_and_gauss(spec):
    M = rbsm.manifold(spec)
    X = near(M, 12, seed=5)
    g = M.local(X)
    Z = M.project(X)
    np.testing.assert_allclose(g["z"], Z, rtol=0, atol=1e-14)
    np.testing.assert_allclose(g["tangent_projector"], M.tangent_projector(Z), atol=1e-12)
    np.testing.assert_allclose(g["K"], M.correction_operator(Z), atol=1e-12)
    np.testing.assert_allclose(g["ricci"], M.ricci(Z), atol=1e-12)
    np.testing.assert_allclose(g["K"], 0.5 * g["weingarten_H"] - g["ricci"], atol=1e-12)
    np.testing.assert_allclose(g["tangent_projector"] + g["normal_projector"], np.broadcast_to(np.eye(M.D), g["K"].shape),
                               atol=1e-12)
    assert np.all(M.gauss_residual(Z) < 1e-8)
    # W_H equals the Weingarten map of H given as a normal vector
    np.testing.assert_allclose(M.weingarten(Z, g["mean_curvature"]), g["weingarten_H"], atol=1e-10)


@pytest.mark.parametrize("spec", SPECS)
def test_against_cli(cli, spec):
    M = rbsm.manifold(spec)
    X = near(M, 3, seed=11)
    for x in X:
        j = cli("geometry", "--manifold", spec, "--point", csv(x))
        np.testing.assert_allclose(M.project(x), j["z"], rtol=0, atol=1e-13)
        z = np.array(j["z"])  # the operators at the CLI's z (the numerical E_M of level sets amplifies 1e-16 in z)
        for key, fn in [("tangent_projector", M.tangent_projector), ("normal_projector", M.normal_projector),
                        ("mean_curvature", M.mean_curvature), ("weingarten_H", M.weingarten_H), ("ricci", M.ricci),
                        ("K", M.correction_operator), ("scalar_curvature", M.scalar_curvature),
                        ("geometric_drift", M.geometric_drift), ("tangent_frame", M.tangent_frame)]:
            np.testing.assert_allclose(fn(z), np.array(j[key]), rtol=1e-12, atol=1e-12, err_msg=f"{spec} {key}")


def test_single_point_and_batch_shapes():
    M = rbsm.manifold("so3")
    X = near(M, 4, seed=2)
    assert M.project(X).shape == (4, 9)
    assert M.project(X[0]).shape == (9,)
    Z = M.project(X)
    assert M.tangent_frame(Z).shape == (4, 9, 3)
    assert M.normal_frame(Z).shape == (4, 9, 6)
    assert M.scalar_curvature(Z).shape == (4,)
    assert isinstance(M.scalar_curvature(Z[0]), float)
    np.testing.assert_array_equal(M.correction_operator(Z[1]), M.correction_operator(Z)[1])
    assert M.project(np.zeros((0, 9))).shape == (0, 9)


def test_dtypes_and_layouts():
    M = rbsm.manifold("ellipsoid:1,1.5,2.5")
    X = near(M, 20, seed=3)
    ref = M.project(X)
    np.testing.assert_array_equal(M.project(np.asfortranarray(X)), ref)  # Fortran order
    W = np.zeros((20, 6))
    W[:, ::2] = X
    assert not W[:, ::2].flags.c_contiguous
    np.testing.assert_array_equal(M.project(W[:, ::2]), ref)  # strided view
    np.testing.assert_array_equal(M.project(X[::-1]), ref[::-1])  # negative stride
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(M.project(X32), M.project(X32.astype(np.float64)))  # converted exactly
    np.testing.assert_array_equal(M.project([[1, 0, 0]]), [[1.0, 0.0, 0.0]])  # lists and integers
    assert M.project(X).dtype == np.float64


def test_threads_do_not_change_results():
    M = rbsm.manifold("torus:3,1")
    X = near(M, 64, seed=4)
    np.testing.assert_array_equal(M.geometric_drift(M.project(X, threads=1), threads=1),
                                  M.geometric_drift(M.project(X, threads=2), threads=2))


def test_bad_input():
    M = rbsm.manifold("sphere:2")
    with pytest.raises(ValueError, match=r"expected shape \(N, 3\)"):
        M.project(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"expected shape \(N, 3\)"):
        M.tangent_projector(np.zeros((2, 3, 1)))
    with pytest.raises(TypeError, match="real"):
        M.project(np.ones((2, 3), dtype=complex))
    with pytest.raises(TypeError, match="real"):
        M.project(np.ones((2, 3), dtype=bool))
    with pytest.raises(TypeError):
        M.project("abc")
    with pytest.raises(rbsm.GeometryError, match="row 1"):
        M.project(np.array([[1.0, 0, 0], [0, 0, 0]]))
    assert issubclass(rbsm.GeometryError, ValueError)
    with pytest.raises(ValueError, match="row 0"):
        M.project(np.array([[np.nan, 0, 0], [1, 0, 0]]))
    with pytest.raises(ValueError, match="unknown manifold"):
        rbsm.manifold("blob:1")
    with pytest.raises(ValueError):
        rbsm.manifold("torus:1,3")  # r > R


def test_docstrings_state_formulas():
    assert "1/2 W_H - Ric#" in rbsm.Manifold.correction_operator.__doc__
    assert "(N, D, D)" in rbsm.Manifold.tangent_projector.__doc__
    assert "sqrt(2h)" in rbsm.langevin.__doc__
