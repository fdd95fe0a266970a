// Sparse files through layers: unpacking leaves blocks of zeros as holes, whether the archive
// marks the file sparse (GNU and PAX sparse entries) or stores it plain, so a small layer never
// takes the logical size of its files on disk.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "kiln/base/unique_fd.hpp"
#include "kiln/store/layer.hpp"
#include "kiln/store/layer_testing.hpp"

namespace kiln::store {
namespace {

namespace fs = std::filesystem;
using namespace kiln::store::layer_testing;  // NOLINT: test helpers

constexpr off_t kMiB = off_t{1} << 20;
constexpr off_t kSparseSize = 256 * kMiB;

// Bytes the file takes on disk.
off_t allocated(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_blocks * 512;
}

// A file of kSparseSize bytes holding "head" at 0, "middle" at 100 MiB + 3 and "tail" at its
// very end, the rest a hole.
void make_sparse(const fs::path& path) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  ASSERT_TRUE(fd.valid());
  ASSERT_EQ(pwrite(fd.get(), "head", 4, 0), 4);
  ASSERT_EQ(pwrite(fd.get(), "middle", 6, 100 * kMiB + 3), 6);
  ASSERT_EQ(pwrite(fd.get(), "tail", 4, kSparseSize - 4), 4);
}

std::string read_at(const fs::path& path, off_t offset, size_t length) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string out(length, '\0');
  EXPECT_EQ(pread(fd.get(), out.data(), length, offset), static_cast<ssize_t>(length));
  return out;
}

void expect_sparse_copy(const fs::path& path) {
  struct stat st {};
  ASSERT_EQ(lstat(path.c_str(), &st), 0) << path;
  EXPECT_EQ(st.st_size, kSparseSize);
  EXPECT_EQ(read_at(path, 0, 4), "head");
  EXPECT_EQ(read_at(path, 100 * kMiB + 3, 6), "middle");
  EXPECT_EQ(read_at(path, kSparseSize - 4, 4), "tail");
  EXPECT_EQ(read_at(path, 50 * kMiB, 8), std::string(8, '\0'));
  EXPECT_LT(allocated(path), kMiB) << path << " takes its logical size on disk";
}

class LayerSparseTest : public LayerTest {};

TEST_F(LayerSparseTest, PlainEntryOfZerosUnpacksSparse) {
  fs::path source = make_dir("source");
  make_sparse(source / "disk.img");
  LayerInfo info = write_tree(source, LayerFormat::kZstd);
  EXPECT_LT(info.size, 1u << 20) << "the layer of a sparse file compresses";

  for (bool lower : {true, false}) {
    fs::path target = make_dir(lower ? "lower" : "merged");
    UnpackOptions options;
    options.as_overlay_lower = lower;
    unpack(info, target, options);
    expect_sparse_copy(target / "disk.img");
  }
}

TEST_F(LayerSparseTest, UpperWithSparseFileGivesSmallLayerAndSparseCache) {
  fs::path upper = make_dir("upper");
  make_sparse(upper / "big");
  LayerInfo info = write_upper(upper, LayerFormat::kZstd);
  EXPECT_LT(info.size, 1u << 20);
  fs::path cache = make_dir("cache");
  UnpackOptions options;
  options.as_overlay_lower = true;
  unpack(info, cache, options);
  expect_sparse_copy(cache / "big");
}

// GNU tar's own sparse formats: the old GNU one and PAX 1.0 (libarchive gives the data blocks at
// their offsets).
TEST_F(LayerSparseTest, GnuAndPaxSparseEntriesUnpackSparse) {
  fs::path source = make_dir("source");
  make_sparse(source / "disk.img");
  for (const char* format : {"gnu", "pax"}) {
    fs::path archive = root() / (std::string(format) + ".tar");
    CommandResult made = run("tar --sparse --format=" + std::string(format) + " -C " + sh(source) +
                             " -cf " + sh(archive) + " disk.img");
    ASSERT_EQ(made.status, 0) << format;
    EXPECT_LT(fs::file_size(archive), static_cast<uintmax_t>(kMiB)) << format;
    fs::path target = make_dir(std::string("target-") + format);
    Result<UnpackStats> stats = unpack_layer(archive, kMediaTypeLayerTar, target);
    ASSERT_TRUE(stats.ok()) << stats.error().message;
    expect_sparse_copy(target / "disk.img");
  }
}

// Zeros that do not fill an aligned block are written: the content is exact whatever the
// pattern, and a new file never shows what an earlier file of the same name held.
TEST_F(LayerSparseTest, ContentIsExactAroundUnalignedZeros) {
  std::string content;
  for (int i = 0; i < 64; ++i) {
    size_t zeros = static_cast<size_t>(i * 977 % 9000);
    content.append(zeros, '\0');
    content.append(static_cast<size_t>(1 + i * 131 % 700), static_cast<char>('a' + i % 26));
  }
  content.append(5000, '\0');  // ends in zeros: the size comes from ftruncate
  fs::path first = make_dir("first");
  put(first / "file", std::string(content.size(), '\xff'));
  fs::path second = make_dir("second");
  put(second / "file", content);
  LayerInfo a = write_tree(first, LayerFormat::kGzip);
  LayerInfo b = write_tree(second, LayerFormat::kGzip);
  fs::path target = make_dir("target");
  unpack(a, target);
  unpack(b, target);
  Result<std::string> got = read_file(target / "file");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == content) << "content differs after unpacking";
}

// A sparse file larger than any layer may unpack to (an instance's 8 GiB disk holds a 16 TiB
// one) is refused at once rather than hashed and compressed for hours.
TEST_F(LayerSparseTest, FileBeyondTheUnpackLimitIsRefusedAtOnce) {
  fs::path upper = make_dir("upper");
  {
    UniqueFd fd(open((upper / "huge").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(ftruncate(fd.get(), static_cast<off_t>(kDefaultMaxTotalBytes + 1)), 0);
  }
  auto w = writer();
  Result<LayerInfo> info = write_layer_from_upper(upper, LayerFormat::kZstd, *w);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(info.error().message.find("huge"), std::string::npos) << info.error().message;
}

}  // namespace
}  // namespace kiln::store
