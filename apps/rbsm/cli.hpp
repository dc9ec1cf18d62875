#pragma once
/// The CLI's plumbing. Each subcommand lives in its own apps/rbsm/cmd_*.cpp and registers itself with
/// a static `Register`; main() adds the options every command shares (--json, --seed, --threads),
/// runs it, and prints the JSON object it returns (one object on stdout with --json; a readable
/// summary otherwise). Errors: rbsm::Error -> one line on stderr, exit 1. Subcommands stay thin:
/// parse options, call the library, write the run folder.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace rbsm::cli {

using nlohmann::json;

/// Options every command takes.
struct Common {
  bool json = false;       ///< --json: exactly one JSON object on stdout
  std::uint64_t seed = 0;  ///< --seed
  int threads = 0;         ///< --threads (0 = all cores)
};

using Runner = std::function<json()>;
/// Adds a command's options to `app` and returns the function that runs it after parsing.
using Setup = std::function<Runner(CLI::App& app, const Common& common)>;

struct Command {
  std::string name, help;
  Setup setup;
};
std::vector<Command>& registry();

struct Register {
  Register(std::string name, std::string help, Setup setup);
};

/// Set by SIGINT/SIGTERM; long loops poll it to save a checkpoint and stop cleanly.
const std::atomic<bool>& interrupted();

/// Replaces the generic key: value listing of a command's result on stdout (without --json) by `text`
/// (e.g. reproduce's summary table). --json still prints the result object.
void set_human_output(std::string text);

/// Resolves --threads, sets it where needed (LibTorch) and returns the count.
int apply_threads(const Common& common);

// ------------------------------------------------------------------ reproduce's experiment registry
/// One row of the report's comparison table: a number of the source documents beside rbsm's.
struct ReportRow {
  std::string quantity, source, measured, note;
};
/// What one experiment contributes to report.html.
struct ReportSection {
  std::string title;
  std::string html;                  ///< explanatory text (HTML allowed)
  std::vector<std::string> figures;  ///< PNG paths relative to the report's folder
  std::vector<ReportRow> rows;
  std::vector<std::size_t> key_rows;  ///< rows shown in reproduce's summary table on stdout (none: the first)
  json summary;                       ///< machine-readable results (collected into --json)
};
struct ReproduceContext {
  std::string profile;        ///< "quick" or "full"
  std::filesystem::path out;  ///< the report's folder; experiments write into out/<name>/
  std::uint64_t seed = 0;
  int threads = 0;
};
using Experiment = std::function<ReportSection(const ReproduceContext&)>;
struct ExperimentEntry {
  std::string name;
  int order;
  Experiment run;
};
std::vector<ExperimentEntry>& experiments();
/// Registers an experiment for `rbsm reproduce`, run in increasing `order`.
struct RegisterExperiment {
  RegisterExperiment(std::string name, int order, Experiment run);
};

/// The checkpoint of the reproduce experiment "mnist" (cmd_torch_mnist.cpp): OUT/mnist/run/checkpoint.pt,
/// else the first checkpoint.pt under OUT/mnist (sorted paths); none if it has not run.
std::optional<std::filesystem::path> find_mnist_checkpoint(const std::filesystem::path& out);

/// Formats a number for the report table.
std::string fmt(double v, int digits = 4);

}  // namespace rbsm::cli
