// rbsm/stats.hpp: Welford against exact sums, histogram densities, and the chi-square tail against closed forms.
#include "rbsm/stats.hpp"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace rbsm::stats;

TEST(Welford, ExactOnAnOffsetWhereTheNaiveFormulaCancels) {
  // x = 1e9 + {1, 2, 3, 4}: mean 1e9 + 2.5, sample variance 5/3 exactly. sum2 - n mean^2 loses every digit
  // of the variance in double (sum2 ~ 4e18 has an ulp of 512); Welford's updates stay exact here.
  const Summary s = summarize({1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4});
  EXPECT_EQ(s.n, 4u);
  EXPECT_DOUBLE_EQ(s.mean, 1e9 + 2.5);
  EXPECT_NEAR(s.sd, std::sqrt(5.0 / 3.0), 1e-12);
  EXPECT_NEAR(s.se, std::sqrt(5.0 / 3.0) / 2.0, 1e-12);
}

TEST(Welford, FewerThanTwoValuesHaveNoSpread) {
  EXPECT_EQ(summarize({}).n, 0u);
  const Summary one = summarize({3.5});
  EXPECT_EQ(one.mean, 3.5);
  EXPECT_EQ(one.sd, 0.0);
  EXPECT_EQ(one.se, 0.0);
}

TEST(Histogram, BinsAreHalfOpenAndCountEachValueOnce) {
  // 10 values, 2 outside [0, 1): the 4 bins of width 1/4 integrate to 8/10.
  const std::vector<double> x{0.1, 0.2, 0.3, 0.55, 0.6, 0.8, 0.9, 0.95, -0.5, 1.0};
  const auto h = histogram_density(x, 0.0, 1.0, 4);
  ASSERT_EQ(h.size(), 4u);
  EXPECT_DOUBLE_EQ(h[0], 2 / (10 * 0.25));  // 0.1, 0.2
  EXPECT_DOUBLE_EQ(h[1], 1 / (10 * 0.25));  // 0.3
  EXPECT_DOUBLE_EQ(h[2], 2 / (10 * 0.25));  // 0.55, 0.6
  EXPECT_DOUBLE_EQ(h[3], 3 / (10 * 0.25));  // 0.8, 0.9, 0.95; 1.0 is outside [0, 1)
  double integral = 0;
  for (double v : h) integral += v * 0.25;
  EXPECT_NEAR(integral, 0.8, 1e-15);
  const auto c = bin_centres(0.0, 1.0, 4);
  EXPECT_DOUBLE_EQ(c[0], 0.125);
  EXPECT_DOUBLE_EQ(c[3], 0.875);
}

TEST(Stats, HistogramDensityIntegratesToTheFractionInsideAndIsFlatForUniformData) {
  std::vector<double> x;
  for (int i = 0; i < 1000; ++i) x.push_back((i + 0.5) / 1000.0);  // uniform on [0, 1)
  x.push_back(7.0);                                                // outside: counted in n only
  const auto h = histogram_density(x, 0.0, 1.0, 10);
  const auto c = bin_centres(0.0, 1.0, 10);
  double integral = 0;
  for (std::size_t b = 0; b < h.size(); ++b) {
    EXPECT_NEAR(h[b], 100.0 / 1001.0 * 10.0, 1e-12);
    EXPECT_NEAR(c[b], 0.05 + 0.1 * b, 1e-15);
    integral += h[b] * 0.1;
  }
  EXPECT_NEAR(integral, 1000.0 / 1001.0, 1e-12);
}

TEST(ChiSquare, TailsAgainstClosedForms) {
  // k = 2: exp(-x/2); k = 1: erfc(sqrt(x/2)).
  for (double x : {0.1, 1.0, 5.0, 30.0, 100.0}) {
    EXPECT_NEAR(chi_square_sf(x, 2), std::exp(-x / 2), 1e-13 * std::max(1e-30, std::exp(-x / 2)) + 1e-15);
    EXPECT_NEAR(chi_square_sf(x, 1) / std::erfc(std::sqrt(x / 2)), 1.0, 1e-10);
  }
  // Median of chi^2_10 is about 9.341818.
  EXPECT_NEAR(chi_square_sf(9.341818, 10), 0.5, 1e-6);
  EXPECT_NEAR(chi_square_statistic({10, 20, 30}, {1.0 / 6, 1.0 / 3, 0.5}), 0.0, 1e-12);
}

TEST(ChiSquare, StatisticRefusesMismatchedOrEmptyBins) {
  EXPECT_NEAR(chi_square_statistic({0, 10}, {0.5, 0.5}), 10.0, 1e-12);  // (0-5)^2/5 + (10-5)^2/5
  EXPECT_ANY_THROW(chi_square_statistic({1, 2}, {1.0}));
  EXPECT_ANY_THROW(chi_square_statistic({1, 2}, {1.0, 0.0}));
}

}  // namespace
