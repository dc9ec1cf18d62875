// rbsm: score models on manifold-valued data. See README.md and `rbsm --help`.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "cli.hpp"
#include "rbsm/allocator.hpp"
#include "rbsm/error.hpp"
#include "rbsm/parallel.hpp"

#ifdef RBSM_WITH_TORCH
#include <torch/torch.h>

#include "rbsm/nn/device.hpp"
#endif

namespace rbsm::cli {

std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}
Register::Register(std::string name, std::string help, Setup setup) {
  registry().push_back({std::move(name), std::move(help), std::move(setup)});
}
std::vector<ExperimentEntry>& experiments() {
  static std::vector<ExperimentEntry> e;
  return e;
}
RegisterExperiment::RegisterExperiment(std::string name, int order, Experiment run) {
  experiments().push_back({std::move(name), order, std::move(run)});
}

namespace {
std::atomic<bool> g_interrupted{false};
std::atomic<bool> g_polled{false};  // set once a command asks interrupted(): it stops cleanly on its own
/// The first SIGINT/SIGTERM only sets the flag when the running command polls it (training saves a
/// checkpoint and stops); otherwise, or on a second signal, the default action ends the process at once.
void on_signal(int sig) {
  if (!g_polled.load() || g_interrupted.exchange(true)) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

void print_human(const json& j, const std::string& indent = "") {
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it->is_object()) {
      std::cout << indent << it.key() << ":\n";
      print_human(*it, indent + "  ");
    } else {
      std::cout << indent << it.key() << ": " << it->dump() << "\n";
    }
  }
}
}  // namespace

const std::atomic<bool>& interrupted() {
  g_polled.store(true);
  return g_interrupted;
}

int apply_threads(const Common& common) {
  const int n = resolve_threads(common.threads);
#ifdef RBSM_WITH_TORCH
  nn::set_compute_threads(n);
#endif
  return n;
}

std::string fmt(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

}  // namespace rbsm::cli

int main(int argc, char** argv) {
  using namespace rbsm::cli;
  rbsm::keep_freed_memory();
  CLI::App app{"rbsm: Rao-Blackwellized score matching on manifolds, and the anatomy of trained score models.\n"
               "Every command takes --json (one JSON object on stdout), --seed and --threads."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "rbsm 0.1.0");
  Common common;
  Runner runner;
  std::vector<std::pair<CLI::App*, Setup>> subs;
  for (auto& cmd : registry()) {
    CLI::App* sub = app.add_subcommand(cmd.name, cmd.help);
    sub->add_flag("--json", common.json, "print exactly one JSON object on stdout (logs go to stderr)");
    sub->add_option("--seed", common.seed, "random seed (results depend on it only)")->capture_default_str();
    sub->add_option("--threads", common.threads, "worker threads (0 = all cores)")
        ->check(CLI::NonNegativeNumber)->capture_default_str();
    Runner r = cmd.setup(*sub, common);
    sub->callback([&runner, r] { runner = r; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    for (auto& c : msg) if (c == '\n') c = ' ';
    std::fprintf(stderr, "rbsm: error: %s (see --help)\n", msg.c_str());
    return e.get_exit_code() ? e.get_exit_code() : 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  try {
    apply_threads(common);
    const json result = runner();
    if (common.json)
      std::cout << result.dump() << std::endl;
    else
      print_human(result);
    return 0;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    const auto nl = msg.find('\n');  // one line only (LibTorch messages carry a backtrace)
    if (nl != std::string::npos) msg = msg.substr(0, nl);
    std::fprintf(stderr, "rbsm: error: %s\n", msg.c_str());
    return 1;
  }
}
