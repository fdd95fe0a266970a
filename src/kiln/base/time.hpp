#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kiln {

using SystemTime = std::chrono::system_clock::time_point;

// A clock behind an interface so tests can fix "now".
class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime now() const = 0;
};

class SystemClock final : public Clock {
 public:
  SystemTime now() const override { return std::chrono::system_clock::now(); }
};

// "2021-08-26T17:20:31-07:00": RFC 3339 in the machine's local time zone, as awstoe writes.
std::string format_rfc3339_local(SystemTime time);
// "2021-08-27T00:20:31Z": RFC 3339 in UTC.
std::string format_rfc3339_utc(SystemTime time);
// Parses "2021-08-27T00:20:31Z" or with milliseconds ("...31.306Z"): the UTC forms kiln and AWS
// write. nullopt for anything else.
std::optional<SystemTime> parse_rfc3339_utc(std::string_view text);
// "2021-08-27": the UTC date.
std::string format_date_utc(SystemTime time);
// "2021-08-27_00-20-31": the UTC time for TOE_<...>_UTC-0_<id> folder names.
std::string format_folder_time_utc(SystemTime time);
// "2021-08-27 00:20:31.123": for log line prefixes (UTC).
std::string format_log_time_utc(SystemTime time);

// A random (version 4) UUID in its canonical lower-case form.
std::string make_uuid_v4();

}  // namespace kiln
