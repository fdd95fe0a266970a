// Untrusted archives (docs/formats/store.md): hostile layers and rootfs tarballs are refused
// without writing outside their target; limits; rootfs tarballs imported as layers.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <vector>

#include "kiln/base/file.hpp"
#include "kiln/base/unique_fd.hpp"
#include "kiln/store/archive_io.hpp"
#include "kiln/store/layer.hpp"
#include "kiln/store/layer_testing.hpp"

namespace kiln::store {
namespace {

namespace fs = std::filesystem;
using namespace kiln::store::layer_testing;  // NOLINT: test helpers

class HostileTest : public LayerTest {
 protected:
  void SetUp() override {
    LayerTest::SetUp();
    outside_ = make_dir("outside");
    CommandResult made = run(fmt::format("python3 {}/hostile/make_hostile.py {} {}",
                                         KILN_TEST_DATA,
                                         sh(root() / "hostile"),
                                         sh(outside_)));
    ASSERT_EQ(made.status, 0) << made.output;
    std::istringstream lines(made.output);
    std::string name;
    std::string entry;
    while (lines >> name >> entry) {
      cases_.emplace_back(name, entry);
    }
    ASSERT_GE(cases_.size(), 10u);
  }

  fs::path archive(const std::string& name) const { return root() / "hostile" / (name + ".tar"); }

  fs::path outside_;
  std::vector<std::pair<std::string, std::string>> cases_;
};

TEST_F(HostileTest, UnpackRefusesAndWritesNothingOutsideTheTarget) {
  ASSERT_FALSE(fs::exists("/abs"));
  struct stat passwd_before {};
  ASSERT_EQ(stat("/etc/passwd", &passwd_before), 0);
  for (bool lower : {false, true}) {
    for (const auto& [name, entry] : cases_) {
      SCOPED_TRACE(name + (lower ? " as overlay lower" : " merged"));
      fs::path parent = make_dir(fmt::format("work-{}-{}", name, lower));
      fs::path target = make_dir(fmt::format("work-{}-{}/target", name, lower));
      std::map<std::string, std::string> before = describe(root());
      before.erase(target.lexically_relative(root()).string());

      Result<UnpackStats> stats = unpack_layer(
          archive(name), "", target, UnpackOptions{.as_overlay_lower = lower && is_root()});
      if (entry == "-") {
        EXPECT_TRUE(stats.ok()) << stats.error().message;
      } else {
        ASSERT_FALSE(stats.ok());
        EXPECT_NE(stats.error().message.find(fmt::format("entry {:?}", entry)), std::string::npos)
            << stats.error().message;
      }

      std::map<std::string, std::string> after = describe(root());
      std::string target_rel = target.lexically_relative(root()).string();
      std::erase_if(after, [&](const auto& item) {
        return item.first == target_rel || item.first.starts_with(target_rel + "/");
      });
      EXPECT_EQ(after, before);
      EXPECT_TRUE(fs::is_empty(outside_));
      std::vector<fs::path> beside;
      for (const fs::directory_entry& item : fs::directory_iterator(parent)) {
        beside.push_back(item.path());
      }
      EXPECT_EQ(beside, std::vector<fs::path>{target}) << "beside the target";
    }
  }
  EXPECT_FALSE(fs::exists("/abs"));
  struct stat passwd_after {};
  ASSERT_EQ(stat("/etc/passwd", &passwd_after), 0);
  EXPECT_EQ(passwd_after.st_nlink, passwd_before.st_nlink);
  EXPECT_EQ(passwd_after.st_mtim.tv_sec, passwd_before.st_mtim.tv_sec);
}

TEST_F(HostileTest, OverwritingASymlinkReplacesItInsideTheTarget) {
  fs::path target = make_dir("target");
  ASSERT_TRUE(unpack_layer(archive("symlink_overwrite"), "", target).ok());
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(target / "victim")));
  EXPECT_EQ(*read_file(target / "victim"), "replaced\n");
  EXPECT_TRUE(fs::is_empty(outside_));
}

TEST_F(HostileTest, ImportRefusesTheSameArchives) {
  for (const auto& [name, entry] : cases_) {
    SCOPED_TRACE(name);
    auto w = writer();
    Result<LayerInfo> info = normalize_rootfs_archive(archive(name), LayerFormat::kZstd, *w);
    if (entry == "-") {
      EXPECT_TRUE(info.ok()) << info.error().message;
      continue;
    }
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(info.error().message.find(fmt::format("entry {:?}", entry)), std::string::npos)
        << info.error().message;
  }
  EXPECT_TRUE(fs::is_empty(outside_));
}

TEST_F(LayerTest, SizeAndEntryLimitsAreEnforced) {
  fs::path source = make_dir("source");
  put(source / "a", std::string(600 * 1024, 'a'));
  put(source / "b", std::string(600 * 1024, 'b'));
  LayerInfo info = write_tree(source, LayerFormat::kZstd);

  Result<UnpackStats> bytes = unpack_layer(
      blob(info), info.media_type, make_dir("t1"), UnpackOptions{.max_total_bytes = 1 << 20});
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(bytes.error().message.find("entry \"b\": size 614400 exceeds the limit"),
            std::string::npos)
      << bytes.error().message;

  Result<UnpackStats> entries =
      unpack_layer(blob(info), info.media_type, make_dir("t2"), UnpackOptions{.max_entries = 1});
  ASSERT_FALSE(entries.ok());
  EXPECT_NE(entries.error().message.find("entry \"b\": more than 1 entries"), std::string::npos)
      << entries.error().message;

  fs::path tarball = root() / "rootfs.tar";
  ASSERT_EQ(run("tar -C " + sh(source) + " -cf " + sh(tarball) + " .").status, 0);
  auto w = writer();
  Result<LayerInfo> imported = normalize_rootfs_archive(
      tarball, LayerFormat::kZstd, *w, ImportOptions{.max_total_bytes = 1 << 20});
  ASSERT_FALSE(imported.ok());
  // GNU tar keeps the directory's order, so "./a" or "./b" comes second.
  EXPECT_NE(imported.error().message.find("\": size 614400 exceeds the limit"), std::string::npos)
      << imported.error().message;
}

class ImportTest : public LayerTest, public ::testing::WithParamInterface<std::string> {};

INSTANTIATE_TEST_SUITE_P(Compressions,
                         ImportTest,
                         ::testing::Values("", "--gzip", "--zstd", "--xz"),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           return param.param.empty() ? std::string("tar") : param.param.substr(2);
                         });

TEST_P(ImportTest, RootfsTarballBecomesTheSameTreeAsALayer) {
  fs::path source = make_dir("source");
  make_tree(source);
  fs::path tarball = root() / "rootfs.tar";
  // GNU tar as users make rootfs tarballs: "./" names, user names, pax atime/ctime records.
  CommandResult made =
      run(fmt::format("tar --format=posix --xattrs --xattrs-include='*' {} -C {} -cf {} . 2>&1",
                      GetParam(),
                      sh(source),
                      sh(tarball)));
  ASSERT_EQ(made.status, 0) << made.output;

  auto w = writer();
  Result<LayerInfo> info = normalize_rootfs_archive(tarball, LayerFormat::kZstd, *w);
  ASSERT_TRUE(info.ok()) << info.error().message;
  fs::path target = make_dir("target");
  unpack(*info, target);
  EXPECT_EQ(tree_diff(target, source), "");

  // The same tarball gives the same layer; the names are canonical.
  auto again_writer = writer();
  Result<LayerInfo> again = normalize_rootfs_archive(tarball, LayerFormat::kZstd, *again_writer);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->digest, info->digest);
  for (const std::string& name : list_entries(blob(*info))) {
    EXPECT_NE(name.substr(0, 2), "./") << name;
  }
}

TEST_F(LayerTest, ImportDropsDevicesWhenNotAllowed) {
  if (!is_root()) {
    GTEST_SKIP() << "making a device node needs root";
  }
  fs::path source = make_dir("source");
  ASSERT_EQ(mknod((source / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  put(source / "file", "file\n");
  fs::path tarball = root() / "rootfs.tar.gz";
  ASSERT_EQ(run("tar -C " + sh(source) + " -czf " + sh(tarball) + " .").status, 0);
  auto w = writer();
  Result<LayerInfo> info = normalize_rootfs_archive(
      tarball, LayerFormat::kGzip, *w, ImportOptions{.allow_devices = false});
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(list_entries(blob(*info)), std::vector<std::string>{"file"});
}

}  // namespace
}  // namespace kiln::store
