// The manifold-fit study (include/rbsm/fit/study.hpp).
#include "rbsm/fit/study.hpp"

#include <cmath>
#include <limits>

#include "rbsm/dist/density.hpp"
#include "rbsm/dist/kde.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/numerics/constants.hpp"
#include "rbsm/parallel.hpp"
#include "rbsm/random.hpp"

namespace rbsm::fit {

namespace {

long parse_count(const std::string& text, const std::string& what) {
  std::size_t used = 0;
  long n = 0;
  try {
    n = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || n < 3 || n > 10'000'000)
    throw InvalidArgument(what + ": '" + text + "' is not a count in [3, 1e7]");
  return n;
}
}  // namespace

FitData load_fit_data(const geometry::Manifold& M, const DataSpec& spec, std::uint64_t seed) {
  if (spec.val_file.empty() != spec.test_file.empty())
    throw InvalidArgument("--val and --test go together (give both or neither)");
  FitData d;
  Mat all;
  if (spec.data.rfind("earth:", 0) == 0) {
    if (M.spec() != "sphere:2") throw InvalidArgument("--data " + spec.data + " lies on sphere:2, not " + M.spec());
    all = data::load_earth(spec.data.substr(6), M);
    d.source = data::earth_file(spec.data.substr(6)).string();
  } else if (spec.data.rfind("synthetic:", 0) == 0) {
    if (spec.dist.empty()) throw InvalidArgument("--data synthetic:N needs --dist Q (the density to draw from)");
    const long n = parse_count(spec.data.substr(10), "--data synthetic:N");
    std::shared_ptr<const geometry::Manifold> Mp = geometry::make_manifold(M.spec());
    const auto q = dist::make_density(spec.dist, Mp);
    all.resize(n, M.ambient_dim());
    parallel_for(static_cast<std::size_t>(n), 0, [&](std::size_t i) {
      Rng rng(seed, i);
      all.row(static_cast<Eigen::Index>(i)) = q->sample(rng).transpose();
    });
    d.source = std::to_string(n) + " draws of " + q->spec();
  } else if (spec.data.empty()) {
    throw InvalidArgument("--data is required (FILE, earth:NAME or synthetic:N)");
  } else {
    all = data::read_points(spec.data, M, spec.points);
    d.source = spec.data;
  }
  if (!spec.val_file.empty()) {
    d.train = all;
    d.val = data::read_points(spec.val_file, M, spec.points);
    d.test = data::read_points(spec.test_file, M, spec.points);
  } else {
    const data::Split s = data::make_split(all.rows(), spec.split, spec.split_seed, spec.by_location ? &all : nullptr);
    d.train = data::take_rows(all, s.train);
    d.val = data::take_rows(all, s.val);
    d.test = data::take_rows(all, s.test);
  }
  if (d.train.rows() < 2) throw InvalidArgument("the training split has fewer than 2 points");
  d.test_duplicates_in_train = data::count_duplicates(d.train, d.test);
  return d;
}

Evaluation evaluate_fit(FitModel& model, const FitData& data, const EvaluationOptions& o) {
  Evaluation e;
  const auto on_candidate = [&o](std::size_t done, std::size_t total) {
    if (o.progress) o.progress("sigma_eval", done, total);
    if (o.should_stop && o.should_stop())
      throw Error("interrupted while choosing sigma_eval (" + std::to_string(done) + " of " + std::to_string(total) +
                  " candidates done; the trained model is kept)");
  };
  if (o.sigma_eval > 0) {
    e.density = model_density(model, o.sigma_eval, o.correction, o.cubature);
  } else {
    e.density = choose_sigma_eval(model, data.val, o.correction, o.cubature, &e.sigma_table, on_candidate);
  }
  const auto nll = [&](const Mat& Z) { return -log_density(model, e.density, Z).mean(); };
  e.nll = {nll(data.train), nll(data.val), nll(data.test)};
  const geometry::Manifold& M = model.manifold();
  if (o.kde && dist::kde_available(M)) {
    const auto bw = dist::choose_kde_bandwidth(model.manifold_ptr(), data.train, data.val, 1.0, 1e5, 31, o.threads);
    const dist::KernelDensity kde(model.manifold_ptr(), data.train, bw.kappa);
    e.has_kde = true;
    e.kde_kappa = bw.kappa;
    e.kde_nll = {-kde.log_density(data.train, o.threads).mean(), bw.val_nll,
                 -kde.log_density(data.test, o.threads).mean()};
  }
  for (double v : {e.nll.train, e.nll.val, e.nll.test})
    if (!std::isfinite(v))
      throw NumericalError(
          "fit: a negative log-likelihood is not finite (the model's density vanishes at a data point)");
  return e;
}

nlohmann::json to_json(const Evaluation& e) {
  nlohmann::json j = to_json(e.density);
  j["nll"] = {{"train", e.nll.train}, {"val", e.nll.val}, {"test", e.nll.test}};
  nlohmann::json table = nlohmann::json::array();
  for (const auto& [s, v] : e.sigma_table) table.push_back({{"sigma", s}, {"val_nll", v}});
  j["sigma_candidates"] = table;
  if (e.has_kde)
    j["kde"] = {{"kappa", e.kde_kappa},
                {"nll", {{"train", e.kde_nll.train}, {"val", e.kde_nll.val}, {"test", e.kde_nll.test}}}};
  return j;
}

io::Figure density_map(FitModel& model, const ModelDensity& d, const Mat& points, const std::string& title) {
  io::Figure fig;
  fig.title = title;
  const geometry::Manifold& M = model.manifold();
  const geometry::AngularChart* chart = geometry::angular_chart(M);
  const bool sphere = M.spec() == "sphere:2";
  if (!sphere && !chart) return fig;
  const int nx = 360, ny = 180;
  std::vector<double> xs(nx), ys(ny);
  Mat Z(static_cast<Eigen::Index>(nx) * ny, M.ambient_dim());
  for (int i = 0; i < nx; ++i) xs[i] = sphere ? -180.0 + (i + 0.5) * 360.0 / nx : -kPi + (i + 0.5) * 2 * kPi / nx;
  for (int j = 0; j < ny; ++j) ys[j] = sphere ? -90.0 + (j + 0.5) * 180.0 / ny : -kPi + (j + 0.5) * 2 * kPi / ny;
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      Vec z;
      if (sphere) {
        const double lat = ys[j] * kPi / 180, lon = xs[i] * kPi / 180;
        z = Vec(3);
        z << std::cos(lat) * std::cos(lon), std::cos(lat) * std::sin(lon), std::sin(lat);
      } else {
        z = chart->point(xs[i], ys[j]);  // x: a1, y: a2
      }
      Z.row(static_cast<Eigen::Index>(j) * nx + i) = z.transpose();
    }
  const Vec lp = log_density(model, d, Z);
  io::Series heat;
  heat.label = "log density (nats)";
  heat.style = "heatmap";
  heat.x = xs;
  heat.y = ys;
  heat.z.assign(lp.data(), lp.data() + lp.size());
  io::Series pts;
  pts.label = "test points";
  pts.style = "points";
  pts.color = "white";
  const data::PointFormat f = sphere ? data::PointFormat::latlon : data::PointFormat::angles;
  const Mat P = data::from_manifold_points(points, M, f);
  for (Eigen::Index k = 0; k < P.rows(); ++k) {
    // latlon rows are (lat, lon): x = lon, y = lat; angle rows are (a1, a2): x = a1, y = a2
    pts.x.push_back(sphere ? P(k, 1) : P(k, 0));
    pts.y.push_back(sphere ? P(k, 0) : P(k, 1));
  }
  auto& p = fig.panel(title, sphere ? "longitude (deg)" : "a1 (rad)", sphere ? "latitude (deg)" : "a2 (rad)");
  p.add(heat);
  p.add(pts);
  return fig;
}

}  // namespace rbsm::fit
