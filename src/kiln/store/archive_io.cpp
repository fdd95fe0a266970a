#include "kiln/store/archive_io.hpp"

#include <fmt/format.h>
#include <locale.h>

#include <algorithm>
#include <array>

#include "kiln/store/tar_path.hpp"

namespace kiln::store {
namespace {

// libarchive hands the callback whole blocks of this size (the last one shorter): large enough
// that the per-call cost is nothing next to compression.
constexpr int kBlockSize = 64 * 1024;
constexpr size_t kReadBlockSize = 1024 * 1024;

// While alive, this thread uses the "C" locale. libarchive translates names between the locale's
// character set and UTF-8 for pax headers: under "C" a name is never translated, only ASCII or
// written as raw bytes ("hdrcharset=BINARY" for that entry alone), so the same tree gives the
// same tar in a process whatever its locale. (The "hdrcharset=BINARY" option would do it too,
// but adds a pax header to every entry.)
class CLocale {
 public:
  CLocale() : previous_(uselocale(c_locale())) {}
  ~CLocale() { uselocale(previous_); }
  CLocale(const CLocale&) = delete;
  CLocale& operator=(const CLocale&) = delete;

 private:
  static locale_t c_locale() {
    static const locale_t locale = newlocale(LC_ALL_MASK, "C", nullptr);  // never freed
    return locale;
  }
  locale_t previous_;
};

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string_view view(const char* text) {
  return text == nullptr ? std::string_view() : std::string_view(text);
}

}  // namespace

Status for_each_entry(archive* reader, const std::function<Status(archive_entry*)>& fn) {
  for (;;) {
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(reader, &entry);
    if (rc == ARCHIVE_EOF) {
      return ok_status();
    }
    if (rc < ARCHIVE_WARN) {
      return archive_failure(reader, "reading the next entry");
    }
    KILN_TRY(fn(entry));
  }
}

Error archive_failure(archive* a, std::string_view what) {
  const char* message = archive_error_string(a);
  return Error{ErrorCode::kCorruption,
               fmt::format("{}: {}", what, message != nullptr ? message : "libarchive error")};
}

Result<TarWriter> TarWriter::open(Output output) {
  ArchiveWriter a(archive_write_new());
  if (!a) {
    return make_error(ErrorCode::kInternal, "archive_write_new failed");
  }
  auto state = std::make_unique<State>(State{std::move(output), ok_status(), false});
  if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
      archive_write_set_format_option(a.get(), "pax", "xattrheader", "SCHILY") != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(a.get(), kBlockSize) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK) {
    return archive_failure(a.get(), "setting up the tar writer");
  }
  if (archive_write_open2(a.get(), state.get(), nullptr, &TarWriter::on_write, nullptr, nullptr) !=
      ARCHIVE_OK) {
    return archive_failure(a.get(), "opening the tar writer");
  }
  return TarWriter(std::move(a), std::move(state));
}

TarWriter::~TarWriter() {
  if (state_) {
    state_->abandoned = true;
  }
}

la_ssize_t TarWriter::on_write(archive* a, void* client, const void* buffer, size_t length) {
  auto* state = static_cast<State*>(client);
  if (state->abandoned) {
    return static_cast<la_ssize_t>(length);
  }
  Status status = state->output(std::string_view(static_cast<const char*>(buffer), length));
  if (!status.ok()) {
    archive_set_error(a, EIO, "%s", status.error().message.c_str());
    state->status = std::move(status);
    return -1;
  }
  return static_cast<la_ssize_t>(length);
}

Error TarWriter::failure(std::string_view what) {
  if (!state_->status.ok()) {
    return state_->status.error().with_context(what);
  }
  return archive_failure(a_.get(), what);
}

Status TarWriter::write_header(archive_entry* entry, std::string_view name) {
  // ARCHIVE_WARN: written, with a remark (a name libarchive could not translate, written as raw
  // bytes, which is what we want).
  CLocale c_locale;
  if (archive_write_header(a_.get(), entry) < ARCHIVE_WARN) {
    return failure(fmt::format("writing the tar header of {:?}", name));
  }
  return ok_status();
}

Status TarWriter::write_data(std::string_view data, std::string_view name) {
  while (!data.empty()) {
    la_ssize_t n = archive_write_data(a_.get(), data.data(), data.size());
    if (n <= 0) {
      return failure(fmt::format("writing the content of {:?}", name));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok_status();
}

Status TarWriter::write_zeros(uint64_t count, std::string_view name) {
  static const std::array<char, 64 * 1024> kZeros{};
  while (count > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(count, kZeros.size()));
    KILN_TRY(write_data(std::string_view(kZeros.data(), n), name));
    count -= n;
  }
  return ok_status();
}

Status TarWriter::close() {
  CLocale c_locale;
  if (archive_write_close(a_.get()) != ARCHIVE_OK) {
    return failure("finishing the tar archive");
  }
  return ok_status();
}

Result<ArchiveReader> open_tar_reader(int fd, std::optional<LayerFormat> format) {
  ArchiveReader a(archive_read_new());
  if (!a) {
    return make_error(ErrorCode::kInternal, "archive_read_new failed");
  }
  archive* r = a.get();
  // Only the in-process filters: "all" would include ones that run external programs.
  bool ok = archive_read_support_format_tar(r) == ARCHIVE_OK;
  if (!format || *format == LayerFormat::kGzip) {
    ok = ok && archive_read_support_filter_gzip(r) == ARCHIVE_OK;
  }
  if (!format || *format == LayerFormat::kZstd) {
    ok = ok && archive_read_support_filter_zstd(r) == ARCHIVE_OK;
  }
  if (!format) {
    ok = ok && archive_read_support_filter_xz(r) == ARCHIVE_OK &&
         archive_read_support_filter_bzip2(r) == ARCHIVE_OK;
  }
  if (!ok) {
    return archive_failure(r, "setting up the tar reader");
  }
  if (archive_read_open_fd(r, fd, kReadBlockSize) != ARCHIVE_OK) {
    return archive_failure(r, "opening the archive");
  }
  return a;
}

std::string_view entry_pathname(archive_entry* entry) {
  const char* name = archive_entry_pathname(entry);
  return view(name != nullptr ? name : archive_entry_pathname_utf8(entry));
}

std::string_view entry_hardlink(archive_entry* entry) {
  const char* name = archive_entry_hardlink(entry);
  return view(name != nullptr ? name : archive_entry_hardlink_utf8(entry));
}

std::string_view entry_symlink(archive_entry* entry) {
  const char* name = archive_entry_symlink(entry);
  return view(name != nullptr ? name : archive_entry_symlink_utf8(entry));
}

Status EntryBudget::charge(archive_entry* entry, std::string_view name) {
  if (++entries_ > max_entries_) {
    return entry_error(name, fmt::format("more than {} entries", max_entries_));
  }
  if (archive_entry_filetype(entry) != AE_IFREG || !entry_hardlink(entry).empty()) {
    return ok_status();
  }
  la_int64_t size = archive_entry_size(entry);
  if (size < 0) {
    return entry_error(name, "negative size");
  }
  auto bytes = static_cast<uint64_t>(size);
  if (bytes > max_total_bytes_ - std::min(total_bytes_, max_total_bytes_)) {
    return entry_error(name,
                       fmt::format("size {} exceeds the limit: {} bytes before it, {} allowed",
                                   bytes,
                                   total_bytes_,
                                   max_total_bytes_));
  }
  total_bytes_ += bytes;
  return ok_status();
}

Status check_entry_owner(archive_entry* entry, std::string_view name) {
  constexpr la_int64_t kMax = 0xfffffffe;
  la_int64_t uid = archive_entry_uid(entry);
  la_int64_t gid = archive_entry_gid(entry);
  if (uid < 0 || uid > kMax || gid < 0 || gid > kMax) {
    return entry_error(name, fmt::format("owner {}:{} out of range", uid, gid));
  }
  return ok_status();
}

bool is_foreign_xattr(std::string_view name) {
  return starts_with(name, "trusted.overlay.") || starts_with(name, "user.overlay.") ||
         name == "security.selinux";
}

}  // namespace kiln::store
