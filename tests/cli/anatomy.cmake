# CLI contract of `rbsm anatomy` (docs/anatomy.md): known answers on analytic fields, one-line errors.
if(RBSM_WITH_TORCH)
  set(_an_out ${CMAKE_BINARY_DIR}/cli-out/anatomy)

  # gaussian-subspace: local dimension d at every point, spectrum 1/(1+sigma^2) x d then 1/sigma^2, u = -v
  rbsm_cli_json(anatomy_gaussian_subspace
    "j['local_dim']['per_image'] == [5, 5, 5] and j['true_local_dim'] == 5 and abs(j['singular_values'][0][0] - 1/1.01) < 1e-9 and abs(j['singular_values'][0][-1] - 100) < 1e-7 and all(abs(c + 1) < 1e-9 for c in j['cos_uv'][1])"
    anatomy --field gaussian-subspace:D=36,d=5,sigma=0.1 --points 3 --out ${_an_out}/gs --json)
  # non-conservative linear field: u_i . v_i > -1 on the first d ranks, = -1 beyond; local dimension d
  rbsm_cli_json(anatomy_linear_skew
    "j['local_dim']['mean'] == 4 and max(j['cos_uv'][0][:4]) > -0.95 and all(abs(c + 1) < 1e-8 for c in j['cos_uv'][0][4:])"
    anatomy --field linear:D=25,d=4,sigma=0.1,skew=0.8 --points 2 --linalg eigen --out ${_an_out}/lin --json)
  rbsm_cli_json(anatomy_noisy_sphere
    "j['local_dim']['per_image'] == [2] * 4"
    anatomy --field noisy-sphere:D=16,d=2,kappa=2,sigma=0.05 --points 4 --out ${_an_out}/sph --json)

  rbsm_cli_error(anatomy_kappa "kappa" anatomy --field gaussian-subspace:D=9,d=2,sigma=0.1 --kappa=-1 --out ${_an_out}/k)
  rbsm_cli_error(anatomy_kappa_below "kappa" anatomy --field gaussian-subspace:D=9,d=2,sigma=0.1 --kappa=-2.5 --out ${_an_out}/k)
  rbsm_cli_error(anatomy_bad_field "unknown field" anatomy --field torus:D=9 --out ${_an_out}/f)
  rbsm_cli_error(anatomy_field_d "d=9" anatomy --field gaussian-subspace:D=9,d=9,sigma=0.1 --out ${_an_out}/f)
  rbsm_cli_error(anatomy_neither "exactly one" anatomy --out ${_an_out}/n)
  rbsm_cli_error(anatomy_not_a_score_model "checkpoint"
    anatomy --checkpoint ${PROJECT_SOURCE_DIR}/tests/cli/anatomy_digit3_28x28.png --images 1 --out ${_an_out}/c)
  rbsm_cli_error(anatomy_missing_checkpoint "does not exist"
    anatomy --checkpoint ${_an_out}/no-such-run --out ${_an_out}/c)
  rbsm_cli_error(anatomy_bad_times "time" anatomy --checkpoint ${_an_out}/no-such-run --times 0.05,1.5 --out ${_an_out}/c)

  # a tiny score model (2 training steps) for the checkpoint path; mults 1,2,2 so that the middle
  # attention runs at 7x7 (with one level it would attend over all 784 pixels: 30x slower Jacobians)
  add_test(NAME cli.anatomy.tiny_model
           COMMAND $<TARGET_FILE:rbsm_cli> train --data mnist --out ${_an_out}/tiny-model --steps 2 --batch 4
                   --channels 8 --mults 1,2,2 --res-blocks 1 --attention 0 --warmup 1 --device cpu --threads 1)
  set_tests_properties(cli.anatomy.tiny_model PROPERTIES LABELS "cli" FIXTURES_SETUP anatomy_tiny_model)
  add_test(NAME cli.anatomy.tiny_model_clean COMMAND ${CMAKE_COMMAND} -E rm -rf ${_an_out}/tiny-model)
  set_tests_properties(cli.anatomy.tiny_model_clean PROPERTIES LABELS "cli" FIXTURES_SETUP anatomy_tiny_model_clean)
  set_tests_properties(cli.anatomy.tiny_model PROPERTIES FIXTURES_REQUIRED anatomy_tiny_model_clean)

  rbsm_cli_error(anatomy_image_wrong_size "12x10"
    anatomy --checkpoint ${_an_out}/tiny-model --image ${PROJECT_SOURCE_DIR}/tests/cli/anatomy_wrong_size_12x10.png
            --times 0.05 --out ${_an_out}/img-bad)
  set_tests_properties(cli.error.anatomy_image_wrong_size PROPERTIES FIXTURES_REQUIRED anatomy_tiny_model)
  rbsm_cli_json(anatomy_checkpoint_image
    "len(j['times']) == 2 and all(0 <= s['local_dim']['mean'] <= 784 and len(s['local_dim']['per_image']) == 1 for s in j['times'])"
    anatomy --checkpoint ${_an_out}/tiny-model --image ${PROJECT_SOURCE_DIR}/tests/cli/anatomy_digit3_28x28.png
            --times 0.05,0.3 --examples 1 --no-spectra-csv --out ${_an_out}/img --json)
  set_tests_properties(cli.json.anatomy_checkpoint_image PROPERTIES FIXTURES_REQUIRED anatomy_tiny_model)
  rbsm_cli_json(anatomy_checkpoint_sampled
    "len(j['times']) == 2 and j['images'] == 2 and [s['requested_t'] for s in j['times']] == [0.3, 0.05]"
    anatomy --checkpoint ${_an_out}/tiny-model --images 2 --steps 20 --times 0.3,0.05 --out ${_an_out}/smp --json)
  set_tests_properties(cli.json.anatomy_checkpoint_sampled PROPERTIES FIXTURES_REQUIRED anatomy_tiny_model)
endif()
