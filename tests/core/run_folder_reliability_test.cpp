// Reliability rules of the run folder (docs/reliability.md): its lock, its clean-up on failure and of
// stale temporaries, the staged commit, and its behaviour when the process is killed.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rbsm/error.hpp"
#include "rbsm/io/run_folder.hpp"

namespace fs = std::filesystem;

namespace {
fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("rbsm-reliability-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(d);
  return d;
}
/// A pid that is not running: a child that has already exited and been reaped.
long dead_pid() {
  const pid_t p = ::fork();
  if (p == 0) ::_exit(0);
  ::waitpid(p, nullptr, 0);
  return p;
}
}  // namespace

namespace {
/// `.NAME.staging.PID` and `.NAME.rbsm.lock` entries beside `d`.
std::vector<std::string> hidden_siblings(const fs::path& d) {
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(d.parent_path()))
    if (e.path().filename().string().rfind("." + d.filename().string() + ".", 0) == 0)
      found.push_back(e.path().filename().string());
  return found;
}
}  // namespace

TEST(RunFolder, FailureRemovesAFolderItCreated) {
  const fs::path d = fresh_dir("fail");
  fs::path staging;
  EXPECT_THROW(
      {
        rbsm::io::RunFolder run(d, {{"command", "test"}});
        run.write_text("partial.txt", "half");
        staging = run.dir();
        ASSERT_TRUE(run.staged());
        ASSERT_TRUE(fs::exists(run.path("config.json")));
        EXPECT_EQ(staging, d.parent_path() / ("." + d.filename().string() + ".staging." + std::to_string(::getpid())));
        EXPECT_FALSE(fs::exists(d));  // nothing at --out while the command runs
        EXPECT_TRUE(fs::exists(d.parent_path() / ("." + d.filename().string() + ".rbsm.lock")));
        throw rbsm::NumericalError("diverged");
      },
      rbsm::NumericalError);
  EXPECT_FALSE(fs::exists(d));
  EXPECT_FALSE(fs::exists(staging));
  EXPECT_TRUE(hidden_siblings(d).empty());
}

TEST(RunFolder, AStagedRunIsRenamedIntoPlaceOnSuccessAndItsResultNamesTheFinalFolder) {
  const fs::path d = fresh_dir("staged");
  nlohmann::json result;
  {
    rbsm::io::RunFolder run(d, {{"command", "test"}});
    run.write_text("a.csv", "1,2\n");
    result = {{"out", run.dir().string()}, {"files", {run.path("a.csv").string()}}, {"n", 3}};
    EXPECT_FALSE(fs::exists(d));
  }
  EXPECT_EQ(rbsm::io::take_commit_error(), "");
  EXPECT_TRUE(fs::exists(d / "a.csv"));
  EXPECT_TRUE(fs::exists(d / "config.json"));
  EXPECT_TRUE(hidden_siblings(d).empty());
  rbsm::io::rewrite_staged_paths(result);
  EXPECT_EQ(result["out"], d.string());
  EXPECT_EQ(result["files"][0], (d / "a.csv").string());
  EXPECT_EQ(result["n"], 3);
  fs::remove_all(d);
}

TEST(RunFolder, AnExistingEmptyFolderIsReplacedByTheStagedRun) {
  const fs::path d = fresh_dir("empty");
  fs::create_directories(d);
  {
    rbsm::io::RunFolder run(d, {{"command", "test"}});
    EXPECT_TRUE(run.staged());
    run.write_text("r.txt", "done");
  }
  EXPECT_TRUE(fs::exists(d / "r.txt"));
  EXPECT_TRUE(hidden_siblings(d).empty());
  fs::remove_all(d);
}

TEST(RunFolder, AFolderCreatedMeanwhileByAnotherProcessFailsTheCommitAndIsLeftAlone) {
  const fs::path d = fresh_dir("raced");
  {
    rbsm::io::RunFolder run(d, {{"command", "test"}});
    run.write_text("mine.txt", "ours");
    fs::create_directories(d);  // another process (not an rbsm one) writes the same folder meanwhile
    std::ofstream(d / "theirs.txt") << "theirs";
  }
  const std::string e = rbsm::io::take_commit_error();
  EXPECT_NE(e.find("cannot put the results into " + d.string() + ": another process created it meanwhile"),
            std::string::npos)
      << e;
  EXPECT_TRUE(fs::exists(d / "theirs.txt"));
  EXPECT_FALSE(fs::exists(d / "mine.txt"));
  EXPECT_TRUE(hidden_siblings(d).empty());
  fs::remove_all(d);
}

TEST(RunFolder, AStagingFolderAndLockOfAKilledProcessAreRemovedByTheNextRun) {
  const fs::path d = fresh_dir("killed");
  const long dead = dead_pid();
  const fs::path stale = d.parent_path() / ("." + d.filename().string() + ".staging." + std::to_string(dead));
  fs::create_directories(stale);
  std::ofstream(stale / "config.json") << "{}";
  std::ofstream(d.parent_path() / ("." + d.filename().string() + ".rbsm.lock")) << dead << "\n";
  {
    rbsm::io::RunFolder run(d, {{"command", "test"}});
    EXPECT_FALSE(fs::exists(stale));
  }
  EXPECT_TRUE(fs::exists(d / "config.json"));
  EXPECT_TRUE(hidden_siblings(d).empty());
  fs::remove_all(d);
}

TEST(RunFolder, AFolderBeingStagedByALiveProcessIsRefused) {
  const fs::path d = fresh_dir("staging-locked");
  const fs::path lock = d.parent_path() / ("." + d.filename().string() + ".rbsm.lock");
  std::ofstream(lock) << ::getppid() << "\n";
  try {
    rbsm::io::RunFolder run(d, {{"command", "test"}}, rbsm::io::RunFolder::Placement::in_place);
    FAIL() << "a folder being written by a live process was opened";
  } catch (const rbsm::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("in use by another rbsm process (pid " + std::to_string(::getppid())),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(d));
  fs::remove(lock);
}

TEST(RunFolder, AnImmediateStopOnASignalLeavesThePreviousState) {
  // abandon_run_folders (main's signal thread) in a child process: it ends the process's RunFolders.
  const fs::path staged = fresh_dir("abandon-staged"), kept = fresh_dir("abandon-kept");
  const pid_t child = ::fork();
  if (child == 0) {
    rbsm::io::RunFolder a(staged, {{"command", "test"}});
    a.write_text("half.txt", "half");
    rbsm::io::RunFolder b(kept, {{"command", "test"}}, rbsm::io::RunFolder::Placement::in_place);
    b.write_text("checkpoint.pt", "complete");
    rbsm::io::abandon_run_folders("stopped at once by SIGINT");
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_FALSE(fs::exists(staged));
  EXPECT_TRUE(hidden_siblings(staged).empty());
  EXPECT_TRUE(fs::exists(kept / "checkpoint.pt"));
  EXPECT_FALSE(fs::exists(kept / ".rbsm.lock"));
  EXPECT_TRUE(hidden_siblings(kept).empty());
  std::ifstream in(kept / "status.json");
  EXPECT_EQ(nlohmann::json::parse(in).at("state"), "interrupted");
  fs::remove_all(kept);
}

TEST(RunFolder, FailureKeepsAFolderWithACompleteCheckpoint) {
  const fs::path d = fresh_dir("ckpt");
  try {
    rbsm::io::RunFolder run(d, {{"command", "test"}}, rbsm::io::RunFolder::Placement::in_place);
    run.write_text("checkpoint.pt", "complete");
    throw rbsm::NumericalError("diverged");
  } catch (const rbsm::NumericalError&) {
    rbsm::io::record_run_status("failed", "diverged");
  }
  ASSERT_TRUE(fs::exists(d / "checkpoint.pt"));
  EXPECT_FALSE(fs::exists(d / ".rbsm.lock"));
  std::ifstream in(d / "status.json");
  const auto status = nlohmann::json::parse(in);
  EXPECT_EQ(status.at("state"), "failed");
  EXPECT_EQ(status.at("reason"), "diverged");
  fs::remove_all(d);
}

TEST(RunFolder, ALongStudyKeepsItsFinishedPartsOnFailure) {
  // reproduce / earth-benchmark: an experiment that fails after others finished keeps their results.
  const fs::path d = fresh_dir("study");
  try {
    rbsm::io::RunFolder run(d, {{"command", "test"}}, rbsm::io::RunFolder::Placement::in_place);
    run.keep_partial_results();
    run.write_text("finished_part.txt", "an hour of training");
    throw rbsm::NumericalError("the second experiment diverged");
  } catch (const rbsm::NumericalError&) {
    rbsm::io::record_run_status("failed", "the second experiment diverged");
  }
  EXPECT_TRUE(fs::exists(d / "finished_part.txt"));
  EXPECT_FALSE(fs::exists(d / ".rbsm.lock"));
  std::ifstream in(d / "status.json");
  EXPECT_EQ(nlohmann::json::parse(in).at("state"), "failed");
  fs::remove_all(d);
}

TEST(RunFolder, SuccessKeepsEverythingAndReleasesTheLock) {
  const fs::path d = fresh_dir("ok");
  {
    rbsm::io::RunFolder run(d, {{"command", "test"}});
    run.write_text("result.txt", "done");
  }
  EXPECT_TRUE(fs::exists(d / "result.txt"));
  EXPECT_TRUE(fs::exists(d / "config.json"));
  EXPECT_FALSE(fs::exists(d / ".rbsm.lock"));
  EXPECT_TRUE(hidden_siblings(d).empty());
  fs::remove_all(d);
}

TEST(RunFolder, AFolderInUseByALiveProcessIsRefused) {
  const fs::path d = fresh_dir("locked");
  fs::create_directories(d);
  // the parent of this process is alive for as long as the test runs
  std::ofstream(d / ".rbsm.lock") << ::getppid() << "\n";
  try {
    rbsm::io::RunFolder run(d, {{"command", "test"}});
    FAIL() << "a folder locked by a live process was opened";
  } catch (const rbsm::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("in use by another rbsm process (pid " + std::to_string(::getppid())),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(d / "config.json"));  // nothing written into someone else's run
  fs::remove_all(d);
}

TEST(RunFolder, AStaleLockAndStaleTemporariesAreCleared) {
  const fs::path d = fresh_dir("stale");
  fs::create_directories(d);
  const long dead = dead_pid();
  std::ofstream(d / ".rbsm.lock") << dead << "\n";
  std::ofstream(d / ("checkpoint.pt.tmp." + std::to_string(dead))) << "torn";
  std::ofstream(d / "checkpoint.pt") << "complete";
  std::ofstream(d / "notes.tmp.txt") << "not a temporary of ours";
  {
    rbsm::io::RunFolder run(d, {{"command", "test"}});
    EXPECT_FALSE(fs::exists(d / ("checkpoint.pt.tmp." + std::to_string(dead))));
    EXPECT_TRUE(fs::exists(d / "checkpoint.pt"));
    EXPECT_TRUE(fs::exists(d / "notes.tmp.txt"));
  }
  fs::remove_all(d);
}

TEST(RunFolder, AReadOnlyParentGivesAnIoErrorNamingTheFolder) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores permissions";
  const fs::path parent = fresh_dir("ro");
  fs::create_directories(parent);
  fs::permissions(parent, fs::perms::owner_read | fs::perms::owner_exec);
  try {
    rbsm::io::RunFolder run(parent / "run", {{"command", "test"}});
    FAIL();
  } catch (const rbsm::IoError& e) {
    EXPECT_NE(std::string(e.what()).find((parent / "run").string()), std::string::npos) << e.what();
  }
  fs::permissions(parent, fs::perms::owner_all);
  fs::remove_all(parent);
}
