// The local launcher of data-parallel training (include/rbsm/nn/distributed.hpp, docs/distributed.md):
// `--nproc N` starts N worker processes of this program on this machine and serves their rendezvous.
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "distributed_detail.hpp"

#include "rbsm/error.hpp"
#include "rbsm/nn/distributed.hpp"

extern char** environ;

namespace rbsm::nn {
using namespace distributed_detail;

namespace {
std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int s = WTERMSIG(status);
    const char* name = ::strsignal(s);
    return "was killed by signal " + std::to_string(s) + (name ? std::string(" (") + name + ")" : std::string());
  }
  return "ended with status " + std::to_string(status);
}
}  // namespace

std::vector<std::string> own_command_line_for_workers() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  std::string cur;
  for (char c : all) {
    if (c == '\0') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) args.push_back(cur);
  if (args.empty()) throw IoError("cannot read this process' command line from /proc/self/cmdline");
  std::vector<std::string> out;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  out.push_back(ec ? args[0] : exe.string());
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--nproc" || a == "--threads") {
      ++i;  // and its value
      continue;
    }
    if (a.rfind("--nproc=", 0) == 0 || a.rfind("--threads=", 0) == 0) continue;
    out.push_back(a);
  }
  return out;
}

LaunchResult launch_local_workers(const std::vector<std::string>& argv_in, const LaunchOptions& o,
                                  const std::function<bool()>& interrupted) {
  if (argv_in.empty()) throw InvalidArgument("launch_local_workers: empty command");
  if (o.nproc < 1 || o.nproc > 1024)
    throw InvalidArgument("--nproc " + std::to_string(o.nproc) + ": expected [1, 1024]");
  if (env("WORLD_SIZE"))
    throw InvalidArgument("--nproc " + std::to_string(o.nproc) + " with WORLD_SIZE set in the environment: the " +
                          "workers are launched already (drop --nproc, or unset WORLD_SIZE)");
  // The launcher serves the store: the port is bound before any worker starts, so it is never raced for.
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(o.master_port);
  so.isServer = true;
  so.waitWorkers = false;
  so.timeout = to_ms(o.timeout_seconds);
  c10::intrusive_ptr<c10d::TCPStore> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
  } catch (const std::exception& e) {
    throw DistributedError("--nproc: cannot serve the rendezvous on " + o.master_addr + ":" +
                           std::to_string(o.master_port) + " (" + first_line(e.what()) + ")");
  }
  const int port = store->getPort();

  std::vector<std::string> args = argv_in;
  args.push_back("--threads");
  args.push_back(std::to_string(std::max(1, o.threads_per_worker)));
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  const std::vector<std::string> ours{"RANK",        "WORLD_SIZE",  "LOCAL_RANK",       "LOCAL_WORLD_SIZE",
                                      "MASTER_ADDR", "MASTER_PORT", "RBSM_STORE_HOSTED"};
  std::vector<std::string> base;
  bool glog_set = false;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    const std::string key = kv.substr(0, kv.find('='));
    if (key == "GLOG_minloglevel") glog_set = true;
    if (std::find(ours.begin(), ours.end(), key) == ours.end()) base.push_back(kv);
  }
  if (!glog_set) base.push_back("GLOG_minloglevel=3");  // c10d's own log lines: our errors say it in one line
  std::vector<std::vector<std::string>> envs(o.nproc, base);
  for (int r = 0; r < o.nproc; ++r) {
    envs[r].push_back("RANK=" + std::to_string(r));
    envs[r].push_back("LOCAL_RANK=" + std::to_string(r));
    envs[r].push_back("WORLD_SIZE=" + std::to_string(o.nproc));
    envs[r].push_back("LOCAL_WORLD_SIZE=" + std::to_string(o.nproc));
    envs[r].push_back("MASTER_ADDR=" + o.master_addr);
    envs[r].push_back("MASTER_PORT=" + std::to_string(port));
    envs[r].push_back("RBSM_STORE_HOSTED=1");
  }
  std::vector<std::vector<char*>> cenvs(o.nproc);
  for (int r = 0; r < o.nproc; ++r) {
    for (auto& kv : envs[r]) cenvs[r].push_back(kv.data());
    cenvs[r].push_back(nullptr);
  }

  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw IoError(std::string("--nproc: pipe: ") + std::strerror(errno));
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  std::vector<pid_t> pids(o.nproc, -1);
  std::vector<int> status(o.nproc, 0);
  std::vector<bool> done(o.nproc, false);
  const auto kill_all = [&](int sig) {
    for (int r = 0; r < o.nproc; ++r)
      if (pids[r] > 0 && !done[r]) ::kill(pids[r], sig);
  };
  for (int r = 0; r < o.nproc; ++r) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      kill_all(SIGKILL);
      throw IoError(std::string("--nproc: fork: ") + std::strerror(errno));
    }
    if (pid == 0) {     // the worker: only async-signal-safe calls until execve
      ::setpgid(0, 0);  // the terminal's Ctrl-C reaches the launcher, which forwards it once
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(125);
      ::dup2(r == 0 ? out_pipe[1] : devnull, STDOUT_FILENO);
      ::execve(cargv[0], cargv.data(), cenvs[r].data());
      ::_exit(127);
    }
    pids[r] = pid;
  }
  ::close(out_pipe[1]);
  if (devnull >= 0) ::close(devnull);

  LaunchResult result;
  int alive = o.nproc, first_failed = -1;
  bool forwarded = false, pipe_open = true;
  // A clean end: status 0, or, after a forwarded Ctrl-C, the CLI's "interrupted" status 130.
  const auto clean = [&](int st) {
    return WIFEXITED(st) && (WEXITSTATUS(st) == 0 || (forwarded && WEXITSTATUS(st) == 130));
  };
  bool has_deadline = false;  // once a worker failed: when the rest get killed
  Clock::time_point deadline{};
  std::vector<bool> killed(o.nproc, false);
  while (alive > 0 || pipe_open) {
    if (pipe_open) {
      pollfd p{out_pipe[0], POLLIN, 0};
      const int ready = ::poll(&p, 1, 50);
      if (ready > 0) {
        char buf[4096];
        const ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
        if (n > 0)
          result.root_stdout.append(buf, static_cast<std::size_t>(n));
        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
          pipe_open = false;  // rank 0 closed its stdout (it ended)
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (interrupted && !forwarded && interrupted()) {
      kill_all(SIGINT);
      forwarded = true;
    }
    std::vector<int> failed_now;
    for (int r = 0; r < o.nproc; ++r) {
      if (done[r]) continue;
      int st = 0;
      const pid_t w = ::waitpid(pids[r], &st, WNOHANG);
      if (w != pids[r]) continue;
      done[r] = true;
      status[r] = st;
      --alive;
      if (!clean(st)) failed_now.push_back(r);
    }
    if (first_failed < 0 && !failed_now.empty()) {
      // Seen in the same poll: a worker killed by a signal is the cause, the others noticed it.
      first_failed = failed_now.front();
      for (int r : failed_now)
        if (WIFSIGNALED(status[r])) {
          first_failed = r;
          break;
        }
      deadline = Clock::now() + to_ms(o.timeout_seconds + 5.0);
      has_deadline = true;
    }
    if (has_deadline && Clock::now() > deadline && alive > 0) {
      for (int r = 0; r < o.nproc; ++r)
        if (!done[r]) killed[r] = true;
      kill_all(SIGKILL);
      has_deadline = false;
    }
  }
  ::close(out_pipe[0]);
  if (first_failed >= 0) {
    std::string msg = "worker " + std::to_string(first_failed) + " of " + std::to_string(o.nproc) + " " +
                      describe_status(status[first_failed]);
    for (int r = 0; r < o.nproc; ++r)
      if (r != first_failed && !killed[r] && !clean(status[r]))
        msg += "; worker " + std::to_string(r) + " " + describe_status(status[r]);
    for (int r = 0; r < o.nproc; ++r)
      if (killed[r])
        msg += "; worker " + std::to_string(r) + " did not stop within " + seconds_text(o.timeout_seconds + 5.0) +
               " and was killed";
    throw DistributedError("--nproc " + std::to_string(o.nproc) + ": " + msg);
  }
  return result;
}

}  // namespace rbsm::nn
