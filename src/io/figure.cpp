#include "rbsm/io/figure.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/share.hpp"

namespace rbsm::io {
namespace {
std::filesystem::path plot_script() {
  if (const char* env = std::getenv("RBSM_PLOT_SCRIPT")) return env;
  return share_file("scripts/plot_figure.py");
}

std::atomic<pid_t> g_renderer{0};

/// Runs argv[0] with its stdout on stderr; returns its exit status (-1 if it could not start or was killed).
int run_renderer(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  posix_spawnattr_t attr;  // SIGINT/SIGTERM blocked: a Ctrl-C to the process group is rbsm's to handle
  posix_spawnattr_init(&attr);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  posix_spawnattr_setsigmask(&attr, &stop);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), ::environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return -1;
  g_renderer.store(pid);
  int status = 0;
  pid_t w;
  while ((w = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  g_renderer.store(0);
  if (w != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}
}  // namespace

void kill_running_renderer() {
  const pid_t pid = g_renderer.load();
  if (pid > 0) ::kill(pid, SIGKILL);
}

Panel& Figure::panel(std::string t, std::string xlabel, std::string ylabel) {
  Panel p;
  p.title = std::move(t);
  p.xlabel = std::move(xlabel);
  p.ylabel = std::move(ylabel);
  panels.push_back(std::move(p));
  return panels.back();
}

nlohmann::json Figure::to_json() const {
  nlohmann::json j;
  j["title"] = title;
  j["cols"] = cols;
  j["panels"] = nlohmann::json::array();
  for (const auto& p : panels) {
    nlohmann::json jp{{"title", p.title}, {"xlabel", p.xlabel}, {"ylabel", p.ylabel},
                      {"logx", p.logx},   {"logy", p.logy},     {"series", nlohmann::json::array()}};
    for (const auto& s : p.series)
      jp["series"].push_back({{"label", s.label},
                              {"x", s.x},
                              {"y", s.y},
                              {"yerr", s.yerr},
                              {"style", s.style},
                              {"color", s.color},
                              {"z", s.z}});
    j["panels"].push_back(jp);
  }
  return j;
}

void Figure::save(const std::filesystem::path& png) const {
  auto spec = png;
  spec.replace_extension(".json");
  atomic_write(spec, to_json().dump(1));
  atomic_write_with(png, [&](const std::filesystem::path& tmp) {
    if (run_renderer({"/usr/bin/python3", plot_script().string(), spec.string(), tmp.string()}) != 0)
      throw IoError("rendering " + png.string() +
                    " failed (needs /usr/bin/python3 with matplotlib: run scripts/setup.sh)");
  });
}

}  // namespace rbsm::io
