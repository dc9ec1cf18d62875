// rbsm evaluate --checkpoint RUN [--classifier RUNC] [--n N] [--steps S] [--sampler em|pc|ode] --json:
// samples N images from a score model (or reads them: --samples FILE), classifies them with rbsm's
// MNIST classifier and prints the Frechet distance to the held-out digits in the classifier's
// features, the class histogram and the classifier's held-out accuracy (docs/data.md).
#include <chrono>
#include <optional>

#include "cli.hpp"

#include "rbsm/data/images.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/io/zip_check.hpp"
#include "rbsm/nn/checkpoint.hpp"
#include "rbsm/nn/classifier_run.hpp"
#include "rbsm/nn/device.hpp"
#include "rbsm/nn/sample_quality.hpp"
#include "rbsm/nn/sampler.hpp"

namespace rbsm::cli {
namespace {
namespace fs = std::filesystem;

struct EvaluateCli {
  std::string checkpoint, samples, classifier = "runs/mnist-classifier", data, sampler = "em", device = "auto", out;
  std::int64_t n = 1000, steps = 1000, batch = 250;
  bool raw = false;
};

/// Samples saved by `rbsm sample` (samples.pt: [n, 1, h, w] in [0, 1]) or a folder holding them.
torch::Tensor read_samples(const fs::path& path) {
  const fs::path file = fs::is_directory(path) ? path / "samples.pt" : path;
  if (!fs::exists(file)) throw IoError("--samples " + file.string() + " does not exist");
  torch::Tensor x;
  try {
    torch::load(x, file.string());
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw IoError("--samples " + file.string() + ": not a readable tensor file (" + what.substr(0, what.find('\n')) +
                  ")");
  }
  io::verify_zip_checksums(file, "--samples");  // LibTorch's reader skips the zip CRCs
  return x;
}

Register reg(
    "evaluate",
    "Measure sample quality: Frechet distance (rbsm classifier features) to held-out digits, class histogram",
    [](CLI::App& app, const Common& common) -> Runner {
      auto o = std::make_shared<EvaluateCli>();
      app.add_option("--checkpoint", o->checkpoint, "score model: run folder of `rbsm train` or checkpoint.pt");
      app.add_option("--samples", o->samples, "evaluate these samples instead (samples.pt of `rbsm sample`)");
      app.add_option("--classifier", o->classifier,
                     "classifier run folder (trained there first, on MNIST, if it holds none)")
          ->capture_default_str();
      app.add_option("--data", o->data, "held-out data (default: the data the classifier was trained on)");
      app.add_option("--n", o->n, "number of samples to draw")->capture_default_str();
      app.add_option("--steps", o->steps, "sampler steps from t = 1 to t = eps")->capture_default_str();
      app.add_option("--sampler", o->sampler, "em | pc | ode")->capture_default_str();
      app.add_option("--batch", o->batch, "samples per sampling batch (0: all at once)")->capture_default_str();
      app.add_flag("--raw-weights", o->raw, "use the trained weights instead of their EMA");
      app.add_option("--device", o->device, "auto | cpu | cuda[:N]")->capture_default_str();
      app.add_option("--out", o->out, "optional run folder: evaluation.json and samples.png");
      return [o, &common]() -> json {
        if (o->checkpoint.empty() == o->samples.empty())
          throw InvalidArgument("evaluate: give exactly one of --checkpoint RUN and --samples FILE");
        const torch::Device device = nn::parse_device(o->device);
        const auto opts = nn::SamplerOptions().kind(nn::parse_sampler(o->sampler)).steps(o->steps);
        opts.validate();
        if (o->n < 2) throw InvalidArgument("--n " + std::to_string(o->n) + ": expected at least 2 samples");
        if (o->batch < 0) throw InvalidArgument("--batch " + std::to_string(o->batch) + ": expected >= 0");
        // Everything that can fail on bad input is read before sampling.
        torch::Tensor images;
        json result = json::object();
        std::optional<nn::LoadedScoreModel> model;
        if (!o->samples.empty())
          images = read_samples(o->samples);
        else
          model = nn::load_score_model(o->checkpoint, device, !o->raw);
        auto classifier =
            nn::load_or_train_classifier(o->classifier, device, true, [] { return interrupted().load(); });
        const std::string data = !o->data.empty() ? o->data : classifier.config.value("data", std::string("mnist"));
        const data::ImageSet heldout = data::load_dataset(data, false);
        const data::ImageSet reference = data::load_dataset(data, true);

        if (model) {
          const std::int64_t per_batch = o->batch == 0 ? o->n : std::min(o->batch, o->n);
          io::Progress progress("evaluate: sampling",
                                static_cast<std::size_t>((o->n + per_batch - 1) / per_batch * o->steps));
          const auto t0 = std::chrono::steady_clock::now();
          images = nn::sample_images(
              *model, o->n, opts, common.seed, nullptr, o->batch,
              [&](std::int64_t done, std::int64_t) { progress.update(static_cast<std::size_t>(done)); });
          progress.finish();
          result["sampling_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          result["checkpoint"] = o->checkpoint;
          result["checkpoint_step"] = model->step;
          result["sampler"] = o->sampler;
          result["steps"] = o->steps;
          result["ema"] = !o->raw;
        } else {
          result["samples"] = o->samples;
        }
        const auto quality = nn::evaluate_samples(images, classifier.net, heldout, device, &reference);
        result.update(quality.to_json());
        result["heldout"] = data;
        result["n_heldout"] = heldout.size();
        result["classifier"] = o->classifier;
        result["seed"] = common.seed;
        if (!o->out.empty()) {
          io::RunFolder run(o->out, {{"command", "evaluate"},
                                     {"checkpoint", o->checkpoint},
                                     {"samples", o->samples},
                                     {"classifier", o->classifier},
                                     {"data", data},
                                     {"n", o->n},
                                     {"steps", o->steps},
                                     {"sampler", o->sampler},
                                     {"seed", common.seed}});
          nn::write_sample_grid(run.path("samples.png"),
                                images.narrow(0, 0, std::min<std::int64_t>(64, images.size(0))));
          run.write_json("evaluation.json", result);
        }
        return result;
      };
    });

}  // namespace
}  // namespace rbsm::cli
