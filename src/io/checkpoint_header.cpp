// Checkpoint headers without LibTorch (include/rbsm/io/checkpoint_header.hpp).
#include "rbsm/io/checkpoint_header.hpp"

#include "rbsm/error.hpp"

namespace rbsm::io {

void check_checkpoint_format(const std::optional<std::string>& format, const std::string& expected_format,
                             const std::string& kind, const std::string& file) {
  const std::string not_ours = "checkpoint " + file + " is not an rbsm " + kind + " checkpoint (";
  if (!format) throw IoError(not_ours + "no format tag; expected " + expected_format + ")");
  if (*format != expected_format) throw IoError(not_ours + "format " + *format + ", expected " + expected_format + ")");
}

nlohmann::json parse_checkpoint_config(const std::optional<std::string>& config, const std::string& file) {
  if (!config) throw IoError("checkpoint " + file + " has no config");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*config);
  } catch (const nlohmann::json::exception& e) {
    throw IoError("checkpoint " + file + " has a malformed config (" + e.what() + ")");
  }
  return j;
}

}  // namespace rbsm::io
