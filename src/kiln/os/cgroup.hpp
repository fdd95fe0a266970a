#pragma once

// Resource limits for instances through cgroups: the unified hierarchy (v2) where the host has
// it, else the v1 memory, pids and cpu hierarchies (as on hosts with both). The only home of
// these file writes. Each instance gets one group per hierarchy, below the group kiln itself runs
// in, so limits placed on kiln still hold for its instances.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kiln/base/result.hpp"

namespace kiln::os {

struct ResourceLimits {
  std::optional<uint64_t> memory_bytes;
  std::optional<uint64_t> pids;
  std::optional<double> cpus;  // CPU time per second of wall time, 1.0 = one core

  bool empty() const { return !memory_bytes && !pids && !cpus; }
};

// One cgroup per hierarchy that carries a wanted controller: the folders to write pids to.
struct CgroupSet {
  std::vector<std::filesystem::path> groups;
  std::vector<std::string> warnings;  // limits that could not be applied, and why
};

// Creates (or reuses) the group `<kiln's own group>/kiln/<name>` in each hierarchy that has a
// controller for a wanted limit, and writes the limits. A controller the host lacks is a warning,
// not an error: the instance runs without that limit.
Result<CgroupSet> create_cgroups(const std::string& name, const ResourceLimits& limits);

// Moves the calling process into every group of the set (its children follow).
Status join_cgroups(const CgroupSet& set);

// Removes the groups (they must hold no processes any more).
void remove_cgroups(const CgroupSet& set);

}  // namespace kiln::os
