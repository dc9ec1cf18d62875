#pragma once
/// Files shipped with rbsm that the library reads at run time (the plotting script, data catalogues),
/// found the same way whether rbsm runs from its build tree or installed without its sources:
///   1. $RBSM_SHARE_DIR/<relative>             (a user's override),
///   2. <dir of the program>/../share/rbsm/<relative> (an installed rbsm, wherever its --prefix was),
///   3. <install prefix>/share/rbsm/<relative> (CMAKE_INSTALL_PREFIX at build time),
///   4. <source tree>/<relative>               (the tree the library was built from, when it still exists).
/// Installed layout = source layout: scripts/plot_figure.py, data/earth/*.csv, data/mixtures/*.json.
#include <filesystem>
#include <string>
#include <vector>

namespace rbsm::io {

/// The first existing candidate for `relative`; throws IoError listing where it looked.
std::filesystem::path share_file(const std::string& relative);

/// The candidate folders, in lookup order (for messages and tests).
std::vector<std::filesystem::path> share_directories();

}  // namespace rbsm::io
