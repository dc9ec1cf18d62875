// Sample quality: Frechet distance in classifier features and class histogram (sample_quality.hpp).
#include "rbsm/nn/sample_quality.hpp"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "rbsm/data/frechet.hpp"
#include "rbsm/error.hpp"
#include "rbsm/nn/tensor_data.hpp"

namespace rbsm::nn {

nlohmann::json SampleQuality::to_json() const {
  nlohmann::json j = {{"n", n},
                      {"frechet_distance", frechet_distance},
                      {"class_histogram", class_histogram},
                      {"mean_confidence", mean_confidence},
                      {"classifier_accuracy", classifier_accuracy}};
  if (std::isfinite(reference_frechet_distance)) j["reference_frechet_distance"] = reference_frechet_distance;
  return j;
}

SampleQuality evaluate_samples(const torch::Tensor& images01, Classifier& classifier, const data::ImageSet& heldout,
                               torch::Device device, const data::ImageSet* reference) {
  const std::int64_t s = classifier->options().image_size();
  if (images01.dim() != 4 || images01.size(1) != 1 || images01.size(2) != s || images01.size(3) != s)
    throw InvalidArgument("evaluate_samples: samples of shape " + c10::str(images01.sizes()) + ", expected [n, 1, " +
                          std::to_string(s) + ", " + std::to_string(s) + "]");
  if (images01.size(0) < 2) throw InvalidArgument("evaluate_samples: need at least 2 samples");
  if (heldout.size() < 2 || heldout.height != s || heldout.width != s)
    throw InvalidArgument("evaluate_samples: need at least 2 held-out images of " + std::to_string(s) + "x" +
                          std::to_string(s));
  const auto x = images01.to(torch::kCPU, torch::kFloat32);
  if (!torch::isfinite(x).all().item<bool>()) throw InvalidArgument("evaluate_samples: samples contain NaN or Inf");
  SampleQuality q;
  q.n = x.size(0);
  const auto logits = classifier_logits(classifier, x, device);
  const auto probs = torch::softmax(logits, 1);
  q.mean_confidence = std::get<0>(probs.max(1)).to(torch::kFloat64).mean().item<double>();
  const auto pred = logits.argmax(1);
  q.class_histogram.assign(classifier->options().num_classes(), 0);
  const auto p = pred.accessor<std::int64_t, 1>();
  for (std::int64_t i = 0; i < q.n; ++i) ++q.class_histogram[p[i]];

  const auto held_x = images_to_tensor(heldout);
  const Eigen::MatrixXd held_f = to_eigen(classifier_features(classifier, held_x, device));
  q.frechet_distance = data::frechet_distance(to_eigen(classifier_features(classifier, x, device)), held_f);
  q.classifier_accuracy = classifier_accuracy(classifier, held_x, labels_to_tensor(heldout), device);
  q.reference_frechet_distance = std::numeric_limits<double>::quiet_NaN();
  if (reference != nullptr && reference->size() >= 2) {
    // n evenly spaced images (data sets may be sorted by class, so not the first n).
    const std::int64_t m = std::min<std::int64_t>(q.n, reference->size());
    std::vector<int> pick(m);
    for (std::int64_t i = 0; i < m; ++i) pick[i] = static_cast<int>(i * reference->size() / m);
    const auto ref_x = images_to_tensor(reference->subset(pick));
    q.reference_frechet_distance =
        data::frechet_distance(to_eigen(classifier_features(classifier, ref_x, device)), held_f);
  }
  return q;
}

}  // namespace rbsm::nn
