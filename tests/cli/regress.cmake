# CLI contract of `rbsm regress` (docs/langevin.md §4; the study: rbsm/nn/regression_study.hpp): one-line errors
# for bad input, and a tiny end-to-end run (two sizes, few steps, no Langevin) for the JSON shape.
if(RBSM_WITH_TORCH)
  set(_regress_out ${CMAKE_BINARY_DIR}/cli-out/regress)
  rbsm_cli_error(regress_samples_small "--samples" regress --samples 4,16 --out ${_regress_out}/e)
  rbsm_cli_error(regress_rb_refs "--rb-refs" regress --rb-refs some --out ${_regress_out}/e)
  rbsm_cli_error(regress_sigma "--sigma" regress --sigma -1 --out ${_regress_out}/e)
  rbsm_cli_error(regress_seeds "--seeds" regress --seeds 0 --out ${_regress_out}/e)
  rbsm_cli_json(regress_tiny
    "j['samples'] == [8, 16] and len(j['raw_mean']) == 2 and len(j['rb_se']) == 2 and all(e > 0 for e in j['raw_mean'] + j['rb_mean']) and 'sample_factor' in j and 'langevin' not in j"
    regress --samples 16,8 --seeds 2 --test 20 --steps 5 --batch 8 --langevin-chains 0 --threads 1 --out ${_regress_out}/tiny --json)
endif()
