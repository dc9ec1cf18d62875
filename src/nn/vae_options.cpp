// The VAE's options and their JSON (include/rbsm/nn/vae.hpp): checks naming the bad value (numbers as %g),
// and exact readers for the configs of checkpoints (io::json_get).
#include <cmath>
#include <string>

#include "rbsm/error.hpp"
#include "rbsm/io/json_read.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/nn/vae.hpp"

namespace rbsm::nn {

void VAEOptions::validate() const {
  if (latent_dim() < 1)
    throw InvalidArgument("--latent " + std::to_string(latent_dim()) + ": expected a latent dimension >= 1");
  if (channels() < 1) throw InvalidArgument("--channels " + std::to_string(channels()) + ": expected >= 1");
  if (!std::isfinite(init_log_gamma()))
    throw InvalidArgument("init_log_gamma " + std::to_string(init_log_gamma()) + ": expected a finite value");
}

nlohmann::json VAEOptions::to_json() const {
  return {{"latent_dim", latent_dim()},
          {"channels", channels()},
          {"init_log_gamma", init_log_gamma()},
          {"image_size", kVAEImageSize}};
}

VAEOptions VAEOptions::from_json(const nlohmann::json& j) {
  try {
    VAEOptions o;
    o.latent_dim(io::json_get<std::int64_t>(j, "latent_dim"))
        .channels(io::json_get<std::int64_t>(j, "channels"))
        .init_log_gamma(io::json_get<double>(j, "init_log_gamma"));
    // The architecture is for 28 x 28 images only; a config that says otherwise is not this model's.
    if (const auto size = io::json_get_or<std::int64_t>(j, "image_size", kVAEImageSize); size != kVAEImageSize)
      throw IoError("image_size " + std::to_string(size) + ": this VAE is defined for " +
                    std::to_string(kVAEImageSize) + " x " + std::to_string(kVAEImageSize) + " images");
    o.validate();
    return o;
  } catch (const std::exception& e) {  // the JSON kinds (io::json_get) and the values (validate)
    throw IoError(std::string("malformed VAE description: ") + e.what());
  }
}

void VAETrainOptions::validate() const {
  auto bad = [](const std::string& what) { throw InvalidArgument(what); };
  if (steps() < 1) bad("--steps " + std::to_string(steps()) + ": expected at least 1 training step");
  if (batch_size() < 2)
    bad("--batch " + std::to_string(batch_size()) + ": expected a batch size >= 2 (batch normalisation)");
  if (!(lr() > 0 && std::isfinite(lr())))
    bad("--lr " + io::format_double(lr(), 6) + ": expected a positive learning rate");
  if (warmup() < 0) bad("warmup " + std::to_string(warmup()) + ": expected >= 0");
  if (!(gamma_lr_scale() > 0 && std::isfinite(gamma_lr_scale())))
    bad("--gamma-lr-scale " + io::format_double(gamma_lr_scale(), 6) + ": expected > 0");
  if (!(grad_clip() >= 0)) bad("grad_clip " + std::to_string(grad_clip()) + ": expected >= 0");
  if (checkpoint_every() < 1) bad("--checkpoint-every " + std::to_string(checkpoint_every()) + ": expected >= 1");
  if (log_every() < 1) bad("log_every " + std::to_string(log_every()) + ": expected >= 1");
}

nlohmann::json VAETrainOptions::to_json() const {
  return {{"steps", steps()},
          {"batch_size", batch_size()},
          {"lr", lr()},
          {"warmup", warmup()},
          {"gamma_lr_scale", gamma_lr_scale()},
          {"grad_clip", grad_clip()},
          {"checkpoint_every", checkpoint_every()},
          {"log_every", log_every()},
          {"seed", seed()},
          {"data", data()}};
}

VAETrainOptions VAETrainOptions::from_json(const nlohmann::json& j) {
  try {
    VAETrainOptions o;
    o.steps(io::json_get<std::int64_t>(j, "steps"))
        .batch_size(io::json_get<std::int64_t>(j, "batch_size"))
        .lr(io::json_get<double>(j, "lr"))
        .warmup(io::json_get<std::int64_t>(j, "warmup"))
        .gamma_lr_scale(io::json_get_or(j, "gamma_lr_scale", 1.0))
        .grad_clip(io::json_get<double>(j, "grad_clip"))
        .checkpoint_every(io::json_get<std::int64_t>(j, "checkpoint_every"))
        .log_every(io::json_get<std::int64_t>(j, "log_every"))
        .seed(io::json_get<std::uint64_t>(j, "seed"))
        .data(io::json_get_or(j, "data", std::string()));
    return o;
  } catch (const std::exception& e) {  // the JSON kinds (io::json_get) and the values (validate)
    throw IoError(std::string("malformed VAE training options: ") + e.what());
  }
}

}  // namespace rbsm::nn
