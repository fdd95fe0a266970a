#include "kiln/base/time.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/rand.h>

#include <cstdio>
#include <ctime>
#include <random>

namespace kiln {
namespace {

std::tm utc_tm(SystemTime time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

}  // namespace

std::string format_rfc3339_local(SystemTime time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  localtime_r(&t, &tm);
  long offset = tm.tm_gmtoff;
  if (offset == 0) {
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", tm);
  }
  char sign = offset < 0 ? '-' : '+';
  long abs_offset = offset < 0 ? -offset : offset;
  return fmt::format("{}{}{:02}:{:02}",
                     fmt::format("{:%Y-%m-%dT%H:%M:%S}", tm),
                     sign,
                     abs_offset / 3600,
                     (abs_offset % 3600) / 60);
}

std::optional<SystemTime> parse_rfc3339_utc(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  std::string copy(text);
  int consumed = 0;
  if (std::sscanf(copy.c_str(),
                  "%4d-%2d-%2dT%2d:%2d:%2d%n",
                  &year,
                  &month,
                  &day,
                  &hour,
                  &minute,
                  &second,
                  &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(19);
  if (rest.size() == 5 && rest[0] == '.') {
    for (char c : rest.substr(1, 3)) {
      if (c < '0' || c > '9') {
        return std::nullopt;
      }
      millis = millis * 10 + (c - '0');
    }
    rest.remove_prefix(4);
  }
  if (rest != "Z" || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  time_t seconds = ::timegm(&tm);
  return std::chrono::system_clock::from_time_t(seconds) + std::chrono::milliseconds(millis);
}

std::string format_rfc3339_utc(SystemTime time) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", utc_tm(time));
}

std::string format_date_utc(SystemTime time) {
  return fmt::format("{:%Y-%m-%d}", utc_tm(time));
}

std::string format_folder_time_utc(SystemTime time) {
  return fmt::format("{:%Y-%m-%d_%H-%M-%S}", utc_tm(time));
}

std::string format_log_time_utc(SystemTime time) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()) % 1000;
  return fmt::format("{}.{:03}", fmt::format("{:%Y-%m-%d %H:%M:%S}", utc_tm(time)), ms.count());
}

std::string make_uuid_v4() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    std::random_device rd;
    for (auto& byte : b) {
      byte = static_cast<unsigned char>(rd());
    }
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
      "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
      b[0],
      b[1],
      b[2],
      b[3],
      b[4],
      b[5],
      b[6],
      b[7],
      b[8],
      b[9],
      b[10],
      b[11],
      b[12],
      b[13],
      b[14],
      b[15]);
}

}  // namespace kiln
