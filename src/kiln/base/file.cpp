#include "kiln/base/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <vector>

#include "kiln/base/unique_fd.hpp"

namespace kiln {
namespace fs = std::filesystem;

namespace {

Status write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(errno, fmt::format("writing {}", path.string()));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok_status();
}

Status write_with_flags(const fs::path& path, std::string_view content, int flags, int mode) {
  UniqueFd fd(::open(path.c_str(), flags | O_WRONLY | O_CREAT | O_CLOEXEC, mode));
  if (!fd.valid()) {
    return errno_error(errno, fmt::format("opening {}", path.string()));
  }
  return write_all(fd.get(), content, path);
}

}  // namespace

Result<std::string> read_file(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return errno_error(errno, fmt::format("opening {}", path.string()));
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(errno, fmt::format("reading {}", path.string()));
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status write_file(const fs::path& path, std::string_view content, int mode) {
  return write_with_flags(path, content, O_TRUNC, mode);
}

Status append_file(const fs::path& path, std::string_view content) {
  return write_with_flags(path, content, O_APPEND, 0644);
}

Result<TempDir> TempDir::create(std::string_view prefix, const fs::path& parent) {
  fs::path base = parent;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  }
  std::string templ = (base / (std::string(prefix) + "XXXXXX")).string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return errno_error(errno, fmt::format("creating a temporary directory in {}", base.string()));
  }
  return TempDir(fs::path(buf.data()));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)), keep_(other.keep_) {
  other.path_.clear();
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    // Remove the directory this owned; calling ~TempDir() here would destroy path_ itself.
    if (!path_.empty() && !keep_) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
    path_ = std::move(other.path_);
    keep_ = other.keep_;
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  if (!path_.empty() && !keep_) {
    std::error_code ec;
    fs::remove_all(path_, ec);  // best effort: a destructor cannot report
  }
}

Result<AtomicFile> AtomicFile::open(const fs::path& target, int mode) {
  std::string templ = target.string() + ".tmp.XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  int fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd < 0) {
    return errno_error(errno, fmt::format("creating a temporary file for {}", target.string()));
  }
  ::fchmod(fd, static_cast<mode_t>(mode));
  return AtomicFile(target, fs::path(buf.data()), fd);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : target_(std::move(other.target_)), temp_(std::move(other.temp_)), fd_(other.fd_) {
  other.fd_ = -1;
  other.temp_.clear();
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_.c_str());  // discarded: the target keeps its old content
  }
}

Status AtomicFile::write(std::string_view data) {
  return write_all(fd_, data, temp_);
}

Status AtomicFile::commit() {
  // fsync before rename so the new name never points at unwritten data after a crash.
  if (::fsync(fd_) != 0) {
    return errno_error(errno, fmt::format("syncing {}", temp_.string()));
  }
  ::close(std::exchange(fd_, -1));
  if (::rename(temp_.c_str(), target_.c_str()) != 0) {
    int err = errno;
    ::unlink(temp_.c_str());
    return errno_error(err, fmt::format("renaming {} to {}", temp_.string(), target_.string()));
  }
  // fsync the directory so the rename itself survives a crash.
  fs::path dir = target_.parent_path().empty() ? fs::path(".") : target_.parent_path();
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.valid()) {
    ::fsync(dfd.get());
  }
  return ok_status();
}

Status replace_file(const fs::path& path, std::string_view content, int mode) {
  std::string templ = path.string() + ".tmp.XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  UniqueFd fd(::mkostemp(buf.data(), O_CLOEXEC));
  if (!fd.valid()) {
    return errno_error(errno, fmt::format("creating a temporary file for {}", path.string()));
  }
  ::fchmod(fd.get(), static_cast<mode_t>(mode));
  Status written = write_all(fd.get(), content, buf.data());
  if (written && ::rename(buf.data(), path.c_str()) != 0) {
    written = errno_error(errno, fmt::format("renaming into {}", path.string()));
  }
  if (!written) {
    ::unlink(buf.data());
  }
  return written;
}

Status write_file_atomic(const fs::path& path, std::string_view content, int mode) {
  AtomicFile file = KILN_TRY(AtomicFile::open(path, mode));
  KILN_TRY(file.write(content));
  return file.commit();
}

}  // namespace kiln
