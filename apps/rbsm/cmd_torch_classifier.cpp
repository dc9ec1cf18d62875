// rbsm train-classifier --data mnist --out RUN [--epochs N --batch B --lr ...]: trains the small CNN
// that measures sample quality (features for the Frechet distance, class histogram); docs/data.md.
#include "cli.hpp"

#include "rbsm/nn/classifier_run.hpp"
#include "rbsm/nn/device.hpp"
#include "rbsm/parallel.hpp"

namespace rbsm::cli {
namespace {

Register reg(
    "train-classifier", "Train the MNIST classifier used by `rbsm evaluate` (Frechet distance, class histogram)",
    [](CLI::App& app, const Common& common) -> Runner {
      struct Opts {
        std::string data = "mnist", out, device = "cpu";
        std::int64_t epochs = 10, batch = 128, channels = 16, feature_dim = 128, warmup = 100;
        double lr = 3e-3, weight_decay = 1e-4, dropout = 0.0, shift = 2.0, rotation = 10.0, scale = 0.1;
      };
      auto o = std::make_shared<Opts>();
      app.add_option("--data", o->data, "mnist | fashion-mnist | DIR with IDX files")->capture_default_str();
      app.add_option("--out", o->out, "run folder (classifier.pt, metrics.csv, config.json, log.txt)")->required();
      app.add_option("--epochs", o->epochs, "passes over the training data")->capture_default_str();
      app.add_option("--batch", o->batch, "batch size")->capture_default_str();
      app.add_option("--lr", o->lr, "peak learning rate (AdamW; warm-up then cosine decay)")->capture_default_str();
      app.add_option("--weight-decay", o->weight_decay, "AdamW weight decay")->capture_default_str();
      app.add_option("--warmup", o->warmup, "learning-rate warm-up steps")->capture_default_str();
      app.add_option("--channels", o->channels, "width C of the first convolution")->capture_default_str();
      app.add_option("--feature-dim", o->feature_dim, "penultimate-layer size (Frechet features)")
          ->capture_default_str();
      app.add_option("--dropout", o->dropout, "dropout before the last layer")->capture_default_str();
      app.add_option("--shift", o->shift, "augmentation: max shift in pixels (0: none)")->capture_default_str();
      app.add_option("--rotation", o->rotation, "augmentation: max rotation in degrees")->capture_default_str();
      app.add_option("--scale", o->scale, "augmentation: max relative scale change")->capture_default_str();
      app.add_option("--device", o->device, "cpu | cuda | cuda:N | auto")->capture_default_str();
      return [o, &common]() -> json {
        const torch::Device device = nn::parse_device(o->device);
        nn::ClassifierOptions net;
        net.channels(o->channels).feature_dim(o->feature_dim).dropout(o->dropout);
        nn::ClassifierTrainOptions train;
        train.epochs(o->epochs)
            .batch_size(o->batch)
            .lr(o->lr)
            .weight_decay(o->weight_decay)
            .warmup(o->warmup)
            .max_shift(o->shift)
            .max_rotation(o->rotation)
            .max_scale(o->scale)
            .seed(common.seed);
        const auto result = nn::train_classifier_run(o->data, o->out, net, train, device, /*progress=*/true,
                                                     [] { return interrupted().load(); });
        json j = result.to_json();
        j["data"] = o->data;
        j["threads"] = resolve_threads(common.threads);
        return j;
      };
    });

}  // namespace
}  // namespace rbsm::cli
