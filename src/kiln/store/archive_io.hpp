#pragma once

// Internal to the layer code: owners for libarchive handles, a pax tar writer that streams into a
// callback, a tar reader with a chosen or detected decompressor, and byte-exact entry names.

#include <archive.h>
#include <archive_entry.h>

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "kiln/base/result.hpp"
#include "kiln/store/layer.hpp"

namespace kiln::store {

struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;
using ArchiveWriter = std::unique_ptr<archive, ArchiveWriteFree>;
using ArchiveEntry = std::unique_ptr<archive_entry, ArchiveEntryFree>;

// Calls `fn` with each entry of the archive `reader` reads, until the end or the first error.
Status for_each_entry(archive* reader, const std::function<Status(archive_entry*)>& fn);

// An error carrying libarchive's message: "<what>: <archive_error_string>".
Error archive_failure(archive* a, std::string_view what);

// A tar archive (pax, ustar headers where they suffice) written to `output`, which receives
// the bytes in order and returns an error to stop the writer. Names are written byte-exact,
// whatever the process's locale (so the same entries give the same bytes anywhere), and xattrs as
// SCHILY.xattr records (what Go's archive/tar, and so most OCI tools, read).
// Move-only; `output` must outlive the writer.
class TarWriter {
 public:
  using Output = std::function<Status(std::string_view)>;
  static Result<TarWriter> open(Output output);

  TarWriter(TarWriter&&) noexcept = default;
  TarWriter& operator=(TarWriter&&) noexcept = default;
  // An archive not closed is abandoned: what libarchive still flushes is not given to `output`.
  ~TarWriter();

  // `name` is used in error messages only.
  Status write_header(archive_entry* entry, std::string_view name);
  // Writes the whole of `data` as content of the current entry.
  Status write_data(std::string_view data, std::string_view name);
  // Writes `count` zero bytes as content of the current entry.
  Status write_zeros(uint64_t count, std::string_view name);
  // Writes the end-of-archive blocks. Nothing may be written afterwards.
  Status close();

 private:
  struct State {
    Output output;
    Status status;           // the first error `output` returned
    bool abandoned = false;  // set by the destructor
  };
  TarWriter(ArchiveWriter a, std::unique_ptr<State> state)
      : state_(std::move(state)), a_(std::move(a)) {}
  static la_ssize_t on_write(archive* a, void* client, const void* buffer, size_t length);
  Error failure(std::string_view what);

  // In this order: libarchive calls back into the state until the archive is freed.
  std::unique_ptr<State> state_;
  ArchiveWriter a_;
};

// A tar reader over the open file `fd` (which must outlive it). With `format`, only that
// decompressor is enabled (a blob whose content does not match is an error); without, gzip,
// zstd, xz and bzip2 are detected, in-process only (no external programs).
Result<ArchiveReader> open_tar_reader(int fd, std::optional<LayerFormat> format);

// The names of an entry as the bytes in the archive, or empty when absent. libarchive returns
// NULL from archive_entry_pathname() when a UTF-8 pax name cannot be converted to the current
// locale; then the UTF-8 bytes are the name.
std::string_view entry_pathname(archive_entry* entry);
std::string_view entry_hardlink(archive_entry* entry);
std::string_view entry_symlink(archive_entry* entry);

// What an untrusted archive may hold: a number of entries and a total size of file content.
class EntryBudget {
 public:
  EntryBudget(uint64_t max_total_bytes, uint64_t max_entries)
      : max_total_bytes_(max_total_bytes), max_entries_(max_entries) {}

  // Counts one entry, and the content of a regular file that is not a hardlink (its logical
  // size: a sparse file counts whole). Past a limit, an entry_error naming `name`.
  Status charge(archive_entry* entry, std::string_view name);

 private:
  uint64_t max_total_bytes_;
  uint64_t max_entries_;
  uint64_t total_bytes_ = 0;
  uint64_t entries_ = 0;
};

// An entry_error naming `name` if the entry's uid or gid does not fit uid_t/gid_t (or is -1,
// which chown reads as "unchanged").
Status check_entry_owner(archive_entry* entry, std::string_view name);

// Xattrs kiln never carries from one place to another: overlayfs's own (trusted.overlay.*,
// user.overlay.*, which overlayfs would obey in a lower layer) and SELinux labels (host policy).
bool is_foreign_xattr(std::string_view name);

}  // namespace kiln::store
