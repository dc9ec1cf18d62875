#pragma once
/// Sample quality of an image generator measured with rbsm's own classifier (docs/data.md):
/// the Frechet distance between classifier features of samples and of held-out digits
/// (rbsm/data/frechet.hpp), the class histogram of the samples and the classifier's mean confidence.
/// Not Inception features: the numbers are comparable within rbsm only, not to published FIDs.
#include <cstdint>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "rbsm/data/images.hpp"
#include "rbsm/nn/classifier.hpp"
#include "rbsm/nn/eigen_tensor.hpp"

namespace rbsm::nn {

struct SampleQuality {
  std::int64_t n = 0;                         ///< number of samples
  double frechet_distance = 0.0;              ///< FD(features of samples, features of held-out digits)
  std::vector<std::int64_t> class_histogram;  ///< predicted classes of the samples (num_classes bins)
  double mean_confidence = 0.0;               ///< mean max softmax probability over the samples
  double classifier_accuracy = 0.0;           ///< the classifier's accuracy on the held-out digits
  /// FD(features of n training digits, features of held-out digits): what a perfect generator scores
  /// with the same n (the finite-sample floor); NaN if no reference set was given.
  double reference_frechet_distance = 0.0;
  nlohmann::json to_json() const;
};

/// Evaluates samples images01 [n, 1, s, s] in [0, 1] (CPU; n >= 2) against `heldout` (labelled). If
/// `reference` is given (e.g. the training digits), n of its images, evenly spaced, give
/// reference_frechet_distance.
/// Throws InvalidArgument for fewer than 2 samples or held-out images, or mismatched image sizes.
SampleQuality evaluate_samples(const torch::Tensor& images01, Classifier& classifier, const data::ImageSet& heldout,
                               torch::Device device, const data::ImageSet* reference = nullptr);

}  // namespace rbsm::nn
