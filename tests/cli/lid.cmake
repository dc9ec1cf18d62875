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
