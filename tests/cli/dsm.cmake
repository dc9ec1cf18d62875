# CLI contracts of rbsm target / variance / expansion (docs/targets.md §6).
rbsm_cli_error(target_sigma_zero "sigma" target --manifold sphere:2 --dist vmf:kappa=2 --point 1,0,0 --sigma 0 --json)
rbsm_cli_error(target_sigma_negative "sigma" target --manifold sphere:2 --dist vmf:kappa=2 --point 1,0,0 --sigma -0.5 --json)
rbsm_cli_error(target_sigma_nan "sigma" target --manifold sphere:2 --dist vmf:kappa=2 --point 1,0,0 --sigma nan --json)
rbsm_cli_error(target_refs_zero "--refs" target --manifold sphere:2 --dist vmf:kappa=2 --point 1,0,0 --sigma 0.1 --method estimator --refs 0 --json)
rbsm_cli_error(target_exact_unsupported "no exact RB target" target --manifold so3 --dist uniform --point 1,0,0,0,1,0,0,0,1 --sigma 0.1 --json)
rbsm_cli_error(target_vmf_on_torus "vmf" target --manifold torus:3,1 --dist vmf:kappa=2 --point 4,0,0 --sigma 0.1 --json)
# On S^2 under vMF(kappa = 2) at y = (0.6, 0.8, 0), t = 0.6: grad = kappa P_T mu = (0.72, -0.96, 0)*... ;
# r_sigma -> grad as sigma -> 0, and r is tangent (<r, y> = 0).
rbsm_cli_json(target_sphere_exact "abs(j['r'][0]*0.6+j['r'][1]*0.8) < 1e-12 and abs(j['r'][0]-j['grad_log_q'][0]) < 1e-3 and abs(j['geometric_drift'][0]) < 1e-12"
  target --manifold sphere:2 --dist vmf:kappa=2 --point 0.6,0.8,0 --sigma 0.01 --json)
rbsm_cli_json(target_sphere_expansion "abs(j['r'][0]-j['expansion'][0]) < 1e-5"
  target --manifold sphere:2 --dist vmf:kappa=2 --point 0.6,0.8,0 --sigma 0.02 --json)
rbsm_cli_json(target_estimator_ess "j['ess'] > 10 and j['ess'] <= 2000 and abs(j['r'][0]-j['grad_log_q'][0]) < 0.5"
  target --manifold sphere:2 --dist vmf:kappa=2 --point 0.6,0.8,0 --sigma 0.3 --method estimator --refs 2000 --json)
rbsm_cli_json(target_torus_exact "len(j['r']) == 3 and abs(j['geometric_drift'][2]) > 1e-3"
  target --manifold torus:3,1 --dist uniform --point 3.1069,1.6973,0.8415 --sigma 0.05 --json)
rbsm_cli_json(variance_json "abs(j['slope'] + 2) < 0.1 and abs(j['ratio'] - 1) < 0.1"
  variance --out ${CMAKE_BINARY_DIR}/cli_runs/variance --samples 4000 --sigmas 4 --json)
