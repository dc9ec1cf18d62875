# CLI contract of `rbsm lid-bench` (docs/anatomy.md "Local intrinsic dimension benchmark"): one-line
# errors for bad input, and one tiny end-to-end run (a circle in R^3, few steps) for the JSON shape.
if(RBSM_WITH_TORCH)
  set(_lid_out ${CMAKE_BINARY_DIR}/cli-out/lid)
  rbsm_cli_error(lid_unknown_manifold "unknown manifold" lid-bench --manifolds cube:d=2,D=5 --out ${_lid_out}/e)
  rbsm_cli_error(lid_d_ge_D "d=5 >= D=5" lid-bench --manifolds sphere:d=5,D=5 --out ${_lid_out}/e)
  rbsm_cli_error(lid_torus_too_big "needs D >= 2d" lid-bench --manifolds torus:d=3,D=5 --out ${_lid_out}/e)
  rbsm_cli_error(lid_points "--points 0" lid-bench --points 0 --out ${_lid_out}/e)
  rbsm_cli_error(lid_steps "--steps -3" lid-bench --steps -3 --out ${_lid_out}/e)
  rbsm_cli_error(lid_time "LID time" lid-bench --t 1.5 --out ${_lid_out}/e)
  rbsm_cli_error(lid_param "parametrisation" lid-bench --param v --out ${_lid_out}/e)
  rbsm_cli_json(lid_tiny
    "len(j['results']) == 3 and {r['method'] for r in j['results']} == {'singular-value', 'normal-bundle', 'flipd'} and all(r['true_dim'] == 1 and r['mae'] >= 0 and r['seconds_per_point'] > 0 for r in j['results']) and j['figure'].endswith('.png')"
    lid-bench --manifolds sphere:d=1,D=3 --points 2 --steps 20 --train-points 64 --hidden 16 --out ${_lid_out}/tiny --json)
endif()

# On a trained image model (`--checkpoint`), per digit class: the one-step U-Net of vae.cmake's fixture
# (seconds), one held-out digit per class, few normal-bundle samples and Hutchinson probes.
if(RBSM_WITH_TORCH)
  set(_vae_model ${CMAKE_BINARY_DIR}/cli-out/vae/score-model)
  rbsm_cli_error(lid_per_class_zero "--per-class 0" lid-bench --checkpoint ${_vae_model} --per-class 0 --out ${_lid_out}/e)
  rbsm_cli_error(lid_missing_checkpoint "does not exist" lid-bench --checkpoint ${_lid_out}/no_such_run --out ${_lid_out}/e)
  rbsm_cli_json(lid_mnist_tiny
    "len(j['per_class']) == 10 and all(c['n'] == 1 and len(c['methods']) == 3 for c in j['per_class']) and all(0 <= m['mean_estimate'] <= 784 for c in j['per_class'] for m in c['methods'][:2]) and all(m['mean_estimate'] == int(m['mean_estimate']) for c in j['per_class'] for m in c['methods'][:2]) and [o['n'] for o in j['overall']] == [10, 10, 10] and j['ambient_dim'] == 784 and j['figure'].endswith('.png')"
    lid-bench --checkpoint ${_vae_model} --data mnist --per-class 1 --normal-samples 64 --normal-centre --probes 4 --chunk 196 --threads 1 --out ${_lid_out}/mnist --json)
  set_tests_properties(cli.json.lid_mnist_tiny PROPERTIES FIXTURES_REQUIRED vae_score_model)
  set_tests_properties(cli.error.lid_per_class_zero PROPERTIES FIXTURES_REQUIRED vae_score_model)
endif()
