#include "kiln/os/namespace.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/base/unique_fd.hpp"
#include "kiln/os/process.hpp"

namespace kiln::os {

Status enter_private_mount_namespace() {
  // A new mount namespace: a copy of the host's mount table that this process owns.
  if (::unshare(CLONE_NEWNS) != 0) {
    return errno_error(errno, "unshare(CLONE_NEWNS)");
  }
  // Make every mount a slave, recursively, so nothing mounted here propagates to the host (on
  // systemd hosts "/" is shared by default), while what the host unmounts (a terminated
  // instance's disk) goes from here too instead of staying alive in this copy.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    return errno_error(errno, "making / a slave mount");
  }
  return ok_status();
}

namespace {

// overlayfs reads ',' as the end of an option and ':' as the end of a lower layer: a path that
// holds them (or '\\') has them escaped with '\\', which overlayfs removes.
std::string overlay_escape(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ',' || c == ':' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

Status mount_overlay(const OverlayMount& m) {
  if (m.lower.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "an overlay needs at least one lower layer");
  }
  // Layers live side by side in one folder: name them relative to it to keep the option short.
  std::filesystem::path parent = m.lower.front().parent_path();
  std::vector<std::string> names;
  for (const std::filesystem::path& lower : m.lower) {
    names.push_back(
        overlay_escape(lower.parent_path() == parent ? lower.filename().string() : lower.string()));
  }
  // redirect_dir and metacopy off: the upper directory must stay a self-contained layer that a
  // snapshot can read without the lower layers.
  std::string options =
      fmt::format("lowerdir={},upperdir={},workdir={},redirect_dir=off,metacopy=off",
                  join(names, ":"),
                  overlay_escape(m.upper.string()),
                  overlay_escape(m.work.string()));
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

const std::vector<int> kInstanceCapabilities = {CAP_CHOWN,
                                                CAP_DAC_OVERRIDE,
                                                CAP_FOWNER,
                                                CAP_FSETID,
                                                CAP_KILL,
                                                CAP_SETGID,
                                                CAP_SETUID,
                                                CAP_SETPCAP,
                                                CAP_NET_BIND_SERVICE,
                                                CAP_SYS_CHROOT,
                                                CAP_AUDIT_WRITE,
                                                CAP_SETFCAP};

namespace {

// Drops every capability not in `keep` from the bounding, ambient, effective, permitted and
// inheritable sets, so neither this process nor anything it runs can get them back.
Status keep_only(const std::vector<int>& keep) {
  uint64_t mask = 0;
  for (int cap : keep) {
    mask |= uint64_t{1} << cap;
  }
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if ((mask & (uint64_t{1} << cap)) == 0 && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
        errno != EINVAL) {
      return errno_error(errno, fmt::format("dropping capability {}", cap));
    }
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    auto bits = static_cast<uint32_t>(mask >> (32 * i));
    data[i].effective = data[i].permitted = data[i].inheritable = bits;
  }
  if (::syscall(SYS_capset, &header, data) != 0) {
    return errno_error(errno, "setting capabilities");
  }
  return ok_status();
}

}  // namespace

Result<int> run_in_namespaces(pid_t pid, bool network, const std::vector<std::string>& argv) {
  // Everything is opened first: after joining the mount namespace, /proc is the instance's.
  std::vector<std::string> kinds{"ipc", "uts", "pid", "mnt"};
  if (network) {
    kinds.insert(kinds.begin(), "net");
  }
  std::vector<UniqueFd> namespaces;
  for (const std::string& kind : kinds) {
    std::string path = fmt::format("/proc/{}/ns/{}", pid, kind);
    namespaces.emplace_back(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!namespaces.back().valid()) {
      return errno_error(errno, fmt::format("opening {}", path));
    }
  }
  UniqueFd root(
      ::open(fmt::format("/proc/{}/root", pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  UniqueFd cwd(
      ::open(fmt::format("/proc/{}/cwd", pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) {
    return errno_error(errno, fmt::format("opening the root of process {}", pid));
  }
  for (size_t i = 0; i < kinds.size(); ++i) {
    // setns joins one namespace; the PID namespace applies to the children forked below.
    if (::setns(namespaces[i].get(), 0) != 0) {
      return errno_error(errno, fmt::format("joining the {} namespace of {}", kinds[i], pid));
    }
  }
  // The instance's root as ours: fchdir to the directory opened before, then chroot to it.
  if (::fchdir(root.get()) != 0 || ::chroot(".") != 0) {
    return errno_error(errno, "entering the instance's root");
  }
  if (!cwd.valid() || ::fchdir(cwd.get()) != 0) {
    [[maybe_unused]] int rc = ::chdir("/");
  }
  pid_t child = ::fork();  // single-threaded helper: fork is safe here
  if (child < 0) {
    return errno_error(errno, "fork");
  }
  if (child == 0) {
    if (Status dropped = keep_only(kInstanceCapabilities); !dropped) {
      std::fprintf(stderr, "kiln: error: %s\n", dropped.error().message.c_str());
      std::_Exit(126);
    }
    std::vector<char*> args;
    for (const std::string& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "kiln: %s: %s\n", args[0], std::strerror(errno));
    std::_Exit(errno == ENOENT ? 127 : 126);
  }
  return wait_exit_code(child);
}

Result<int> run_in_pid_namespace(pid_t pid,
                                 const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env) {
  if (argv.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "an empty command");
  }
  std::string path = fmt::format("/proc/{}/ns/pid", pid);
  UniqueFd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) {
    return errno_error(errno, fmt::format("opening {}", path));
  }
  // Applies to the children forked from now on, not to this process.
  if (::setns(ns.get(), CLONE_NEWPID) != 0) {
    return errno_error(errno, fmt::format("joining the pid namespace of {}", pid));
  }
  std::vector<char*> args;
  for (const std::string& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env) {
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  envp.push_back(nullptr);
  pid_t child = ::fork();  // single-threaded helper: fork is safe here
  if (child < 0) {
    return errno_error(errno, "fork");
  }
  if (child == 0) {
    // A session of its own: whoever waits for this helper and then kills its process group
    // leaves what the child leaves running (a daemon) alone.
    ::setsid();
    ::execve(args[0], args.data(), envp.data());
    std::fprintf(stderr, "kiln: %s: %s\n", args[0], std::strerror(errno));
    std::_Exit(errno == ENOENT ? 127 : 126);
  }
  return wait_exit_code(child);
}

Status allow_ping_sockets(pid_t pid) {
  std::string path = fmt::format("/proc/{}/ns/net", pid);
  UniqueFd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) {
    return errno_error(errno, fmt::format("opening {}", path));
  }
  if (::setns(ns.get(), CLONE_NEWNET) != 0) {
    return errno_error(errno, fmt::format("joining the network namespace of {}", pid));
  }
  // /proc/sys/net is the calling process's network namespace's.
  return write_file("/proc/sys/net/ipv4/ping_group_range", "0 2147483647\n");
}

bool regular_file_in_root(const std::filesystem::path& root, const std::string& relative) {
  UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) {
    return false;
  }
  open_how how{};
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  UniqueFd file(
      static_cast<int>(::syscall(SYS_openat2, dir.get(), relative.c_str(), &how, sizeof how)));
  struct stat st {};
  return file.valid() && ::fstat(file.get(), &st) == 0 && S_ISREG(st.st_mode);
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
