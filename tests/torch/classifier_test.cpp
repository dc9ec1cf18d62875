// Tests of the sample-quality classifier: shapes, training reduces the loss, augmentation, the
// learning-rate schedule, checkpoints, and evaluate_samples on samples equal to the held-out set.
#include "rbsm/nn/classifier.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/nn/sample_quality.hpp"
#include "rbsm/nn/tensor_data.hpp"

namespace fs = std::filesystem;
using namespace rbsm::nn;

namespace {

ClassifierOptions tiny() { return ClassifierOptions().channels(4).feature_dim(16); }

/// n synthetic 28x28 images of `classes` classes: class k is a 6x6 bright square at a position set by k.
rbsm::data::ImageSet squares(int n, int classes) {
  rbsm::data::ImageSet s;
  s.pixels.assign(static_cast<std::size_t>(n) * 784, 0.0f);
  for (int i = 0; i < n; ++i) {
    const int k = i % classes;
    const int r0 = 3 + 6 * (k / 3), c0 = 3 + 6 * (k % 3);
    for (int r = r0; r < r0 + 6; ++r)
      for (int c = c0; c < c0 + 6; ++c) s.pixels[static_cast<std::size_t>(i) * 784 + r * 28 + c] = 1.0f;
    s.labels.push_back(k);
  }
  return s;
}

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) : path(fs::temp_directory_path() / name) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST(Classifier, ShapesAndBadInput) {
  torch::manual_seed(0);
  Classifier net(tiny());
  net->eval();
  const auto x = torch::rand({3, 1, 28, 28});
  EXPECT_EQ(net->features(x).sizes(), (std::vector<std::int64_t>{3, 16}));
  EXPECT_EQ(net->forward(x).sizes(), (std::vector<std::int64_t>{3, 10}));
  EXPECT_TRUE((net->features(x) >= 0).all().item<bool>());  // after ReLU
  EXPECT_THROW(net->forward(torch::rand({3, 1, 27, 28})), rbsm::InvalidArgument);
  EXPECT_THROW(Classifier(ClassifierOptions().channels(0)), rbsm::InvalidArgument);
  EXPECT_EQ(classifier_features(net, x, torch::kCPU, 2).sizes(), (std::vector<std::int64_t>{3, 16}));
}

TEST(Classifier, TensorConversion) {
  const auto s = squares(5, 5);
  const auto x = images_to_tensor(s);
  EXPECT_EQ(x.sizes(), (std::vector<std::int64_t>{5, 1, 28, 28}));
  EXPECT_FLOAT_EQ(x[2][0][3][15].item<float>(), 1.0f);  // class 2: rows 3..8, columns 15..20
  EXPECT_FLOAT_EQ(x[2][0][3][14].item<float>(), 0.0f);
  EXPECT_EQ(labels_to_tensor(s)[4].item<std::int64_t>(), 4);
}

TEST(Classifier, TrainingReducesLossAndFitsSmallData) {
  torch::manual_seed(1);
  Classifier net(tiny());
  const auto s = squares(96, 6);
  ClassifierTrainOptions o;
  o.epochs(8).batch_size(32).lr(1e-2).warmup(2).max_shift(0).max_rotation(0).max_scale(0).seed(3);
  std::vector<double> losses;
  ClassifierTrainHooks hooks;
  hooks.on_step = [&](std::int64_t, std::int64_t total, double loss, double, double) {
    EXPECT_EQ(total, 24);
    losses.push_back(loss);
  };
  const auto r = train_classifier(net, images_to_tensor(s), labels_to_tensor(s), o, torch::kCPU, hooks);
  ASSERT_EQ(losses.size(), 24u);
  EXPECT_EQ(r.steps, 24);
  EXPECT_LT(losses.back(), 0.5 * losses.front());  // cross-entropy of chance: log 10 = 2.30
  EXPECT_GT(classifier_accuracy(net, images_to_tensor(s), labels_to_tensor(s), torch::kCPU), 0.9);
  EXPECT_THROW(
      train_classifier(net, images_to_tensor(s), labels_to_tensor(s), ClassifierTrainOptions().lr(-1), torch::kCPU),
      rbsm::InvalidArgument);
}

TEST(Classifier, LearningRateSchedule) {
  ClassifierTrainOptions o;
  o.lr(1.0).warmup(10);
  EXPECT_DOUBLE_EQ(classifier_learning_rate(o, 0, 110), 0.1);
  EXPECT_DOUBLE_EQ(classifier_learning_rate(o, 9, 110), 1.0);
  EXPECT_DOUBLE_EQ(classifier_learning_rate(o, 10, 110), 1.0);    // cosine at progress 0
  EXPECT_NEAR(classifier_learning_rate(o, 60, 110), 0.5, 1e-12);  // cos(pi/2) = 0
  EXPECT_NEAR(classifier_learning_rate(o, 109, 110), 0.5 * (1 + std::cos(M_PI * 0.99)), 1e-12);
}

TEST(Classifier, AugmentationIsDeterministicAndMovesMassAtMostMaxShift) {
  // A 4x4 block centred at (13.5, 13.5); shifts only: its centre of mass moves by at most 2 pixels.
  auto x = torch::zeros({16, 1, 28, 28});
  x.index_put_({torch::indexing::Slice(), 0, torch::indexing::Slice(12, 16), torch::indexing::Slice(12, 16)}, 1.0);
  ClassifierTrainOptions shift_only;
  shift_only.max_shift(2).max_rotation(0).max_scale(0).seed(5);
  const auto a = augment_batch(x, shift_only, 7), b = augment_batch(x, shift_only, 7),
             c = augment_batch(x, shift_only, 8);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
  const auto coords = torch::arange(28, torch::kFloat32);
  const auto mass = a.sum({1, 2, 3});
  EXPECT_TRUE(torch::allclose(mass, torch::full({16}, 16.0f), 1e-3, 1e-3));  // interior shifts keep the mass
  const auto row_centre = (a.sum({1, 3}) * coords).sum(1) / mass;
  const auto col_centre = (a.sum({1, 2}) * coords).sum(1) / mass;
  EXPECT_LE((row_centre - 13.5).abs().max().item<float>(), 2.0f + 1e-4f);
  EXPECT_LE((col_centre - 13.5).abs().max().item<float>(), 2.0f + 1e-4f);
  EXPECT_GT((row_centre - 13.5).abs().max().item<float>(), 0.5f);  // it does move
  ClassifierTrainOptions none;
  none.max_shift(0).max_rotation(0).max_scale(0);
  EXPECT_TRUE(torch::equal(augment_batch(x, none, 1), x));
}

TEST(Classifier, CheckpointRoundTripAndErrors) {
  TempDir dir("rbsm_classifier_test");
  torch::manual_seed(2);
  Classifier net(tiny());
  net->eval();
  const auto x = torch::rand({4, 1, 28, 28});
  save_classifier(dir.path / "run" / "classifier.pt", net, {{"data", "test"}});
  auto loaded = load_classifier(dir.path / "run", torch::kCPU);
  EXPECT_EQ(loaded.config.at("data"), "test");
  EXPECT_EQ(loaded.config.at("classifier").at("feature_dim"), 16);
  EXPECT_TRUE(torch::allclose(loaded.net->forward(x), net->forward(x)));

  const auto expect_io = [&](const fs::path& p, const std::string& what) {
    try {
      load_classifier(p, torch::kCPU);
      ADD_FAILURE() << "no error for " << p;
    } catch (const rbsm::IoError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_io(dir.path / "missing", "train-classifier");
  const std::string bytes = rbsm::io::read_file(dir.path / "run" / "classifier.pt");
  rbsm::io::atomic_write(dir.path / "cut.pt", bytes.substr(0, bytes.size() / 2));
  expect_io(dir.path / "cut.pt", "cut.pt");
  torch::serialize::OutputArchive other;
  other.write("format", c10::IValue(std::string("something-else")));
  other.save_to((dir.path / "other.pt").string());
  expect_io(dir.path / "other.pt", "not an rbsm classifier");
  Classifier wider(ClassifierOptions().channels(8).feature_dim(16));
  save_classifier(dir.path / "wide.pt", wider, {});
  EXPECT_NO_THROW(load_classifier(dir.path / "wide.pt", torch::kCPU));
}

TEST(SampleQuality, SamplesEqualToHeldOutGiveZeroDistance) {
  torch::manual_seed(4);
  Classifier net(tiny());
  net->eval();
  const auto held = squares(40, 10);
  const auto q = evaluate_samples(images_to_tensor(held), net, held, torch::kCPU, &held);
  EXPECT_NEAR(q.frechet_distance, 0.0, 1e-6);
  EXPECT_NEAR(q.reference_frechet_distance, 0.0, 1e-6);  // the reference is the same set
  EXPECT_EQ(q.n, 40);
  std::int64_t total = 0;
  for (auto c : q.class_histogram) total += c;
  EXPECT_EQ(total, 40);
  EXPECT_GE(q.mean_confidence, 0.1 - 1e-9);  // max of 10 probabilities >= 1/10
  EXPECT_LE(q.mean_confidence, 1.0);
  // different samples: positive distance
  const auto q2 = evaluate_samples(torch::rand({40, 1, 28, 28}), net, held, torch::kCPU);
  EXPECT_GT(q2.frechet_distance, 1e-3);
  EXPECT_FALSE(q2.to_json().contains("reference_frechet_distance"));
  EXPECT_THROW(evaluate_samples(torch::rand({1, 1, 28, 28}), net, held, torch::kCPU), rbsm::InvalidArgument);
}
