// config.json of every run folder names the command that made it and its command line (issue 15): the
// subcommand given to io::set_invocation, unless the command's own config names one, and argv.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "rbsm/io/files.hpp"
#include "rbsm/io/run_folder.hpp"

namespace fs = std::filesystem;

TEST(RunFolderConfig, ConfigNamesTheCommandAndItsCommandLine) {
  const fs::path base = fs::temp_directory_path() / ("rbsm-config-test-" + std::to_string(::getpid()));
  fs::remove_all(base);
  rbsm::io::set_invocation("equilibrium", {"rbsm", "equilibrium", "--drift", "true"});
  { rbsm::io::RunFolder run(base / "a", {{"sigma", 0.29}}); }
  { rbsm::io::RunFolder run(base / "b", {{"command", "reproduce"}, {"profile", "quick"}}); }
  rbsm::io::set_invocation("", {});
  const auto a = nlohmann::json::parse(rbsm::io::read_file(base / "a" / "config.json"));
  EXPECT_EQ(a["command"], "equilibrium");
  EXPECT_EQ(a["argv"], (std::vector<std::string>{"rbsm", "equilibrium", "--drift", "true"}));
  EXPECT_EQ(a["sigma"], 0.29);
  const auto b = nlohmann::json::parse(rbsm::io::read_file(base / "b" / "config.json"));
  EXPECT_EQ(b["command"], "reproduce");  // a command's own name wins
  fs::remove_all(base);
}
