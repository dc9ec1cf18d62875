// Lookup of shipped files (share.hpp): $RBSM_SHARE_DIR, the installed share/rbsm, the source tree.
#include "rbsm/io/share.hpp"

#include <cstdlib>

#include "rbsm/error.hpp"

namespace rbsm::io {

std::vector<std::filesystem::path> share_directories() {
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("RBSM_SHARE_DIR"); env && *env) dirs.emplace_back(env);
  // Relative to the running program: <prefix>/bin/rbsm (or a consumer installed beside it) -> <prefix>/share/rbsm,
  // so that an installed tree works wherever it was installed (--prefix at install time).
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back(exe.parent_path().parent_path() / "share" / "rbsm");
#ifdef RBSM_SHARE_INSTALL_DIR
  dirs.emplace_back(RBSM_SHARE_INSTALL_DIR);
#endif
#ifdef RBSM_SOURCE_DIR
  dirs.emplace_back(RBSM_SOURCE_DIR);
#endif
  return dirs;
}

std::filesystem::path share_file(const std::string& relative) {
  const auto dirs = share_directories();
  for (const auto& d : dirs)
    if (std::filesystem::exists(d / relative)) return d / relative;
  std::string where;
  for (const auto& d : dirs) where += (where.empty() ? "" : ", ") + d.string();
  throw IoError("rbsm file " + relative + " not found (looked in " + (where.empty() ? std::string("nowhere") : where) +
                "; set RBSM_SHARE_DIR to the folder holding scripts/ and data/)");
}

}  // namespace rbsm::io
