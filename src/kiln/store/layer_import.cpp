// normalize_rootfs_archive: a user's rootfs tarball re-packed entry by entry into a layer,
// never touching the disk except to read it.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <unordered_set>

#include "kiln/base/unique_fd.hpp"
#include "kiln/store/archive_io.hpp"
#include "kiln/store/layer.hpp"
#include "kiln/store/layer_sink.hpp"
#include "kiln/store/tar_path.hpp"

namespace kiln::store {
namespace {

class Importer {
 public:
  Importer(TarWriter& tar, const ImportOptions& options)
      : tar_(tar),
        keep_devices_(options.allow_devices && geteuid() == 0),
        budget_(options.max_total_bytes, options.max_entries) {}

  Status entry(archive* a, archive_entry* in) {
    std::string_view raw = entry_pathname(in);
    std::string path = KILN_TRY(clean_entry_path(raw));
    KILN_TRY(budget_.charge(in, raw));
    KILN_TRY(check_entry_owner(in, raw));
    KILN_TRY(check_parents(path, raw));
    if (classify_whiteout(split_entry_path(path).base).kind == WhiteoutKind::kInvalid) {
      return entry_error(raw, "whiteout of no name, \".\" or \"..\"");
    }
    bool is_link = !entry_hardlink(in).empty();
    if (dropped(path, in, is_link)) {
      return ok_status();
    }
    std::string link;
    if (is_link) {
      link = KILN_TRY(check_hardlink(in, raw));
    }
    track(path, is_link ? AE_IFREG : archive_entry_filetype(in));
    ArchiveEntry out = copy_entry(in, path, link);
    KILN_TRY(tar_.write_header(out.get(), path));
    if (archive_entry_filetype(in) == AE_IFREG && !is_link) {
      return copy_content(a, archive_entry_size(in), raw);
    }
    return ok_status();
  }

 private:
  // A symlink entry of the archive anywhere on the entry's parent path would, once unpacked,
  // make the entry be written through it.
  Status check_parents(const std::string& path, std::string_view raw) const {
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      if (symlinks_.contains(path.substr(0, slash))) {
        return entry_error(
            raw, fmt::format("path goes through the symlink {:?}", path.substr(0, slash)));
      }
    }
    return ok_status();
  }

  // The root entry, sockets, whiteouts (nothing lies below an imported root filesystem) and
  // devices that may not be kept. (libarchive may give a hardlink entry no file type.)
  bool dropped(const std::string& path, archive_entry* in, bool is_link) const {
    unsigned int type = archive_entry_filetype(in);
    bool device = type == AE_IFCHR || type == AE_IFBLK;
    bool known = is_link || type == AE_IFREG || type == AE_IFDIR || type == AE_IFLNK ||
                 type == AE_IFIFO || device;
    return path.empty() || !known || (device && !keep_devices_) ||
           classify_whiteout(split_entry_path(path).base).kind != WhiteoutKind::kNone;
  }

  // A hardlink's target must be a file entry earlier in the archive; returns it canonical.
  Result<std::string> check_hardlink(archive_entry* in, std::string_view raw) const {
    std::string_view link = entry_hardlink(in);
    Result<std::string> target = clean_entry_path(link);
    if (!target.ok()) {
      return entry_error(raw, fmt::format("hardlink target {:?} is absolute or has \"..\"", link));
    }
    if (!files_.contains(*target)) {
      return entry_error(
          raw, fmt::format("hardlink target {:?} is not a file earlier in the archive", link));
    }
    return std::move(target).value();
  }

  // What later entries are checked against: which paths are symlinks now, which are files.
  void track(const std::string& path, unsigned int type) {
    if (type == AE_IFLNK) {
      symlinks_.insert(path);
    } else {
      symlinks_.erase(path);
    }
    if (type != AE_IFDIR) {
      files_.insert(path);
    } else {
      files_.erase(path);
    }
  }

  // The normalized entry: canonical name, numeric owner, mtime in whole seconds, no atime,
  // ctime, user names or sparse map; xattrs but overlayfs's and SELinux's.
  static ArchiveEntry copy_entry(archive_entry* in,
                                 const std::string& path,
                                 const std::string& link) {
    ArchiveEntry out(archive_entry_new());
    archive_entry_copy_pathname(out.get(), path.c_str());
    archive_entry_set_mode(
        out.get(), link.empty() ? archive_entry_mode(in) : AE_IFREG | archive_entry_perm(in));
    archive_entry_set_uid(out.get(), archive_entry_uid(in));
    archive_entry_set_gid(out.get(), archive_entry_gid(in));
    archive_entry_set_mtime(out.get(), archive_entry_mtime(in), 0);
    unsigned int type = archive_entry_filetype(in);
    if (!link.empty()) {
      archive_entry_copy_hardlink(out.get(), link.c_str());
      archive_entry_set_size(out.get(), 0);
    } else if (type == AE_IFREG) {
      archive_entry_set_size(out.get(), archive_entry_size(in));
    } else if (type == AE_IFLNK) {
      archive_entry_copy_symlink(out.get(), std::string(entry_symlink(in)).c_str());
    } else if (type == AE_IFCHR || type == AE_IFBLK) {
      archive_entry_set_rdevmajor(out.get(), archive_entry_rdevmajor(in));
      archive_entry_set_rdevminor(out.get(), archive_entry_rdevminor(in));
    }
    archive_entry_xattr_reset(in);
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(in, &name, &value, &size) == ARCHIVE_OK) {
      if (!is_foreign_xattr(name)) {
        archive_entry_xattr_add_entry(out.get(), name, value, size);
      }
    }
    return out;
  }

  // Copies `size` bytes of content: data blocks at their offsets, holes as zeros.
  Status copy_content(archive* a, la_int64_t size, std::string_view raw) {
    uint64_t written = 0;
    for (;;) {
      const void* buffer = nullptr;
      size_t length = 0;
      la_int64_t offset = 0;
      int rc = archive_read_data_block(a, &buffer, &length, &offset);
      if (rc == ARCHIVE_EOF) {
        break;
      }
      if (rc < ARCHIVE_WARN) {
        return archive_failure(a, fmt::format("reading the content of {:?}", raw));
      }
      auto at = static_cast<uint64_t>(offset);
      if (at < written || at + length > static_cast<uint64_t>(size)) {
        return entry_error(raw, "content outside the entry's size");
      }
      KILN_TRY(tar_.write_zeros(at - written, raw));
      KILN_TRY(tar_.write_data(std::string_view(static_cast<const char*>(buffer), length), raw));
      written = at + length;
    }
    return tar_.write_zeros(static_cast<uint64_t>(size) - written, raw);
  }

  TarWriter& tar_;
  bool keep_devices_;
  EntryBudget budget_;
  std::unordered_set<std::string> symlinks_;
  std::unordered_set<std::string> files_;
};

Result<LayerInfo> normalize(const std::filesystem::path& input,
                            LayerFormat format,
                            BlobWriter& blob,
                            const ImportOptions& options) {
  UniqueFd fd(open(input.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return errno_error(errno, fmt::format("opening {}", input.string()));
  }
  ArchiveReader reader = KILN_TRY(open_tar_reader(fd.get(), std::nullopt));
  LayerSink sink = KILN_TRY(LayerSink::create(format, blob));
  TarWriter tar =
      KILN_TRY(TarWriter::open([&sink](std::string_view bytes) { return sink.write(bytes); }));
  Importer importer(tar, options);
  KILN_TRY(for_each_entry(
      reader.get(), [&](archive_entry* entry) { return importer.entry(reader.get(), entry); }));
  KILN_TRY(tar.close());
  return sink.finish();
}

}  // namespace

Result<LayerInfo> normalize_rootfs_archive(const std::filesystem::path& input,
                                           LayerFormat format,
                                           BlobWriter& blob,
                                           const ImportOptions& options) {
  return KILN_TRY_CTX(normalize(input, format, blob, options),
                      fmt::format("importing {}", input.string()));
}

}  // namespace kiln::store
