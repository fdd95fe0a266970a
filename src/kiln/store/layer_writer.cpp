// write_layer_from_tree and write_layer_from_upper: a directory walked in sorted order, written
// as tar into a LayerSink.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "kiln/base/unique_fd.hpp"
#include "kiln/store/archive_io.hpp"
#include "kiln/store/dir_fd.hpp"
#include "kiln/store/layer.hpp"
#include "kiln/store/layer_sink.hpp"
#include "kiln/store/tar_path.hpp"

namespace kiln::store {
namespace {

enum class TreeKind { kRootfs, kOverlayUpper };

constexpr size_t kReadChunk = 256 * 1024;

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// overlayfs's xattrs are named trusted.overlay.* (or user.overlay.* on a "userxattr" mount).
std::optional<std::string_view> overlay_xattr(std::string_view name) {
  for (std::string_view prefix : {"trusted.overlay.", "user.overlay."}) {
    if (starts_with(name, prefix)) {
      return name.substr(prefix.size());
    }
  }
  return std::nullopt;
}

struct Xattr {
  std::string name;
  std::string value;
};

// What the xattrs of one file say.
struct XattrScan {
  std::vector<Xattr> carried;  // copied into the layer
  bool opaque = false;         // overlay: the directory hides its lower content
  std::string needs_lower;     // overlay: an xattr that makes the file depend on lower layers
};

// The names of `path`'s xattrs (not following a symlink), sorted.
Result<std::vector<std::string>> xattr_names(const std::string& path) {
  std::vector<char> buffer(1024);
  ssize_t n = 0;
  for (;;) {
    n = llistxattr(path.c_str(), buffer.data(), buffer.size());
    if (n >= 0) {
      break;
    }
    if (errno == ENOTSUP) {
      return std::vector<std::string>();
    }
    if (errno != ERANGE) {
      return errno_error(errno, fmt::format("listing the xattrs of {}", path));
    }
    buffer.resize(buffer.size() * 4);
  }
  std::vector<std::string> names;
  for (ssize_t pos = 0; pos < n;) {
    std::string name(buffer.data() + pos);
    pos += static_cast<ssize_t>(name.size()) + 1;
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The value of one xattr; nullopt when it vanished since it was listed.
Result<std::optional<std::string>> xattr_value(const std::string& path, const std::string& name) {
  std::string value(256, '\0');
  for (;;) {
    ssize_t n = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (n >= 0) {
      value.resize(static_cast<size_t>(n));
      return std::optional<std::string>(std::move(value));
    }
    if (errno == ENODATA) {
      return std::optional<std::string>();
    }
    if (errno != ERANGE) {
      return errno_error(errno, fmt::format("reading the xattr {} of {}", name, path));
    }
    value.resize(value.size() * 4);
  }
}

Result<XattrScan> scan_xattrs(const std::string& path) {
  XattrScan scan;
  for (const std::string& name : KILN_TRY(xattr_names(path))) {
    std::optional<std::string> value = KILN_TRY(xattr_value(path, name));
    if (!value) {
      continue;
    }
    if (std::optional<std::string_view> overlay = overlay_xattr(name)) {
      if (*overlay == "opaque") {
        scan.opaque = *value == "y";
      } else if (*overlay == "redirect" || *overlay == "metacopy") {
        scan.needs_lower = name;
      }
      continue;
    }
    if (!is_foreign_xattr(name)) {
      scan.carried.push_back({name, std::move(*value)});
    }
  }
  return scan;
}

std::string join(std::string_view parent, std::string_view name) {
  return parent.empty() ? std::string(name) : fmt::format("{}/{}", parent, name);
}

// An empty regular file entry of mode 0: a whiteout or an opaque marker.
Status write_marker(TarWriter& tar, const std::string& name, const struct stat& st) {
  ArchiveEntry entry(archive_entry_new());
  archive_entry_copy_pathname(entry.get(), name.c_str());
  archive_entry_set_mode(entry.get(), AE_IFREG);
  archive_entry_set_uid(entry.get(), st.st_uid);
  archive_entry_set_gid(entry.get(), st.st_gid);
  archive_entry_set_mtime(entry.get(), st.st_mtim.tv_sec, 0);
  archive_entry_set_size(entry.get(), 0);
  return tar.write_header(entry.get(), name);
}

// Writes the entries below one directory tree, depth first in sorted order.
class TreeWriter {
 public:
  TreeWriter(TarWriter& tar, TreeKind kind, std::string root)
      : tar_(tar), kind_(kind), root_(std::move(root)), buffer_(kReadChunk) {}

  // Writes everything in `dir_fd`, whose path in the layer is `rel` ("" for the root).
  Status write_children(int dir_fd, const std::string& rel) {
    for (const std::string& name :
         KILN_TRY_CTX(list_dir(dir_fd), fmt::format("listing {}", disk_path(rel)))) {
      KILN_TRY(write_entry(dir_fd, name, join(rel, name)));
    }
    return ok_status();
  }

  // The root directory itself is no entry, but in an upper directory it may be opaque.
  Status write_root_marker() {
    if (kind_ != TreeKind::kOverlayUpper) {
      return ok_status();
    }
    XattrScan xattrs = KILN_TRY(scan_xattrs(root_));
    struct stat st {};
    if (xattrs.opaque && lstat(root_.c_str(), &st) == 0) {
      return write_marker(tar_, std::string(kOpaqueWhiteout), st);
    }
    return ok_status();
  }

 private:
  std::string disk_path(const std::string& rel) const {
    return rel.empty() ? root_ : fmt::format("{}/{}", root_, rel);
  }

  Status write_entry(int dir_fd, const std::string& name, const std::string& rel) {
    struct stat st {};
    if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return errno_error(errno, fmt::format("inspecting {}", disk_path(rel)));
    }
    if (kind_ == TreeKind::kOverlayUpper && S_ISCHR(st.st_mode) && st.st_rdev == 0) {
      EntryPath path = split_entry_path(rel);
      return write_marker(tar_, join(path.parent, fmt::format(".wh.{}", path.base)), st);
    }
    if (S_ISSOCK(st.st_mode)) {
      return ok_status();  // tar has no sockets; a socket is a process's, not content
    }
    XattrScan xattrs = KILN_TRY(scan_xattrs(disk_path(rel)));
    if (!xattrs.needs_lower.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{} has the xattr {}: the overlay was mounted with redirect_dir or "
                        "metacopy, so its upper directory is not a layer by itself",
                        disk_path(rel),
                        xattrs.needs_lower);
    }
    ArchiveEntry entry = make_entry(rel, st, xattrs);
    if (S_ISREG(st.st_mode) && st.st_nlink > 1 && link_to_first(entry.get(), rel, st)) {
      return tar_.write_header(entry.get(), rel);
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target = KILN_TRY(read_link(dir_fd, name, rel));
      archive_entry_copy_symlink(entry.get(), target.c_str());
    }
    if (S_ISREG(st.st_mode)) {
      KILN_TRY(charge(rel, static_cast<uint64_t>(st.st_size)));
    }
    KILN_TRY(tar_.write_header(entry.get(), rel));
    if (S_ISREG(st.st_mode)) {
      return write_content(dir_fd, name, rel, static_cast<uint64_t>(st.st_size));
    }
    if (S_ISDIR(st.st_mode)) {
      return write_directory(dir_fd, name, rel, st, xattrs.opaque);
    }
    return ok_status();
  }

  // Counts a file's logical size against what unpacking accepts (kDefaultMaxTotalBytes): a layer
  // no instance could use is not written, and a sparse file of terabytes (an 8 GiB disk holds
  // one) does not keep a snapshot hashing zeros for hours.
  Status charge(const std::string& rel, uint64_t size) {
    total_bytes_ += size;
    if (total_bytes_ > kDefaultMaxTotalBytes) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: the files of the layer exceed {} GiB in all (sparse files count "
                        "whole), more than a layer may unpack to",
                        disk_path(rel),
                        kDefaultMaxTotalBytes >> 30);
    }
    return ok_status();
  }

  // Makes `entry` a hardlink to the first path of its inode, if that was written already; else
  // records `rel` as that first path.
  bool link_to_first(archive_entry* entry, const std::string& rel, const struct stat& st) {
    auto [first, inserted] = first_links_.try_emplace({st.st_dev, st.st_ino}, rel);
    if (inserted) {
      return false;
    }
    archive_entry_copy_hardlink(entry, first->second.c_str());
    archive_entry_set_size(entry, 0);
    return true;
  }

  // What follows a directory's entry: its opaque marker, then its content.
  Status write_directory(int dir_fd,
                         const std::string& name,
                         const std::string& rel,
                         const struct stat& st,
                         bool opaque) {
    if (opaque) {
      KILN_TRY(write_marker(tar_, join(rel, kOpaqueWhiteout), st));
    }
    UniqueFd sub(openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub.valid()) {
      return errno_error(errno, fmt::format("opening {}", disk_path(rel)));
    }
    return write_children(sub.get(), rel);
  }

  static ArchiveEntry make_entry(const std::string& rel,
                                 const struct stat& st,
                                 const XattrScan& xattrs) {
    ArchiveEntry entry(archive_entry_new());
    archive_entry_copy_pathname(entry.get(), rel.c_str());
    archive_entry_set_mode(entry.get(), st.st_mode);  // type and permission bits
    archive_entry_set_uid(entry.get(), st.st_uid);
    archive_entry_set_gid(entry.get(), st.st_gid);
    // Whole seconds, no atime/ctime (as Docker and BuildKit do): the tar depends on the content,
    // not on when it was last read, and needs no pax header for times.
    archive_entry_set_mtime(entry.get(), st.st_mtim.tv_sec, 0);
    if (S_ISREG(st.st_mode)) {
      archive_entry_set_size(entry.get(), st.st_size);
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      archive_entry_set_rdev(entry.get(), st.st_rdev);
    }
    for (const Xattr& xattr : xattrs.carried) {
      archive_entry_xattr_add_entry(
          entry.get(), xattr.name.c_str(), xattr.value.data(), xattr.value.size());
    }
    return entry;
  }

  Result<std::string> read_link(int dir_fd, const std::string& name, const std::string& rel) {
    std::string target(256, '\0');
    for (;;) {
      ssize_t n = readlinkat(dir_fd, name.c_str(), target.data(), target.size());
      if (n < 0) {
        return errno_error(errno, fmt::format("reading the symlink {}", disk_path(rel)));
      }
      if (static_cast<size_t>(n) < target.size()) {
        target.resize(static_cast<size_t>(n));
        return target;
      }
      target.resize(target.size() * 4);
    }
  }

  // Copies exactly `size` bytes (the size the header announced) of the file into the tar.
  Status write_content(int dir_fd, const std::string& name, const std::string& rel, uint64_t size) {
    UniqueFd fd(openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
      return errno_error(errno, fmt::format("opening {}", disk_path(rel)));
    }
    while (size > 0) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(size, buffer_.size()));
      ssize_t n = read(fd.get(), buffer_.data(), want);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return errno_error(errno, fmt::format("reading {}", disk_path(rel)));
      }
      if (n == 0) {
        return make_error(
            ErrorCode::kConflict, "{} shrank while it was being written", disk_path(rel));
      }
      KILN_TRY(tar_.write_data(std::string_view(buffer_.data(), static_cast<size_t>(n)), rel));
      size -= static_cast<uint64_t>(n);
    }
    return ok_status();
  }

  TarWriter& tar_;
  TreeKind kind_;
  std::string root_;
  // The first path of every multiply-linked regular file met so far.
  std::map<std::pair<dev_t, ino_t>, std::string> first_links_;
  std::vector<char> buffer_;
  uint64_t total_bytes_ = 0;
};

Result<LayerInfo> write_tree(const std::filesystem::path& dir,
                             TreeKind kind,
                             LayerFormat format,
                             BlobWriter& blob) {
  UniqueFd root(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) {
    return errno_error(errno, fmt::format("opening {}", dir.string()));
  }
  LayerSink sink = KILN_TRY(LayerSink::create(format, blob));
  TarWriter tar =
      KILN_TRY(TarWriter::open([&sink](std::string_view bytes) { return sink.write(bytes); }));
  TreeWriter writer(tar, kind, dir.string());
  KILN_TRY(writer.write_root_marker());
  KILN_TRY(writer.write_children(root.get(), ""));
  KILN_TRY(tar.close());
  return sink.finish();
}

}  // namespace

Result<LayerInfo> write_layer_from_tree(const std::filesystem::path& dir,
                                        LayerFormat format,
                                        BlobWriter& blob) {
  return KILN_TRY_CTX(write_tree(dir, TreeKind::kRootfs, format, blob),
                      fmt::format("writing a layer from {}", dir.string()));
}

Result<LayerInfo> write_layer_from_upper(const std::filesystem::path& upper_dir,
                                         LayerFormat format,
                                         BlobWriter& blob) {
  return KILN_TRY_CTX(
      write_tree(upper_dir, TreeKind::kOverlayUpper, format, blob),
      fmt::format("writing a layer from the upper directory {}", upper_dir.string()));
}

}  // namespace kiln::store
