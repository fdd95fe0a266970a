#include "kiln/base/file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kiln {
namespace {

namespace fs = std::filesystem;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("kiln-file-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
  }

  fs::path path(const std::string& name) const { return dir_->path() / name; }

  // Names in the test's directory, to check that no temporary file was left behind.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_->path())) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::optional<TempDir> dir_;
};

int mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return static_cast<int>(st.st_mode & 07777);
}

TEST_F(FileTest, WriteThenReadReturnsTheContent) {
  std::string content("line one\nline two\n\0binary", 26);
  ASSERT_TRUE(write_file(path("a.txt"), content).ok());
  Result<std::string> read = read_file(path("a.txt"));
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, content);
}

TEST_F(FileTest, WriteTruncatesAnExistingFile) {
  ASSERT_TRUE(write_file(path("a.txt"), "a long first version").ok());
  ASSERT_TRUE(write_file(path("a.txt"), "short").ok());
  EXPECT_EQ(read_file(path("a.txt")).value(), "short");
}

TEST_F(FileTest, WriteCreatesWithTheGivenMode) {
  mode_t old = ::umask(0);
  Status written = write_file(path("secret"), "x", 0600);
  ::umask(old);
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(mode_of(path("secret")), 0600);
}

TEST_F(FileTest, ReadsAnEmptyFile) {
  ASSERT_TRUE(write_file(path("empty"), "").ok());
  EXPECT_EQ(read_file(path("empty")).value(), "");
}

TEST_F(FileTest, ReadsAFileLargerThanOneBuffer) {
  std::string big(200000, 'x');
  big[123456] = 'y';
  ASSERT_TRUE(write_file(path("big"), big).ok());
  EXPECT_EQ(read_file(path("big")).value(), big);
}

TEST_F(FileTest, AppendCreatesThenAppends) {
  ASSERT_TRUE(append_file(path("log"), "one\n").ok());
  ASSERT_TRUE(append_file(path("log"), "two\n").ok());
  EXPECT_EQ(read_file(path("log")).value(), "one\ntwo\n");
}

TEST_F(FileTest, ReadOfAMissingFileIsNotFoundAndNamesThePath) {
  Result<std::string> read = read_file(path("missing.txt"));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, ErrorCode::kNotFound);
  EXPECT_NE(read.error().message.find(path("missing.txt").string()), std::string::npos)
      << read.error().message;
  EXPECT_NE(read.error().message.find("No such file or directory"), std::string::npos)
      << read.error().message;
}

TEST_F(FileTest, WriteIntoAMissingFolderNamesThePath) {
  fs::path target = path("no/such/folder/file.txt");
  Status written = write_file(target, "x");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, ErrorCode::kNotFound);
  EXPECT_NE(written.error().message.find(target.string()), std::string::npos)
      << written.error().message;
}

TEST_F(FileTest, AppendToAFolderFailsAndNamesThePath) {
  fs::create_directory(path("folder"));
  Status appended = append_file(path("folder"), "x");
  ASSERT_FALSE(appended.ok());
  EXPECT_NE(appended.error().message.find(path("folder").string()), std::string::npos)
      << appended.error().message;
}

TEST_F(FileTest, TempDirIsRemovedWithItsContent) {
  fs::path made;
  {
    Result<TempDir> dir = TempDir::create("inner-", dir_->path());
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    made = dir->path();
    EXPECT_EQ(made.parent_path(), dir_->path());
    EXPECT_EQ(made.filename().string().rfind("inner-", 0), 0u) << made;
    fs::create_directories(made / "a" / "b");
    ASSERT_TRUE(write_file(made / "a" / "b" / "f", "x").ok());
    EXPECT_TRUE(fs::is_directory(made));
  }
  EXPECT_FALSE(fs::exists(made));
}

TEST_F(FileTest, TempDirKeptSurvives) {
  fs::path made;
  {
    Result<TempDir> dir = TempDir::create("kept-", dir_->path());
    ASSERT_TRUE(dir.ok());
    made = dir->path();
    dir->keep();
  }
  EXPECT_TRUE(fs::is_directory(made));
}

TEST_F(FileTest, TempDirsAreDistinct) {
  Result<TempDir> a = TempDir::create("same-", dir_->path());
  Result<TempDir> b = TempDir::create("same-", dir_->path());
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->path(), b->path());
}

TEST_F(FileTest, MovedTempDirIsRemovedOnceByItsNewOwner) {
  fs::path made;
  {
    Result<TempDir> dir = TempDir::create("moved-", dir_->path());
    ASSERT_TRUE(dir.ok());
    made = dir->path();
    TempDir owner = std::move(dir).value();
    {
      TempDir moved_again(std::move(owner));
      EXPECT_EQ(moved_again.path(), made);
      EXPECT_TRUE(owner.path().empty());  // NOLINT(bugprone-use-after-move): checking the state
    }
    EXPECT_FALSE(fs::exists(made));
  }
}

TEST_F(FileTest, TempDirMoveAssignmentRemovesTheOldDirectory) {
  Result<TempDir> a = TempDir::create("a-", dir_->path());
  Result<TempDir> b = TempDir::create("b-", dir_->path());
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  fs::path old_a = a->path();
  fs::path old_b = b->path();
  TempDir owner = std::move(a).value();
  owner = std::move(b).value();
  EXPECT_FALSE(fs::exists(old_a));
  EXPECT_TRUE(fs::exists(old_b));
  EXPECT_EQ(owner.path(), old_b);
}

TEST_F(FileTest, TempDirInAMissingParentFailsAndNamesIt) {
  Result<TempDir> dir = TempDir::create("x-", path("missing"));
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, ErrorCode::kNotFound);
  EXPECT_NE(dir.error().message.find(path("missing").string()), std::string::npos)
      << dir.error().message;
}

TEST_F(FileTest, AtomicFileCommitReplacesTheTarget) {
  ASSERT_TRUE(write_file(path("target"), "old").ok());
  {
    Result<AtomicFile> file = AtomicFile::open(path("target"));
    ASSERT_TRUE(file.ok()) << file.error().message;
    ASSERT_TRUE(file->write("new ").ok());
    ASSERT_TRUE(file->write("content").ok());
    // Until commit the target keeps its old content.
    EXPECT_EQ(read_file(path("target")).value(), "old");
    ASSERT_TRUE(file->commit().ok());
  }
  EXPECT_EQ(read_file(path("target")).value(), "new content");
  EXPECT_EQ(entries(), std::vector<std::string>{"target"});
}

TEST_F(FileTest, AtomicFileCommitCreatesANewFileWithTheMode) {
  Result<AtomicFile> file = AtomicFile::open(path("fresh"), 0640);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(file->write("x").ok());
  ASSERT_TRUE(file->commit().ok());
  EXPECT_EQ(read_file(path("fresh")).value(), "x");
  EXPECT_EQ(mode_of(path("fresh")), 0640);
}

TEST_F(FileTest, AtomicFileDiscardLeavesTheOldFileAndNoTemporary) {
  ASSERT_TRUE(write_file(path("target"), "old").ok());
  {
    Result<AtomicFile> file = AtomicFile::open(path("target"));
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file->write("never committed").ok());
    EXPECT_EQ(entries().size(), 2u);  // the target and the temporary beside it
  }
  EXPECT_EQ(read_file(path("target")).value(), "old");
  EXPECT_EQ(entries(), std::vector<std::string>{"target"});
}

TEST_F(FileTest, AtomicFileDiscardOfANewFileCreatesNothing) {
  {
    Result<AtomicFile> file = AtomicFile::open(path("never"));
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file->write("x").ok());
  }
  EXPECT_TRUE(entries().empty());
}

TEST_F(FileTest, MovedAtomicFileCommitsOnce) {
  Result<AtomicFile> file = AtomicFile::open(path("target"));
  ASSERT_TRUE(file.ok());
  AtomicFile moved(std::move(file).value());
  ASSERT_TRUE(moved.write("moved").ok());
  ASSERT_TRUE(moved.commit().ok());
  EXPECT_EQ(read_file(path("target")).value(), "moved");
  EXPECT_EQ(entries(), std::vector<std::string>{"target"});
}

TEST_F(FileTest, AtomicFileInAMissingFolderNamesTheTarget) {
  fs::path target = path("missing/target");
  Result<AtomicFile> file = AtomicFile::open(target);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, ErrorCode::kNotFound);
  EXPECT_NE(file.error().message.find(target.string()), std::string::npos) << file.error().message;
}

TEST_F(FileTest, AtomicFileCommitOverAFolderFailsNamesBothAndKeepsTheFolder) {
  fs::create_directories(path("dir/inside"));
  Result<AtomicFile> file = AtomicFile::open(path("dir"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(file->write("x").ok());
  Status committed = file->commit();
  ASSERT_FALSE(committed.ok());
  EXPECT_NE(committed.error().message.find(path("dir").string()), std::string::npos)
      << committed.error().message;
  EXPECT_TRUE(fs::is_directory(path("dir/inside")));
  EXPECT_EQ(entries(), std::vector<std::string>{"dir"});  // the temporary was removed
}

TEST_F(FileTest, WriteFileAtomicReplaces) {
  ASSERT_TRUE(write_file(path("f"), "old").ok());
  ASSERT_TRUE(write_file_atomic(path("f"), "new").ok());
  EXPECT_EQ(read_file(path("f")).value(), "new");
  EXPECT_EQ(entries(), std::vector<std::string>{"f"});
}

}  // namespace
}  // namespace kiln
