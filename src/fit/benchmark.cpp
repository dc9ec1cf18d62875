// Benchmarks of fitted manifold score models (include/rbsm/fit/benchmark.hpp, docs/fit.md §7-8).
#include "rbsm/fit/benchmark.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "rbsm/dist/density.hpp"
#include "rbsm/dist/kde.hpp"
#include "rbsm/error.hpp"
#include "rbsm/fit/study.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/parallel.hpp"
#include "rbsm/random.hpp"

namespace rbsm::fit {

namespace fs = std::filesystem;

const std::vector<std::string>& earth_datasets() {
  static const std::vector<std::string> d{"volcano", "earthquake", "flood", "fire"};
  return d;
}

const std::vector<PublishedNll>& published_earth_nll() {
  static const std::vector<PublishedNll> t{
      {"Mixture of Kent", "Peel et al. 2001", {-0.80, 0.33, 0.73, -1.18}},
      {"Riemannian CNF", "Mathieu & Nickel 2020", {-6.05, 0.14, 1.11, -0.80}},
      {"Moser flow", "Rozen et al. 2021", {-4.21, -0.16, 0.57, -1.28}},
      {"Stereographic SGM", "De Bortoli et al. 2022", {-3.80, -0.19, 0.59, -1.28}},
      {"RSGM", "De Bortoli et al. 2022", {-4.92, -0.19, 0.48, -1.33}},
      {"Riemannian diffusion", "Huang et al. 2022", {-6.61, -0.40, 0.43, -1.38}},
      {"Riemannian flow matching", "Chen & Lipman 2023", {-7.93, -0.28, 0.42, -1.86}},
  };
  return t;
}

namespace {

std::string method_name(Target t, dsm::Correction c) { return to_string(t) + "/" + dsm::to_string(c); }

/// Progress and interruption of the fits of a study: steps done before the current fit, and the total.
struct StudyHooks {
  const StudyProgress& progress;
  const std::function<bool()>& should_stop;
  std::size_t done = 0, total = 0;
};

/// The parsed JSON file at `path` if it exists and parses, else null.
nlohmann::json read_json_or_null(const fs::path& path) {
  if (!fs::exists(path)) return nullptr;
  try {
    return nlohmann::json::parse(io::read_file(path));
  } catch (const std::exception&) {
    return nullptr;
  }
}

/// What a finished fit is reused by: its options and the data it was trained on (`data`: the data spec,
/// split seed, split kind). A folder trained on another split, or with other options, is retrained.
nlohmann::json fit_key(const FitOptions& o, const nlohmann::json& data) {
  return {{"options", o.to_json()}, {"data", data}};
}

/// True if out/checkpoint.pt is an unfinished fit of options `o` on the data `extra` (a study stopped during it).
bool resumable(const fs::path& out, const FitOptions& o, const nlohmann::json& extra) {
  if (!fs::exists(out / "checkpoint.pt")) return false;
  try {
    const nlohmann::json config = FitModel::load(out).config();
    if (config.at("fit") != o.to_json()) return false;
    for (const auto& [key, value] : extra.items())
      if (!config.contains(key) || config.at(key) != value) return false;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

/// Trains one fit into `out`, or reuses the finished fit of the same key there (out/trained.json holds the
/// key and is written after training completes), or continues the unfinished one of the same key from its
/// checkpoint (bit-identical to an uninterrupted fit): an interrupted study resumes where it stopped.
FitModel train_or_reuse(const Mat& train, const Mat& val, const FitOptions& o, const fs::path& out,
                        const nlohmann::json& extra, StudyHooks& h, const std::string& phase) {
  const fs::path marker = out / "trained.json";
  if (read_json_or_null(marker) != fit_key(o, extra)) {
    const bool resume = resumable(out, o, extra);
    if (!resume) {
      fs::remove_all(out);
      fs::create_directories(out);
    }
    FitHooks hooks;
    hooks.should_stop = h.should_stop;
    hooks.on_step = [&](std::int64_t step, double loss) {
      if (h.progress)
        h.progress(phase + " loss " + io::format_double(loss), h.done + static_cast<std::size_t>(step), h.total);
    };
    const TrainOutcome t = train_fit(train, val, o, out, resume, hooks, extra);
    if (t.stopped) throw Error("interrupted during " + phase + " (finished fits are kept in their folders)");
    io::atomic_write(marker, fit_key(o, extra).dump());
  }
  h.done += static_cast<std::size_t>(o.steps);
  if (h.progress) h.progress(phase + " evaluating", h.done, h.total);
  return FitModel::load(out);
}

/// `base` for target t, with the RB-only options (spread, leave-one-out) at their defaults for raw targets.
FitOptions for_target(FitOptions base, Target t) {
  base.target = t;
  if (t == Target::raw) base.spread = 1, base.leave_one_out = true;
  return base;
}

/// choose_sigma_eval, reporting each candidate as progress and polling the stop flag between candidates (the
/// evaluation of a sharp fit takes minutes: an interrupt must not wait for all of it). The choice is kept in
/// run/eval-<correction>.json under the fit's key and the cubature options, and reused when both match: a
/// resumed study re-evaluates nothing it finished.
ModelDensity choose_polled(FitModel& model, const fs::path& run, const nlohmann::json& fit, const Mat& val,
                           dsm::Correction correction, const numerics::CubatureOptions& cubature, const StudyHooks& h,
                           const std::string& phase) {
  const fs::path cache = run / ("eval-" + dsm::to_string(correction) + ".json");
  const nlohmann::json key = {{"fit", fit},
                              {"correction", dsm::to_string(correction)},
                              {"rel_tol", cubature.rel_tol},
                              {"order", cubature.order},
                              {"max_evaluations", cubature.max_evaluations},
                              {"samples", cubature.samples},
                              {"seed", cubature.seed}};
  const nlohmann::json cached = read_json_or_null(cache);
  if (cached.is_object() && cached.value("key", nlohmann::json()) == key) {
    try {
      return model_density_from_json(cached.at("density"));
    } catch (const std::exception&) {  // a damaged cache is evaluated again
    }
  }
  const auto on_candidate = [&](std::size_t k, std::size_t n) {
    const std::string what = " sigma_eval (" + dsm::to_string(correction) + ") ";
    if (h.progress) h.progress(phase + what + std::to_string(k) + "/" + std::to_string(n), h.done, h.total);
    if (h.should_stop && h.should_stop())
      throw Error("interrupted during " + phase + " (finished fits are kept in their folders)");
  };
  const ModelDensity d = choose_sigma_eval(model, val, correction, cubature, nullptr, on_candidate);
  io::atomic_write(cache, nlohmann::json{{"key", key}, {"density", to_json(d)}}.dump(2));
  return d;
}

}  // namespace

EarthBenchmarkResult earth_benchmark(const EarthBenchmarkOptions& o) {
  if (o.fit.manifold != "sphere:2") throw InvalidArgument("earth benchmark: the catalogues lie on sphere:2");
  if (o.datasets.empty() || o.split_seeds.empty() || o.targets.empty() || o.corrections.empty())
    throw InvalidArgument("earth benchmark: needs at least one dataset, split seed, target and correction");
  o.fit.validate();
  const auto t0 = std::chrono::steady_clock::now();
  const std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold("sphere:2");
  for (dsm::Correction c : o.corrections) energy_correction(*M, c);  // fail before training
  EarthBenchmarkResult result;
  StudyHooks hooks{o.progress, o.should_stop, 0,
                   o.datasets.size() * o.split_seeds.size() * o.targets.size() * static_cast<std::size_t>(o.fit.steps)};
  for (const std::string& name : o.datasets) {
    EarthDatasetResult ds;
    ds.dataset = name;
    ds.methods.push_back({"kde", {}, {}, {}});
    for (Target t : o.targets)
      for (dsm::Correction c : o.corrections) ds.methods.push_back({method_name(t, c), {}, {}, {}});
    std::vector<fs::path> first_runs(o.targets.size());
    for (std::uint64_t seed : o.split_seeds) {
      DataSpec spec;
      spec.data = "earth:" + name;
      spec.split_seed = seed;
      spec.by_location = o.by_location;
      const FitData data = load_fit_data(*M, spec, seed);
      ds.n = static_cast<long>(data.train.rows() + data.val.rows() + data.test.rows());
      ds.test_duplicates_in_train += static_cast<double>(data.test_duplicates_in_train) / o.split_seeds.size();
      {  // KDE
        const auto bw = dist::choose_kde_bandwidth(M, data.train, data.val, 1.0, 1e5, 31, o.threads);
        const dist::KernelDensity kde(M, data.train, bw.kappa);
        ds.methods[0].test_nll.push_back(-kde.log_density(data.test, o.threads).mean());
        ds.methods[0].sigma_eval.push_back(bw.kappa);
      }
      for (std::size_t ti = 0; ti < o.targets.size(); ++ti) {
        FitOptions fo = for_target(o.fit, o.targets[ti]);
        fo.seed = o.fit.seed + seed;
        fo.net.dim = 3;
        const fs::path run = o.out / name / (to_string(fo.target) + "-seed" + std::to_string(seed));
        if (seed == o.split_seeds.front()) first_runs[ti] = run;
        const std::string phase = name + " " + to_string(fo.target) + " seed " + std::to_string(seed);
        const nlohmann::json source = {{"data", spec.data}, {"split_seed", seed}, {"by_location", o.by_location}};
        FitModel model = train_or_reuse(data.train, data.val, fo, run, source, hooks, phase);
        for (std::size_t ci = 0; ci < o.corrections.size(); ++ci) {
          const ModelDensity d =
              choose_polled(model, run, fit_key(fo, source), data.val, o.corrections[ci], o.cubature, hooks, phase);
          const double nll = -log_density(model, d, data.test).mean();
          if (!std::isfinite(nll))
            throw NumericalError("earth benchmark: a test NLL is not finite (" + run.string() + ")");
          auto& m = ds.methods[1 + ti * o.corrections.size() + ci];
          m.test_nll.push_back(nll);
          m.sigma_eval.push_back(d.sigma);
        }
      }
    }
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < ds.methods.size(); ++k) {
      auto& m = ds.methods[k];
      m.summary = stats::summarize(m.test_nll);
      if (k > 0 && m.summary.mean < best) {
        best = m.summary.mean;
        ds.best_method = m.method;
        ds.best_run = first_runs[(k - 1) / o.corrections.size()];
      }
    }
    result.datasets.push_back(std::move(ds));
  }
  if (o.progress) o.progress("done", hooks.total, hooks.total);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

nlohmann::json to_json(const EarthBenchmarkResult& r) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& ds : r.datasets) {
    nlohmann::json methods = nlohmann::json::object();
    for (const auto& m : ds.methods)
      methods[m.method] = {{"test_nll_mean", m.summary.mean},
                           {"test_nll_std", m.summary.sd},
                           {"test_nll", m.test_nll},
                           {m.method == "kde" ? "kappa" : "sigma_eval", m.sigma_eval}};
    out[ds.dataset] = {{"n", ds.n},
                       {"test_duplicates_in_train", ds.test_duplicates_in_train},
                       {"best_method", ds.best_method},
                       {"methods", methods}};
  }
  return {{"datasets", out}, {"seconds", r.seconds}};
}

KlMonteCarlo::KlMonteCarlo(const dist::Density& q, long n, std::uint64_t seed, std::uint64_t stream, int threads) {
  if (n < 2) throw InvalidArgument("KL by Monte Carlo needs at least 2 draws");
  const int D = q.manifold().ambient_dim();
  draws_.resize(n, D);
  log_q_.resize(n);
  parallel_for(static_cast<std::size_t>(n), threads, [&](std::size_t i) {
    Rng rng(seed, stream + i);
    const Vec z = q.sample(rng);
    draws_.row(static_cast<Eigen::Index>(i)) = z.transpose();
    log_q_[static_cast<Eigen::Index>(i)] = q.log_density(z);
  });
}

stats::Summary KlMonteCarlo::operator()(const Vec& log_p) const {
  if (log_p.size() != log_q_.size()) throw InvalidArgument("KL: one log p per draw expected");
  stats::Welford w;
  for (Eigen::Index i = 0; i < log_p.size(); ++i) w.add(log_q_[i] - log_p[i]);
  stats::Summary s = w.summary();
  if (!std::isfinite(s.mean)) s.mean = std::numeric_limits<double>::infinity();
  return s;
}

KnownTruthResult known_truth_study(const KnownTruthOptions& o) {
  if (o.sizes.empty() || o.targets.empty()) throw InvalidArgument("known-truth study: needs sizes and targets");
  if (o.mc_draws < 100) throw InvalidArgument("known-truth study: mc_draws must be >= 100");
  for (long n : o.sizes)
    if (n < 16) throw InvalidArgument("known-truth study: training sizes must be >= 16");
  const auto t0 = std::chrono::steady_clock::now();
  const std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold(o.fit.manifold);
  const auto q = dist::make_density(o.dist, M);
  const int D = M->ambient_dim();
  const auto draws = [&](long n, std::uint64_t stream_base) {
    Mat Z(n, D);
    parallel_for(static_cast<std::size_t>(n), o.threads, [&](std::size_t i) {
      Rng rng(o.fit.seed, stream_base + i);
      Z.row(static_cast<Eigen::Index>(i)) = q->sample(rng).transpose();
    });
    return Z;
  };
  // Streams: training rows from 0, validation from 2^32, the Monte Carlo draws from 2^33.
  constexpr std::uint64_t kValBase = 1ULL << 32, kMcBase = 1ULL << 33;
  const KlMonteCarlo kl_of(*q, o.mc_draws, o.fit.seed, kMcBase, o.threads);
  const Mat& mc = kl_of.draws();
  KnownTruthResult r;
  r.manifold = M->spec();
  r.dist = q->spec();
  StudyHooks hooks{o.progress, o.should_stop, 0,
                   o.sizes.size() * o.targets.size() * static_cast<std::size_t>(o.fit.steps)};
  for (long n : o.sizes) {
    const Mat train = draws(n, 0), val = draws(std::max<long>(64, n / 8), kValBase);
    if (o.kde && dist::kde_available(*M)) {
      const auto bw = dist::choose_kde_bandwidth(M, train, val, 1.0, 1e5, 31, o.threads);
      const dist::KernelDensity kde(M, train, bw.kappa);
      const stats::Summary s = kl_of(kde.log_density(mc, o.threads));
      r.rows.push_back({n, "kde", s.mean, s.se, 0.0, bw.kappa});
    }
    for (Target t : o.targets) {
      FitOptions fo = for_target(o.fit, t);
      fo.net.dim = D;
      const fs::path run = o.out / ("n" + std::to_string(n) + "-" + to_string(t));
      const std::string phase = "n=" + std::to_string(n) + " " + to_string(t);
      const nlohmann::json source = {{"data", "synthetic"}, {"dist", o.dist}, {"n", n}};
      FitModel model = train_or_reuse(train, val, fo, run, source, hooks, phase);
      const ModelDensity d =
          choose_polled(model, run, fit_key(fo, source), val, dsm::Correction::none, o.cubature, hooks, phase);
      const stats::Summary s = kl_of(log_density(model, d, mc));
      r.rows.push_back({n, to_string(t), s.mean, s.se, d.normaliser.error, d.sigma});
    }
  }
  if (o.progress) o.progress("done", hooks.total, hooks.total);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

nlohmann::json to_json(const KnownTruthResult& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& k : r.rows)
    rows.push_back({{"n", k.n},
                    {"method", k.method},
                    {"kl", k.kl},
                    {"kl_se", k.kl_se},
                    {"normaliser_error", k.normaliser_error},
                    {k.method == "kde" ? "kappa" : "sigma_eval", k.sigma_eval}});
  return {{"manifold", r.manifold}, {"dist", r.dist}, {"rows", rows}, {"seconds", r.seconds}};
}

}  // namespace rbsm::fit
