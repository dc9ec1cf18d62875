#pragma once
/// F: R^D -> R^k with derivatives by Eigen's forward-mode automatic differentiation
/// (unsupported/Eigen/AutoDiff), for LevelSetManifold (docs/level_set.md §1). Kept out of
/// level_set.hpp so that only the files that differentiate a functor pay for the AutoDiff headers.
#include <Eigen/Dense>
#include <unsupported/Eigen/AutoDiff>

#include "rbsm/geometry/level_set.hpp"

namespace rbsm::geometry {

/// Wraps a templated functor `template <class T> Eigen::Matrix<T, -1, 1> operator()(const
/// Eigen::Matrix<T, -1, 1>& x) const` (returning the k values of F) into a LevelSetFunction whose
/// Jacobian comes from Eigen's forward-mode AutoDiffScalar and whose Hessians come from nested
/// (forward-over-forward) AutoDiffScalar.
template <class Functor>
LevelSetFunction autodiff_level_set(int D, int k, Functor f) {
  LevelSetFunction out;
  out.D = D;
  out.k = k;
  out.eval = [f, D, k](const Vec& x, int order) {
    using Inner = Eigen::AutoDiffScalar<Eigen::VectorXd>;
    using InnerVec = Eigen::Matrix<Inner, Eigen::Dynamic, 1>;
    using Outer = Eigen::AutoDiffScalar<InnerVec>;
    LevelSetJet jet;
    if (order <= 0) {
      jet.F = f(x);
      return jet;
    }
    if (order == 1) {
      InnerVec xa(D);
      for (int i = 0; i < D; ++i) xa(i) = Inner(x(i), D, i);
      const InnerVec y = f(xa);
      jet.F.resize(k);
      jet.J.resize(k, D);
      for (int c = 0; c < k; ++c) {
        jet.F(c) = y(c).value();
        jet.J.row(c) = y(c).derivatives().transpose();
      }
      return jet;
    }
    Eigen::Matrix<Outer, Eigen::Dynamic, 1> xa(D);
    for (int i = 0; i < D; ++i) {
      xa(i).value() = Inner(x(i), D, i);
      xa(i).derivatives().resize(D);
      for (int j = 0; j < D; ++j) xa(i).derivatives()(j) = Inner(i == j ? 1.0 : 0.0, Eigen::VectorXd::Zero(D));
    }
    const Eigen::Matrix<Outer, Eigen::Dynamic, 1> y = f(xa);
    jet.F.resize(k);
    jet.J.resize(k, D);
    jet.hessians.assign(k, Mat::Zero(D, D));
    for (int c = 0; c < k; ++c) {
      jet.F(c) = y(c).value().value();
      const InnerVec& g = y(c).derivatives();
      for (int j = 0; j < D && j < g.size(); ++j) {
        jet.J(c, j) = g(j).value();
        if (g(j).derivatives().size() == D) jet.hessians[c].row(j) = g(j).derivatives().transpose();
      }
      if (g.size() == 0) jet.J.row(c).setZero();
    }
    return jet;
  };
  return out;
}

}  // namespace rbsm::geometry
