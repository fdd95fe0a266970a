#include "kiln/instance/copy.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "kiln/base/unique_fd.hpp"

namespace kiln::instance {
namespace fs = std::filesystem;

namespace {

// openat2(2) with the instance root as the root of the walk: absolute symlinks and ".." stay
// inside it (the kernel has it since 5.6; glibc 2.36 has no wrapper).
Result<UniqueFd> open_in_root(int root, const std::string& path, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string relative = path.empty() ? "." : path;
  int fd = static_cast<int>(::syscall(SYS_openat2, root, relative.c_str(), &how, sizeof how));
  if (fd < 0) {
    return errno_error(errno, fmt::format("{} (in the instance)", path));
  }
  return UniqueFd(fd);
}

Result<UniqueFd> instance_root(const InstanceRecord& instance) {
  if (instance.state() != State::kRunning) {
    return make_error(
        ErrorCode::kConflict, "instance {} is not running: start it first", instance.id);
  }
  std::string root = fmt::format("/proc/{}/root", instance.init_pid);
  UniqueFd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return errno_error(errno, fmt::format("opening the root of instance {}", instance.id));
  }
  return fd;
}

Status copy_fd(int from, int to, const std::string& what) {
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return errno_error(errno, "reading " + what);
    }
    if (n == 0) {
      return ok_status();
    }
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(to, buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno != EINTR) {
        return errno_error(errno, "writing " + what);
      }
      done += w > 0 ? w : 0;
    }
  }
}

void keep_owner(int fd, const struct stat& st) {
  if (::geteuid() == 0) {
    [[maybe_unused]] int rc = ::fchown(fd, st.st_uid, st.st_gid);
  }
}

// Copies the entry `from` of the open folder `from_dir` to the entry `to` of the open folder
// `to_dir`, creating without following links on either side.
Status copy_entry(int from_dir,
                  const std::string& from,
                  int to_dir,
                  const std::string& to,
                  const std::string& where) {
  struct stat st {};
  if (::fstatat(from_dir, from.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno_error(errno, where);
  }
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = ::readlinkat(from_dir, from.c_str(), target, sizeof target - 1);
    if (n < 0) {
      return errno_error(errno, where);
    }
    target[n] = '\0';
    ::unlinkat(to_dir, to.c_str(), 0);
    if (::symlinkat(target, to_dir, to.c_str()) != 0) {
      return errno_error(errno, where);
    }
    return ok_status();
  }
  if (S_ISDIR(st.st_mode)) {
    if (::mkdirat(to_dir, to.c_str(), st.st_mode & 07777) != 0 && errno != EEXIST) {
      return errno_error(errno, where);
    }
    UniqueFd src(::openat(from_dir, from.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    UniqueFd dst(::openat(to_dir, to.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!src.valid() || !dst.valid()) {
      return errno_error(errno, where);
    }
    keep_owner(dst.get(), st);
    DIR* dir = ::fdopendir(::dup(src.get()));
    if (dir == nullptr) {
      return errno_error(errno, where);
    }
    Status status;
    while (dirent* e = ::readdir(dir)) {
      std::string child = e->d_name;
      if (child != "." && child != ".." && status.ok()) {
        status = copy_entry(src.get(), child, dst.get(), child, where + "/" + child);
      }
    }
    ::closedir(dir);
    return status;
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(
        ErrorCode::kInvalidArgument, "{}: only files, folders and links are copied", where);
  }
  UniqueFd src(::openat(from_dir, from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  ::unlinkat(to_dir, to.c_str(), 0);  // replace, never write through what was there
  UniqueFd dst(::openat(to_dir,
                        to.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        st.st_mode & 07777));
  if (!src.valid() || !dst.valid()) {
    return errno_error(errno, where);
  }
  keep_owner(dst.get(), st);
  return copy_fd(src.get(), dst.get(), where);
}

// The folder to copy into and the name to give: into `dest` itself when it is a folder (or ends
// in '/'), else into its parent under its last component.
std::pair<std::string, std::string> split_destination(const std::string& dest,
                                                      bool dest_is_folder,
                                                      const std::string& source_name) {
  if (dest_is_folder || dest.empty() || dest.back() == '/') {
    return {dest, source_name};
  }
  fs::path p(dest);
  return {p.parent_path().string(), p.filename().string()};
}

}  // namespace

Status copy_into(const InstanceRecord& instance,
                 const fs::path& source,
                 const std::string& destination) {
  UniqueFd root = KILN_TRY(instance_root(instance));
  bool is_folder = open_in_root(root.get(), destination, O_PATH | O_DIRECTORY).ok();
  auto [folder, name] = split_destination(destination, is_folder, source.filename().string());
  UniqueFd to = KILN_TRY(open_in_root(root.get(), folder, O_RDONLY | O_DIRECTORY));
  fs::path parent = source.parent_path().empty() ? fs::path(".") : source.parent_path();
  UniqueFd from(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!from.valid()) {
    return errno_error(errno, parent.string());
  }
  return copy_entry(from.get(), source.filename().string(), to.get(), name, source.string());
}

Status copy_out_of(const InstanceRecord& instance,
                   const std::string& source,
                   const fs::path& destination) {
  UniqueFd root = KILN_TRY(instance_root(instance));
  fs::path src(source);
  std::string parent = src.parent_path().string();
  UniqueFd from = KILN_TRY(open_in_root(root.get(), parent, O_RDONLY | O_DIRECTORY));
  std::error_code ec;
  bool is_folder = fs::is_directory(destination, ec);
  auto [folder, name] = split_destination(destination.string(), is_folder, src.filename().string());
  UniqueFd to(::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!to.valid()) {
    return errno_error(errno, folder);
  }
  // The source's own name is looked up in its folder without following a final symlink.
  return copy_entry(from.get(), src.filename().string(), to.get(), name, source);
}

}  // namespace kiln::instance
