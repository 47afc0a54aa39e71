// parse_json: the limits every door reads JSON with.
#include <string>

#include "engram/json.h"
#include "test_util.h"

namespace engram {
namespace {

std::string Nested(int levels) {
  std::string out;
  for (int i = 0; i < levels; ++i) out += i % 2 ? "{\"k\":" : "[";
  out += "0";
  for (int i = levels - 1; i >= 0; --i) out += i % 2 ? "}" : "]";
  return out;
}

std::string ErrorOf(std::string_view text) {
  auto r = parse_json(text);
  return r.ok() ? "ok" : r.status().message();
}

TEST(ParseJson, SixtyFourLevelsAreReadAndNoMore) {
  auto ok = parse_json(Nested(64));
  ASSERT_OK(ok);
  EXPECT_TRUE(ok->is_array());
  EXPECT_EQ(ErrorOf(Nested(65)),
            "nested deeper than 64 levels (objects and arrays together), the limit");
  // Deep enough to break anything that recurses over it, refused as soon as level 65 opens.
  EXPECT_EQ(ErrorOf(std::string(1'000'000, '[')),
            "nested deeper than 64 levels (objects and arrays together), the limit");
}

TEST(ParseJson, ANumberOutOfRangeIsNamedByItsKey) {
  EXPECT_EQ(ErrorOf(R"({"tool": "x", "latency_ms": 1e400})"),
            "out of range at latency_ms: the number 1e400 is beyond ±1.7976931348623157e+308");
  EXPECT_EQ(ErrorOf("[1, -1e400]"),
            "out of range: the number -1e400 is beyond ±1.7976931348623157e+308");
  // Large integers still read (as doubles past 64 bits): the fields' own checks judge them.
  auto big = parse_json("18446744073709551616");
  ASSERT_OK(big);
  EXPECT_TRUE(big->is_number_float());
}

TEST(ParseJson, NotJsonSaysWhereAndWhy) {
  EXPECT_EQ(ErrorOf("{nope"),
            "not valid JSON: parse error at line 1, column 3: syntax error while parsing object "
            "key - invalid literal; last read: '{no'; expected string literal");
  EXPECT_EQ(ErrorOf("\"\xff\"").rfind("not valid JSON: ", 0), 0u);
  EXPECT_EQ(ErrorOf(""),
            "not valid JSON: parse error at line 1, column 1: syntax error while "
            "parsing value - unexpected end of input; expected '[', '{', or a literal");
}

}  // namespace
}  // namespace engram
