#include "kiln/toe/run_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace kiln::toe {
namespace {

Result<UniqueFd> open_append(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return errno_error(errno, fmt::format("opening {}", path.string()));
  }
  return fd;
}

void write_line(int fd, std::string_view line) {
  std::string buf(line);
  buf.push_back('\n');
  [[maybe_unused]] ssize_t n = ::write(fd, buf.data(), buf.size());
}

}  // namespace

Result<RunLog> RunLog::open(const std::filesystem::path& folder, const Clock& clock) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "creating log folder {}: {}", folder.string(), ec.message());
  }
  // Logs may hold what steps printed: readable by the owner only.
  std::filesystem::permissions(folder, std::filesystem::perms::owner_all, ec);
  UniqueFd app = KILN_TRY(open_append(folder / "application.log"));
  UniqueFd console = KILN_TRY(open_append(folder / "console.log"));
  return RunLog(folder, std::move(app), std::move(console), clock);
}

std::string RunLog::folder_name(SystemTime start, std::string_view execution_id) {
  return fmt::format("TOE_{}_UTC-0_{}", format_folder_time_utc(start), execution_id);
}

void RunLog::app(std::string_view line) {
  write_line(app_.get(), fmt::format("{} {}", format_log_time_utc(clock_->now()), line));
}

void RunLog::console(std::string_view line) {
  write_line(console_.get(), line);
  if (echo_ == Echo::kAll) {
    write_line(STDERR_FILENO, line);
  }
}

void RunLog::progress(std::string_view line) {
  std::string stamped = fmt::format("{} {}", format_log_time_utc(clock_->now()), line);
  write_line(console_.get(), stamped);
  if (echo_ != Echo::kNone) {
    write_line(STDERR_FILENO, stamped);
  }
}

}  // namespace kiln::toe
