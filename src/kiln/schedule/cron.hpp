#pragma once

// The six fields of a cron(...) expression as data (docs/schedules.md), and which local dates
// they select. Internal to the schedule module and its tests.

#include <date/date.h>

#include <bitset>
#include <string_view>

#include "kiln/base/result.hpp"
#include "kiln/schedule/schedule.hpp"

namespace kiln::schedule {

inline constexpr int kFirstYear = 1970;
inline constexpr int kLastYear = 2199;

struct Schedule::Cron {
  // How the day-of-month field selects days; only kList uses `days`.
  enum class DayOfMonth {
    kAny,             // ?
    kList,            // numbers, ranges, steps, *
    kLastDay,         // L
    kLastWeekday,     // LW
    kNearestWeekday,  // 15W: `nearest_to`
  };
  // How the day-of-week field selects days; only kList uses `weekdays`.
  enum class DayOfWeek {
    kAny,          // ?
    kList,         // numbers, names, ranges, steps, *; L alone is Saturday
    kLastOfMonth,  // 5L: the last `weekday` of the month
    kNth,          // 3#2: the `nth` `weekday` of the month
  };

  std::bitset<60> minutes;
  std::bitset<24> hours;
  DayOfMonth day_of_month = DayOfMonth::kAny;
  std::bitset<32> days;    // bit d: day d (1-31)
  int nearest_to = 0;      // kNearestWeekday: 1-31
  std::bitset<13> months;  // bit m: month m (1-12)
  DayOfWeek day_of_week = DayOfWeek::kAny;
  std::bitset<8> weekdays;  // bit w: AWS's weekday w (1 = Sunday ... 7 = Saturday)
  int weekday = 0;          // kLastOfMonth, kNth: 1-7
  int nth = 0;              // kNth: 1-5
  std::bitset<kLastYear - kFirstYear + 1> years;  // bit i: year 1970 + i
};

// Parses the text between `cron(` and `)`. Errors name `expression` (the whole text, for the
// message), the field and the problem.
Result<Schedule::Cron> parse_cron(std::string_view fields, std::string_view expression);

// Whether the day-of-month, month, day-of-week and year fields select `date` (a local date).
bool matches_date(const Schedule::Cron& cron, date::year_month_day date);

}  // namespace kiln::schedule
