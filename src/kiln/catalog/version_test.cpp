#include "kiln/catalog/version.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace kiln::catalog {
namespace {

SemanticVersion v(const char* text) {
  Result<SemanticVersion> parsed = SemanticVersion::parse(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.error().message;
  return parsed.value_or(SemanticVersion{});
}

VersionFilter filter(const char* text) {
  Result<VersionFilter> parsed = VersionFilter::parse(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.error().message;
  return parsed.value_or(VersionFilter{});
}

// The newest of `versions` that `filter_text` matches, as AWS picks it, or "" when none does.
std::string newest(const char* filter_text, const std::vector<const char*>& versions) {
  VersionFilter f = filter(filter_text);
  std::optional<SemanticVersion> best;
  for (const char* text : versions) {
    SemanticVersion candidate = v(text);
    if (f.matches(candidate) && (!best || *best < candidate)) {
      best = candidate;
    }
  }
  return best ? best->str() : "";
}

TEST(SemanticVersion, ParsesAndFormats) {
  SemanticVersion parsed = v("1.22.333");
  EXPECT_EQ(parsed.major, 1u);
  EXPECT_EQ(parsed.minor, 22u);
  EXPECT_EQ(parsed.patch, 333u);
  EXPECT_EQ(parsed.str(), "1.22.333");
  EXPECT_EQ(v("0.0.0").str(), "0.0.0");
}

TEST(SemanticVersion, FormatsWithoutLeadingZeros) {
  EXPECT_EQ(v("01.002.0").str(), "1.2.0");
}

TEST(SemanticVersion, AcceptsTheLargestNode) {
  EXPECT_EQ(v("1073741823.0.1073741823").major, kMaxVersionNode);
}

TEST(SemanticVersion, RejectsMalformedText) {
  for (const char* text : {"",
                           "1",
                           "1.2",
                           "1.2.3.4",
                           "1..3",
                           "1.2.",
                           ".1.2",
                           "a.b.c",
                           "1.2.x",
                           "-1.2.3",
                           "+1.2.3",
                           " 1.2.3",
                           "1.2.3 ",
                           "1.2.3/1",
                           "1073741824.0.0",
                           "99999999999.0.0",
                           "4294967296.0.0"}) {
    Result<SemanticVersion> parsed = SemanticVersion::parse(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << text;
    EXPECT_NE(parsed.error().message.find(text), std::string::npos) << parsed.error().message;
  }
}

TEST(SemanticVersion, ComparesNodeByNodeAsNumbers) {
  EXPECT_LT(v("1.2.3"), v("1.2.4"));
  EXPECT_LT(v("1.2.9"), v("1.10.0"));
  EXPECT_LT(v("1.99.99"), v("2.0.0"));
  EXPECT_LT(v("9.0.0"), v("10.0.0"));
  EXPECT_EQ(v("1.2.3"), v("01.2.3"));
}

TEST(BuildVersion, ParsesFormatsAndCompares) {
  Result<BuildVersion> parsed = BuildVersion::parse("1.2.3/4");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->version, v("1.2.3"));
  EXPECT_EQ(parsed->build, 4u);
  EXPECT_EQ(parsed->str(), "1.2.3/4");
  EXPECT_LT(BuildVersion::parse("1.2.3/9").value(), BuildVersion::parse("1.2.3/10").value());
  EXPECT_LT(BuildVersion::parse("1.2.3/10").value(), BuildVersion::parse("1.2.4/1").value());
}

TEST(BuildVersion, RejectsMalformedText) {
  for (const char* text : {"1.2.3",
                           "1.2.3/",
                           "1.2.3/0",
                           "1.2.3/x",
                           "1.2.x/1",
                           "1.2.3/1/1",
                           "/1",
                           "1.2.3/1073741824"}) {
    EXPECT_FALSE(BuildVersion::parse(text).ok()) << text;
  }
}

TEST(VersionFilter, AcceptsAwsWildcards) {
  EXPECT_EQ(filter("x.x.x").str(), "x.x.x");
  EXPECT_EQ(filter("1.x.x").str(), "1.x.x");
  EXPECT_EQ(filter("1.6.x").str(), "1.6.x");
  EXPECT_EQ(filter("1.6.8").str(), "1.6.8");
  EXPECT_EQ(VersionFilter().str(), "x.x.x");
}

TEST(VersionFilter, RejectsAFixedNodeAfterAWildcard) {
  for (const char* text : {"x.2.x", "1.x.8", "x.x.1", "x.1.1"}) {
    Result<VersionFilter> parsed = VersionFilter::parse(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find("right of the first x"), std::string::npos)
        << parsed.error().message;
  }
}

TEST(VersionFilter, RejectsMalformedText) {
  for (const char* text : {"", "x", "x.x", "1.2", "X.x.x", "1.*.x", "1.2.3.x", "1.y.x", "1.2.-1"}) {
    EXPECT_FALSE(VersionFilter::parse(text).ok()) << text;
  }
}

// The example of AWS's documentation: with 2.2.4, 1.7.8 and 1.6.8 present.
TEST(VersionFilter, PicksTheNewestMatchAsAwsDocuments) {
  std::vector<const char*> versions = {"1.6.8", "2.2.4", "1.7.8"};
  EXPECT_EQ(newest("x.x.x", versions), "2.2.4");
  EXPECT_EQ(newest("1.x.x", versions), "1.7.8");
  EXPECT_EQ(newest("1.6.x", versions), "1.6.8");
  EXPECT_EQ(newest("1.6.8", versions), "1.6.8");
  EXPECT_EQ(newest("3.x.x", versions), "");
  EXPECT_EQ(newest("1.6.9", versions), "");
}

TEST(VersionFilter, MatchesOnlyItsFixedNodes) {
  EXPECT_TRUE(filter("1.x.x").matches(v("1.0.0")));
  EXPECT_FALSE(filter("1.x.x").matches(v("10.0.0")));
  EXPECT_TRUE(filter("1.2.x").matches(v("1.2.99")));
  EXPECT_FALSE(filter("1.2.x").matches(v("1.3.0")));
  EXPECT_TRUE(VersionFilter().matches(v("7.7.7")));
}

// Every fixed node is compared: an exact filter matches its version and no neighbour (a filter
// that ignored the patch node passed every other test: docs/security/mutation.md).
TEST(VersionFilter, ExactFiltersMatchOnlyTheirVersion) {
  VersionFilter exact = filter("1.2.3");
  EXPECT_TRUE(exact.matches(v("1.2.3")));
  for (const char* other :
       {"1.2.4", "1.2.2", "1.2.0", "1.3.3", "1.1.3", "2.2.3", "0.2.3", "1.2.30", "3.2.1"}) {
    EXPECT_FALSE(exact.matches(v(other))) << other;
  }
  EXPECT_FALSE(VersionFilter::exact(v("0.0.1")).matches(v("0.0.0")));
  EXPECT_FALSE(filter("1.2.x").matches(v("2.2.0")));
  EXPECT_FALSE(filter("1.2.x").matches(v("1.1.2")));
  EXPECT_EQ(newest("1.2.3", {"1.2.4", "1.2.3", "1.3.0"}), "1.2.3");
  EXPECT_EQ(newest("1.2.3", {"1.2.4", "1.3.3"}), "");
}

TEST(VersionFilter, ExactFiltersNameTheirVersion) {
  EXPECT_TRUE(filter("1.2.3").is_exact());
  EXPECT_EQ(filter("1.2.3").exact_version(), v("1.2.3"));
  EXPECT_FALSE(filter("1.2.x").is_exact());
  EXPECT_EQ(filter("1.2.x").exact_version(), std::nullopt);
  EXPECT_EQ(VersionFilter::exact(v("4.5.6")), filter("4.5.6"));
}

}  // namespace
}  // namespace kiln::catalog
