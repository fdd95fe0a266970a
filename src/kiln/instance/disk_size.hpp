#pragma once

// The size of an instance's disk (its writable layer): the default, the limits, and where a size
// comes from (a command-line value, or a recipe's blockDeviceMappings as AWS has it).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "kiln/base/result.hpp"

namespace kiln::instance {

using Json = nlohmann::ordered_json;

inline constexpr uint64_t kGiB = uint64_t{1} << 30;
inline constexpr uint64_t kMiB = uint64_t{1} << 20;
// What an instance gets unless told otherwise: AWS's Linux AMIs have 8 GiB root volumes.
inline constexpr uint64_t kDefaultDiskSize = 8 * kGiB;
inline constexpr uint64_t kMinDiskSize = 16 * kMiB;     // ext4 with a journal needs a few MiB
inline constexpr uint64_t kMaxDiskSize = 16000 * kGiB;  // EBS's volumeSize maximum

// A disk size given on the command line: a whole number with an optional binary unit, K, M, G
// or T (KiB ... TiB; "MiB", "GB" and lowercase also read), a bare number being GiB as AWS's
// volumeSize is. Between kMinDiskSize and kMaxDiskSize; kInvalidArgument otherwise.
Result<uint64_t> parse_disk_size(std::string_view text);

// The root volume's size in a recipe's blockDeviceMappings, in bytes: ebs.volumeSize (GiB, a
// whole number 1-16000) of the mapping whose deviceName is the root device of AWS's Linux AMIs
// (/dev/xvda, /dev/sda1, /dev/sda or /dev/nvme0n1). 0 when no mapping gives one (the caller's
// default). Other mappings (more volumes) have no effect. kInvalidArgument for a volumeSize that
// is not a whole number of GiB from 1 to 16000.
Result<uint64_t> root_volume_size(const Json& block_device_mappings);

}  // namespace kiln::instance
