#include "kiln/base/strings.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace kiln {
namespace {

using Parts = std::vector<std::string>;

TEST(SplitTest, SplitsOnEveryDelimiter) {
  EXPECT_EQ(split("a,b,c", ','), (Parts{"a", "b", "c"}));
}

TEST(SplitTest, KeepsEmptyParts) {
  EXPECT_EQ(split("a,,b", ','), (Parts{"a", "", "b"}));
  EXPECT_EQ(split(",a,", ','), (Parts{"", "a", ""}));
}

TEST(SplitTest, TextWithoutDelimiterIsOnePart) {
  EXPECT_EQ(split("abc", ','), (Parts{"abc"}));
  EXPECT_EQ(split("", ','), (Parts{""}));
}

TEST(SplitTest, SplitsLines) {
  EXPECT_EQ(split("one\ntwo\n", '\n'), (Parts{"one", "two", ""}));
}

TEST(JoinTest, PutsTheSeparatorBetweenParts) {
  EXPECT_EQ(join({"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_EQ(join({"only"}, ","), "only");
  EXPECT_EQ(join({}, ","), "");
  EXPECT_EQ(join({"", ""}, "-"), "-");
}

TEST(JoinTest, InvertsSplit) {
  const std::string text = "x,,y,z,";
  EXPECT_EQ(join(split(text, ','), ","), text);
}

TEST(TrimTest, RemovesWhitespaceAtBothEnds) {
  EXPECT_EQ(trim("  a b \t\n"), "a b");
  EXPECT_EQ(trim("\r\n\vx\f"), "x");
  EXPECT_EQ(trim("plain"), "plain");
}

TEST(TrimTest, AllWhitespaceBecomesEmpty) {
  EXPECT_EQ(trim(" \t\n "), "");
  EXPECT_EQ(trim(""), "");
}

TEST(TrimTest, ReturnsAViewIntoTheInput) {
  std::string_view text = "  inner  ";
  std::string_view trimmed = trim(text);
  EXPECT_EQ(trimmed.data(), text.data() + 2);
}

TEST(CaseTest, ToLower) {
  EXPECT_EQ(to_lower("MiXeD-123"), "mixed-123");
}

TEST(CaseTest, IequalsIgnoresCaseOnly) {
  EXPECT_TRUE(iequals("SHA256", "sha256"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("abc", "abd"));
  EXPECT_FALSE(iequals("abc", "abcd"));
  EXPECT_FALSE(iequals("abc", "ab"));
}

TEST(AffixTest, StartsAndEndsWith) {
  EXPECT_TRUE(starts_with("s3://bucket", "s3://"));
  EXPECT_FALSE(starts_with("s3:", "s3://"));
  EXPECT_TRUE(starts_with("x", ""));
  EXPECT_TRUE(ends_with("file.yaml", ".yaml"));
  EXPECT_FALSE(ends_with("yaml", ".yaml"));
  EXPECT_TRUE(ends_with("x", ""));
}

TEST(EditDistanceTest, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("executonId", "executionId"), 1u);
  EXPECT_EQ(edit_distance("abcd", "abd"), 1u);
  EXPECT_EQ(edit_distance("abc", "abx"), 1u);
}

TEST(EditDistanceTest, IsSymmetric) {
  EXPECT_EQ(edit_distance("flaw", "lawn"), edit_distance("lawn", "flaw"));
  EXPECT_EQ(edit_distance("flaw", "lawn"), 2u);
}

TEST(EditDistanceTest, IgnoresCase) {
  EXPECT_EQ(edit_distance("ExecuteBash", "executebash"), 0u);
}

TEST(ClosestMatchTest, FindsAMisspelling) {
  std::vector<std::string_view> keys = {"documents", "parameters", "phases", "executionId"};
  EXPECT_EQ(closest_match("paramters", keys), "parameters");
  EXPECT_EQ(closest_match("executonId", keys), "executionId");
  EXPECT_EQ(closest_match("Phases", keys), "phases");
}

TEST(ClosestMatchTest, PicksTheNearestCandidate) {
  EXPECT_EQ(closest_match("phasess", {"phase", "phases"}), "phases");
}

TEST(ClosestMatchTest, ShortWordsGetAtMostOneEdit) {
  EXPECT_EQ(closest_match("lop", {"loop"}), "loop");
  EXPECT_EQ(closest_match("if", {"of"}), "of");
  EXPECT_EQ(closest_match("lp", {"loop"}), "");    // two edits
  EXPECT_EQ(closest_match("tmie", {"time"}), "");  // a swap is two edits
  EXPECT_EQ(closest_match("abcd", {"wxyz"}), "");
}

TEST(ClosestMatchTest, LongerWordsAllowAboutAThird) {
  // 12 letters: up to 4 edits.
  EXPECT_EQ(closest_match("lgoDirectoyr", {"logDirectory"}), "logDirectory");
  EXPECT_EQ(closest_match("somethingelse", {"logDirectory"}), "");
}

TEST(ClosestMatchTest, NoCandidatesIsEmpty) {
  EXPECT_EQ(closest_match("anything", {}), "");
}

TEST(TailLinesTest, KeepsTheLastLines) {
  EXPECT_EQ(tail_lines("a\nb\nc\nd\n", 2), "c\nd");
  EXPECT_EQ(tail_lines("a\nb\nc\nd", 2), "c\nd");
  EXPECT_EQ(tail_lines("a\nb\nc\nd", 1), "d");
}

TEST(TailLinesTest, ShortTextIsReturnedWhole) {
  EXPECT_EQ(tail_lines("a\nb", 2), "a\nb");
  EXPECT_EQ(tail_lines("a\nb", 10), "a\nb");
  EXPECT_EQ(tail_lines("only", 3), "only");
}

TEST(TailLinesTest, DropsTrailingEmptyLines) {
  EXPECT_EQ(tail_lines("a\nb\n\n\n", 1), "b");
}

TEST(TailLinesTest, KeepsEmptyLinesInside) {
  EXPECT_EQ(tail_lines("a\n\nb", 2), "\nb");
  EXPECT_EQ(tail_lines("\nb", 1), "b");
  EXPECT_EQ(tail_lines("\nb", 2), "\nb");
}

TEST(TailLinesTest, EmptyInputsGiveEmptyOutput) {
  EXPECT_EQ(tail_lines("", 3), "");
  EXPECT_EQ(tail_lines("\n\n", 3), "");
  EXPECT_EQ(tail_lines("a\nb", 0), "");
  EXPECT_EQ(tail_lines("", 0), "");
}

}  // namespace
}  // namespace kiln
