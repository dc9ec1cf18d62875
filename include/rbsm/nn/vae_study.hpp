#pragma once
/// The VAE measurement study (docs/anatomy.md "VAE baseline"): train the VAE of nn/vae.hpp (or reuse a
/// finished checkpoint of the same settings), then measure the local dimension of held-out images and
/// write its files. One flow for `rbsm train-vae`, `rbsm vae-dim` and the reproduce experiment "vae".
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <torch/torch.h>

#include "rbsm/data/images.hpp"
#include "rbsm/nn/vae.hpp"

namespace rbsm::nn {

/// `n` held-out images of data set `spec` spread evenly over the held-out set (which is ordered by
/// class): indices floor(i * size / n); n <= 0 or n >= size: all of them. Throws IoError for an empty set.
data::ImageSet heldout_images(const std::string& spec, int n);

struct VaeMeasurement {
  LocalDimSummary summary;                ///< all images and per class
  DimStats not_one;                       ///< digits other than 1, pooled over images
  torch::Tensor dims, labels, variances;  ///< [n], [n] (int64) and [n, L] posterior variances
};

/// The local dimension of every image of `set` (posterior variances below `threshold`).
VaeMeasurement measure_local_dimension(VAEImpl& vae, const data::ImageSet& set, double threshold, torch::Device device);

struct VaeReportOptions {
  double threshold = 0.5;
  std::string title = "VAE baseline";  ///< of local_dim.png (vae_study: "{steps}" -> the step count)
  bool images = true;                  ///< also reconstructions.png and samples.png
  std::uint64_t seed = 0;              ///< the prior draws of samples.png (Rng(seed, 0))
};
/// Writes into `dir`: local_dim.csv (image, label, local_dim), local_dim.png (mean per class beside the
/// document's approximate values; distribution over images for digit 1 and the others) and, with
/// `images`, reconstructions.png (rows of 8: originals, then mu_theta(mu_phi(x)), twice) and samples.png
/// (64 decoder means at z ~ N(0, I)).
void write_vae_report(const std::filesystem::path& dir, VAEImpl& vae, const data::ImageSet& heldout,
                      const VaeMeasurement& m, const VaeReportOptions& options, torch::Device device);

struct VaeStudyOptions {
  VAEOptions vae;
  VAETrainOptions train;
  VaeReportOptions report;
  bool reuse = false;  ///< keep a finished checkpoint in the run folder with these same settings
  std::string progress_label = "train-vae";
};

struct VaeStudy {
  VAETrainResult train;  ///< what training did (reused: step of the checkpoint, 0 seconds)
  bool reused = false;
  LoadedVAE vae;  ///< the trained model, reloaded from its checkpoint
  VaeMeasurement measurement;
};

/// Trains on `train_set` into `run` (checkpoint.pt, metrics.csv; a progress bar on stderr; `should_stop`
/// polled every step), reloads the checkpoint, measures `heldout` and writes the report into `report_dir`.
/// Throws like train_vae and load_vae.
VaeStudy vae_study(const VaeStudyOptions& options, const data::ImageSet& train_set, const data::ImageSet& heldout,
                   const std::filesystem::path& run, const std::filesystem::path& report_dir, torch::Device device,
                   const std::function<bool()>& should_stop = {});

}  // namespace rbsm::nn
