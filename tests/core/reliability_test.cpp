// Reliability rules of the library (docs/reliability.md): the run folder's lock, its clean-up on failure
// and of stale temporaries, the option validators, and inputs at the edge of double precision whose
// expected values are closed forms (a projection of (1e308, 1e308, 0), mixture weights near 1e308).
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rbsm/dist/density.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/io/zip_check.hpp"
#include "rbsm/spec.hpp"
#include "rbsm/validate.hpp"

namespace fs = std::filesystem;
using rbsm::geometry::Vec;

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

TEST(Validate, SeedsAreNonNegative64BitIntegers) {
  EXPECT_EQ(rbsm::validate::seed_text("0"), "");
  EXPECT_EQ(rbsm::validate::seed_text("18446744073709551615"), "");
  EXPECT_NE(rbsm::validate::seed_text("-1").find("negative"), std::string::npos);
  EXPECT_NE(rbsm::validate::seed_text("18446744073709551616").find("larger than"), std::string::npos);
  EXPECT_NE(rbsm::validate::seed_text("1.5").find("not a non-negative integer"), std::string::npos);
  EXPECT_NE(rbsm::validate::seed_text("").find("empty"), std::string::npos);
}

TEST(Validate, ThreadCountsHaveAnUpperBound) {
  EXPECT_EQ(rbsm::validate::threads_text("0"), "");
  EXPECT_EQ(rbsm::validate::threads_text(std::to_string(rbsm::validate::kMaxThreads)), "");
  EXPECT_NE(rbsm::validate::threads_text(std::to_string(rbsm::validate::kMaxThreads + 1)).find("more than"),
            std::string::npos);
  EXPECT_NE(rbsm::validate::threads_text("100000000000").find("more than"), std::string::npos);
  EXPECT_NE(rbsm::validate::threads_text("-2").find("negative"), std::string::npos);
}

TEST(Validate, NumbersAndMemory) {
  EXPECT_THROW(rbsm::validate::positive(0.0, "--sigma"), rbsm::InvalidArgument);
  EXPECT_THROW(rbsm::validate::positive(std::nan(""), "--sigma"), rbsm::InvalidArgument);
  EXPECT_NO_THROW(rbsm::validate::positive(1e-300, "--sigma"));
  EXPECT_THROW(rbsm::validate::count(0, "--n", 1, 10), rbsm::InvalidArgument);
  EXPECT_NO_THROW(rbsm::validate::memory(1e6, "--n"));
  try {
    rbsm::validate::memory(1e30, "--chains 1e9 x --steps 1e9");
    FAIL();
  } catch (const rbsm::InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("--chains 1e9 x --steps 1e9 would need", 0), 0u) << e.what();
  }
}

TEST(EdgeOfDouble, ProjectionOfAHugePointOnTheSphere) {
  // pi(x) = x / |x| = (1, 1, 0) / sqrt(2) for x = (1e308, 1e308, 0), whose |x|^2 overflows.
  const auto M = rbsm::geometry::make_manifold("sphere:2");
  const Vec z = M->project(Vec((Eigen::Vector3d() << 1e308, 1e308, 0.0).finished()));
  EXPECT_NEAR(z(0), std::sqrt(0.5), 1e-15);
  EXPECT_NEAR(z(1), std::sqrt(0.5), 1e-15);
  EXPECT_EQ(z(2), 0.0);
}

TEST(EdgeOfDouble, MixtureWeightsNear1e308NormaliseToOneHalf) {
  // Two identical vMF components: the mixture is that vMF, log q(e1) = log(kappa / (4 pi sinh kappa)) + kappa.
  std::shared_ptr<const rbsm::geometry::Manifold> M = rbsm::geometry::make_manifold("sphere:2");
  const auto q = rbsm::dist::make_mixture_json(
      R"({"weights": [1e308, 1e308], "components": [{"dist": "vmf:kappa=2"}, {"dist": "vmf:kappa=2"}]})", M);
  const double expected = std::log(2.0 / (4.0 * M_PI * std::sinh(2.0))) + 2.0;
  EXPECT_NEAR(q->log_density(Vec::Unit(3, 0)), expected, 1e-12);
}

TEST(EdgeOfDouble, ConcentrationsBeyondDoublePrecisionAreRefused) {
  std::shared_ptr<const rbsm::geometry::Manifold> S2 = rbsm::geometry::make_manifold("sphere:2");
  EXPECT_THROW(rbsm::dist::make_density("vmf:kappa=1e308", S2), rbsm::InvalidArgument);
  EXPECT_NO_THROW(rbsm::dist::make_density("vmf:kappa=1e6", S2));
  std::shared_ptr<const rbsm::geometry::Manifold> T = rbsm::geometry::make_manifold("torus:3,1");
  EXPECT_THROW(rbsm::dist::make_density("vonmises:kappa1=1e300,kappa2=1", T), rbsm::InvalidArgument);
}

TEST(EdgeOfDouble, NumbersWithAnEmbeddedNulAreRefused) {
  // found by fuzz_density_spec: strtod stopped at the NUL and "1\0e5" was read as 1
  EXPECT_THROW(rbsm::parse_double(std::string("1\0e5", 4), "--point"), rbsm::InvalidArgument);
  EXPECT_EQ(rbsm::parse_double("1e5", "--point"), 1e5);
}

// ------------------------------------------------------------------ checkpoint integrity (zip CRC-32)
namespace {
/// CRC-32 (IEEE, reflected polynomial 0xEDB88320) bit by bit: independent of zlib, which the library uses.
std::uint32_t crc32_bitwise(const std::string& s) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}
void put(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
/// A zip archive of stored (uncompressed) records, as LibTorch writes them.
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& records) {
  std::string zip, cd;
  for (const auto& [name, data] : records) {
    const std::uint32_t crc = crc32_bitwise(data);
    const std::size_t local = zip.size();
    put(zip, 0x04034b50, 4), put(zip, 20, 2), put(zip, 0, 2), put(zip, 0, 2), put(zip, 0, 4);
    put(zip, crc, 4), put(zip, data.size(), 4), put(zip, data.size(), 4), put(zip, name.size(), 2), put(zip, 0, 2);
    zip += name + data;
    put(cd, 0x02014b50, 4), put(cd, 20, 2), put(cd, 20, 2), put(cd, 0, 2), put(cd, 0, 2), put(cd, 0, 4);
    put(cd, crc, 4), put(cd, data.size(), 4), put(cd, data.size(), 4), put(cd, name.size(), 2), put(cd, 0, 2);
    put(cd, 0, 2), put(cd, 0, 2), put(cd, 0, 2), put(cd, 0, 4), put(cd, local, 4);
    cd += name;
  }
  const std::size_t cd_offset = zip.size();
  zip += cd;
  put(zip, 0x06054b50, 4), put(zip, 0, 2), put(zip, 0, 2), put(zip, records.size(), 2), put(zip, records.size(), 2);
  put(zip, cd.size(), 4), put(zip, cd_offset, 4), put(zip, 0, 2);
  return zip;
}
}  // namespace

TEST(ZipCheck, Crc32OfTheTestImplementationMatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32_bitwise("123456789"), 0xCBF43926u);  // the catalogued check value of CRC-32/ISO-HDLC
}

TEST(ZipCheck, AnIntactArchivePassesAndAFlippedByteInARecordIsACorruptedCheckpoint) {
  const fs::path d = fresh_dir("zip");
  fs::create_directories(d);
  const std::string tensor(4000, '\x3f');  // the bytes of a tensor record
  const std::string zip = make_zip({{"archive/data.pkl", "config"}, {"archive/data/0", tensor}});
  std::ofstream(d / "ok.pt", std::ios::binary) << zip;
  EXPECT_EQ(rbsm::io::verify_zip_checksums(d / "ok.pt"), 2);

  std::string flipped = zip;
  const std::size_t at = zip.find(tensor) + 1234;
  flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
  std::ofstream(d / "flipped.pt", std::ios::binary) << flipped;
  try {
    rbsm::io::verify_zip_checksums(d / "flipped.pt");
    FAIL() << "a flipped byte inside a tensor record was not noticed";
  } catch (const rbsm::IoError& e) {
    const std::string expected =
        "checkpoint " + (d / "flipped.pt").string() + " is corrupted (checksum mismatch): record 'archive/data/0'";
    EXPECT_EQ(std::string(e.what()).rfind(expected, 0), 0u) << e.what();
  }

  std::ofstream(d / "cut.pt", std::ios::binary) << zip.substr(0, zip.size() / 2);  // a torn write
  try {
    rbsm::io::verify_zip_checksums(d / "cut.pt", "MLP checkpoint");
    FAIL();
  } catch (const rbsm::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("MLP checkpoint " + (d / "cut.pt").string() + " is truncated or corrupt"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(d);
}
