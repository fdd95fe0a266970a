#include "kiln/base/beneath.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "kiln/base/file.hpp"

namespace kiln {
namespace {

namespace fs = std::filesystem;

// Each case runs against openat2 and against the portable walk of older kernels.
class BeneathTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("kiln-beneath-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
    // The folder an instance writes into, and a host file outside it.
    fs::create_directories(inside());
    ASSERT_TRUE(write_file(victim(), "host secret\n").ok());
    Result<UniqueFd> fd = open_directory(inside());
    ASSERT_TRUE(fd.ok()) << fd.error().message;
    fd_ = std::move(fd).value();
  }

  fs::path inside() const { return dir_->path() / "exchange"; }
  fs::path victim() const { return dir_->path() / "victim"; }

  Result<UniqueFd> open(const fs::path& relative, int flags = O_RDONLY) {
    return GetParam() ? open_beneath(fd_.get(), relative, flags)
                      : detail::open_beneath_portable(fd_.get(), relative, flags);
  }

  std::optional<TempDir> dir_;
  UniqueFd fd_;
};

TEST_P(BeneathTest, OpensAPlainFileInASubfolder) {
  fs::create_directories(inside() / "a" / "b");
  ASSERT_TRUE(write_file(inside() / "a" / "b" / "f.txt", "hello").ok());
  Result<UniqueFd> fd = open("a/b/f.txt");
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  char buffer[16] = {};
  EXPECT_EQ(::read(fd->get(), buffer, sizeof buffer), 5);
  EXPECT_EQ(std::string(buffer), "hello");
}

TEST_P(BeneathTest, RefusesASymlinkAtTheLeaf) {
  fs::create_symlink(victim(), inside() / "build.log");
  Result<UniqueFd> fd = open("build.log");
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().code, ErrorCode::kPermissionDenied) << fd.error().message;
  // Even to write: nothing reaches the host file.
  Result<UniqueFd> w = open("build.log", O_WRONLY | O_APPEND);
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(read_file(victim()).value(), "host secret\n");
}

TEST_P(BeneathTest, RefusesASymlinkInAMiddleComponent) {
  fs::create_directories(dir_->path() / "elsewhere");
  ASSERT_TRUE(write_file(dir_->path() / "elsewhere" / "detailedoutput.json", "{}").ok());
  fs::create_symlink(dir_->path() / "elsewhere", inside() / "TOE_1");
  Result<UniqueFd> fd = open("TOE_1/detailedoutput.json");
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().code, ErrorCode::kPermissionDenied) << fd.error().message;
  // A relative link that stays inside is refused too: no link is followed at all.
  fs::create_directories(inside() / "real");
  ASSERT_TRUE(write_file(inside() / "real" / "f", "x").ok());
  fs::create_symlink("real", inside() / "alias");
  EXPECT_FALSE(open("alias/f").ok());
}

TEST_P(BeneathTest, RefusesDotDotAndAbsolutePaths) {
  for (const char* path : {"../victim", "a/../../victim", "..", "/etc/passwd", "a//b", "./x", ""}) {
    Result<UniqueFd> fd = open(path);
    EXPECT_FALSE(fd.ok()) << path;
  }
}

TEST_P(BeneathTest, AFifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((inside() / "console.log").c_str(), 0644), 0);
  auto begun = std::chrono::steady_clock::now();
  Result<std::string> text = read_file_beneath(fd_.get(), "console.log", 1024);
  EXPECT_FALSE(text.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - begun, std::chrono::seconds(2));
}

TEST_P(BeneathTest, AHugeFileIsRefusedOrCut) {
  // Sparse: 4 GiB of size, no blocks.
  {
    UniqueFd fd(::open((inside() / "huge").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::ftruncate(fd.get(), off_t{4} << 30), 0);
  }
  Result<std::string> text = read_file_beneath(fd_.get(), "huge", 1 << 20);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kInvalidArgument);

  CopyOutLimits limits;
  limits.max_file_bytes = 1 << 20;
  fs::path out = dir_->path() / "copy";
  Result<CopyOutReport> report = copy_out_beneath(fd_.get(), "huge/..", out, limits);
  EXPECT_FALSE(report.ok());  // not a plain relative path
  fs::create_directories(inside() / "TOE_1");
  fs::rename(inside() / "huge", inside() / "TOE_1" / "huge");
  report = copy_out_beneath(fd_.get(), "TOE_1", out, limits);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(fs::file_size(out / "huge"), uint64_t{1} << 20);
  ASSERT_EQ(report->skipped.size(), 1u);
  EXPECT_NE(report->skipped[0].find("cut at"), std::string::npos) << report->skipped[0];
}

TEST_P(BeneathTest, CopyOutCopiesFilesAndFoldersAndSkipsLinksAndFifos) {
  fs::path toe = inside() / "build" / "TOE_2026";
  fs::create_directories(toe / "sub");
  ASSERT_TRUE(write_file(toe / "detailedoutput.json", R"({"documents": []})").ok());
  ASSERT_TRUE(write_file(toe / "sub" / "note.txt", "deep").ok());
  fs::create_symlink(victim(), toe / "console.log");
  fs::create_symlink(dir_->path(), toe / "escape");
  ASSERT_EQ(::mkfifo((toe / "application.log").c_str(), 0644), 0);
  // A hard link of a file inside is just a file: copying it is fine.
  fs::create_hard_link(toe / "detailedoutput.json", toe / "chaining.json");

  fs::path out = dir_->path() / "logs" / "build";
  // What the host already had under those names is replaced, not written through.
  fs::create_directories(out / "TOE_2026");
  fs::create_symlink(victim(), out / "TOE_2026" / "detailedoutput.json");
  Result<CopyOutReport> report = copy_out_beneath(fd_.get(), "build", out);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->files, 3u);
  EXPECT_EQ(read_file(out / "TOE_2026" / "chaining.json").value(), R"({"documents": []})");
  EXPECT_EQ(read_file(out / "TOE_2026" / "sub" / "note.txt").value(), "deep");
  EXPECT_FALSE(fs::exists(fs::symlink_status(out / "TOE_2026" / "console.log")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(out / "TOE_2026" / "escape")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(out / "TOE_2026" / "application.log")));
  EXPECT_EQ(report->skipped.size(), 3u);
  EXPECT_EQ(read_file(victim()).value(), "host secret\n");
  // The link found in the destination was replaced, not followed.
  EXPECT_FALSE(fs::is_symlink(out / "TOE_2026" / "detailedoutput.json"));
  EXPECT_EQ(read_file(out / "TOE_2026" / "detailedoutput.json").value(), R"({"documents": []})");
}

TEST_P(BeneathTest, CopyOutOfALinkedFolderIsRefused) {
  fs::create_symlink(dir_->path(), inside() / "build");
  Result<CopyOutReport> report = copy_out_beneath(fd_.get(), "build", dir_->path() / "out");
  EXPECT_FALSE(report.ok());
}

TEST_P(BeneathTest, MakeDirectoriesRefusesALinkOnTheWay) {
  Result<UniqueFd> made = make_directories_beneath(fd_.get(), "name/1.0.0/1");
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_TRUE(fs::is_directory(inside() / "name" / "1.0.0" / "1"));
  fs::create_symlink(dir_->path(), inside() / "other");
  made = make_directories_beneath(fd_.get(), "other/x");
  EXPECT_FALSE(made.ok());
  EXPECT_FALSE(fs::exists(dir_->path() / "x"));
  EXPECT_FALSE(make_directories_beneath(fd_.get(), "a/../b").ok());
}

TEST_P(BeneathTest, RemoveNeverFollowsALink) {
  fs::create_directories(dir_->path() / "keep");
  ASSERT_TRUE(write_file(dir_->path() / "keep" / "precious", "x").ok());
  fs::create_directories(inside() / "tmp" / "d");
  fs::create_symlink(dir_->path() / "keep", inside() / "tmp" / "d" / "link");
  fs::create_symlink(dir_->path() / "keep", inside() / "tmplink");
  ASSERT_TRUE(remove_beneath(fd_.get(), "tmp").ok());
  ASSERT_TRUE(remove_beneath(fd_.get(), "tmplink").ok());
  ASSERT_TRUE(remove_beneath(fd_.get(), "missing").ok());
  EXPECT_FALSE(fs::exists(inside() / "tmp"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(inside() / "tmplink")));
  EXPECT_TRUE(fs::exists(dir_->path() / "keep" / "precious"));
  EXPECT_FALSE(remove_beneath(fd_.get(), "..").ok());
}

INSTANTIATE_TEST_SUITE_P(Openat2AndPortable,
                         BeneathTest,
                         ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "openat2" : "portable";
                         });

}  // namespace
}  // namespace kiln
