#include "rbsm/io/files.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "rbsm/error.hpp"

namespace rbsm::io {
namespace {
fs::path temp_path(const fs::path& path) { return fs::path(path.string() + ".tmp." + std::to_string(::getpid())); }
}  // namespace

void atomic_write(const fs::path& path, std::string_view bytes) {
  atomic_write_with(path, [&](const fs::path& tmp) {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw IoError("cannot write " + path.string() + ": " + std::strerror(errno));
    const std::size_t n = std::fwrite(bytes.data(), 1, bytes.size(), f);
    const int err_write = (n != bytes.size()) ? errno : 0;
    const bool flushed = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
    const int err_flush = flushed ? 0 : errno;
    std::fclose(f);
    if (err_write || !flushed)
      throw IoError("cannot write " + path.string() + ": " + std::strerror(err_write ? err_write : err_flush));
  });
}

void atomic_write_with(const fs::path& path, const std::function<void(const fs::path& tmp)>& writer) {
  if (path.has_parent_path()) ensure_directory(path.parent_path());
  const fs::path tmp = temp_path(path);
  try {
    writer(tmp);
    if (!fs::exists(tmp)) throw IoError("cannot write " + path.string() + ": nothing was written");
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) throw IoError("cannot write " + path.string() + ": " + ec.message());
  } catch (...) {
    std::error_code ignore;
    fs::remove(tmp, ignore);
    throw;
  }
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path.string() + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError("cannot read " + path.string());
  return ss.str();
}

void ensure_directory(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) throw IoError(dir.string() + " exists and is not a directory");
    return;
  }
  fs::create_directories(dir, ec);
  if (ec) throw IoError("cannot create directory " + dir.string() + ": " + ec.message());
}

}  // namespace rbsm::io
