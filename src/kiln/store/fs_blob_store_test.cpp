#include "kiln/store/fs_blob_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/store/filesystem.hpp"
#include "kiln/store/image_store.hpp"

namespace kiln::store {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

ino_t inode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

class FsBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("kiln-blob-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
    store_.emplace(real_, dir_->path());
    ASSERT_TRUE(store_->create().ok());
  }

  std::vector<std::string> temp_files() const { return names_in(store_->temp_dir()); }
  std::vector<std::string> blob_files() const { return names_in(store_->blob_dir()); }

  RealFilesystem real_;
  std::optional<TempDir> dir_;
  std::optional<FsBlobStore> store_;
};

TEST_F(FsBlobStoreTest, CreateMakesTheFolders) {
  EXPECT_TRUE(fs::is_directory(dir_->path() / "blobs" / "sha256"));
  EXPECT_TRUE(fs::is_directory(dir_->path() / "tmp"));
}

TEST_F(FsBlobStoreTest, PutThenReadReturnsTheContent) {
  Result<Digest> digest = store_->put("hello");
  ASSERT_TRUE(digest.ok()) << digest.error().message;
  EXPECT_EQ(*digest, Digest::of("hello"));
  EXPECT_TRUE(store_->has(*digest));
  EXPECT_EQ(store_->path(*digest), dir_->path() / "blobs" / "sha256" / digest->hex());
  EXPECT_EQ(read_file(store_->path(*digest)).value(), "hello");
  EXPECT_EQ(store_->read(*digest).value(), "hello");
  EXPECT_EQ(store_->check(*digest).value(), 5u);
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(FsBlobStoreTest, WriterCommitsUnderTheExpectedDigest) {
  std::unique_ptr<BlobWriter> writer = store_->writer().value();
  ASSERT_TRUE(writer->write("hel").ok());
  ASSERT_TRUE(writer->write("lo").ok());
  Result<std::pair<Digest, uint64_t>> committed = writer->commit(Digest::of("hello"));
  ASSERT_TRUE(committed.ok()) << committed.error().message;
  EXPECT_EQ(committed->first, Digest::of("hello"));
  EXPECT_EQ(committed->second, 5u);
  EXPECT_EQ(store_->read(Digest::of("hello")).value(), "hello");
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(FsBlobStoreTest, WriterWithoutExpectedDigestNamesTheBlobByItsContent) {
  std::unique_ptr<BlobWriter> writer = store_->writer().value();
  ASSERT_TRUE(writer->write("content").ok());
  Result<std::pair<Digest, uint64_t>> committed = writer->commit();
  ASSERT_TRUE(committed.ok()) << committed.error().message;
  EXPECT_EQ(committed->first, Digest::of("content"));
}

TEST_F(FsBlobStoreTest, DigestMismatchIsRefusedAndLeavesNothing) {
  std::unique_ptr<BlobWriter> writer = store_->writer().value();
  ASSERT_TRUE(writer->write("tampered").ok());
  Result<std::pair<Digest, uint64_t>> committed = writer->commit(Digest::of("original"));
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.error().code, ErrorCode::kCorruption);
  EXPECT_NE(committed.error().message.find(Digest::of("original").str()), std::string::npos);
  EXPECT_TRUE(temp_files().empty());
  EXPECT_TRUE(blob_files().empty());
  EXPECT_FALSE(store_->has(Digest::of("original")));
  EXPECT_FALSE(store_->has(Digest::of("tampered")));
}

TEST_F(FsBlobStoreTest, AbandonedWriterLeavesNothing) {
  {
    std::unique_ptr<BlobWriter> writer = store_->writer().value();
    ASSERT_TRUE(writer->write("half").ok());
    EXPECT_EQ(temp_files().size(), 1u);
  }
  EXPECT_TRUE(temp_files().empty());
  EXPECT_TRUE(blob_files().empty());
}

TEST_F(FsBlobStoreTest, CommittingTwiceIsAnError) {
  std::unique_ptr<BlobWriter> writer = store_->writer().value();
  ASSERT_TRUE(writer->write("x").ok());
  ASSERT_TRUE(writer->commit().ok());
  EXPECT_FALSE(writer->commit().ok());
  EXPECT_FALSE(writer->write("more").ok());
}

TEST_F(FsBlobStoreTest, ExistingBlobIsNotWrittenAgainByPut) {
  Digest digest = store_->put("same").value();
  ino_t before = inode_of(store_->path(digest));
  FaultyFilesystem counting(real_);
  FsBlobStore again(counting, dir_->path());
  ASSERT_EQ(again.put("same").value(), digest);
  EXPECT_EQ(counting.count(), 0u) << "no file was created, written or renamed";
  EXPECT_EQ(inode_of(store_->path(digest)), before);
}

TEST_F(FsBlobStoreTest, ExistingBlobIsNotReplacedByAWriter) {
  Digest digest = store_->put("same").value();
  ino_t before = inode_of(store_->path(digest));
  std::unique_ptr<BlobWriter> writer = store_->writer().value();
  ASSERT_TRUE(writer->write("same").ok());
  Result<std::pair<Digest, uint64_t>> committed = writer->commit(digest);
  ASSERT_TRUE(committed.ok()) << committed.error().message;
  EXPECT_EQ(inode_of(store_->path(digest)), before);
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(FsBlobStoreTest, ReadAndCheckDetectACorruptBlob) {
  Digest digest = store_->put("pristine").value();
  ASSERT_TRUE(write_file(store_->path(digest), "bitrot!!").ok());
  Result<std::string> read = store_->read(digest);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, ErrorCode::kCorruption);
  Result<uint64_t> checked = store_->check(digest);
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().code, ErrorCode::kCorruption);
}

TEST_F(FsBlobStoreTest, MissingBlobIsNotFound) {
  EXPECT_FALSE(store_->has(Digest::of("nothing")));
  EXPECT_EQ(store_->read(Digest::of("nothing")).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->check(Digest::of("nothing")).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->remove(Digest::of("nothing")).error().code, ErrorCode::kNotFound);
}

TEST_F(FsBlobStoreTest, CheckHashesALargeBlob) {
  std::string big(5 << 20, 'z');
  Digest digest = store_->put(big).value();
  EXPECT_EQ(store_->check(digest).value(), big.size());
}

TEST_F(FsBlobStoreTest, ListsBlobsAndSkipsStrayFiles) {
  Digest a = store_->put("a").value();
  Digest b = store_->put("b").value();
  ASSERT_TRUE(write_file(store_->blob_dir() / "stray", "x").ok());
  std::vector<Digest> listed = store_->list().value();
  std::sort(listed.begin(), listed.end());
  std::vector<Digest> expected = {a, b};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(listed, expected);
}

TEST_F(FsBlobStoreTest, RemoveDeletesTheBlob) {
  Digest digest = store_->put("gone").value();
  ASSERT_TRUE(store_->remove(digest).ok());
  EXPECT_FALSE(store_->has(digest));
}

// Every step of a blob write failing leaves either no blob or the whole blob, never a blob
// whose content does not match its name; failing once also leaves no temporary file.
TEST_F(FsBlobStoreTest, AFaultAtAnyStepLeavesNoBrokenBlob) {
  const std::string content(100000, 'q');
  FaultyFilesystem counting(real_);
  ASSERT_TRUE(FsBlobStore(counting, dir_->path() / "count").create().ok());
  ASSERT_TRUE(FsBlobStore(counting, dir_->path() / "count").put(content).ok());
  const uint64_t steps = counting.count();
  ASSERT_GE(steps, 5u);
  for (auto mode : {FaultyFilesystem::Mode::kFailOnce, FaultyFilesystem::Mode::kCrash}) {
    for (uint64_t n = 1; n <= steps; ++n) {
      fs::path root = dir_->path() / fmt::format("run-{}-{}", static_cast<int>(mode), n);
      FaultyFilesystem faulty(real_, n, mode);
      FsBlobStore store(faulty, root);
      Status created = store.create();
      Result<Digest> put = created.ok() ? store.put(content) : created.error();
      EXPECT_FALSE(put.ok()) << "step " << n << " failed silently";
      FsBlobStore reader(real_, root);
      for (const Digest& digest : reader.list().value_or(std::vector<Digest>{})) {
        EXPECT_TRUE(reader.check(digest).ok()) << "step " << n;
      }
      if (mode == FaultyFilesystem::Mode::kFailOnce && fs::exists(reader.temp_dir())) {
        EXPECT_TRUE(names_in(reader.temp_dir()).empty()) << "step " << n;
      }
    }
  }
}

// --- a whole image write under faults ---------------------------------------------------------

ImageRecord record_for(const std::string& name,
                       std::string_view layer,
                       std::optional<Digest> parent) {
  ImageRecord record;
  record.name = name;
  record.version = catalog::SemanticVersion{1, 0, 0};
  record.parent = std::move(parent);
  Descriptor d;
  d.media_type = std::string(media_type::kLayerTar);
  d.digest = Digest::of(layer);
  d.size = layer.size();
  record.layers = {d};
  record.diff_ids = {d.digest};
  record.created_by = {"test " + name};
  return record;
}

// Writes one image as a build does: its layer through a BlobWriter, then add_image.
Status write_image(Filesystem& fs,
                   const Clock& clock,
                   const fs::path& dir,
                   const std::string& name,
                   std::string_view layer,
                   std::optional<Digest> parent) {
  std::unique_ptr<ImageStore> store = KILN_TRY(ImageStore::open(fs, clock, dir));
  std::unique_ptr<BlobWriter> writer = KILN_TRY(store->blobs().writer());
  KILN_TRY(writer->write(layer.substr(0, layer.size() / 2)));
  KILN_TRY(writer->write(layer.substr(layer.size() / 2)));
  KILN_TRY(writer->commit(Digest::of(layer)));
  KILN_TRY(store->add_image(record_for(name, layer, std::move(parent))));
  return ok_status();
}

std::vector<std::string> image_names(const std::vector<ImageVersion>& images) {
  std::vector<std::string> out;
  for (const ImageVersion& image : images) {
    out.push_back(image.str());
  }
  return out;
}

class ImageWriteFaultTest : public FsBlobStoreTest {
 protected:
  // A store holding base/1.0.0/1; returns the base's manifest digest.
  Digest seed(const fs::path& dir) {
    Status written = write_image(real_, clock_, dir, "base", std::string(70000, 'b'), {});
    EXPECT_TRUE(written.ok()) << written.error().message;
    std::unique_ptr<ImageStore> store = ImageStore::open(real_, clock_, dir).value();
    return store->resolve("base/1.0.0/1").value().manifest.digest;
  }

  SystemClock clock_;
};

TEST_F(ImageWriteFaultTest, AFaultAtAnyStepLeavesTheOldOrTheNewIndexAndVerifyClean) {
  const std::string layer(50000, 'c');
  fs::path count_dir = dir_->path() / "count";
  Digest parent = seed(count_dir);
  FaultyFilesystem counting(real_);
  ASSERT_TRUE(write_image(counting, clock_, count_dir, "child", layer, parent).ok());
  const uint64_t steps = counting.count();
  ASSERT_GE(steps, 12u) << "layer, config, manifest and index writes";

  // Each run starts from a copy of one seeded store (copying is quicker than writing it again).
  fs::path seed_dir = dir_->path() / "seed";
  Digest base = seed(seed_dir);
  const std::vector<std::string> old_images = {"base/1.0.0/1"};
  const std::vector<std::string> new_images = {"base/1.0.0/1", "child/1.0.0/1"};
  for (auto mode : {FaultyFilesystem::Mode::kFailOnce, FaultyFilesystem::Mode::kCrash}) {
    for (uint64_t n = 1; n <= steps; ++n) {
      SCOPED_TRACE(fmt::format("mode {} step {} of {}", static_cast<int>(mode), n, steps));
      fs::path dir = dir_->path() / fmt::format("run-{}-{}", static_cast<int>(mode), n);
      fs::copy(seed_dir, dir, fs::copy_options::recursive);
      FaultyFilesystem faulty(real_, n, mode);
      Status written = write_image(faulty, clock_, dir, "child", layer, base);
      EXPECT_FALSE(written.ok()) << "the fault was not reported";
      ASSERT_TRUE(faulty.failed());

      std::unique_ptr<ImageStore> store = ImageStore::open(real_, clock_, dir).value();
      VerifyReport report = store->verify().value();
      EXPECT_TRUE(report.ok()) << join(report.problems, "\n");
      std::vector<std::string> images = image_names(store->list().value());
      EXPECT_TRUE(images == old_images || images == new_images) << join(images, ", ");
      if (images == new_images) {
        EXPECT_EQ(n, steps) << "only the final folder sync comes after the index rename";
      }
      // gc cleans up whatever the fault left, and the store stays sound.
      ASSERT_TRUE(store->gc(GcOptions{std::chrono::seconds(0)}).ok());
      EXPECT_TRUE(names_in(dir / "tmp").empty());
      EXPECT_TRUE(store->verify().value().ok());
      EXPECT_EQ(image_names(store->list().value()), images);
    }
  }
}

TEST(FaultyFilesystem, RecordsOperationsAndFailsTheNth) {
  RealFilesystem real;
  TempDir dir = TempDir::create("kiln-faulty-").value();
  FaultyFilesystem faulty(real, 3);
  std::unique_ptr<WritableFile> file = faulty.create_temp(dir.path(), "f.").value();  // 1
  EXPECT_TRUE(file->write("a").ok());                                                 // 2
  Status sync = file->sync();                                                         // 3
  ASSERT_FALSE(sync.ok());
  EXPECT_EQ(sync.error().code, ErrorCode::kIo);
  EXPECT_TRUE(faulty.failed());
  EXPECT_TRUE(file->write("b").ok()) << "fail-once mode fails only the Nth";
  std::vector<std::string> ops = faulty.operations();
  ASSERT_EQ(ops.size(), 4u);
  EXPECT_TRUE(ops[0].starts_with("create "));
  EXPECT_TRUE(ops[1].starts_with("write "));
  EXPECT_TRUE(ops[2].starts_with("sync "));
}

TEST(FaultyFilesystem, CrashModeFailsEverythingAfterTheNth) {
  RealFilesystem real;
  TempDir dir = TempDir::create("kiln-faulty-").value();
  FaultyFilesystem faulty(real, 2, FaultyFilesystem::Mode::kCrash);
  std::unique_ptr<WritableFile> file = faulty.create_temp(dir.path(), "f.").value();
  EXPECT_FALSE(file->write("a").ok());
  EXPECT_FALSE(file->sync().ok());
  EXPECT_FALSE(faulty.remove(file->path()).ok());
  EXPECT_TRUE(faulty.stat(file->path()).ok()) << "reads still work";
}

TEST(ReplaceFile, ReplacesAtomicallyAndLeavesNoTemporaryFile) {
  RealFilesystem real;
  TempDir dir = TempDir::create("kiln-replace-").value();
  fs::path target = dir.path() / "index.json";
  ASSERT_TRUE(write_file(target, "old").ok());
  ASSERT_TRUE(replace_file(real, dir.path(), target, "new").ok());
  EXPECT_EQ(read_file(target).value(), "new");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"index.json"});
  FaultyFilesystem failing_rename(real, 4);  // create, write, sync, rename
  ASSERT_FALSE(replace_file(failing_rename, dir.path(), target, "newer").ok());
  EXPECT_EQ(read_file(target).value(), "new");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"index.json"});
}

}  // namespace
}  // namespace kiln::store
