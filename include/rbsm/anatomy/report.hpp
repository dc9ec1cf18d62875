#pragma once
/// Anatomy runs over many points and times, and their outputs: the analogues of Figures 2-4 of
/// score-models-learn-manifold-structure, CSVs of every number and a JSON summary
/// (docs/anatomy.md §6).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "rbsm/anatomy/analysis.hpp"

namespace rbsm::anatomy {

/// The points analysed at one time (one noise level): x_t of every image and its anatomy.
struct AnatomySlice {
  double t = 0;                         ///< diffusion time actually used (sampler grid time; 0 for analytic fields)
  double requested_t = 0;               ///< the time asked for (t is the first grid time <= it)
  double sigma = 0;                     ///< sigma_t
  std::vector<Eigen::VectorXd> points;  ///< x (model space for images)
  std::vector<PointAnatomy> anatomy;    ///< same order
};

/// Analyses every row of `points` ([n, D]) under `field`; `on_point(i)` is called after each (progress).
AnatomySlice analyze_points(const ScoreField& field, double t, const torch::Tensor& points,
                            const AnatomyOptions& options, const std::function<void(std::int64_t)>& on_point = {});

struct ReportOptions {
  int image_height = 0, image_width = 0;  ///< > 0: draw Figure 2 (needs h * w == D)
  int examples = 3;                       ///< example sequences drawn in Figures 2 and 3
  double kappa = 0.1;                     ///< for the threshold line of Figure 3
  std::string time_label = "t";           ///< legend label of a slice ("t" or "field")
  bool write_spectra_csv = true;          ///< spectra.csv: every rank of every point (large for big runs)
};

struct AnatomyReport {
  nlohmann::json summary;                      ///< per slice: t, sigma, local_dim {mean, sd, min, max, per_image}, ...
  std::vector<std::filesystem::path> figures;  ///< PNGs written (absolute)
  std::vector<std::filesystem::path> tables;   ///< CSVs written
};

/// Writes into `dir` (created if needed): figure2_seq{k}.png (rows: slices; columns: x, u_-, v_-, w_0,
/// u_+, v_+, w_-, w_+), figure3_cosines.png, figure3_spectra.png, figure4_overlaps.png, local_dim.csv,
/// summary.csv, spectra.csv, overlaps.csv and timing; returns the summary. Throws InvalidArgument for
/// no slices or slices of different sizes.
AnatomyReport write_anatomy_report(const std::filesystem::path& dir, const std::vector<AnatomySlice>& slices,
                                   const ReportOptions& options);

/// Mean and (sample) standard deviation of the local dimensions of a slice.
std::pair<double, double> local_dim_mean_sd(const AnatomySlice& slice);

}  // namespace rbsm::anatomy
