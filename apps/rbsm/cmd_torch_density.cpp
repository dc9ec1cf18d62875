// rbsm density --checkpoint RUN --points FILE [--format F] --json: the exact log density of a fitted
// energy model (nats, w.r.t. the Riemannian volume) at the rows of FILE, with its normaliser. The density's
// sigma and correction are the run's (RUN/density.json) unless --sigma / --correction are given.
// docs/fit.md §4.
#include <cmath>

#include "cli.hpp"

#include "rbsm/data/points.hpp"
#include "rbsm/error.hpp"
#include "rbsm/fit/fit.hpp"
#include "rbsm/io/files.hpp"

namespace rbsm::cli {
namespace {
namespace fs = std::filesystem;

struct DensityCli {
  std::string checkpoint, points, format = "ambient", correction;
  double sigma = 0, tolerance = 1e-6, normaliser_tol = 1e-4;
  bool project = false;
};

Register reg(
    "density", "Exact log density of a fitted energy model (rbsm fit) at the points of a file",
    [](CLI::App& app, const Common&) -> Runner {
      auto o = std::make_shared<DensityCli>();
      app.add_option("--checkpoint", o->checkpoint, "run folder of `rbsm fit` or its checkpoint.pt")->required();
      app.add_option("--points", o->points, "CSV/TSV/.npy file of points on the run's manifold")->required();
      app.add_option("--format", o->format, "ambient | latlon | angles | quaternion | matrix")->capture_default_str();
      app.add_option("--tolerance", o->tolerance, "largest accepted distance of a row from M")->capture_default_str();
      app.add_flag("--project", o->project, "project rows onto M instead of refusing off-manifold rows");
      app.add_option("--sigma", o->sigma, "noise level of the density (default: the run's sigma_eval)");
      app.add_option("--correction", o->correction, "none | extrinsic | geometric | full (default: the run's)");
      app.add_option("--normaliser-tol", o->normaliser_tol, "error target of log Z")->capture_default_str();
      return [o]() -> json {
        if (!(o->sigma >= 0) || !std::isfinite(o->sigma)) throw InvalidArgument("--sigma must be > 0");
        fit::FitModel model = fit::FitModel::load(o->checkpoint);
        data::PointOptions po;
        po.format = data::parse_point_format(o->format);
        po.tolerance = o->tolerance;
        po.project = o->project;
        const geometry::Mat Z = data::read_points(o->points, model.manifold(), po);
        const fs::path run =
            fs::is_directory(o->checkpoint) ? fs::path(o->checkpoint) : fs::path(o->checkpoint).parent_path();
        json saved = json::object();
        if (fs::exists(run / "density.json")) saved = json::parse(io::read_file(run / "density.json"));
        double sigma = o->sigma;
        if (sigma == 0) {
          if (!saved.contains("sigma_eval"))
            throw InvalidArgument("--sigma is required: " + run.string() +
                                  " has no density.json (a fit that was stopped or a vector model)");
          sigma = saved.at("sigma_eval").get<double>();
        }
        const dsm::Correction corr = dsm::parse_correction(
            !o->correction.empty() ? o->correction : saved.value("correction", std::string("none")));
        numerics::CubatureOptions cub;
        cub.rel_tol = o->normaliser_tol;
        const fit::ModelDensity d = fit::model_density(model, sigma, corr, cub);
        const geometry::Vec lp = fit::log_density(model, d, Z);
        for (Eigen::Index i = 0; i < lp.size(); ++i)
          if (!std::isfinite(lp[i]))
            throw NumericalError("the log density is not finite at row " + std::to_string(i + 1));
        return {{"log_density", std::vector<double>(lp.data(), lp.data() + lp.size())},
                {"log_normaliser", d.normaliser.log_z},
                {"log_normaliser_error", d.normaliser.error},
                {"normaliser_method", d.normaliser.method},
                {"sigma", sigma},
                {"correction", dsm::to_string(corr)},
                {"mean_log_density", lp.mean()}};
      };
    });

}  // namespace
}  // namespace rbsm::cli
