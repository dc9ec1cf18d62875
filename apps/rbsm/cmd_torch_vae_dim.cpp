// rbsm vae-dim --checkpoint RUN [--images N --threshold 0.5 --data SPEC --out DIR] --json: the local dimension
// of held-out digits by a trained VAE (rbsm/nn/vae_study.hpp; docs/anatomy.md "VAE baseline").
#include "cli.hpp"

#include "rbsm/error.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/nn/device.hpp"
#include "rbsm/nn/vae_study.hpp"

namespace rbsm::cli {
namespace {

struct VaeDimOptions {
  std::string checkpoint, data, device = "cpu", out;
  int images = 0;
  double threshold = 0.5;
};

void bind(CLI::App& app, VaeDimOptions& o) {
  app.add_option("--checkpoint", o.checkpoint, "run folder of `rbsm train-vae` or its checkpoint.pt")->required();
  app.add_option("--images", o.images, "held-out images, spread evenly over the classes (0: all)")
      ->capture_default_str();
  app.add_option("--threshold", o.threshold, "posterior variance below which a latent counts as used")
      ->capture_default_str();
  app.add_option("--data", o.data, "held-out data (default: the data the VAE was trained on)");
  app.add_option("--out", o.out, "optional folder for local_dim.csv and local_dim.png");
  app.add_option("--device", o.device, "cpu | cuda[:N] | auto")->capture_default_str();
}

json run(const VaeDimOptions& o) {
  const torch::Device device = nn::parse_device(o.device);
  nn::check_variance_threshold(o.threshold);
  if (o.images < 0) throw InvalidArgument("--images " + std::to_string(o.images) + ": expected >= 0");
  auto vae = nn::load_vae(o.checkpoint, device);
  std::string spec = o.data;
  if (spec.empty()) spec = vae.config.value("train", json::object()).value("data", std::string("mnist"));
  if (spec.empty()) spec = "mnist";
  const auto heldout = nn::heldout_images(spec, o.images);
  const auto m = nn::measure_local_dimension(*vae.net, heldout, o.threshold, device);
  if (!o.out.empty()) {
    io::RunFolder run(o.out, {{"command", "vae-dim"},
                              {"checkpoint", o.checkpoint},
                              {"data", spec},
                              {"images", o.images},
                              {"threshold", o.threshold}});
    nn::VaeReportOptions ro;
    ro.threshold = o.threshold;
    ro.images = false;
    nn::write_vae_report(run.dir(), *vae.net, heldout, m, ro, device);
  }
  return {{"checkpoint", o.checkpoint},
          {"data", spec},
          {"images", heldout.size()},
          {"threshold", o.threshold},
          {"step", vae.step},
          {"latent_dim", vae.net->options().latent_dim()},
          {"log_gamma", vae.net->log_gamma().item<double>()},
          {"mean_posterior_variance", m.variances.mean().item<double>()},
          {"local_dim", m.summary.to_json()}};
}

Register reg("vae-dim", "Local dimension of held-out digits by a trained VAE (posterior variances below a threshold)",
             [](CLI::App& app, const Common&) -> Runner {
               auto o = std::make_shared<VaeDimOptions>();
               bind(app, *o);
               return [o]() -> json { return run(*o); };
             });

}  // namespace
}  // namespace rbsm::cli
