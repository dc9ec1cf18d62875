// Uses an installed rbsm: geometry against a closed form, a shipped data file and a figure drawn by the
// installed plotting script. Prints the files it used (the test checks they are the installed ones).
#include <cmath>
#include <iostream>
#include <rbsm/data/points.hpp>
#include <rbsm/geometry/manifold.hpp>
#include <rbsm/io/figure.hpp>
#include <rbsm/io/share.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: rbsm_consumer OUT.png\n";
    return 2;
  }
  try {
    // Mean curvature vector of the unit sphere S^2 at e_3: H = -2 e_3 (sum of the principal curvatures).
    auto M = rbsm::geometry::make_manifold("sphere:2");
    const Eigen::Vector3d z(0, 0, 1);
    const Eigen::VectorXd H = M->mean_curvature(z);
    if (std::abs(H[2] + 2.0) > 1e-12) {
      std::cerr << "mean curvature " << H.transpose() << " is not (0, 0, -2)\n";
      return 1;
    }
    std::cout << "script " << rbsm::io::share_file("scripts/plot_figure.py").string() << "\n";
    std::cout << "data " << rbsm::data::data_file("earth/volerup.csv").string() << "\n";
    rbsm::io::Figure fig;
    fig.title = "installed rbsm";
    fig.panel("sin", "x", "y").series.push_back({"sin", {0, 1, 2, 3}, {0, 0.84, 0.91, 0.14}, {}, "line", "black"});
    fig.save(argv[1]);
  } catch (const std::exception& e) {
    std::cerr << "rbsm_consumer: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
