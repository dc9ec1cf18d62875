#pragma once
/// SVD of the score Jacobian and eigen-decomposition of its symmetric part (docs/anatomy.md §3;
/// score-models-learn-manifold-structure §2-3), with the document's ordering:
///   J = sum_i u_i s_i v_i^T, s_1 <= s_2 <= ... <= s_D (ascending): u_- = u_1, v_- = v_1 (minor),
///   u_+ = u_D, v_+ = v_D (major);
///   J~ = (J + J^T)/2 = sum_i lambda_i w_i w_i^T, ordered by |lambda_i| ascending, so that rank i of
///   w matches rank i of (u, v) (for a conservative field s_i = |lambda_i|): w_0 = w_1 (smallest
///   |lambda|), w_- = argmin lambda (most negative), w_+ = argmax lambda (most positive).
#include <string>

#include <Eigen/Dense>
#include <torch/types.h>

#include "rbsm/nn/eigen_tensor.hpp"

namespace rbsm::anatomy {

/// Which linear algebra does the decompositions: LibTorch's (LAPACK gesdd/syevd, here through
/// OpenBLAS) or Eigen's (BDCSVD, SelfAdjointEigenSolver; pure C++).
enum class LinalgBackend { Torch, Eigen };
LinalgBackend parse_linalg_backend(const std::string& text);  ///< "torch" | "eigen"
std::string to_string(LinalgBackend backend);

struct JacobianDecomposition {
  Eigen::VectorXd s;       ///< singular values, ascending
  Eigen::MatrixXd U, V;    ///< columns u_i, v_i in the same order: J v_i = s_i u_i
  Eigen::VectorXd lambda;  ///< eigenvalues of (J + J^T)/2, by |lambda| ascending
  Eigen::MatrixXd W;       ///< columns w_i in the same order

  Eigen::Index dim() const { return s.size(); }
  Eigen::VectorXd u_minus() const { return U.col(0); }
  Eigen::VectorXd v_minus() const { return V.col(0); }
  Eigen::VectorXd u_plus() const { return U.col(dim() - 1); }
  Eigen::VectorXd v_plus() const { return V.col(dim() - 1); }
  Eigen::VectorXd w_zero() const { return W.col(0); }
  Eigen::VectorXd w_minus() const;  ///< eigenvector of the most negative eigenvalue
  Eigen::VectorXd w_plus() const;   ///< eigenvector of the most positive eigenvalue
};

/// Decomposes a square Jacobian (any dtype/device; computed in double). Throws InvalidArgument if J
/// is not square, NumericalError if it has non-finite entries.
JacobianDecomposition decompose_jacobian(const torch::Tensor& J, LinalgBackend backend = LinalgBackend::Torch);

/// A [rows, cols] tensor as a double Eigen matrix (a copy): the one conversion, rbsm/nn/eigen_tensor.hpp.
using nn::to_eigen;

}  // namespace rbsm::anatomy
