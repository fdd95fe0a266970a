#include "kiln/os/namespace.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"

namespace kiln::os {

Status enter_private_mount_namespace() {
  // A new mount namespace: a copy of the host's mount table that this process owns.
  if (::unshare(CLONE_NEWNS) != 0) {
    return errno_error(errno, "unshare(CLONE_NEWNS)");
  }
  // Make every mount private, recursively, so nothing mounted here propagates to the host (on
  // systemd hosts "/" is shared by default).
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return errno_error(errno, "making / a private mount");
  }
  return ok_status();
}

Status mount_overlay(const OverlayMount& m) {
  if (m.lower.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "an overlay needs at least one lower layer");
  }
  // Layers live side by side in one folder: name them relative to it to keep the option short.
  std::filesystem::path parent = m.lower.front().parent_path();
  std::vector<std::string> names;
  for (const std::filesystem::path& lower : m.lower) {
    names.push_back(lower.parent_path() == parent ? lower.filename().string() : lower.string());
  }
  // redirect_dir and metacopy off: the upper directory must stay a self-contained layer that a
  // snapshot can read without the lower layers.
  std::string options =
      fmt::format("lowerdir={},upperdir={},workdir={},redirect_dir=off,metacopy=off",
                  join(names, ":"),
                  m.upper.string(),
                  m.work.string());
  if (options.size() >= static_cast<size_t>(::getpagesize())) {
    return make_error(ErrorCode::kInvalidArgument,
                      "overlay options of {} bytes exceed a page ({} layers): flatten the chain",
                      options.size(),
                      m.lower.size());
  }
  if (::chdir(parent.c_str()) != 0) {
    return errno_error(errno, fmt::format("entering {}", parent.string()));
  }
  if (::mount("overlay", m.target.c_str(), "overlay", 0, options.c_str()) != 0) {
    return errno_error(errno, fmt::format("mounting the overlay on {}", m.target.string()));
  }
  return ok_status();
}

std::optional<unsigned long long> process_start_time(pid_t pid) {
  Result<std::string> stat = read_file(fmt::format("/proc/{}/stat", pid));
  if (!stat) {
    return std::nullopt;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  std::vector<std::string> fields = split(std::string_view(*stat).substr(close + 2), ' ');
  // fields[0] is field 3 (state); the start time is field 22.
  if (fields.size() < 20 || fields[0] == "Z" || fields[0] == "X") {
    return std::nullopt;
  }
  unsigned long long ticks = 0;
  const std::string& f = fields[19];
  auto [ptr, ec] = std::from_chars(f.data(), f.data() + f.size(), ticks);
  if (ec != std::errc() || ptr != f.data() + f.size()) {
    return std::nullopt;
  }
  return ticks;
}

bool process_alive(pid_t pid, unsigned long long start_time) {
  std::optional<unsigned long long> now = process_start_time(pid);
  return now && *now == start_time;
}

}  // namespace kiln::os
