#include "rbsm/io/run_folder.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"

namespace rbsm::io {
namespace fs = std::filesystem;
namespace {

constexpr const char* kLock = ".rbsm.lock";

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
/// Folders locked by this process (lock count) and every folder opened (for record_run_status).
std::map<std::string, int>& locks() {
  static std::map<std::string, int> m;
  return m;
}
std::set<std::string>& opened() {
  static std::set<std::string> s;
  return s;
}

std::string key(const fs::path& dir) {
  std::error_code ec;
  const fs::path abs = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  return abs.empty() ? dir.lexically_normal().string() : abs.string();
}

bool process_alive(long pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

/// Takes the folder's lock file; throws IoError if a live process holds it for longer than about 2 s
/// (a short wait lets a command that is just failing on the same folder finish and clean up).
/// Returns true if the folder had to be made again (the previous holder failed and removed it).
bool take_lock(const fs::path& dir) {
  const fs::path lock = dir / kLock;
  bool remade = false;
  for (int attempt = 0, waits = 0; attempt < 3; ++attempt) {
    const int fd = ::open(lock.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      const std::string pid = std::to_string(::getpid()) + "\n";
      const bool ok = ::write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
      ::close(fd);
      if (!ok) {
        ::unlink(lock.c_str());
        throw IoError("cannot write the lock file " + lock.string() + ": " + std::strerror(errno));
      }
      return remade;
    }
    if (errno == ENOENT) {  // removed meanwhile by a failing holder: make it again
      ensure_directory(dir);
      remade = true;
      continue;
    }
    if (errno != EEXIST) throw IoError("cannot write to " + dir.string() + ": " + std::strerror(errno));
    long holder = 0;
    {
      std::ifstream in(lock);
      in >> holder;
    }
    const bool busy = holder <= 0 || (process_alive(holder) && holder != ::getpid());  // 0: pid not written yet
    if (busy && waits < 40) {
      ++waits;
      --attempt;
      ::usleep(50000);
      continue;
    }
    if (holder > 0 && process_alive(holder) && holder != ::getpid())
      throw IoError(dir.string() + " is in use by another rbsm process (pid " + std::to_string(holder) +
                    ", lock file " + lock.string() + "); wait for it or choose another --out");
    ::unlink(lock.c_str());  // stale: its process is gone (or it is ours, left by an earlier object)
  }
  throw IoError("cannot take the lock file " + lock.string());
}

}  // namespace

int remove_stale_temporaries(const fs::path& dir) {
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const auto pos = name.rfind(".tmp.");
    if (pos == std::string::npos || pos == 0) continue;
    const std::string pid = name.substr(pos + 5);
    if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const long p = std::stol(pid);
    if (p == ::getpid() || process_alive(p)) continue;
    std::error_code rm;
    if (fs::remove_all(it->path(), rm) > 0) ++removed;
  }
  return removed;
}

RunFolder::RunFolder(fs::path dir, const nlohmann::json& config) : dir_(std::move(dir)) {
  uncaught_ = std::uncaught_exceptions();
  std::error_code ec;
  const bool existed = fs::exists(dir_, ec);
  existed_ = existed;
  created_ = !existed || (fs::is_directory(dir_, ec) && fs::is_empty(dir_, ec));
  ensure_directory(dir_);
  const std::string k = key(dir_);
  {
    std::lock_guard<std::mutex> g(registry_mutex());
    if (locks()[k]++ == 0) {
      try {
        if (take_lock(dir_)) existed_ = false, created_ = true;
      } catch (...) {
        locks().erase(k);
        if (!existed_) fs::remove(dir_, ec);  // only if still empty: another process may be writing it
        throw;
      }
      locked_ = true;
    }
    opened().insert(k);
  }
  try {
    remove_stale_temporaries(dir_);
    write_json("config.json", config);
  } catch (...) {
    // the destructor does not run for a throwing constructor: undo here
    std::lock_guard<std::mutex> g(registry_mutex());
    if (--locks()[k] == 0) locks().erase(k);
    if (created_) {
      if (!existed_) fs::remove_all(dir_, ec);
      else
        for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) fs::remove_all(it->path(), ec);
    } else if (locked_) {
      fs::remove(dir_ / kLock, ec);
    }
    opened().erase(k);
    throw;
  }
}

RunFolder::~RunFolder() {
  std::error_code ec;
  const std::string k = key(dir_);
  const bool failed = std::uncaught_exceptions() > uncaught_;
  std::lock_guard<std::mutex> g(registry_mutex());
  const bool last = --locks()[k] <= 0;
  if (last) locks().erase(k);
  if (failed && created_ && !keep_ && !fs::exists(dir_ / "checkpoint.pt", ec)) {
    // nothing complete to keep: leave no trace (a folder that existed empty stays, empty)
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) fs::remove_all(it->path(), ec);
    if (!existed_ && fs::is_empty(dir_, ec)) fs::remove(dir_, ec);
    opened().erase(k);
    return;
  }
  if (last && locked_) fs::remove(dir_ / kLock, ec);
}

void RunFolder::write_json(const std::string& name, const nlohmann::json& j) const {
  atomic_write(path(name), j.dump(2) + "\n");
}

void RunFolder::write_text(const std::string& name, const std::string& text) const { atomic_write(path(name), text); }

void RunFolder::log(const std::string& line, bool quiet) const {
  std::ofstream out(path("log.txt"), std::ios::app);
  if (!out) throw IoError("cannot append to " + path("log.txt").string());
  out << line << '\n';
  out.flush();
  if (!out) throw IoError("cannot append to " + path("log.txt").string() + ": " + std::strerror(errno));
  if (!quiet) std::fprintf(stderr, "%s\n", line.c_str());
}

void record_run_status(const std::string& state, const std::string& reason) {
  std::set<std::string> dirs;
  {
    std::lock_guard<std::mutex> g(registry_mutex());
    dirs = opened();
  }
  for (const auto& d : dirs) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    try {
      if (state == "complete") {
        fs::remove(fs::path(d) / "status.json", ec);
      } else {
        atomic_write(fs::path(d) / "status.json",
                     nlohmann::json{{"state", state}, {"reason", reason}}.dump(2) + "\n");
      }
    } catch (...) {
      // reporting the original error matters more
    }
  }
}

}  // namespace rbsm::io
