"""The batched per-operator geometry methods (M.project, M.tangent_projector, ..., M.geometric_drift: one
geometry::local_rows / project_rows call over all rows) against the per-point library functions they replace
(M._per_point: one virtual Manifold call per point, the path the C++ tests check against closed forms), on
random points of every manifold; threads, single points, errors and the outputs' memory."""
import numpy as np
import pytest

import rbsm

SPECS = ["sphere:1", "sphere:2", "sphere:7", "clifford-torus:1,0.5", "torus:3,1", "torus:2,1.5", "so3",
         "ellipsoid:1,1.5,2.5", "ellipsoid:1,2,0.5,3"]
LEVEL_SETS = {"so3", "ellipsoid:1,1.5,2.5", "ellipsoid:1,2,0.5,3"}
OPERATORS = ["tangent_projector", "normal_projector", "tangent_frame", "normal_frame", "mean_curvature",
             "weingarten_H", "ricci", "correction_operator", "scalar_curvature"]


def near(M, n, seed, scale=0.3):
    Z = M.sample_uniform(n, seed=seed)
    g = np.random.default_rng(seed).standard_normal(Z.shape)
    return Z + scale * M.reach * g / np.sqrt(M.D)


@pytest.mark.parametrize("spec", SPECS)
def test_project_equals_the_per_point_projection(spec):
    M = rbsm.manifold(spec)
    X = near(M, 200, seed=1)
    ref = M._per_point("project", X)
    got = M.project(X)
    if spec in LEVEL_SETS:  # the certified closed forms (polar decomposition, Newton on the multiplier)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13)  # against the KKT Newton's own tolerance
    else:
        np.testing.assert_allclose(got, ref, rtol=0, atol=2e-15 * max(1.0, np.abs(X).max()))
    # M.local's certified closed-form projections agree with it
    np.testing.assert_allclose(M.local(X)["z"], ref, rtol=0, atol=1e-13)


@pytest.mark.parametrize("spec", SPECS)
def test_operators_equal_the_per_point_functions(spec):
    M = rbsm.manifold(spec)
    Z = M._per_point("project", near(M, 100, seed=2))
    for op in OPERATORS:
        got, ref = getattr(M, op)(Z), M._per_point(op, Z)
        assert got.shape == ref.shape and got.dtype == np.float64, op
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * max(1.0, np.abs(ref).max()), err_msg=f"{spec} {op}")
    # M.local gives the same operators in one call
    g = M.local(Z, project=False)
    for key, op in [("tangent_projector", "tangent_projector"), ("ricci", "ricci"), ("K", "correction_operator"),
                    ("mean_curvature", "mean_curvature"), ("scalar_curvature", "scalar_curvature")]:
        np.testing.assert_allclose(g[key], getattr(M, op)(Z), rtol=0, atol=1e-12 * max(1.0, np.abs(g[key]).max()))


@pytest.mark.parametrize("spec", SPECS)
def test_geometric_drift_equals_the_per_point_drift(spec):
    M = rbsm.manifold(spec)
    n = 4 if spec in LEVEL_SETS else 100  # level sets: the numerical graph-coordinate E_M, ~ms per point
    Z = M._per_point("project", near(M, n, seed=3))
    got, ref = M.geometric_drift(Z), M._per_point("geometric_drift", Z)
    if spec in LEVEL_SETS:
        np.testing.assert_array_equal(got, ref)  # the same per-point function at the same z
    else:
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13)  # closed forms (0 on spheres, Clifford torus)


def test_torus_drift_closed_form():
    # E_M = -R sin a1 cos a1 / (2 r (R + r cos a1)^3) e1, e1 = (-sin a1 cos a2, -sin a1 sin a2, cos a1)
    R, r = 3.0, 1.0
    M = rbsm.manifold("torus:3,1")
    a1, a2 = np.random.default_rng(4).uniform(-np.pi, np.pi, (2, 50))
    Z = np.stack([(R + r * np.cos(a1)) * np.cos(a2), (R + r * np.cos(a1)) * np.sin(a2), r * np.sin(a1)], 1)
    e1 = np.stack([-np.sin(a1) * np.cos(a2), -np.sin(a1) * np.sin(a2), np.cos(a1)], 1)
    c = -R * np.sin(a1) * np.cos(a1) / (2 * r * (R + r * np.cos(a1)) ** 3)
    np.testing.assert_allclose(M.geometric_drift(Z), c[:, None] * e1, rtol=0, atol=1e-15)


@pytest.mark.parametrize("spec", ["sphere:10", "torus:3,1", "so3"])
def test_threads_single_points_and_layouts(spec):
    M = rbsm.manifold(spec)
    X = near(M, 300, seed=5)
    Z = M.project(X)
    for op in ["project"] + OPERATORS:
        A = Z if op != "project" else X
        one, two = getattr(M, op)(A, threads=1), getattr(M, op)(A, threads=2)
        np.testing.assert_array_equal(one, two, err_msg=op)  # rows are independent: no thread dependence
        np.testing.assert_array_equal(getattr(M, op)(A[7]), one[7], err_msg=op)  # (D,) -> unbatched result
        np.testing.assert_array_equal(getattr(M, op)(np.asfortranarray(A)), one, err_msg=op)
    g1, g2 = M.local(X, threads=1), M.local(X, threads=2)
    for key in g1:
        np.testing.assert_array_equal(g1[key], g2[key], err_msg=key)


def test_local_outputs_are_separate_writable_arrays():
    M = rbsm.manifold("sphere:10")
    g = M.local(near(M, 4096, seed=6))  # a 24 MB block (MADV_HUGEPAGE on its whole 2 MiB pages)
    arrays = list(g.values())
    for a in arrays:
        assert a.flags.writeable and a.flags.c_contiguous and a.dtype == np.float64
    for i, a in enumerate(arrays):
        for b in arrays[i + 1:]:
            assert not np.shares_memory(a, b)
    ref = {k: v.copy() for k, v in g.items()}
    g["K"][...] = np.nan  # writing one leaves the others as they were
    for k in g:
        if k != "K":
            np.testing.assert_array_equal(g[k], ref[k])
    z = g["z"]
    del g, arrays  # an array kept alone keeps its memory valid
    np.testing.assert_array_equal(z, ref["z"])


def test_errors_name_the_row():
    M = rbsm.manifold("sphere:2")
    Z = np.array([[1.0, 0, 0], [0, 0, 0], [0, 1.0, 0]])
    for op in ["project"] + OPERATORS + ["geometric_drift"]:
        with pytest.raises(rbsm.GeometryError, match="row 1"):
            getattr(M, op)(Z)
    with pytest.raises(ValueError, match="row 0.*NaN"):
        M.ricci(np.array([[np.nan, 0, 0], [1.0, 0, 0]]))
    T = rbsm.manifold("torus:3,1")
    with pytest.raises(rbsm.GeometryError, match="row 2.*axis"):
        T.tangent_projector(np.array([[4.0, 0, 0], [0, 4.0, 0], [0, 0, 1.0]]))
    with pytest.raises(ValueError, match="unknown operator"):
        M._per_point("blob", Z[:1])


@pytest.mark.parametrize("spec", sorted(LEVEL_SETS))
def test_level_set_projections_solve_the_nearest_point_conditions(spec):
    # independent of the library's KKT Newton: p on M and x - p normal to M at p
    M = rbsm.manifold(spec)
    X = near(M, 300, seed=8, scale=0.5)
    P = M.project(X)
    if spec == "so3":  # p in SO(3), and x - p = p S with S symmetric (N_p SO(3) = p Sym(3))
        R, A = P.reshape(-1, 3, 3), X.reshape(-1, 3, 3)
        np.testing.assert_allclose(R @ R.transpose(0, 2, 1), np.broadcast_to(np.eye(3), R.shape), rtol=0, atol=1e-14)
        np.testing.assert_allclose(np.linalg.det(R), 1.0, rtol=0, atol=1e-14)
        S = R.transpose(0, 2, 1) @ A
        np.testing.assert_allclose(S, S.transpose(0, 2, 1), rtol=0, atol=1e-14)
    else:  # sum p_i^2 / a_i^2 = 1, and x - p parallel to grad F(p) = 2 p / a^2
        a = np.array([float(v) for v in spec.split(":")[1].split(",")])
        np.testing.assert_allclose(np.sum(P**2 / a**2, axis=1), 1.0, rtol=0, atol=1e-14)
        g = P / a**2
        g /= np.linalg.norm(g, axis=1, keepdims=True)
        r = X - P
        np.testing.assert_allclose(r - np.sum(r * g, axis=1, keepdims=True) * g, 0.0, rtol=0, atol=1e-14)


def test_output_memory_is_reused_only_when_free():
    M = rbsm.manifold("sphere:2")
    X1, X2 = near(M, 4096, seed=9), near(M, 4096, seed=10)
    g1 = M.local(X1)
    ref1 = {k: v.copy() for k, v in g1.items()}
    address = g1["z"].ctypes.data
    g2 = M.local(X2)  # g1's block is still in use: a different one
    address2 = g2["z"].ctypes.data
    assert address2 != address
    for k in g1:
        np.testing.assert_array_equal(g1[k], ref1[k])
    np.testing.assert_array_equal(g2["z"], M.project(X2))
    del g1, g2
    g3 = M.local(X1)  # a freed block of the right size is taken again, and filled afresh
    assert g3["z"].ctypes.data in (address, address2)
    for k in g3:
        np.testing.assert_array_equal(g3[k], ref1[k])
