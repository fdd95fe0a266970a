// unpack_layer: a hostile layer archive unpacked below a directory descriptor.
//
// Why not libarchive's archive_write_disk with ARCHIVE_EXTRACT_SECURE_*: it resolves every path
// from the current working directory, and a threaded process cannot chdir for one task. So the
// same rules are enforced here, by construction rather than by checking: every name passes
// clean_entry_path (no absolute path, no ".."), every parent directory is opened one component at
// a time with O_NOFOLLOW (open_dir_beneath: a symlink on the way is refused, as with
// ARCHIVE_EXTRACT_SECURE_SYMLINKS), and the last component is created with *at() calls that do
// not follow it, after removing whatever was there (as ARCHIVE_EXTRACT_UNLINK).

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "kiln/base/log.hpp"
#include "kiln/base/unique_fd.hpp"
#include "kiln/store/archive_io.hpp"
#include "kiln/store/dir_fd.hpp"
#include "kiln/store/layer.hpp"
#include "kiln/store/tar_path.hpp"

namespace kiln::store {
namespace {

constexpr const char* kOverlayOpaqueXattr = "trusted.overlay.opaque";
// Zeros in blocks of this size (aligned in the file) are left as holes.
constexpr size_t kSparseBlock = 4096;

std::string join(std::string_view parent, std::string_view name) {
  return parent.empty() ? std::string(name) : fmt::format("{}/{}", parent, name);
}

// Metadata of a directory, applied once the whole archive is unpacked: its mtime would change
// with every child written, and a read-only mode would stop the children being written.
struct DirMetadata {
  std::string path;
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t mode = 0755;
  bool has_mtime = false;
  timespec mtime{};
};

class Unpacker {
 public:
  Unpacker(int root_fd, const UnpackOptions& options)
      : root_fd_(root_fd),
        options_(options),
        root_(geteuid() == 0),
        budget_(options.max_total_bytes, options.max_entries) {}

  Status entry(archive* a, archive_entry* e) {
    std::string_view raw = entry_pathname(e);
    std::string path = KILN_TRY(clean_entry_path(raw));
    KILN_TRY(budget_.charge(e, raw));
    KILN_TRY(check_entry_owner(e, raw));
    ++stats_.entries;
    if (path.empty()) {
      return ok_status();  // the root: the target's own metadata is its creator's business
    }
    EntryPath split = split_entry_path(path);
    Whiteout whiteout = classify_whiteout(split.base);
    switch (whiteout.kind) {
      case WhiteoutKind::kNone:
        break;
      case WhiteoutKind::kMeta:
        ++stats_.skipped;
        return ok_status();
      case WhiteoutKind::kInvalid:
        return entry_error(raw, "whiteout of no name, \".\" or \"..\"");
      case WhiteoutKind::kRemove:
      case WhiteoutKind::kOpaque:
        return apply_whiteout(e, raw, path, whiteout);
    }
    int dir = KILN_TRY(parent_dir(split.parent, raw, true));
    KILN_TRY(create(a, Current{e, raw, path, dir, std::string(split.base)}));
    if (!options_.as_overlay_lower) {
      mark_written(path);
    }
    return ok_status();
  }

  // Applies the directories' deferred metadata, deepest first.
  Status finish() {
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
      Result<UniqueFd> fd = open_dir_beneath(root_fd_, it->path, false, it->path);
      if (!fd.ok()) {
        continue;  // replaced by a later entry or removed by a whiteout: nothing to apply
      }
      KILN_TRY(apply_owner_and_mode(fd->get(), it->path, it->uid, it->gid, it->mode));
      if (it->has_mtime) {
        timespec times[2] = {it->mtime, it->mtime};
        if (futimens(fd->get(), times) != 0) {
          return errno_error(errno, fmt::format("setting the mtime of {:?}", it->path));
        }
      }
    }
    return ok_status();
  }

  const UnpackStats& stats() const { return stats_; }

 private:
  // The entry being unpacked: `dir` is its parent directory, `base` its name there.
  struct Current {
    archive_entry* e;
    std::string_view raw;
    const std::string& path;
    int dir;
    std::string base;
  };

  static uid_t uid_of(archive_entry* e) { return static_cast<uid_t>(archive_entry_uid(e)); }
  static gid_t gid_of(archive_entry* e) { return static_cast<gid_t>(archive_entry_gid(e)); }

  // The parent directory of an entry, created if missing. Consecutive entries mostly share a
  // parent, so the last one stays open. It cannot go stale: an entry only ever removes or
  // replaces things inside its own parent, which then is the cached directory, never the
  // cached directory itself.
  Result<int> parent_dir(std::string_view parent, std::string_view raw, bool create) {
    if (!cached_dir_.valid() || parent != cached_parent_) {
      cached_dir_ = KILN_TRY(open_dir_beneath(root_fd_, parent, create, raw));
      cached_parent_ = parent;
    }
    return cached_dir_.get();
  }

  // Records `path` and its parents (which may have been made implicitly) as this layer's own.
  void mark_written(std::string_view path) {
    while (!path.empty() && written_.insert(std::string(path)).second) {
      path = split_entry_path(path).parent;
    }
  }

  Status create(archive* a, const Current& c) {
    if (!entry_hardlink(c.e).empty()) {
      return create_hardlink(c);
    }
    switch (archive_entry_filetype(c.e)) {
      case AE_IFREG:
        return create_file(a, c);
      case AE_IFDIR:
        return create_directory(c);
      case AE_IFLNK:
        return create_symlink(c);
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO:
        return create_node(c);
      default:
        ++stats_.skipped;  // sockets and unknown types
        return ok_status();
    }
  }

  // Removes what is at the entry's name, unless both it and the entry are directories, which
  // merge (then returns true).
  Result<bool> make_room(const Current& c, bool is_dir) {
    struct stat st {};
    if (fstatat(c.dir, c.base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) {
        return false;
      }
      return errno_error(errno, fmt::format("inspecting {:?}", c.path));
    }
    if (is_dir && S_ISDIR(st.st_mode)) {
      return true;
    }
    KILN_TRY(remove_at(c.dir, c.base));
    return false;
  }

  Status create_file(archive* a, const Current& c) {
    KILN_TRY(make_room(c, false));
    UniqueFd fd(
        openat(c.dir, c.base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) {
      return errno_error(errno, fmt::format("creating {:?}", c.path));
    }
    KILN_TRY(copy_content(a, fd.get(), c));
    KILN_TRY(
        apply_owner_and_mode(fd.get(), c.path, uid_of(c.e), gid_of(c.e), archive_entry_perm(c.e)));
    KILN_TRY(apply_xattrs(fd.get(), c));
    return apply_mtime_at(c, 0);
  }

  // Writes the entry's data at the offsets libarchive gives (holes of a sparse entry stay
  // holes), leaving out every block of zeros (the file is new and empty, so a block not written
  // reads as zeros: a file that was sparse, even when the archive stored it plain, stays sparse),
  // then sets the length the header announced.
  Status copy_content(archive* a, int fd, const Current& c) {
    for (;;) {
      const void* buffer = nullptr;
      size_t length = 0;
      la_int64_t offset = 0;
      int rc = archive_read_data_block(a, &buffer, &length, &offset);
      if (rc == ARCHIVE_EOF) {
        break;
      }
      if (rc < ARCHIVE_WARN) {
        return archive_failure(a, fmt::format("reading the content of {:?}", c.raw));
      }
      KILN_TRY(write_nonzero(fd, static_cast<const char*>(buffer), length, offset, c));
      stats_.bytes += length;
    }
    if (ftruncate(fd, archive_entry_size(c.e)) != 0) {
      return errno_error(errno, fmt::format("setting the size of {:?}", c.path));
    }
    return ok_status();
  }

  // Writes the parts of `data` (at `offset` of the file) that are not whole blocks of zeros.
  // Blocks are kSparseBlock bytes aligned on the file's offsets, as the file system's are; a run
  // of blocks with data goes out in one write.
  static Status write_nonzero(
      int fd, const char* data, size_t length, la_int64_t offset, const Current& c) {
    size_t run = 0;  // start (in `data`) of the data blocks not written yet
    size_t pos = 0;
    while (pos < length) {
      auto at = static_cast<uint64_t>(offset) + pos;
      size_t block = std::min<size_t>(length - pos, kSparseBlock - at % kSparseBlock);
      if (all_zero(data + pos, block)) {
        if (run < pos) {
          KILN_TRY(write_at(fd, data + run, pos - run, offset + static_cast<la_int64_t>(run), c));
        }
        run = pos + block;
      }
      pos += block;
    }
    if (run < length) {
      KILN_TRY(write_at(fd, data + run, length - run, offset + static_cast<la_int64_t>(run), c));
    }
    return ok_status();
  }

  static bool all_zero(const char* data, size_t length) {
    return length == 0 || (data[0] == 0 && std::memcmp(data, data + 1, length - 1) == 0);
  }

  static Status write_at(
      int fd, const char* data, size_t length, la_int64_t offset, const Current& c) {
    while (length > 0) {
      ssize_t n = pwrite(fd, data, length, offset);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return errno_error(errno, fmt::format("writing {:?}", c.path));
      }
      data += n;
      length -= static_cast<size_t>(n);
      offset += n;
    }
    return ok_status();
  }

  Status create_directory(const Current& c) {
    bool exists = KILN_TRY(make_room(c, true));
    if (!exists && mkdirat(c.dir, c.base.c_str(), 0755) != 0) {
      return errno_error(errno, fmt::format("creating directory {:?}", c.path));
    }
    UniqueFd fd(openat(c.dir, c.base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
      return errno_error(errno, fmt::format("opening directory {:?}", c.path));
    }
    KILN_TRY(apply_xattrs(fd.get(), c));
    DirMetadata metadata{c.path,
                         uid_of(c.e),
                         gid_of(c.e),
                         archive_entry_perm(c.e),
                         archive_entry_mtime_is_set(c.e) != 0,
                         {archive_entry_mtime(c.e), archive_entry_mtime_nsec(c.e)}};
    auto [it, inserted] = dir_index_.try_emplace(c.path, dirs_.size());
    if (inserted) {
      dirs_.push_back(std::move(metadata));
    } else {
      dirs_[it->second] = std::move(metadata);  // the last entry of a directory wins
    }
    return ok_status();
  }

  Status create_symlink(const Current& c) {
    KILN_TRY(make_room(c, false));
    std::string target(entry_symlink(c.e));
    if (symlinkat(target.c_str(), c.dir, c.base.c_str()) != 0) {
      return errno_error(errno, fmt::format("creating symlink {:?}", c.path));
    }
    KILN_TRY(apply_owner_at(c));
    return apply_mtime_at(c, AT_SYMLINK_NOFOLLOW);
  }

  // Character and block devices (only as root, when allowed) and fifos.
  Status create_node(const Current& c) {
    unsigned int type = archive_entry_filetype(c.e);
    if (type != AE_IFIFO && !(root_ && options_.allow_devices)) {
      ++stats_.skipped;
      return ok_status();
    }
    KILN_TRY(make_room(c, false));
    dev_t device =
        type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(c.e), archive_entry_rdevminor(c.e));
    if (mknodat(c.dir, c.base.c_str(), type | 0600, device) != 0) {
      return errno_error(errno, fmt::format("creating node {:?}", c.path));
    }
    KILN_TRY(apply_owner_at(c));
    // A node is never opened (opening a device can act on it): its mode is set by name, and it
    // is no symlink, since it was just made and the target is this process's alone.
    if (fchmodat(c.dir, c.base.c_str(), permission_bits(archive_entry_perm(c.e)), 0) != 0) {
      return errno_error(errno, fmt::format("setting the mode of {:?}", c.path));
    }
    return apply_mtime_at(c, AT_SYMLINK_NOFOLLOW);
  }

  Status create_hardlink(const Current& c) {
    std::string_view link = entry_hardlink(c.e);
    Result<std::string> target = clean_entry_path(link);
    if (!target.ok()) {
      return entry_error(c.raw,
                         fmt::format("hardlink target {:?} is absolute or has \"..\"", link));
    }
    if (*target == c.path) {
      return ok_status();
    }
    EntryPath split = split_entry_path(*target);
    Result<UniqueFd> target_dir = open_dir_beneath(root_fd_, split.parent, false, c.raw);
    if (!target_dir.ok() && target_dir.error().code != ErrorCode::kNotFound) {
      return std::move(target_dir).error();
    }
    std::string target_base(split.base);
    struct stat st {};
    if (!target_dir.ok() ||
        fstatat(target_dir->get(), target_base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return entry_error(c.raw, fmt::format("hardlink target {:?} does not exist", link));
    }
    if (S_ISDIR(st.st_mode)) {
      return entry_error(c.raw, fmt::format("hardlink target {:?} is a directory", link));
    }
    KILN_TRY(make_room(c, false));
    // Flags 0: link `target` itself even if it is a symlink (AT_SYMLINK_FOLLOW is not given).
    if (linkat(target_dir->get(), target_base.c_str(), c.dir, c.base.c_str(), 0) != 0) {
      return errno_error(errno, fmt::format("linking {:?} to {:?}", c.path, *target));
    }
    return ok_status();
  }

  Status apply_whiteout(archive_entry* e,
                        std::string_view raw,
                        const std::string& path,
                        const Whiteout& whiteout) {
    EntryPath split = split_entry_path(path);
    // In merge mode, a whiteout in a directory that does not exist has nothing to delete.
    Result<int> dir = parent_dir(split.parent, raw, options_.as_overlay_lower);
    if (!dir.ok()) {
      return dir.error().code == ErrorCode::kNotFound && !options_.as_overlay_lower
                 ? ok_status()
                 : Status(std::move(dir).error());
    }
    Current c{e, raw, path, *dir, std::string(split.base)};
    if (whiteout.kind == WhiteoutKind::kRemove) {
      return remove_whiteout(c, std::string(whiteout.target));
    }
    return opaque_whiteout(c, std::string(split.parent));
  }

  // `.wh.<name>`: an overlayfs whiteout (lower mode) or the deletion of <name> (merge mode).
  // Either way an entry of the same name written by this layer stays: a whiteout hides only
  // what lies below its layer.
  Status remove_whiteout(const Current& c, const std::string& name) {
    std::string hidden = join(split_entry_path(c.path).parent, name);
    if (!options_.as_overlay_lower) {
      if (!written_.contains(hidden)) {
        KILN_TRY(remove_at(c.dir, name));
      }
      return ok_status();
    }
    if (!root_) {
      return entry_error(c.raw, "an overlayfs whiteout is a device node: unpacking needs root");
    }
    struct stat st {};
    if (fstatat(c.dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      return ok_status();
    }
    if (mknodat(c.dir, name.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
      return errno_error(errno, fmt::format("creating the whiteout {:?}", hidden));
    }
    return ok_status();
  }

  // `.wh..wh..opq` in directory `dir_path`: the overlayfs opaque xattr (lower mode), or the
  // deletion of everything in it that this layer did not write (merge mode).
  Status opaque_whiteout(const Current& c, const std::string& dir_path) {
    if (!options_.as_overlay_lower) {
      return remove_unwritten(c.dir, dir_path);
    }
    if (!root_) {
      return entry_error(c.raw, "an overlayfs opaque directory is a trusted xattr: needs root");
    }
    if (fsetxattr(c.dir, kOverlayOpaqueXattr, "y", 1, 0) != 0) {
      return errno_error(errno, fmt::format("marking {:?} opaque", dir_path));
    }
    return ok_status();
  }

  Status remove_unwritten(int dir_fd, const std::string& dir_path) {
    for (const std::string& name : KILN_TRY(list_dir(dir_fd))) {
      std::string child = join(dir_path, name);
      if (!written_.contains(child)) {
        KILN_TRY(remove_at(dir_fd, name));
        continue;
      }
      UniqueFd sub(openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub.valid()) {
        KILN_TRY(remove_unwritten(sub.get(), child));
      }
    }
    return ok_status();
  }

  // Permission bits to apply: set-id and sticky bits only as root, when ownership is kept too.
  mode_t permission_bits(mode_t perm) const { return perm & (root_ ? 07777 : 0777); }

  // Owner first: chown clears set-id bits, which the mode then restores.
  Status apply_owner_and_mode(int fd, std::string_view path, uid_t uid, gid_t gid, mode_t perm) {
    if (root_ && fchown(fd, uid, gid) != 0) {
      return errno_error(errno, fmt::format("setting the owner of {:?}", path));
    }
    if (fchmod(fd, permission_bits(perm)) != 0) {
      return errno_error(errno, fmt::format("setting the mode of {:?}", path));
    }
    return ok_status();
  }

  Status apply_owner_at(const Current& c) {
    if (root_ &&
        fchownat(c.dir, c.base.c_str(), uid_of(c.e), gid_of(c.e), AT_SYMLINK_NOFOLLOW) != 0) {
      return errno_error(errno, fmt::format("setting the owner of {:?}", c.path));
    }
    return ok_status();
  }

  Status apply_mtime_at(const Current& c, int flags) {
    if (archive_entry_mtime_is_set(c.e) == 0) {
      return ok_status();
    }
    timespec mtime{archive_entry_mtime(c.e), archive_entry_mtime_nsec(c.e)};
    timespec times[2] = {mtime, mtime};
    if (utimensat(c.dir, c.base.c_str(), times, flags) != 0) {
      return errno_error(errno, fmt::format("setting the mtime of {:?}", c.path));
    }
    return ok_status();
  }

  // The entry's xattrs, except overlayfs's own (a lower layer obeys them: only whiteouts may
  // set one) and SELinux labels; without root only user.* ones. A file system without xattrs,
  // or a kernel that refuses one (EPERM, as in a user namespace), loses it with a warning.
  Status apply_xattrs(int fd, const Current& c) {
    archive_entry_xattr_reset(c.e);
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(c.e, &name, &value, &size) == ARCHIVE_OK) {
      std::string_view view = name;
      if (is_foreign_xattr(view) || (!root_ && view.substr(0, 5) != "user.")) {
        continue;
      }
      if (fsetxattr(fd, name, value, size, 0) != 0) {
        if (errno != ENOTSUP && errno != EPERM) {
          return errno_error(errno, fmt::format("setting the xattr {} of {:?}", view, c.path));
        }
        KILN_LOG(kWarning, "xattr {} of {:?} not kept: {}", view, c.path, strerror(errno));
      }
    }
    return ok_status();
  }

  int root_fd_;
  UnpackOptions options_;
  bool root_;
  UnpackStats stats_;
  EntryBudget budget_;
  std::string cached_parent_;
  UniqueFd cached_dir_;
  // Merge mode: every path this layer wrote, which its own whiteouts do not remove.
  std::unordered_set<std::string> written_;
  std::vector<DirMetadata> dirs_;
  std::unordered_map<std::string, size_t> dir_index_;
};

Result<UnpackStats> unpack(const std::filesystem::path& blob_path,
                           std::string_view media_type,
                           const std::filesystem::path& target_dir,
                           const UnpackOptions& options) {
  std::optional<LayerFormat> format;
  if (!media_type.empty()) {
    format = KILN_TRY(layer_format_from_media_type(media_type));
  }
  UniqueFd root(open(target_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) {
    return errno_error(errno, fmt::format("opening {}", target_dir.string()));
  }
  UniqueFd blob(open(blob_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!blob.valid()) {
    return errno_error(errno, fmt::format("opening {}", blob_path.string()));
  }
  ArchiveReader reader = KILN_TRY(open_tar_reader(blob.get(), format));
  Unpacker unpacker(root.get(), options);
  KILN_TRY(for_each_entry(
      reader.get(), [&](archive_entry* entry) { return unpacker.entry(reader.get(), entry); }));
  KILN_TRY(unpacker.finish());
  return unpacker.stats();
}

}  // namespace

Result<UnpackStats> unpack_layer(const std::filesystem::path& blob_path,
                                 std::string_view media_type,
                                 const std::filesystem::path& target_dir,
                                 const UnpackOptions& options) {
  return KILN_TRY_CTX(unpack(blob_path, media_type, target_dir, options),
                      fmt::format("unpacking {} into {}", blob_path.string(), target_dir.string()));
}

}  // namespace kiln::store
