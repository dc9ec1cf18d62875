#include "rbsm/anatomy/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include <torch/torch.h>

#include "rbsm/anatomy/measures.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/figure.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/image.hpp"
#include "rbsm/io/table.hpp"

namespace rbsm::anatomy {

AnatomySlice analyze_points(const ScoreField& field, double t, const torch::Tensor& points,
                            const AnatomyOptions& options, const std::function<void(std::int64_t)>& on_point) {
  check_kappa(options.kappa);
  if (points.dim() != 2 || points.size(1) != field.dim)
    throw InvalidArgument("anatomy: points of shape " + std::string(c10::str(points.sizes())) + ", expected [n, " +
                          std::to_string(field.dim) + "]");
  AnatomySlice slice;
  slice.t = t;
  slice.requested_t = t;
  slice.sigma = field.sigma;
  for (std::int64_t i = 0; i < points.size(0); ++i) {
    slice.points.push_back(to_eigen(points[i].unsqueeze(1)).col(0));
    slice.anatomy.push_back(analyze_point(field, points[i], options));
    if (on_point) on_point(i + 1);
  }
  return slice;
}

std::pair<double, double> local_dim_mean_sd(const AnatomySlice& slice) {
  const auto n = static_cast<double>(slice.anatomy.size());
  if (n == 0) return {0, 0};
  double mean = 0, ss = 0;
  for (const auto& a : slice.anatomy) mean += a.local_dim;
  mean /= n;
  for (const auto& a : slice.anatomy) ss += (a.local_dim - mean) * (a.local_dim - mean);
  return {mean, n > 1 ? std::sqrt(ss / (n - 1)) : 0.0};
}

namespace {
std::string color(std::size_t k) { return "C" + std::to_string(k % 10); }

std::string slice_label(const AnatomySlice& s, const ReportOptions& o) {
  char buf[96];
  if (o.time_label == "t")
    std::snprintf(buf, sizeof buf, "t=%g (sigma=%.3g)", s.t, s.sigma);
  else
    std::snprintf(buf, sizeof buf, "sigma=%.3g", s.sigma);
  return buf;
}

std::vector<double> ranks(Eigen::Index D) {
  std::vector<double> r(D);
  for (Eigen::Index i = 0; i < D; ++i) r[i] = static_cast<double>(i + 1);
  return r;
}
std::vector<double> to_std(const Eigen::VectorXd& v) { return {v.data(), v.data() + v.size()}; }

/// Mean over the slice's points of a per-point curve.
Eigen::VectorXd mean_curve(const AnatomySlice& s, Eigen::VectorXd PointAnatomy::*member) {
  Eigen::VectorXd m = Eigen::VectorXd::Zero((s.anatomy.front().*member).size());
  for (const auto& a : s.anatomy) m += a.*member;
  return m / static_cast<double>(s.anatomy.size());
}

void figure2(const std::filesystem::path& dir, const std::vector<AnatomySlice>& slices, const ReportOptions& o,
             std::size_t examples, AnatomyReport& report) {
  const Eigen::Index D = slices.front().points.front().size();
  if (o.image_height <= 0 || o.image_width <= 0 || static_cast<Eigen::Index>(o.image_height) * o.image_width != D ||
      slices.front().anatomy.front().features.empty())
    return;
  for (std::size_t k = 0; k < examples; ++k) {
    std::vector<Eigen::VectorXf> images;
    for (const auto& s : slices) {
      images.push_back(s.points[k].cast<float>());
      for (const auto& f : s.anatomy[k].features) images.push_back(f.cast<float>());
    }
    const auto path = dir / ("figure2_seq" + std::to_string(k) + ".png");
    io::write_signed_image_grid(path, images, o.image_height, o.image_width, 8, 3);
    report.figures.push_back(path);
  }
}

void figure3(const std::filesystem::path& dir, const std::vector<AnatomySlice>& slices, const ReportOptions& o,
             std::size_t examples, AnatomyReport& report) {
  const Eigen::Index D = slices.front().anatomy.front().s.size();
  const auto r = ranks(D);
  const std::size_t n = slices.front().anatomy.size();
  {  // Figure 3 (top): cosines u_i . v_i per rank
    io::Figure fig;
    fig.title = "Figure 3 (top): cosine u_i . v_i between left and right singular vectors";
    fig.cols = static_cast<int>(std::min<std::size_t>(examples + 1, 4));
    for (std::size_t k = 0; k < examples; ++k) {
      auto& p = fig.panel("example " + std::to_string(k), "rank i (s_i ascending)", "u_i . v_i");
      p.logx = true;
      for (std::size_t j = 0; j < slices.size(); ++j)
        p.add({slice_label(slices[j], o), r, to_std(slices[j].anatomy[k].cos_uv), {}, "line", color(j)});
    }
    auto& p = fig.panel("mean over " + std::to_string(n) + " points", "rank i (s_i ascending)", "mean u_i . v_i");
    p.logx = true;
    for (std::size_t j = 0; j < slices.size(); ++j)
      p.add({slice_label(slices[j], o), r, to_std(mean_curve(slices[j], &PointAnatomy::cos_uv)), {}, "line", color(j)});
    const auto path = dir / "figure3_cosines.png";
    fig.save(path);
    report.figures.push_back(path);
  }
  {  // Figure 3 (bottom): 1/s_i against rank with the noise floor, and the distribution of r_t
    io::Figure fig;
    fig.title =
        "Figure 3 (bottom): inverse singular values, noise floor sigma_t^2 (dotted), local dimension r_t (dots)";
    fig.cols = static_cast<int>(std::min<std::size_t>(examples + 1, 4));
    for (std::size_t k = 0; k < examples; ++k) {
      auto& p = fig.panel("example " + std::to_string(k), "rank i", "1 / s_i");
      p.logy = true;
      p.logx = true;
      for (std::size_t j = 0; j < slices.size(); ++j) {
        const auto& a = slices[j].anatomy[k];
        p.add({slice_label(slices[j], o), r, to_std(a.s.cwiseInverse()), {}, "line", color(j)});
        p.add({"", {1.0}, {a.sigma * a.sigma}, {}, "hline", color(j)});
        if (a.local_dim > 0)
          p.add({"", {static_cast<double>(a.local_dim)}, {1.0 / a.s(a.local_dim - 1)}, {}, "points", color(j)});
      }
    }
    int lo = D, hi = 0;
    for (const auto& s : slices)
      for (const auto& a : s.anatomy) lo = std::min(lo, a.local_dim), hi = std::max(hi, a.local_dim);
    const int width = std::max(1, (hi - lo) / 25 + 1);
    auto& p = fig.panel("distribution of r_t over " + std::to_string(n) + " points", "local dimension r_t", "count");
    for (std::size_t j = 0; j < slices.size(); ++j) {
      std::vector<double> x, y;
      for (int b = lo; b <= hi; b += width) {
        x.push_back(b + 0.5 * (width - 1));
        y.push_back(
            static_cast<double>(std::count_if(slices[j].anatomy.begin(), slices[j].anatomy.end(), [&](const auto& a) {
              return a.local_dim >= b && a.local_dim < b + width;
            })));
      }
      p.add({slice_label(slices[j], o), x, y, {}, "step", color(j)});
    }
    const auto path = dir / "figure3_spectra.png";
    fig.save(path);
    report.figures.push_back(path);
  }
}

void figure4(const std::filesystem::path& dir, const std::vector<AnatomySlice>& slices, const ReportOptions& o,
             AnatomyReport& report) {
  const auto r = ranks(slices.front().anatomy.front().s.size());
  io::Figure fig;
  fig.title = "Figure 4: subspace overlap Phi_n (eq. 2), mean over points; dashed: mean r_t";
  fig.cols = static_cast<int>(std::min<std::size_t>(slices.size(), 3));
  for (std::size_t j = 0; j < slices.size(); ++j) {
    auto& p = fig.panel(slice_label(slices[j], o), "n (first n vectors, by rank)", "Phi_n");
    p.logx = true;
    p.add({"Phi^{u,v}", r, to_std(mean_curve(slices[j], &PointAnatomy::phi_uv)), {}, "line", "C0"});
    p.add({"Phi^{u,w}", r, to_std(mean_curve(slices[j], &PointAnatomy::phi_uw)), {}, "line", "C1"});
    p.add({"Phi^{v,w}", r, to_std(mean_curve(slices[j], &PointAnatomy::phi_vw)), {}, "line", "C2"});
    const double m = std::max(1.0, local_dim_mean_sd(slices[j]).first);
    p.add({"mean r_t", {m, m}, {0.0, 1.0}, {}, "dashed", "k"});
  }
  const auto path = dir / "figure4_overlaps.png";
  fig.save(path);
  report.figures.push_back(path);
}

/// Mean over points of a curve evaluated at each point's own rank r (Phi_{r_t}); NaN-free (r >= 1).
double mean_at_local_dim(const AnatomySlice& s, Eigen::VectorXd PointAnatomy::*member) {
  double m = 0;
  for (const auto& a : s.anatomy) m += (a.*member)(std::max(1, a.local_dim) - 1);
  return m / static_cast<double>(s.anatomy.size());
}
/// Mean of cos_uv over ranks <= r_t (within) or > r_t (beyond), averaged over points.
double mean_cos(const AnatomySlice& s, bool within) {
  double m = 0;
  int count = 0;
  for (const auto& a : s.anatomy) {
    const Eigen::Index D = a.cos_uv.size(), r = a.local_dim;
    const Eigen::Index begin = within ? 0 : r, end = within ? r : D;
    if (end > begin) m += a.cos_uv.segment(begin, end - begin).mean(), ++count;
  }
  return count ? m / count : std::nan("");
}

void write_spectra_csv(const std::filesystem::path& path, const std::vector<AnatomySlice>& slices) {
  io::atomic_write_with(path, [&](const std::filesystem::path& tmp) {
    std::ofstream f(tmp);
    f << "t,sigma,point,rank,s,inv_s,lambda,cos_uv,phi_uv,phi_uw,phi_vw\n";
    char buf[320];
    for (const auto& s : slices)
      for (std::size_t k = 0; k < s.anatomy.size(); ++k) {
        const auto& a = s.anatomy[k];
        for (Eigen::Index i = 0; i < a.s.size(); ++i) {
          std::snprintf(buf, sizeof buf, "%.10g,%.10g,%zu,%ld,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g\n", s.t,
                        s.sigma, k, static_cast<long>(i + 1), a.s(i), 1.0 / a.s(i), a.lambda(i), a.cos_uv(i),
                        a.phi_uv(i), a.phi_uw(i), a.phi_vw(i));
          f << buf;
        }
      }
    if (!f) throw IoError("cannot write " + path.string());
  });
}
}  // namespace

AnatomyReport write_anatomy_report(const std::filesystem::path& dir, const std::vector<AnatomySlice>& slices,
                                   const ReportOptions& o) {
  if (slices.empty() || slices.front().anatomy.empty()) throw InvalidArgument("anatomy report: nothing was analysed");
  for (const auto& s : slices)
    if (s.anatomy.size() != slices.front().anatomy.size() || s.points.size() != s.anatomy.size())
      throw InvalidArgument("anatomy report: slices with different numbers of points");
  io::ensure_directory(dir);
  AnatomyReport report;
  const std::size_t examples = std::min<std::size_t>(std::max(o.examples, 1), slices.front().anatomy.size());

  io::Table per_point({"t", "sigma", "point", "local_dim", "seconds_jacobian", "seconds_decomposition"});
  io::Table per_slice({"t", "sigma", "sigma2", "points", "local_dim_mean", "local_dim_sd", "local_dim_min",
                       "local_dim_max", "cos_uv_mean_within_r", "cos_uv_mean_beyond_r", "phi_uv_at_r", "phi_uw_at_r",
                       "phi_vw_at_r", "min_inv_s_over_sigma2", "seconds_jacobian_mean", "seconds_decomposition_mean"});
  report.summary = nlohmann::json::array();
  for (const auto& s : slices) {
    std::vector<int> dims;
    double tj = 0, td = 0, floor_ratio = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < s.anatomy.size(); ++k) {
      const auto& a = s.anatomy[k];
      dims.push_back(a.local_dim);
      tj += a.seconds_jacobian, td += a.seconds_decomposition;
      // the document's "sigma_t^2 lower-bounds 1/s_i": smallest 1/s_i = 1/s_D relative to sigma_t^2
      floor_ratio = std::min(floor_ratio, 1.0 / (a.s(a.s.size() - 1) * a.sigma * a.sigma));
      per_point.add_row({s.t, s.sigma, static_cast<double>(k), static_cast<double>(a.local_dim), a.seconds_jacobian,
                         a.seconds_decomposition});
    }
    const double n = static_cast<double>(s.anatomy.size());
    const auto [mean, sd] = local_dim_mean_sd(s);
    const int lo = *std::min_element(dims.begin(), dims.end()), hi = *std::max_element(dims.begin(), dims.end());
    const double cw = mean_cos(s, true), cb = mean_cos(s, false);
    const double puv = mean_at_local_dim(s, &PointAnatomy::phi_uv), puw = mean_at_local_dim(s, &PointAnatomy::phi_uw),
                 pvw = mean_at_local_dim(s, &PointAnatomy::phi_vw);
    per_slice.add_row({s.t, s.sigma, s.sigma * s.sigma, n, mean, sd, double(lo), double(hi), cw, cb, puv, puw, pvw,
                       floor_ratio, tj / n, td / n});
    auto nan_to_null = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
    report.summary.push_back(
        {{"t", s.t},
         {"requested_t", s.requested_t},
         {"sigma", s.sigma},
         {"points", s.anatomy.size()},
         {"local_dim", {{"mean", mean}, {"sd", sd}, {"min", lo}, {"max", hi}, {"per_image", dims}}},
         {"cos_uv_mean_within_r", nan_to_null(cw)},
         {"cos_uv_mean_beyond_r", nan_to_null(cb)},
         {"phi_at_r", {{"uv", puv}, {"uw", puw}, {"vw", pvw}}},
         {"min_inv_s_over_sigma2", floor_ratio},
         {"seconds_per_point", {{"jacobian", tj / n}, {"decomposition", td / n}}}});
  }
  per_point.save(dir / "local_dim.csv");
  per_slice.save(dir / "summary.csv");
  report.tables = {dir / "local_dim.csv", dir / "summary.csv"};
  if (o.write_spectra_csv) {
    write_spectra_csv(dir / "spectra.csv", slices);
    report.tables.push_back(dir / "spectra.csv");
  }
  figure2(dir, slices, o, examples, report);
  figure3(dir, slices, o, examples, report);
  figure4(dir, slices, o, report);
  return report;
}

}  // namespace rbsm::anatomy
