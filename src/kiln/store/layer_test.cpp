// Layers written from trees and overlayfs upper directories, and unpacked again.

#include "kiln/store/layer.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "kiln/base/file.hpp"
#include "kiln/base/unique_fd.hpp"
#include "kiln/store/archive_io.hpp"
#include "kiln/store/layer_testing.hpp"

namespace kiln::store {
namespace {

namespace fs = std::filesystem;
using namespace kiln::store::layer_testing;  // NOLINT: test helpers

class LayerFormatTest : public LayerTest, public ::testing::WithParamInterface<LayerFormat> {};

INSTANTIATE_TEST_SUITE_P(Formats,
                         LayerFormatTest,
                         ::testing::Values(LayerFormat::kZstd,
                                           LayerFormat::kGzip,
                                           LayerFormat::kUncompressed),
                         [](const ::testing::TestParamInfo<LayerFormat>& param) {
                           return std::string(param.param == LayerFormat::kZstd   ? "Zstd"
                                              : param.param == LayerFormat::kGzip ? "Gzip"
                                                                                  : "Tar");
                         });

TEST_P(LayerFormatTest, TreeRoundTripsThroughWriteAndUnpack) {
  fs::path source = make_dir("source");
  make_tree(source);
  LayerInfo info = write_tree(source, GetParam());
  EXPECT_EQ(info.media_type, layer_media_type(GetParam()));

  fs::path target = make_dir("target");
  unpack(info, target);
  EXPECT_EQ(tree_diff(target, source), "");
  struct stat a {
  }, b{};
  ASSERT_EQ(stat((target / "usr/bin/tool").c_str(), &a), 0);
  ASSERT_EQ(stat((target / "usr/bin/tool-hardlink").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);

  // The media type may be left out: the compression is detected.
  fs::path detected = make_dir("detected");
  ASSERT_TRUE(unpack_layer(blob(info), "", detected).ok());
  EXPECT_EQ(tree_diff(detected, source), "");
}

TEST_P(LayerFormatTest, DigestAndDiffIdMatchIndependentTools) {
  fs::path source = make_dir("source");
  make_tree(source);
  LayerInfo info = write_tree(source, GetParam());

  CommandResult blob_sum = run("sha256sum " + sh(blob(info)));
  ASSERT_EQ(blob_sum.status, 0);
  EXPECT_EQ(first_word(blob_sum.output), info.digest.hex());
  EXPECT_EQ(info.size, fs::file_size(blob(info)));

  std::string decompress = GetParam() == LayerFormat::kZstd   ? "zstd -dc "
                           : GetParam() == LayerFormat::kGzip ? "gzip -dc "
                                                              : "cat ";
  CommandResult tar_sum = run(decompress + sh(blob(info)) + " | sha256sum");
  ASSERT_EQ(tar_sum.status, 0);
  EXPECT_EQ(first_word(tar_sum.output), info.diff_id.hex());
  if (GetParam() == LayerFormat::kUncompressed) {
    EXPECT_EQ(info.digest, info.diff_id);
  } else {
    EXPECT_LT(info.size, 3u * 1024 * 1024);  // the big file compresses
  }
}

TEST_P(LayerFormatTest, SameTreeGivesSameDigest) {
  fs::path a = make_dir("a");
  fs::path b = make_dir("b");
  make_tree(a);
  make_tree(b);  // other inodes, other creation times, same content and mtimes
  LayerInfo first = write_tree(a, GetParam());
  LayerInfo again = write_tree(a, GetParam());
  LayerInfo other = write_tree(b, GetParam());
  EXPECT_EQ(first.digest, again.digest);
  EXPECT_EQ(first.digest, other.digest);
  EXPECT_EQ(first.diff_id, other.diff_id);
}

TEST_F(LayerTest, TarIsCanonical) {
  fs::path source = make_dir("source");
  make_tree(source);
  LayerInfo info = write_tree(source, LayerFormat::kZstd);
  std::vector<std::string> names = list_entries(blob(info));
  ASSERT_FALSE(names.empty());
  // Depth first, sorted, directories before their content, no "./" and no root entry.
  EXPECT_EQ(names.front(), "caf\xc3\xa9 \xc3\xbc.txt");
  EXPECT_NE(std::find(names.begin(), names.end(), "etc/"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "etc/hostname|user.kiln.test"), names.end());
  std::vector<std::string> etc;
  for (const std::string& name : names) {
    EXPECT_NE(name.substr(0, 2), "./");
    if (name.substr(0, 4) == "etc/" && name.size() > 4) {
      etc.push_back(name.substr(0, name.find('|')));
    }
  }
  EXPECT_EQ(
      etc,
      (std::vector<std::string>{
          "etc/empty/", "etc/hostname", "etc/link-absolute", "etc/link-relative", "etc/shadow"}));

  UniqueFd fd(open(blob(info).c_str(), O_RDONLY | O_CLOEXEC));
  Result<ArchiveReader> reader = open_tar_reader(fd.get(), LayerFormat::kZstd);
  ASSERT_TRUE(reader.ok());
  archive_entry* entry = nullptr;
  while (archive_read_next_header(reader->get(), &entry) == ARCHIVE_OK) {
    std::string name(entry_pathname(entry));
    EXPECT_STREQ(archive_entry_uname(entry) ? archive_entry_uname(entry) : "", "") << name;
    EXPECT_EQ(archive_entry_atime_is_set(entry), 0) << name;
    EXPECT_EQ(archive_entry_ctime_is_set(entry), 0) << name;
    EXPECT_EQ(archive_entry_mtime_nsec(entry), 0) << name;
    if (name == "usr/bin/tool-hardlink") {
      EXPECT_STREQ(archive_entry_hardlink(entry), "usr/bin/tool");
    }
  }
}

TEST_F(LayerTest, MediaTypes) {
  EXPECT_EQ(layer_media_type(LayerFormat::kZstd), "application/vnd.oci.image.layer.v1.tar+zstd");
  EXPECT_EQ(layer_media_type(LayerFormat::kGzip), "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(layer_media_type(LayerFormat::kUncompressed), "application/vnd.oci.image.layer.v1.tar");
  EXPECT_EQ(*layer_format_from_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip"),
            LayerFormat::kGzip);
  EXPECT_EQ(*layer_format_from_media_type(kMediaTypeLayerZstd), LayerFormat::kZstd);
  Result<LayerFormat> unknown = layer_format_from_media_type("application/json");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(LayerTest, WrongMediaTypeIsAnError) {
  fs::path source = make_dir("source");
  put(source / "file", "content\n");
  LayerInfo info = write_tree(source, LayerFormat::kZstd);
  fs::path target = make_dir("target");
  EXPECT_FALSE(unpack_layer(blob(info), kMediaTypeLayerGzip, target).ok());
  EXPECT_FALSE(unpack_layer(blob(info), "text/plain", target).ok());
}

TEST_F(LayerTest, MergeModeAppliesWhiteoutsOverALowerTree) {
  fs::path target = make_dir("rootfs");
  fs::create_directories(target / "a");
  fs::create_directories(target / "d" / "sub");
  put(target / "a/keep", "lower\n");
  put(target / "a/gone", "lower\n");
  put(target / "d/old", "lower\n");
  put(target / "d/sub/deep", "lower\n");
  put(target / "x", "lower\n");
  put(target / "both", "lower\n");
  fs::path layer = root() / "layer.tar";
  write_tar(layer,
            {{"a/", S_IFDIR | 0755, ""},
             {"a/.wh.gone", S_IFREG, ""},
             {"a/.wh.never-there", S_IFREG, ""},
             {"both", S_IFREG | 0644, "upper\n"},
             {".wh.both", S_IFREG, ""},  // same layer: the layer's own file stays
             {"d/", S_IFDIR | 0755, ""},
             {"d/-early", S_IFREG | 0644, "upper\n"},  // sorts before the opaque marker
             {"d/.wh..wh..opq", S_IFREG, ""},
             {"d/new", S_IFREG | 0644, "upper\n"},
             {"missing/.wh.nothing", S_IFREG, ""},
             {".wh.x", S_IFREG, ""}});
  Result<UnpackStats> stats = unpack_layer(layer, kMediaTypeLayerTar, target);
  ASSERT_TRUE(stats.ok()) << stats.error().message;

  std::vector<std::string> left;
  for (const fs::path& path : walk(target)) {
    left.push_back(path.lexically_relative(target).string());
  }
  EXPECT_EQ(left, (std::vector<std::string>{"a", "a/keep", "both", "d", "d/-early", "d/new"}));
  EXPECT_EQ(*read_file(target / "both"), "upper\n");
}

TEST_F(LayerTest, UpperDirWhiteoutsAndOpaqueDirsBecomeOciWhiteouts) {
  if (!is_root()) {
    GTEST_SKIP() << "overlayfs whiteouts are device nodes and trusted xattrs: needs root";
  }
  fs::path upper = make_dir("upper");
  fs::create_directories(upper / "opq" / "sub");
  fs::create_directories(upper / "plain");
  ASSERT_EQ(mknod((upper / "gone").c_str(), S_IFCHR, makedev(0, 0)), 0);
  ASSERT_EQ(mknod((upper / "plain/gone-too").c_str(), S_IFCHR, makedev(0, 0)), 0);
  ASSERT_EQ(setxattr((upper / "opq").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  put(upper / "opq/inside", "inside\n");
  put(upper / "plain/new", "new\n");
  ASSERT_EQ(setxattr((upper / "plain/new").c_str(), "trusted.overlay.origin", "\x00\xfb", 2, 0), 0);
  LayerInfo info = write_upper(upper, LayerFormat::kZstd);

  EXPECT_EQ(list_entries(blob(info)),
            (std::vector<std::string>{".wh.gone",
                                      "opq/",
                                      "opq/.wh..wh..opq",
                                      "opq/inside",
                                      "opq/sub/",
                                      "plain/",
                                      "plain/.wh.gone-too",
                                      "plain/new"}));
}

TEST_F(LayerTest, UpperDirWhiteoutNamesKeepTheirDirectory) {
  if (!is_root()) {
    GTEST_SKIP() << "overlayfs whiteouts are device nodes: needs root";
  }
  fs::path upper = make_dir("upper");
  fs::create_directories(upper / "plain");
  ASSERT_EQ(mknod((upper / "plain/gone").c_str(), S_IFCHR, makedev(0, 0)), 0);
  LayerInfo info = write_upper(upper, LayerFormat::kZstd);
  EXPECT_EQ(list_entries(blob(info)), (std::vector<std::string>{"plain/", "plain/.wh.gone"}));

  fs::path lower = make_dir("lower");
  unpack(info, lower, UnpackOptions{.as_overlay_lower = true});
  struct stat st {};
  ASSERT_EQ(lstat((lower / "plain/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(fs::exists(lower / "plain/.wh.gone"));
}

TEST_F(LayerTest, OpaqueDirectoryUnpacksToTheOverlayXattr) {
  if (!is_root()) {
    GTEST_SKIP() << "trusted xattrs need root";
  }
  fs::path upper = make_dir("upper");
  fs::create_directories(upper / "opq");
  ASSERT_EQ(setxattr((upper / "opq").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  put(upper / "opq/inside", "inside\n");
  LayerInfo info = write_upper(upper, LayerFormat::kGzip);

  fs::path lower = make_dir("lower");
  unpack(info, lower, UnpackOptions{.as_overlay_lower = true});
  char value[8] = {};
  EXPECT_EQ(getxattr((lower / "opq").c_str(), "trusted.overlay.opaque", value, sizeof value), 1);
  EXPECT_EQ(value[0], 'y');
  EXPECT_TRUE(fs::exists(lower / "opq/inside"));
  EXPECT_FALSE(fs::exists(lower / "opq/.wh..wh..opq"));
}

TEST_F(LayerTest, UpperDirThatNeedsItsLowerLayersIsRefused) {
  if (!is_root()) {
    GTEST_SKIP() << "trusted xattrs need root";
  }
  fs::path upper = make_dir("upper");
  fs::create_directories(upper / "moved");
  ASSERT_EQ(setxattr((upper / "moved").c_str(), "trusted.overlay.redirect", "/old", 4, 0), 0);
  auto w = writer();
  Result<LayerInfo> info = write_layer_from_upper(upper, LayerFormat::kZstd, *w);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(info.error().message.find("redirect"), std::string::npos) << info.error().message;
}

TEST_F(LayerTest, LowerModeWhiteoutWithoutRootIsAnError) {
  if (is_root()) {
    GTEST_SKIP() << "checks the refusal a user without root gets";
  }
  fs::path layer = root() / "layer.tar";
  write_tar(layer, {{".wh.gone", S_IFREG, ""}});
  fs::path target = make_dir("target");
  Result<UnpackStats> stats =
      unpack_layer(layer, kMediaTypeLayerTar, target, UnpackOptions{.as_overlay_lower = true});
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.error().message.find("\".wh.gone\""), std::string::npos);
}

// Real overlayfs, in a private mount namespace (unshare -m), so nothing stays mounted: a lower
// tree, changes made through the overlay, the upper directory written as a layer, that layer
// unpacked as an overlay lower again: the new overlay must show what the first one showed.
class OverlayTest : public LayerTest {
 protected:
  void SetUp() override {
    if (!is_root()) {
      GTEST_SKIP() << "mounting overlayfs needs root";
    }
    LayerTest::SetUp();
    if (run("unshare -m true 2>/dev/null").status != 0) {
      GTEST_SKIP() << "no mount namespaces here";
    }
  }

  // The listing (path, type, mode) and file digests of `dir`, as seen by find and sha256sum.
  static std::string listing(const fs::path& dir) {
    return "cd " + sh(dir) +
           " && find . -mindepth 1 -printf '%p %y %m\\n' | LC_ALL=C sort"
           " && find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2";
  }

  // Runs a shell script in a new mount namespace: its mounts vanish when it exits.
  CommandResult in_namespace(const std::string& script) {
    fs::path file = root() / fmt::format("script-{}.sh", scripts_++);
    EXPECT_TRUE(write_file(file, script).ok());
    return run("unshare -m --propagation private sh -e " + sh(file) + " 2>&1");
  }

  int scripts_ = 0;
};

TEST_F(OverlayTest, SnapshotOfAnUpperDirShowsTheSameFilesWhenMountedAgain) {
  fs::path base = make_dir("base");
  fs::create_directories(base / "a");
  fs::create_directories(base / "d" / "sub");
  put(base / "a/keep", "keep\n");
  put(base / "a/gone", "gone\n");
  put(base / "d/old", "old\n");
  put(base / "d/sub/deep", "deep\n");
  put(base / "top", "top\n");
  fs::path upper = make_dir("upper");
  fs::path work = make_dir("work");
  fs::path merged = make_dir("merged");

  CommandResult expected = in_namespace(fmt::format(
      "mount -t overlay overlay -o lowerdir={},upperdir={},workdir={},redirect_dir=off,"
      "metacopy=off {}\n"
      "rm {}/a/gone\nrm -r {}/d\nmkdir {}/d\necho new > {}/d/new\necho added > {}/added\n"
      "echo changed > {}/top\n{}",
      base.string(),
      upper.string(),
      work.string(),
      merged.string(),
      merged.string(),
      merged.string(),
      merged.string(),
      merged.string(),
      merged.string(),
      merged.string(),
      listing(merged)));
  ASSERT_EQ(expected.status, 0) << expected.output;
  ASSERT_NE(expected.output.find("./d/new f"), std::string::npos) << expected.output;
  ASSERT_EQ(expected.output.find("./a/gone"), std::string::npos) << expected.output;

  LayerInfo layer = write_upper(upper, LayerFormat::kZstd);
  for (const std::string& name : list_entries(blob(layer))) {
    EXPECT_EQ(name.find("|trusted.overlay."), std::string::npos) << name;
  }
  std::vector<std::string> names = list_entries(blob(layer));
  EXPECT_NE(std::find(names.begin(), names.end(), "a/.wh.gone"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "d/.wh..wh..opq"), names.end());

  fs::path lower = make_dir("layer-cache");
  unpack(layer, lower, UnpackOptions{.as_overlay_lower = true});
  fs::path again = make_dir("again");
  CommandResult actual =
      in_namespace(fmt::format("mount -t overlay overlay -o lowerdir={}:{} {}\n{}",
                               lower.string(),
                               base.string(),
                               again.string(),
                               listing(again)));
  ASSERT_EQ(actual.status, 0) << actual.output;
  EXPECT_EQ(actual.output, expected.output);

  // Flattening (merge mode): the base as a layer, then the snapshot, into one folder.
  fs::path flat = make_dir("flat");
  unpack(write_tree(base, LayerFormat::kZstd), flat);
  unpack(layer, flat);
  CommandResult flattened = run(listing(flat));
  EXPECT_EQ(flattened.output, expected.output);
}

// Hostile archives (tests/data/hostile/make_hostile.py): each is refused, the error naming the
// entry, and nothing appears or changes outside the target.
TEST_F(LayerTest, DevicesAreSkippedWhenNotAllowed) {
  if (!is_root()) {
    GTEST_SKIP() << "making a device node needs root";
  }
  fs::path source = make_dir("source");
  ASSERT_EQ(mknod((source / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  put(source / "file", "file\n");
  LayerInfo info = write_tree(source, LayerFormat::kZstd);
  fs::path target = make_dir("target");
  Result<UnpackStats> stats =
      unpack_layer(blob(info), info.media_type, target, UnpackOptions{.allow_devices = false});
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->skipped, 1u);
  EXPECT_EQ(stats->entries, 2u);
  EXPECT_FALSE(fs::exists(fs::symlink_status(target / "null")));
  EXPECT_TRUE(fs::exists(target / "file"));
}

TEST_F(LayerTest, OverlayXattrsInAnArchiveAreNeverApplied) {
  fs::path layer = root() / "layer.tar";
  {
    std::string bytes;
    Result<TarWriter> tar = TarWriter::open([&bytes](std::string_view data) {
      bytes.append(data);
      return ok_status();
    });
    ASSERT_TRUE(tar.ok());
    ArchiveEntry entry(archive_entry_new());
    archive_entry_copy_pathname(entry.get(), "dir");
    archive_entry_set_mode(entry.get(), S_IFDIR | 0755);
    archive_entry_xattr_add_entry(entry.get(), "trusted.overlay.opaque", "y", 1);
    archive_entry_xattr_add_entry(entry.get(), "user.overlay.redirect", "/etc", 4);
    archive_entry_xattr_add_entry(entry.get(), "user.kept", "1", 1);
    ASSERT_TRUE(tar->write_header(entry.get(), "dir").ok());
    ASSERT_TRUE(tar->close().ok());
    ASSERT_TRUE(write_file(layer, bytes).ok());
  }
  for (bool lower : {false, is_root()}) {
    fs::path target = make_dir(lower ? "lower" : "merged");
    ASSERT_TRUE(unpack_layer(layer, "", target, UnpackOptions{.as_overlay_lower = lower}).ok());
    char names[1024];
    ssize_t n = listxattr((target / "dir").c_str(), names, sizeof names);
    EXPECT_EQ(std::string(names, n > 0 ? n : 0), std::string("user.kept\0", 10));
  }
}

}  // namespace
}  // namespace kiln::store
