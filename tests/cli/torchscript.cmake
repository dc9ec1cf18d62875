# CLI contract of `--torchscript` in `rbsm anatomy` / `rbsm lid-bench` and of `rbsm export-torchscript`
# (docs/anatomy.md §11): scripted Gaussian-subspace models (tests/cli/torchscript_models.py) give the closed-form
# spectrum and local dimension for every parametrisation and schedule; rbsm's tiny U-Net exported to TorchScript
# gives the native path's singular values; bad models and options give one-line errors.
if(RBSM_WITH_TORCH)
  set(_ts ${CMAKE_BINARY_DIR}/cli-out/torchscript)
  set(_tsm ${_ts}/models)
  set(_an_out ${CMAKE_BINARY_DIR}/cli-out/anatomy)  # the tiny model of anatomy.cmake
  add_test(NAME cli.torchscript.models
           COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/cli/torchscript_models.py write ${_tsm})
  set_tests_properties(cli.torchscript.models PROPERTIES LABELS "cli" FIXTURES_SETUP torchscript_models)
  set(_ts_tests "")

  # Data N(0, P) on a 3-dimensional subspace of R^16, at sigma_t = 0.1: singular values 1/(alpha^2 + sigma^2)
  # (x 3; = 1 for vp, 1/1.01 for ve) then 1/sigma^2 = 100 (x 13); local dimension 3 at every point.
  foreach(sched vp ve)
    if(sched STREQUAL "vp")
      set(_s1 "1.0")
    else()
      set(_s1 "1/1.01")
    endif()
    foreach(param score eps x0)
      rbsm_cli_json(torchscript_gauss_${sched}_${param}
        "len(j['times']) == 1 and abs(j['times'][0]['sigma'] - 0.1) < 1e-12 and j['times'][0]['local_dim']['per_image'] == [3, 3, 3] and all(abs(s[0] - ${_s1}) < 1e-9 and abs(s[2] - ${_s1}) < 1e-9 and abs(s[3] - 100) < 1e-7 and abs(s[-1] - 100) < 1e-7 for s in j['times'][0]['singular_values']) and j['parametrisation'] == '${param}' and j['schedule'] == '${sched}' and j['ambient_dim'] == 16"
        anatomy --torchscript ${_tsm}/gauss_${sched}_${param}.pt --input-shape 1,4,4 --parametrisation ${param}
                --schedule ${sched} --sigma 0.1 --points ${_tsm}/points.csv --examples 1 --out ${_ts}/gauss_${sched}_${param} --json)
      list(APPEND _ts_tests cli.json.torchscript_gauss_${sched}_${param})
    endforeach()
  endforeach()
  # points drawn by the model's reverse SDE, snapshots at two times
  rbsm_cli_json(torchscript_sampled
    "[s['requested_t'] for s in j['times']] == [0.3, 0.05] and all(s['local_dim']['per_image'] == [3, 3] for s in j['times']) and j['points'] == 2 and j['points_file'] is None"
    anatomy --torchscript ${_tsm}/gauss_ve_eps.pt --input-shape 16 --parametrisation eps --schedule ve
            --times 0.3,0.05 --images 2 --steps 50 --out ${_ts}/sampled --json)
  # LID at the given points x_0 in span(Q): 3 by both rank rules, FLIPD = 3 - 3 s^2 / c + s^2 |x0|^2 / c^2 ~ 3
  rbsm_cli_json(torchscript_lid_points
    "[m['method'] for m in j['methods']] == ['singular-value', 'normal-bundle', 'flipd'] and j['methods'][0]['estimates'] == [3, 3, 3] and j['methods'][1]['estimates'] == [3, 3, 3] and all(abs(f - 3) < 0.01 for f in j['methods'][2]['estimates']) and j['alpha_t'] == 1"
    lid-bench --torchscript ${_tsm}/gauss_ve_x0.pt --input-shape 16 --parametrisation x0 --schedule ve
              --points ${_tsm}/points.csv --out ${_ts}/lid --json)
  rbsm_cli_json(torchscript_lid_sampled
    "j['points'] == 3 and j['methods'][0]['estimates'] == [3, 3, 3] and abs(j['t'] - 0.02) < 1e-12"
    lid-bench --torchscript ${_tsm}/gauss_vp_score.pt --input-shape 1,4,4 --t 0.02 --sample-points 3 --sample-steps 50
              --out ${_ts}/lid-sampled --json)
  list(APPEND _ts_tests cli.json.torchscript_sampled cli.json.torchscript_lid_points cli.json.torchscript_lid_sampled)

  # one-line errors
  set(_g ${_tsm}/gauss_vp_score.pt)
  rbsm_cli_error(torchscript_missing "no such file" anatomy --torchscript ${_tsm}/none.pt --input-shape 16 --sigma 0.1 --out ${_ts}/e)
  rbsm_cli_error(torchscript_junk "not a TorchScript archive" anatomy --torchscript ${_tsm}/junk.pt --input-shape 16 --sigma 0.1 --out ${_ts}/e)
  rbsm_cli_error(torchscript_one_arg "signature forward(x, t)" anatomy --torchscript ${_tsm}/one_arg.pt --input-shape 16 --sigma 0.1 --out ${_ts}/e)
  rbsm_cli_error(torchscript_wrong_shape "returned shape" anatomy --torchscript ${_tsm}/wrong_shape.pt --input-shape 1,4,4 --sigma 0.1 --out ${_ts}/e)
  rbsm_cli_error(torchscript_nan "non-finite" lid-bench --torchscript ${_tsm}/nan.pt --input-shape 16 --out ${_ts}/e)
  rbsm_cli_error(torchscript_bad_shape "--input-shape '1,x'" anatomy --torchscript ${_g} --input-shape 1,x --sigma 0.1 --out ${_ts}/e)
  rbsm_cli_error(torchscript_no_shape "--input-shape" anatomy --torchscript ${_g} --sigma 0.1 --out ${_ts}/e)
  rbsm_cli_error(torchscript_shape_mismatch "check --input-shape" anatomy --torchscript ${_g} --input-shape 3,3 --sigma 0.1 --out ${_ts}/e)
  rbsm_cli_error(torchscript_param "--parametrisation 'v'" anatomy --torchscript ${_g} --input-shape 16 --parametrisation v --out ${_ts}/e)
  rbsm_cli_error(torchscript_schedule "--schedule 'subvp'" anatomy --torchscript ${_g} --input-shape 16 --schedule subvp --out ${_ts}/e)
  rbsm_cli_error(torchscript_sigma_and_times "not both" anatomy --torchscript ${_g} --input-shape 16 --sigma 0.1 --times 0.1 --out ${_ts}/e)
  rbsm_cli_error(torchscript_sigma_range "outside the vp schedule" anatomy --torchscript ${_g} --input-shape 16 --sigma 2 --out ${_ts}/e)
  rbsm_cli_error(torchscript_points_width "rows of 3 values" anatomy --torchscript ${_g} --input-shape 16 --sigma 0.1 --points ${_tsm}/points_wrong_width.csv --out ${_ts}/e)
  rbsm_cli_error(torchscript_lid_with_checkpoint "not both" lid-bench --torchscript ${_g} --checkpoint ${_ts}/x --input-shape 16 --out ${_ts}/e)
  rbsm_cli_error(torchscript_two_sources "exactly one" anatomy --torchscript ${_g} --field gaussian-subspace:D=9,d=2,sigma=0.1 --input-shape 16 --out ${_ts}/e)
  rbsm_cli_error(anatomy_points_not_a_count "expected a count" anatomy --field gaussian-subspace:D=9,d=2,sigma=0.1 --points pts.csv --out ${_ts}/e)
  foreach(t missing junk one_arg wrong_shape nan bad_shape no_shape shape_mismatch param schedule sigma_and_times
            sigma_range points_width lid_with_checkpoint two_sources)
    list(APPEND _ts_tests cli.error.torchscript_${t})
  endforeach()
  set_tests_properties(${_ts_tests} PROPERTIES FIXTURES_REQUIRED torchscript_models)

  # rbsm's own U-Net through TorchScript: export the tiny model of anatomy.cmake, analyse one sampled image
  # natively and through the archive (same seed: same reverse-SDE draws), compare every singular value.
  rbsm_cli_error(export_torchscript_missing "does not exist" export-torchscript --checkpoint ${_ts}/no-such-run --out ${_ts}/x.pt)
  rbsm_cli_json(export_torchscript_tiny
    "j['parametrisation'] == 'eps' and j['schedule'] == 'vp' and j['input_shape'] == [1, 28, 28] and j['parameters'] > 0"
    export-torchscript --checkpoint ${_an_out}/tiny-model --out ${_ts}/tiny-unet.pt --json)
  set_tests_properties(cli.json.export_torchscript_tiny PROPERTIES FIXTURES_REQUIRED anatomy_tiny_model
                       FIXTURES_SETUP torchscript_unet)
  add_test(NAME cli.torchscript.unet_native
           COMMAND $<TARGET_FILE:rbsm_cli> anatomy --checkpoint ${_an_out}/tiny-model --images 1 --steps 20 --times 0.3
                   --examples 1 --threads 1 --seed 4 --out ${_ts}/unet-native)
  set_tests_properties(cli.torchscript.unet_native PROPERTIES LABELS "cli" FIXTURES_REQUIRED anatomy_tiny_model
                       FIXTURES_SETUP torchscript_unet_native)
  add_test(NAME cli.torchscript.unet_traced
           COMMAND $<TARGET_FILE:rbsm_cli> anatomy --torchscript ${_ts}/tiny-unet.pt --input-shape 1,28,28
                   --parametrisation eps --schedule vp --images 1 --steps 20 --times 0.3 --examples 1 --threads 1
                   --seed 4 --out ${_ts}/unet-traced)
  set_tests_properties(cli.torchscript.unet_traced PROPERTIES LABELS "cli" FIXTURES_REQUIRED torchscript_unet
                       FIXTURES_SETUP torchscript_unet_traced)
  add_test(NAME cli.torchscript.unet_same_spectrum
           COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/cli/torchscript_models.py compare
                   ${_ts}/unet-native ${_ts}/unet-traced)
  set_tests_properties(cli.torchscript.unet_same_spectrum PROPERTIES LABELS "cli"
                       FIXTURES_REQUIRED "torchscript_unet_native;torchscript_unet_traced")
endif()
