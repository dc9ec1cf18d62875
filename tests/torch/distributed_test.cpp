// Data-parallel training (include/rbsm/nn/distributed.hpp, docs/distributed.md): N = 2 (and 3) workers at
// global batch B take the same steps as one process at batch B, for the U-Net and the manifold fit; a
// worker that dies or hangs stops the others with a one-line error and leaves the last checkpoint
// loadable; checkpoints resume across N. The world in threads (all-reduce, shards, the environment
// contract) is tested in distributed_world_test.cpp.
//
// The workers are this test binary, started by nn::launch_local_workers with --gtest_filter on
// DistributedWorker.Run and the case in RBSM_DIST_TEST_* variables (the test is skipped without them).
#include "rbsm/nn/distributed.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "diffusion_fixtures.hpp"

#include "rbsm/error.hpp"
#include "rbsm/fit/fit.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/nn/checkpoint.hpp"
#include "rbsm/nn/train.hpp"
#include "rbsm/random.hpp"

namespace rbsm::nn {
namespace {
using namespace testing;
namespace fs = std::filesystem;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : fallback;
}

/// One training case, run the same way by the single process and by every worker.
struct Case {
  std::string model = "train";  // train | fit
  fs::path out;
  bool resume = false;
  int stop_at = -1;   // a stop request before this step (should_stop's (stop_at + 1)-th call)
  std::string fault;  // on rank 1 after step fault_step: die | hang
  int fault_step = 0;
  int checkpoint_every = 1000;
};

Case case_from_env() {
  Case c;
  c.model = env_or("RBSM_DIST_TEST_WORKER", "");
  c.out = env_or("RBSM_DIST_TEST_OUT", "");
  c.resume = env_or("RBSM_DIST_TEST_RESUME", "0") == "1";
  c.stop_at = std::stoi(env_or("RBSM_DIST_TEST_STOP_AT", "-1"));
  c.fault = env_or("RBSM_DIST_TEST_FAULT", "");
  c.fault_step = std::stoi(env_or("RBSM_DIST_TEST_FAULT_STEP", "0"));
  c.checkpoint_every = std::stoi(env_or("RBSM_DIST_TEST_CKPT", "1000"));
  return c;
}

/// 300 training and 50 validation points on S^2 concentrated around a pole (normalised Gaussians).
geometry::Mat pole_points(int n, std::uint64_t seed) {
  geometry::Mat Z(n, 3);
  for (int i = 0; i < n; ++i) {
    Rng rng(seed, static_cast<std::uint64_t>(i));
    geometry::Vec x(3);
    x << 0.4 * rng.normal(), 0.4 * rng.normal(), 1.0;
    Z.row(i) = x.normalized().transpose();
  }
  return Z;
}

fit::FitOptions fit_options() {
  fit::FitOptions o;
  o.manifold = "sphere:2";
  o.net.dim = 3;
  o.net.width = 32;
  o.net.depth = 2;
  o.target = fit::Target::rb;  // RB targets with the training split as references, leave-one-out
  o.steps = 20;
  o.batch = 64;
  o.eval_every = 10;
  o.val_examples = 128;
  o.patience = 0;
  o.seed = 3;
  return o;
}

void run_case(const Case& c, World world, int threads = 1) {
  torch::set_num_threads(threads);
  int calls = 0;
  const auto should_stop = [&] { return c.stop_at >= 0 && calls++ >= c.stop_at; };
  const auto on_step = [&](std::int64_t step) {
    if (world.rank() != 1 || c.fault.empty() || step != c.fault_step) return;
    if (c.fault == "die") std::raise(SIGKILL);
    if (c.fault == "hang") std::this_thread::sleep_for(std::chrono::seconds(600));
  };
  if (c.model == "train") {
    TrainHooks hooks;
    hooks.should_stop = should_stop;
    hooks.on_step = [&](std::int64_t step, double, double) { on_step(step); };
    train_score_model(testing::bar_images(20), testing::tiny_unet(), VPSDE(),
                      testing::fast_train(20).checkpoint_every(c.checkpoint_every), c.out, torch::kCPU, c.resume, hooks,
                      world);
  } else {
    fit::FitOptions o = fit_options();
    o.checkpoint_every = c.checkpoint_every;
    fit::FitHooks hooks;
    hooks.should_stop = should_stop;
    hooks.on_step = [&](std::int64_t step, double) { on_step(step); };
    fit::train_fit(pole_points(300, 1), pole_points(50, 2), o, c.out, c.resume, hooks, {}, world);
  }
}

// The worker entry point (skipped unless started by a test below).
TEST(DistributedWorker, Run) {
  const Case c = case_from_env();
  if (c.model.empty()) GTEST_SKIP() << "a worker of the Distributed tests";
  auto o = DistributedOptions::from_environment();
  ASSERT_TRUE(o.has_value());
  o->timeout_seconds = std::stod(env_or("RBSM_DIST_TEST_TIMEOUT", "60"));
  World world;
  try {
    world = World::join(*o);
    run_case(c, world);
  } catch (const std::exception& e) {
    std::ofstream(c.out / ("error_rank" + std::to_string(o->rank) + ".txt")) << e.what();
    FAIL() << e.what();
  }
}

/// Runs `c` on `n` workers (this binary); throws what launch_local_workers throws.
void run_workers(const Case& c, int n, double timeout = 60) {
  const std::vector<std::pair<std::string, std::string>> vars{
      {"RBSM_DIST_TEST_WORKER", c.model},
      {"RBSM_DIST_TEST_OUT", c.out.string()},
      {"RBSM_DIST_TEST_RESUME", c.resume ? "1" : "0"},
      {"RBSM_DIST_TEST_STOP_AT", std::to_string(c.stop_at)},
      {"RBSM_DIST_TEST_FAULT", c.fault},
      {"RBSM_DIST_TEST_FAULT_STEP", std::to_string(c.fault_step)},
      {"RBSM_DIST_TEST_CKPT", std::to_string(c.checkpoint_every)},
      {"RBSM_DIST_TEST_TIMEOUT", std::to_string(timeout)}};
  for (const auto& [k, v] : vars) ::setenv(k.c_str(), v.c_str(), 1);
  LaunchOptions lo;
  lo.nproc = n;
  lo.threads_per_worker = 1;
  lo.timeout_seconds = timeout;
  const std::vector<std::string> argv{fs::read_symlink("/proc/self/exe").string(),
                                      "--gtest_filter=DistributedWorker.Run"};
  try {
    launch_local_workers(argv, lo);
  } catch (...) {
    for (const auto& kv : vars) ::unsetenv(kv.first.c_str());
    throw;
  }
  for (const auto& kv : vars) ::unsetenv(kv.first.c_str());
}

/// Parameters of a run, by name: the U-Net's weights and EMA, or the fit's best EMA weights.
std::vector<std::pair<std::string, torch::Tensor>> parameters(const std::string& model, const fs::path& run) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  if (model == "train") {
    for (bool ema : {false, true})
      for (const auto& p : load_score_model(run, torch::kCPU, ema).net->named_parameters())
        out.emplace_back((ema ? "ema " : "") + p.key(), p.value());
    return out;
  }
  for (const auto& p : fit::FitModel::load(run).net()->named_parameters()) out.emplace_back(p.key(), p.value());
  return out;
}

/// Largest |a - b| / (max |b| + 1e-3) over the tensors, and the tensor where it is reached.
std::pair<double, std::string> max_relative_difference(const std::vector<std::pair<std::string, torch::Tensor>>& a,
                                                       const std::vector<std::pair<std::string, torch::Tensor>>& b) {
  EXPECT_EQ(a.size(), b.size());
  std::pair<double, std::string> worst{0.0, ""};
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const double scale = b[i].second.abs().max().item<double>() + 1e-3;
    const double d = (a[i].second - b[i].second).abs().max().item<double>() / scale;
    if (d > worst.first) worst = {d, b[i].first + " (max |w| " + std::to_string(scale) + ")"};
  }
  return worst;
}

std::vector<double> step_losses(const std::string& model, const fs::path& run) {
  std::vector<double> out;
  if (model == "train") {
    std::istringstream in(io::read_file(run / "metrics.csv"));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) out.push_back(std::stod(line.substr(line.find(',') + 1)));
  } else {
    for (const auto& row : fit::FitModel::load(run).config().at("state").at("metrics"))
      out.push_back(row[1].get<double>());
  }
  return out;
}

fs::path fresh(const std::string& name) {
  const auto d = fs::temp_directory_path() / ("rbsm_dist_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Tolerance. The fit is float64: summation order moves weights by ~1e-16 relative, 1e-9 is plenty. The
// U-Net is float32 and Adam divides by sqrt(v), which amplifies last-bit differences of small gradient
// components over 20 steps; its floor is measured: the same single-process run on 2 LibTorch threads
// instead of 1 (another summation order inside the convolutions, nothing else) differs from it by
// `floor`, and N workers (another summation order across the batch) must stay within 4 x floor.
void expect_same_run(const std::string& model, const fs::path& a, const fs::path& b, const std::string& what,
                     double tolerance) {
  const auto [d, where] = max_relative_difference(parameters(model, a), parameters(model, b));
  EXPECT_LT(d, tolerance) << what << ": worst in " << where;
  std::printf("%s, %s: largest relative difference %.3g in %s (tolerance %.3g)\n", model.c_str(), what.c_str(), d,
              where.c_str(), tolerance);
  const auto la = step_losses(model, a), lb = step_losses(model, b);
  ASSERT_EQ(la.size(), lb.size()) << what;
  for (std::size_t i = 0; i < la.size(); ++i)
    EXPECT_NEAR(la[i], lb[i], model == "train" ? 1e-5 : 1e-11) << what << ": loss of step " << i + 1;
}

class DistributedModels : public ::testing::TestWithParam<std::string> {};

// N = 2 at global batch B equals N = 1 at batch B after 20 steps (and N = 3, uneven shards 21/21/22 and
// 2/3/3, for the fit and the U-Net), and a checkpoint resumes across N: 10 steps on 2 workers then 10 on
// one, and 10 on one then 10 on 2, both equal to 20 uninterrupted steps on one.
TEST_P(DistributedModels, WorkersEqualOneProcessAndResumeAcrossN) {
  const std::string model = GetParam();
  Case one{model, fresh(model + "_n1")};
  run_case(one, World());

  double tolerance = 1e-9;
  if (model == "train") {
    Case threads2{model, fresh(model + "_t2")};
    run_case(threads2, World(), 2);
    const double floor = max_relative_difference(parameters(model, threads2.out), parameters(model, one.out)).first;
    std::printf("train: 2 threads vs 1 thread on one process: largest relative difference %.3g\n", floor);
    ASSERT_GT(floor, 0.0) << "no summation-order floor measured (thread count changed nothing)";
    tolerance = 4 * floor;
    fs::remove_all(threads2.out);
  }
  Case two{model, fresh(model + "_n2")};
  run_workers(two, 2);
  expect_same_run(model, two.out, one.out, "N = 2 vs N = 1", tolerance);
  EXPECT_FALSE(fs::exists(two.out / "error_rank0.txt"));

  Case three{model, fresh(model + "_n3")};
  run_workers(three, 3);
  expect_same_run(model, three.out, one.out, "N = 3 vs N = 1", tolerance);

  // 2 workers stop at step 10 (a stop request on every rank), then one process resumes to 20.
  Case a{model, fresh(model + "_2to1")};
  a.stop_at = 10;
  run_workers(a, 2);
  EXPECT_EQ(model == "train" ? read_checkpoint_config(a.out).at("step").get<int>()
                             : fit::FitModel::load(a.out).config().at("state").at("step").get<int>(),
            10);
  a.stop_at = -1;
  a.resume = true;
  run_case(a, World());
  expect_same_run(model, a.out, one.out, "N = 2 for 10 steps, then N = 1", tolerance);

  // One process stops at step 10, 2 workers resume to 20.
  Case b{model, fresh(model + "_1to2")};
  b.stop_at = 10;
  run_case(b, World());
  b.stop_at = -1;
  b.resume = true;
  run_workers(b, 2);
  expect_same_run(model, b.out, one.out, "N = 1 for 10 steps, then N = 2", tolerance);
  for (const auto& d : {one.out, two.out, three.out, a.out, b.out}) fs::remove_all(d);
}

INSTANTIATE_TEST_SUITE_P(Models, DistributedModels, ::testing::Values("train", "fit"));

/// A `kind` run ("train" or "fit") whose worker 1 meets `fault` ("die" or "hang") after step 12.
Case fault_case(const std::string& kind, const std::string& fault, int checkpoint_every) {
  Case c{kind, fresh(fault)};
  c.fault = fault;
  c.fault_step = 12;
  c.checkpoint_every = checkpoint_every;
  return c;
}

// Worker 1 is killed (SIGKILL) after step 12: rank 0 stops at its next all-reduce with a one-line error
// that says what happened and which checkpoint is kept, the launcher names the dead worker, and the kept
// checkpoint (step 10) loads.
TEST(Distributed, AKilledWorkerStopsTheOthersAndKeepsTheCheckpoint) {
  const Case c = fault_case("train", "die", /*checkpoint_every=*/5);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    run_workers(c, 2);
    FAIL() << "no DistributedError";
  } catch (const DistributedError& e) {
    EXPECT_NE(std::string(e.what()).find("worker 1 of 2 was killed by signal 9"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 50.0);
  const std::string err = io::read_file(c.out / "error_rank0.txt");
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  EXPECT_NE(err.find("all-reduce failed on rank 0 of 2"), std::string::npos) << err;
  EXPECT_NE(err.find("training stopped at step 13"), std::string::npos) << err;
  EXPECT_NE(err.find("checkpoint.pt is kept"), std::string::npos) << err;
  EXPECT_EQ(read_checkpoint_config(c.out).at("step").get<int>(), 10);
  for (const auto& w : load_score_model(c.out, torch::kCPU).net->parameters())
    EXPECT_TRUE(torch::isfinite(w).all().item<bool>());
  fs::remove_all(c.out);
}

// Worker 1 hangs after step 12: rank 0 gives up after the 3 s timeout with an error that says so; the
// launcher then kills the hung worker (timeout + 5 s later) and reports both.
TEST(Distributed, AHungWorkerStopsTheOthersWithinTheTimeout) {
  const Case c = fault_case("fit", "hang", /*checkpoint_every=*/10);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    run_workers(c, 2, /*timeout=*/3);
    FAIL() << "no DistributedError";
  } catch (const DistributedError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("worker 0 of 2 exited with status 1"), std::string::npos) << m;
    EXPECT_NE(m.find("worker 1 did not stop within 8 s and was killed"), std::string::npos) << m;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 40.0);
  const std::string err = io::read_file(c.out / "error_rank0.txt");
  EXPECT_NE(err.find("within 3 s"), std::string::npos) << err;
  EXPECT_NE(err.find("fit stopped at step 13"), std::string::npos) << err;
  EXPECT_EQ(fit::FitModel::load(c.out).config().at("state").at("step").get<int>(), 10);
  fs::remove_all(c.out);
}

}  // namespace
}  // namespace rbsm::nn
