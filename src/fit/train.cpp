// Training a manifold score model with raw or RB targets (include/rbsm/fit/fit.hpp, docs/fit.md §3).
#include "rbsm/nn/train.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "../nn/checkpoint_io.hpp"
#include "detail.hpp"

#include "rbsm/dsm/rb_estimator.hpp"
#include "rbsm/dsm/targets.hpp"
#include "rbsm/error.hpp"
#include "rbsm/fit/fit.hpp"
#include "rbsm/nn/distributed.hpp"
#include "rbsm/nn/schedule.hpp"
#include "rbsm/random.hpp"

namespace rbsm::fit {

namespace fs = std::filesystem;

namespace detail {
torch::Tensor projectors(const geometry::Manifold& M, const geometry::Mat& Y) {
  const int D = M.ambient_dim();
  torch::Tensor P = torch::empty({Y.rows(), D, D}, torch::kFloat64);
  auto a = P.accessor<double, 3>();
  for (Eigen::Index i = 0; i < Y.rows(); ++i) {
    const geometry::Mat p = M.tangent_projector(Y.row(i).transpose());
    for (int r = 0; r < D; ++r)
      for (int c = 0; c < D; ++c) a[i][r][c] = p(r, c);
  }
  return P;
}

torch::Tensor scaled_score(NoiseNet& net, const torch::Tensor& y, const torch::Tensor& sigma, const torch::Tensor& P,
                           bool create_graph) {
  if (net->options.parametrisation == Parametrisation::energy) {
    torch::Tensor x = y.detach().requires_grad_(true);
    const torch::Tensor f = net->forward(x, sigma) * sigma;  // the raw output: E = f / sigma
    const torch::Tensor g = torch::autograd::grad({f.sum()}, {x}, {}, create_graph, create_graph)[0];
    return torch::bmm(P, g.unsqueeze(2)).squeeze(2);
  }
  const torch::Tensor v = net->forward(y, sigma) * sigma.unsqueeze(1);
  return torch::bmm(P, v.unsqueeze(2)).squeeze(2);
}
}  // namespace detail

namespace {

/// Noisy examples: projected points, their sigmas, their targets (raw or RB, leave-one-out).
struct Examples {
  Mat Y, T;
  Vec sigma;
};

class ExampleSource {
 public:
  ExampleSource(const geometry::Manifold& M, std::shared_ptr<const geometry::Manifold> Mp, const Mat& refs,
                const FitOptions& o)
      : M_(M), refs_(refs), o_(o), levels_(o.sigma_levels()), level_(o) {
    if (o.target == Target::rb)
      for (double s : levels_) rb_.push_back(std::make_unique<dsm::RbEstimator>(Mp, refs, s));
  }

  /// Examples at rows `index` of `source` (the training points when source is refs: then leave-one-out),
  /// levels and noise from rng; only those of positions [shard.begin, shard.end) are kept (a data-parallel
  /// rank's share: the draws of the others are made too, so that the stream is the single process' one).
  Examples make(const Mat& source, const std::vector<std::int64_t>& index_all, Rng& rng, bool leave_out,
                nn::Shard shard) const {
    const Eigen::Index B = static_cast<Eigen::Index>(shard.size());
    const int D = M_.ambient_dim();
    Examples e{Mat(B, D), Mat(B, D), Vec(B)};
    std::vector<int> level(B);
    const std::vector<std::int64_t> index(index_all.begin() + shard.begin, index_all.begin() + shard.end);
    for (std::int64_t a = 0; a < shard.end; ++a) {
      const Vec Z = source.row(index_all[a]).transpose();
      const int lvl = level_(rng);
      const double s = levels_[lvl], sn = o_.spread * s;
      const bool mine = a >= shard.begin;
      const Eigen::Index b = a - shard.begin;
      for (int attempt = 0;; ++attempt) {
        Vec X(D);
        for (int k = 0; k < D; ++k) X[k] = Z[k] + sn * rng.normal();
        try {
          const Vec y = M_.project(X);
          if (mine) {
            e.Y.row(b) = y.transpose();
            e.T.row(b) = dsm::tangent_target(M_, Z, X, s).transpose();
          }
          break;
        } catch (const GeometryError&) {
          if (attempt > 100) throw NumericalError("fit: 100 noisy draws in a row had no projection onto " + M_.spec());
        }
      }
      if (mine) e.sigma[b] = s, level[b] = lvl;
    }
    if (o_.target == Target::rb) {
      for (std::size_t l = 0; l < levels_.size(); ++l) {
        std::vector<Eigen::Index> rows;
        std::vector<long> skip;
        for (Eigen::Index b = 0; b < B; ++b)
          if (level[b] == static_cast<int>(l)) rows.push_back(b), skip.push_back(leave_out ? index[b] : -1);
        if (rows.empty()) continue;
        Mat Q(static_cast<Eigen::Index>(rows.size()), D);
        for (std::size_t r = 0; r < rows.size(); ++r) Q.row(r) = e.Y.row(rows[r]);
        const dsm::RbEstimate est = rb_[l]->estimate(Q, o_.threads, &skip);
        for (std::size_t r = 0; r < rows.size(); ++r) e.T.row(rows[r]) = est.r.row(r);
      }
    }
    return e;
  }

 private:
  const geometry::Manifold& M_;
  const Mat& refs_;
  const FitOptions& o_;
  std::vector<double> levels_;
  LevelSampler level_;
  std::vector<std::unique_ptr<dsm::RbEstimator>> rb_;
};

/// mean sigma^2 |s - t|^2 = mean |sigma s - sigma t|^2.
torch::Tensor loss_of(NoiseNet& net, const geometry::Manifold& M, const Examples& e, bool create_graph) {
  const torch::Tensor y = detail::to_tensor(e.Y), t = detail::to_tensor(e.T);
  const torch::Tensor sigma = detail::to_tensor(Mat(e.sigma)).squeeze(1);
  const torch::Tensor ss = detail::scaled_score(net, y, sigma, detail::projectors(M, e.Y), create_graph);
  return (ss - t * sigma.unsqueeze(1)).pow(2).sum(1).mean();
}

double learning_rate(const FitOptions& o, std::int64_t step) {
  const double progress = static_cast<double>(step) / static_cast<double>(o.steps);
  return o.lr * nn::warmup_factor(step, o.warmup) * nn::cosine_factor(progress, 0.1);
}

void copy_parameters(const torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  const auto src = from.parameters();
  auto dst = to.parameters();
  for (std::size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
}

constexpr std::uint64_t kNoiseStream = 1ULL << 40, kValStream = 1ULL << 41;
}  // namespace

TrainOutcome train_fit(const Mat& train, const Mat& val, const FitOptions& o, const fs::path& out, bool resume,
                       const FitHooks& hooks, const nlohmann::json& extra, nn::World world) {
  o.validate();
  std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold(o.manifold);
  const int D = M->ambient_dim();
  if (o.net.dim != D) throw InvalidArgument("fit: the network's input size is not the manifold's D");
  if (train.rows() < 2 || train.cols() != D)
    throw InvalidArgument("fit: need at least 2 training points in R^" + std::to_string(D));
  if (val.rows() < 1 || val.cols() != D)
    throw InvalidArgument("fit: need at least 1 validation point in R^" + std::to_string(D));

  torch::manual_seed(o.seed);
  NoiseNet net(o.net), ema(o.net), best(o.net);
  copy_parameters(*net, *ema);
  copy_parameters(*net, *best);
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(o.lr));
  const fs::path ckpt_file = out / "checkpoint.pt";
  TrainOutcome r;
  double best_val = std::numeric_limits<double>::infinity();
  std::int64_t since_best = 0;
  if (resume) {
    auto ck = nn::detail::open_checkpoint(ckpt_file, kFitFormat, "manifold-fit");
    const FitOptions saved = FitOptions::from_json(ck.config.at("fit"));
    if (saved.net.to_json() != o.net.to_json() || saved.manifold != o.manifold || saved.target != o.target)
      throw InvalidArgument("fit --resume: the checkpoint was trained with another network, manifold or target");
    nn::detail::read_module(ck, "model", *net);
    nn::detail::read_module(ck, "ema", *ema);
    nn::detail::read_module(ck, "best", *best);
    nn::detail::read_optimizer(ck, adam);
    const auto& st = ck.config.at("state");
    r.start_step = st.at("step").get<std::int64_t>();
    best_val = st.at("best_val_loss").get<double>();
    r.best_step = st.at("best_step").get<std::int64_t>();
    since_best = st.at("since_best").get<std::int64_t>();
    r.metrics = st.at("metrics").get<std::vector<std::vector<double>>>();
    r.evals = st.at("evals").get<std::vector<std::vector<double>>>();
  }
  const bool root = world.is_root();
  const nn::Shard shard = nn::batch_shard(o.batch, world.rank(), world.size());
  const double share = static_cast<double>(shard.size()) / static_cast<double>(o.batch);
  ExampleSource source(*M, M, train, o);
  // Fixed validation examples (their targets use the training split as references, nothing left out);
  // each rank holds its share, the loss is summed over the ranks with weights n_r / n.
  std::vector<std::int64_t> vidx(static_cast<std::size_t>(o.val_examples));
  for (std::int64_t i = 0; i < o.val_examples; ++i) vidx[i] = i % val.rows();
  const nn::Shard vshard = world.size() > 1 && o.val_examples >= world.size()
                               ? nn::batch_shard(o.val_examples, world.rank(), world.size())
                               : nn::Shard{0, o.val_examples};
  const bool val_split = vshard.size() != o.val_examples;
  const double vshare = static_cast<double>(vshard.size()) / static_cast<double>(o.val_examples);
  Rng vrng(o.seed, kValStream);
  const Examples val_ex = source.make(val, vidx, vrng, /*leave_out=*/false, vshard);
  // On one rank the validation loss is the whole set's; on several, ranks hold shares and sum them (or, for
  // fewer examples than ranks, each computes all of it and rank 0's value is taken: the sum with weight
  // 1 on rank 0 and 0 elsewhere, so every rank decides early stopping on the same number).
  const auto validation_loss = [&] {
    const double v = loss_of(ema, *M, val_ex, false).item<double>();
    if (world.size() == 1) return v;
    return world.all_reduce_sum(val_split ? v * vshare : (root ? v : 0.0));
  };
  const auto kept = [&] {
    return fs::exists(ckpt_file) ? "the last checkpoint " + ckpt_file.string() + " is kept"
                                 : std::string("no checkpoint was written yet");
  };

  const auto save = [&](std::int64_t step) {
    if (!root) return;
    nlohmann::json config = extra;
    config["fit"] = o.to_json();
    config["state"] = {
        {"step", step},         {"best_val_loss", best_val}, {"best_step", r.best_step}, {"since_best", since_best},
        {"metrics", r.metrics}, {"evals", r.evals}};
    nn::detail::write_archive(ckpt_file, kFitFormat, config, {{"model", &*net}, {"ema", &*ema}, {"best", &*best}},
                              &adam);
  };
  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t step = r.start_step;
  for (; step < o.steps; ++step) {
    const bool stop_here = hooks.should_stop && hooks.should_stop();
    if (stop_here && world.size() == 1) {
      r.stopped = true;
      break;
    }
    Rng rng(o.seed, kNoiseStream + static_cast<std::uint64_t>(step));
    const Examples ex =
        source.make(train, nn::batch_indices(o.seed, step, o.batch, train.rows()), rng, o.leave_one_out, shard);
    // The single-process mean loss is sum_r (B_r / B) mean_r: gradients, loss and stop flags are summed.
    torch::Tensor loss = loss_of(net, *M, ex, true);
    adam.zero_grad();
    const nn::ReducedStep reduced = nn::reduced_backward(world, loss, share, net->parameters(), stop_here, [&] {
      return "fit stopped at step " + std::to_string(step + 1) + ", " + kept();
    });
    if (reduced.stop) {
      r.stopped = true;
      break;
    }
    const double lv = reduced.loss;
    if (!std::isfinite(lv))
      throw NumericalError("fit: the training loss is not finite at step " + std::to_string(step) + "; " + kept() +
                           " (try a smaller --lr)");
    const double lr = learning_rate(o, step);
    for (auto& g : adam.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
    adam.step();
    {
      torch::NoGradGuard no_grad;
      const double d = nn::ema_decay(o.ema_decay, step);
      const auto src = net->parameters();
      auto dst = ema->parameters();
      for (std::size_t i = 0; i < src.size(); ++i) dst[i].mul_(d).add_(src[i], 1.0 - d);
    }
    const bool eval = (step + 1) % o.eval_every == 0 || step + 1 == o.steps;
    if (eval) {
      const double vl = validation_loss();
      r.evals.push_back({static_cast<double>(step + 1), vl});
      const bool improved = vl < best_val;
      if (improved) {
        best_val = vl, r.best_step = step + 1, since_best = 0;
        copy_parameters(*ema, *best);
      } else {
        ++since_best;
      }
      if (hooks.on_eval) hooks.on_eval(step + 1, vl, improved);
    }
    r.metrics.push_back({static_cast<double>(step + 1), lv, lr});
    if (hooks.on_step) hooks.on_step(step + 1, lv);
    if ((step + 1) % o.checkpoint_every == 0) save(step + 1);
    if (eval && o.patience > 0 && since_best >= o.patience) {
      r.early_stopped = true;
      ++step;
      break;
    }
  }
  r.step = step;
  r.best_val_loss = best_val;
  save(step);
  world.barrier();  // the other ranks return once rank 0's checkpoint is on disk
  r.checkpoint = ckpt_file;
  r.all_reduce_seconds = world.all_reduce_seconds();
  r.wait_seconds = world.wait_seconds();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace rbsm::fit
