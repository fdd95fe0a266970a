#pragma once

// Whole-file reads and writes, temporary directories and atomic replacement of a file.

#include <filesystem>
#include <string>
#include <string_view>

#include "kiln/base/result.hpp"

namespace kiln {

Result<std::string> read_file(const std::filesystem::path& path);

// Writes `content` to `path` (created with `mode` if new, truncated if it exists). Not atomic.
Status write_file(const std::filesystem::path& path, std::string_view content, int mode = 0644);

// Appends `content` to `path`, creating it if needed.
Status append_file(const std::filesystem::path& path, std::string_view content);

// A directory removed with everything in it when the owner is destroyed, unless keep() was called.
class TempDir {
 public:
  // Creates a fresh directory "<parent>/<prefix>XXXXXX"; parent defaults to $TMPDIR or /tmp.
  static Result<TempDir> create(std::string_view prefix = "kiln-",
                                const std::filesystem::path& parent = {});
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  explicit TempDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
  bool keep_ = false;
};

// Replaces a file atomically: content goes to a temporary file beside the target; commit()
// fsyncs it, renames it over the target and fsyncs the directory. Without commit() the temporary
// file is removed and the target is untouched.
class AtomicFile {
 public:
  static Result<AtomicFile> open(const std::filesystem::path& target, int mode = 0644);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  Status write(std::string_view data);
  Status commit();

 private:
  AtomicFile(std::filesystem::path target, std::filesystem::path temp, int fd)
      : target_(std::move(target)), temp_(std::move(temp)), fd_(fd) {}
  std::filesystem::path target_;
  std::filesystem::path temp_;
  int fd_ = -1;
};

// Replaces `path` by a temporary file and a rename, without fsync: readers never see a half-written
// file, but a crash may lose the new content. For state that does not outlive the machine's
// processes (records of running instances), where syncing would only cost time.
Status replace_file(const std::filesystem::path& path, std::string_view content, int mode = 0644);

// Writes `content` to `path` through an AtomicFile.
Status write_file_atomic(const std::filesystem::path& path,
                         std::string_view content,
                         int mode = 0644);

}  // namespace kiln
