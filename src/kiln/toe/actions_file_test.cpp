#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "kiln/base/file.hpp"
#include "kiln/toe/actions.hpp"

namespace kiln::toe::actions {
namespace {

namespace fs = std::filesystem;
using Kind = ActionOutcome::Kind;

class FakeOutput : public StepOutput {
 public:
  void process_output(os::OutputStream, std::string_view) override {}
  void info(std::string_view line) override { lines.emplace_back(line); }
  void debug(std::string_view) override {}

  std::string all() const {
    std::string out;
    for (const std::string& line : lines) {
      out += line + "\n";
    }
    return out;
  }
  std::vector<std::string> lines;
};

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) {
    out.push_back(static_cast<char>(v));
  }
  return out;
}

Json list(std::initializer_list<Json> items) {
  Json out = Json::array();
  for (const Json& item : items) {
    out.push_back(item);
  }
  return out;
}

bool is_root() {
  return ::geteuid() == 0;
}

class FileActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("kiln-actions-file-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
    old_umask_ = ::umask(022);
  }
  void TearDown() override { ::umask(old_umask_); }

  std::string path(std::string_view name) const { return (dir_->path() / name).string(); }

  ActionOutcome run(ActionFn fn, std::string_view action, Json inputs) {
    step_.name = "Step";
    step_.action = std::string(action);
    inputs_ = std::move(inputs);
    // document_dir and resolve have no default member initializers, so they are spelled out
    // here to keep -Wmissing-field-initializers quiet.
    kiln::toe::ActionContext ctx{
        inputs_, step_, std::nullopt, cancel_, out_, kiln::toe::process_env(), nullptr, {}, {}};
    return fn(ctx);
  }

  // Runs and expects success.
  Json ok(ActionFn fn, std::string_view action, Json inputs) {
    ActionOutcome outcome = run(fn, action, std::move(inputs));
    EXPECT_EQ(outcome.kind, Kind::kSuccess) << outcome.failure_message;
    return outcome.outputs;
  }

  // Runs, expects failure, and returns the message.
  std::string fail(ActionFn fn, std::string_view action, Json inputs) {
    ActionOutcome outcome = run(fn, action, std::move(inputs));
    EXPECT_EQ(outcome.kind, Kind::kFailed);
    return outcome.failure_message;
  }

  void write(std::string_view name, std::string_view content, int mode = 0644) {
    fs::create_directories(fs::path(path(name)).parent_path());
    ASSERT_TRUE(kiln::write_file(path(name), content, mode).ok());
  }
  std::string read(std::string_view name) const {
    Result<std::string> content = kiln::read_file(path(name));
    return content.ok() ? content.value() : "<missing>";
  }
  bool exists(std::string_view name) const {
    std::error_code ec;
    return fs::exists(fs::symlink_status(path(name), ec));
  }
  mode_t mode(std::string_view name) const {
    struct stat st {};
    EXPECT_EQ(::lstat(path(name).c_str(), &st), 0) << name;
    return st.st_mode & 07777;
  }
  struct stat stat_of(std::string_view name) const {
    struct stat st {};
    EXPECT_EQ(::lstat(path(name).c_str(), &st), 0) << name;
    return st;
  }
  void mkdir(std::string_view name) { fs::create_directories(path(name)); }
  void symlink(std::string_view target, std::string_view name) {
    fs::create_symlink(target, path(name));
  }

  std::optional<TempDir> dir_;
  FakeOutput out_;
  document::Step step_;
  Json inputs_;
  const std::atomic<bool>* cancel_ = nullptr;
  mode_t old_umask_ = 022;
};

// ----- CreateFile --------------------------------------------------------------------------

TEST_F(FileActionsTest, CreateFileWritesContentCreatesParentsAndHonoursUmask) {
  ok(create_file, "CreateFile", list({{{"path", path("a/b/c.txt")}, {"content", "hello\n"}}}));
  EXPECT_EQ(read("a/b/c.txt"), "hello\n");
  EXPECT_EQ(mode("a/b/c.txt"), 0644u);  // 0666 & ~022
  EXPECT_EQ(mode("a/b"), 0755u);
  EXPECT_NE(out_.all().find("CreateFile: wrote " + path("a/b/c.txt") + " (6 bytes)"),
            std::string::npos)
      << out_.all();
  EXPECT_EQ(out_.all().find("hello"), std::string::npos) << "content must not be logged";
}

TEST_F(FileActionsTest, CreateFileWithoutContentIsEmpty) {
  ok(create_file, "CreateFile", list({{{"path", path("marker")}}}));
  EXPECT_TRUE(exists("marker"));
  EXPECT_EQ(read("marker"), "");
}

TEST_F(FileActionsTest, CreateFileOverwritesByDefaultAndKeepsMode) {
  write("f", "old", 0600);
  ok(create_file, "CreateFile", list({{{"path", path("f")}, {"content", "new"}}}));
  EXPECT_EQ(read("f"), "new");
  EXPECT_EQ(mode("f"), 0600u);
}

TEST_F(FileActionsTest, CreateFileOverwriteFalseRefuses) {
  write("f", "old");
  std::string message =
      fail(create_file,
           "CreateFile",
           list({{{"path", path("f")}, {"content", "new"}, {"overwrite", false}}}));
  EXPECT_NE(message.find("CreateFile inputs[0]"), std::string::npos) << message;
  EXPECT_NE(message.find(path("f")), std::string::npos) << message;
  EXPECT_NE(message.find("overwrite is false"), std::string::npos) << message;
  EXPECT_EQ(read("f"), "old");
}

TEST_F(FileActionsTest, CreateFileOverwriteAsStringAfterResolution) {
  write("f", "old");
  fail(create_file, "CreateFile", list({{{"path", path("f")}, {"overwrite", "false"}}}));
  EXPECT_EQ(read("f"), "old");
}

TEST_F(FileActionsTest, CreateFileExplicitPermissionsIgnoreUmask) {
  ::umask(077);
  ok(create_file,
     "CreateFile",
     list({{{"path", path("a")}, {"permissions", "0755"}},
           {{"path", path("b")}, {"permissions", "640"}},
           {{"path", path("c")}, {"permissions", "2755"}}}));
  EXPECT_EQ(mode("a"), 0755u);
  EXPECT_EQ(mode("b"), 0640u);
  EXPECT_EQ(mode("c"), 02755u);
}

TEST_F(FileActionsTest, CreateFileRejectsMalformedPermissionsBeforeWriting) {
  for (const char* bad : {"rwxr-xr-x", "u+x", "0x755", "75", "07555", "0758", "-755", " 755"}) {
    std::string message =
        fail(create_file, "CreateFile", list({{{"path", path("f")}, {"permissions", bad}}}));
    EXPECT_NE(message.find("permissions"), std::string::npos) << bad << ": " << message;
    EXPECT_NE(message.find("octal"), std::string::npos) << bad << ": " << message;
    EXPECT_FALSE(exists("f")) << bad;
  }
}

TEST_F(FileActionsTest, CreateFileOnAFolderFails) {
  mkdir("d");
  std::string message = fail(create_file, "CreateFile", list({{{"path", path("d")}}}));
  EXPECT_NE(message.find("is a folder"), std::string::npos) << message;
}

TEST_F(FileActionsTest, CreateFileStopsAtTheFailingItemAndNamesIt) {
  write("second", "keep");
  std::string message = fail(create_file,
                             "CreateFile",
                             list({{{"path", path("first")}},
                                   {{"path", path("second")}, {"overwrite", false}},
                                   {{"path", path("third")}}}));
  EXPECT_NE(message.find("CreateFile inputs[1]"), std::string::npos) << message;
  EXPECT_TRUE(exists("first"));
  EXPECT_FALSE(exists("third"));
}

TEST_F(FileActionsTest, CreateFileMissingPathIsAnError) {
  std::string message = fail(create_file, "CreateFile", list({{{"content", "x"}}}));
  EXPECT_NE(message.find("input 'path' is required"), std::string::npos) << message;
}

// Content "Aé😀": one ASCII, one two-byte and one four-byte (surrogate pair in UTF-16) character.
struct EncodingCase {
  const char* name;
  std::string encoded;
};

const std::string kText = "A\xC3\xA9\xF0\x9F\x98\x80";

std::vector<EncodingCase> encoding_cases() {
  std::string utf16le = bytes({0x41, 0, 0xE9, 0, 0x3D, 0xD8, 0x00, 0xDE});
  std::string utf16be = bytes({0, 0x41, 0, 0xE9, 0xD8, 0x3D, 0xDE, 0x00});
  std::string utf32le = bytes({0x41, 0, 0, 0, 0xE9, 0, 0, 0, 0x00, 0xF6, 0x01, 0});
  std::string utf32be = bytes({0, 0, 0, 0x41, 0, 0, 0, 0xE9, 0, 0x01, 0xF6, 0x00});
  std::string bom16 = bytes({0xFF, 0xFE});
  std::string bom32 = bytes({0xFF, 0xFE, 0, 0});
  return {
      {"utf8", kText},
      {"UTF-8", kText},
      {"utf16", bom16 + utf16le},
      {"utf-16", bom16 + utf16le},
      {"utf16-LE", utf16le},
      {"utf-16-le", utf16le},
      {"utf16-BE", utf16be},
      {"UTF-16-BE", utf16be},
      {"utf32", bom32 + utf32le},
      {"utf-32", bom32 + utf32le},
      {"utf32-le", utf32le},
      {"utf-32-LE", utf32le},
      {"utf32-be", utf32be},
      {"utf-32-be", utf32be},
  };
}

TEST_F(FileActionsTest, CreateFileEncodesContent) {
  for (const EncodingCase& c : encoding_cases()) {
    ok(create_file,
       "CreateFile",
       list({{{"path", path("f")}, {"content", kText}, {"encoding", c.name}}}));
    EXPECT_EQ(read("f"), c.encoded) << c.name;
  }
}

TEST_F(FileActionsTest, CreateFileRejectsUnknownEncodingAndInvalidUtf8) {
  std::string message =
      fail(create_file, "CreateFile", list({{{"path", path("f")}, {"encoding", "latin1"}}}));
  EXPECT_NE(message.find("unknown encoding 'latin1'"), std::string::npos) << message;
  message = fail(create_file,
                 "CreateFile",
                 list({{{"path", path("f")}, {"content", "a\xFF"}, {"encoding", "utf16"}}}));
  EXPECT_NE(message.find("not valid UTF-8 text at byte 1"), std::string::npos) << message;
  EXPECT_FALSE(exists("f"));
}

TEST_F(FileActionsTest, CreateFileSetsOwnerAndGroupByNumericId) {
  if (!is_root()) {
    GTEST_SKIP() << "changing ownership needs root";
  }
  ok(create_file,
     "CreateFile",
     list({{{"path", path("f")}, {"owner", "4242"}, {"group", "4343"}, {"permissions", "0640"}}}));
  EXPECT_EQ(stat_of("f").st_uid, 4242u);
  EXPECT_EQ(stat_of("f").st_gid, 4343u);
  EXPECT_EQ(mode("f"), 0640u);
}

// ----- AppendFile --------------------------------------------------------------------------

TEST_F(FileActionsTest, AppendFileAppends) {
  write("f", "one\n");
  ok(append_file,
     "AppendFile",
     list({{{"path", path("f")}, {"content", "two\n"}}, {{"path", path("f")}}}));
  EXPECT_EQ(read("f"), "one\ntwo\n");
  EXPECT_EQ(out_.all().find("two"), std::string::npos) << out_.all();
}

TEST_F(FileActionsTest, AppendFileNeedsAnExistingFile) {
  std::string message =
      fail(append_file, "AppendFile", list({{{"path", path("missing")}, {"content", "x"}}}));
  EXPECT_NE(message.find("AppendFile inputs[0]: file " + path("missing") + " does not exist"),
            std::string::npos)
      << message;
  EXPECT_FALSE(exists("missing"));
}

TEST_F(FileActionsTest, AppendFileWritesAByteOrderMarkOnlyIntoAnEmptyFile) {
  write("empty", "");
  write("full", bytes({0xFF, 0xFE, 0x41, 0}));
  ok(append_file,
     "AppendFile",
     list({{{"path", path("empty")}, {"content", "B"}, {"encoding", "utf16"}},
           {{"path", path("full")}, {"content", "B"}, {"encoding", "utf-16"}}}));
  EXPECT_EQ(read("empty"), bytes({0xFF, 0xFE, 0x42, 0}));
  EXPECT_EQ(read("full"), bytes({0xFF, 0xFE, 0x41, 0, 0x42, 0}));
}

// ----- CopyFile ----------------------------------------------------------------------------

TEST_F(FileActionsTest, CopyFileToAFilePathCreatesFolders) {
  write("src.txt", "data", 0750);
  ok(copy_file,
     "CopyFile",
     list({{{"source", path("src.txt")}, {"destination", path("x/y/dst.txt")}}}));
  EXPECT_EQ(read("x/y/dst.txt"), "data");
  EXPECT_EQ(read("src.txt"), "data");
  EXPECT_EQ(mode("x/y/dst.txt"), 0750u);
}

TEST_F(FileActionsTest, CopyFileIntoAFolderKeepsTheName) {
  write("src.txt", "data");
  mkdir("existing");
  ok(copy_file,
     "CopyFile",
     list({{{"source", path("src.txt")}, {"destination", path("new") + "/"}},
           {{"source", path("src.txt")}, {"destination", path("existing")}}}));
  EXPECT_EQ(read("new/src.txt"), "data");
  EXPECT_EQ(read("existing/src.txt"), "data");
}

TEST_F(FileActionsTest, CopyFileOverwritesByDefault) {
  write("src", "new");
  write("dst", "old");
  ok(copy_file, "CopyFile", list({{{"source", path("src")}, {"destination", path("dst")}}}));
  EXPECT_EQ(read("dst"), "new");
}

TEST_F(FileActionsTest, CopyFileOverwriteFalseRefuses) {
  write("src", "new");
  write("dst", "old");
  std::string message =
      fail(copy_file,
           "CopyFile",
           list({{{"source", path("src")}, {"destination", path("dst")}, {"overwrite", false}}}));
  EXPECT_NE(message.find("CopyFile inputs[0]: destination " + path("dst") +
                         " already exists and overwrite is false"),
            std::string::npos)
      << message;
  EXPECT_EQ(read("dst"), "old");
}

TEST_F(FileActionsTest, CopyFileWildcardCopiesMatchingFilesOnly) {
  write("in/a.txt", "a");
  write("in/b.txt", "b");
  write("in/.hidden.txt", "h");
  write("in/c.log", "c");
  mkdir("in/dir.txt");
  ok(copy_file, "CopyFile", list({{{"source", path("in/*.txt")}, {"destination", path("out")}}}));
  EXPECT_EQ(read("out/a.txt"), "a");
  EXPECT_EQ(read("out/b.txt"), "b");
  EXPECT_EQ(read("out/.hidden.txt"), "h");
  EXPECT_FALSE(exists("out/c.log"));
  EXPECT_FALSE(exists("out/dir.txt"));
}

TEST_F(FileActionsTest, CopyFileWildcardErrors) {
  write("in/a.txt", "a");
  std::string message = fail(
      copy_file, "CopyFile", list({{{"source", path("*/a.txt")}, {"destination", path("out/")}}}));
  EXPECT_NE(message.find("only allowed in the last path component"), std::string::npos) << message;
  message = fail(
      copy_file, "CopyFile", list({{{"source", path("in/*.log")}, {"destination", path("out/")}}}));
  EXPECT_NE(message.find("no file matches " + path("in/*.log")), std::string::npos) << message;
}

TEST_F(FileActionsTest, CopyFileSourceErrors) {
  mkdir("dir");
  std::string message = fail(
      copy_file, "CopyFile", list({{{"source", path("missing")}, {"destination", path("d")}}}));
  EXPECT_NE(message.find("source " + path("missing") + " does not exist"), std::string::npos)
      << message;
  message =
      fail(copy_file, "CopyFile", list({{{"source", path("dir")}, {"destination", path("d")}}}));
  EXPECT_NE(message.find("use CopyFolder"), std::string::npos) << message;
  write("f", "x");
  message =
      fail(copy_file, "CopyFile", list({{{"source", path("f")}, {"destination", path("f")}}}));
  EXPECT_NE(message.find("are the same file"), std::string::npos) << message;
}

// ----- CopyFolder --------------------------------------------------------------------------

TEST_F(FileActionsTest, CopyFolderCopiesTheTreeWithSymlinks) {
  write("src/a.txt", "a");
  write("src/sub/b.txt", "b", 0700);
  mkdir("src/empty");
  symlink("a.txt", "src/link");
  ok(copy_folder, "CopyFolder", list({{{"source", path("src")}, {"destination", path("dst")}}}));
  EXPECT_EQ(read("dst/a.txt"), "a");
  EXPECT_EQ(read("dst/sub/b.txt"), "b");
  EXPECT_EQ(mode("dst/sub/b.txt"), 0700u);
  EXPECT_TRUE(fs::is_directory(path("dst/empty")));
  EXPECT_TRUE(fs::is_symlink(path("dst/link")));
  EXPECT_EQ(fs::read_symlink(path("dst/link")), "a.txt");
  EXPECT_EQ(read("src/a.txt"), "a");
}

TEST_F(FileActionsTest, CopyFolderTrailingSlashCopiesInto) {
  write("src/a.txt", "a");
  ok(copy_folder,
     "CopyFolder",
     list({{{"source", path("src")}, {"destination", path("parent") + "/"}}}));
  EXPECT_EQ(read("parent/src/a.txt"), "a");
}

TEST_F(FileActionsTest, CopyFolderMergesIntoAnExistingFolderAndIsRepeatable) {
  write("src/a.txt", "new");
  write("dst/a.txt", "old");
  write("dst/other.txt", "kept");
  Json inputs = list({{{"source", path("src")}, {"destination", path("dst")}}});
  ok(copy_folder, "CopyFolder", inputs);
  ok(copy_folder, "CopyFolder", inputs);
  EXPECT_EQ(read("dst/a.txt"), "new");
  EXPECT_EQ(read("dst/other.txt"), "kept");
  EXPECT_FALSE(exists("dst/src"));
}

TEST_F(FileActionsTest, CopyFolderOverwriteFalseRefusesBeforeCopyingAnything) {
  write("src/a.txt", "new");
  write("src/z.txt", "z");
  write("dst/z.txt", "old");
  std::string message =
      fail(copy_folder,
           "CopyFolder",
           list({{{"source", path("src")}, {"destination", path("dst")}, {"overwrite", false}}}));
  EXPECT_NE(message.find(path("dst/z.txt") + " already exists and overwrite is false"),
            std::string::npos)
      << message;
  EXPECT_FALSE(exists("dst/a.txt"));
  EXPECT_EQ(read("dst/z.txt"), "old");
}

TEST_F(FileActionsTest, CopyFolderOverwriteFalseMergesWithoutConflicts) {
  write("src/a.txt", "a");
  write("dst/b.txt", "b");
  ok(copy_folder,
     "CopyFolder",
     list({{{"source", path("src")}, {"destination", path("dst")}, {"overwrite", false}}}));
  EXPECT_EQ(read("dst/a.txt"), "a");
  EXPECT_EQ(read("dst/b.txt"), "b");
}

TEST_F(FileActionsTest, CopyFolderRefusesToCopyIntoItselfOrFromAFile) {
  write("src/a.txt", "a");
  std::string message = fail(copy_folder,
                             "CopyFolder",
                             list({{{"source", path("src")}, {"destination", path("src/in")}}}));
  EXPECT_NE(message.find("is inside source"), std::string::npos) << message;
  message = fail(copy_folder,
                 "CopyFolder",
                 list({{{"source", path("src/a.txt")}, {"destination", path("d")}}}));
  EXPECT_NE(message.find("is not a folder"), std::string::npos) << message;
  message = fail(
      copy_folder, "CopyFolder", list({{{"source", path("nope")}, {"destination", path("d")}}}));
  EXPECT_NE(message.find("folder " + path("nope") + " does not exist"), std::string::npos)
      << message;
}

// ----- CreateFolder ------------------------------------------------------------------------

TEST_F(FileActionsTest, CreateFolderIsRecursiveWithUmaskedDefaultMode) {
  ok(create_folder, "CreateFolder", list({{{"path", path("a/b/c")}}}));
  EXPECT_TRUE(fs::is_directory(path("a/b/c")));
  EXPECT_EQ(mode("a/b/c"), 0755u);
}

TEST_F(FileActionsTest, CreateFolderAppliesPermissionsToTheLastFolderOnly) {
  ok(create_folder, "CreateFolder", list({{{"path", path("a/b")}, {"permissions", "0700"}}}));
  EXPECT_EQ(mode("a/b"), 0700u);
  EXPECT_EQ(mode("a"), 0755u);
}

TEST_F(FileActionsTest, CreateFolderExistingKeepsContentUnlessOverwriteFalse) {
  write("d/f", "x");
  ok(create_folder, "CreateFolder", list({{{"path", path("d")}, {"permissions", "750"}}}));
  EXPECT_EQ(read("d/f"), "x");
  EXPECT_EQ(mode("d"), 0750u);
  std::string message =
      fail(create_folder, "CreateFolder", list({{{"path", path("d")}, {"overwrite", false}}}));
  EXPECT_NE(message.find("already exists and overwrite is false"), std::string::npos) << message;
}

TEST_F(FileActionsTest, CreateFolderOverAFileFails) {
  write("f", "x");
  std::string message = fail(create_folder, "CreateFolder", list({{{"path", path("f")}}}));
  EXPECT_NE(message.find("already exists and is not a folder"), std::string::npos) << message;
}

TEST_F(FileActionsTest, CreateFolderSetsOwner) {
  if (!is_root()) {
    GTEST_SKIP() << "changing ownership needs root";
  }
  ok(create_folder, "CreateFolder", list({{{"path", path("d")}, {"owner", "4242"}}}));
  EXPECT_EQ(stat_of("d").st_uid, 4242u);
}

// ----- CreateSymlink -----------------------------------------------------------------------

TEST_F(FileActionsTest, CreateSymlinkLinksToAnExistingTarget) {
  write("target", "t");
  ok(create_symlink,
     "CreateSymlink",
     list({{{"path", path("link")}, {"target", path("target")}},
           {{"path", path("rel")}, {"target", "target"}}}));
  EXPECT_EQ(fs::read_symlink(path("link")), path("target"));
  EXPECT_EQ(fs::read_symlink(path("rel")), "target");
  EXPECT_EQ(read("rel"), "t");
}

TEST_F(FileActionsTest, CreateSymlinkTargetMustExist) {
  std::string message = fail(create_symlink,
                             "CreateSymlink",
                             list({{{"path", path("link")}, {"target", path("missing")}}}));
  EXPECT_NE(message.find("symlink target " + path("missing") + " does not exist"),
            std::string::npos)
      << message;
  EXPECT_FALSE(exists("link"));
}

TEST_F(FileActionsTest, CreateSymlinkNeedsForceToReplace) {
  write("t1", "1");
  write("t2", "2");
  symlink(path("t1"), "link");
  write("file", "f");
  std::string message = fail(
      create_symlink, "CreateSymlink", list({{{"path", path("link")}, {"target", path("t2")}}}));
  EXPECT_NE(message.find("already exists and force is false"), std::string::npos) << message;
  EXPECT_EQ(read("link"), "1");
  ok(create_symlink,
     "CreateSymlink",
     list({{{"path", path("link")}, {"target", path("t2")}, {"force", true}},
           {{"path", path("file")}, {"target", path("t2")}, {"force", "true"}}}));
  EXPECT_EQ(read("link"), "2");
  EXPECT_TRUE(fs::is_symlink(path("file")));
}

TEST_F(FileActionsTest, CreateSymlinkForceNeverReplacesAFolder) {
  write("t", "1");
  write("dir/inside", "x");
  std::string message =
      fail(create_symlink,
           "CreateSymlink",
           list({{{"path", path("dir")}, {"target", path("t")}, {"force", true}}}));
  EXPECT_NE(message.find("is a folder"), std::string::npos) << message;
  EXPECT_EQ(read("dir/inside"), "x");
}

TEST_F(FileActionsTest, CreateSymlinkMakesARelativePathAbsolute) {
  write("t", "1");
  fs::path old = fs::current_path();
  fs::current_path(dir_->path());
  ActionOutcome outcome =
      run(create_symlink, "CreateSymlink", list({{{"path", "link"}, {"target", "t"}}}));
  fs::current_path(old);
  EXPECT_EQ(outcome.kind, Kind::kSuccess) << outcome.failure_message;
  EXPECT_NE(out_.all().find("linked " + path("link") + " -> t"), std::string::npos) << out_.all();
  EXPECT_EQ(read("link"), "1");
}

// ----- DeleteFile / DeleteFolder -----------------------------------------------------------

TEST_F(FileActionsTest, DeleteFileDeletes) {
  write("f", "x");
  ok(delete_file, "DeleteFile", list({{{"path", path("f")}}}));
  EXPECT_FALSE(exists("f"));
}

TEST_F(FileActionsTest, DeleteFileWildcardDeletesMatchingFilesOnly) {
  write("d/a.tmp", "a");
  write("d/b.tmp", "b");
  write("d/keep.txt", "k");
  mkdir("d/sub.tmp");
  ok(delete_file, "DeleteFile", list({{{"path", path("d/*.tmp")}}}));
  EXPECT_FALSE(exists("d/a.tmp"));
  EXPECT_FALSE(exists("d/b.tmp"));
  EXPECT_TRUE(exists("d/keep.txt"));
  EXPECT_TRUE(exists("d/sub.tmp"));
}

TEST_F(FileActionsTest, DeleteFileRemovesASymlinkNotItsTarget) {
  write("t", "x");
  symlink(path("t"), "link");
  ok(delete_file, "DeleteFile", list({{{"path", path("link")}}}));
  EXPECT_FALSE(exists("link"));
  EXPECT_TRUE(exists("t"));
}

TEST_F(FileActionsTest, DeleteFileErrors) {
  mkdir("d");
  std::string message = fail(delete_file, "DeleteFile", list({{{"path", path("missing")}}}));
  EXPECT_NE(message.find("DeleteFile inputs[0]: " + path("missing") + " does not exist"),
            std::string::npos)
      << message;
  message = fail(delete_file, "DeleteFile", list({{{"path", path("d")}}}));
  EXPECT_NE(message.find("use DeleteFolder"), std::string::npos) << message;
  message = fail(delete_file, "DeleteFile", list({{{"path", path("d/*.none")}}}));
  EXPECT_NE(message.find("no file matches"), std::string::npos) << message;
}

TEST_F(FileActionsTest, DeleteFolderDeletesAnEmptyFolder) {
  mkdir("d");
  ok(delete_folder, "DeleteFolder", list({{{"path", path("d") + "/"}}}));
  EXPECT_FALSE(exists("d"));
}

TEST_F(FileActionsTest, DeleteFolderNeedsForceWhenNotEmpty) {
  write("d/sub/f", "x");
  std::string message = fail(delete_folder, "DeleteFolder", list({{{"path", path("d")}}}));
  EXPECT_NE(message.find("folder " + path("d") + " is not empty and force is false"),
            std::string::npos)
      << message;
  EXPECT_TRUE(exists("d/sub/f"));
  ok(delete_folder, "DeleteFolder", list({{{"path", path("d")}, {"force", true}}}));
  EXPECT_FALSE(exists("d"));
}

TEST_F(FileActionsTest, DeleteFolderRefusesFilesSymlinksAndMissingFolders) {
  write("f", "x");
  write("real/inside", "x");
  symlink(path("real"), "link");
  std::string message = fail(delete_folder, "DeleteFolder", list({{{"path", path("f")}}}));
  EXPECT_NE(message.find("is not a folder"), std::string::npos) << message;
  message = fail(delete_folder, "DeleteFolder", list({{{"path", path("link")}, {"force", true}}}));
  EXPECT_NE(message.find("is a symlink, not a folder"), std::string::npos) << message;
  EXPECT_TRUE(exists("real/inside"));
  message = fail(delete_folder, "DeleteFolder", list({{{"path", path("missing")}}}));
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
}

TEST_F(FileActionsTest, DeleteFolderRefusesTheRootFolder) {
  std::string message =
      fail(delete_folder, "DeleteFolder", list({{{"path", "/"}, {"force", true}}}));
  EXPECT_NE(message.find("refusing to delete the root folder"), std::string::npos) << message;
}

// ----- ListFiles ---------------------------------------------------------------------------

TEST_F(FileActionsTest, ListFilesListsFilesOfTheFolderSorted) {
  write("d/b.txt", "");
  write("d/a.txt", "");
  write("d/sub/c.txt", "");
  Json outputs = ok(list_files, "ListFiles", list({{{"path", path("d")}}}));
  EXPECT_EQ(outputs, Json({{"files", path("d/a.txt") + "," + path("d/b.txt")}}));
}

TEST_F(FileActionsTest, ListFilesRecursiveWithPattern) {
  write("d/a.log", "");
  write("d/b.txt", "");
  write("d/sub/c.log", "");
  write("d/sub/deeper/e.log", "");
  Json outputs =
      ok(list_files,
         "ListFiles",
         list({{{"path", path("d")}, {"fileNamePattern", "*.log"}, {"recursive", true}}}));
  EXPECT_EQ(outputs["files"],
            path("d/a.log") + "," + path("d/sub/c.log") + "," + path("d/sub/deeper/e.log"));
}

TEST_F(FileActionsTest, ListFilesOfAnEmptyFolderIsEmpty) {
  mkdir("d");
  Json outputs = ok(list_files, "ListFiles", list({{{"path", path("d")}}}));
  EXPECT_EQ(outputs, Json({{"files", ""}}));
}

TEST_F(FileActionsTest, ListFilesMissingFolderFails) {
  std::string message = fail(list_files, "ListFiles", list({{{"path", path("missing")}}}));
  EXPECT_NE(message.find("ListFiles inputs[0]: folder " + path("missing") + " does not exist"),
            std::string::npos)
      << message;
}

// ----- MoveFile / MoveFolder ---------------------------------------------------------------

TEST_F(FileActionsTest, MoveFileMovesAndCreatesFolders) {
  write("src", "x");
  ok(move_file, "MoveFile", list({{{"source", path("src")}, {"destination", path("a/dst")}}}));
  EXPECT_FALSE(exists("src"));
  EXPECT_EQ(read("a/dst"), "x");
}

TEST_F(FileActionsTest, MoveFileIntoAFolderAndWithWildcard) {
  write("one.txt", "1");
  write("in/a.txt", "a");
  write("in/b.txt", "b");
  ok(move_file,
     "MoveFile",
     list({{{"source", path("one.txt")}, {"destination", path("out") + "/"}},
           {{"source", path("in/*.txt")}, {"destination", path("out")}}}));
  EXPECT_EQ(read("out/one.txt"), "1");
  EXPECT_EQ(read("out/a.txt"), "a");
  EXPECT_EQ(read("out/b.txt"), "b");
  EXPECT_FALSE(exists("in/a.txt"));
}

TEST_F(FileActionsTest, MoveFileOverwriteFalseRefuses) {
  write("src", "new");
  write("dst", "old");
  std::string message =
      fail(move_file,
           "MoveFile",
           list({{{"source", path("src")}, {"destination", path("dst")}, {"overwrite", false}}}));
  EXPECT_NE(message.find("overwrite is false"), std::string::npos) << message;
  EXPECT_EQ(read("src"), "new");
  EXPECT_EQ(read("dst"), "old");
  ok(move_file, "MoveFile", list({{{"source", path("src")}, {"destination", path("dst")}}}));
  EXPECT_EQ(read("dst"), "new");
}

TEST_F(FileActionsTest, MoveFileMovesASymlinkItself) {
  write("t", "x");
  symlink(path("t"), "link");
  ok(move_file, "MoveFile", list({{{"source", path("link")}, {"destination", path("sub/")}}}));
  EXPECT_FALSE(exists("link"));
  EXPECT_TRUE(fs::is_symlink(path("sub/link")));
  EXPECT_EQ(fs::read_symlink(path("sub/link")), path("t"));
  EXPECT_EQ(read("t"), "x");
}

TEST_F(FileActionsTest, MoveFolderRenames) {
  write("src/a/b.txt", "b");
  ok(move_folder,
     "MoveFolder",
     list({{{"source", path("src")}, {"destination", path("new/place")}}}));
  EXPECT_FALSE(exists("src"));
  EXPECT_EQ(read("new/place/a/b.txt"), "b");
}

TEST_F(FileActionsTest, MoveFolderTrailingSlashMovesInto) {
  write("src/f", "f");
  mkdir("parent");
  ok(move_folder,
     "MoveFolder",
     list({{{"source", path("src")}, {"destination", path("parent") + "/"}}}));
  EXPECT_EQ(read("parent/src/f"), "f");
}

TEST_F(FileActionsTest, MoveFolderMergesIntoAnExistingFolder) {
  write("src/a", "new");
  write("dst/a", "old");
  write("dst/b", "kept");
  ok(move_folder, "MoveFolder", list({{{"source", path("src")}, {"destination", path("dst")}}}));
  EXPECT_FALSE(exists("src"));
  EXPECT_EQ(read("dst/a"), "new");
  EXPECT_EQ(read("dst/b"), "kept");
}

TEST_F(FileActionsTest, MoveFolderOverwriteFalseRefusesAndKeepsTheSource) {
  write("src/a", "new");
  write("dst/a", "old");
  fail(move_folder,
       "MoveFolder",
       list({{{"source", path("src")}, {"destination", path("dst")}, {"overwrite", false}}}));
  EXPECT_EQ(read("src/a"), "new");
  EXPECT_EQ(read("dst/a"), "old");
}

TEST_F(FileActionsTest, MoveFolderIntoItselfFails) {
  write("src/a", "x");
  std::string message = fail(
      move_folder, "MoveFolder", list({{{"source", path("src")}, {"destination", path("src")}}}));
  EXPECT_NE(message.find("is the same as source"), std::string::npos) << message;
  EXPECT_EQ(read("src/a"), "x");
}

// ----- ReadFile ----------------------------------------------------------------------------

TEST_F(FileActionsTest, ReadFileReturnsContentWithoutLoggingIt) {
  write("f", "secret value");
  Json outputs = ok(read_file, "ReadFile", {{"path", path("f")}});
  EXPECT_EQ(outputs, Json({{"content", "secret value"}}));
  EXPECT_EQ(out_.all().find("secret"), std::string::npos) << out_.all();
  EXPECT_NE(out_.all().find("ReadFile: read " + path("f") + " (12 bytes)"), std::string::npos);
}

TEST_F(FileActionsTest, ReadFilePrintsContentWhenAsked) {
  write("f", "shown");
  ok(read_file, "ReadFile", {{"path", path("f")}, {"printFileContent", true}});
  EXPECT_NE(out_.all().find("shown"), std::string::npos) << out_.all();
}

TEST_F(FileActionsTest, ReadFileDecodesEveryEncoding) {
  for (const EncodingCase& c : encoding_cases()) {
    write("f", c.encoded);
    Json outputs = ok(read_file, "ReadFile", {{"path", path("f")}, {"encoding", c.name}});
    EXPECT_EQ(outputs["content"], kText) << c.name;
  }
}

TEST_F(FileActionsTest, ReadFileHonoursAndDropsByteOrderMarks) {
  write("be", bytes({0xFE, 0xFF, 0, 0x41}));  // big-endian mark under plain "utf16"
  EXPECT_EQ(ok(read_file, "ReadFile", {{"path", path("be")}, {"encoding", "utf16"}})["content"],
            "A");
  write("u8", "\xEF\xBB\xBFx");
  EXPECT_EQ(ok(read_file, "ReadFile", {{"path", path("u8")}})["content"], "x");
}

TEST_F(FileActionsTest, ReadFileFollowsSymlinks) {
  write("t", "via link");
  symlink(path("t"), "link");
  EXPECT_EQ(ok(read_file, "ReadFile", {{"path", path("link")}})["content"], "via link");
}

TEST_F(FileActionsTest, ReadFileErrors) {
  mkdir("d");
  write("bin", "ok\xC0\xAF");  // an overlong encoding of '/'
  write("odd", bytes({0x41, 0, 0x42}));
  write("lone", bytes({0x00, 0xD8, 0x41, 0}));  // a lone high surrogate
  struct Case {
    Json inputs;
    std::string expected;
  };
  std::vector<Case> cases = {
      {{{"path", path("missing")}}, "ReadFile: file " + path("missing") + " does not exist"},
      {{{"path", path("d")}}, path("d") + " is a folder"},
      {{{"path", path("bin")}}, path("bin") + ": not valid UTF-8 text at byte 2"},
      {{{"path", path("odd")}, {"encoding", "utf16-le"}}, "not valid UTF-16 text at byte 2"},
      {{{"path", path("lone")}, {"encoding", "utf16-le"}}, "not valid UTF-16 text at byte 0"},
      {{{"path", path("bin")}, {"encoding", "ebcdic"}}, "unknown encoding 'ebcdic'"},
  };
  for (const Case& c : cases) {
    std::string message = fail(read_file, "ReadFile", c.inputs);
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
  }
}

// ----- SetFileEncoding ---------------------------------------------------------------------

TEST_F(FileActionsTest, SetFileEncodingConvertsFromUtf8) {
  for (const EncodingCase& c : encoding_cases()) {
    write("f", kText);
    ok(set_file_encoding, "SetFileEncoding", list({{{"path", path("f")}, {"encoding", c.name}}}));
    EXPECT_EQ(read("f"), c.encoded) << c.name;
  }
}

TEST_F(FileActionsTest, SetFileEncodingKeepsModeAndSymlinkAndDropsUtf8Mark) {
  write("f", "\xEF\xBB\xBFhi", 0640);
  symlink(path("f"), "link");
  ok(set_file_encoding,
     "SetFileEncoding",
     list({{{"path", path("link")}, {"encoding", "utf16-be"}}}));
  EXPECT_TRUE(fs::is_symlink(path("link")));
  EXPECT_EQ(read("f"), bytes({0, 'h', 0, 'i'}));
  EXPECT_EQ(mode("f"), 0640u);
}

TEST_F(FileActionsTest, SetFileEncodingRejectsInvalidUtf8AndKeepsTheFile) {
  write("f", "a\xFF");
  std::string message = fail(
      set_file_encoding, "SetFileEncoding", list({{{"path", path("f")}, {"encoding", "utf16"}}}));
  EXPECT_NE(message.find(path("f") + ": not valid UTF-8 text at byte 1"), std::string::npos)
      << message;
  EXPECT_EQ(read("f"), "a\xFF");
}

// ----- SetFileOwner / SetFolderOwner -------------------------------------------------------

TEST_F(FileActionsTest, SetOwnerRejectsUnknownUsersAndGroups) {
  write("f", "x");
  std::string message = fail(set_file_owner,
                             "SetFileOwner",
                             list({{{"path", path("f")}, {"owner", "no-such-user-kiln"}}}));
  EXPECT_NE(message.find("unknown user 'no-such-user-kiln'"), std::string::npos) << message;
  message = fail(set_file_owner,
                 "SetFileOwner",
                 list({{{"path", path("f")}, {"owner", "root"}, {"group", "no-such-group-kiln"}}}));
  EXPECT_NE(message.find("unknown group 'no-such-group-kiln'"), std::string::npos) << message;
}

TEST_F(FileActionsTest, SetFileOwnerByIdAndName) {
  if (!is_root()) {
    GTEST_SKIP() << "changing ownership needs root";
  }
  write("f", "x");
  ok(set_file_owner,
     "SetFileOwner",
     list({{{"path", path("f")}, {"owner", "4242"}, {"group", "4343"}}}));
  EXPECT_EQ(stat_of("f").st_uid, 4242u);
  EXPECT_EQ(stat_of("f").st_gid, 4343u);
  ok(set_file_owner, "SetFileOwner", list({{{"path", path("f")}, {"owner", "root"}}}));
  EXPECT_EQ(stat_of("f").st_uid, 0u);
  EXPECT_EQ(stat_of("f").st_gid, 0u);  // root's primary group
}

TEST_F(FileActionsTest, SetFileOwnerNumericUnknownUserKeepsTheGroup) {
  if (!is_root()) {
    GTEST_SKIP() << "changing ownership needs root";
  }
  write("f", "x");
  ASSERT_EQ(::chown(path("f").c_str(), 0, 4343), 0);
  ok(set_file_owner, "SetFileOwner", list({{{"path", path("f")}, {"owner", "4242"}}}));
  EXPECT_EQ(stat_of("f").st_uid, 4242u);
  EXPECT_EQ(stat_of("f").st_gid, 4343u);
}

TEST_F(FileActionsTest, SetFileOwnerRefusesAFolder) {
  mkdir("d");
  std::string message =
      fail(set_file_owner, "SetFileOwner", list({{{"path", path("d")}, {"owner", "root"}}}));
  EXPECT_NE(message.find(path("d") + " is a folder"), std::string::npos) << message;
}

TEST_F(FileActionsTest, SetFolderOwnerIsRecursiveByDefaultAndKeepsLinkTargets) {
  if (!is_root()) {
    GTEST_SKIP() << "changing ownership needs root";
  }
  write("d/sub/f", "x");
  write("outside", "o");
  symlink(path("outside"), "d/link");
  ok(set_folder_owner,
     "SetFolderOwner",
     list({{{"path", path("d")}, {"owner", "4242"}, {"group", "4343"}}}));
  for (const char* name : {"d", "d/sub", "d/sub/f", "d/link"}) {
    EXPECT_EQ(stat_of(name).st_uid, 4242u) << name;
    EXPECT_EQ(stat_of(name).st_gid, 4343u) << name;
  }
  EXPECT_EQ(stat_of("outside").st_uid, 0u);
}

TEST_F(FileActionsTest, SetFolderOwnerNotRecursive) {
  if (!is_root()) {
    GTEST_SKIP() << "changing ownership needs root";
  }
  write("d/f", "x");
  ok(set_folder_owner,
     "SetFolderOwner",
     list({{{"path", path("d")}, {"owner", "4242"}, {"recursive", false}}}));
  EXPECT_EQ(stat_of("d").st_uid, 4242u);
  EXPECT_EQ(stat_of("d/f").st_uid, 0u);
}

// ----- SetFilePermissions / SetFolderPermissions -------------------------------------------

TEST_F(FileActionsTest, SetFilePermissions) {
  write("a", "x");
  write("b", "x");
  ok(set_file_permissions,
     "SetFilePermissions",
     list({{{"path", path("a")}, {"permissions", "0600"}},
           {{"path", path("b")}, {"permissions", "755"}}}));
  EXPECT_EQ(mode("a"), 0600u);
  EXPECT_EQ(mode("b"), 0755u);
}

TEST_F(FileActionsTest, SetFilePermissionsErrors) {
  write("f", "x", 0644);
  mkdir("d");
  struct Case {
    std::string path;
    std::string permissions;
    std::string expected;
  };
  std::vector<Case> cases = {
      {path("f"), "u+x", "permissions 'u+x' must be 3 or 4 octal digits"},
      {path("f"), "99", "permissions '99' must be 3 or 4 octal digits"},
      {path("f"), "", "input 'permissions' is required"},
      {path("missing"), "644", "file " + path("missing") + " does not exist"},
      {path("d"), "644", path("d") + " is a folder"},
  };
  for (const Case& c : cases) {
    std::string message = fail(set_file_permissions,
                               "SetFilePermissions",
                               list({{{"path", c.path}, {"permissions", c.permissions}}}));
    EXPECT_NE(message.find("SetFilePermissions inputs[0]: " + c.expected), std::string::npos)
        << message;
  }
  EXPECT_EQ(mode("f"), 0644u);
}

TEST_F(FileActionsTest, SetFolderPermissionsIsRecursiveByDefaultAndSkipsLinks) {
  write("d/sub/f", "x");
  write("outside", "o", 0644);
  symlink(path("outside"), "d/link");
  ok(set_folder_permissions,
     "SetFolderPermissions",
     list({{{"path", path("d")}, {"permissions", "0750"}}}));
  for (const char* name : {"d", "d/sub", "d/sub/f"}) {
    EXPECT_EQ(mode(name), 0750u) << name;
  }
  EXPECT_EQ(mode("outside"), 0644u);
}

TEST_F(FileActionsTest, SetFolderPermissionsNotRecursiveAndRefusesFiles) {
  write("d/f", "x", 0644);
  ok(set_folder_permissions,
     "SetFolderPermissions",
     list({{{"path", path("d")}, {"permissions", "700"}, {"recursive", false}}}));
  EXPECT_EQ(mode("d"), 0700u);
  EXPECT_EQ(mode("d/f"), 0644u);
  std::string message = fail(set_folder_permissions,
                             "SetFolderPermissions",
                             list({{{"path", path("d/f")}, {"permissions", "700"}}}));
  EXPECT_NE(message.find(path("d/f") + " is not a folder"), std::string::npos) << message;
}

// ----- Cancellation ------------------------------------------------------------------------

TEST_F(FileActionsTest, CancelledStepStopsBeforeTheNextItem) {
  std::atomic<bool> cancel{true};
  cancel_ = &cancel;
  std::string message = fail(create_file, "CreateFile", list({{{"path", path("f")}}}));
  EXPECT_EQ(message, "CreateFile inputs[0]: cancelled");
  EXPECT_FALSE(exists("f"));
  message = fail(read_file, "ReadFile", {{"path", path("f")}});
  EXPECT_EQ(message, "ReadFile: cancelled");
}

}  // namespace
}  // namespace kiln::toe::actions
