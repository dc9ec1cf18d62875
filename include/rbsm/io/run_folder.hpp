#pragma once
/// A run folder (STYLE.md "Runs and figures"): config.json (everything needed to rerun), metrics.csv,
/// log.txt, figures and checkpoints, all written atomically under one directory.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace rbsm::io {

class RunFolder {
 public:
  /// Creates `dir` and writes `config` to config.json. Throws IoError if the directory cannot be made.
  RunFolder(std::filesystem::path dir, const nlohmann::json& config);
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path path(const std::string& name) const { return dir_ / name; }
  /// Writes JSON atomically (pretty-printed).
  void write_json(const std::string& name, const nlohmann::json& j) const;
  void write_text(const std::string& name, const std::string& text) const;
  /// Appends a line to log.txt and echoes it to stderr (unless quiet).
  void log(const std::string& line, bool quiet = false) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace rbsm::io
