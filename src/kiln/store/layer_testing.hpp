#pragma once

// Helpers of the layer tests (layer_test.cpp, layer_untrusted_test.cpp): trees with one of
// everything, their descriptions for comparison, archives built by hand, shell commands, and a
// fixture with a temporary folder and a blob store in it.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/file.hpp"
#include "kiln/store/filesystem.hpp"
#include "kiln/store/fs_blob_store.hpp"
#include "kiln/store/layer.hpp"

namespace kiln::store::layer_testing {

// The mtime of the first path of make_tree; the next ones count up by a second each.
inline constexpr time_t kEpoch = 1700000000;

bool is_root();

struct CommandResult {
  int status = -1;
  std::string output;
};

// Runs `command` with sh and returns its exit status and standard output.
CommandResult run(const std::string& command);

// Single-quoted for sh (test paths hold no quotes).
std::string sh(const std::filesystem::path& path);

std::string first_word(const std::string& text);

// Writes `content` to `path` with exactly `mode`.
void put(const std::filesystem::path& path, std::string_view content, mode_t mode = 0644);

// Every path below `dir`, sorted, not following symlinks.
std::vector<std::filesystem::path> walk(const std::filesystem::path& dir);

// A root filesystem with one of everything a layer carries (as root also owners, a set-uid file,
// a device and security.capability); mtimes are fixed, so two calls make trees that must give
// the same layer.
void make_tree(const std::filesystem::path& dir);

// A description of every path below `dir` (relative path -> type, mode, owner, mtime, size,
// content digest, link target, device, hardlink group, xattrs), to compare two trees.
std::map<std::string, std::string> describe(const std::filesystem::path& dir);

// The differences between the descriptions of two trees, one line per path; empty when equal.
std::string tree_diff(const std::filesystem::path& actual_dir,
                      const std::filesystem::path& expected_dir);

// The names, in order, of the entries of an archive, each followed by "|<xattr name>" per xattr.
std::vector<std::string> list_entries(const std::filesystem::path& archive_path);

// An entry of a tar file a test builds by hand.
struct TestEntry {
  std::string name;
  mode_t mode;  // type and permission bits
  std::string content;
};

// Writes `entries` as an uncompressed tar, names verbatim.
void write_tar(const std::filesystem::path& path, const std::vector<TestEntry>& entries);

class LayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("kiln-layer-test-");
    ASSERT_TRUE(dir.ok());
    tmp_ = std::make_unique<TempDir>(std::move(dir).value());
    blobs_ = std::make_unique<FsBlobStore>(filesystem_, tmp_->path() / "store");
    ASSERT_TRUE(blobs_->create().ok());
  }

  std::filesystem::path root() const { return tmp_->path(); }

  std::filesystem::path make_dir(const std::string& name) {
    std::filesystem::path dir = root() / name;
    std::filesystem::create_directories(dir);
    return dir;
  }

  std::unique_ptr<BlobWriter> writer() {
    Result<std::unique_ptr<BlobWriter>> w = blobs_->writer();
    EXPECT_TRUE(w.ok());
    return std::move(w).value();
  }

  LayerInfo write_tree(const std::filesystem::path& dir, LayerFormat format) {
    auto w = writer();
    Result<LayerInfo> info = write_layer_from_tree(dir, format, *w);
    EXPECT_TRUE(info.ok()) << info.error().message;
    return info.ok() ? *info : LayerInfo{};
  }

  LayerInfo write_upper(const std::filesystem::path& dir, LayerFormat format) {
    auto w = writer();
    Result<LayerInfo> info = write_layer_from_upper(dir, format, *w);
    EXPECT_TRUE(info.ok()) << info.error().message;
    return info.ok() ? *info : LayerInfo{};
  }

  void unpack(const LayerInfo& info,
              const std::filesystem::path& target,
              const UnpackOptions& options = {}) {
    Result<UnpackStats> stats = unpack_layer(blob(info), info.media_type, target, options);
    ASSERT_TRUE(stats.ok()) << stats.error().message;
  }

  std::filesystem::path blob(const LayerInfo& info) const { return blobs_->path(info.digest); }

  RealFilesystem filesystem_;
  std::unique_ptr<TempDir> tmp_;
  std::unique_ptr<FsBlobStore> blobs_;
};

}  // namespace kiln::store::layer_testing
