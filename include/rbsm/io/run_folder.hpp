#pragma once
/// A run folder (STYLE.md "Runs and figures"): config.json (everything needed to rerun), metrics.csv,
/// log.txt, figures and checkpoints, all written atomically under one directory.
///
/// Reliability rules (docs/reliability.md section 3):
///  - staging: a command that makes a new run folder DIR (DIR absent or empty) writes into a hidden
///    sibling `.NAME.staging.PID` (same parent, so same file system) and renames it to DIR when it
///    succeeds; a failure, a signal or a SIGKILL therefore never leaves a half-written DIR. `dir()` and
///    `path()` name the folder being written (the staging folder until the commit), `final_dir()` the
///    one the user gave; main() maps staging paths in the printed result to final ones
///    (`rewrite_staged_paths`). If DIR appeared meanwhile the commit fails and the staging folder is
///    removed. Staging folders of processes that no longer exist are removed when a later RunFolder
///    opens a folder in the same parent;
///  - in place: long runs that resume (train, fit, train-vae, train-classifier, reproduce,
///    earth-benchmark: `Placement::in_place`), a folder that already holds files, and every folder
///    inside an open in-place folder of this process are written in place. On failure a folder this
///    RunFolder created is removed again unless it holds a complete checkpoint.pt or
///    keep_partial_results() was called; main() writes `status.json` saying why it stopped;
///  - one writer at a time: a RunFolder holds `.NAME.rbsm.lock` next to DIR (and, in place, also
///    `DIR/.rbsm.lock`), each holding the writer's pid; a second process opening the same DIR waits up to
///    about 2 s, then gets an IoError naming the first one's pid (a lock of a process that no longer
///    exists is taken over). The sibling lock is skipped where the parent cannot be written (an
///    existing run in a read-only parent is still written in place);
///  - stale temporary files of an interrupted atomic write (`NAME.tmp.PID`) are removed when the folder
///    is opened.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rbsm::io {

class RunFolder {
 public:
  enum class Placement {
    staged,   ///< short commands: a new DIR is written in a staging folder and renamed into place at the end
    in_place  ///< long runs that keep complete checkpoints and resume: always written in place
  };
  /// Opens the run folder `dir` (see the class comment for where it is written), takes its lock, removes
  /// stale temporaries and writes `config` to config.json. Throws IoError if the directory cannot be made
  /// or written, or is in use by another process.
  RunFolder(std::filesystem::path dir, const nlohmann::json& config, Placement placement = Placement::staged);
  /// On success (no exception in flight): renames a staging folder into place (a failure to do so is
  /// reported by `take_commit_error`); on failure: removes what a failed run must not leave.
  ~RunFolder();
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  /// The folder being written now: the staging folder of a staged run until it is committed.
  const std::filesystem::path& dir() const { return dir_; }
  /// The run folder the caller named (where the results are once the command succeeded).
  const std::filesystem::path& final_dir() const { return final_; }
  bool staged() const { return staged_; }
  /// Long studies (reproduce, benchmarks) whose folder holds finished parts worth keeping: on failure the
  /// folder is kept (with status.json saying why it stopped) instead of removed. In place only.
  void keep_partial_results() { keep_ = true; }
  std::filesystem::path path(const std::string& name) const { return dir_ / name; }
  /// Writes JSON atomically (pretty-printed).
  void write_json(const std::string& name, const nlohmann::json& j) const;
  void write_text(const std::string& name, const std::string& text) const;
  /// Appends a line to log.txt and echoes it to stderr (unless quiet).
  void log(const std::string& line, bool quiet = false) const;

 private:
  friend void abandon_run_folders(const std::string& reason);
  void release_locks();
  void discard();  ///< the failure path: remove what must not stay
  std::filesystem::path dir_, final_;
  std::filesystem::path sibling_lock_;  ///< `.NAME.rbsm.lock` next to the final folder (empty: none taken)
  std::string key_;
  bool staged_ = false;
  bool created_ = false;  ///< in place: the folder did not exist (or was empty) before: removed again on failure
  bool existed_ = false;  ///< in place: the folder existed (perhaps empty) before
  bool locked_ = false;   ///< this object took the locks (nested RunFolders of one folder share them)
  int uncaught_ = 0;      ///< std::uncaught_exceptions() at construction
  bool keep_ = false;     ///< keep_partial_results()
  bool done_ = false;     ///< committed or discarded (abandon_run_folders)
};

/// Writes `status.json` ({"state": state, "reason": reason}) into every in-place run folder this process
/// opened that still exists; state "complete" removes a status entry left by an earlier failed or
/// interrupted run. Never throws (it runs while reporting another error).
void record_run_status(const std::string& state, const std::string& reason);

/// Removes `NAME.tmp.PID` files in `dir` whose process is no longer running (interrupted atomic writes).
/// Returns how many were removed.
int remove_stale_temporaries(const std::filesystem::path& dir);

/// Removes staging folders `.NAME.staging.PID` (and sibling locks `.NAME.rbsm.lock`) in `parent` whose
/// process is no longer running (a SIGKILL of a staged command). Returns how many were removed.
int remove_stale_staging(const std::filesystem::path& parent);

/// The commit error of a staged RunFolder destroyed since the last call (its folder could not be renamed
/// into place, e.g. because another process created it meanwhile), or "" if none. main() turns it into an
/// error exit after the command returned.
std::string take_commit_error();

/// Replaces, in every string of `j`, the prefix of a committed staging folder by its final folder (results
/// that name files a command wrote while it was staged).
void rewrite_staged_paths(nlohmann::json& j);

/// The command line of this process (main() sets it once): every config.json a RunFolder writes gets
/// `command` (the subcommand, unless the config names one) and `argv` (the whole command line), so that a
/// run folder says what made it and how to rerun it.
void set_invocation(const std::string& command, const std::vector<std::string>& argv);

/// A predicate main() sets: while it returns true (a clean stop on SIGINT/SIGTERM was requested), a staged
/// RunFolder is not committed at its end but removed (an interrupted command leaves the previous state).
void set_interrupted_query(bool (*query)());

/// For an immediate stop on a signal (main's signal thread, just before _exit): every open RunFolder of this
/// process is treated as failed with `reason` (staging folders removed, in-place folders keep complete
/// checkpoints and get status.json "interrupted"), and its locks are released. Safe to call from a thread
/// other than the one writing the folder; never throws.
void abandon_run_folders(const std::string& reason);

}  // namespace rbsm::io
