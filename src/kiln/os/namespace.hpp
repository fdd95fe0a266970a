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

// The start time of a process (field 22 of /proc/<pid>/stat, in clock ticks since boot), which
// tells a live process from a later one that reused its pid. nullopt if the process is gone.
std::optional<unsigned long long> process_start_time(pid_t pid);

// True if `pid` runs and started at `start_time`.
bool process_alive(pid_t pid, unsigned long long start_time);

}  // namespace kiln::os
