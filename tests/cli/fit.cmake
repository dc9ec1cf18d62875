# `rbsm fit` / `rbsm density` / `sample` on manifold runs: one-line errors naming the file and row, and an
# end-to-end run whose JSON keys and likelihoods are checked against independent facts.
set(_fit ${PROJECT_SOURCE_DIR}/tests/cli/fit)

rbsm_cli_error(fit_bad_value "bad_value.csv:4: column 2 'abc' is not a number"
  fit --data ${_fit}/bad_value.csv --manifold sphere:2 --format latlon --out ${CMAKE_BINARY_DIR}/cli_fit_never --json)
rbsm_cli_error(fit_off_manifold "off_sphere.csv:4: the point is 0.5 from sphere:2"
  fit --data ${_fit}/off_sphere.csv --manifold sphere:2 --out ${CMAKE_BINARY_DIR}/cli_fit_never --json)
rbsm_cli_error(fit_ragged "ragged.csv:2: 4 columns, expected 3"
  fit --data ${_fit}/ragged.csv --manifold sphere:2 --out ${CMAKE_BINARY_DIR}/cli_fit_never --json)
rbsm_cli_error(fit_latlon_off_s2 "format latlon needs --manifold sphere:2"
  fit --data ${_fit}/points.csv --manifold torus:3,1 --format latlon --out ${CMAKE_BINARY_DIR}/cli_fit_never --json)
rbsm_cli_error(fit_unknown_earth "unknown earth dataset 'volcanoes'"
  fit --data earth:volcanoes --out ${CMAKE_BINARY_DIR}/cli_fit_never --json)
rbsm_cli_error(fit_synthetic_without_dist "--data synthetic:N needs --dist"
  fit --data synthetic:100 --out ${CMAKE_BINARY_DIR}/cli_fit_never --json)
rbsm_cli_error(fit_bad_split "--split fractions sum to"
  fit --data earth:volcano --split 0.8,0.3,0.1 --out ${CMAKE_BINARY_DIR}/cli_fit_never --json)
rbsm_cli_error(fit_correction_not_energy "is not an energy on torus:3,1"
  fit --data synthetic:100 --dist uniform --manifold torus:3,1 --correction full --out ${CMAKE_BINARY_DIR}/cli_fit_never --json)
rbsm_cli_error(fit_sigma_order "--sigma-max must be larger than --sigma-min"
  fit --data earth:volcano --sigma-min 0.5 --sigma-max 0.1 --out ${CMAKE_BINARY_DIR}/cli_fit_never --json)
rbsm_cli_error(fit_raw_without_references "--no-leave-one-out needs --target rb"
  fit --data earth:volcano --target raw --no-leave-one-out --out ${CMAKE_BINARY_DIR}/cli_fit_never --json)
rbsm_cli_error(density_run_without_checkpoint "has no checkpoint.pt"
  density --checkpoint ${PROJECT_SOURCE_DIR}/tests/cli/data/bad-magic --points ${_fit}/points.csv --json)

# End to end on the volcano catalogue (a short run): the JSON keys of the issue, n from PROVENANCE.md
# (827 rows, 80/10/10), every NLL finite and below the uniform density's log 4 pi = 2.531 on the training
# split, and the KDE baseline present; then `density` reproduces the run's normaliser on the same points
# (a second, independent cubature) and `sample` writes points on the sphere.
add_test(NAME cli.fit.volcano_end_to_end
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/cli/fit_end_to_end.py $<TARGET_FILE:rbsm_cli> ${CMAKE_BINARY_DIR}/cli_fit_run)
set_tests_properties(cli.fit.volcano_end_to_end PROPERTIES LABELS "cli;slow" TIMEOUT 900)

# `rbsm earth-benchmark`: bad lists fail at once with one line, before any folder is written.
rbsm_cli_error(earth_benchmark_unknown_dataset "--datasets: unknown earth dataset 'mars'"
  earth-benchmark --datasets volcano,mars --out ${CMAKE_BINARY_DIR}/cli_earth_never --json)
rbsm_cli_error(earth_benchmark_negative_seed "--seeds: -1 is negative"
  earth-benchmark --seeds 0,-1 --out ${CMAKE_BINARY_DIR}/cli_earth_never --json)
rbsm_cli_error(earth_benchmark_bad_target "unknown --target 'foo'"
  earth-benchmark --targets raw,foo --out ${CMAKE_BINARY_DIR}/cli_earth_never --json)
