# CLI contracts of `rbsm train-vae` and `rbsm vae-dim` (docs/anatomy.md "VAE baseline"): bad input ->
# one-line error, non-zero exit, nothing on stdout, nothing written; a tiny run gives the JSON keys.
if(RBSM_WITH_TORCH)
  set(_vae ${CMAKE_BINARY_DIR}/cli-out/vae)
  file(MAKE_DIRECTORY ${_vae}/truncated_run ${_vae}/empty_run)
  file(WRITE ${_vae}/truncated_run/checkpoint.pt "PK truncated archive/data.pkl")

  rbsm_cli_error(train_vae_steps_zero "--steps 0" train-vae --data mnist --out ${_vae}/never --steps 0)
  rbsm_cli_error(train_vae_threshold_zero "--threshold" train-vae --data mnist --out ${_vae}/never --threshold 0)
  rbsm_cli_error(train_vae_batch_one "--batch" train-vae --data mnist --out ${_vae}/never --batch 1)
  rbsm_cli_error(train_vae_latent_zero "--latent" train-vae --data mnist --out ${_vae}/never --latent 0)
  rbsm_cli_error(vae_dim_missing "does not exist" vae-dim --checkpoint ${_vae}/no_such_run --json)
  rbsm_cli_error(vae_dim_empty_run "has no checkpoint.pt" vae-dim --checkpoint ${_vae}/empty_run --json)
  rbsm_cli_error(vae_dim_truncated "truncated or corrupt" vae-dim --checkpoint ${_vae}/truncated_run --json)
  rbsm_cli_error(vae_dim_threshold_zero "--threshold" vae-dim --checkpoint ${_vae}/truncated_run --threshold 0)
  rbsm_cli_error(vae_dim_threshold_negative "--threshold" vae-dim --checkpoint ${_vae}/truncated_run --threshold=-0.5)
  add_test(NAME cli.vae.nothing_written
           COMMAND ${CMAKE_COMMAND} -DDIR=${_vae} -P ${PROJECT_SOURCE_DIR}/tests/cli/train_nothing_written.cmake.in)
  set_tests_properties(cli.vae.nothing_written PROPERTIES LABELS "cli" DEPENDS
    "cli.error.train_vae_steps_zero;cli.error.train_vae_threshold_zero;cli.error.train_vae_batch_one;cli.error.vae_dim_truncated")

  # A score-model checkpoint is not a VAE (a one-step U-Net, seconds).
  add_test(NAME cli.vae.score_model
           COMMAND $<TARGET_FILE:rbsm_cli> train --data mnist --out ${_vae}/score-model --steps 1 --batch 2
                   --channels 8 --mults 1,2 --res-blocks 1 --attention 0 --warmup 1 --device cpu --threads 1)
  add_test(NAME cli.vae.score_model_clean COMMAND ${CMAKE_COMMAND} -E rm -rf ${_vae}/score-model)
  set_tests_properties(cli.vae.score_model_clean PROPERTIES LABELS "cli" FIXTURES_SETUP vae_score_model_clean)
  set_tests_properties(cli.vae.score_model PROPERTIES LABELS "cli" FIXTURES_SETUP vae_score_model
                       FIXTURES_REQUIRED vae_score_model_clean)
  rbsm_cli_error(vae_dim_score_model "not an rbsm VAE checkpoint" vae-dim --checkpoint ${_vae}/score-model --json)
  set_tests_properties(cli.error.vae_dim_score_model PROPERTIES FIXTURES_REQUIRED vae_score_model)

  # A tiny VAE (3 steps) and the JSON contract of both commands.
  add_test(NAME cli.vae.tiny_clean COMMAND ${CMAKE_COMMAND} -E rm -rf ${_vae}/tiny)
  set_tests_properties(cli.vae.tiny_clean PROPERTIES LABELS "cli" FIXTURES_SETUP vae_tiny_clean)
  rbsm_cli_json(train_vae_tiny
    "j['step'] == 3 and j['images'] == 20 and sum(c['n'] for c in j['local_dim']['per_class'].values()) == 20 and 0 <= j['local_dim']['mean'] <= 10"
    train-vae --data mnist --out ${_vae}/tiny --steps 3 --batch 8 --latent 10 --channels 4 --images 20 --threads 1 --json)
  set_tests_properties(cli.json.train_vae_tiny PROPERTIES FIXTURES_SETUP vae_tiny FIXTURES_REQUIRED vae_tiny_clean)
  rbsm_cli_json(vae_dim_tiny
    "sorted(j['local_dim']['per_class']) == [str(c) for c in range(10)] and j['images'] == 30 and j['latent_dim'] == 10 and all(0 <= c['mean'] <= 10 and c['std'] >= 0 for c in j['local_dim']['per_class'].values()) and j['local_dim']['n'] == 30 and sum(c['n'] for c in j['local_dim']['per_class'].values()) == 30"
    vae-dim --checkpoint ${_vae}/tiny --images 30 --threshold 0.5 --json)
  set_tests_properties(cli.json.vae_dim_tiny PROPERTIES FIXTURES_REQUIRED vae_tiny)
  # every image's latents are all below a huge threshold: local dimension = L exactly
  rbsm_cli_json(vae_dim_tiny_all_below
    "j['local_dim']['mean'] == 10 and j['local_dim']['std'] == 0"
    vae-dim --checkpoint ${_vae}/tiny --images 10 --threshold 1e300 --json)
  set_tests_properties(cli.json.vae_dim_tiny_all_below PROPERTIES FIXTURES_REQUIRED vae_tiny)
  rbsm_cli_error(train_vae_existing "already holds a checkpoint"
    train-vae --data mnist --out ${_vae}/tiny --steps 3 --batch 8 --latent 10 --channels 4)
  set_tests_properties(cli.error.train_vae_existing PROPERTIES FIXTURES_REQUIRED vae_tiny)
endif()
