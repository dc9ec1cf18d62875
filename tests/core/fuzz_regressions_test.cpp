// The library bugs found by the fuzz targets (docs/reliability.md section 5), each with its input.
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "error_text.hpp"

#include "rbsm/data/points.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/image.hpp"

namespace {

// fuzz_points: a line holding only \v split into no field, made a zero-column first row, and the
// next row of 9 columns was then copied out of that empty row (UBSan: reference binding to null).
TEST(FuzzRegressions, TableLineOfOnlyVerticalTabIsBlank) {
  const auto t = rbsm::data::parse_table_text("\v\n\f \n1,2,0\n3,4,5\n", "f.csv");
  ASSERT_EQ(t.values.rows(), 2);
  ASSERT_EQ(t.values.cols(), 3);
  EXPECT_EQ(t.values(1, 2), 5.0);
  EXPECT_EQ(t.line[0], 3);  // line numbers still count the blank lines
}

// fuzz_png: a 271-byte PNG whose IDAT chunk declares 1.2 GB (stb allocated it up front: 12 s under ASan).
TEST(FuzzRegressions, PngChunkLongerThanTheFileIsRefused) {
  const auto src = std::filesystem::path(RBSM_SOURCE_DIR) / "fuzz/corpus/png/10-chunk-longer-than-file";
  int w = 0, h = 0;
  const std::string msg = what_of([&] { rbsm::io::read_png_gray(src, w, h); });
  EXPECT_NE(msg.find("a chunk is longer than the file"), std::string::npos) << msg;
}

TEST(FuzzRegressions, PngOfTooManyPixelsIsRefusedBeforeDecoding) {
  // signature + IHDR declaring 100000 x 100000 (10^10 pixels)
  std::string png("\x89PNG\r\n\x1a\n", 8);
  png += std::string("\0\0\0\x0dIHDR", 8);
  png += std::string("\0\x01\x86\xa0\0\x01\x86\xa0\x08\0\0\0\0", 13);
  png += std::string(4, '\0');  // CRC (not checked here)
  const auto file = std::filesystem::temp_directory_path() / "rbsm-huge-test.png";
  std::ofstream(file, std::ios::binary) << png;
  int w = 0, h = 0;
  const std::string msg = what_of([&] { rbsm::io::read_png_gray(file, w, h); });
  std::filesystem::remove(file);
  EXPECT_NE(msg.find("100000x100000 pixels is too large"), std::string::npos) << msg;
  // fuzz_png: 8454156 x 28 gray+alpha in 271 bytes (stb zeroed 470 MB: > 1 s under ASan)
  const auto src = std::filesystem::path(RBSM_SOURCE_DIR) / "fuzz/corpus/png/11-huge-declared-size";
  const std::string msg2 = what_of([&] { rbsm::io::read_png_gray(src, w, h); });
  EXPECT_NE(msg2.find("8454156x28 pixels is too large (at most 2^24"), std::string::npos) << msg2;
}

}  // namespace
