#pragma once
/// The Frechet distance between two Gaussians fitted to feature vectors (docs/data.md "Frechet
/// distance"): the squared 2-Wasserstein distance between N(mu_a, S_a) and N(mu_b, S_b),
///
///   FD = |mu_a - mu_b|^2 + tr S_a + tr S_b - 2 tr (S_a^{1/2} S_b S_a^{1/2})^{1/2}.
///
/// rbsm uses the penultimate-layer features of its own MNIST classifier (rbsm::nn::Classifier), not
/// Inception: the numbers measure sample quality within rbsm but are not comparable to published FIDs.
#include <Eigen/Core>

namespace rbsm::data {

/// FD between N(mu_a, cov_a) and N(mu_b, cov_b). The matrix square roots use symmetric
/// eigen-decompositions (tiny negative eigenvalues from rounding are clamped to 0). Throws
/// InvalidArgument on mismatched sizes or non-finite input.
double frechet_distance_gaussians(const Eigen::VectorXd& mu_a, const Eigen::MatrixXd& cov_a,
                                  const Eigen::VectorXd& mu_b, const Eigen::MatrixXd& cov_b);

/// FD between the Gaussians fitted to the rows of `feats_a` and of `feats_b` (sample means and
/// unbiased sample covariances, denominator n - 1). Needs at least 2 rows each and equal column counts.
double frechet_distance(const Eigen::MatrixXd& feats_a, const Eigen::MatrixXd& feats_b);

/// Sample mean (as a column vector) and unbiased covariance of the rows of `x` (at least 2 rows).
void mean_and_covariance(const Eigen::MatrixXd& x, Eigen::VectorXd& mean, Eigen::MatrixXd& cov);

}  // namespace rbsm::data
