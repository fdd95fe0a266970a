#include "kiln/instance/instance_type.hpp"

#include <unistd.h>

#include <algorithm>
#include <vector>

#include "kiln/base/strings.hpp"

namespace kiln::instance {
namespace {

constexpr uint64_t kPidsPerVcpu = 4096;

constexpr InstanceType kTypes[] = {
    {"t3.nano", 2, 512},
    {"t3.micro", 2, 1024},
    {"t3.small", 2, 2048},
    {"t3.medium", 2, 4096},
    {"t3.large", 2, 8192},
    {"t3.xlarge", 4, 16384},
    {"m5.large", 2, 8192},
    {"m5.xlarge", 4, 16384},
    {"m5.2xlarge", 8, 32768},
    {"c5.large", 2, 4096},
    {"c5.xlarge", 4, 8192},
    {"r5.large", 2, 16384},
};

}  // namespace

std::span<const InstanceType> instance_types() {
  return kTypes;
}

Result<os::ResourceLimits> limits_for(std::string_view name) {
  if (name.empty()) {
    return os::ResourceLimits{};
  }
  for (const InstanceType& t : kTypes) {
    if (t.name == name) {
      long host = ::sysconf(_SC_NPROCESSORS_ONLN);
      os::ResourceLimits limits;
      limits.memory_bytes = t.memory_mib << 20;
      limits.cpus = std::min<double>(t.vcpus, host > 0 ? static_cast<double>(host) : t.vcpus);
      limits.pids = kPidsPerVcpu * static_cast<uint64_t>(t.vcpus);
      return limits;
    }
  }
  std::vector<std::string> names;
  for (const InstanceType& t : kTypes) {
    names.emplace_back(t.name);
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown instance type '{}' (known: {})",
                    name,
                    join(names, ", "));
}

}  // namespace kiln::instance
