#pragma once

// The log folder of one run, TOE_<YYYY-MM-DD_HH-MM-SS>_UTC-0_<executionId>, and its text logs:
// application.log (kiln-toe's own debug-level account) and console.log (everything the steps
// printed, as "CmdExecution: Stdout: ..." lines, plus step headers).

#include <filesystem>
#include <string>
#include <string_view>

#include "kiln/base/result.hpp"
#include "kiln/base/time.hpp"
#include "kiln/base/unique_fd.hpp"

namespace kiln::toe {

class RunLog {
 public:
  // Creates (or, when resuming after a reboot, reopens) `folder` and its log files for appending.
  static Result<RunLog> open(const std::filesystem::path& folder, const Clock& clock);

  // "TOE_2021-07-01_12-34-56_UTC-0_<executionId>"
  static std::string folder_name(SystemTime start, std::string_view execution_id);

  const std::filesystem::path& folder() const { return folder_; }

  // A timestamped line in application.log.
  void app(std::string_view line);
  enum class Echo { kNone, kProgress, kAll };

  // A line of step output in console.log; echoed on stderr at Echo::kAll (--trace).
  void console(std::string_view line);
  // A progress line (document, phase, step and its status) in console.log; echoed on stderr
  // from Echo::kProgress up.
  void progress(std::string_view line);
  void set_echo(Echo echo) { echo_ = echo; }

 private:
  RunLog(std::filesystem::path folder, UniqueFd app, UniqueFd console, const Clock& clock)
      : folder_(std::move(folder)),
        app_(std::move(app)),
        console_(std::move(console)),
        clock_(&clock) {}
  std::filesystem::path folder_;
  UniqueFd app_;
  UniqueFd console_;
  const Clock* clock_;
  Echo echo_ = Echo::kNone;
};

}  // namespace kiln::toe
