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
rbsm_cli_error(equilibrium_mala_without_potential "--mala needs a drift with a known potential"
  equilibrium --manifold torus:3,1 --dist uniform --drift rb --mala --chains 2 --steps 4 --out ${CMAKE_BINARY_DIR}/cli-out/eq-bad --json)
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

# The torus of revolution (3, 1) under von Mises (1, 1) with the true score, chains started at exact
# draws of q: E[cos a1] and E[cos a2] match the quadrature truth (z-tests at 3 standard errors; the
# a2 marginal was biased while chains started uniform and had not mixed around the axis).
rbsm_cli_json(equilibrium_torus_true_drift_is_q
  "(lambda t: abs(t['bias_cos_a1']) < 3 * t['mean_cos_a1_se'] and abs(t['bias_cos_a2']) < 3 * t['mean_cos_a2_se'] and t['mean_cos_a2_se'] < 0.02)(j['drifts'][0])"
  equilibrium --manifold torus:3,1 --dist vonmises:kappa1=1,kappa2=1 --drift true
  --chains 4000 --steps 4000 --step-size 0.0025 --seed 5 --out ${CMAKE_BINARY_DIR}/cli-out/eq-torus-true --json)
# The same with MALA (generic projection retraction, docs/langevin.md §1.2) at a 40x larger step, h = 0.1,
# and 1/40 of the chain-steps: still no bias beyond 3 standard errors.
rbsm_cli_json(equilibrium_torus_true_mala
  "(lambda t: abs(t['bias_cos_a1']) < 3 * t['mean_cos_a1_se'] and abs(t['bias_cos_a2']) < 3 * t['mean_cos_a2_se'] and t['mean_cos_a2_se'] < 0.02 and 0.3 < j['drifts'][0]['acceptance_rate'] < 1)(j['drifts'][0])"
  equilibrium --manifold torus:3,1 --dist vonmises:kappa1=1,kappa2=1 --drift true --mala
  --chains 1000 --steps 400 --step-size 0.1 --seed 5 --out ${CMAKE_BINARY_DIR}/cli-out/eq-torus-mala --json)

# Torus of revolution (2, 1), uniform q, sigma = 0.3: the true drift is zero; the exact RB target is
# sigma^2 E_M + O(sigma^4) with E_M = grad(k1^2 / 4), k1 = cos a1 / (R + r cos a1), whose stationary law
# exp(sigma^2 k1^2 / 4) moves E[cos a1] by -0.002221 (1-D quadrature, docs/langevin.md §3.2). Every
# drift runs the same chains (common random numbers), so shifts against `true` are measured chain by
# chain. rb-extrinsic (the source's correction, K r only) keeps the E_M shift (z < -3); the difference
# rb-extrinsic - rb-geometric, i.e. the effect of the E_M term, matches the prediction within 3
# (conservative, se_e + se_g) standard errors.
rbsm_cli_json(equilibrium_torus_geometric_removes_E_M
  "(lambda t, e, g: e['shift_cos_a1_vs_true'] < -3 * e['shift_cos_a1_vs_true_se'] and abs(e['shift_cos_a1_vs_true'] - g['shift_cos_a1_vs_true'] + 0.002221) < 3 * (e['shift_cos_a1_vs_true_se'] + g['shift_cos_a1_vs_true_se']))(*j['drifts'])"
  equilibrium --manifold torus:2,1 --dist uniform --sigma 0.3 --drift true,rb-extrinsic,rb-geometric
  --chains 16000 --steps 6000 --step-size 0.005 --seed 3 --out ${CMAKE_BINARY_DIR}/cli-out/eq-torus --json)
