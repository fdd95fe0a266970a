#pragma once

// Diagnostic logging for kiln's own internals (not build output, which is data). KILN_LOG checks
// the level before formatting, so a disabled level costs one comparison.

#include <fmt/format.h>

#include <atomic>
#include <string_view>

namespace kiln::log {

enum class Level { kTrace = 0, kDebug = 1, kInfo = 2, kWarning = 3, kError = 4, kOff = 5 };

// The process-wide threshold; messages below it are dropped. Default kWarning.
void set_level(Level level);
Level level();
bool enabled(Level level);

// Writes one line "kiln: <level>: <message>" to stderr.
void write(Level level, std::string_view message);

}  // namespace kiln::log

#define KILN_LOG(lvl, ...)                                                   \
  do {                                                                       \
    if (::kiln::log::enabled(::kiln::log::Level::lvl)) {                     \
      ::kiln::log::write(::kiln::log::Level::lvl, fmt::format(__VA_ARGS__)); \
    }                                                                        \
  } while (false)
