// Points from files, splits and the earth catalogues (include/rbsm/data/points.hpp).
#include <cmath>
#include <cstring>
#include <set>

#include <gtest/gtest.h>

#include "rbsm/data/points.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/so3.hpp"
#include "rbsm/geometry/torus.hpp"

namespace rbsm::data {
namespace {

using geometry::make_manifold;

TEST(Points, CsvWithHeaderCommentsCrlfAndTabs) {
  const Table t = parse_table_text("# a comment\r\nlat,long\r\n10.5,20\r\n-30,  40.25 # trailing\r\n\r\n", "x.csv");
  ASSERT_EQ(t.values.rows(), 2);
  EXPECT_EQ(t.values(1, 1), 40.25);
  EXPECT_EQ(t.line[0], 3);
  EXPECT_EQ(t.line[1], 4);
  const Table tsv = parse_table_text("1\t2\t3\n4\t5\t6\n", "x.tsv");
  EXPECT_EQ(tsv.values(1, 2), 6);
  const Table ws = parse_table_text("1 2 3\n4   5 6", "x.txt");
  EXPECT_EQ(ws.values(1, 0), 4);
}

TEST(Points, MalformedRowsNameTheLine) {
  const auto msg = [](const std::string& text) {
    try {
      parse_table_text(text, "f.csv");
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(msg("1,2\n3,4,5\n").find("f.csv:2: 3 columns, expected 2"), std::string::npos);
  EXPECT_NE(msg("1,2\n3,x\n").find("f.csv:2: column 2 'x' is not a number"), std::string::npos);
  EXPECT_NE(msg("1,2\nnan,4\n").find("f.csv:2"), std::string::npos);
  EXPECT_NE(msg("1,2\ninf,4\n").find("f.csv:2"), std::string::npos);
  EXPECT_NE(msg("# only a comment\n").find("no data rows"), std::string::npos);
}

TEST(Points, OffManifoldRowNamesRowAndDistance) {
  const auto M = make_manifold("sphere:2");
  const Table t = parse_table_text("x,y,z\n1,0,0\n0,1.5,0\n", "p.csv");
  PointOptions o;
  try {
    to_manifold_points(t, *M, o, "p.csv");
    FAIL() << "accepted a point 0.5 from the sphere";
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("p.csv:3"), std::string::npos) << m;
    EXPECT_NE(m.find("0.5"), std::string::npos) << m;
  }
  o.project = true;
  const Mat Z = to_manifold_points(t, *M, o, "p.csv");
  EXPECT_NEAR(Z(1, 1), 1.0, 1e-15);
}

TEST(Points, EveryFormatRoundTrips) {
  struct Case {
    std::string manifold;
    PointFormat format;
    Mat rows;
  };
  Mat latlon(3, 2), angles(3, 2), quat(2, 4);
  latlon << 10, 20, -45.5, 170, 89, -179;
  angles << 0.1, 0.2, -3.0, 2.5, 1.5, -1.5;
  quat << 0.5, 0.5, 0.5, 0.5, 0.9, 0.1, -0.3, 0.2;
  for (Eigen::Index i = 0; i < quat.rows(); ++i) quat.row(i).normalize();
  const std::vector<Case> cases{{"sphere:2", PointFormat::latlon, latlon},
                                {"torus:3,1", PointFormat::angles, angles},
                                {"clifford-torus:1,2", PointFormat::angles, angles},
                                {"so3", PointFormat::quaternion, quat}};
  for (const auto& c : cases) {
    const auto M = make_manifold(c.manifold);
    Table t{c.rows, {1, 2, 3}};
    PointOptions o;
    o.format = c.format;
    const Mat Z = to_manifold_points(t, *M, o, "t");
    for (Eigen::Index i = 0; i < Z.rows(); ++i)
      EXPECT_LT((M->project(Z.row(i).transpose()) - Z.row(i).transpose()).norm(), 1e-12) << c.manifold;
    const Mat back = from_manifold_points(Z, *M, c.format);
    EXPECT_LT((back - c.rows).cwiseAbs().maxCoeff(), 1e-12) << c.manifold;
    // ambient (and matrix on so3) round-trips through the same points
    const PointFormat amb = c.manifold == "so3" ? PointFormat::matrix : PointFormat::ambient;
    o.format = amb;
    const Mat Z2 = to_manifold_points(Table{from_manifold_points(Z, *M, amb), {1, 2, 3}}, *M, o, "t");
    EXPECT_LT((Z2 - Z).cwiseAbs().maxCoeff(), 1e-15);
  }
  // latlon convention of the earth data (PROVENANCE.md): (0, 90) is e_2, (90, *) the north pole e_3.
  const auto S = make_manifold("sphere:2");
  Mat ll(2, 2);
  ll << 0, 90, 90, 0;
  PointOptions o;
  o.format = PointFormat::latlon;
  const Mat Z = to_manifold_points(Table{ll, {1, 2}}, *S, o, "t");
  EXPECT_NEAR(Z(0, 1), 1.0, 1e-15);
  EXPECT_NEAR(Z(1, 2), 1.0, 1e-15);
}

TEST(Points, FormatsRefuseTheWrongManifold) {
  EXPECT_THROW(format_columns(PointFormat::latlon, *make_manifold("sphere:3")), InvalidArgument);
  EXPECT_THROW(format_columns(PointFormat::angles, *make_manifold("sphere:2")), InvalidArgument);
  EXPECT_THROW(format_columns(PointFormat::quaternion, *make_manifold("torus:3,1")), InvalidArgument);
  EXPECT_THROW(parse_point_format("polar"), InvalidArgument);
}

std::string npy_bytes(const std::string& descr, bool fortran, int rows, int cols, const std::vector<double>& data) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': (" +
                       std::to_string(rows) + ", " + std::to_string(cols) + "), }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string b = "\x93NUMPY";
  b += '\x01';
  b += '\x00';
  b += static_cast<char>(header.size() & 0xff);
  b += static_cast<char>(header.size() >> 8);
  b += header;
  for (double v : data) b.append(reinterpret_cast<const char*>(&v), 8);
  return b;
}

TEST(Points, NpyInCAndFortranOrder) {
  const Table c = parse_npy(npy_bytes("<f8", false, 2, 3, {1, 2, 3, 4, 5, 6}), "a.npy");
  EXPECT_EQ(c.values(0, 2), 3);
  EXPECT_EQ(c.values(1, 0), 4);
  const Table f = parse_npy(npy_bytes("<f8", true, 2, 3, {1, 4, 2, 5, 3, 6}), "a.npy");
  EXPECT_EQ((c.values - f.values).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_THROW(parse_npy(npy_bytes("<f4", false, 2, 3, {1, 2, 3, 4, 5, 6}), "a.npy"), InvalidArgument);
  std::string truncated = npy_bytes("<f8", false, 2, 3, {1, 2, 3, 4, 5, 6});
  truncated.resize(truncated.size() - 8);
  EXPECT_THROW(parse_npy(truncated, "a.npy"), InvalidArgument);
  EXPECT_THROW(parse_npy("not numpy at all", "a.npy"), InvalidArgument);
}

TEST(Earth, CataloguesHaveTheirDocumentedSizes) {
  // Row and distinct-location counts from data/earth/PROVENANCE.md (measured independently of rbsm).
  const auto S = make_manifold("sphere:2");
  const std::vector<std::pair<std::string, std::pair<long, long>>> facts{
      {"volcano", {827, 267}}, {"earthquake", {6120, 5447}}, {"flood", {4875, 4861}}, {"fire", {12809, 12802}}};
  for (const auto& [name, f] : facts) {
    const Mat Z = load_earth(name, *S);
    EXPECT_EQ(Z.rows(), f.first) << name;
    std::set<std::vector<long long>> distinct;
    for (Eigen::Index i = 0; i < Z.rows(); ++i)
      distinct.insert({std::llround(Z(i, 0) * 1e6), std::llround(Z(i, 1) * 1e6), std::llround(Z(i, 2) * 1e6)});
    EXPECT_EQ(static_cast<long>(distinct.size()), f.second) << name;
  }
}

TEST(Split, PartitionsDeterministicallyAndByLocation) {
  const auto S = make_manifold("sphere:2");
  const Mat Z = load_earth("volcano", *S);
  const Split a = make_split(Z.rows(), {0.8, 0.1, 0.1}, 7), b = make_split(Z.rows(), {0.8, 0.1, 0.1}, 7);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.test, b.test);
  std::set<long> all(a.train.begin(), a.train.end());
  all.insert(a.val.begin(), a.val.end());
  all.insert(a.test.begin(), a.test.end());
  EXPECT_EQ(static_cast<long>(all.size()), Z.rows());
  EXPECT_EQ(static_cast<long>(a.train.size()), std::lround(0.8 * Z.rows()));
  // Random split: most volcano test points have a copy in train (PROVENANCE.md); by location: none.
  EXPECT_GT(count_duplicates(take_rows(Z, a.train), take_rows(Z, a.test)), static_cast<long>(a.test.size()) / 2);
  const Split g = make_split(Z.rows(), {0.8, 0.1, 0.1}, 7, &Z);
  EXPECT_EQ(count_duplicates(take_rows(Z, g.train), take_rows(Z, g.test)), 0);
  EXPECT_EQ(count_duplicates(take_rows(Z, g.train), take_rows(Z, g.val)), 0);
  EXPECT_THROW(make_split(10, {0.8, 0.1}, 0), InvalidArgument);
  EXPECT_THROW(make_split(10, {0.8, 0.3, 0.1}, 0), InvalidArgument);
}

}  // namespace
}  // namespace rbsm::data
