#pragma once
/// Kernel density estimates on M, the baseline every density fit is compared with (docs/fit.md §5).
/// With respect to the Riemannian volume, exactly normalised:
///   S^d:   p(z) = (1/N) sum_j C_d(kappa) exp(kappa <z, z_j>)           (von Mises-Fisher kernels, vmf.hpp)
///   tori:  p(z) = (1/N) sum_j prod_i exp(kappa cos(a_i - a_ij)) / (2 pi I_0(kappa)) / sqrt(det g(a))
///          (von Mises kernels in the angular chart divided by the area element, so that it integrates
///          to one against the area measure).
/// The bandwidth kappa is chosen on a validation set by its mean log-likelihood over a log-spaced grid.
#include <memory>
#include <vector>

#include "rbsm/geometry/manifold.hpp"

namespace rbsm::dist {

using geometry::Mat;
using geometry::Vec;

/// True where KernelDensity exists: spheres and the tori.
bool kde_available(const geometry::Manifold& manifold);

class KernelDensity {
 public:
  /// `references` N x D on M (N >= 1); kappa > 0 finite. The manifold must be a sphere or a torus.
  KernelDensity(std::shared_ptr<const geometry::Manifold> manifold, Mat references, double kappa);
  double kappa() const { return kappa_; }
  /// log p at each row of `points` (on M), parallel over rows; deterministic.
  Vec log_density(const Mat& points, int threads = 0) const;

 private:
  std::shared_ptr<const geometry::Manifold> manifold_;
  Mat refs_;  // sphere: the points; torus: their angles (N x 2)
  double kappa_, log_kernel_norm_;
  bool sphere_;
};

struct BandwidthChoice {
  double kappa = 0;                        ///< the best kappa of the grid
  double val_nll = 0;                      ///< its mean validation NLL (nats)
  std::vector<double> grid, grid_val_nll;  ///< the whole search
};
/// Mean validation NLL over kappa = kappa_min ... kappa_max (`count` log-spaced values), then a
/// golden-section refinement in log kappa around the best grid point.
BandwidthChoice choose_kde_bandwidth(std::shared_ptr<const geometry::Manifold> manifold, const Mat& train,
                                     const Mat& val, double kappa_min = 1.0, double kappa_max = 1e5, int count = 31,
                                     int threads = 0);

}  // namespace rbsm::dist
