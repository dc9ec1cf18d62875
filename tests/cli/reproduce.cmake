# rbsm reproduce (issue 15): the plan with estimates first (stderr), progress per experiment, a summary table on
# stdout at the end (without --json), and the --json result unchanged. Only the fast experiments run here.
rbsm_cli_json(reproduce_curvature_json
  "j['report'].endswith('report.html') and j['experiments']['curvature']['max_gauss_residual'] < 1e-8 and j['experiments']['curvature']['seconds'] > 0 and [r['source_holds'] for r in j['experiments']['curvature']['rows']][:4] == ['true'] * 4"
  reproduce --only curvature --out ${CMAKE_BINARY_DIR}/cli-out/reproduce-json --json)
rbsm_cli_error(reproduce_unknown_experiment "unknown experiment 'nosuch'"
  reproduce --only curvature,nosuch --out ${CMAKE_BINARY_DIR}/cli-out/reproduce-unknown)
add_test(NAME cli.reproduce.plan_progress_and_summary_table
         COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/cli/reproduce_output.py $<TARGET_FILE:rbsm_cli>
                 ${CMAKE_BINARY_DIR}/cli-out/reproduce-human)
set_tests_properties(cli.reproduce.plan_progress_and_summary_table PROPERTIES LABELS "cli")
