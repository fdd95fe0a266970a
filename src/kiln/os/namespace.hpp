#pragma once

// Mount namespaces and overlay mounts for instances: the only home of these syscalls.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kiln/base/result.hpp"

namespace kiln::os {

// Moves the calling process into a new mount namespace whose mounts do not propagate back to the
// host. Everything mounted afterwards vanishes when the last process in the namespace exits.
Status enter_private_mount_namespace();

struct OverlayMount {
  std::vector<std::filesystem::path> lower;  // top-most first
  std::filesystem::path upper;
  std::filesystem::path work;
  std::filesystem::path target;
};

// Mounts an overlay filesystem. Lower paths are given relative to their common parent (chdir
// there first) so that more layers fit in the one-page option string; an option string still too
// long is an error (the caller flattens the chain).
Status mount_overlay(const OverlayMount& mount);

// Runs `argv` inside the namespaces of process `pid` (IPC, UTS, PID, mount, and network when
// `network` is set), with its root and working directory, keeping only the capabilities of
// kInstanceCapabilities, and returns its exit status (128 + signal when a signal ended it). The
// environment is this process's. For kiln's single-threaded helper process only: it forks.
Result<int> run_in_namespaces(pid_t pid, bool network, const std::vector<std::string>& argv);

// Runs `argv` (a path, not searched) with environment `env` as a child of this process in the
// PID namespace of process `pid`, in a session of its own, and returns its exit status (128 +
// signal). The child stays in this process's other namespaces. For kiln's single-threaded helper
// process only: it forks.
Result<int> run_in_pid_namespace(pid_t pid,
                                 const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env);

// Lets every group open ICMP echo ("ping") sockets in the network namespace of process `pid`
// (net.ipv4.ping_group_range), so ping works there without CAP_NET_RAW. Moves this process into
// that network namespace: for kiln's helper process only, as its last act.
Status allow_ping_sockets(pid_t pid);

// True if `relative` names a regular file under the folder `root`, reached without following any
// symbolic link (so nothing outside `root` is looked at).
bool regular_file_in_root(const std::filesystem::path& root, const std::string& relative);

// The capabilities a process in an instance keeps: what package managers and build scripts need
// as root in their own filesystem (chown, file modes, setuid/setgid, binding low ports, chroot,
// signals), and none that reach the host (no sys_admin, net_admin, sys_module, mknod, sys_rawio,
// sys_time, ...), nor net_raw (raw and packet sockets: sniffing and forging packets of whatever
// network the instance has). Docker's default set, less mknod and net_raw.
extern const std::vector<int> kInstanceCapabilities;

// The start time of a process (field 22 of /proc/<pid>/stat, in clock ticks since boot), which
// tells a live process from a later one that reused its pid. nullopt if the process is gone.
std::optional<unsigned long long> process_start_time(pid_t pid);

// True if `pid` runs and started at `start_time`.
bool process_alive(pid_t pid, unsigned long long start_time);

}  // namespace kiln::os
