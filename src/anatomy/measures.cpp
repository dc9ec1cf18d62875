#include "rbsm/anatomy/measures.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "rbsm/error.hpp"

namespace rbsm::anatomy {

void check_kappa(double kappa) {
  if (!(kappa > -1) || !std::isfinite(kappa))
    throw InvalidArgument("kappa = " + std::to_string(kappa) +
                          ", expected kappa > -1 (the noise-floor threshold (1 + kappa) sigma_t^2 must be positive)");
}

int local_dimension(const Eigen::VectorXd& s, double sigma2, double kappa) {
  check_kappa(kappa);
  if (!(sigma2 > 0) || !std::isfinite(sigma2))
    throw InvalidArgument("local dimension: sigma_t^2 = " + std::to_string(sigma2) + ", expected > 0");
  for (Eigen::Index i = 1; i < s.size(); ++i)
    if (!(s(i) >= s(i - 1)))
      throw InvalidArgument("local dimension: singular values not ascending at rank " + std::to_string(i + 1));
  const double floor = (1 + kappa) * sigma2;
  // r = the last (1-based) rank whose 1/s_i reaches the floor; every rank beyond it is below.
  for (Eigen::Index i = s.size(); i >= 1; --i) {
    const double inv = s(i - 1) > 0 ? 1.0 / s(i - 1) : std::numeric_limits<double>::infinity();
    if (!(inv < floor)) return static_cast<int>(i);
  }
  return 0;
}

Eigen::VectorXd cos_uv(const Eigen::MatrixXd& U, const Eigen::MatrixXd& V) {
  if (U.rows() != V.rows() || U.cols() != V.cols()) throw InvalidArgument("cos_uv: U and V differ in shape");
  return (U.cwiseProduct(V)).colwise().sum().transpose();
}

namespace {
void check_same_shape(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) {
  if (A.rows() != B.rows() || A.cols() != B.cols() || A.cols() == 0)
    throw InvalidArgument("overlap: bases of shapes " + std::to_string(A.rows()) + "x" + std::to_string(A.cols()) +
                          " and " + std::to_string(B.rows()) + "x" + std::to_string(B.cols()) +
                          ", expected equal and non-empty");
}
}  // namespace

Eigen::VectorXd overlap_curve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) {
  check_same_shape(A, B);
  const Eigen::Index D = A.cols();
  // M_kj = (b_k . a_j)^2 / |a_j|^2; the explained fraction of a_j by b_1..b_n is sum_{k<=n} M_kj.
  const Eigen::MatrixXd C = B.transpose() * A;
  const Eigen::RowVectorXd norm2 = A.colwise().squaredNorm();
  Eigen::MatrixXd M = C.cwiseAbs2();
  for (Eigen::Index j = 0; j < D; ++j) M.col(j) /= norm2(j);
  // S(n) = sum_{j,k <= n} M_kj grows by row n and column n of the leading block.
  Eigen::VectorXd phi(D);
  double S = 0;
  for (Eigen::Index n = 1; n <= D; ++n) {
    const Eigen::Index m = n - 1;
    S += M.row(m).head(n).sum() + M.col(m).head(m).sum();
    phi(m) = S / static_cast<double>(n);  // = 1 - 1/n sum_j (1 - explained_j)
  }
  return phi;
}

double overlap(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B, int n) {
  check_same_shape(A, B);
  if (n < 1 || n > A.cols())
    throw InvalidArgument("overlap: n = " + std::to_string(n) + ", expected 1 <= n <= " + std::to_string(A.cols()));
  double sum = 0;
  for (int j = 0; j < n; ++j) {
    Eigen::VectorXd a_hat = Eigen::VectorXd::Zero(A.rows());
    for (int k = 0; k < n; ++k) a_hat += B.col(k).dot(A.col(j)) * B.col(k);
    sum += (a_hat - A.col(j)).squaredNorm() / A.col(j).squaredNorm();
  }
  return 1.0 - sum / n;
}

}  // namespace rbsm::anatomy
