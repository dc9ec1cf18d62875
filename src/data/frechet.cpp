// Frechet distance between Gaussians fitted to features (include/rbsm/data/frechet.hpp).
#include "rbsm/data/frechet.hpp"

#include <cmath>
#include <string>

#include <Eigen/Eigenvalues>

#include "rbsm/error.hpp"

namespace rbsm::data {

void mean_and_covariance(const Eigen::MatrixXd& x, Eigen::VectorXd& mean, Eigen::MatrixXd& cov) {
  if (x.rows() < 2)
    throw InvalidArgument("mean_and_covariance: " + std::to_string(x.rows()) + " rows, need at least 2");
  if (!x.allFinite()) throw InvalidArgument("mean_and_covariance: features contain NaN or Inf");
  mean = x.colwise().mean().transpose();
  const Eigen::MatrixXd centred = x.rowwise() - mean.transpose();
  cov = centred.transpose() * centred / static_cast<double>(x.rows() - 1);
}

double frechet_distance_gaussians(const Eigen::VectorXd& mu_a, const Eigen::MatrixXd& cov_a,
                                  const Eigen::VectorXd& mu_b, const Eigen::MatrixXd& cov_b) {
  const auto d = mu_a.size();
  if (mu_b.size() != d || cov_a.rows() != d || cov_a.cols() != d || cov_b.rows() != d || cov_b.cols() != d)
    throw InvalidArgument("frechet_distance: sizes differ (mean " + std::to_string(d) + " vs " +
                          std::to_string(mu_b.size()) + ", covariances " + std::to_string(cov_a.rows()) + "x" +
                          std::to_string(cov_a.cols()) + " and " + std::to_string(cov_b.rows()) + "x" +
                          std::to_string(cov_b.cols()) + ")");
  if (!mu_a.allFinite() || !mu_b.allFinite() || !cov_a.allFinite() || !cov_b.allFinite())
    throw InvalidArgument("frechet_distance: NaN or Inf in the means or covariances");
  // S_a^{1/2} from the eigen-decomposition of the (symmetrised) S_a.
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> ea(0.5 * (cov_a + cov_a.transpose()));
  const Eigen::VectorXd root_a = ea.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  const Eigen::MatrixXd sqrt_a = ea.eigenvectors() * root_a.asDiagonal() * ea.eigenvectors().transpose();
  // tr (S_a^{1/2} S_b S_a^{1/2})^{1/2} = sum of square roots of the eigenvalues of this PSD matrix.
  const Eigen::MatrixXd m = sqrt_a * cov_b * sqrt_a;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> em(0.5 * (m + m.transpose()), Eigen::EigenvaluesOnly);
  const double tr_sqrt = em.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
  const double fd = (mu_a - mu_b).squaredNorm() + cov_a.trace() + cov_b.trace() - 2.0 * tr_sqrt;
  return std::max(fd, 0.0);  // rounding can leave -1e-12 for equal Gaussians
}

double frechet_distance(const Eigen::MatrixXd& feats_a, const Eigen::MatrixXd& feats_b) {
  if (feats_a.cols() != feats_b.cols())
    throw InvalidArgument("frechet_distance: feature dimensions differ (" + std::to_string(feats_a.cols()) + " vs " +
                          std::to_string(feats_b.cols()) + ")");
  Eigen::VectorXd mu_a, mu_b;
  Eigen::MatrixXd cov_a, cov_b;
  mean_and_covariance(feats_a, mu_a, cov_a);
  mean_and_covariance(feats_b, mu_b, cov_b);
  return frechet_distance_gaussians(mu_a, cov_a, mu_b, cov_b);
}

}  // namespace rbsm::data
