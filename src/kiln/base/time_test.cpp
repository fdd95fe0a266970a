#include "kiln/base/time.hpp"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(ParseRfc3339, RoundTripsWhatKilnWrites) {
  SystemTime t = std::chrono::system_clock::from_time_t(1700000000);
  std::optional<SystemTime> parsed = parse_rfc3339_utc(format_rfc3339_utc(t));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, t);
}

TEST(ParseRfc3339, ReadsAwsMilliseconds) {
  std::optional<SystemTime> parsed = parse_rfc3339_utc("2020-01-27T20:43:30.306Z");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(
      std::chrono::duration_cast<std::chrono::milliseconds>(parsed->time_since_epoch()).count(),
      1580157810306);
}

TEST(ParseRfc3339, RefusesOtherForms) {
  for (const char* text : {"2020-01-27 20:43:30Z",
                           "2020-01-27T20:43:30+01:00",
                           "2020-01-27T20:43:30",
                           "2020-13-27T20:43:30Z",
                           "2020-01-27T20:43:30.3Z",
                           "2020-01-27T20:43:30.30aZ",
                           "",
                           "garbage"}) {
    EXPECT_FALSE(parse_rfc3339_utc(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace kiln
