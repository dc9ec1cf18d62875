#include "rbsm/anatomy/jacobian.hpp"

#include <algorithm>

#include <torch/torch.h>

#include "rbsm/error.hpp"

namespace rbsm::anatomy {
namespace {
torch::Tensor as_row(const ScoreField& field, const torch::Tensor& x) {
  if (!x.defined() || x.numel() != field.dim || !(x.dim() == 1 || (x.dim() == 2 && x.size(0) == 1)))
    throw InvalidArgument("score Jacobian: point of shape " +
                          (x.defined() ? std::string(c10::str(x.sizes())) : std::string("(undefined)")) +
                          ", expected [" + std::to_string(field.dim) + "] for " + field.description);
  return x.reshape({1, field.dim});
}
}  // namespace

torch::Tensor score_jacobian(const ScoreField& field, const torch::Tensor& x, const JacobianOptions& options) {
  if (options.chunk < 1)
    throw InvalidArgument("score Jacobian: chunk = " + std::to_string(options.chunk) + ", expected >= 1");
  const auto x0 = as_row(field, x).detach();
  const std::int64_t D = field.dim;
  torch::Tensor J = torch::empty({D, D}, x0.options());
  torch::AutoGradMode grad_on(true);
  for (std::int64_t begin = 0; begin < D; begin += options.chunk) {
    const std::int64_t c = std::min(options.chunk, D - begin);
    auto xb = x0.expand({c, D}).clone().requires_grad_(true);
    const auto g = field(xb);
    // cotangent row r is e_{begin + r}: backward gives rows begin..begin+c of J
    auto cot = torch::zeros({c, D}, g.options());
    const auto r = torch::arange(c, torch::TensorOptions().dtype(torch::kLong).device(g.device()));
    cot.index_put_({r, r + begin}, 1.0);
    const auto rows = torch::autograd::grad({g}, {xb}, {cot}, /*retain_graph=*/false, /*create_graph=*/false,
                                            /*allow_unused=*/true)[0];
    if (rows.defined())
      J.narrow(0, begin, c).copy_(rows);
    else
      J.narrow(0, begin, c).zero_();  // the field does not depend on x at all
  }
  return J;
}

torch::Tensor finite_difference_jacobian(const ScoreField& field, const torch::Tensor& x, double h) {
  if (!(h > 0)) throw InvalidArgument("finite differences: step h = " + std::to_string(h) + ", expected > 0");
  const auto x0 = as_row(field, x).detach();
  const std::int64_t D = field.dim;
  torch::NoGradGuard no_grad;
  auto E = h * torch::eye(D, x0.options());
  const auto gp = field(x0 + E), gm = field(x0 - E);  // row j: g(x +- h e_j)
  return ((gp - gm) / (2 * h)).t().contiguous();      // column j = d g / d x_j
}

}  // namespace rbsm::anatomy
