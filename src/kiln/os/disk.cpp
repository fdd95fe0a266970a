#include "kiln/os/disk.hpp"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/base/unique_fd.hpp"
#include "kiln/os/process.hpp"

namespace kiln::os {
namespace fs = std::filesystem;

namespace {

// mkfs.ext4 lives in /usr/sbin, which a service's $PATH may lack.
constexpr std::string_view kSbinPath = "/usr/local/sbin:/usr/sbin:/sbin";

std::optional<fs::path> find_mkfs() {
  if (std::optional<fs::path> found = find_program("mkfs.ext4")) {
    return found;
  }
  return find_program("mkfs.ext4", kSbinPath);
}

// Attaches `backing` to a free loop device; returns the device's open descriptor and path.
Result<std::pair<UniqueFd, std::string>> attach_loop(int backing, const fs::path& image) {
  UniqueFd control(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!control.valid()) {
    return errno_error(errno, "opening /dev/loop-control (the loop module)");
  }
  // Another process may take the free device between GET_FREE and CONFIGURE: try again.
  for (int attempt = 0; attempt < 32; ++attempt) {
    int number = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
    if (number < 0) {
      return errno_error(errno, "finding a free loop device");
    }
    std::string device = fmt::format("/dev/loop{}", number);
    UniqueFd loop(::open(device.c_str(), O_RDWR | O_CLOEXEC));
    if (!loop.valid()) {
      return errno_error(errno, fmt::format("opening {}", device));
    }
    loop_config config{};
    config.fd = static_cast<uint32_t>(backing);
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    std::string name = image.string();
    std::memcpy(config.info.lo_file_name,
                name.data(),
                std::min(name.size(), sizeof config.info.lo_file_name - 1));
    if (::ioctl(loop.get(), LOOP_CONFIGURE, &config) == 0) {
      return std::pair{std::move(loop), device};
    }
    if (errno != EBUSY) {
      return errno_error(errno, fmt::format("attaching {} to {}", image.string(), device));
    }
  }
  return make_error(ErrorCode::kUnavailable, "no free loop device for {}", image.string());
}

// The loop device the file open as `fd` is attached to, if any.
Result<std::optional<std::string>> loop_holding(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return errno_error(errno, "fstat");
  }
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator("/sys/block", ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("loop", 0) != 0 || !fs::exists(entry.path() / "loop", ec)) {
      continue;  // not a loop device, or one with nothing attached
    }
    std::string device = "/dev/" + name;
    UniqueFd loop(::open(device.c_str(), O_RDONLY | O_CLOEXEC));
    loop_info64 info{};
    if (!loop.valid() || ::ioctl(loop.get(), LOOP_GET_STATUS64, &info) != 0) {
      continue;  // detached meanwhile
    }
    if (info.lo_inode == st.st_ino && info.lo_device == st.st_dev) {
      return std::optional<std::string>(device);
    }
  }
  return std::optional<std::string>();
}

// /proc/self/mountinfo writes space, tab, newline and backslash as \ooo.
std::string unescape_mountinfo(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && field.size() - i > 3) {
      int value = 0;
      bool octal = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = field[i + k];
        octal = octal && c >= '0' && c <= '7';
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

bool below(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

}  // namespace

bool DiskUsage::full() const {
  return available < (uint64_t{1} << 20) || (inodes > 0 && free_inodes == 0);
}

Status make_disk_image(const fs::path& image, uint64_t size) {
  std::optional<fs::path> mkfs = find_mkfs();
  if (!mkfs) {
    return make_error(ErrorCode::kNotFound,
                      "mkfs.ext4 not found: install the Debian package e2fsprogs");
  }
  {
    UniqueFd fd(::open(image.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd.valid()) {
      return errno_error(errno, fmt::format("creating {}", image.string()));
    }
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
      int err = errno;
      ::unlink(image.c_str());
      return errno_error(err, fmt::format("sizing {}", image.string()));
    }
  }
  // -m 0: the instance's root may use every block; lazy_*_init and nodiscard: mkfs writes only
  // the metadata it must, so the file stays sparse; -F: it is a file, not a device.
  ProcessSpec spec{{mkfs->string(),
                    "-q",
                    "-F",
                    "-t",
                    "ext4",
                    "-m",
                    "0",
                    "-E",
                    "lazy_itable_init=1,lazy_journal_init=1,nodiscard",
                    image.string()}};
  Result<ProcessResult> ran = run_process(spec);
  if (!ran || ran->exit_code != 0 || ran->signal != 0) {
    ::unlink(image.c_str());
    if (!ran) {
      return ran.error();
    }
    return make_error(ErrorCode::kIo,
                      "mkfs.ext4 of {} failed (exit code {}): {}",
                      image.string(),
                      ran->exit_code,
                      tail_lines(ran->stderr_text + ran->stdout_text, 5));
  }
  return ok_status();
}

Status mount_disk_image(const fs::path& image, const fs::path& target) {
  UniqueFd backing(::open(image.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!backing.valid()) {
    return errno_error(errno, fmt::format("opening {}", image.string()));
  }
  // One mount at a time: two kiln processes mounting the same image at once, or a second mount
  // of an image still mounted elsewhere (another mount namespace), would be two ext4 drivers
  // writing one filesystem.
  if (::flock(backing.get(), LOCK_EX) != 0) {
    return errno_error(errno, fmt::format("locking {}", image.string()));
  }
  std::optional<std::string> holder = KILN_TRY(loop_holding(backing.get()));
  if (holder) {
    return make_error(ErrorCode::kConflict,
                      "{} is already attached to {} (mounted in another mount namespace?)",
                      image.string(),
                      *holder);
  }
  auto [loop, device] = KILN_TRY(attach_loop(backing.get(), image));
  // The loop device holds the file now; with autoclear it is released when the mount goes (or
  // right away when `loop` closes, if the mount fails).
  if (::mount(device.c_str(), target.c_str(), "ext4", MS_NOATIME, "noinit_itable,discard") != 0) {
    return errno_error(
        errno, fmt::format("mounting {} ({}) on {}", image.string(), device, target.string()));
  }
  return ok_status();
}

Status unmount(const fs::path& target) {
  if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL &&
      errno != ENOENT) {
    return errno_error(errno, fmt::format("unmounting {}", target.string()));
  }
  return ok_status();
}

bool is_mount_point(const fs::path& path) {
  struct stat self {};
  struct stat parent {};
  if (::lstat(path.c_str(), &self) != 0 || !S_ISDIR(self.st_mode) ||
      ::stat((path / "..").c_str(), &parent) != 0) {
    return false;
  }
  return self.st_dev != parent.st_dev || self.st_ino == parent.st_ino;
}

Status detach_mounts_below(const fs::path& dir, const fs::path& keep) {
  std::string text = KILN_TRY(read_file("/proc/self/mountinfo"));
  // mountinfo has absolute, resolved paths.
  std::error_code ec;
  std::string base = fs::weakly_canonical(fs::absolute(dir), ec).string();
  std::string kept = fs::weakly_canonical(fs::absolute(keep), ec).string();
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  while (!kept.empty() && kept.back() == '/') {
    kept.pop_back();
  }
  std::vector<std::string> targets;
  for (const std::string& line : split(text, '\n')) {
    // Field 5 is the mount point.
    std::vector<std::string> fields = split(line, ' ');
    if (fields.size() < 5) {
      continue;
    }
    std::string point = unescape_mountinfo(fields[4]);
    if (below(point, base) && point != kept && !below(point, kept)) {
      targets.push_back(point);
    }
  }
  // Deepest first.
  std::sort(targets.rbegin(), targets.rend());
  for (const std::string& target : targets) {
    KILN_TRY(unmount(target));
  }
  return ok_status();
}

Result<DiskUsage> disk_usage(const fs::path& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) {
    return errno_error(errno, fmt::format("statvfs {}", path.string()));
  }
  DiskUsage usage;
  usage.size = uint64_t{st.f_blocks} * st.f_frsize;
  usage.available = uint64_t{st.f_bavail} * st.f_frsize;
  usage.inodes = st.f_files;
  usage.free_inodes = st.f_favail;
  return usage;
}

std::string format_bytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  size_t unit = 0;
  uint64_t whole = bytes;
  while (unit + 1 < std::size(kUnits) && whole >= 1024 && whole % 1024 == 0) {
    whole /= 1024;
    ++unit;
  }
  if (unit == 0 && bytes >= 1024) {
    // Not a whole number of KiB: one decimal in the largest unit that fits.
    double value = static_cast<double>(bytes);
    while (unit + 1 < std::size(kUnits) && value >= 1024) {
      value /= 1024;
      ++unit;
    }
    return fmt::format("{:.1f} {}", value, kUnits[unit]);
  }
  return fmt::format("{} {}", whole, kUnits[unit]);
}

}  // namespace kiln::os
