// Kernel density estimates on spheres and tori (include/rbsm/dist/kde.hpp).
#include "rbsm/dist/kde.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "rbsm/dist/special.hpp"
#include "rbsm/dist/vmf.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/parallel.hpp"

namespace rbsm::dist {

namespace {
constexpr double kTwoPi = 6.283185307179586476925;
constexpr int kBlock = 64;
}  // namespace

bool kde_available(const geometry::Manifold& M) {
  return dynamic_cast<const geometry::Sphere*>(&M) != nullptr || geometry::angular_chart(M) != nullptr;
}

KernelDensity::KernelDensity(std::shared_ptr<const geometry::Manifold> manifold, Mat references, double kappa)
    : manifold_(std::move(manifold)), kappa_(kappa) {
  if (!manifold_) throw InvalidArgument("KernelDensity: no manifold");
  if (!(kappa > 0) || !std::isfinite(kappa)) throw InvalidArgument("KernelDensity: kappa must be > 0 and finite");
  if (references.rows() < 1 || references.cols() != manifold_->ambient_dim())
    throw InvalidArgument("KernelDensity: references must be N x " + std::to_string(manifold_->ambient_dim()) +
                          " with N >= 1");
  sphere_ = dynamic_cast<const geometry::Sphere*>(manifold_.get()) != nullptr;
  const geometry::AngularChart* chart = geometry::angular_chart(*manifold_);
  if (!kde_available(*manifold_))
    throw InvalidArgument("KernelDensity: " + manifold_->spec() + " has no kernel (spheres and tori only)");
  if (sphere_) {
    refs_ = std::move(references);
    log_kernel_norm_ = log_vmf_normaliser(manifold_->dim(), kappa);
  } else {
    refs_.resize(references.rows(), 2);
    for (Eigen::Index j = 0; j < references.rows(); ++j)
      refs_.row(j) = chart->angles(references.row(j).transpose()).transpose();
    log_kernel_norm_ = -2.0 * (std::log(kTwoPi) + log_bessel_i(0.0, kappa));
  }
}

Vec KernelDensity::log_density(const Mat& points, int threads) const {
  if (points.cols() != manifold_->ambient_dim())
    throw InvalidArgument("KernelDensity: points have " + std::to_string(points.cols()) + " columns, expected " +
                          std::to_string(manifold_->ambient_dim()));
  const Eigen::Index n = points.rows(), N = refs_.rows();
  Vec out(n);
  const geometry::AngularChart* chart = geometry::angular_chart(*manifold_);
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  parallel_for(blocks, threads, [&](std::size_t b) {
    const Eigen::Index i0 = b * kBlock, nb = std::min<Eigen::Index>(kBlock, n - i0);
    Mat E(N, nb);  // kappa * (cosine similarity): log kernel without its normaliser
    Vec log_area = Vec::Zero(nb);
    if (sphere_) {
      E.noalias() = kappa_ * (refs_ * points.middleRows(i0, nb).transpose());
    } else {
      for (Eigen::Index i = 0; i < nb; ++i) {
        const Eigen::Vector2d a = chart->angles(points.row(i0 + i).transpose());
        log_area[i] = chart->log_area_element(a[0], a[1]);
        for (Eigen::Index j = 0; j < N; ++j)
          E(j, i) = kappa_ * (std::cos(a[0] - refs_(j, 0)) + std::cos(a[1] - refs_(j, 1)));
      }
    }
    for (Eigen::Index i = 0; i < nb; ++i) {
      const double m = E.col(i).maxCoeff();
      const double s = (E.col(i).array() - m).exp().sum();
      out[i0 + i] = log_kernel_norm_ + m + std::log(s) - std::log(static_cast<double>(N)) - log_area[i];
    }
  });
  return out;
}

BandwidthChoice choose_kde_bandwidth(std::shared_ptr<const geometry::Manifold> manifold, const Mat& train,
                                     const Mat& val, double kappa_min, double kappa_max, int count, int threads) {
  if (!(kappa_min > 0) || !(kappa_max > kappa_min) || !std::isfinite(kappa_max) || count < 2)
    throw InvalidArgument("choose_kde_bandwidth: need 0 < kappa_min < kappa_max < inf and count >= 2");
  BandwidthChoice c;
  const auto nll = [&](double kappa) {
    return -KernelDensity(manifold, train, kappa).log_density(val, threads).mean();
  };
  double best = std::numeric_limits<double>::infinity();
  int ib = 0;
  for (int k = 0; k < count; ++k) {
    const double kappa = kappa_min * std::pow(kappa_max / kappa_min, static_cast<double>(k) / (count - 1));
    const double v = nll(kappa);
    c.grid.push_back(kappa);
    c.grid_val_nll.push_back(v);
    if (v < best) best = v, ib = k;
  }
  // Golden section in log kappa on the bracket around the best grid point.
  double lo = std::log(c.grid[std::max(ib - 1, 0)]), hi = std::log(c.grid[std::min(ib + 1, count - 1)]);
  const double g = 0.6180339887498949;
  double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo), f1 = nll(std::exp(x1)), f2 = nll(std::exp(x2));
  for (int it = 0; it < 30 && hi - lo > 1e-4; ++it) {
    if (f1 < f2) {
      hi = x2, x2 = x1, f2 = f1, x1 = hi - g * (hi - lo), f1 = nll(std::exp(x1));
    } else {
      lo = x1, x1 = x2, f1 = f2, x2 = lo + g * (hi - lo), f2 = nll(std::exp(x2));
    }
  }
  const double xm = f1 < f2 ? x1 : x2, fm = std::min(f1, f2);
  if (fm < best) {
    c.kappa = std::exp(xm);
    c.val_nll = fm;
  } else {
    c.kappa = c.grid[ib];
    c.val_nll = best;
  }
  return c;
}

}  // namespace rbsm::dist
