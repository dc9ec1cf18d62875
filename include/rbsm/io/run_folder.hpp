#pragma once
/// A run folder (STYLE.md "Runs and figures"): config.json (everything needed to rerun), metrics.csv,
/// log.txt, figures and checkpoints, all written atomically under one directory.
///
/// Reliability rules (docs/reliability.md):
///  - one writer at a time: the folder holds a lock file `.rbsm.lock` (the writer's pid) while a RunFolder
///    is open; a second process opening the same folder waits up to about 2 s, then gets an IoError naming
///    the first one's pid (a lock left by a process that no longer exists is taken over);
///  - stale temporary files of an interrupted atomic write (`NAME.tmp.PID`, e.g. checkpoint.pt.tmp.123)
///    are removed when the folder is opened;
///  - a failure never leaves a half-written result: when the RunFolder is destroyed by an exception
///    and it created the folder, the folder is removed, unless it already holds a complete checkpoint
///    (long runs keep it, with `status.json` saying why they stopped). A folder that existed before
///    (resume) is kept and gets the status entry;
///  - main() records the outcome with `record_run_status` (failed / interrupted / complete).
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace rbsm::io {

class RunFolder {
 public:
  /// Creates `dir` (or opens it), takes its lock, removes stale temporaries and writes `config` to
  /// config.json. Throws IoError if the directory cannot be made or written, or is in use.
  RunFolder(std::filesystem::path dir, const nlohmann::json& config);
  ~RunFolder();
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  /// Long studies (reproduce, benchmarks) whose folder holds finished parts worth keeping: on failure the
  /// folder is kept (with status.json saying why it stopped) instead of removed.
  void keep_partial_results() { keep_ = true; }
  std::filesystem::path path(const std::string& name) const { return dir_ / name; }
  /// Writes JSON atomically (pretty-printed).
  void write_json(const std::string& name, const nlohmann::json& j) const;
  void write_text(const std::string& name, const std::string& text) const;
  /// Appends a line to log.txt and echoes it to stderr (unless quiet).
  void log(const std::string& line, bool quiet = false) const;

 private:
  std::filesystem::path dir_;
  bool created_ = false;   ///< the folder did not exist (or was empty) before: removed again on failure
  bool existed_ = false;  ///< the folder existed (perhaps empty) before
  bool locked_ = false;    ///< this object took the lock (nested RunFolders of one folder share it)
  int uncaught_ = 0;       ///< std::uncaught_exceptions() at construction
  bool keep_ = false;      ///< keep_partial_results()
};

/// Writes `status.json` ({"state": state, "reason": reason}) into every run folder this process opened
/// that still exists; state "complete" removes a status entry left by an earlier failed or interrupted run.
/// Never throws (it runs while reporting another error).
void record_run_status(const std::string& state, const std::string& reason);

/// Removes `NAME.tmp.PID` files in `dir` whose process is no longer running (interrupted atomic writes).
/// Returns how many were removed.
int remove_stale_temporaries(const std::filesystem::path& dir);

}  // namespace rbsm::io
