#include "kiln/schedule/schedule.hpp"

#include <date/tz.h>

#include <cctype>
#include <charconv>
#include <exception>
#include <vector>

#include "kiln/base/strings.hpp"
#include "kiln/schedule/cron.hpp"

namespace kiln::schedule {
namespace {

using std::chrono::minutes;

Error invalid(std::string_view expression, std::string_view problem) {
  return make_error(ErrorCode::kInvalidArgument, "{}: {}", expression, problem);
}

// rate(<value> <unit>): a positive whole number and minute(s), hour(s) or day(s), singular
// exactly when the value is 1.
Result<minutes> parse_rate(std::string_view inside, std::string_view expression) {
  std::vector<std::string> words;
  for (const std::string& word : split(trim(inside), ' ')) {
    if (!word.empty()) {
      words.push_back(word);
    }
  }
  if (words.size() != 2) {
    return invalid(expression,
                   "expected rate(<value> <unit>), as in rate(1 hour) or rate(5 minutes)");
  }
  const std::string& text = words[0];
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1) {
    return invalid(expression, fmt::format("the value '{}' must be a positive whole number", text));
  }
  struct Unit {
    std::string_view singular;
    std::string_view plural;
    int64_t minutes;
  };
  static constexpr Unit kUnits[] = {
      {"minute", "minutes", 1}, {"hour", "hours", 60}, {"day", "days", 1440}};
  const std::string& unit = words[1];
  for (const Unit& u : kUnits) {
    if (unit != u.singular && unit != u.plural) {
      continue;
    }
    if (value == 1 && unit == u.plural) {
      return invalid(expression,
                     fmt::format("a value of 1 takes the singular unit: rate(1 {})", u.singular));
    }
    if (value != 1 && unit == u.singular) {
      return invalid(
          expression,
          fmt::format("a value other than 1 takes the plural unit: rate({} {})", value, u.plural));
    }
    // Beyond a century the arithmetic would near the limits of the system clock.
    if (value > 36500 * 1440 / u.minutes) {
      return invalid(expression, "the period must be at most 36500 days");
    }
    return minutes(value * u.minutes);
  }
  return invalid(expression,
                 fmt::format("unknown unit '{}': use minute(s), hour(s) or day(s)", unit));
}

bool looks_like_bare_cron(std::string_view text) {
  int fields = 0;
  bool in_field = false;
  for (char c : text) {
    bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (!space && !in_field) {
      ++fields;
    }
    in_field = !space;
  }
  return fields == 6 || fields == 5;
}

Result<const date::time_zone*> find_zone(std::string_view timezone) {
  std::string_view name = timezone.empty() ? std::string_view("UTC") : timezone;
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    // below
  }
  std::string hint;
  try {
    std::vector<std::string_view> names;
    for (const date::time_zone& zone : date::get_tzdb().zones) {
      names.push_back(zone.name());
    }
    std::string match = closest_match(name, names);
    if (!match.empty()) {
      hint = fmt::format(" (did you mean {}?)", match);
    }
  } catch (const std::exception&) {
    // no suggestion without a database
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown time zone '{}': expected an IANA name such as UTC or Europe/Paris{}",
                    timezone,
                    hint);
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

SystemTime next_rate(minutes period, SystemTime after, SystemTime anchor) {
  // Runs fall on whole minutes, so "after `after`" is "at or after the next minute boundary".
  int64_t first = std::chrono::floor<minutes>(after).time_since_epoch().count() + 1;
  int64_t origin = std::chrono::floor<minutes>(anchor).time_since_epoch().count();
  int64_t steps = -floor_div(-(first - origin), period.count());  // ceiling
  steps = std::max<int64_t>(steps, 1);  // the first run is one period after the anchor
  return SystemTime(minutes(origin + steps * period.count()));
}

// The first date from `from` on that the cron's date fields select; nullopt after 2199. Skips
// whole years and months that the year and month fields leave out.
std::optional<date::local_days> next_date(const Schedule::Cron& cron, date::local_days from) {
  date::year_month_day ymd(from);
  for (;;) {
    int year = static_cast<int>(ymd.year());
    if (year > kLastYear) {
      return std::nullopt;
    }
    if (year < kFirstYear || !cron.years[static_cast<size_t>(year - kFirstYear)]) {
      int next = std::max(year + 1, kFirstYear);
      while (next <= kLastYear && !cron.years[static_cast<size_t>(next - kFirstYear)]) {
        ++next;
      }
      if (next > kLastYear) {
        return std::nullopt;
      }
      ymd = date::year(next) / date::January / 1;
      continue;
    }
    if (!cron.months[static_cast<unsigned>(ymd.month())]) {
      date::year_month next = ymd.year() / ymd.month() + date::months(1);
      ymd = next / 1;
      continue;
    }
    if (matches_date(cron, ymd)) {
      return date::local_days(ymd);
    }
    ymd = date::year_month_day(date::local_days(ymd) + date::days(1));
  }
}

// The first local minute of `day`, from minute-of-day `from_minute` on, that the cron selects
// and that, at its first occurrence, is at or after `earliest`.
std::optional<SystemTime> first_run_on(const Schedule::Cron& cron,
                                       const date::time_zone& zone,
                                       date::local_days day,
                                       int from_minute,
                                       date::sys_seconds earliest) {
  for (int hour = from_minute / 60; hour < 24; ++hour) {
    if (!cron.hours[static_cast<size_t>(hour)]) {
      continue;
    }
    int first_minute = hour == from_minute / 60 ? from_minute % 60 : 0;
    for (int minute = first_minute; minute < 60; ++minute) {
      if (!cron.minutes[static_cast<size_t>(minute)]) {
        continue;
      }
      date::local_seconds local = day + std::chrono::hours(hour) + minutes(minute);
      date::local_info info = zone.get_info(local);
      if (info.result == date::local_info::nonexistent) {
        continue;  // in a spring-forward gap: skipped
      }
      // Unique, or the first of two occurrences (fall-back): the offset before the change.
      date::sys_seconds run(local.time_since_epoch() - info.first.offset);
      if (run >= earliest) {
        return SystemTime(run.time_since_epoch());
      }
    }
  }
  return std::nullopt;
}

std::optional<SystemTime> next_cron(const Schedule::Cron& cron,
                                    const date::time_zone& zone,
                                    SystemTime after) {
  using date::sys_days;
  // Keep far-away instants from overflowing the local-time arithmetic.
  constexpr sys_days kEarliest = sys_days(date::year(kFirstYear - 1) / 12 / 1);
  constexpr sys_days kLatest = sys_days(date::year(kLastYear + 1) / 1 / 2);
  if (after >= kLatest) {
    return std::nullopt;
  }
  after = std::max<SystemTime>(after, kEarliest);
  // Local time is not monotonic in a fall-back overlap, but each local minute's first
  // occurrence is; so search local minutes from the one containing `earliest` on.
  date::sys_seconds earliest = std::chrono::floor<minutes>(after) + minutes(1);
  date::local_seconds start = std::chrono::floor<minutes>(zone.to_local(earliest));
  date::local_days start_day = std::chrono::floor<date::days>(start);
  int start_minute = static_cast<int>(std::chrono::floor<minutes>(start - start_day).count());
  for (std::optional<date::local_days> day = next_date(cron, start_day); day;
       day = next_date(cron, *day + date::days(1))) {
    int from_minute = *day == start_day ? start_minute : 0;
    if (std::optional<SystemTime> run = first_run_on(cron, zone, *day, from_minute, earliest)) {
      return run;
    }
  }
  return std::nullopt;
}

}  // namespace

Schedule::Schedule(const Schedule& other)
    : expression_(other.expression_),
      rate_(other.rate_),
      cron_(other.cron_ ? std::make_unique<Cron>(*other.cron_) : nullptr) {}

Schedule& Schedule::operator=(const Schedule& other) {
  if (this != &other) {
    *this = Schedule(other);
  }
  return *this;
}

Schedule::Schedule(Schedule&&) noexcept = default;
Schedule& Schedule::operator=(Schedule&&) noexcept = default;
Schedule::~Schedule() = default;

Result<Schedule> Schedule::parse(std::string_view expression) {
  std::string_view text = trim(expression);
  Schedule schedule;
  schedule.expression_ = std::string(text);
  bool cron = starts_with(text, "cron(");
  bool rate = starts_with(text, "rate(");
  if ((cron || rate) && !ends_with(text, ")")) {
    return invalid(text, "missing the closing parenthesis");
  }
  std::string_view inside = cron || rate ? text.substr(5, text.size() - 6) : text;
  if (cron) {
    schedule.cron_ = std::make_unique<Cron>(KILN_TRY(parse_cron(inside, text)));
  } else if (rate) {
    schedule.rate_ = KILN_TRY(parse_rate(inside, text));
  } else if (looks_like_bare_cron(text)) {
    return invalid(text, fmt::format("wrap the fields in cron(...), as in cron({})", text));
  } else {
    return invalid(text.empty() ? "\"\"" : text,
                   "expected cron(<minute> <hour> <day-of-month> <month> <day-of-week> <year>) "
                   "or rate(<value> <unit>)");
  }
  return schedule;
}

Status check_timezone(std::string_view timezone) {
  KILN_TRY(find_zone(timezone));
  return ok_status();
}

Result<std::optional<SystemTime>> next_run(const Schedule& schedule,
                                           std::string_view timezone,
                                           SystemTime after,
                                           SystemTime anchor) {
  const date::time_zone* zone = KILN_TRY(find_zone(timezone));
  if (std::optional<minutes> period = schedule.rate()) {
    return std::optional<SystemTime>(next_rate(*period, after, anchor));
  }
  KILN_ASSERT(schedule.cron() != nullptr);
  return next_cron(*schedule.cron(), *zone, after);
}

}  // namespace kiln::schedule
