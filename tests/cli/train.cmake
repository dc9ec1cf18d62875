# CLI contracts of `rbsm train` and `rbsm sample` (issue 6): bad input -> one-line error, non-zero exit,
# nothing on stdout, nothing written. The bad checkpoints are made at configure time.
if(RBSM_WITH_TORCH)
set(RBSM_CLI_TRAIN_DIR ${CMAKE_CURRENT_BINARY_DIR}/cli_train)
file(MAKE_DIRECTORY ${RBSM_CLI_TRAIN_DIR}/truncated_run ${RBSM_CLI_TRAIN_DIR}/empty_run)
# A "checkpoint" cut off inside its zip header: what a crash during a non-atomic write would leave.
file(WRITE ${RBSM_CLI_TRAIN_DIR}/truncated_run/checkpoint.pt "PK truncated archive/data.pkl")

rbsm_cli_error(train_steps_zero "--steps 0"
  train --data mnist --out ${RBSM_CLI_TRAIN_DIR}/never --steps 0)
rbsm_cli_error(train_negative_lr "--lr"
  train --data mnist --out ${RBSM_CLI_TRAIN_DIR}/never --lr -0.001)
rbsm_cli_error(train_bad_ema "--ema"
  train --data mnist --out ${RBSM_CLI_TRAIN_DIR}/never --ema 1.5)
rbsm_cli_error(train_bad_channels "channels"
  train --data mnist --out ${RBSM_CLI_TRAIN_DIR}/never --channels 6 --steps 1)
rbsm_cli_error(train_resume_missing "has no checkpoint.pt"
  train --resume ${RBSM_CLI_TRAIN_DIR}/empty_run --steps 10)
rbsm_cli_error(train_resume_truncated "truncated or corrupt"
  train --resume ${RBSM_CLI_TRAIN_DIR}/truncated_run --steps 10)
rbsm_cli_error(train_bad_device "--device"
  train --data mnist --out ${RBSM_CLI_TRAIN_DIR}/never --device tpu)
rbsm_cli_error(sample_missing_checkpoint "does not exist"
  sample --checkpoint ${RBSM_CLI_TRAIN_DIR}/no_such_run --out ${RBSM_CLI_TRAIN_DIR}/never_samples)
rbsm_cli_error(sample_truncated_checkpoint "truncated or corrupt"
  sample --checkpoint ${RBSM_CLI_TRAIN_DIR}/truncated_run --out ${RBSM_CLI_TRAIN_DIR}/never_samples)
rbsm_cli_error(sample_bad_sampler "--sampler"
  sample --checkpoint ${RBSM_CLI_TRAIN_DIR}/truncated_run --out ${RBSM_CLI_TRAIN_DIR}/never_samples --sampler rk4)
rbsm_cli_error(sample_bad_trajectory_time "--save-trajectory"
  sample --checkpoint ${RBSM_CLI_TRAIN_DIR}/truncated_run --out ${RBSM_CLI_TRAIN_DIR}/never_samples --save-trajectory 2)
# Nothing was written by any of the failing commands above.
add_test(NAME cli.train.nothing_written
         COMMAND ${CMAKE_COMMAND} -DDIR=${RBSM_CLI_TRAIN_DIR} -P ${PROJECT_SOURCE_DIR}/tests/cli/train_nothing_written.cmake.in)
set_tests_properties(cli.train.nothing_written PROPERTIES LABELS "cli" DEPENDS
  "cli.error.train_steps_zero;cli.error.train_negative_lr;cli.error.train_resume_truncated;cli.error.sample_missing_checkpoint")
endif()
