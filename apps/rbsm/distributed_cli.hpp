#pragma once
// Options of data-parallel training shared by `rbsm train` and `rbsm fit` (docs/distributed.md):
// --nproc N (launch N local workers of this very command), --backend, --timeout; the workers find their
// world in the environment contract (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT).
#include <algorithm>
#include <iostream>
#include <optional>
#include <string>

#include "cli.hpp"

#include "rbsm/error.hpp"
#include "rbsm/nn/distributed.hpp"
#include "rbsm/parallel.hpp"

namespace rbsm::cli {

struct DistributedCli {
  int nproc = 1;
  std::string backend = "gloo";
  double timeout = 300;
};

inline void add_distributed_options(CLI::App& app, DistributedCli& d) {
  app.add_option("--nproc", d.nproc, "data-parallel workers on this machine (each gets --threads / N)")
      ->capture_default_str();
  app.add_option("--backend", d.backend, "gloo (CPU) | nccl (CUDA) collectives of data-parallel training")
      ->capture_default_str();
  app.add_option("--timeout", d.timeout, "seconds a worker waits for the others before it stops with an error")
      ->capture_default_str();
}

/// With --nproc N > 1: runs N workers of this command and returns what rank 0 printed (the JSON object
/// with --json; otherwise its text is echoed and an empty object returned, which prints nothing).
/// nullopt: this process is a worker (or the only process) and trains itself. `batch`: the global batch
/// (every worker needs a row of it).
inline std::optional<json> launch_workers_if_asked(const DistributedCli& d, const Common& common, std::int64_t batch) {
  if (d.nproc < 1) throw InvalidArgument("--nproc " + std::to_string(d.nproc) + ": expected at least 1 worker");
  if (!(d.timeout > 0)) throw InvalidArgument("--timeout " + std::to_string(d.timeout) + ": expected seconds > 0");
  nn::check_backend(d.backend);
  if (d.nproc == 1) return std::nullopt;
  nn::batch_shard(batch, 0, d.nproc);  // throws if the batch is smaller than the workers
  nn::LaunchOptions lo;
  lo.nproc = d.nproc;
  lo.threads_per_worker = std::max(1, resolve_threads(common.threads) / d.nproc);
  lo.timeout_seconds = d.timeout;
  const auto r = nn::launch_local_workers(nn::own_command_line_for_workers(), lo, [] { return interrupted().load(); });
  if (interrupted().load()) return json::object();  // Ctrl-C: main() reports the interruption
  if (!common.json) {
    std::cout << r.root_stdout << std::flush;
    return json::object();
  }
  try {
    return json::parse(r.root_stdout);
  } catch (const std::exception&) {
    throw Error("--nproc: rank 0 printed no JSON object");
  }
}

/// The world of this process: the environment contract's, or a single process when WORLD_SIZE is unset.
/// `fingerprint` (the run's options) must be the same on every rank.
inline nn::World join_world(const DistributedCli& d, const std::string& fingerprint) {
  auto o = nn::DistributedOptions::from_environment();
  if (!o) return nn::World();
  o->backend = d.backend;
  o->timeout_seconds = d.timeout;
  return nn::World::join(*o, fingerprint);
}

}  // namespace rbsm::cli
