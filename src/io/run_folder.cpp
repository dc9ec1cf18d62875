#include "rbsm/io/run_folder.hpp"

#include <cstdio>
#include <fstream>

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"

namespace rbsm::io {

RunFolder::RunFolder(std::filesystem::path dir, const nlohmann::json& config) : dir_(std::move(dir)) {
  ensure_directory(dir_);
  write_json("config.json", config);
}

void RunFolder::write_json(const std::string& name, const nlohmann::json& j) const {
  atomic_write(path(name), j.dump(2) + "\n");
}

void RunFolder::write_text(const std::string& name, const std::string& text) const { atomic_write(path(name), text); }

void RunFolder::log(const std::string& line, bool quiet) const {
  std::ofstream out(path("log.txt"), std::ios::app);
  if (!out) throw IoError("cannot append to " + path("log.txt").string());
  out << line << '\n';
  if (!quiet) std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace rbsm::io
