# `rbsm equilibrium`: one-line errors for bad input, and JSON values checked against independent
# expectations (vMF's kappa for the true drift with MALA; source-expansion's closed-form stationary law
# kappa (1 + sigma^2 (1 - d/2)); E_M = 0 on spheres so rb-geometric == rb-extrinsic).

# ---------------------------------------------------------------- bad input -> one line, exit 1
rbsm_cli_error(equilibrium_bad_drift "unknown drift 'magic'"
  equilibrium --manifold sphere:2 --dist vmf:kappa=2 --drift magic --out ${CMAKE_BINARY_DIR}/cli-out/eq-bad --json)
rbsm_cli_error(equilibrium_bad_sigma "sigma must be a finite number > 0"
  equilibrium --manifold sphere:2 --dist vmf:kappa=2 --sigma -0.1 --drift rb --out ${CMAKE_BINARY_DIR}/cli-out/eq-bad --json)
rbsm_cli_error(equilibrium_bad_step "--step-size must be a positive number"
  equilibrium --manifold sphere:2 --dist vmf:kappa=2 --drift true --step-size 0 --out ${CMAKE_BINARY_DIR}/cli-out/eq-bad --json)
rbsm_cli_error(equilibrium_mala_torus "--mala is implemented for spheres only"
  equilibrium --manifold torus:3,1 --dist uniform --drift true --mala --chains 2 --steps 4 --out ${CMAKE_BINARY_DIR}/cli-out/eq-bad --json)
rbsm_cli_error(equilibrium_vmf_on_torus "vmf"
  equilibrium --manifold torus:3,1 --dist vmf:kappa=2 --drift true --out ${CMAKE_BINARY_DIR}/cli-out/eq-bad --json)
rbsm_cli_error(equilibrium_empty_drift "empty drift name"
  equilibrium --manifold sphere:2 --dist vmf:kappa=2 --drift true,,rb --out ${CMAKE_BINARY_DIR}/cli-out/eq-bad --json)

# ---------------------------------------------------------------- values
# True vMF score with MALA: kappa_eff within 4 standard errors of 2 (S^6).
rbsm_cli_json(equilibrium_true_mala
  "abs(j['drifts'][0]['kappa_eff'] - 2) < 4 * j['drifts'][0]['kappa_eff_se'] and j['drifts'][0]['kappa_eff_se'] < 0.1"
  equilibrium --manifold sphere:6 --dist vmf:kappa=2 --drift true --mala --chains 200 --steps 600 --step-size 0.1
  --out ${CMAKE_BINARY_DIR}/cli-out/eq-true --json)
# source-expansion on S^10 at sigma = 0.29: constant g = kappa (1 + sigma^2 (1 - d/2)) = 2 (1 - 4 * 0.0841)
# = 1.3272, so its exact stationary law is vMF(1.3272) (under-concentration 33.6%).
rbsm_cli_json(equilibrium_source_expansion_closed_form
  "abs(j['drifts'][0]['predicted_kappa_eff'] - 1.3272) < 1e-3 and abs(j['drifts'][0]['predicted_under_concentration'] - 0.3364) < 1e-3"
  equilibrium --manifold sphere:10 --dist vmf:kappa=2 --sigma 0.29 --drift source-expansion --chains 8 --steps 20
  --out ${CMAKE_BINARY_DIR}/cli-out/eq-se --json)
# E_M = 0 on spheres: rb-geometric and rb-extrinsic give the same stationary law.
rbsm_cli_json(equilibrium_geometric_equals_extrinsic_on_spheres
  "j['drifts'][0]['predicted_kappa_eff'] == j['drifts'][1]['predicted_kappa_eff']"
  equilibrium --manifold sphere:6 --dist vmf:kappa=2 --sigma 0.2 --drift rb-extrinsic,rb-geometric --chains 8 --steps 20
  --out ${CMAKE_BINARY_DIR}/cli-out/eq-geo --json)
