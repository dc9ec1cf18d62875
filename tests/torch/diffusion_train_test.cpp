// Training: the loss decreases, resuming is bit-identical to an uninterrupted run, a stop request
// saves a resumable checkpoint, a diverging loss stops with NumericalError and keeps the last good
// checkpoint, bad options are rejected before anything is written.
#include <unistd.h>

#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "diffusion_fixtures.hpp"

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/nn/checkpoint.hpp"
#include "rbsm/nn/train.hpp"

namespace rbsm::nn {
namespace {
using namespace testing;
namespace fs = std::filesystem;

std::vector<torch::Tensor> weights(const fs::path& run, bool ema) {
  return load_score_model(run, torch::kCPU, ema).net->parameters();
}

void expect_bit_identical(const fs::path& a, const fs::path& b) {
  for (bool ema : {false, true}) {
    const auto wa = weights(a, ema), wb = weights(b, ema);
    ASSERT_EQ(wa.size(), wb.size());
    for (std::size_t i = 0; i < wa.size(); ++i)
      EXPECT_TRUE(torch::equal(wa[i], wb[i])) << "tensor " << i << " ema " << ema;
  }
}

std::vector<double> losses(const fs::path& run) {
  std::vector<double> out;
  std::istringstream in(io::read_file(run / "metrics.csv"));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "step,loss,loss_avg,lr,seconds");
  while (std::getline(in, line)) out.push_back(std::stod(line.substr(line.find(',') + 1)));
  return out;
}

TEST(DiffusionTrain, LossDecreases) {
  torch::set_num_threads(1);
  const auto dir = fresh_dir("loss");
  const auto r =
      train_score_model(bar_images(64), tiny_unet(), VPSDE(), fast_train(80).batch_size(16), dir, torch::kCPU);
  EXPECT_EQ(r.step, 80);
  const auto l = losses(dir);
  ASSERT_EQ(l.size(), 80u);
  // At initialisation the output layer is zero, so the loss is E|eps|^2 = 1 (up to sampling noise:
  // 16 x 784 squared normals, sd 0.013). Training must bring the mean of the last 20 losses well below.
  EXPECT_NEAR(l[0], 1.0, 0.06);
  double last = 0;
  for (std::size_t i = 60; i < 80; ++i) last += l[i] / 20;
  EXPECT_LT(last, 0.6) << "mean loss of steps 61-80";
  fs::remove_all(dir);
}

TEST(DiffusionTrain, ResumeIsBitIdentical) {
  torch::set_num_threads(1);
  const auto data = bar_images(20);  // 20 images, batch 8: the resume point falls inside an epoch
  const auto a = fresh_dir("resume_a"), b = fresh_dir("resume_b");
  train_score_model(data, tiny_unet(), VPSDE(), fast_train(6), a, torch::kCPU);
  train_score_model(data, tiny_unet(), VPSDE(), fast_train(3), b, torch::kCPU);
  const auto r = train_score_model(data, tiny_unet(), VPSDE(), fast_train(6), b, torch::kCPU, /*resume=*/true);
  EXPECT_EQ(r.start_step, 3);
  EXPECT_EQ(r.step, 6);
  expect_bit_identical(a, b);
  EXPECT_EQ(losses(a), losses(b));
  // Resuming a finished run, or resuming with no checkpoint, is an error.
  EXPECT_THROW(train_score_model(data, tiny_unet(), VPSDE(), fast_train(6), b, torch::kCPU, true), InvalidArgument);
  const auto empty = fresh_dir("resume_empty");
  EXPECT_THROW(train_score_model(data, tiny_unet(), VPSDE(), fast_train(6), empty, torch::kCPU, true), IoError);
  for (const auto& d : {a, b, empty}) fs::remove_all(d);
}

TEST(DiffusionTrain, StopRequestSavesAResumableCheckpoint) {
  torch::set_num_threads(1);
  const auto data = bar_images(20);
  const auto a = fresh_dir("stop_a"), b = fresh_dir("stop_b");
  train_score_model(data, tiny_unet(), VPSDE(), fast_train(5), a, torch::kCPU);
  TrainHooks hooks;
  std::int64_t calls = 0;
  hooks.should_stop = [&] { return ++calls > 2; };  // "Ctrl-C" after two steps
  const auto r = train_score_model(data, tiny_unet(), VPSDE(), fast_train(5), b, torch::kCPU, false, hooks);
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.step, 2);
  EXPECT_EQ(read_checkpoint_config(b).at("step").get<int>(), 2);
  train_score_model(data, tiny_unet(), VPSDE(), fast_train(5), b, torch::kCPU, true);
  expect_bit_identical(a, b);
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(DiffusionTrain, DivergingLossStopsAndKeepsTheLastGoodCheckpoint) {
  torch::set_num_threads(1);
  const auto dir = fresh_dir("nan");
  // lr = 1e30: Adam's first update moves every weight by ~1e30, the next forward pass overflows.
  const auto opts = fast_train(20).lr(1e30).checkpoint_every(1);
  try {
    train_score_model(bar_images(16), tiny_unet(), VPSDE(), opts, dir, torch::kCPU);
    FAIL() << "no NumericalError";
  } catch (const NumericalError& e) {
    EXPECT_NE(std::string(e.what()).find("training loss is"), std::string::npos) << e.what();
  }
  const auto cfg = read_checkpoint_config(dir);
  EXPECT_GE(cfg.at("step").get<int>(), 1);
  EXPECT_LT(cfg.at("step").get<int>(), 20);
  // The kept checkpoint is the last one whose loss was finite: its weights are finite.
  for (const auto& w : weights(dir, false)) EXPECT_TRUE(torch::isfinite(w).all().item<bool>());
  fs::remove_all(dir);
}

TEST(DiffusionTrain, BadOptionsWriteNothing) {
  const auto dir = fresh_dir("bad");
  const auto data = bar_images(4);
  EXPECT_THROW(train_score_model(data, tiny_unet(), VPSDE(), fast_train(0), dir, torch::kCPU), InvalidArgument);
  EXPECT_THROW(train_score_model(data, tiny_unet(), VPSDE(), fast_train(5).lr(-1e-3), dir, torch::kCPU),
               InvalidArgument);
  EXPECT_THROW(train_score_model(data, tiny_unet(), VPSDE(), fast_train(5).ema_decay(1.0), dir, torch::kCPU),
               InvalidArgument);
  EXPECT_THROW(train_score_model(data * 2.0, tiny_unet(), VPSDE(), fast_train(5), dir, torch::kCPU), InvalidArgument);
  EXPECT_THROW(train_score_model(torch::rand({4, 1, 14, 14}), tiny_unet(), VPSDE(), fast_train(5), dir, torch::kCPU),
               InvalidArgument);
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST(DiffusionTrain, BatchIndicesArePerEpochPermutations) {
  // n = 10, batch 4: steps 0..4 cover positions 0..19, i.e. epochs 0 and 1, each a permutation.
  std::vector<std::int64_t> all;
  for (int k = 0; k < 5; ++k) {
    const auto b = batch_indices(3, k, 4, 10);
    EXPECT_EQ(b, batch_indices(3, k, 4, 10));  // pure in (seed, step)
    all.insert(all.end(), b.begin(), b.end());
  }
  for (int e = 0; e < 2; ++e) {
    std::set<std::int64_t> s(all.begin() + 10 * e, all.begin() + 10 * (e + 1));
    EXPECT_EQ(s.size(), 10u);
    EXPECT_EQ(*s.begin(), 0);
    EXPECT_EQ(*s.rbegin(), 9);
  }
  EXPECT_NE(std::vector<std::int64_t>(all.begin(), all.begin() + 10),
            std::vector<std::int64_t>(all.begin() + 10, all.end()));
  EXPECT_NE(batch_indices(3, 0, 4, 10), batch_indices(4, 0, 4, 10));
}

TEST(DiffusionTrain, Schedules) {
  const auto o = TrainOptions().lr(1e-3).warmup(10).ema_decay(0.999);
  EXPECT_DOUBLE_EQ(learning_rate_at(o, 0), 1e-4);
  EXPECT_DOUBLE_EQ(learning_rate_at(o, 9), 1e-3);
  EXPECT_DOUBLE_EQ(learning_rate_at(o, 100), 1e-3);
  EXPECT_DOUBLE_EQ(ema_decay_at(o, 0), 0.1);
  EXPECT_DOUBLE_EQ(ema_decay_at(o, 1000000), 0.999);
}

}  // namespace
}  // namespace rbsm::nn
