// Paths resolved beneath a directory descriptor, never through a symbolic link (beneath.hpp).

#include "kiln/base/beneath.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

namespace kiln {
namespace fs = std::filesystem;

namespace {

constexpr int kAlways = O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;

// Set once a kernel said it has no openat2: the portable walk is used from then on.
std::atomic<bool> g_no_openat2{false};

Error beneath_error(int errnum, const fs::path& relative) {
  if (errnum == ELOOP) {
    return make_error(ErrorCode::kPermissionDenied,
                      "{}: a symbolic link (kiln does not follow links in this folder)",
                      relative.string());
  }
  if (errnum == EXDEV) {
    return make_error(ErrorCode::kPermissionDenied,
                      "{}: leaves the folder or crosses a mount",
                      relative.string());
  }
  return errno_error(errnum, "opening " + relative.string());
}

std::vector<std::string> components(const fs::path& relative) {
  std::vector<std::string> out;
  for (const fs::path& part : relative) {
    out.push_back(part.string());
  }
  return out;
}

Status write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(errno, "writing");
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return ok_status();
}

// The names in the directory `dir_fd` but `.` and `..` (read through a descriptor of its own).
Result<std::vector<std::string>> names_in(int dir_fd) {
  int listing_fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  DIR* listing = listing_fd < 0 ? nullptr : ::fdopendir(listing_fd);
  if (listing == nullptr) {
    int e = errno;
    if (listing_fd >= 0) {
      ::close(listing_fd);
    }
    return errno_error(e, "listing a folder");
  }
  ::rewinddir(listing);
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(listing)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") {
      names.push_back(std::move(name));
    }
  }
  ::closedir(listing);
  std::sort(names.begin(), names.end());
  return names;
}

struct CopyState {
  const CopyOutLimits& limits;
  CopyOutReport& report;
  size_t entries = 0;
  bool full = false;  // max_entries reached: the rest is skipped once
};

// Copies one regular file `name` of `src_dir` into `dst_dir`.
void copy_file(
    int src_dir, int dst_dir, const std::string& name, const fs::path& shown, CopyState& state) {
  Result<UniqueFd> in = open_beneath(src_dir, name, O_RDONLY | O_NONBLOCK);
  if (!in) {
    state.report.skipped.push_back(shown.string() + ": " + in.error().message);
    return;
  }
  struct stat st {};
  if (::fstat(in->get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    state.report.skipped.push_back(shown.string() + ": not a regular file");
    return;
  }
  uint64_t room =
      state.limits.max_total_bytes - std::min(state.limits.max_total_bytes, state.report.bytes);
  uint64_t allowed = std::min(state.limits.max_file_bytes, room);
  if (allowed == 0 && st.st_size > 0) {
    state.report.skipped.push_back(fmt::format("{}: not copied (the copy reached {} bytes)",
                                               shown.string(),
                                               state.limits.max_total_bytes));
    return;
  }
  // Whatever had the name is replaced by a new file (a link there is removed, not followed).
  ::unlinkat(dst_dir, name.c_str(), 0);
  UniqueFd out(::openat(dst_dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | kAlways, 0644));
  if (!out.valid()) {
    state.report.skipped.push_back(shown.string() + ": " +
                                   errno_error(errno, "creating the copy").message);
    return;
  }
  char buffer[65536];
  uint64_t copied = 0;
  bool cut = false;
  while (true) {
    ssize_t n = ::read(in->get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      state.report.skipped.push_back(shown.string() + ": " + errno_error(errno, "reading").message);
      break;
    }
    if (n == 0) {
      break;
    }
    uint64_t take = std::min<uint64_t>(static_cast<uint64_t>(n), allowed - copied);
    if (Status s = write_all(out.get(), buffer, take); !s) {
      state.report.skipped.push_back(shown.string() + ": " + s.error().message);
      break;
    }
    copied += take;
    if (take < static_cast<uint64_t>(n)) {
      cut = true;
      break;
    }
  }
  if (cut) {
    state.report.skipped.push_back(
        fmt::format("{}: cut at {} bytes (a file is copied up to {} bytes)",
                    shown.string(),
                    copied,
                    state.limits.max_file_bytes));
  }
  state.report.bytes += copied;
  ++state.report.files;
}

void copy_dir(int src_dir, int dst_dir, const fs::path& shown, int depth, CopyState& state) {
  Result<std::vector<std::string>> names = names_in(src_dir);
  if (!names) {
    state.report.skipped.push_back(shown.string() + ": " + names.error().message);
    return;
  }
  for (const std::string& name : *names) {
    fs::path path = shown / name;
    if (state.entries >= state.limits.max_entries) {
      if (!state.full) {
        state.full = true;
        state.report.skipped.push_back(
            fmt::format("{}: not copied, nor what follows (more than {} entries)",
                        path.string(),
                        state.limits.max_entries));
      }
      return;
    }
    ++state.entries;
    struct stat st {};
    if (::fstatat(src_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;  // gone since the listing
    }
    if (S_ISREG(st.st_mode)) {
      copy_file(src_dir, dst_dir, name, path, state);
    } else if (S_ISDIR(st.st_mode)) {
      if (depth + 1 > state.limits.max_depth) {
        state.report.skipped.push_back(
            fmt::format("{}: deeper than {} folders", path.string(), state.limits.max_depth));
        continue;
      }
      Result<UniqueFd> sub = open_beneath(src_dir, name, O_RDONLY | O_DIRECTORY);
      if (!sub) {
        state.report.skipped.push_back(path.string() + ": " + sub.error().message);
        continue;
      }
      if (::mkdirat(dst_dir, name.c_str(), 0755) != 0 && errno != EEXIST) {
        state.report.skipped.push_back(path.string() + ": " +
                                       errno_error(errno, "creating the folder").message);
        continue;
      }
      UniqueFd target(::openat(dst_dir, name.c_str(), O_RDONLY | O_DIRECTORY | kAlways));
      if (!target.valid()) {
        state.report.skipped.push_back(path.string() + ": " +
                                       errno_error(errno, "opening the copy").message);
        continue;
      }
      copy_dir(sub->get(), target.get(), path, depth + 1, state);
    } else if (S_ISLNK(st.st_mode)) {
      state.report.skipped.push_back(path.string() + ": a symbolic link, not copied");
    } else {
      state.report.skipped.push_back(path.string() + ": not a regular file, not copied");
    }
  }
}

}  // namespace

Status check_plain_relative(const fs::path& relative, std::string_view what) {
  std::string text = relative.string();
  if (text.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: empty path", what);
  }
  if (relative.is_absolute()) {
    return make_error(ErrorCode::kInvalidArgument, "{} {}: not a relative path", what, text);
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('/', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    std::string_view part(text.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return make_error(ErrorCode::kInvalidArgument,
                        "{} {}: only plain names, without empty, '.' or '..' parts",
                        what,
                        text);
    }
    start = end + 1;
  }
  return ok_status();
}

namespace detail {

Result<UniqueFd> open_beneath_portable(int dir_fd, const fs::path& relative, int flags) {
  KILN_TRY(check_plain_relative(relative, "path"));
  std::vector<std::string> parts = components(relative);
  UniqueFd current;
  int at = dir_fd;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    // O_DIRECTORY with O_NOFOLLOW: a symbolic link here fails (ENOTDIR or ELOOP).
    UniqueFd next(::openat(at, parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) {
      int e = errno == ENOTDIR ? ELOOP : errno;
      struct stat st {};
      if (e == ELOOP && ::fstatat(at, parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          !S_ISLNK(st.st_mode)) {
        e = ENOTDIR;
      }
      return beneath_error(e, relative);
    }
    current = std::move(next);
    at = current.get();
  }
  int mode = (flags & O_CREAT) != 0 ? 0644 : 0;
  UniqueFd fd(::openat(at, parts.back().c_str(), flags | kAlways, mode));
  if (!fd.valid()) {
    return beneath_error(errno, relative);
  }
  return fd;
}

}  // namespace detail

Result<UniqueFd> open_beneath(int dir_fd, const fs::path& relative, int flags) {
  KILN_TRY(check_plain_relative(relative, "path"));
  flags |= kAlways;
  if (!g_no_openat2.load(std::memory_order_relaxed)) {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags);
    how.mode = (flags & O_CREAT) != 0 ? 0644 : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    long fd;
    do {
      fd = ::syscall(SYS_openat2, dir_fd, relative.c_str(), &how, sizeof how);
    } while (fd < 0 && errno == EAGAIN);
    if (fd >= 0) {
      return UniqueFd(static_cast<int>(fd));
    }
    if (errno != ENOSYS) {
      return beneath_error(errno, relative);
    }
    g_no_openat2.store(true, std::memory_order_relaxed);
  }
  return detail::open_beneath_portable(dir_fd, relative, flags);
}

Result<UniqueFd> open_directory(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | kAlways));
  if (!fd.valid()) {
    return errno_error(errno, "opening the folder " + path.string());
  }
  return fd;
}

Result<std::string> read_file_beneath(int dir_fd, const fs::path& relative, uint64_t max_bytes) {
  UniqueFd fd = KILN_TRY(open_beneath(dir_fd, relative, O_RDONLY | O_NONBLOCK));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return errno_error(errno, "reading " + relative.string());
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(ErrorCode::kInvalidArgument, "{}: not a regular file", relative.string());
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: {} bytes, more than the {} read here",
                      relative.string(),
                      st.st_size,
                      max_bytes);
  }
  std::string text;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(errno, "reading " + relative.string());
    }
    if (n == 0) {
      break;
    }
    if (text.size() + static_cast<size_t>(n) > max_bytes) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: more than the {} bytes read here",
                        relative.string(),
                        max_bytes);
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

Result<UniqueFd> make_directories_beneath(int dir_fd, const fs::path& relative, int mode) {
  KILN_TRY(check_plain_relative(relative, "folder"));
  UniqueFd current;
  int at = dir_fd;
  for (const std::string& part : components(relative)) {
    if (::mkdirat(at, part.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) {
      return errno_error(errno, fmt::format("creating {} in {}", part, relative.string()));
    }
    current = KILN_TRY_CTX(open_beneath(at, part, O_RDONLY | O_DIRECTORY), relative.string());
    at = current.get();
  }
  return current;
}

namespace {

// Folders deeper than this are not removed (the recursion stays within the stack).
constexpr int kMaxRemoveDepth = 512;

Status remove_at(int dir_fd, const std::string& name, int depth) {
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? ok_status() : errno_error(errno, "removing " + name);
  }
  if (S_ISDIR(st.st_mode)) {
    Result<UniqueFd> sub = open_beneath(dir_fd, name, O_RDONLY | O_DIRECTORY);
    if (!sub) {
      return sub.error();
    }
    if (depth >= kMaxRemoveDepth) {
      return make_error(
          ErrorCode::kInvalidArgument, "{}: more than {} folders deep", name, kMaxRemoveDepth);
    }
    std::vector<std::string> names = KILN_TRY_CTX(names_in(sub->get()), name);
    for (const std::string& child : names) {
      KILN_TRY_CTX(remove_at(sub->get(), child, depth + 1), name);
    }
    if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return errno_error(errno, "removing " + name);
    }
    return ok_status();
  }
  if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
    return errno_error(errno, "removing " + name);
  }
  return ok_status();
}

}  // namespace

Status remove_beneath(int dir_fd, const std::string& name) {
  KILN_TRY(check_plain_relative(name, "name"));
  if (name.find('/') != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument, "{}: one name, not a path", name);
  }
  return remove_at(dir_fd, name, 0);
}

Status remove_contents_beneath(int dir_fd, const std::string& name) {
  UniqueFd folder = KILN_TRY(open_beneath(dir_fd, name, O_RDONLY | O_DIRECTORY));
  std::vector<std::string> names = KILN_TRY_CTX(names_in(folder.get()), name);
  for (const std::string& child : names) {
    KILN_TRY_CTX(remove_at(folder.get(), child, 1), name);
  }
  return ok_status();
}

Result<CopyOutReport> copy_out_beneath(int dir_fd,
                                       const fs::path& relative,
                                       const fs::path& destination,
                                       const CopyOutLimits& limits) {
  UniqueFd source = KILN_TRY(open_beneath(dir_fd, relative, O_RDONLY | O_DIRECTORY));
  std::error_code ec;
  fs::create_directories(destination, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "creating {}: {}", destination.string(), ec.message());
  }
  UniqueFd target = KILN_TRY(open_directory(destination));
  CopyOutReport report;
  CopyState state{limits, report};
  copy_dir(source.get(), target.get(), relative, 0, state);
  return report;
}

}  // namespace kiln
