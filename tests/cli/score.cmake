# `rbsm score`: one-line errors for bad input, and JSON values checked against closed forms derived by
# hand (docs/densities.md), never against the program's own output.
set(_mix ${PROJECT_SOURCE_DIR}/tests/cli)

# ---------------------------------------------------------------- bad input -> one line, exit 1
rbsm_cli_error(score_vmf_negative_kappa "kappa = -1 is negative" score --manifold sphere:2 --dist vmf:kappa=-1 --point 1,0,0 --json)
rbsm_cli_error(score_vonmises_negative_kappa "kappa2 = -0.5 is negative" score --manifold torus:3,1 --dist vonmises:kappa1=1,kappa2=-0.5 --point 4,0,0 --json)
rbsm_cli_error(score_vmf_on_torus "vmf lives on spheres" score --manifold torus:3,1 --dist vmf:kappa=2 --point 4,0,0 --json)
rbsm_cli_error(score_vonmises_on_sphere "vonmises lives on the tori" score --manifold sphere:2 --dist vonmises:kappa1=1,kappa2=1 --point 1,0,0 --json)
rbsm_cli_error(score_fisher_on_sphere "matrix-fisher lives on so3" score --manifold sphere:2 --dist matrix-fisher:1,2,3 --point 1,0,0 --json)
rbsm_cli_error(score_unknown_density "unknown density 'gauss'" score --manifold sphere:2 --dist gauss:1 --point 1,0,0 --json)
rbsm_cli_error(score_vmf_missing_kappa "missing parameter 'kappa'" score --manifold sphere:2 --dist vmf --point 1,0,0 --json)
rbsm_cli_error(score_point_wrong_length "has 2 coordinates" score --manifold sphere:2 --dist vmf:kappa=1 --point 1,0 --json)
rbsm_cli_error(score_mean_wrong_length "the mean has 2 coordinates" score --manifold sphere:2 --dist vmf:kappa=1 --point 1,0,0 --mean 1,0 --json)
rbsm_cli_error(score_mean_zero "zero vector" score --manifold sphere:2 --dist vmf:kappa=1 --point 1,0,0 --mean 0,0,0 --json)
rbsm_cli_error(score_mixture_truncated "is not valid JSON" score --manifold sphere:2 --dist @${_mix}/score_truncated_mixture.json --point 1,0,0 --json)
rbsm_cli_error(score_mixture_weights_mismatch "2 weights for 1 components" score --manifold sphere:2 --dist @${_mix}/score_bad_mixture.json --point 1,0,0 --json)
rbsm_cli_error(score_mixture_missing_file "rbsm_no_such_file.json" score --manifold sphere:2 --dist @/nonexistent/rbsm_no_such_file.json --point 1,0,0 --json)

# ---------------------------------------------------------------- values against closed forms
# vMF on S^2, kappa = 2, mu = e_1, at z = e_2 (t = 0; the point (0,2,0) is projected first):
# log q = log(kappa / (4 pi sinh kappa)), grad = kappa (mu - t z) = (2,0,0), Delta = -d kappa t = 0,
# b_q = -(d/2 + kappa t) grad = (-2,0,0), K = (1 - d/2) Id = 0, E_M = 0.
rbsm_cli_json(score_vmf_s2_equator
  "j['z']==[0,1,0] and abs(j['log_q']-math.log(2/(4*math.pi*math.sinh(2))))<1e-12 and max(abs(a-b) for a,b in zip(j['grad_log_q'],[2,0,0]))<1e-12 and abs(j['laplacian_log_q'])<1e-12 and max(abs(a-b) for a,b in zip(j['b_q'],[-2,0,0]))<1e-12 and max(map(abs,j['K_grad_log_q']))<1e-12 and max(map(abs,j['geometric_drift']))<1e-12"
  score --manifold sphere:2 --dist vmf:kappa=2 --point 0,2,0 --json)
# vMF on S^2, kappa = 3, z = (1,1,0)/sqrt2, t = 1/sqrt2: grad = 3 (e_1 - t z) = (1.5,-1.5,0),
# Delta = -6/sqrt2, b_q = -(1 + 3/sqrt2) grad.
rbsm_cli_json(score_vmf_s2_oblique
  "max(abs(a-b) for a,b in zip(j['grad_log_q'],[1.5,-1.5,0]))<1e-12 and abs(j['laplacian_log_q']+6/math.sqrt(2))<1e-12 and max(abs(a+(1+3/math.sqrt(2))*b) for a,b in zip(j['b_q'],[1.5,-1.5,0]))<1e-12"
  score --manifold sphere:2 --dist vmf:kappa=3 --point 1,1,0 --json)
# vMF on S^6 with --mean e_7, at z = e_1: t = 0, grad = kappa e_7, K = (1 - 6/2) Id, so K grad = -2 kappa e_7.
rbsm_cli_json(score_vmf_s6_mean
  "max(abs(a-b) for a,b in zip(j['K_grad_log_q'],[0,0,0,0,0,0,-3]))<1e-12 and max(abs(a-b) for a,b in zip(j['grad_log_q'],[0,0,0,0,0,0,1.5]))<1e-12"
  score --manifold sphere:6 --dist vmf:kappa=1.5 --mean 0,0,0,0,0,0,2 --point 1,0,0,0,0,0,0 --json)
# Mixture of two identical vMF components (the second mean is 5 e_1, normalised) = the single vMF.
rbsm_cli_json(score_mixture_of_copies
  "abs(j['log_q']-math.log(2/(4*math.pi*math.sinh(2))))<1e-12 and max(abs(a-b) for a,b in zip(j['b_q'],[-2,0,0]))<1e-12"
  score --manifold sphere:2 --dist @${_mix}/score_mixture.json --point 0,1,0 --json)
# Clifford torus r1 = r2 = 1 at angles (pi/2, 0), z = (0,1,1,0): dp/da1 = (-1,0,0,0), so
# grad = -A sin(pi/2) dp/da1 = (A,0,0,0); Delta = -A cos a1 - B cos a2 = -B; K = diag(1/2, 1/2).
rbsm_cli_json(score_vonmises_clifford
  "max(abs(a-b) for a,b in zip(j['grad_log_q'],[1.5,0,0,0]))<1e-12 and abs(j['laplacian_log_q']+0.5)<1e-12 and max(abs(a-b) for a,b in zip(j['K_grad_log_q'],[0.75,0,0,0]))<1e-12"
  score --manifold clifford-torus:1,1 --dist vonmises:kappa1=1.5,kappa2=0.5 --point 0,1,1,0 --json)
# Uniform on the torus of revolution R = 3, r = 1: log q = -log(4 pi^2 R r), every derivative 0.
rbsm_cli_json(score_uniform_torus
  "abs(j['log_q']+math.log(12*math.pi**2))<1e-12 and max(map(abs,j['b_q']+j['grad_log_q']))==0 and j['laplacian_log_q']==0"
  score --manifold torus:3,1 --dist uniform --point 2,2,0.5 --json)
# Matrix Fisher at R = I: a = diag(f) is symmetric, i.e. normal, so grad = 0; Delta = <a, H> = -tr F.
rbsm_cli_json(score_matrix_fisher_identity
  "max(map(abs,j['grad_log_q']))<1e-9 and abs(j['laplacian_log_q']+2.5)<1e-9"
  score --manifold so3 --dist matrix-fisher:2,1,-0.5 --point 1,0,0,0,1,0,0,0,1 --json)
