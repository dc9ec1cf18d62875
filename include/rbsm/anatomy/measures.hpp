#pragma once
/// What the anatomy measures on one decomposed Jacobian (docs/anatomy.md §4;
/// score-models-learn-manifold-structure §3.1-3.3).
#include <Eigen/Dense>

namespace rbsm::anatomy {

/// Checks the slack constant of the local-dimension rule: throws InvalidArgument unless kappa > -1
/// (the threshold (1 + kappa) sigma^2 must be positive) and finite.
void check_kappa(double kappa);

/// Local dimension r_t (§3.2): the smallest r such that 1/s_i < (1 + kappa) sigma_t^2 for every
/// rank i > r (ranks 1-based, s ascending). s_i = 0 counts as 1/s_i = infinity. Throws
/// InvalidArgument for kappa <= -1, sigma2 <= 0 or unsorted s.
int local_dimension(const Eigen::VectorXd& s_ascending, double sigma2, double kappa = 0.1);

/// cos_i = u_i . v_i for every rank (§3.1; -1 for a conservative Gaussian score).
Eigen::VectorXd cos_uv(const Eigen::MatrixXd& U, const Eigen::MatrixXd& V);

/// Phi_n^{a,b} of equation (2) for n = 1..D (entry n-1), with a_j, b_k the columns of A, B in rank
/// order: Phi_n = 1 - 1/n sum_{j<=n} |a^_j - a_j|^2 / |a_j|^2, a^_j = sum_{k<=n} (b_k . a_j) b_k.
/// B's columns must be orthonormal (singular vectors, eigenvectors); then
/// |a^_j - a_j|^2 = |a_j|^2 - sum_{k<=n} (b_k . a_j)^2, and the whole curve costs one D x D product
/// plus O(D^2). For orthonormal A as well Phi^{a,b} = Phi^{b,a} = |B_n^T A_n|_F^2 / n.
Eigen::VectorXd overlap_curve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B);

/// Phi_n^{a,b} straight from equation (2), for one n (reference implementation, O(n^2 D)).
double overlap(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B, int n);

}  // namespace rbsm::anatomy
