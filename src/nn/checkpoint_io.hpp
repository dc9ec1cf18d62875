#pragma once
// Private to src/nn: reading and writing the parts of an rbsm checkpoint (score-model format in
// include/rbsm/nn/checkpoint.hpp). Used by checkpoint.cpp (loading for inference), train.cpp
// (writing and resuming), vae.cpp (opening VAE checkpoints), and every other reader of a LibTorch
// archive (load_verified: MLP and classifier checkpoints, trajectories).
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace rbsm::nn::detail {

/// Loads a LibTorch archive and checks its zip CRC-32s (LibTorch's reader skips them, so a flipped byte in
/// a tensor would load): every reader of an archive goes through here. Load errors are LibTorch's
/// c10::Error (the caller names the file and its kind); a checksum mismatch is io::verify_zip_checksums'
/// IoError naming `what` and the file.
void load_verified(torch::serialize::InputArchive& archive, const std::filesystem::path& file, const std::string& what);

/// An opened checkpoint: the archive and its parsed config. Throws IoError (one line) for a missing,
/// truncated or corrupt file, or one whose format tag is not `format` ("is not an rbsm <kind> checkpoint").
struct OpenedCheckpoint {
  std::filesystem::path path;
  torch::serialize::InputArchive archive;
  nlohmann::json config;
};
OpenedCheckpoint open_checkpoint(const std::filesystem::path& file, const std::string& format, const std::string& kind);

/// The step a score-model checkpoint was written at (config["step"]): a count >= 0, read exactly
/// (io::json_get); otherwise IoError "checkpoint FILE has a malformed config (...)".
std::int64_t checkpoint_step(const OpenedCheckpoint& ckpt);

/// Copies the tensors stored under `key` into `module`'s parameters and buffers; throws IoError naming
/// the first missing tensor or shape mismatch ("another architecture").
void read_module(OpenedCheckpoint& ckpt, const std::string& key, torch::nn::Module& module);

/// Writes a checkpoint archive atomically: the format tag, the config JSON, each module under its key
/// (flat parameter and buffer names) and, if given, the optimiser's state under "optimizer".
void write_archive(const std::filesystem::path& file, const std::string& format, const nlohmann::json& config,
                   const std::vector<std::pair<std::string, const torch::nn::Module*>>& modules,
                   const torch::optim::Optimizer* optimizer);

/// Writes format, config, model, EMA and optimiser state to `file` atomically (score-model format).
void write_checkpoint(const std::filesystem::path& file, const nlohmann::json& config, const torch::nn::Module& model,
                      const torch::nn::Module& ema, const torch::optim::Optimizer& optimizer);

/// Restores the optimiser state (throws IoError if it does not fit).
void read_optimizer(OpenedCheckpoint& ckpt, torch::optim::Optimizer& optimizer);

}  // namespace rbsm::nn::detail
