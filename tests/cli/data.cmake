# CLI contracts of the data commands (docs/data.md): bad data and bad options give one line on
# stderr and a non-zero exit, before anything is written. Fixtures in tests/cli/data/.
set(RBSM_CLI_DATA ${PROJECT_SOURCE_DIR}/tests/cli/data)
set(RBSM_CLI_DATA_OUT ${CMAKE_CURRENT_BINARY_DIR}/cli-data-out)
rbsm_cli_error(train_classifier_missing_data "no such directory"
               train-classifier --data ${RBSM_CLI_DATA}/does-not-exist --out ${RBSM_CLI_DATA_OUT})
rbsm_cli_error(train_classifier_truncated_idx "truncated IDX data"
               train-classifier --data ${RBSM_CLI_DATA}/truncated-idx --out ${RBSM_CLI_DATA_OUT})
rbsm_cli_error(train_classifier_corrupt_gzip "corrupt gzip"
               train-classifier --data ${RBSM_CLI_DATA}/corrupt-gzip --out ${RBSM_CLI_DATA_OUT})
rbsm_cli_error(train_classifier_bad_magic "bad IDX magic number 2049"
               train-classifier --data ${RBSM_CLI_DATA}/bad-magic --out ${RBSM_CLI_DATA_OUT})
rbsm_cli_error(train_classifier_epochs_zero "--epochs 0"
               train-classifier --data mnist --epochs 0 --out ${RBSM_CLI_DATA_OUT})
rbsm_cli_error(train_classifier_negative_lr "--lr"
               train-classifier --data mnist --lr -1 --out ${RBSM_CLI_DATA_OUT})
rbsm_cli_error(evaluate_needs_a_source "exactly one of --checkpoint"
               evaluate --classifier ${RBSM_CLI_DATA_OUT}/none)
rbsm_cli_error(evaluate_missing_checkpoint "does not exist"
               evaluate --checkpoint ${RBSM_CLI_DATA}/does-not-exist --classifier ${RBSM_CLI_DATA_OUT}/none)
rbsm_cli_error(evaluate_missing_samples "does not exist"
               evaluate --samples ${RBSM_CLI_DATA}/does-not-exist.pt --classifier ${RBSM_CLI_DATA_OUT}/none)
rbsm_cli_error(evaluate_unreadable_samples "not a readable tensor file"
               evaluate --samples ${RBSM_CLI_DATA}/bad-magic/train-images-idx3-ubyte
               --classifier ${RBSM_CLI_DATA_OUT}/none)
