#pragma once
/// A classifier training run (what `rbsm train-classifier` does, and what `rbsm evaluate` and the
/// reproduce experiments call when no classifier exists yet): load the data set, train, measure the
/// test accuracy, write the run folder (config.json, metrics.csv, log.txt, classifier.pt). docs/data.md.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "rbsm/nn/classifier.hpp"

namespace rbsm::nn {

struct ClassifierRunResult {
  LoadedClassifier classifier;
  double test_accuracy = 0.0;  ///< on the held-out part (mnist) or the official test set
  double train_seconds = 0.0;
  std::int64_t steps = 0;
  bool stopped = false;  ///< interrupted (the checkpoint holds the weights so far)
  std::int64_t n_train = 0, n_test = 0;
  std::filesystem::path checkpoint;
  nlohmann::json to_json() const;
};

/// Trains a classifier on load_dataset(data, train = true), evaluates it on load_dataset(data, false)
/// and writes the run folder `out`. Options are validated and the data loaded before anything is
/// written. `progress`: draw a progress bar on stderr. `should_stop` is polled once per step.
ClassifierRunResult train_classifier_run(const std::string& data, const std::filesystem::path& out,
                                         const ClassifierOptions& net, const ClassifierTrainOptions& train,
                                         torch::Device device, bool progress = true,
                                         const std::function<bool()>& should_stop = {});

/// The classifier of run folder (or file) `run`; if there is none, trains one there first with the
/// default options on MNIST (a couple of minutes on 2 CPU cores), logging that it does so.
LoadedClassifier load_or_train_classifier(const std::filesystem::path& run, torch::Device device, bool progress = true,
                                          const std::function<bool()>& should_stop = {});

}  // namespace rbsm::nn
