// io::json_get (include/rbsm/io/json_read.hpp): a value is accepted only when the type represents it
// exactly. The boundaries are the types' own: 2^63 - 1 and -2^63 for int64, 2^64 - 1 for uint64, the
// integral doubles, finite doubles.
#include "rbsm/io/json_read.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rbsm/error.hpp"

namespace rbsm::io {
namespace {

using nlohmann::json;

json one(const json& v) { return json{{"k", v}}; }

TEST(JsonRead, IntegersAreReadExactlyAndOnlyWhenRepresentable) {
  EXPECT_EQ(json_get<std::int64_t>(one(3), "k"), 3);
  EXPECT_EQ(json_get<std::int64_t>(one(-3), "k"), -3);
  EXPECT_EQ(json_get<std::int64_t>(one(3.0), "k"), 3);  // an integral double is the integer
  EXPECT_EQ(json_get<std::int64_t>(one(std::numeric_limits<std::int64_t>::max()), "k"),
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(json_get<std::int64_t>(one(std::numeric_limits<std::int64_t>::min()), "k"),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(json_get<std::int64_t>(one(-9223372036854775808.0), "k"), std::numeric_limits<std::int64_t>::min());
  for (const json& bad : {json(3.5), json(true), json("3"), json(nullptr), json(1e308), json(-1e308),
                          json(9223372036854775808.0),  // 2^63: one past the range
                          json(std::uint64_t{9223372036854775808ULL}), json::array({3})})
    EXPECT_THROW(json_get<std::int64_t>(one(bad), "k"), IoError) << bad.dump();
  EXPECT_EQ(json_get<int>(one(2147483647), "k"), 2147483647);
  EXPECT_THROW(json_get<int>(one(2147483648LL), "k"), IoError);
  EXPECT_THROW(json_get<int>(one(-2147483649LL), "k"), IoError);
}

TEST(JsonRead, UnsignedRefusesNegativesInsteadOfWrapping) {
  EXPECT_EQ(json_get<std::uint64_t>(one(std::numeric_limits<std::uint64_t>::max()), "k"),
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(json_get<std::uint64_t>(one(0), "k"), 0u);
  EXPECT_EQ(json_get<std::uint64_t>(one(9223372036854775808.0), "k"), 9223372036854775808ULL);
  EXPECT_THROW(json_get<std::uint64_t>(one(-1), "k"), IoError);
  EXPECT_THROW(json_get<std::uint64_t>(one(-1.0), "k"), IoError);
  EXPECT_THROW(json_get<std::uint64_t>(one(18446744073709551616.0), "k"), IoError);  // 2^64
}

TEST(JsonRead, DoublesBoolsStringsAndLists) {
  EXPECT_EQ(json_get<double>(one(2), "k"), 2.0);
  EXPECT_EQ(json_get<double>(one(-1e308), "k"), -1e308);
  EXPECT_THROW(json_get<double>(one(true), "k"), IoError);
  EXPECT_THROW(json_get<double>(one("1"), "k"), IoError);
  EXPECT_TRUE(json_get<bool>(one(true), "k"));
  EXPECT_THROW(json_get<bool>(one(1), "k"), IoError);
  EXPECT_EQ(json_get<std::string>(one("a"), "k"), "a");
  EXPECT_THROW(json_get<std::string>(one(1), "k"), IoError);
  EXPECT_EQ(json_get<std::vector<std::int64_t>>(one(json::array({1, 2.0})), "k"), (std::vector<std::int64_t>{1, 2}));
  EXPECT_THROW(json_get<std::vector<std::int64_t>>(one(json::array({1, 2.5})), "k"), IoError);
  EXPECT_THROW(json_get<std::vector<double>>(one(json::array({1, "x"})), "k"), IoError);
}

TEST(JsonRead, MissingKeysAndNonObjectsNameTheKey) {
  try {
    json_get<double>(json::object(), "sigma_min");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("sigma_min"), std::string::npos) << e.what();
  }
  EXPECT_THROW(json_get<double>(json::array(), "k"), IoError);
  EXPECT_THROW(json_get<double>(json(nullptr), "k"), IoError);
  EXPECT_EQ(json_get_or(json::object(), "k", 7.0), 7.0);   // absent: the fallback
  EXPECT_THROW(json_get_or(one("x"), "k", 7.0), IoError);  // present and wrong: refused
  try {
    json_get<std::int64_t>(json{{"steps", 1.5}}, "steps");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_EQ(std::string(e.what()), "key 'steps' must be an integer, got 1.5");
  }
}

}  // namespace
}  // namespace rbsm::io
