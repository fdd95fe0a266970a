#include "kiln/instance/disk_size.hpp"

#include <gtest/gtest.h>

namespace kiln::instance {
namespace {

TEST(DiskSize, ParsesUnitsAndBareGiB) {
  EXPECT_EQ(*parse_disk_size("8"), 8 * kGiB);
  EXPECT_EQ(*parse_disk_size("8G"), 8 * kGiB);
  EXPECT_EQ(*parse_disk_size("8GiB"), 8 * kGiB);
  EXPECT_EQ(*parse_disk_size("64M"), 64 * kMiB);
  EXPECT_EQ(*parse_disk_size("64mib"), 64 * kMiB);
  EXPECT_EQ(*parse_disk_size("16384K"), 16 * kMiB);
  EXPECT_EQ(*parse_disk_size("1T"), 1024 * kGiB);
  EXPECT_EQ(*parse_disk_size("16000"), kMaxDiskSize);
}

TEST(DiskSize, RefusesGarbageAndOutOfRange) {
  for (const char* bad :
       {"", "G", "-1", "1.5G", "8X", "8 G", "15M", "16001", "0", "99999999999T"}) {
    Result<uint64_t> size = parse_disk_size(bad);
    EXPECT_FALSE(size.ok()) << bad;
    if (!size.ok()) {
      EXPECT_EQ(size.error().code, ErrorCode::kInvalidArgument) << bad;
    }
  }
}

TEST(DiskSize, RootVolumeFromBlockDeviceMappings) {
  EXPECT_EQ(*root_volume_size(Json()), 0u);
  EXPECT_EQ(*root_volume_size(Json::array()), 0u);
  EXPECT_EQ(*root_volume_size(Json::parse(R"([{"deviceName": "/dev/xvda"}])")), 0u);
  EXPECT_EQ(
      *root_volume_size(Json::parse(R"([{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 30}}])")),
      30 * kGiB);
  // Another volume does not size the root; the root is found among them.
  EXPECT_EQ(*root_volume_size(Json::parse(
                R"([{"deviceName": "/dev/xvdb", "ebs": {"volumeSize": 100}},
                    {"deviceName": "/dev/sda1", "ebs": {"volumeSize": 2}}])")),
            2 * kGiB);
  EXPECT_EQ(*root_volume_size(
                Json::parse(R"([{"deviceName": "/dev/xvdb", "ebs": {"volumeSize": 100}}])")),
            0u);
}

TEST(DiskSize, RefusesABadRootVolumeSize) {
  for (const char* size : {"0", "16001", "\"8\"", "1.5", "-3"}) {
    Json mappings = Json::parse(
        fmt::format(R"([{{"deviceName": "/dev/xvda", "ebs": {{"volumeSize": {}}}}}])", size));
    Result<uint64_t> got = root_volume_size(mappings);
    EXPECT_FALSE(got.ok()) << size;
  }
}

}  // namespace
}  // namespace kiln::instance
