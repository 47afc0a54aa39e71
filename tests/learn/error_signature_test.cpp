#include "learn/error_signature.h"

#include <gtest/gtest.h>

namespace engram {
namespace {

TEST(ErrorSignature, NormalisesNumbersPathsHexAndQuotedValues) {
  EXPECT_EQ(ErrorSignature("error[E0425]: cannot find value `verbose` in src/main.rs:88:12"),
            "error[e<n>]: cannot find value <q> in <path>");
  EXPECT_EQ(ErrorSignature("Segfault at 0x7ffd5e8c and 0xDEADBEEF"), "segfault at <hex> and <hex>");
  EXPECT_EQ(ErrorSignature("commit 3f2a9c1e8b7d not found"), "commit <hex> not found");
  EXPECT_EQ(ErrorSignature("KeyError: 'user_id'"), "keyerror: <q>");
  EXPECT_EQ(ErrorSignature("timed out after 30s"), "timed out after <n>s");
  EXPECT_EQ(ErrorSignature("  many   spaces\n\tand lines  "), "many spaces and lines");
}

TEST(ErrorSignature, TheSameErrorElsewhereHasTheSameSignature) {
  EXPECT_EQ(ErrorSignature("assertion failed: left: 7, right: 8 at tests/a.rs:10"),
            ErrorSignature("assertion failed: left: 3, right: 4 at tests/b.rs:99"));
  EXPECT_NE(ErrorSignature("connection refused"), ErrorSignature("connection reset"));
}

TEST(ErrorSignature, IsBoundedAndKeepsUtf8Whole) {
  const std::string long_text(1000, 'x');
  EXPECT_EQ(ErrorSignature(long_text).size(), 200u);
  std::string accents;
  for (int i = 0; i < 150; ++i) accents += "\xC3\xA9";  // é, 2 bytes each
  const std::string sig = ErrorSignature(accents);
  EXPECT_EQ(sig.size(), 200u);
  EXPECT_EQ(static_cast<unsigned char>(sig[198]), 0xC3);
}

}  // namespace
}  // namespace engram
