#include "rbsm/io/run_folder.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
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
/// Every RunFolder object alive in this process (abandon_run_folders, nesting).
std::set<RunFolder*>& objects() {
  static std::set<RunFolder*> s;
  return s;
}
/// Open folders by key of their final path: how many RunFolder objects share each one.
std::map<std::string, int>& open_count() {
  static std::map<std::string, int> m;
  return m;
}
/// Every in-place folder opened (for record_run_status).
std::set<std::string>& opened() {
  static std::set<std::string> s;
  return s;
}
/// Committed staging folders: staging path -> final path (rewrite_staged_paths).
std::map<std::string, std::string>& committed() {
  static std::map<std::string, std::string> m;
  return m;
}
std::string& commit_error() {
  static std::string e;
  return e;
}
/// The command line main() gave to set_invocation (config.json's command and argv).
struct Invocation {
  std::string command;
  std::vector<std::string> argv;
};
Invocation& invocation() {
  static Invocation i;
  return i;
}
std::atomic<bool (*)()> g_interrupted_query{nullptr};
bool g_abandoned = false;  // under registry_mutex

std::string key(const fs::path& dir) {
  std::error_code ec;
  const fs::path abs = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  return abs.empty() ? dir.lexically_normal().string() : abs.string();
}

bool process_alive(long pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

/// A decimal pid at the end of `name` after `marker` ("x.tmp.123", ".run.staging.123"), or -1.
long pid_suffix(const std::string& name, const std::string& marker) {
  const auto pos = name.rfind(marker);
  if (pos == std::string::npos || pos == 0) return -1;
  const std::string pid = name.substr(pos + marker.size());
  if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stol(pid);
}

/// Takes the lock file `lock` (O_EXCL, holding our pid) of the run folder `named`; throws IoError if a live
/// process holds it for longer than about 2 s (a short wait lets a command that is just failing on the same
/// folder finish and clean up). With `optional`, a lock that cannot be created for lack of permission is
/// skipped (returns false). Returns true if it was taken; `remade` is set when the folder holding the lock
/// had to be made again (the previous holder failed and removed it).
bool take_lock(const fs::path& lock, const fs::path& named, bool optional, bool* remade = nullptr) {
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
      return true;
    }
    const int err = errno;
    if (err == ENOENT) {  // removed meanwhile by a failing holder: make it again
      ensure_directory(lock.parent_path().empty() ? fs::path(".") : lock.parent_path());
      if (remade) *remade = true;
      continue;
    }
    if (optional && (err == EACCES || err == EROFS || err == EPERM)) return false;
    if (err != EEXIST) throw IoError("cannot write to " + named.string() + ": " + std::strerror(err));
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
      throw IoError(named.string() + " is in use by another rbsm process (pid " + std::to_string(holder) +
                    ", lock file " + lock.string() + "); wait for it or choose another --out");
    ::unlink(lock.c_str());  // stale: its process is gone (or it is ours, left by an earlier object)
  }
  throw IoError("cannot take the lock file " + lock.string());
}

void remove_contents(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) fs::remove_all(it->path(), ec);
}

void fsync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

int remove_stale_temporaries(const fs::path& dir) {
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const long p = pid_suffix(it->path().filename().string(), ".tmp.");
    if (p < 0 || p == ::getpid() || process_alive(p)) continue;
    std::error_code rm;
    if (fs::remove_all(it->path(), rm) > 0) ++removed;
  }
  return removed;
}

int remove_stale_staging(const fs::path& parent) {
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(parent.empty() ? fs::path(".") : parent, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] != '.') continue;
    const long p = pid_suffix(name, ".staging.");
    if (p < 0 || p == ::getpid() || process_alive(p)) continue;
    std::error_code rm;
    if (fs::remove_all(it->path(), rm) > 0) ++removed;
  }
  return removed;
}

RunFolder::RunFolder(fs::path dir, const nlohmann::json& config, Placement placement) : final_(std::move(dir)) {
  uncaught_ = std::uncaught_exceptions();
  if (final_.has_filename() == false && final_.has_parent_path()) final_ = final_.parent_path();  // "run/"
  key_ = key(final_);
  const std::string name = final_.filename().string();
  const fs::path parent = final_.parent_path();
  std::error_code ec;
  {
    std::lock_guard<std::mutex> g(registry_mutex());
    if (g_abandoned) throw IoError("stopped by a signal");
    // A folder this process has open already (nested use of one folder), or a folder inside one: written
    // where that one is written, in place, under its lock.
    const RunFolder* outer = nullptr;
    for (const RunFolder* r : objects())
      if (!r->done_ && (r->key_ == key_ || key_.rfind(r->key_ + "/", 0) == 0) &&
          (!outer || r->key_.size() > outer->key_.size()))
        outer = r;
    if (outer) {
      dir_ = outer->key_ == key_ ? outer->dir_ : outer->dir_ / fs::path(key_.substr(outer->key_.size() + 1));
      existed_ = fs::exists(dir_, ec);
      created_ = outer->key_ != key_ && (!existed_ || (fs::is_directory(dir_, ec) && fs::is_empty(dir_, ec)));
      ensure_directory(dir_);
    } else {
      const bool stageable = placement == Placement::staged && name != "." && name != ".." && !name.empty();
      fs::create_directories(parent.empty() ? fs::path(".") : parent, ec);
      if (ec) throw IoError("cannot create directory " + final_.string() + ": " + ec.message());
      if (!name.empty() && name != "." && name != "..") {
        sibling_lock_ = parent / ("." + name + ".rbsm.lock");
        if (!take_lock(sibling_lock_, final_, /*optional=*/!stageable)) sibling_lock_.clear();
      }
      locked_ = true;
      try {
        existed_ = fs::exists(final_, ec);
        const bool empty = existed_ && fs::is_directory(final_, ec) && fs::is_empty(final_, ec);
        staged_ = stageable && (!existed_ || empty);
        remove_stale_staging(parent);
        if (staged_) {
          dir_ = parent / ("." + name + ".staging." + std::to_string(::getpid()));
          fs::remove_all(dir_, ec);
          if (!fs::create_directory(dir_, ec) || ec)
            throw IoError("cannot create directory " + final_.string() + " (staging folder " + dir_.string() +
                          "): " + (ec ? ec.message() : std::string("it exists")));
        } else {
          dir_ = final_;
          created_ = !existed_ || empty;
          ensure_directory(dir_);
          bool remade = false;
          take_lock(dir_ / kLock, final_, /*optional=*/false, &remade);
          if (remade) existed_ = false, created_ = true;
        }
      } catch (...) {
        if (!sibling_lock_.empty()) fs::remove(sibling_lock_, ec);
        if (!staged_ && !existed_) fs::remove(final_, ec);  // only if still empty: another process may write it
        throw;
      }
    }
    objects().insert(this);
    ++open_count()[key_];
    if (!staged_) opened().insert(key(dir_));
  }
  try {
    if (!staged_) remove_stale_temporaries(dir_);
    nlohmann::json c = config;
    if (c.is_object()) {
      std::lock_guard<std::mutex> g(registry_mutex());
      if (!invocation().command.empty() && !c.contains("command")) c["command"] = invocation().command;
      if (!invocation().argv.empty() && !c.contains("argv")) c["argv"] = invocation().argv;
    }
    write_json("config.json", c);
  } catch (...) {
    // the destructor does not run for a throwing constructor: undo here
    std::lock_guard<std::mutex> g(registry_mutex());
    discard();
    release_locks();
    objects().erase(this);
    if (--open_count()[key_] <= 0) open_count().erase(key_);
    throw;
  }
}

void RunFolder::discard() {
  std::error_code ec;
  if (staged_) {
    fs::remove_all(dir_, ec);
  } else if (created_ && !keep_ && !fs::exists(dir_ / "checkpoint.pt", ec)) {
    // nothing complete to keep: leave no trace (a folder that existed empty stays, empty)
    remove_contents(dir_);
    if (!existed_ && fs::is_empty(dir_, ec)) fs::remove(dir_, ec);
    opened().erase(key(dir_));
  }
  done_ = true;
}

void RunFolder::release_locks() {
  if (!locked_) return;
  std::error_code ec;
  if (!staged_) fs::remove(dir_ / kLock, ec);
  if (!sibling_lock_.empty()) fs::remove(sibling_lock_, ec);
  locked_ = false;
}

RunFolder::~RunFolder() {
  std::lock_guard<std::mutex> g(registry_mutex());
  objects().erase(this);
  const bool last = --open_count()[key_] <= 0;
  if (last) open_count().erase(key_);
  if (done_) return;  // abandoned on a signal
  const bool failed = std::uncaught_exceptions() > uncaught_;
  const auto query = g_interrupted_query.load();
  if (failed || (staged_ && query && query())) {
    if (locked_ || !staged_) discard();  // a nested object of another one's folder leaves it to the owner
  } else if (staged_) {
    if (::rename(dir_.c_str(), final_.c_str()) == 0) {
      fsync_directory(final_.parent_path());
      committed()[dir_.string()] = final_.string();
    } else {
      const int err = errno;
      commit_error() = (err == ENOTEMPTY || err == EEXIST)
                           ? "cannot put the results into " + final_.string() +
                                 ": another process created it meanwhile (this run's results are discarded)"
                           : "cannot rename " + dir_.string() + " to " + final_.string() + ": " + std::strerror(err);
      discard();
    }
  }
  release_locks();
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
        atomic_write(fs::path(d) / "status.json", nlohmann::json{{"state", state}, {"reason", reason}}.dump(2) + "\n");
      }
    } catch (...) {
      // reporting the original error matters more
    }
  }
}

std::string take_commit_error() {
  std::lock_guard<std::mutex> g(registry_mutex());
  std::string e;
  e.swap(commit_error());
  return e;
}

void rewrite_staged_paths(nlohmann::json& j) {
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    std::lock_guard<std::mutex> g(registry_mutex());
    for (const auto& [staging, final_dir] : committed())
      if (s.rfind(staging, 0) == 0 && (s.size() == staging.size() || s[staging.size()] == '/')) {
        j = final_dir + s.substr(staging.size());
        return;
      }
  } else if (j.is_structured()) {
    for (auto& v : j) rewrite_staged_paths(v);
  }
}

void set_invocation(const std::string& command, const std::vector<std::string>& argv) {
  std::lock_guard<std::mutex> g(registry_mutex());
  invocation().command = command;
  invocation().argv = argv;
}

void set_interrupted_query(bool (*query)()) { g_interrupted_query.store(query); }

void abandon_run_folders(const std::string& reason) {
  try {
    {
      std::lock_guard<std::mutex> g(registry_mutex());
      g_abandoned = true;
      for (RunFolder* r : objects())
        if (!r->done_ && r->locked_) {
          r->discard();
          r->release_locks();
        }
    }
    record_run_status("interrupted", reason);
  } catch (...) {
  }
}

}  // namespace rbsm::io
