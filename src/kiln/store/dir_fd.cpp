#include "kiln/store/dir_fd.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "kiln/store/tar_path.hpp"

namespace kiln::store {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

struct DirClose {
  void operator()(DIR* dir) const { closedir(dir); }
};

// Why `name` in `dir_fd` could not be opened as a directory, for an entry's error message.
Error not_a_directory(int dir_fd,
                      const std::string& name,
                      std::string_view so_far,
                      std::string_view entry) {
  struct stat st {};
  if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
    return entry_error(entry, fmt::format("path goes through the symlink {:?}", so_far));
  }
  return entry_error(entry, fmt::format("{:?} is not a directory", so_far));
}

Result<UniqueFd> open_child_dir(int dir_fd,
                                const std::string& name,
                                bool create,
                                std::string_view so_far,
                                std::string_view entry) {
  UniqueFd fd(openat(dir_fd, name.c_str(), kDirFlags));
  if (!fd.valid() && errno == ENOENT && create) {
    // EEXIST: made meanwhile, by nobody else than a racing writer of the same target; the
    // openat below decides what it is.
    if (mkdirat(dir_fd, name.c_str(), 0755) != 0 && errno != EEXIST) {
      return errno_error(errno, fmt::format("creating directory {:?}", so_far));
    }
    fd = UniqueFd(openat(dir_fd, name.c_str(), kDirFlags));
  }
  if (!fd.valid()) {
    int err = errno;
    // ELOOP: a symlink (O_NOFOLLOW); ENOTDIR: anything else that is not a directory.
    if (err == ELOOP || err == ENOTDIR) {
      return not_a_directory(dir_fd, name, so_far, entry);
    }
    return errno_error(err, fmt::format("opening directory {:?}", so_far));
  }
  return fd;
}

}  // namespace

Result<std::vector<std::string>> list_dir(int dir_fd) {
  // fdopendir takes the descriptor it is given: give it its own, reading from the start.
  int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return errno_error(errno, "opening a directory to list it");
  }
  std::unique_ptr<DIR, DirClose> dir(fdopendir(fd));
  if (!dir) {
    int err = errno;
    close(fd);
    return errno_error(err, "listing a directory");
  }
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    dirent* entry = readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0) {
        return errno_error(errno, "reading a directory");
      }
      break;
    }
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status remove_at(int dir_fd, const std::string& name) {
  struct stat st {};
  if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) {
      return ok_status();
    }
    return errno_error(errno, fmt::format("inspecting {:?}", name));
  }
  if (S_ISDIR(st.st_mode)) {
    UniqueFd sub(openat(dir_fd, name.c_str(), kDirFlags));
    if (!sub.valid()) {
      return errno_error(errno, fmt::format("opening {:?} to remove it", name));
    }
    for (const std::string& child : KILN_TRY(list_dir(sub.get()))) {
      KILN_TRY_CTX(remove_at(sub.get(), child), fmt::format("removing {:?}", name));
    }
  }
  if (unlinkat(dir_fd, name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0 &&
      errno != ENOENT) {
    return errno_error(errno, fmt::format("removing {:?}", name));
  }
  return ok_status();
}

Result<UniqueFd> open_dir_beneath(int root_fd,
                                  std::string_view path,
                                  bool create,
                                  std::string_view entry) {
  UniqueFd current(fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!current.valid()) {
    return errno_error(errno, "duplicating the target directory's descriptor");
  }
  size_t pos = 0;
  while (pos < path.size()) {
    size_t end = std::min(path.find('/', pos), path.size());
    std::string name(path.substr(pos, end - pos));
    current = KILN_TRY(open_child_dir(current.get(), name, create, path.substr(0, end), entry));
    pos = end + 1;
  }
  return current;
}

}  // namespace kiln::store
