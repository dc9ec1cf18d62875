#include "rbsm/anatomy/lid_bench.hpp"

#include <chrono>
#include <cmath>
#include <limits>

#include <ATen/CPUGeneratorImpl.h>

#include "rbsm/anatomy/measures.hpp"
#include "rbsm/error.hpp"
#include "rbsm/nn/device.hpp"

namespace rbsm::anatomy {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TimeScoreModel time_mlp_score(const TimeMLP& model, const std::string& description) {
  TimeScoreModel m;
  m.dim = model->dim;
  m.sde = model->sde;
  m.dtype = torch::kFloat32;
  m.description = description;
  std::shared_ptr<TimeMLPImpl> net = model.ptr();
  const nn::VPSDE sde = model->sde;
  m.score = [net, sde](const torch::Tensor& x, const torch::Tensor& t) {
    return -net->forward(x, t) / sde.sigma(t).to(x.dtype()).reshape({-1, 1});
  };
  return m;
}

// ------------------------------------------------------------------ evaluation

std::vector<LidMethodResult> evaluate_lid(const TimeScoreModel& model, const Eigen::MatrixXd& points,
                                          const std::vector<int>& truth, const LidOptions& options, std::uint64_t seed,
                                          const std::function<void(std::int64_t, std::int64_t)>& progress) {
  options.validate();
  const std::int64_t n = points.rows();
  if (n < 1) throw InvalidArgument("LID evaluation: no points");
  if (points.cols() != model.dim)
    throw InvalidArgument("LID evaluation: points in R^" + std::to_string(points.cols()) + ", the model is on R^" +
                          std::to_string(model.dim));
  if (!truth.empty() && static_cast<std::int64_t>(truth.size()) != n)
    throw InvalidArgument("LID evaluation: " + std::to_string(truth.size()) + " true dimensions for " +
                          std::to_string(n) + " points");
  const auto X = nn::to_tensor(points).to(model.dtype);
  const std::vector<LidMethod> methods{LidMethod::SingularValue, LidMethod::NormalBundle, LidMethod::Flipd};
  std::vector<LidMethodResult> out;
  std::int64_t done = 0;
  for (const auto method : methods) {
    LidMethodResult r;
    r.method = method;
    r.truth = truth;
    double seconds = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      Rng rng(seed, static_cast<std::uint64_t>(i));
      const auto x0 = X[i];
      const auto t0 = std::chrono::steady_clock::now();
      double est = 0;
      switch (method) {
        case LidMethod::SingularValue:
          est = singular_value_lid(model, x0, options);
          break;
        case LidMethod::NormalBundle:
          est = normal_bundle_lid(model, x0, options, rng);
          break;
        case LidMethod::Flipd:
          est = flipd_lid(model, x0, options, rng).estimate;
          break;
      }
      seconds += seconds_since(t0);
      r.estimates.push_back(est);
      if (progress) progress(++done, n * static_cast<std::int64_t>(methods.size()));
    }
    double sum = 0, sum2 = 0, err = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      sum += r.estimates[i];
      sum2 += r.estimates[i] * r.estimates[i];
      if (!truth.empty()) err += std::abs(r.estimates[i] - truth[i]);
    }
    r.mean_estimate = sum / n;
    r.sd_estimate = n > 1 ? std::sqrt(std::max(0.0, (sum2 - n * r.mean_estimate * r.mean_estimate) / (n - 1))) : 0.0;
    r.mae = truth.empty() ? std::numeric_limits<double>::quiet_NaN() : err / n;
    r.seconds_per_point = seconds / n;
    out.push_back(std::move(r));
  }
  return out;
}

void LidBenchOptions::validate() const {
  if (points < 1) throw InvalidArgument("--points " + std::to_string(points) + ", expected >= 1");
  if (train_points < 1) throw InvalidArgument("--train-points " + std::to_string(train_points) + ", expected >= 1");
  if (train.steps < 1) throw InvalidArgument("--steps " + std::to_string(train.steps) + ", expected >= 1");
  train.validate();
  lid.validate();
}

LidBenchResult run_lid_benchmark(const std::string& spec, const LidBenchOptions& options, std::uint64_t seed,
                                 const std::function<void(std::int64_t, double)>& on_train_step,
                                 const std::function<void(std::int64_t, std::int64_t)>& on_eval) {
  options.validate();
  Rng iso_rng(seed, 1), train_rng(seed, 2), test_rng(seed, 3);
  const auto manifold = make_embedded_manifold(spec, iso_rng);
  const Eigen::MatrixXd train = manifold.sample(options.train_points, train_rng);
  std::vector<int> truth;
  const Eigen::MatrixXd test = manifold.sample(options.points, test_rng, &truth);
  TimeMLPTrainOptions to = options.train;
  to.seed = seed;
  const auto trained = train_time_mlp(train, to, on_train_step);
  const auto model = time_mlp_score(trained.model, "time MLP on " + manifold.label);
  LidBenchResult r;
  r.spec = spec;
  r.label = manifold.label;
  r.ambient_dim = manifold.D;
  r.final_loss = trained.final_loss;
  r.train_seconds = trained.seconds;
  double s = 0;
  for (int d : truth) s += d;
  r.mean_true_dim = s / static_cast<double>(truth.size());
  r.methods = evaluate_lid(model, test, truth, options.lid, seed, on_eval);
  return r;
}

}  // namespace rbsm::anatomy
