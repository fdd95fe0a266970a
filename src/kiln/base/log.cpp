#include "kiln/base/log.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "kiln/base/result.hpp"

namespace kiln::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kWarning)};

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
    case Level::kOff:
      break;
  }
  return "off";
}
}  // namespace

void set_level(Level level) {
  g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}
Level level() {
  return static_cast<Level>(g_level.load(std::memory_order_relaxed));
}
bool enabled(Level lvl) {
  return static_cast<int>(lvl) >= g_level.load(std::memory_order_relaxed);
}

void write(Level lvl, std::string_view message) {
  std::string line = fmt::format("kiln: {}: {}\n", level_name(lvl), message);
  // One write() per line so lines from concurrent threads do not interleave.
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace kiln::log

namespace kiln::detail {
[[noreturn]] void assert_failed(const char* condition, const char* file, int line) {
  std::fprintf(
      stderr, "kiln: internal error: assertion `%s` failed at %s:%d\n", condition, file, line);
  std::abort();
}
}  // namespace kiln::detail
