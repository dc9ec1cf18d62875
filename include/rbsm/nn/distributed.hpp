#pragma once
/// Data-parallel training on c10d (docs/distributed.md): a `World` of `size()` processes, each with its
/// `rank()`, joined by a rendezvous on c10d's TCPStore and talking through ProcessGroupGloo.
///
/// The training loops (nn/train.hpp, fit/fit.hpp) use it so that N workers at global batch B take the
/// same optimiser steps as one process at batch B: rank r takes rows batch_shard(B, r, N) of the very
/// draw the single process makes at step k, scales its mean loss by its share B_r / B, and the gradients
/// are summed over the ranks (all_reduce_sum), so every rank holds the gradient of the single-process
/// mean loss; Adam, the EMA and the schedules then run identically on every rank.
///
/// Launch contract (the one torchrun and SLURM wrappers set): RANK, WORLD_SIZE, LOCAL_RANK,
/// MASTER_ADDR, MASTER_PORT. `launch_local_workers` starts N copies of a command with it set.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "rbsm/error.hpp"

namespace rbsm::nn {

/// A collective or the rendezvous failed: a worker died, hung past the timeout, the master could not
/// be reached, its port was taken, or the workers disagree about the world.
class DistributedError : public Error {
 public:
  using Error::Error;
};

struct DistributedOptions {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string backend = "gloo";  ///< gloo (CPU); nccl needs a CUDA build of LibTorch with NCCL
  double timeout_seconds = 300;  ///< rendezvous and every collective
  /// Rank 0 joins a store served by someone else (the --nproc launcher) instead of serving it.
  bool store_hosted = false;
  /// Time a barrier before every all-reduce so that all_reduce_seconds is the transfer alone, not the
  /// wait for the slowest rank (benchmarks; RBSM_DIST_PROFILE=1).
  bool profile = false;

  /// Throws InvalidArgument naming the bad value (rank outside [0, world_size), port outside
  /// [1, 65535], timeout not > 0, unknown backend).
  void validate() const;
  /// The environment contract: nullopt when WORLD_SIZE is unset (a single process); otherwise RANK,
  /// WORLD_SIZE, MASTER_ADDR and MASTER_PORT must be set and well formed (InvalidArgument naming the
  /// variable). LOCAL_RANK defaults to RANK; RBSM_STORE_HOSTED=1 (or torchrun's
  /// TORCHELASTIC_USE_AGENT_STORE=True) and RBSM_DIST_PROFILE=1 set the flags.
  static std::optional<DistributedOptions> from_environment();
};

/// Throws InvalidArgument unless `backend` is one this LibTorch has ("gloo"; "nccl" needs a CUDA build).
void check_backend(const std::string& backend);

/// Rows [begin, end) of a global batch of `batch` that rank `rank` of `size` takes: [r B / N, (r+1) B / N).
struct Shard {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end - begin; }
};
Shard batch_shard(std::int64_t batch, int rank, int size);

/// The processes of one data-parallel run. Default-constructed: one process, every collective a no-op.
/// Copies share the process group. Collectives must be called in the same order on every rank.
class World {
 public:
  World();
  /// Joins the world described by `options`: resolves MASTER_ADDR (InvalidArgument at once if it does
  /// not resolve), serves (rank 0) or reaches the TCPStore within the timeout, checks that every rank
  /// has the same WORLD_SIZE and `fingerprint` (e.g. the training options; DistributedError naming the
  /// difference), then builds the process group. Throws DistributedError for a taken port, an
  /// unreachable master or a rendezvous that did not complete in time.
  static World join(const DistributedOptions& options, const std::string& fingerprint = "");

  int rank() const;
  int size() const;
  bool is_root() const { return rank() == 0; }
  double timeout_seconds() const;

  /// Sums `tensors` over the ranks in place. They are flattened into buckets (one per dtype, split at
  /// 32 MiB) whose all-reduces are all in flight together. `scalars` (a loss, a stop flag) ride in the
  /// first bucket, in its dtype (float64 when there are no tensors), and are summed too. Undefined
  /// tensors are not allowed. Throws DistributedError (one line) when a worker died or the timeout passed.
  void all_reduce_sum(const std::vector<at::Tensor>& tensors, std::vector<double>& scalars);
  /// Sum of one number over the ranks.
  double all_reduce_sum(double x);
  /// Waits for every rank (DistributedError after the timeout).
  void barrier();

  /// Seconds spent in all_reduce_sum (waiting for the slowest rank included unless profiling) and,
  /// when profiling, in the barriers before them; calls and bytes reduced.
  double all_reduce_seconds() const;
  double wait_seconds() const;
  std::int64_t all_reduce_calls() const;
  std::int64_t all_reduce_bytes() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

/// Sums the gradients of `parameters` over the ranks (undefined ones count as zeros and are created),
/// with `scalars` riding along (World::all_reduce_sum).
void all_reduce_gradients(World& world, const std::vector<at::Tensor>& parameters, std::vector<double>& scalars);

/// One data-parallel backward pass of both training loops. The single-process mean loss is
/// sum_r (B_r / B) mean_r: this rank backpropagates share * loss (share = B_r / B; the loss as is on one
/// process) into the gradients (zeroed by the caller), then the gradients, the loss and the stop flags are summed over
/// the ranks. A DistributedError is rethrown with "; " + context() appended (where the run stopped, what is kept).
struct ReducedStep {
  double loss = 0;    ///< the single-process mean loss
  bool stop = false;  ///< some rank asked to stop: all stop before this step's update
};
ReducedStep reduced_backward(World& world, at::Tensor loss, double share, const std::vector<at::Tensor>& parameters,
                             bool stop_here, const std::function<std::string()>& context);

// ------------------------------------------------------------------ the local launcher (--nproc N)
struct LaunchOptions {
  int nproc = 2;
  int threads_per_worker = 1;
  double timeout_seconds = 300;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;  ///< 0: a free port chosen by the OS (the launcher serves the store)
};
struct LaunchResult {
  std::string root_stdout;  ///< what rank 0 wrote on stdout (the other ranks' stdout is discarded)
};
/// Runs `argv` (argv[0] the executable) N times with RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
/// MASTER_ADDR, MASTER_PORT set and `--threads threads_per_worker` appended, serving their TCPStore
/// itself (so the port is never raced for). Workers die with the launcher (PDEATHSIG). `interrupted`
/// is polled: when it turns true, SIGINT is forwarded to every worker once (they stop together and
/// checkpoint; their exit status 130, "interrupted", then counts as clean). When a worker fails the
/// others get `timeout + 5 s` to stop on their own, then SIGKILL.
/// Throws DistributedError naming the first worker that failed and how (exit status or signal).
LaunchResult launch_local_workers(const std::vector<std::string>& argv, const LaunchOptions& options,
                                  const std::function<bool()>& interrupted = {});

/// The command line of this process (/proc/self/cmdline) with `--nproc N` and `--threads T` removed
/// (both spellings, `--x v` and `--x=v`); argv[0] becomes /proc/self/exe's target.
std::vector<std::string> own_command_line_for_workers();

}  // namespace rbsm::nn
