# `rbsm geometry`: one-line errors for bad input, and JSON values checked against closed forms
# derived by hand (docs/geometry.md), never against the program's own output.

# ---------------------------------------------------------------- bad input -> one line, exit 1
rbsm_cli_error(geometry_unknown_spec "unknown manifold 'blob'" geometry --manifold blob:1 --point 1,0 --json)
rbsm_cli_error(geometry_sphere_no_dim "expected 1 parameter" geometry --manifold sphere --point 1,0,0 --json)
rbsm_cli_error(geometry_sphere_fractional_dim "must be an integer" geometry --manifold sphere:2.5 --point 1,0,0 --json)
rbsm_cli_error(geometry_sphere_zero_dim "must be an integer" geometry --manifold sphere:0 --point 1 --json)
rbsm_cli_error(geometry_torus_one_param "expected 2 parameter" geometry --manifold torus:3 --point 1,0,0 --json)
rbsm_cli_error(geometry_torus_three_params "expected 2 parameter" geometry --manifold torus:3,1,1 --point 1,0,0 --json)
rbsm_cli_error(geometry_torus_R_le_r "need R > r" geometry --manifold torus:1,2 --point 1,0,0 --json)
rbsm_cli_error(geometry_torus_R_eq_r "need R > r" geometry --manifold torus:1,1 --point 1,0,0 --json)
rbsm_cli_error(geometry_torus_negative_r "must be a finite number > 0" geometry --manifold torus:3,-1 --point 1,0,0 --json)
rbsm_cli_error(geometry_torus_bad_number "'abc' is not a number" geometry --manifold torus:3,abc --point 1,0,0 --json)
rbsm_cli_error(geometry_clifford_zero_radius "must be a finite number > 0" geometry --manifold clifford-torus:1,0 --point 1,0,0,0 --json)
rbsm_cli_error(geometry_clifford_one_param "expected 2 parameter" geometry --manifold clifford-torus:1 --point 1,0,0,0 --json)
rbsm_cli_error(geometry_point_wrong_length "has 2 coordinates" geometry --manifold sphere:2 --point 1,0 --json)
rbsm_cli_error(geometry_point_nan "not finite" geometry --manifold sphere:2 --point 1,nan,0 --json)
rbsm_cli_error(geometry_point_not_number "not a number" geometry --manifold sphere:2 --point 1,x,0 --json)
rbsm_cli_error(geometry_sphere_centre "no unique nearest point" geometry --manifold sphere:2 --point 0,0,0 --json)
rbsm_cli_error(geometry_torus_axis "on the axis" geometry --manifold torus:3,1 --point 0,0,0.3 --json)
rbsm_cli_error(geometry_torus_core_circle "on the core circle" geometry --manifold torus:3,1 --point 0,3,0 --json)
rbsm_cli_error(geometry_clifford_focal "no unique nearest point" geometry --manifold clifford-torus:1,2 --point 0,0,1,1 --json)
rbsm_cli_error(geometry_normal_wrong_length "--normal has 2 coordinates" geometry --manifold sphere:2 --point 1,0,0 --normal 1,0 --json)
rbsm_cli_error(geometry_missing_point "--point is required" geometry --manifold sphere:2 --json)

# ---------------------------------------------------------------- values
# S^2 at pi(2,0,0) = e1: distance 1, P_T = diag(0,1,1), H = -2 z, Ric# = P_T, K = (1 - 2/2) P_T = 0.
rbsm_cli_json(geometry_sphere2_projection
  "j['d'] == 2 and j['D'] == 3 and abs(j['distance'] - 1) < 1e-14 and max(abs(a - b) for a, b in zip(j['z'], [1, 0, 0])) < 1e-14"
  geometry --manifold sphere:2 --point 2,0,0 --json)
rbsm_cli_json(geometry_sphere2_operators
  "all(abs(j['tangent_projector'][i][k] - (i == k and i != 0)) < 1e-14 and abs(j['ricci'][i][k] - (i == k and i != 0)) < 1e-12 and abs(j['K'][i][k]) < 1e-12 and abs(j['weingarten_H'][i][k] - 2 * (i == k and i != 0)) < 1e-12 for i in range(3) for k in range(3)) and max(abs(a - b) for a, b in zip(j['mean_curvature'], [-2, 0, 0])) < 1e-12 and abs(j['scalar_curvature'] - 2) < 1e-12 and abs(j['gaussian_curvature'] - 1) < 1e-12 and j['gauss_residual'] < 1e-12"
  geometry --manifold sphere:2 --point 2,0,0 --json)
# S^6 at e4: K = (1 - 6/2) P_T = -2 (I - e4 e4^T); scalar curvature d (d - 1) = 30.
rbsm_cli_json(geometry_sphere6_K
  "j['d'] == 6 and all(abs(j['K'][i][k] + 2 * ((i == k) - (i == 3 and k == 3))) < 1e-12 for i in range(7) for k in range(7)) and abs(j['scalar_curvature'] - 30) < 1e-10 and j['gauss_residual'] < 1e-12 and abs(j['distance'] - 2) < 1e-14"
  geometry --manifold sphere:6 --point 0,0,0,3,0,0,0 --json)
# W_nu on S^2 at e1 for nu = normal part of (3,1,0) = (3,0,0): W_nu = -3 P_T.
rbsm_cli_json(geometry_sphere2_weingarten_nu
  "all(abs(j['weingarten_nu'][i][k] + 3 * (i == k and i != 0)) < 1e-12 for i in range(3) for k in range(3))"
  geometry --manifold sphere:2 --point 1,0,0 --normal 3,1,0 --json)
# Clifford torus (1, 2) at pi(2,0,0,3) = (1,0,0,2): distance sqrt(2); tangents e2 and e3 (up to sign),
# Ric# = 0, K = diag(0, 1/(2 r1^2), 1/(2 r2^2), 0) = diag(0, 1/2, 1/8, 0), K_G = 0.
rbsm_cli_json(geometry_clifford_K
  "abs(j['distance'] - math.sqrt(2)) < 1e-14 and all(abs(j['K'][i][k] - (i == k) * [0, 0.5, 0.125, 0][i]) < 1e-12 and abs(j['ricci'][i][k]) < 1e-14 for i in range(4) for k in range(4)) and abs(j['gaussian_curvature']) < 1e-14 and j['gauss_residual'] < 1e-12"
  geometry --manifold clifford-torus:1,2 --point 2,0,0,3 --json)
# Torus (3, 1) at pi(4.2, 0, 0.3): cos a1 = 1.2 / sqrt(1.53); K_G = cos a1 / (r (R + r cos a1));
# K eigenvalues 1/2 (k1 - k2) k1 and -1/2 (k1 - k2) k2 with k1 = cos a1 / (R + r cos a1), k2 = 1/r.
rbsm_cli_json(geometry_torus_gaussian_curvature
  "abs(j['gaussian_curvature'] - (1.2 / math.sqrt(1.53)) / (3 + 1.2 / math.sqrt(1.53))) < 1e-12 and abs(j['distance'] - (math.sqrt(1.53) - 1)) < 1e-14 and j['gauss_residual'] < 1e-12"
  geometry --manifold torus:3,1 --point 4.2,0,0.3 --json)
rbsm_cli_json(geometry_torus_K_eigenvalues
  "max(abs(a - b) for k1 in [(1.2 / math.sqrt(1.53)) / (3 + 1.2 / math.sqrt(1.53))] for a, b in zip(j['K_eigenvalues'], sorted([0.5 * (k1 - 1) * k1, 0.5 * (1 - k1)]))) < 1e-12"
  geometry --manifold torus:3,1 --point 4.2,0,0.3 --json)
# Torus (3, 1) inside the hole: pi(1.5,0,0) = (2,0,0), a1 = pi, outward normal (-1,0,0),
# K_G = -1/(1 * 2), H = -(k1 + k2) n = -(-1/2 + 1)(-1,0,0) = (1/2, 0, 0), E_M = 0 (sin a1 = 0).
rbsm_cli_json(geometry_torus_inner_equator
  "max(abs(a - b) for a, b in zip(j['z'], [2, 0, 0])) < 1e-14 and abs(j['gaussian_curvature'] + 0.5) < 1e-12 and max(abs(a - b) for a, b in zip(j['mean_curvature'], [0.5, 0, 0])) < 1e-12 and max(abs(a) for a in j['geometric_drift']) < 1e-15 and abs(j['reach'] - 1) < 1e-15"
  geometry --manifold torus:3,1 --point 1.5,0,0 --json)
