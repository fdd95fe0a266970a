#include "kiln/schedule/cron.hpp"

#include <fmt/ranges.h>

#include <array>
#include <cctype>
#include <charconv>
#include <string>
#include <vector>

#include "kiln/base/strings.hpp"

namespace kiln::schedule {
namespace {

using Cron = Schedule::Cron;

// Values of one field, bit i for value min + i.
using Bits = std::bitset<kLastYear - kFirstYear + 1>;

constexpr std::array<std::string_view, 12> kMonthNames = {
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {
    "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

struct Field {
  std::string_view name;
  int min;
  int max;
  const std::array<std::string_view, 12>* month_names = nullptr;
  const std::array<std::string_view, 7>* day_names = nullptr;
};

constexpr Field kMinute{"minute", 0, 59};
constexpr Field kHour{"hour", 0, 23};
constexpr Field kDayOfMonth{"day-of-month", 1, 31};
constexpr Field kMonth{"month", 1, 12, &kMonthNames};
constexpr Field kDayOfWeek{"day-of-week", 1, 7, nullptr, &kDayNames};
constexpr Field kYear{"year", kFirstYear, kLastYear};

// Parses one field of one expression; every error names both.
class FieldParser {
 public:
  FieldParser(std::string_view expression, const Field& field)
      : expression_(expression), field_(field) {}

  template <typename... Args>
  Error error(fmt::format_string<Args...> format, Args&&... args) const {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: {}: {}",
                      expression_,
                      field_.name,
                      fmt::format(format, std::forward<Args>(args)...));
  }

  // A number or (month, day-of-week) a three-letter name, within the field's range.
  Result<int> value(std::string_view text) const {
    if (text.empty()) {
      return error("a value is missing");
    }
    if (std::isalpha(static_cast<unsigned char>(text[0])) != 0) {
      return name(text);
    }
    int number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc::result_out_of_range) {
      return error("{} is out of range {}-{}", text, field_.min, field_.max);
    }
    if (ec != std::errc() || end != text.data() + text.size()) {
      return error("'{}' is not a {}", text, expected());
    }
    if (number < field_.min || number > field_.max) {
      return error("{} is out of range {}-{}", number, field_.min, field_.max);
    }
    return number;
  }

  // A comma-separated list of `*`, values and ranges, each with an optional `/step`.
  Result<Bits> list(std::string_view text) const {
    Bits bits;
    for (const std::string& item : split(text, ',')) {
      KILN_TRY(add_item(item, bits));
    }
    return bits;
  }

 private:
  std::string expected() const {
    if (field_.month_names != nullptr) {
      return "number (1-12) or month name (JAN-DEC)";
    }
    if (field_.day_names != nullptr) {
      return "number (1-7) or day name (SUN-SAT)";
    }
    return fmt::format("number ({}-{})", field_.min, field_.max);
  }

  Result<int> name(std::string_view text) const {
    if (field_.month_names != nullptr) {
      for (size_t i = 0; i < field_.month_names->size(); ++i) {
        if (iequals(text, (*field_.month_names)[i])) {
          return static_cast<int>(i) + 1;
        }
      }
    }
    if (field_.day_names != nullptr) {
      for (size_t i = 0; i < field_.day_names->size(); ++i) {
        if (iequals(text, (*field_.day_names)[i])) {
          return static_cast<int>(i) + 1;
        }
      }
    }
    if (text == "?" || text == "L" || text == "W") {
      return error("{} is allowed only in day-of-month or day-of-week", text);
    }
    return error("'{}' is not a {}", text, expected());
  }

  Status add_item(std::string_view item, Bits& bits) const {
    if (item.empty()) {
      return error("empty value in a list");
    }
    if (item == "?" || item.find('#') != std::string_view::npos) {
      return error("'{}' is allowed only alone in day-of-month or day-of-week", item);
    }
    size_t slash = item.find('/');
    std::string_view base = item.substr(0, slash);
    int first = field_.min;
    int last = field_.max;
    if (base != "*") {
      size_t dash = base.find('-');
      first = KILN_TRY(value(base.substr(0, dash)));
      last = first;
      if (dash != std::string_view::npos) {
        last = KILN_TRY(value(base.substr(dash + 1)));
        if (last < first) {
          return error(
              "range {} goes backwards: ranges must be increasing (split it, as in "
              "FRI-SAT,SUN-MON)",
              base);
        }
      } else if (slash != std::string_view::npos) {
        last = field_.max;  // `5/10`: from 5 to the end of the field
      }
    }
    int step = 1;
    if (slash != std::string_view::npos) {
      KILN_TRY(parse_step(item.substr(slash + 1), step));
    }
    for (int v = first; v <= last; v += step) {
      bits.set(static_cast<size_t>(v - field_.min));
    }
    return ok_status();
  }

  Status parse_step(std::string_view text, int& step) const {
    int limit = field_.max - field_.min;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), step);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || step < 1 ||
        step > limit) {
      return error("step '{}' must be a number from 1 to {}", text, limit);
    }
    return ok_status();
  }

  std::string_view expression_;
  const Field& field_;
};

template <size_t N>
std::bitset<N> place(const Bits& bits, int offset) {
  std::bitset<N> out;
  for (size_t i = 0; i + static_cast<size_t>(offset) < N; ++i) {
    out[i + static_cast<size_t>(offset)] = bits[i];
  }
  return out;
}

bool has(std::string_view text, char c) {
  return text.find(c) != std::string_view::npos;
}

Status parse_day_of_month(std::string_view text, std::string_view expression, Cron& cron) {
  FieldParser parser(expression, kDayOfMonth);
  if (text == "?") {
    cron.day_of_month = Cron::DayOfMonth::kAny;
  } else if (has(text, ',') && (has(text, '?') || has(text, 'L') || has(text, 'W'))) {
    return parser.error("'{}': ?, L and W cannot be combined with other values", text);
  } else if (text == "L") {
    cron.day_of_month = Cron::DayOfMonth::kLastDay;
  } else if (text == "LW") {
    cron.day_of_month = Cron::DayOfMonth::kLastWeekday;
  } else if (has(text, 'L')) {
    return parser.error("'{}': L stands alone, as L (last day) or LW (last weekday)", text);
  } else if (text.size() > 1 && text.back() == 'W') {
    cron.nearest_to = KILN_TRY(parser.value(text.substr(0, text.size() - 1)));
    cron.day_of_month = Cron::DayOfMonth::kNearestWeekday;
  } else if (has(text, 'W')) {
    return parser.error("'{}': W follows a single day, as in 15W or LW", text);
  } else {
    cron.days = place<32>(KILN_TRY(parser.list(text)), 1);
    cron.day_of_month = Cron::DayOfMonth::kList;
  }
  return ok_status();
}

Status parse_day_of_week(std::string_view text, std::string_view expression, Cron& cron) {
  FieldParser parser(expression, kDayOfWeek);
  bool last = text.size() > 1 && text.back() == 'L';
  if (text == "?") {
    cron.day_of_week = Cron::DayOfWeek::kAny;
  } else if (has(text, ',') && (has(text, '?') || has(text, '#') || last || text == "L")) {
    return parser.error("'{}': ?, L and # cannot be combined with other values", text);
  } else if (has(text, '#')) {
    size_t hash = text.find('#');
    cron.weekday = KILN_TRY(parser.value(text.substr(0, hash)));
    std::string_view nth = text.substr(hash + 1);
    if (nth.size() != 1 || nth[0] < '1' || nth[0] > '5') {
      return parser.error("'{}': the number after # must be 1-5 (the nth such day of the month)",
                          text);
    }
    cron.nth = nth[0] - '0';
    cron.day_of_week = Cron::DayOfWeek::kNth;
  } else if (text == "L") {
    cron.weekdays.set(7);  // the last day of the week: Saturday
    cron.day_of_week = Cron::DayOfWeek::kList;
  } else if (last) {
    cron.weekday = KILN_TRY(parser.value(text.substr(0, text.size() - 1)));
    cron.day_of_week = Cron::DayOfWeek::kLastOfMonth;
  } else {
    cron.weekdays = place<8>(KILN_TRY(parser.list(text)), 1);
    cron.day_of_week = Cron::DayOfWeek::kList;
  }
  return ok_status();
}

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i])) != 0) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) == 0) {
      ++i;
    }
    fields.push_back(text.substr(start, i - start));
  }
  return fields;
}

std::string to_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

int last_day_of(date::year_month_day date) {
  return static_cast<int>(static_cast<unsigned>((date.year() / date.month() / date::last).day()));
}

// AWS's weekday numbering: 1 = Sunday ... 7 = Saturday.
int aws_weekday(date::year_month_day date) {
  return static_cast<int>(date::weekday(date::sys_days(date)).c_encoding()) + 1;
}

// The weekday (Monday-Friday) nearest to `day` without leaving the month; 0 if the month is
// shorter than `day`.
int nearest_weekday(date::year_month_day month, int day) {
  int last = last_day_of(month);
  if (day > last) {
    return 0;
  }
  int weekday = aws_weekday(month.year() / month.month() / date::day(static_cast<unsigned>(day)));
  if (weekday == 7) {  // Saturday: Friday, or Monday when the 1st is a Saturday
    return day == 1 ? 3 : day - 1;
  }
  if (weekday == 1) {  // Sunday: Monday, or Friday when the last day is a Sunday
    return day == last ? day - 2 : day + 1;
  }
  return day;
}

bool matches_day_of_month(const Cron& cron, date::year_month_day date) {
  int day = static_cast<int>(static_cast<unsigned>(date.day()));
  switch (cron.day_of_month) {
    case Cron::DayOfMonth::kAny:
      return true;
    case Cron::DayOfMonth::kList:
      return cron.days[static_cast<size_t>(day)];
    case Cron::DayOfMonth::kLastDay:
      return day == last_day_of(date);
    case Cron::DayOfMonth::kLastWeekday:
      return day == nearest_weekday(date, last_day_of(date));
    case Cron::DayOfMonth::kNearestWeekday:
      return day == nearest_weekday(date, cron.nearest_to);
  }
  return false;
}

bool matches_day_of_week(const Cron& cron, date::year_month_day date) {
  int day = static_cast<int>(static_cast<unsigned>(date.day()));
  int weekday = aws_weekday(date);
  switch (cron.day_of_week) {
    case Cron::DayOfWeek::kAny:
      return true;
    case Cron::DayOfWeek::kList:
      return cron.weekdays[static_cast<size_t>(weekday)];
    case Cron::DayOfWeek::kLastOfMonth:
      return weekday == cron.weekday && day + 7 > last_day_of(date);
    case Cron::DayOfWeek::kNth:
      return weekday == cron.weekday && (day - 1) / 7 + 1 == cron.nth;
  }
  return false;
}

}  // namespace

Result<Cron> parse_cron(std::string_view fields_text, std::string_view expression) {
  std::vector<std::string_view> fields = split_fields(fields_text);
  if (fields.size() != 6) {
    std::string hint = fields.size() == 5 ? " (the year is required: add * for every year)" : "";
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: expected 6 fields (minute hour day-of-month month day-of-week year), "
                      "got {}{}",
                      expression,
                      fields.size(),
                      hint);
  }
  Cron cron;
  cron.minutes = place<60>(KILN_TRY(FieldParser(expression, kMinute).list(fields[0])), 0);
  cron.hours = place<24>(KILN_TRY(FieldParser(expression, kHour).list(fields[1])), 0);
  // L, W and names are case-insensitive: `tue#2`, `lw`.
  KILN_TRY(parse_day_of_month(to_upper(fields[2]), expression, cron));
  cron.months = place<13>(KILN_TRY(FieldParser(expression, kMonth).list(fields[3])), 1);
  KILN_TRY(parse_day_of_week(to_upper(fields[4]), expression, cron));
  cron.years = KILN_TRY(FieldParser(expression, kYear).list(fields[5]));
  bool any_day = cron.day_of_month == Cron::DayOfMonth::kAny;
  bool any_weekday = cron.day_of_week == Cron::DayOfWeek::kAny;
  if (any_day && any_weekday) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: day-of-month and day-of-week cannot both be ?: give a value in one "
                      "of them",
                      expression);
  }
  if (!any_day && !any_weekday) {
    // Suggest the fix when one of them is `*`: cron(0 0 * * SUN *) means cron(0 0 ? * SUN *).
    std::string example;
    if (fields[2] == "*" || fields[4] == "*") {
      std::vector<std::string_view> fixed = fields;
      fixed[fields[2] == "*" ? 2 : 4] = "?";
      example = fmt::format(", as in cron({})", fmt::join(fixed, " "));
    }
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: day-of-month and day-of-week cannot both be set: use ? in one of them{}",
                      expression,
                      example);
  }
  return cron;
}

bool matches_date(const Cron& cron, date::year_month_day date) {
  int year = static_cast<int>(date.year());
  if (year < kFirstYear || year > kLastYear ||
      !cron.years[static_cast<size_t>(year - kFirstYear)]) {
    return false;
  }
  if (!cron.months[static_cast<unsigned>(date.month())]) {
    return false;
  }
  return matches_day_of_month(cron, date) && matches_day_of_week(cron, date);
}

}  // namespace kiln::schedule
