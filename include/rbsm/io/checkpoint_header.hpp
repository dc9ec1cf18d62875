#pragma once
/// The header of an rbsm checkpoint archive (src/nn/checkpoint.cpp): its format tag and config JSON,
/// checked and parsed without LibTorch so that the parser is fuzzed in the core build
/// (fuzz/fuzz_checkpoint_header.cpp, docs/reliability.md section 5). LibTorch reads the two strings
/// out of the archive; everything after that is here.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace rbsm::io {

/// Checks the format tag read from `file` (std::nullopt: the archive has none, or not a string).
/// Throws IoError "checkpoint FILE is not an rbsm KIND checkpoint (no format tag; expected TAG)" or
/// "(format X, expected TAG)".
void check_checkpoint_format(const std::optional<std::string>& format, const std::string& expected_format,
                             const std::string& kind, const std::string& file);

/// Parses the config JSON text read from `file` (std::nullopt: none). Throws IoError "checkpoint FILE has
/// no config" or "... has a malformed config (...)".
nlohmann::json parse_checkpoint_config(const std::optional<std::string>& config, const std::string& file);

}  // namespace rbsm::io
