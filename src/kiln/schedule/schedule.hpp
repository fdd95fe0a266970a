#pragma once

// Pipeline schedules in AWS's dialect (reference: aws-imagebuilder.md 3.7), pure: no clock, no
// I/O but the time-zone database.
//
//   cron(<minute> <hour> <day-of-month> <month> <day-of-week> <year>)
//       six fields; `*`, `,`, `-`, `/`; `?` in day-of-month or day-of-week (one of the two must
//       be `?`, as EventBridge requires); `L` (last day of month, last <weekday> as
//       `5L`), `W` (nearest weekday, `15W`, `LW`), `#` (`tue#2`); month names JAN-DEC, day names
//       SUN-SAT (1 = Sunday ... 7 = Saturday, as AWS counts); years 1970-2199.
//   rate(<n> minute|minutes|hour|hours|day|days)
//
// next_run(schedule, timezone, after) is the first time strictly after `after` that the
// expression matches in `timezone` (an IANA name, "UTC" by default), whole minutes; across a
// daylight-saving change a local time that does not exist is skipped and one that happens twice
// runs once (its first occurrence). A rate counts from `anchor` (the pipeline's creation or
// last change): anchor + k * period.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kiln/base/result.hpp"
#include "kiln/base/time.hpp"

namespace kiln::schedule {

class Schedule {
 public:
  // kInvalidArgument naming the field and what is wrong ("cron(0 10 * * * *): day-of-month and
  // day-of-week cannot both be given: use ? in one of them").
  static Result<Schedule> parse(std::string_view expression);

  const std::string& expression() const { return expression_; }
  bool is_rate() const { return rate_.has_value(); }
  // The period of a rate expression.
  std::optional<std::chrono::minutes> rate() const { return rate_; }

  // Internal representation, public for the implementation's helpers and tests.
  struct Cron;
  const Cron* cron() const { return cron_.get(); }

  Schedule(const Schedule& other);
  Schedule& operator=(const Schedule& other);
  Schedule(Schedule&&) noexcept;
  Schedule& operator=(Schedule&&) noexcept;
  ~Schedule();

 private:
  Schedule() = default;
  std::string expression_;
  std::optional<std::chrono::minutes> rate_;
  std::unique_ptr<Cron> cron_;
};

// Checks an IANA time-zone name ("Europe/Paris", "UTC"); kInvalidArgument when unknown.
Status check_timezone(std::string_view timezone);

// The next run strictly after `after` (see above); nullopt when there is none (a cron whose
// years have all passed). kInvalidArgument for an unknown time zone.
Result<std::optional<SystemTime>> next_run(const Schedule& schedule,
                                           std::string_view timezone,
                                           SystemTime after,
                                           SystemTime anchor = {});

}  // namespace kiln::schedule
