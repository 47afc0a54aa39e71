#include "core/utf8.h"

#include <gtest/gtest.h>

namespace engram {
namespace {

TEST(Utf8, AcceptsValidText) {
  EXPECT_FALSE(FindInvalidUtf8(""));
  EXPECT_FALSE(FindInvalidUtf8("plain ascii"));
  EXPECT_FALSE(FindInvalidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_FALSE(FindInvalidUtf8("\xF4\x8F\xBF\xBF"));                           // U+10FFFF
}

TEST(Utf8, FindsTheFirstBadByte) {
  EXPECT_EQ(FindInvalidUtf8("ab\xFF"), 2u);
  EXPECT_EQ(FindInvalidUtf8("\xC3"), 0u);              // truncated
  EXPECT_EQ(FindInvalidUtf8("x\xC0\xAF"), 1u);         // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xE0\x80\xAF"), 0u);      // overlong
  EXPECT_EQ(FindInvalidUtf8("\xED\xA0\x80"), 0u);      // surrogate
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("ok\xE2\x82"), 2u);        // cut short
  EXPECT_EQ(FindInvalidUtf8("\x80"), 0u);              // lone continuation
}

TEST(Utf8, ClipLineKeepsTheFirstLineAndCutsOnACharacter) {
  EXPECT_EQ(ClipLine("short", 10), "short");
  EXPECT_EQ(ClipLine("first line\nsecond", 20), "first line");
  EXPECT_EQ(ClipLine("abcdefghijkl", 10), "abcdefg...");
  EXPECT_EQ(ClipLine("ab\xc3\xa9\xc3\xa9\xc3\xa9xyz", 8), "ab\xc3\xa9...");  // é not split
}

TEST(Utf8, StorableTextReplacesNulAndBadBytes) {
  using namespace std::string_literals;
  EXPECT_EQ(StorableText("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(StorableText("a\0b"s),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(StorableText("x\xFFy\xC3"), "x\xEF\xBF\xBDy\xEF\xBF\xBD");
  EXPECT_EQ(StorableText("\0"s), "\xEF\xBF\xBD");
  EXPECT_FALSE(FindInvalidUtf8(StorableText("\xED\xA0\x80\0ok"s)));
}

}  // namespace
}  // namespace engram
