#include "kiln/instance/disk_size.hpp"

#include <cctype>
#include <charconv>
#include <string>

namespace kiln::instance {

Result<uint64_t> parse_disk_size(std::string_view text) {
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  std::string unit;
  for (const char* p = end; p != text.data() + text.size(); ++p) {
    unit.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(*p))));
  }
  int shift = -1;
  if (unit.empty() || unit == "G" || unit == "GIB" || unit == "GB") {
    shift = 30;
  } else if (unit == "K" || unit == "KIB" || unit == "KB") {
    shift = 10;
  } else if (unit == "M" || unit == "MIB" || unit == "MB") {
    shift = 20;
  } else if (unit == "T" || unit == "TIB" || unit == "TB") {
    shift = 40;
  }
  if (ec != std::errc() || end == text.data() || shift < 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "disk size {:?}: expected a whole number with an optional unit K, M, G or "
                      "T (binary; a bare number is GiB), e.g. 64M or 8G",
                      text);
  }
  if (number > (kMaxDiskSize >> shift) || (number << shift) < kMinDiskSize) {
    return make_error(
        ErrorCode::kInvalidArgument, "disk size {:?}: must be from 16 MiB to 16000 GiB", text);
  }
  return number << shift;
}

Result<uint64_t> root_volume_size(const Json& mappings) {
  if (!mappings.is_array()) {
    return uint64_t{0};
  }
  for (const Json& mapping : mappings) {
    if (!mapping.is_object()) {
      continue;
    }
    const Json device = mapping.value("deviceName", Json());
    if (!device.is_string()) {
      continue;
    }
    std::string name = device.get<std::string>();
    if (name != "/dev/xvda" && name != "/dev/sda1" && name != "/dev/sda" &&
        name != "/dev/nvme0n1") {
      continue;
    }
    const Json ebs = mapping.value("ebs", Json::object());
    if (!ebs.is_object() || !ebs.contains("volumeSize")) {
      continue;
    }
    const Json& size = ebs["volumeSize"];
    if (!size.is_number_integer() || size.get<int64_t>() < 1 || size.get<int64_t>() > 16000) {
      return make_error(ErrorCode::kInvalidArgument,
                        "the ebs.volumeSize of {} in blockDeviceMappings must be a whole "
                        "number of GiB from 1 to 16000, not {}",
                        name,
                        size.dump());
    }
    return static_cast<uint64_t>(size.get<int64_t>()) * kGiB;
  }
  return uint64_t{0};
}

}  // namespace kiln::instance
