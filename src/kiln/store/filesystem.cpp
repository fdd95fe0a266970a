#include "kiln/store/filesystem.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "kiln/base/unique_fd.hpp"

namespace kiln::store {
namespace fs = std::filesystem;
namespace {

class RealWritableFile final : public WritableFile {
 public:
  RealWritableFile(UniqueFd fd, fs::path path) : fd_(std::move(fd)), path_(std::move(path)) {}

  const fs::path& path() const override { return path_; }

  Status write(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_.get(), data.data(), data.size());
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return errno_error(errno, fmt::format("writing {}", path_.string()));
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return ok_status();
  }

  Status sync() override {
    if (::fsync(fd_.get()) != 0) {
      return errno_error(errno, fmt::format("syncing {}", path_.string()));
    }
    return ok_status();
  }

  Status close() override {
    // close(2) reports some write errors (NFS); it releases the fd even when it fails.
    if (::close(fd_.release()) != 0) {
      return errno_error(errno, fmt::format("closing {}", path_.string()));
    }
    return ok_status();
  }

 private:
  UniqueFd fd_;
  fs::path path_;
};

class RealReadableFile final : public ReadableFile {
 public:
  RealReadableFile(UniqueFd fd, fs::path path) : fd_(std::move(fd)), path_(std::move(path)) {}

  Result<size_t> read(char* buffer, size_t size) override {
    for (;;) {
      ssize_t n = ::read(fd_.get(), buffer, size);
      if (n >= 0) {
        return static_cast<size_t>(n);
      }
      if (errno != EINTR) {
        return errno_error(errno, fmt::format("reading {}", path_.string()));
      }
    }
  }

 private:
  UniqueFd fd_;
  fs::path path_;
};

class RealFileLock final : public FileLock {
 public:
  explicit RealFileLock(UniqueFd fd) : fd_(std::move(fd)) {}

 private:
  UniqueFd fd_;  // closing the fd releases the flock
};

}  // namespace

Result<std::string> read_whole_file(const Filesystem& fs, const fs::path& path) {
  std::unique_ptr<ReadableFile> file = KILN_TRY(fs.open(path));
  std::string out;
  char buffer[65536];
  for (;;) {
    size_t n = KILN_TRY(file->read(buffer, sizeof buffer));
    if (n == 0) {
      return out;
    }
    out.append(buffer, n);
  }
}

Status replace_file(Filesystem& fs,
                    const fs::path& temp_dir,
                    const fs::path& target,
                    std::string_view content) {
  std::unique_ptr<WritableFile> file =
      KILN_TRY(fs.create_temp(temp_dir, target.filename().string() + "."));
  fs::path temp = file->path();
  Status written = file->write(content);
  if (written.ok()) {
    written = file->sync();  // the data is on disk before a name can point at it
  }
  Status closed = file->close();
  if (written.ok()) {
    written = closed;
  }
  if (written.ok()) {
    written = fs.rename(temp, target);
  }
  if (!written.ok()) {
    (void)fs.remove(temp);  // best effort: a leftover in tmp/ is only garbage for gc
    return written;
  }
  // The rename itself survives a crash only once the folder holding the new name is synced.
  return fs.sync_dir(target.parent_path());
}

Result<std::unique_ptr<WritableFile>> RealFilesystem::create_temp(const fs::path& dir,
                                                                  std::string_view prefix) {
  std::string templ = (dir / (std::string(prefix) + "XXXXXX")).string();
  int fd = ::mkostemp(templ.data(), O_CLOEXEC);
  if (fd < 0) {
    return errno_error(errno, fmt::format("creating a temporary file in {}", dir.string()));
  }
  UniqueFd owned(fd);
  // mkostemp creates 0600; blobs are readable by anyone who may read the store, as OCI tools
  // run by other users expect.
  if (::fchmod(owned.get(), 0644) != 0) {
    int err = errno;
    ::unlink(templ.c_str());
    return errno_error(err, fmt::format("setting the mode of {}", templ));
  }
  return std::unique_ptr<WritableFile>(std::make_unique<RealWritableFile>(std::move(owned), templ));
}

Status RealFilesystem::rename(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return errno_error(errno, fmt::format("renaming {} to {}", from.string(), to.string()));
  }
  return ok_status();
}

Status RealFilesystem::sync_dir(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return errno_error(errno, fmt::format("opening the folder {}", dir.string()));
  }
  if (::fsync(fd.get()) != 0) {
    return errno_error(errno, fmt::format("syncing the folder {}", dir.string()));
  }
  return ok_status();
}

Status RealFilesystem::remove(const fs::path& path) {
  if (::unlink(path.c_str()) != 0) {
    return errno_error(errno, fmt::format("removing {}", path.string()));
  }
  return ok_status();
}

Status RealFilesystem::create_directories(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return errno_error(ec.value(), fmt::format("creating the folder {}", dir.string()));
  }
  return ok_status();
}

Result<std::unique_ptr<ReadableFile>> RealFilesystem::open(const fs::path& path) const {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return errno_error(errno, fmt::format("opening {}", path.string()));
  }
  return std::unique_ptr<ReadableFile>(std::make_unique<RealReadableFile>(std::move(fd), path));
}

Result<std::vector<std::string>> RealFilesystem::list(const fs::path& dir) const {
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) {
    return errno_error(ec.value(), fmt::format("listing {}", dir.string()));
  }
  return names;
}

Result<FileInfo> RealFilesystem::stat(const fs::path& path) const {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno_error(errno, fmt::format("examining {}", path.string()));
  }
  FileInfo info;
  info.size = static_cast<uint64_t>(st.st_size);
  info.modified = SystemTime(std::chrono::duration_cast<SystemTime::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  info.is_directory = S_ISDIR(st.st_mode);
  return info;
}

Result<std::unique_ptr<FileLock>> RealFilesystem::lock(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    return errno_error(errno, fmt::format("opening the lock {}", path.string()));
  }
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) {
      return errno_error(errno, fmt::format("locking {}", path.string()));
    }
  }
  return std::unique_ptr<FileLock>(std::make_unique<RealFileLock>(std::move(fd)));
}

// --- FaultyFilesystem ------------------------------------------------------------------------

namespace {

std::string_view op_name(FileOp op) {
  switch (op) {
    case FileOp::kCreate:
      return "create";
    case FileOp::kWrite:
      return "write";
    case FileOp::kSync:
      return "sync";
    case FileOp::kRename:
      return "rename";
    case FileOp::kSyncDir:
      return "sync_dir";
    case FileOp::kRemove:
      return "remove";
    case FileOp::kMkdir:
      return "mkdir";
  }
  return "?";
}

class FaultyWritableFile final : public WritableFile {
 public:
  FaultyWritableFile(FaultyFilesystem& owner, std::unique_ptr<WritableFile> base)
      : owner_(owner), base_(std::move(base)) {}

  const fs::path& path() const override { return base_->path(); }

  Status write(std::string_view data) override {
    KILN_TRY(owner_.count_op(FileOp::kWrite, path().string()));
    return base_->write(data);
  }

  Status sync() override {
    KILN_TRY(owner_.count_op(FileOp::kSync, path().string()));
    return base_->sync();
  }

  Status close() override { return base_->close(); }

 private:
  FaultyFilesystem& owner_;
  std::unique_ptr<WritableFile> base_;
};

}  // namespace

Status FaultyFilesystem::count_op(FileOp op, const std::string& what) {
  std::lock_guard<std::mutex> guard(mutex_);
  uint64_t n = ++count_;
  operations_.push_back(fmt::format("{} {}", op_name(op), what));
  bool fail = fail_at_ != 0 && (n == fail_at_ || (mode_ == Mode::kCrash && n > fail_at_));
  if (fail) {
    return make_error(
        ErrorCode::kIo, "injected fault at operation {}: {} {}", n, op_name(op), what);
  }
  return ok_status();
}

std::vector<std::string> FaultyFilesystem::operations() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return operations_;
}

Result<std::unique_ptr<WritableFile>> FaultyFilesystem::create_temp(const fs::path& dir,
                                                                    std::string_view prefix) {
  KILN_TRY(count_op(FileOp::kCreate, (dir / prefix).string()));
  std::unique_ptr<WritableFile> file = KILN_TRY(base_.create_temp(dir, prefix));
  return std::unique_ptr<WritableFile>(
      std::make_unique<FaultyWritableFile>(*this, std::move(file)));
}

Status FaultyFilesystem::rename(const fs::path& from, const fs::path& to) {
  KILN_TRY(count_op(FileOp::kRename, from.string() + " " + to.string()));
  return base_.rename(from, to);
}

Status FaultyFilesystem::sync_dir(const fs::path& dir) {
  KILN_TRY(count_op(FileOp::kSyncDir, dir.string()));
  return base_.sync_dir(dir);
}

Status FaultyFilesystem::remove(const fs::path& path) {
  KILN_TRY(count_op(FileOp::kRemove, path.string()));
  return base_.remove(path);
}

Status FaultyFilesystem::create_directories(const fs::path& dir) {
  KILN_TRY(count_op(FileOp::kMkdir, dir.string()));
  return base_.create_directories(dir);
}

Result<std::unique_ptr<ReadableFile>> FaultyFilesystem::open(const fs::path& path) const {
  return base_.open(path);
}

Result<std::vector<std::string>> FaultyFilesystem::list(const fs::path& dir) const {
  return base_.list(dir);
}

Result<FileInfo> FaultyFilesystem::stat(const fs::path& path) const {
  return base_.stat(path);
}

Result<std::unique_ptr<FileLock>> FaultyFilesystem::lock(const fs::path& path) {
  return base_.lock(path);
}

}  // namespace kiln::store
