// rbsm.fit / rbsm.load_fit (docs/python.md §5): the manifold score-model fit of docs/fit.md
// (include/rbsm/fit/fit.hpp, study.hpp) from numpy arrays, with LibTorch. The only torch TU of the module.
#include <filesystem>
#include <mutex>
#include <optional>
#include <sstream>
#include <tuple>

#include <pybind11/stl.h>
#include <torch/torch.h>

#include "common.hpp"

#include "rbsm/data/points.hpp"
#include "rbsm/fit/fit.hpp"
#include "rbsm/fit/study.hpp"
#include "rbsm/nn/mlp.hpp"

namespace rbsm::py {
namespace {

namespace fs = std::filesystem;
using namespace pybind11::literals;

/// The reading options of points given in `format` (the keywords format, tolerance, project).
data::PointOptions point_options(const std::string& format, double tolerance, bool project) {
  data::PointOptions po;
  po.format = data::parse_point_format(format);
  po.tolerance = tolerance;
  po.project = project;
  return po;
}

/// Rows given from Python as points of M in `format` (errors name the row, as `rbsm fit` names the line).
Mat points_of(const pb::handle& obj, const geometry::Manifold& M, const data::PointOptions& po, const char* name) {
  const int cols = data::format_columns(po.format, M);
  data::Table t;
  t.values = to_batch(obj, cols, name, false).m;
  for (Eigen::Index i = 0; i < t.values.rows(); ++i) t.line.push_back(static_cast<long>(i));
  return data::to_manifold_points(t, M, po, std::string(name) + " row");
}

struct PyFitRun {
  std::shared_ptr<fit::FitModel> model;
  std::shared_ptr<std::mutex> mutex = std::make_shared<std::mutex>();  // FitModel: one user at a time
  std::string path;
  Mat train, val, test;
  pb::dict outcome;
  std::map<std::tuple<double, int, double>, fit::ModelDensity> densities;  // (sigma or 0 = chosen, correction, tol)

  const geometry::Manifold& M() const { return model->manifold(); }

  fit::ModelDensity density(const std::optional<double>& sigma, const std::string& correction_name, double tol) {
    const dsm::Correction c = dsm::parse_correction(correction_name);
    const auto key = std::make_tuple(sigma.value_or(0.0), static_cast<int>(c), tol);
    if (auto it = densities.find(key); it != densities.end()) return it->second;
    if (sigma && !(*sigma > 0)) throw InvalidArgument("sigma must be > 0");
    if (!sigma && val.rows() == 0)
      throw InvalidArgument("no validation points to choose sigma_eval on: give sigma (or val= to load_fit)");
    numerics::CubatureOptions cub;
    cub.rel_tol = tol;
    fit::ModelDensity d;
    without_gil([&] {
      std::lock_guard<std::mutex> lock(*mutex);
      d = sigma ? fit::model_density(*model, *sigma, c, cub) : fit::choose_sigma_eval(*model, val, c, cub);
    });
    densities[key] = d;
    return d;
  }
};

PyFitRun open_run(const fs::path& path, Mat train, Mat val, Mat test) {
  PyFitRun run;
  std::unique_ptr<fit::FitModel> m;
  without_gil([&] { m = std::make_unique<fit::FitModel>(fit::FitModel::load(path)); });
  run.model = std::move(m);
  run.path = path.string();
  run.train = std::move(train);
  run.val = std::move(val);
  run.test = std::move(test);
  return run;
}

PyFitRun fit_model(const pb::handle& Mobj, const pb::handle& data, const pb::object& val_obj,
                   const pb::object& test_obj, const std::string& format, double tolerance, bool project,
                   const std::string& target, const std::string& parametrisation, std::int64_t width,
                   std::int64_t depth, std::int64_t frequencies, double sigma_min, double sigma_max,
                   std::int64_t levels, std::int64_t steps, std::int64_t batch, double lr, std::int64_t warmup,
                   double ema, std::int64_t eval_every, std::int64_t patience, std::int64_t val_examples,
                   std::int64_t checkpoint_every, const std::vector<double>& split, std::uint64_t split_seed,
                   std::uint64_t seed, int threads, const pb::object& out_obj, bool resume, bool progress,
                   std::int64_t fourier_features, double fourier_scale, double level_power, double spread,
                   bool leave_one_out) {
  const std::string spec = Mobj.attr("spec").cast<std::string>();
  fit::FitOptions o;
  o.manifold = spec;
  const auto M = geometry::make_manifold(spec);
  o.net.dim = M->ambient_dim();
  o.net.width = width;
  o.net.depth = depth;
  o.net.frequencies = frequencies;
  o.net.fourier_features = fourier_features;
  o.net.fourier_scale = fourier_scale;
  o.level_power = level_power;
  o.spread = spread;
  o.leave_one_out = leave_one_out;
  o.net.parametrisation = fit::parse_parametrisation(parametrisation);
  o.target = fit::parse_target(target);
  o.sigma_min = sigma_min;
  o.sigma_max = sigma_max;
  o.levels = levels;
  o.steps = steps;
  o.batch = batch;
  o.lr = lr;
  o.warmup = warmup;
  o.ema_decay = ema;
  o.eval_every = eval_every;
  o.patience = patience;
  o.val_examples = val_examples;
  o.checkpoint_every = checkpoint_every;
  o.seed = seed;
  o.threads = threads;
  o.validate();

  const data::PointOptions po = point_options(format, tolerance, project);
  const Mat all = points_of(data, *M, po, "data");
  Mat train, val, test(0, M->ambient_dim());
  if (val_obj.is_none()) {
    if (!test_obj.is_none()) throw InvalidArgument("test= needs val= too (or neither: data is then split)");
    const data::Split s = data::make_split(all.rows(), split, split_seed);
    train = data::take_rows(all, s.train);
    val = data::take_rows(all, s.val);
    test = data::take_rows(all, s.test);
  } else {
    train = all;
    val = points_of(val_obj, *M, po, "val");
    if (!test_obj.is_none()) test = points_of(test_obj, *M, po, "test");
  }

  fs::path out;
  if (out_obj.is_none()) {
    if (resume) throw InvalidArgument("resume=True needs out= (the run folder to continue)");
    out = pb::module_::import("tempfile").attr("mkdtemp")("prefix"_a = "rbsm-fit-").cast<std::string>();
  } else {
    out = pb::str(out_obj).cast<std::string>();
  }
  if (!resume && fs::exists(out / "checkpoint.pt"))
    throw InvalidArgument("out " + out.string() + " already holds a checkpoint (continue it with resume=True)");
  if (threads > 0) torch::set_num_threads(threads);

  fit::TrainOutcome t;
  LongCall call("fit", static_cast<std::size_t>(steps), progress);
  double last_val = std::nan("");
  fit::FitHooks hooks;
  bool interrupted = false;
  hooks.should_stop = [&] {
    try {
      call.poll(static_cast<std::size_t>(t.step));
    } catch (const Interrupted&) {
      interrupted = true;
    }
    return interrupted;
  };
  hooks.on_eval = [&](std::int64_t, double v, bool) { last_val = v; };
  hooks.on_step = [&](std::int64_t step, double loss) {
    std::ostringstream s;
    s.precision(4);
    s << "loss=" << loss << " val=" << last_val;
    try {
      call.poll(static_cast<std::size_t>(step), s.str());
    } catch (const Interrupted&) {
      interrupted = true;
    }
  };
  without_gil([&] {
    if (!fs::exists(out)) fs::create_directories(out);
    t = fit::train_fit(train, val, o, out, resume, hooks, {{"data", "python"}});
    call.finish("best val " + std::to_string(t.best_val_loss) + " at step " + std::to_string(t.best_step));
  });
  if (interrupted) {
    if (!PyErr_Occurred()) PyErr_SetNone(PyExc_KeyboardInterrupt);
    throw pb::error_already_set();  // the checkpoint in `out` continues with resume=True
  }
  PyFitRun run = open_run(out, std::move(train), std::move(val), std::move(test));
  run.outcome["steps"] = t.step;
  run.outcome["best_step"] = t.best_step;
  run.outcome["best_val_loss"] = t.best_val_loss;
  run.outcome["early_stopped"] = t.early_stopped;
  run.outcome["train_seconds"] = t.seconds;
  return run;
}

Mat batch_of(const PyFitRun& r, const pb::handle& Z, bool* single) {
  Batch b = to_batch(Z, r.M().ambient_dim(), "Z");
  *single = b.single;
  return std::move(b.m);
}

}  // namespace

void bind_fit(pb::module_& m) {
  nn::register_model_drifts();  // rbsm.langevin(M, "model:PATH", ...)
  pb::class_<PyFitRun>(
      m, "FitRun",
      "A fitted noise-conditional score model on M (docs/fit.md): s(z, sigma) and, for energy models,\n"
      "the density p(z) = exp(E_c(z, sigma) - log Z) on M with E_c the corrected energy:\n"
      "  none: E;  extrinsic: E - sigma^2 c E;  geometric: E - sigma^2 (c E + phi);\n"
      "  full: E - sigma^2 [1/2 (Delta_M E + |grad_M E|^2) + c E + phi].")
      .def_readonly("path", &PyFitRun::path, "the run folder (checkpoint.pt)")
      .def_readonly("outcome", &PyFitRun::outcome, "steps, best_step, best_val_loss, early_stopped, train_seconds")
      .def_property_readonly("train", [](const PyFitRun& r) { return to_numpy(r.train); })
      .def_property_readonly("val", [](const PyFitRun& r) { return to_numpy(r.val); })
      .def_property_readonly("test", [](const PyFitRun& r) { return to_numpy(r.test); })
      .def_property_readonly("sigma_levels", [](const PyFitRun& r) { return r.model->options().sigma_levels(); })
      .def_property_readonly(
          "options",
          [](const PyFitRun& r) {
            return pb::module_::import("json").attr("loads")(r.model->options().to_json().dump());
          },
          "the fit's options as stored in its checkpoint (a dict: FitOptions::to_json; keys at their default,\n"
          "such as level_power, spread and leave_one_out, are omitted)")
      .def(
          "score",
          [](PyFitRun& r, const pb::handle& Z, double sigma) {
            bool single = false;
            const Mat z = batch_of(r, Z, &single);
            Mat s;
            without_gil([&] {
              std::lock_guard<std::mutex> lock(*r.mutex);
              s = r.model->score(z, sigma);
            });
            return maybe_single(to_numpy(s), single);
          },
          "Z"_a, "sigma"_a, "Tangent scores s(z, sigma) at rows of Z (on M): (N, D) -> (N, D).")
      .def(
          "energy",
          [](PyFitRun& r, const pb::handle& Z, double sigma, const std::string& correction) {
            bool single = false;
            const Mat z = batch_of(r, Z, &single);
            const dsm::Correction c = dsm::parse_correction(correction);
            Vec e;
            without_gil([&] {
              std::lock_guard<std::mutex> lock(*r.mutex);
              e = r.model->energy(z, sigma, c);
            });
            return maybe_single(to_numpy(e), single);
          },
          "Z"_a, "sigma"_a, "correction"_a = "none",
          "The corrected energy E_c(z, sigma) (energy models): (N, D) -> (N,).")
      .def(
          "density",
          [](PyFitRun& r, std::optional<double> sigma, const std::string& correction, double tol) {
            const fit::ModelDensity d = r.density(sigma, correction, tol);
            pb::dict out;
            out["sigma_eval"] = d.sigma;
            out["correction"] = dsm::to_string(d.correction);
            out["log_normaliser"] = d.normaliser.log_z;
            out["log_normaliser_error"] = d.normaliser.error;
            out["normaliser_method"] = d.normaliser.method;
            return out;
          },
          "sigma"_a = pb::none(), "correction"_a = "none", "tol"_a = 1e-4,
          "log Z of the model density at sigma (None: sigma_eval chosen by the lowest validation NLL among the\n"
          "levels <= sigma_max / 2), by adaptive cubature on S^2 and the tori, importance sampling elsewhere.")
      .def(
          "log_density",
          [](PyFitRun& r, const pb::handle& Z, std::optional<double> sigma, const std::string& correction, double tol) {
            bool single = false;
            const Mat z = batch_of(r, Z, &single);
            const fit::ModelDensity d = r.density(sigma, correction, tol);
            Vec l;
            without_gil([&] {
              std::lock_guard<std::mutex> lock(*r.mutex);
              l = fit::log_density(*r.model, d, z);
            });
            return maybe_single(to_numpy(l), single);
          },
          "Z"_a, "sigma"_a = pb::none(), "correction"_a = "none", "tol"_a = 1e-4,
          "log p(z) = E_c(z, sigma) - log Z (nats, w.r.t. the Riemannian volume): (N, D) -> (N,). sigma=None:\n"
          "sigma_eval chosen on the validation split (see density()).")
      .def(
          "sample",
          [](PyFitRun& r, std::int64_t n, std::uint64_t seed, std::int64_t steps_per_level, double epsilon,
             std::int64_t mala_steps, double mala_step, std::optional<double> sigma_eval, const std::string& correction,
             bool progress) {
            fit::SampleOptions o;
            o.n = n;
            o.seed = seed;
            o.steps_per_level = steps_per_level;
            o.epsilon = epsilon;
            o.mala_steps = mala_steps;
            o.mala_step = mala_step;
            o.correction = dsm::parse_correction(correction);
            if (sigma_eval) {
              o.sigma_eval = *sigma_eval;
            } else if (r.val.rows() > 0 && mala_steps > 0 &&
                       r.model->options().net.parametrisation == fit::Parametrisation::energy) {
              o.sigma_eval = r.density(std::nullopt, correction, 1e-4).sigma;
            }
            fit::SampleResult s;
            const auto total = static_cast<std::size_t>(
                static_cast<std::int64_t>(r.model->options().sigma_levels().size()) * steps_per_level + mala_steps);
            LongCall call("sample", total, progress);
            without_gil([&] {
              std::lock_guard<std::mutex> lock(*r.mutex);
              s = fit::sample_model(*r.model, o, [&](std::int64_t done, std::int64_t total) {
                (void)total;
                call.poll(static_cast<std::size_t>(done));
              });
              call.finish();
            });
            return to_numpy(s.samples);
          },
          "n"_a, "seed"_a = 0, "steps_per_level"_a = 20, "epsilon"_a = 2e-5, "mala_steps"_a = 200, "mala_step"_a = 0.0,
          "sigma_eval"_a = pb::none(), "correction"_a = "none", "progress"_a = true,
          "n samples (n, D) on M: annealed Langevin down the noise levels (step h_l = epsilon (sigma_l /\n"
          "sigma_min)^2, projected Euler-Maruyama), then mala_steps of MALA against p at sigma_eval (energy\n"
          "models; None: chosen on the validation split, or the smallest level without one).");

  m.def("fit", &fit_model, "M"_a, "data"_a, "val"_a = pb::none(), "test"_a = pb::none(), "format"_a = "ambient",
        "tolerance"_a = 1e-6, "project"_a = false, "target"_a = "rb", "parametrisation"_a = "energy", "width"_a = 128,
        "depth"_a = 3, "frequencies"_a = 8, "sigma_min"_a = 0.01, "sigma_max"_a = 0.5, "levels"_a = 24,
        "steps"_a = 3000, "batch"_a = 256, "lr"_a = 2e-3, "warmup"_a = 100, "ema"_a = 0.995, "eval_every"_a = 100,
        "patience"_a = 8, "val_examples"_a = 4096, "checkpoint_every"_a = 500,
        "split"_a = std::vector<double>{0.8, 0.1, 0.1}, "split_seed"_a = 0, "seed"_a = 0, "threads"_a = 0,
        "out"_a = pb::none(), "resume"_a = false, "progress"_a = true, "fourier_features"_a = 0,
        "fourier_scale"_a = 16.0, "level_power"_a = 0.0, "spread"_a = 1.0, "leave_one_out"_a = true,
        "Fits a noise-conditional score model to points on M (`rbsm fit`, docs/fit.md) and returns a FitRun.\n"
        "Example i of step k: a training point Z, sigma from `levels` log-spaced levels in [sigma_min,\n"
        "sigma_max], X = Z + sigma xi, y = pi(X), target raw: T = P_T(y)(Z - y) / sigma^2, or rb: r_hat(y)\n"
        "from the training split (leave-one-out); loss mean sigma^2 |s(y, sigma) - target|^2; Adam + EMA +\n"
        "early stopping on the validation loss. data: (N, cols) rows in `format` (ambient (N, D), latlon,\n"
        "angles, quaternion, matrix); without val= it is split by `split` (train, val, test fractions) with\n"
        "split_seed. Rows farther than `tolerance` from M are refused (project=True projects them). out: the\n"
        "run folder (default: a new temporary folder); resume=True continues the checkpoint in out.\n"
        "fourier_features N, fourier_scale S: 2N random Fourier features sin/cos(B x), B ~ N(0, S^2) (0: none);\n"
        "level_power a: level l drawn with probability ~ sigma_l^-a; spread c (rb): y = pi(Z + c sigma xi);\n"
        "leave_one_out=False (rb): the own point stays among the references (`rbsm fit --no-leave-one-out`).");
  m.def(
      "fit_data",
      [](const pb::object& Mobj, const std::string& data, const std::vector<double>& split, std::uint64_t split_seed,
         bool by_location, const std::string& dist, std::uint64_t seed, const std::string& format, double tolerance,
         bool project) {
        const auto M = geometry::make_manifold(Mobj.attr("spec").cast<std::string>());
        fit::DataSpec spec;
        spec.data = data;
        spec.dist = dist;
        spec.split = split;
        spec.split_seed = split_seed;
        spec.by_location = by_location;
        spec.points = point_options(format, tolerance, project);
        fit::FitData d;
        without_gil([&] { d = fit::load_fit_data(*M, spec, seed); });
        pb::dict out;
        out["train"] = to_numpy(d.train);
        out["val"] = to_numpy(d.val);
        out["test"] = to_numpy(d.test);
        out["test_duplicates_in_train"] = d.test_duplicates_in_train;
        out["source"] = d.source;
        return out;
      },
      "M"_a, "data"_a, "split"_a = std::vector<double>{0.8, 0.1, 0.1}, "split_seed"_a = 0, "by_location"_a = false,
      "dist"_a = "", "seed"_a = 0, "format"_a = "ambient", "tolerance"_a = 1e-6, "project"_a = false,
      "The train / val / test split `rbsm fit --data DATA` and `rbsm earth-benchmark` use, as a dict of (N, D)\n"
      "arrays (plus test_duplicates_in_train and source). data: a file (CSV/TSV/.npy in `format`),\n"
      "'earth:volcano|earthquake|flood|fire' (sphere:2) or 'synthetic:N' (N exact draws of `dist`, streams of\n"
      "`seed`); split fractions and split_seed as `--split` / `--split-seed`; by_location=True puts all copies\n"
      "of a location on one side (`--split-by location`). Raises ValueError / OSError naming the problem.");
  m.def(
      "load_fit",
      [](const std::string& path, const pb::object& val) {
        PyFitRun r = open_run(path, Mat(), Mat(), Mat());
        if (!val.is_none()) r.val = to_batch(val, r.M().ambient_dim(), "val", false).m;
        return r;
      },
      "path"_a, "val"_a = pb::none(),
      "A FitRun from a run folder of `rbsm fit` or rbsm.fit (its checkpoint.pt); val (N, D) lets log_density\n"
      "choose sigma_eval. Raises OSError for a missing, corrupt or foreign checkpoint.");
}

}  // namespace rbsm::py
