#include "kiln/schedule/schedule.hpp"

#include <date/date.h>
#include <date/tz.h>
#include <gtest/gtest.h>

#include <bitset>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kiln/schedule/cron.hpp"

namespace kiln::schedule {
namespace {

using std::chrono::minutes;

// "2026-05-10T10:00:30Z" -> a time point.
SystemTime utc(const std::string& text) {
  std::optional<SystemTime> time = parse_rfc3339_utc(text);
  EXPECT_TRUE(time.has_value()) << text;
  return time.value_or(SystemTime{});
}

std::string show(std::optional<SystemTime> time) {
  if (!time) {
    return "none";
  }
  return date::format("%Y-%m-%dT%H:%M:%SZ", std::chrono::floor<std::chrono::seconds>(*time));
}

std::string next(const std::string& expression,
                 const std::string& timezone,
                 const std::string& after,
                 const std::string& anchor = "1970-01-01T00:00:00Z") {
  Result<Schedule> schedule = Schedule::parse(expression);
  if (!schedule.ok()) {
    return "parse error: " + schedule.error().message;
  }
  Result<std::optional<SystemTime>> run = next_run(*schedule, timezone, utc(after), utc(anchor));
  if (!run.ok()) {
    return "error: " + run.error().message;
  }
  return show(*run);
}

struct Case {
  const char* expression;
  const char* timezone;
  const char* after;
  const char* expected;  // "none" when there is no next run
};

void PrintTo(const Case& c, std::ostream* out) {
  *out << c.expression << " in '" << c.timezone << "' after " << c.after;
}

class NextRun : public testing::TestWithParam<Case> {};

TEST_P(NextRun, Matches) {
  const Case& c = GetParam();
  EXPECT_EQ(next(c.expression, c.timezone, c.after), c.expected)
      << c.expression << " in " << c.timezone << " after " << c.after;
}

// 2026-05-10 is a Sunday; 2028 is a leap year.
const Case kBasics[] = {
    {"cron(* * * * ? *)", "UTC", "2026-05-10T10:00:00Z", "2026-05-10T10:01:00Z"},
    {"cron(* * * * ? *)", "UTC", "2026-05-10T10:00:30Z", "2026-05-10T10:01:00Z"},
    {"cron(* * * * ? *)", "UTC", "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z"},
    {"cron(0 * * * ? *)", "UTC", "2026-05-10T10:00:00Z", "2026-05-10T11:00:00Z"},
    {"cron(0 * ? * * *)", "UTC", "2026-05-10T10:59:59Z", "2026-05-10T11:00:00Z"},
    {"cron(0 10 * * ? *)", "UTC", "2026-05-10T09:59:59Z", "2026-05-10T10:00:00Z"},
    {"cron(0 10 * * ? *)", "", "2026-05-10T10:00:00Z", "2026-05-11T10:00:00Z"},
    {"cron(0 0 ? * SUN *)", "UTC", "2026-05-10T00:00:00Z", "2026-05-17T00:00:00Z"},
    {"cron(0 0 ? * 1 *)", "UTC", "2026-05-09T23:59:00Z", "2026-05-10T00:00:00Z"},
    {"cron(30 22 ? * tue#2 *)", "UTC", "2026-05-01T00:00:00Z", "2026-05-12T22:30:00Z"},
    {"cron(30 22 ? * tue#2 *)", "UTC", "2026-05-12T22:30:00Z", "2026-06-09T22:30:00Z"},
    {"cron(0 0 ? * 2#5 *)", "UTC", "2026-05-01T00:00:00Z", "2026-06-29T00:00:00Z"},
    {"  cron( 15  12 * * ?  * )  ", "UTC", "2026-05-10T12:15:00Z", "2026-05-11T12:15:00Z"},
    {"cron(0 8 ? JAN,jul MON-FRI *)", "UTC", "2026-01-31T00:00:00Z", "2026-07-01T08:00:00Z"},
    {"cron(0 8 ? * mon,WED,Fri *)", "UTC", "2026-05-11T08:00:00Z", "2026-05-13T08:00:00Z"},
    // Steps.
    {"cron(*/15 * * * ? *)", "UTC", "2026-05-10T10:14:00Z", "2026-05-10T10:15:00Z"},
    {"cron(*/15 * * * ? *)", "UTC", "2026-05-10T10:45:00Z", "2026-05-10T11:00:00Z"},
    {"cron(5/10 * * * ? *)", "UTC", "2026-05-10T10:56:00Z", "2026-05-10T11:05:00Z"},
    {"cron(5/10 * * * ? *)", "UTC", "2026-05-10T10:05:00Z", "2026-05-10T10:15:00Z"},
    {"cron(10-40/5 * * * ? *)", "UTC", "2026-05-10T10:41:00Z", "2026-05-10T11:10:00Z"},
    {"cron(10-40/5 * * * ? *)", "UTC", "2026-05-10T10:11:00Z", "2026-05-10T10:15:00Z"},
    {"cron(0 0 */2 * ? *)", "UTC", "2026-05-01T00:00:00Z", "2026-05-03T00:00:00Z"},
    {"cron(0 0 */2 * ? *)", "UTC", "2026-05-31T00:00:00Z", "2026-06-01T00:00:00Z"},
    {"cron(0 0,12 1 */3 ? *)", "UTC", "2026-01-01T12:00:00Z", "2026-04-01T00:00:00Z"},
    // L, LW, W in day-of-month.
    {"cron(0 12 L * ? *)", "UTC", "2026-02-01T00:00:00Z", "2026-02-28T12:00:00Z"},
    {"cron(0 12 L * ? *)", "UTC", "2028-02-01T00:00:00Z", "2028-02-29T12:00:00Z"},
    {"cron(0 12 L * ? *)", "UTC", "2026-04-30T12:00:00Z", "2026-05-31T12:00:00Z"},
    {"cron(0 12 L 2 ? *)", "UTC", "2027-03-01T00:00:00Z", "2028-02-29T12:00:00Z"},
    {"cron(0 9 LW * ? *)", "UTC", "2026-05-01T00:00:00Z", "2026-05-29T09:00:00Z"},   // 31st: Sun
    {"cron(0 9 LW * ? *)", "UTC", "2026-01-01T00:00:00Z", "2026-01-30T09:00:00Z"},   // 31st: Sat
    {"cron(0 9 lw * ? *)", "UTC", "2026-08-01T00:00:00Z", "2026-08-31T09:00:00Z"},   // 31st: Mon
    {"cron(0 9 15W * ? *)", "UTC", "2026-08-01T00:00:00Z", "2026-08-14T09:00:00Z"},  // Sat -> Fri
    {"cron(0 9 15W * ? *)", "UTC", "2026-11-01T00:00:00Z", "2026-11-16T09:00:00Z"},  // Sun -> Mon
    {"cron(0 9 15W * ? *)", "UTC", "2026-05-01T00:00:00Z", "2026-05-15T09:00:00Z"},  // Fri
    {"cron(0 9 1W * ? *)", "UTC", "2026-08-01T00:00:00Z", "2026-08-03T09:00:00Z"},   // Sat 1st
    {"cron(0 9 1W * ? *)", "UTC", "2026-11-01T00:00:00Z", "2026-11-02T09:00:00Z"},   // Sun 1st
    {"cron(0 9 31W * ? *)", "UTC", "2026-04-01T00:00:00Z", "2026-05-29T09:00:00Z"},  // Sun 31st
    // L and # in day-of-week.
    {"cron(0 9 ? * 5L *)", "UTC", "2026-05-01T00:00:00Z", "2026-05-28T09:00:00Z"},
    {"cron(0 9 ? * friL *)", "UTC", "2026-05-01T00:00:00Z", "2026-05-29T09:00:00Z"},
    {"cron(0 9 ? * 1L *)", "UTC", "2026-05-01T00:00:00Z", "2026-05-31T09:00:00Z"},
    {"cron(0 9 ? * L *)", "UTC", "2026-05-10T00:00:00Z", "2026-05-16T09:00:00Z"},  // Saturday
    // Month ends, leap days, years.
    {"cron(0 0 31 * ? *)", "UTC", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z"},
    {"cron(0 0 31 * ? *)", "UTC", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z"},
    {"cron(0 0 31 * ? *)", "UTC", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z"},
    {"cron(0 0 29 2 ? *)", "UTC", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
    {"cron(0 0 29 2 ? *)", "UTC", "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"},
    {"cron(0 0 29 FEB ? 2100-2199)", "UTC", "2026-01-01T00:00:00Z", "2104-02-29T00:00:00Z"},
    {"cron(0 0 30 2 ? *)", "UTC", "2026-01-01T00:00:00Z", "none"},
    {"cron(0 0 1 1 ? 2199)", "UTC", "2198-06-01T00:00:00Z", "2199-01-01T00:00:00Z"},
    {"cron(0 0 1 1 ? 2199)", "UTC", "2199-01-01T00:00:00Z", "none"},
    {"cron(* * * * ? *)", "UTC", "2199-12-31T23:59:00Z", "none"},
    {"cron(0 0 1 1 ? 2020-2025)", "UTC", "2026-01-01T00:00:00Z", "none"},
    {"cron(0 0 1 1 ? 2030/5)", "UTC", "2026-01-01T00:00:00Z", "2030-01-01T00:00:00Z"},
    {"cron(0 0 1 1 ? 2030/5)", "UTC", "2030-01-01T00:00:00Z", "2035-01-01T00:00:00Z"},
    {"cron(0 0 1 1 ? 1970)", "UTC", "1960-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
};
INSTANTIATE_TEST_SUITE_P(Cron, NextRun, testing::ValuesIn(kBasics));

const Case kTimeZones[] = {
    // New York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    {"cron(0 10 * * ? *)", "America/New_York", "2026-07-01T00:00:00Z", "2026-07-01T14:00:00Z"},
    {"cron(0 10 * * ? *)", "America/New_York", "2026-12-01T00:00:00Z", "2026-12-01T15:00:00Z"},
    // 02:30 does not exist on March 8th: skipped.
    {"cron(30 2 * * ? *)", "America/New_York", "2026-03-07T12:00:00Z", "2026-03-09T06:30:00Z"},
    {"cron(0 * * * ? *)", "America/New_York", "2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z"},
    {"cron(59 1 * * ? *)", "America/New_York", "2026-03-08T06:00:00Z", "2026-03-08T06:59:00Z"},
    // 01:30 happens twice on November 1st: once, at its first occurrence (EDT).
    {"cron(30 1 * * ? *)", "America/New_York", "2026-11-01T04:00:00Z", "2026-11-01T05:30:00Z"},
    {"cron(30 1 * * ? *)", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
    {"cron(0 * * * ? *)", "America/New_York", "2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z"},
    {"cron(45 * * * ? *)", "America/New_York", "2026-11-01T06:10:00Z", "2026-11-01T07:45:00Z"},
    // Paris: 2026-03-29 02:00 CET -> 03:00 CEST.
    {"cron(0 9 * * ? *)", "Europe/Paris", "2026-03-28T12:00:00Z", "2026-03-29T07:00:00Z"},
    {"cron(30 2 * * ? *)", "Europe/Paris", "2026-03-28T12:00:00Z", "2026-03-30T00:30:00Z"},
    {"cron(0 0 1 * ? *)", "Europe/Paris", "2026-04-30T12:00:00Z", "2026-04-30T22:00:00Z"},
    // Kolkata: +05:30 all year.
    {"cron(0 9 * * ? *)", "Asia/Kolkata", "2026-05-09T23:00:00Z", "2026-05-10T03:30:00Z"},
    {"cron(0 0 1 * ? *)", "Asia/Kolkata", "2026-04-30T12:00:00Z", "2026-04-30T18:30:00Z"},
    {"cron(0 0 ? * MON *)", "Asia/Kolkata", "2026-05-10T12:00:00Z", "2026-05-10T18:30:00Z"},
    // Lord Howe: +10:30, +11 in summer; 2026-10-04 02:00 -> 02:30, 2026-04-05 02:00 -> 01:30.
    {"cron(15 2 * * ? *)", "Australia/Lord_Howe", "2026-10-03T12:00:00Z", "2026-10-04T15:15:00Z"},
    {"cron(45 1 * * ? *)", "Australia/Lord_Howe", "2026-04-04T14:00:00Z", "2026-04-04T14:45:00Z"},
    {"cron(45 1 * * ? *)", "Australia/Lord_Howe", "2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"},
};
INSTANTIATE_TEST_SUITE_P(TimeZones, NextRun, testing::ValuesIn(kTimeZones));

const Case kRates[] = {
    {"rate(5 minutes)", "UTC", "2026-05-10T10:02:30Z", "2026-05-10T10:05:00Z"},
    {"rate(5 minutes)", "UTC", "2026-05-10T10:05:00Z", "2026-05-10T10:10:00Z"},
    {"rate(1 minute)", "UTC", "2026-05-10T10:05:00Z", "2026-05-10T10:06:00Z"},
    {"rate(1 hour)", "UTC", "2026-05-10T10:30:00Z", "2026-05-10T11:00:00Z"},
    {"rate(2 hours)", "UTC", "2026-05-10T10:30:00Z", "2026-05-10T12:00:00Z"},
    {"rate(1 day)", "Europe/Paris", "2026-05-10T10:30:00Z", "2026-05-11T00:00:00Z"},
    {"rate(3 days)", "UTC", "1970-01-03T00:00:00Z", "1970-01-04T00:00:00Z"},
};
INSTANTIATE_TEST_SUITE_P(Rates, NextRun, testing::ValuesIn(kRates));

TEST(Rate, CountsFromTheAnchorMinute) {
  EXPECT_EQ(next("rate(1 hour)", "UTC", "2026-05-10T10:00:00Z", "2026-05-10T09:17:42Z"),
            "2026-05-10T10:17:00Z");
  EXPECT_EQ(next("rate(1 hour)", "UTC", "2026-05-10T10:17:00Z", "2026-05-10T09:17:42Z"),
            "2026-05-10T11:17:00Z");
  EXPECT_EQ(next("rate(3 days)", "UTC", "2026-05-01T00:00:00Z", "2026-05-01T00:00:00Z"),
            "2026-05-04T00:00:00Z");
}

TEST(Rate, FirstRunIsOnePeriodAfterTheAnchor) {
  EXPECT_EQ(next("rate(2 hours)", "UTC", "2026-05-10T05:30:00Z", "2026-05-10T10:00:00Z"),
            "2026-05-10T12:00:00Z");
}

TEST(Rate, DaysAreTwentyFourHoursAcrossDaylightSaving) {
  EXPECT_EQ(next("rate(1 day)", "America/New_York", "2026-03-08T11:00:00Z", "2026-03-07T12:00:00Z"),
            "2026-03-08T12:00:00Z");
}

TEST(Rate, Period) {
  EXPECT_EQ(Schedule::parse("rate(1 minute)")->rate(), minutes(1));
  EXPECT_EQ(Schedule::parse("rate(5 minutes)")->rate(), minutes(5));
  EXPECT_EQ(Schedule::parse("rate(1 hour)")->rate(), minutes(60));
  EXPECT_EQ(Schedule::parse("rate(2 hours)")->rate(), minutes(120));
  EXPECT_EQ(Schedule::parse("rate(1 day)")->rate(), minutes(1440));
  EXPECT_EQ(Schedule::parse("rate(3 days)")->rate(), minutes(3 * 1440));
  EXPECT_TRUE(Schedule::parse("rate(3 days)")->is_rate());
  EXPECT_FALSE(Schedule::parse("cron(0 0 * * ? *)")->is_rate());
}

struct ErrorCase {
  const char* expression;
  const char* message;
};

void PrintTo(const ErrorCase& c, std::ostream* out) {
  *out << "'" << c.expression << "'";
}

class ParseError : public testing::TestWithParam<ErrorCase> {};

TEST_P(ParseError, NamesFieldAndProblem) {
  const ErrorCase& c = GetParam();
  Result<Schedule> schedule = Schedule::parse(c.expression);
  ASSERT_FALSE(schedule.ok()) << c.expression;
  EXPECT_EQ(schedule.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(schedule.error().message, c.message);
}

const ErrorCase kErrors[] = {
    {"cron(0 10 * * MON *)",
     "cron(0 10 * * MON *): day-of-month and day-of-week cannot both be set: use ? in one of "
     "them, as in cron(0 10 ? * MON *)"},
    {"cron(0 0 * * SUN *)",
     "cron(0 0 * * SUN *): day-of-month and day-of-week cannot both be set: use ? in one of "
     "them, as in cron(0 0 ? * SUN *)"},
    {"cron(0 0 1 * 2 *)",
     "cron(0 0 1 * 2 *): day-of-month and day-of-week cannot both be set: use ? in one of them"},
    {"cron(0 10 ? * ? *)",
     "cron(0 10 ? * ? *): day-of-month and day-of-week cannot both be ?: give a value in one of "
     "them"},
    {"cron(60 * * * ? *)", "cron(60 * * * ? *): minute: 60 is out of range 0-59"},
    {"cron(0 24 * * ? *)", "cron(0 24 * * ? *): hour: 24 is out of range 0-23"},
    {"cron(0 0 0 * ? *)", "cron(0 0 0 * ? *): day-of-month: 0 is out of range 1-31"},
    {"cron(0 0 32 * ? *)", "cron(0 0 32 * ? *): day-of-month: 32 is out of range 1-31"},
    {"cron(0 0 ? 13 MON *)", "cron(0 0 ? 13 MON *): month: 13 is out of range 1-12"},
    {"cron(0 0 ? * 8 *)", "cron(0 0 ? * 8 *): day-of-week: 8 is out of range 1-7"},
    {"cron(0 0 ? * 0 *)", "cron(0 0 ? * 0 *): day-of-week: 0 is out of range 1-7"},
    {"cron(0 0 1 1 ? 2200)", "cron(0 0 1 1 ? 2200): year: 2200 is out of range 1970-2199"},
    {"cron(0 0 1 1 ? 1969)", "cron(0 0 1 1 ? 1969): year: 1969 is out of range 1970-2199"},
    {"cron(99999999999 0 1 1 ? *)",
     "cron(99999999999 0 1 1 ? *): minute: 99999999999 is out of range 0-59"},
    {"cron(0 0 ? FOO MON *)",
     "cron(0 0 ? FOO MON *): month: 'FOO' is not a number (1-12) or month name (JAN-DEC)"},
    {"cron(0 0 ? * MONDAY *)",
     "cron(0 0 ? * MONDAY *): day-of-week: 'MONDAY' is not a number (1-7) or day name "
     "(SUN-SAT)"},
    {"cron(0 0 ? JAN SUN-MON-TUE *)",
     "cron(0 0 ? JAN SUN-MON-TUE *): day-of-week: 'MON-TUE' is not a number (1-7) or day name "
     "(SUN-SAT)"},
    {"cron(0 0 ? * FRI-MON *)",
     "cron(0 0 ? * FRI-MON *): day-of-week: range FRI-MON goes backwards: ranges must be "
     "increasing (split it, as in FRI-SAT,SUN-MON)"},
    {"cron(40-10 * * * ? *)",
     "cron(40-10 * * * ? *): minute: range 40-10 goes backwards: ranges must be increasing "
     "(split it, as in FRI-SAT,SUN-MON)"},
    {"cron(-5 * * * ? *)", "cron(-5 * * * ? *): minute: a value is missing"},
    {"cron(1,,2 * * * ? *)", "cron(1,,2 * * * ? *): minute: empty value in a list"},
    {"cron(*/0 * * * ? *)", "cron(*/0 * * * ? *): minute: step '0' must be a number from 1 to 59"},
    {"cron(*/60 * * * ? *)",
     "cron(*/60 * * * ? *): minute: step '60' must be a number from 1 to 59"},
    {"cron(*/ * * * ? *)", "cron(*/ * * * ? *): minute: step '' must be a number from 1 to 59"},
    {"cron(? 0 1 * ? *)",
     "cron(? 0 1 * ? *): minute: '?' is allowed only alone in day-of-month or day-of-week"},
    {"cron(0 0 1 L ? *)",
     "cron(0 0 1 L ? *): month: L is allowed only in day-of-month or "
     "day-of-week"},
    {"cron(0 0 ? * 3#6 *)",
     "cron(0 0 ? * 3#6 *): day-of-week: '3#6': the number after # must be 1-5 (the nth such day "
     "of the month)"},
    {"cron(0 0 ? * 9#1 *)", "cron(0 0 ? * 9#1 *): day-of-week: 9 is out of range 1-7"},
    {"cron(0 0 ? * 3#1,6#3 *)",
     "cron(0 0 ? * 3#1,6#3 *): day-of-week: '3#1,6#3': ?, L and # cannot be combined with "
     "other values"},
    {"cron(0 0 ? * 2,5L *)",
     "cron(0 0 ? * 2,5L *): day-of-week: '2,5L': ?, L and # cannot be combined with other "
     "values"},
    {"cron(0 0 L,15 * ? *)",
     "cron(0 0 L,15 * ? *): day-of-month: 'L,15': ?, L and W cannot be combined with other "
     "values"},
    {"cron(0 0 L-3 * ? *)",
     "cron(0 0 L-3 * ? *): day-of-month: 'L-3': L stands alone, as L (last day) or LW (last "
     "weekday)"},
    {"cron(0 0 W * ? *)",
     "cron(0 0 W * ? *): day-of-month: 'W': W follows a single day, as in 15W or LW"},
    {"cron(0 0 32W * ? *)", "cron(0 0 32W * ? *): day-of-month: 32 is out of range 1-31"},
    {"cron(0 10 * * ?)",
     "cron(0 10 * * ?): expected 6 fields (minute hour day-of-month month day-of-week year), "
     "got 5 (the year is required: add * for every year)"},
    {"cron(0 10 * * ? * *)",
     "cron(0 10 * * ? * *): expected 6 fields (minute hour day-of-month month day-of-week "
     "year), got 7"},
    {"cron()",
     "cron(): expected 6 fields (minute hour day-of-month month day-of-week year), got 0"},
    {"0 10 * * ? *", "0 10 * * ? *: wrap the fields in cron(...), as in cron(0 10 * * ? *)"},
    {"cron(0 10 * * ? *", "cron(0 10 * * ? *: missing the closing parenthesis"},
    {"every day",
     "every day: expected cron(<minute> <hour> <day-of-month> <month> <day-of-week> <year>) or "
     "rate(<value> <unit>)"},
    {"",
     "\"\": expected cron(<minute> <hour> <day-of-month> <month> <day-of-week> <year>) or "
     "rate(<value> <unit>)"},
    {"rate(5 minute)",
     "rate(5 minute): a value other than 1 takes the plural unit: rate(5 minutes)"},
    {"rate(1 minutes)", "rate(1 minutes): a value of 1 takes the singular unit: rate(1 minute)"},
    {"rate(1 hours)", "rate(1 hours): a value of 1 takes the singular unit: rate(1 hour)"},
    {"rate(2 day)", "rate(2 day): a value other than 1 takes the plural unit: rate(2 days)"},
    {"rate(0 minutes)", "rate(0 minutes): the value '0' must be a positive whole number"},
    {"rate(-1 minutes)", "rate(-1 minutes): the value '-1' must be a positive whole number"},
    {"rate(1.5 hours)", "rate(1.5 hours): the value '1.5' must be a positive whole number"},
    {"rate(5 weeks)", "rate(5 weeks): unknown unit 'weeks': use minute(s), hour(s) or day(s)"},
    {"rate(minutes)",
     "rate(minutes): expected rate(<value> <unit>), as in rate(1 hour) or rate(5 minutes)"},
    {"rate(99999999 days)", "rate(99999999 days): the period must be at most 36500 days"},
};
INSTANTIATE_TEST_SUITE_P(Expressions, ParseError, testing::ValuesIn(kErrors));

TEST(TimeZone, KnownAndUnknown) {
  EXPECT_TRUE(check_timezone("UTC").ok());
  EXPECT_TRUE(check_timezone("Etc/UTC").ok());
  EXPECT_TRUE(check_timezone("").ok());
  EXPECT_TRUE(check_timezone("Europe/Paris").ok());
  Status typo = check_timezone("Europe/Pariss");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(typo.error().message,
            "unknown time zone 'Europe/Pariss': expected an IANA name such as UTC or "
            "Europe/Paris (did you mean Europe/Paris?)");
  Status far = check_timezone("Mars/Olympus_Mons");
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.error().message,
            "unknown time zone 'Mars/Olympus_Mons': expected an IANA name such as UTC or "
            "Europe/Paris");
  EXPECT_FALSE(check_timezone("../../etc/passwd").ok());
}

TEST(TimeZone, NextRunRejectsAnUnknownZone) {
  EXPECT_EQ(next("cron(0 10 * * ? *)", "Nowhere/City", "2026-05-10T10:00:00Z"),
            "error: unknown time zone 'Nowhere/City': expected an IANA name such as UTC or "
            "Europe/Paris");
  EXPECT_EQ(next("rate(1 hour)", "Nowhere/City", "2026-05-10T10:00:00Z"),
            "error: unknown time zone 'Nowhere/City': expected an IANA name such as UTC or "
            "Europe/Paris");
}

TEST(Schedule, CopiesAndMoves) {
  Schedule original = *Schedule::parse("cron(30 22 ? * tue#2 *)");
  Schedule copy = original;
  EXPECT_EQ(copy.expression(), "cron(30 22 ? * tue#2 *)");
  ASSERT_NE(copy.cron(), nullptr);
  EXPECT_NE(copy.cron(), original.cron());
  EXPECT_EQ(copy.cron()->nth, 2);
  EXPECT_EQ(copy.cron()->weekday, 3);
  Schedule rate = *Schedule::parse("rate(1 day)");
  copy = rate;
  EXPECT_EQ(copy.cron(), nullptr);
  EXPECT_EQ(copy.rate(), minutes(1440));
  Schedule moved = std::move(original);
  EXPECT_EQ(moved.cron()->nth, 2);
}

// Far-apart matches are found by skipping years and months, not minutes.
TEST(Performance, LeapDayFromAFarYear) {
  Schedule leap = *Schedule::parse("cron(0 0 29 2 ? *)");
  Schedule never = *Schedule::parse("cron(0 0 31 2 ? *)");
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(show(*next_run(leap, "Europe/Paris", utc("2026-03-01T00:00:00Z"))),
              "2028-02-28T23:00:00Z");
    EXPECT_EQ(show(*next_run(never, "UTC", utc("2026-03-01T00:00:00Z"))), "none");
  }
}

// Random expressions without L, W and #, against a search minute by minute over a few days.
struct RandomField {
  std::string text;
  std::bitset<64> values;
};

RandomField random_field(std::mt19937& rng, int min, int max) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  RandomField field;
  int kind = pick(0, 6);
  int a = pick(min, max);
  int b = pick(a, max);
  int step = pick(1, std::max(1, (max - min) / 2));
  int first = min;
  int last = max;
  switch (kind) {
    case 0:
      field.text = "*";
      break;
    case 1:
      field.text = std::to_string(a);
      first = last = a;
      break;
    case 2:
      field.text = std::to_string(a) + "-" + std::to_string(b);
      first = a;
      last = b;
      break;
    case 3:
      field.text = "*/" + std::to_string(step);
      break;
    case 4:
      field.text = std::to_string(a) + "/" + std::to_string(step);
      first = a;
      break;
    case 5:
      field.text = std::to_string(a) + "-" + std::to_string(b) + "/" + std::to_string(step);
      first = a;
      last = b;
      break;
    default: {
      int c = pick(min, max);
      field.text = std::to_string(a) + "," + std::to_string(c);
      field.values.set(static_cast<size_t>(a));
      field.values.set(static_cast<size_t>(c));
      return field;
    }
  }
  if (kind != 1 && kind != 2 && kind != 0) {
    // steps
    for (int v = first; v <= last; v += step) {
      field.values.set(static_cast<size_t>(v));
    }
  } else {
    for (int v = first; v <= last; ++v) {
      field.values.set(static_cast<size_t>(v));
    }
  }
  return field;
}

TEST(CrossCheck, RandomExpressionsAgainstAMinuteByMinuteSearch) {
  std::mt19937 rng(20260510);
  const char* zones[] = {
      "UTC", "America/New_York", "Europe/Paris", "Asia/Kolkata", "Australia/Lord_Howe"};
  // Starts near daylight-saving changes and elsewhere.
  const char* starts[] = {"2026-03-07T00:00:00Z",
                          "2026-10-31T12:00:00Z",
                          "2026-03-28T00:00:00Z",
                          "2026-10-03T00:00:00Z",
                          "2026-04-04T00:00:00Z",
                          "2026-07-15T08:07:00Z"};
  int compared = 0;
  for (int i = 0; i < 300; ++i) {
    RandomField minute = random_field(rng, 0, 59);
    // Hours and days wide enough to match within the window often.
    RandomField hour = random_field(rng, 0, 23);
    bool by_weekday = rng() % 2 == 0;
    RandomField day = random_field(rng, 1, 31);
    RandomField weekday = random_field(rng, 1, 7);
    RandomField month = random_field(rng, 1, 12);
    if (rng() % 2 == 0) {
      month = {"*", std::bitset<64>().set()};
    }
    std::string expression = "cron(" + minute.text + " " + hour.text + " " +
                             (by_weekday ? "?" : day.text) + " " + month.text + " " +
                             (by_weekday ? weekday.text : "?") + " *)";
    Result<Schedule> schedule = Schedule::parse(expression);
    ASSERT_TRUE(schedule.ok()) << expression << ": " << schedule.error().message;
    std::string zone_name = zones[i % std::size(zones)];
    const date::time_zone* zone = date::locate_zone(zone_name);
    SystemTime after = utc(starts[i % std::size(starts)]) + std::chrono::seconds(rng() % 7200);

    auto matches = [&](date::local_seconds local) {
      date::local_days local_day = std::chrono::floor<date::days>(local);
      date::year_month_day ymd(local_day);
      auto hms = date::make_time(local - local_day);
      int weekday_number = static_cast<int>(date::weekday(local_day).c_encoding()) + 1;
      bool day_ok = by_weekday ? weekday.values[static_cast<size_t>(weekday_number)]
                               : day.values[static_cast<unsigned>(ymd.day())];
      return minute.values[static_cast<size_t>(hms.minutes().count())] &&
             hour.values[static_cast<size_t>(hms.hours().count())] && day_ok &&
             month.values[static_cast<unsigned>(ymd.month())];
    };
    std::optional<SystemTime> expected;
    date::sys_seconds t = std::chrono::floor<minutes>(after) + minutes(1);
    date::sys_seconds end = t + date::days(4);
    for (; t < end; t += minutes(1)) {
      date::local_seconds local = zone->to_local(t);
      if (!matches(local)) {
        continue;
      }
      date::local_info info = zone->get_info(local);
      // A repeated local time runs at its first occurrence only.
      if (info.result == date::local_info::ambiguous &&
          t != date::sys_seconds(local.time_since_epoch() - info.first.offset)) {
        continue;
      }
      expected = SystemTime(t.time_since_epoch());
      break;
    }
    std::optional<SystemTime> actual = *next_run(*schedule, zone_name, after);
    if (expected) {
      EXPECT_EQ(show(actual), show(expected))
          << expression << " in " << zone_name << " after " << show(after);
      ++compared;
    } else {
      if (actual) {
        EXPECT_GE(*actual, SystemTime(end.time_since_epoch())) << expression << " in " << zone_name;
      }
    }
  }
  EXPECT_GT(compared, 100);
}

}  // namespace
}  // namespace kiln::schedule
