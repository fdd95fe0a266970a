#pragma once

// Instance types: EC2's names for sizes of machine, mapped to the resource limits an instance
// runs under (os/cgroup.hpp), so infrastructure configurations written for AWS carry over.

#include <span>
#include <string>
#include <string_view>

#include "kiln/base/result.hpp"
#include "kiln/os/cgroup.hpp"

namespace kiln::instance {

struct InstanceType {
  std::string_view name;
  int vcpus;
  uint64_t memory_mib;
};

// Every known type, smallest first.
std::span<const InstanceType> instance_types();

// The limits of `name`: its memory, as many CPUs as it has (at most the host's), and a process
// limit. The empty name means no limits. An unknown name is kInvalidArgument listing the known.
Result<os::ResourceLimits> limits_for(std::string_view name);

}  // namespace kiln::instance
