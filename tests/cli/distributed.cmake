# Data-parallel `rbsm train` / `rbsm fit` (docs/distributed.md): --nproc end to end (resume across N,
# Ctrl-C, a killed worker), and one-line errors for bad options and a bad environment contract.
if(RBSM_WITH_TORCH)
set(_dist ${CMAKE_CURRENT_BINARY_DIR}/cli_dist)
set(_tiny --data mnist --channels 8 --mults 1,2 --res-blocks 1 --attention 0 --batch 8 --steps 4)

rbsm_cli_error(train_nproc_zero "--nproc 0" train --out ${_dist}/never ${_tiny} --nproc 0)
rbsm_cli_error(train_bad_backend "--backend 'mpi'" train --out ${_dist}/never ${_tiny} --backend mpi)
rbsm_cli_error(train_nccl_on_cpu_build "--backend nccl" train --out ${_dist}/never ${_tiny} --nproc 2 --backend nccl)
rbsm_cli_error(train_batch_below_workers "--batch 1 is smaller than the 2 workers"
  train --out ${_dist}/never --data mnist --channels 8 --mults 1,2 --steps 4 --nproc 2 --batch 1)
rbsm_cli_error(fit_bad_timeout "--timeout" fit --data synthetic:100 --dist uniform --out ${_dist}/never --timeout 0)

# The environment contract, checked before anything is read or written (ENV=VALUE... then the expect.py command).
function(rbsm_cli_env_error name)
  add_test(NAME cli.error.${name}
           COMMAND ${CMAKE_COMMAND} -E env ${ARGN})
  set_tests_properties(cli.error.${name} PROPERTIES LABELS "cli")
endfunction()
set(_expect /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/cli/expect.py error)
rbsm_cli_env_error(train_env_rank_outside WORLD_SIZE=2 RANK=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500
  ${_expect} "RANK='2': expected an integer in [0, 1]" -- $<TARGET_FILE:rbsm_cli> train --out ${_dist}/never ${_tiny})
rbsm_cli_env_error(train_env_no_master WORLD_SIZE=2 RANK=1 MASTER_PORT=29500
  ${_expect} "MASTER_ADDR is not" -- $<TARGET_FILE:rbsm_cli> train --out ${_dist}/never ${_tiny})
rbsm_cli_env_error(fit_env_master_does_not_resolve WORLD_SIZE=2 RANK=1 MASTER_ADDR=no-such-host.invalid MASTER_PORT=29500
  ${_expect} "MASTER_ADDR 'no-such-host.invalid' does not resolve" --
  $<TARGET_FILE:rbsm_cli> fit --data synthetic:100 --dist uniform --out ${_dist}/never)
rbsm_cli_env_error(train_env_and_nproc WORLD_SIZE=2 RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500
  ${_expect} "with WORLD_SIZE set in the environment" -- $<TARGET_FILE:rbsm_cli> train --out ${_dist}/never ${_tiny} --nproc 2)

add_test(NAME cli.train.distributed_end_to_end
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/cli/distributed_end_to_end.py $<TARGET_FILE:rbsm_cli> ${_dist}/e2e)
set_tests_properties(cli.train.distributed_end_to_end PROPERTIES LABELS "cli" TIMEOUT 600)
endif()
