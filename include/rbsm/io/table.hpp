#pragma once
/// A column table written as CSV (metrics.csv and every experiment's numbers).
#include <filesystem>
#include <string>
#include <vector>

namespace rbsm::io {

class Table {
 public:
  explicit Table(std::vector<std::string> columns) : columns_(std::move(columns)) {}
  /// Appends a row; throws InvalidArgument if its length differs from the number of columns.
  void add_row(const std::vector<double>& row);
  /// Appends a row with text cells (labels); same length rule.
  void add_row_text(const std::vector<std::string>& row);
  std::size_t rows() const { return rows_.size(); }
  const std::vector<std::string>& columns() const { return columns_; }
  std::string to_csv() const;
  /// Writes the CSV atomically.
  void save(const std::filesystem::path& path) const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
};

/// Reads the numeric rows of a CSV file with one header line (as Table::save writes it): each cell
/// parsed with strtod (text cells read as 0). Throws IoError if the file cannot be read.
std::vector<std::vector<double>> read_csv_numbers(const std::filesystem::path& path);

/// Formats a double with 17 significant digits (round-trips exactly), or with `digits` (printf %.*g).
std::string format_double(double v);
std::string format_double(double v, int digits);

}  // namespace rbsm::io
