#pragma once

// The few file operations the store needs, behind an interface (HOUSE_STYLE: the OS behind narrow
// interfaces), so that tests can fail any write, fsync or rename and prove that a crash never
// leaves an index referring to a missing blob.
//
// RealFilesystem performs them on the host. FaultyFilesystem wraps another Filesystem and fails
// the Nth counted operation. Both are thread-safe.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/base/time.hpp"

namespace kiln::store {

// A new file open for writing. Destroying it closes it (the file stays; remove it if unwanted).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual const std::filesystem::path& path() const = 0;
  virtual Status write(std::string_view data) = 0;
  // fsync(2): the data is on disk when this returns.
  virtual Status sync() = 0;
  virtual Status close() = 0;
};

// A file open for reading.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to `size` bytes into `buffer`; 0 at the end of the file.
  virtual Result<size_t> read(char* buffer, size_t size) = 0;
};

// An exclusive flock(2) on a file, held until destroyed. It excludes other processes and other
// FileLock objects of this process alike (each holds its own open file description).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

struct FileInfo {
  uint64_t size = 0;
  SystemTime modified;
  bool is_directory = false;
};

class Filesystem {
 public:
  virtual ~Filesystem() = default;

  // Creates a new file "<dir>/<prefix><random>" (mode 0644) and opens it for writing.
  virtual Result<std::unique_ptr<WritableFile>> create_temp(const std::filesystem::path& dir,
                                                            std::string_view prefix) = 0;
  // rename(2): atomically replaces `to`.
  virtual Status rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  // fsync(2) of a directory, so that the names created or renamed in it survive a crash.
  virtual Status sync_dir(const std::filesystem::path& dir) = 0;
  // unlink(2) of a file; kNotFound when it does not exist.
  virtual Status remove(const std::filesystem::path& path) = 0;
  // mkdir -p.
  virtual Status create_directories(const std::filesystem::path& dir) = 0;

  virtual Result<std::unique_ptr<ReadableFile>> open(const std::filesystem::path& path) const = 0;
  // The names (not paths) of the entries of `dir`, in no particular order.
  virtual Result<std::vector<std::string>> list(const std::filesystem::path& dir) const = 0;
  // kNotFound when `path` does not exist. Does not follow a final symlink.
  virtual Result<FileInfo> stat(const std::filesystem::path& path) const = 0;

  // Waits for an exclusive lock on `path`, creating the file if needed.
  virtual Result<std::unique_ptr<FileLock>> lock(const std::filesystem::path& path) = 0;
};

// A whole file's content.
Result<std::string> read_whole_file(const Filesystem& fs, const std::filesystem::path& path);

// Writes `content` to a temporary file in `temp_dir`, fsyncs it, renames it to `target` and
// fsyncs the target's folder: afterwards `target` holds either its old content or `content`,
// even across a crash. The temporary file is removed on failure (when removing still works).
Status replace_file(Filesystem& fs,
                    const std::filesystem::path& temp_dir,
                    const std::filesystem::path& target,
                    std::string_view content);

class RealFilesystem final : public Filesystem {
 public:
  Result<std::unique_ptr<WritableFile>> create_temp(const std::filesystem::path& dir,
                                                    std::string_view prefix) override;
  Status rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status sync_dir(const std::filesystem::path& dir) override;
  Status remove(const std::filesystem::path& path) override;
  Status create_directories(const std::filesystem::path& dir) override;
  Result<std::unique_ptr<ReadableFile>> open(const std::filesystem::path& path) const override;
  Result<std::vector<std::string>> list(const std::filesystem::path& dir) const override;
  Result<FileInfo> stat(const std::filesystem::path& path) const override;
  Result<std::unique_ptr<FileLock>> lock(const std::filesystem::path& path) override;
};

// The operations FaultyFilesystem counts: the ones that change the disk.
enum class FileOp { kCreate, kWrite, kSync, kRename, kSyncDir, kRemove, kMkdir };

// Wraps another Filesystem; counts the changing operations (FileOp) and fails the Nth of them
// with kIo, as a full disk or a dying disk would. In crash mode every counted operation after
// the Nth fails too, as if the machine had stopped there: nothing after the failure reaches the
// disk, not even the cleanup. Reads, listings and locks are passed through and not counted.
class FaultyFilesystem final : public Filesystem {
 public:
  enum class Mode { kFailOnce, kCrash };

  // `fail_at` is 1-based; 0 never fails (to count the operations of a run).
  explicit FaultyFilesystem(Filesystem& base, uint64_t fail_at = 0, Mode mode = Mode::kFailOnce)
      : base_(base), fail_at_(fail_at), mode_(mode) {}

  // How many counted operations were attempted so far (failed ones included).
  uint64_t count() const { return count_.load(); }
  // Whether the Nth operation was reached (the fault happened).
  bool failed() const { return fail_at_ != 0 && count_.load() >= fail_at_; }
  // "write <path>", "rename <from> <to>", ...: every counted operation in order.
  std::vector<std::string> operations() const;

  Result<std::unique_ptr<WritableFile>> create_temp(const std::filesystem::path& dir,
                                                    std::string_view prefix) override;
  Status rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status sync_dir(const std::filesystem::path& dir) override;
  Status remove(const std::filesystem::path& path) override;
  Status create_directories(const std::filesystem::path& dir) override;
  Result<std::unique_ptr<ReadableFile>> open(const std::filesystem::path& path) const override;
  Result<std::vector<std::string>> list(const std::filesystem::path& dir) const override;
  Result<FileInfo> stat(const std::filesystem::path& path) const override;
  Result<std::unique_ptr<FileLock>> lock(const std::filesystem::path& path) override;

  // Counts one operation; an error when it is to fail. Used by the files it hands out too.
  Status count_op(FileOp op, const std::string& what);

 private:
  Filesystem& base_;
  const uint64_t fail_at_;
  const Mode mode_;
  std::atomic<uint64_t> count_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> operations_;  // guarded by mutex_
};

}  // namespace kiln::store
