#include "rbsm/anatomy/decomposition.hpp"

#include <algorithm>
#include <numeric>

#include <torch/torch.h>

#include "rbsm/error.hpp"

namespace rbsm::anatomy {

LinalgBackend parse_linalg_backend(const std::string& text) {
  if (text == "torch") return LinalgBackend::Torch;
  if (text == "eigen") return LinalgBackend::Eigen;
  throw InvalidArgument("linear algebra backend '" + text + "', expected torch or eigen");
}

std::string to_string(LinalgBackend backend) { return backend == LinalgBackend::Torch ? "torch" : "eigen"; }

Eigen::VectorXd JacobianDecomposition::w_minus() const {
  Eigen::Index i;
  lambda.minCoeff(&i);
  return W.col(i);
}
Eigen::VectorXd JacobianDecomposition::w_plus() const {
  Eigen::Index i;
  lambda.maxCoeff(&i);
  return W.col(i);
}

namespace {
/// Reorders (values, columns) by key ascending (stable).
void sort_by(const Eigen::VectorXd& key, Eigen::VectorXd& values, std::initializer_list<Eigen::MatrixXd*> columns) {
  std::vector<Eigen::Index> order(key.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return key(a) < key(b); });
  const Eigen::VectorXd v = values;
  for (Eigen::Index i = 0; i < key.size(); ++i) values(i) = v(order[i]);
  for (Eigen::MatrixXd* M : columns) {
    const Eigen::MatrixXd C = *M;
    for (Eigen::Index i = 0; i < key.size(); ++i) M->col(i) = C.col(order[i]);
  }
}
}  // namespace

JacobianDecomposition decompose_jacobian(const torch::Tensor& J_in, LinalgBackend backend) {
  if (J_in.dim() != 2 || J_in.size(0) != J_in.size(1))
    throw InvalidArgument("decompose_jacobian: matrix of shape " + std::string(c10::str(J_in.sizes())) +
                          ", expected square");
  const auto J = J_in.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  if (!torch::isfinite(J).all().item<bool>())
    throw NumericalError("decompose_jacobian: the Jacobian has non-finite entries");
  JacobianDecomposition r;
  if (backend == LinalgBackend::Torch) {
    const auto [U, S, Vh] = torch::linalg::svd(J, /*full_matrices=*/true, /*driver=*/c10::nullopt);
    const auto [L, W] = torch::linalg::eigh((J + J.t()) * 0.5, "L");
    r.U = to_eigen(U);
    r.V = to_eigen(Vh.t());
    r.s = to_eigen(S.unsqueeze(1)).col(0);
    r.lambda = to_eigen(L.unsqueeze(1)).col(0);
    r.W = to_eigen(W);
  } else {
    const Eigen::MatrixXd M = to_eigen(J);
    Eigen::BDCSVD<Eigen::MatrixXd> svd(M, Eigen::ComputeFullU | Eigen::ComputeFullV);
    r.U = svd.matrixU();
    r.V = svd.matrixV();
    r.s = svd.singularValues();
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(0.5 * (M + M.transpose()));
    r.lambda = eig.eigenvalues();
    r.W = eig.eigenvectors();
  }
  sort_by(r.s, r.s, {&r.U, &r.V});                 // ascending s (the document's order)
  sort_by(r.lambda.cwiseAbs(), r.lambda, {&r.W});  // ascending |lambda|
  return r;
}

}  // namespace rbsm::anatomy
