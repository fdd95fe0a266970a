#include "kiln/document/compare.hpp"

#include <gtest/gtest.h>

#include <string>

// The operators built on these are tested through evaluate() in condition_test.cpp.

namespace kiln::document {
namespace {

TEST(CompareIgnoringAsciiCase, FoldsOnlyAsciiLetters) {
  EXPECT_EQ(compare_ignoring_ascii_case("ABC", "abc"), 0);
  EXPECT_LT(compare_ignoring_ascii_case("apple", "Banana"), 0);
  EXPECT_GT(compare_ignoring_ascii_case("b", "A"), 0);
  EXPECT_NE(compare_ignoring_ascii_case("\xC3\x89", "\xC3\xA9"), 0);  // É and é differ
  EXPECT_GT(compare_ignoring_ascii_case("\xC3\xA9", "z"), 0);         // bytes compare unsigned
}

TEST(CompareNumbers, OrdersByValue) {
  EXPECT_EQ(compare_numbers("1.50", "+01.5"), 0);
  EXPECT_EQ(compare_numbers("-0", "0.000"), 0);
  EXPECT_LT(compare_numbers("9", "10").value_or(0), 0);
  EXPECT_GT(compare_numbers("-9", "-10").value_or(0), 0);
  EXPECT_LT(compare_numbers("-1", "0").value_or(0), 0);
  EXPECT_GT(compare_numbers("0.25", "0.2").value_or(0), 0);
  EXPECT_LT(compare_numbers("123456789012345678901234567890", "123456789012345678901234567891")
                .value_or(0),
            0);
}

TEST(CompareNumbers, AnythingElseIsNotANumber) {
  for (const char* bad : {"", "-", "1.", ".5", "1e3", "0x10", " 1", "1 ", "1,5", "--1", "NaN"}) {
    EXPECT_EQ(compare_numbers(bad, "1"), std::nullopt) << bad;
    EXPECT_EQ(compare_numbers("1", bad), std::nullopt) << bad;
  }
}

TEST(ParseGoBool, AcceptsGoSpellingsInAnyCase) {
  for (const char* yes : {"true", "TRUE", "True", "t", "T", "1"}) {
    EXPECT_EQ(parse_go_bool(yes), true) << yes;
  }
  for (const char* no : {"false", "FALSE", "f", "F", "0"}) {
    EXPECT_EQ(parse_go_bool(no), false) << no;
  }
  for (const char* neither : {"", "yes", "no", "on", "2", " true"}) {
    EXPECT_EQ(parse_go_bool(neither), std::nullopt) << neither;
  }
}

TEST(IsUnicodeSpace, MatchesGo) {
  for (char32_t c : {U'\t',
                     U'\n',
                     U'\v',
                     U'\f',
                     U'\r',
                     U' ',
                     U'\u0085',
                     U'\u00A0',
                     U'\u1680',
                     U'\u2000',
                     U'\u200A',
                     U'\u2028',
                     U'\u2029',
                     U'\u202F',
                     U'\u205F',
                     U'\u3000'}) {
    EXPECT_TRUE(is_unicode_space(c)) << static_cast<uint32_t>(c);
  }
  for (char32_t c : {U'a', U'\0', U'\u200B', U'\uFEFF', U'\u180E', U'\u001C'}) {
    EXPECT_FALSE(is_unicode_space(c)) << static_cast<uint32_t>(c);
  }
}

TEST(IsWhitespace, NeedsOnlySpacesAndValidUtf8) {
  EXPECT_TRUE(is_whitespace(" \t\n"));
  EXPECT_TRUE(is_whitespace("\xE3\x80\x80\xC2\xA0"));  // U+3000 U+00A0
  EXPECT_FALSE(is_whitespace(""));
  EXPECT_FALSE(is_whitespace(" x "));
  EXPECT_FALSE(is_whitespace(" \xC2"));     // truncated
  EXPECT_FALSE(is_whitespace("\xC0\xA0"));  // an overlong space
}

}  // namespace
}  // namespace kiln::document
