// rbsm: score models on manifold-valued data. See README.md and `rbsm --help`.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <new>
#include <optional>
#include <thread>

#include "cli.hpp"

#include "rbsm/allocator.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/figure.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/parallel.hpp"
#include "rbsm/validate.hpp"

#ifdef RBSM_WITH_TORCH
#include <torch/torch.h>

#include "rbsm/nn/device.hpp"
#include "rbsm/nn/mlp.hpp"
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
std::optional<std::string> g_human_output;  // set_human_output: printed instead of the key: value listing
std::atomic<bool> g_polled{false};          // set once a command asks interrupted(): it stops cleanly on its own

/// SIGINT and SIGTERM: the handler (whichever thread the kernel picks; LibTorch starts threads before
/// main) only writes the signal number to a pipe; this thread reads it and decides. The figure renderer
/// starts with both blocked (a Ctrl-C sent to the whole process group reaches rbsm only). The first signal
/// only sets the flag when the running command polls it (training saves a checkpoint and stops, exit 130).
/// Otherwise, or on a further signal more than a second later, the command stops at once: staging folders
/// are removed, in-place run folders keep their complete checkpoints and get status.json, exit 130 with
/// one line. Repeats within a second are the same interrupt (`timeout -s INT` signals rbsm and then its
/// process group; a terminal's Ctrl-C reaches every process of the group).
int g_signal_pipe[2] = {-1, -1};
void on_signal(int sig) {
  const int saved = errno;
  const unsigned char s = static_cast<unsigned char>(sig);
  [[maybe_unused]] const auto n = ::write(g_signal_pipe[1], &s, 1);
  errno = saved;
}
void signal_thread() {
  std::chrono::steady_clock::time_point first{};
  for (;;) {
    unsigned char s = 0;
    const ssize_t got = ::read(g_signal_pipe[0], &s, 1);
    if (got < 0 && errno == EINTR) continue;
    if (got != 1) return;
    const int sig = s;
    const auto now = std::chrono::steady_clock::now();
    if (g_polled.load() && !g_interrupted.load()) {
      first = now;
      g_interrupted.store(true);
      continue;
    }
    if (g_interrupted.load() && now - first < std::chrono::seconds(1)) continue;
    rbsm::io::kill_running_renderer();
    rbsm::io::abandon_run_folders(std::string("stopped at once by ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
    const std::string line = std::string("rbsm: interrupted: stopped at once by ") +
                             (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                             "; nothing half-written was left (a new run folder is not created, a resumable run "
                             "keeps its last complete checkpoint)\n";
    std::fflush(stderr);
    if (::isatty(STDERR_FILENO)) {  // clear a progress bar
      [[maybe_unused]] const auto c = ::write(STDERR_FILENO, "\r\033[K", 4);
    }
    [[maybe_unused]] const auto n = ::write(STDERR_FILENO, line.data(), line.size());
    ::_exit(130);
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

/// The finite-output guarantee: a result never carries NaN or an infinity (JSON would print null).
void check_finite(const json& j, const std::string& where) {
  if (j.is_number_float() && !std::isfinite(j.get<double>()))
    throw NumericalError("the result " + (where.empty() ? std::string("value") : "'" + where + "'") + " is " +
                         (std::isnan(j.get<double>()) ? "NaN" : "infinite") +
                         ": the input is outside the range where it can be computed in double precision");
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it) check_finite(*it, where.empty() ? it.key() : where + "." + it.key());
  else if (j.is_array())
    for (std::size_t i = 0; i < j.size(); ++i) check_finite(j[i], where + "[" + std::to_string(i) + "]");
}

/// Raw library texts (nlohmann::json, LibTorch, the allocator) -> one line a user can act on.
std::string explain(const std::exception& e) {
  std::string msg = e.what();
  const auto nl = msg.find('\n');  // one line only (LibTorch messages carry a backtrace)
  if (nl != std::string::npos) msg = msg.substr(0, nl);
  if (dynamic_cast<const std::bad_alloc*>(&e) || msg.find("alloc_cpu") != std::string::npos ||
      msg.find("can't allocate memory") != std::string::npos)
    return "out of memory: the options ask for more memory than this machine has (reduce the sizes: "
           "--n, --batch, --points, --samples, --width ...)";
  if (msg.find("without overflow") != std::string::npos)
    return "a value is too large for single precision (float32, at most 3.4e38): " + msg;
  if (msg.rfind("[json.exception.", 0) == 0) {
    const auto close = msg.find("] ");
    const std::string body = close == std::string::npos ? msg : msg.substr(close + 2);
    if (msg.find(".parse_error.") != std::string::npos || msg.find(".out_of_range.406") != std::string::npos)
      return "malformed JSON: " + body;
    return "a JSON file does not have the expected content: " + body;
  }
  return msg;
}

/// stdout must really have received the result (a full disk or a closed pipe is an error).
bool stdout_ok() {
  std::cout.flush();
  return std::cout.good() && std::fflush(stdout) == 0 && !std::ferror(stdout);
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

void set_human_output(std::string text) { g_human_output = std::move(text); }

std::string fmt(double v, int digits) { return io::format_double(v, digits); }

}  // namespace rbsm::cli

int main(int argc, char** argv) {
  using namespace rbsm::cli;
  if (::pipe2(g_signal_pipe, O_CLOEXEC) == 0) {
    std::thread(signal_thread).detach();
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
  }
  rbsm::io::set_interrupted_query([] { return g_interrupted.load(); });
  rbsm::keep_freed_memory();
#ifdef RBSM_WITH_TORCH
  rbsm::nn::register_model_drifts();  // --drift model:PATH (sampling::build_drift)
#endif
  CLI::App app{
      "rbsm: Rao-Blackwellized score matching on manifolds, and the anatomy of trained score models.\n"
      "Every command takes --json (one JSON object on stdout), --seed and --threads."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "rbsm 0.1.0");
  Common common;
  Runner runner;
  std::vector<std::pair<CLI::App*, Setup>> subs;
  for (auto& cmd : registry()) {
    CLI::App* sub = app.add_subcommand(cmd.name, cmd.help);
    sub->add_flag("--json", common.json, "print exactly one JSON object on stdout (logs go to stderr)");
    sub->add_option("--seed", common.seed, "random seed, 0 ... 2^64-1 (results depend on it only)")
        ->check(CLI::Validator([](std::string& v) { return rbsm::validate::seed_text(v); }, "UINT64", "seed"))
        ->capture_default_str();
    sub->add_option("--threads", common.threads,
                    "worker threads (0 = all cores, at most " + std::to_string(rbsm::validate::kMaxThreads) + ")")
        ->check(CLI::Validator([](std::string& v) { return rbsm::validate::threads_text(v); },
                               "0..." + std::to_string(rbsm::validate::kMaxThreads), "threads"))
        ->capture_default_str();
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
    for (auto& c : msg)
      if (c == '\n') c = ' ';
    std::fprintf(stderr, "rbsm: error: %s (see --help)\n", msg.c_str());
    return e.get_exit_code() ? e.get_exit_code() : 2;
  }
  // require_subcommand(1): exactly one
  rbsm::io::set_invocation(app.get_subcommands().front()->get_name(), std::vector<std::string>(argv, argv + argc));
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout is reported as a write error, not a silent death
  try {
    apply_threads(common);
    json result = runner();
    if (g_interrupted.load()) {
      rbsm::io::record_run_status("interrupted", "stopped by a signal; the last complete checkpoint is kept");
      std::fprintf(stderr,
                   "rbsm: interrupted: stopped cleanly (the run folder keeps its last complete state; "
                   "a new run folder of a short command is not created)\n");
      return 130;
    }
    if (const std::string e = rbsm::io::take_commit_error(); !e.empty()) throw rbsm::IoError(e);
    rbsm::io::rewrite_staged_paths(result);  // results name the final run folder, not its staging folder
    check_finite(result, "");
    rbsm::io::record_run_status("complete", "");
    if (common.json)
      std::cout << result.dump() << '\n';
    else if (g_human_output)
      std::cout << *g_human_output;
    else
      print_human(result);
    if (!stdout_ok()) {
      const int err = errno;
      std::fprintf(stderr, "rbsm: error: cannot write the result to stdout: %s\n",
                   err ? std::strerror(err) : "write failed");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    const std::string msg = explain(e);
    if (g_interrupted.load()) {  // a command that stops on the flag by throwing (reproduce, benchmarks)
      rbsm::io::record_run_status("interrupted", msg);
      std::fprintf(stderr, "rbsm: interrupted: %s\n", msg.c_str());
      return 130;
    }
    rbsm::io::record_run_status("failed", msg);
    std::fprintf(stderr, "rbsm: error: %s\n", msg.c_str());
    return 1;
  }
}
