# Helpers for CLI contract tests. Each tests/cli/*.cmake file adds its own cases.
function(rbsm_cli_error name substring)
  add_test(NAME cli.error.${name}
           COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/cli/expect.py error "${substring}" -- $<TARGET_FILE:rbsm_cli> ${ARGN})
  set_tests_properties(cli.error.${name} PROPERTIES LABELS "cli")
endfunction()
function(rbsm_cli_json name expr)
  add_test(NAME cli.json.${name}
           COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/cli/expect.py json "${expr}" -- $<TARGET_FILE:rbsm_cli> ${ARGN})
  set_tests_properties(cli.json.${name} PROPERTIES LABELS "cli")
endfunction()
