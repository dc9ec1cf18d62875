// A classifier training run: data, training, test accuracy, run folder (classifier_run.hpp).
#include "rbsm/nn/classifier_run.hpp"

#include <cstdio>

#include "rbsm/data/images.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/nn/tensor_data.hpp"

namespace rbsm::nn {

nlohmann::json ClassifierRunResult::to_json() const {
  return {{"test_accuracy", test_accuracy},
          {"train_seconds", train_seconds},
          {"steps", steps},
          {"steps_per_second", train_seconds > 0 ? steps / train_seconds : 0.0},
          {"stopped", stopped},
          {"n_train", n_train},
          {"n_test", n_test},
          {"checkpoint", checkpoint.string()}};
}

ClassifierRunResult train_classifier_run(const std::string& data, const std::filesystem::path& out,
                                         const ClassifierOptions& net_options, const ClassifierTrainOptions& train,
                                         torch::Device device, bool progress,
                                         const std::function<bool()>& should_stop) {
  net_options.validate();
  train.validate();
  const data::ImageSet train_set = data::load_dataset(data, true);
  const data::ImageSet test_set = data::load_dataset(data, false);
  if (train_set.height != net_options.image_size() || train_set.width != net_options.image_size())
    throw InvalidArgument("data set " + data + " has " + std::to_string(train_set.height) + "x" +
                          std::to_string(train_set.width) + " images, the classifier expects " +
                          std::to_string(net_options.image_size()) + "x" + std::to_string(net_options.image_size()));
  const nlohmann::json config = {{"command", "train-classifier"},
                                 {"data", data},
                                 {"classifier", net_options.to_json()},
                                 {"train", train.to_json()},
                                 {"device", device.str()}};
  io::RunFolder run(out, config, io::RunFolder::Placement::in_place);  // an interrupted training keeps its classifier
  run.log("train-classifier: " + std::to_string(train_set.size()) + " training and " + std::to_string(test_set.size()) +
              " test images from " + data,
          !progress);

  Classifier model(net_options);
  const auto x = images_to_tensor(train_set);
  const auto y = labels_to_tensor(train_set);
  io::Table metrics({"step", "loss", "batch_accuracy", "lr", "seconds"});
  const std::int64_t log_every = 10;
  double loss_sum = 0.0, acc_sum = 0.0;
  std::int64_t window = 0;
  ClassifierTrainHooks hooks;
  hooks.should_stop = should_stop;
  std::unique_ptr<io::Progress> bar;
  hooks.on_step = [&](std::int64_t step, std::int64_t total, double loss, double acc, double lr) {
    if (!bar) bar = std::make_unique<io::Progress>("train-classifier", static_cast<std::size_t>(total), progress);
    loss_sum += loss;
    acc_sum += acc;
    ++window;
    if (step % log_every == 0 || step == total) {
      metrics.add_row({static_cast<double>(step), loss_sum / window, acc_sum / window, lr, bar->elapsed_seconds()});
      char status[96];
      std::snprintf(status, sizeof status, "loss=%.4f acc=%.3f", loss_sum / window, acc_sum / window);
      bar->update(static_cast<std::size_t>(step), status);
      loss_sum = acc_sum = 0.0;
      window = 0;
    }
  };
  const ClassifierTrainResult tr = train_classifier(model, x, y, train, device, hooks);
  if (bar) bar->finish();
  metrics.save(run.path("metrics.csv"));

  ClassifierRunResult result;
  result.test_accuracy = classifier_accuracy(model, images_to_tensor(test_set), labels_to_tensor(test_set), device);
  result.train_seconds = tr.seconds;
  result.steps = tr.steps;
  result.stopped = tr.stopped;
  result.n_train = train_set.size();
  result.n_test = test_set.size();
  result.checkpoint = run.path("classifier.pt");
  nlohmann::json saved = config;
  saved["test_accuracy"] = result.test_accuracy;
  saved["steps"] = tr.steps;
  saved["stopped"] = tr.stopped;
  save_classifier(result.checkpoint, model, saved);
  run.write_json("result.json", result.to_json());
  char line[160];
  std::snprintf(line, sizeof line, "train-classifier: %lld steps in %.1f s, test accuracy %.4f%s",
                static_cast<long long>(tr.steps), tr.seconds, result.test_accuracy, tr.stopped ? " (interrupted)" : "");
  run.log(line, !progress);
  result.classifier = load_classifier(result.checkpoint, device);
  return result;
}

LoadedClassifier load_or_train_classifier(const std::filesystem::path& run, torch::Device device, bool progress,
                                          const std::function<bool()>& should_stop) {
  namespace fs = std::filesystem;
  const bool exists = fs::is_directory(run) ? fs::exists(run / "classifier.pt") : fs::exists(run);
  if (exists || run.extension() == ".pt") return load_classifier(run, device);  // errors name the file
  // Train only into a new or empty folder: never into another kind of run (a VAE, a score model ...).
  std::error_code ec;
  if (fs::is_directory(run, ec) && !fs::is_empty(run, ec)) {
    std::string kind;
    try {
      kind = nlohmann::json::parse(io::read_file(run / "config.json")).value("command", std::string());
    } catch (const std::exception&) {
    }
    throw InvalidArgument("--classifier " + run.string() + " holds no classifier.pt" +
                          (kind.empty() ? std::string() : " (it is a '" + kind + "' run)") +
                          ": give a classifier run, or a new or empty folder to train one in");
  }
  if (fs::exists(run, ec) && !fs::is_directory(run, ec))
    throw InvalidArgument("--classifier " + run.string() + " is a file, not a classifier run folder or .pt file");
  if (progress)
    std::fprintf(stderr, "rbsm: no classifier in %s; training one on MNIST first (default options)\n", run.c_str());
  auto result =
      train_classifier_run("mnist", run, ClassifierOptions(), ClassifierTrainOptions(), device, progress, should_stop);
  if (result.stopped) throw Error("classifier training was interrupted; its checkpoint is in " + run.string());
  return std::move(result.classifier);
}

}  // namespace rbsm::nn
