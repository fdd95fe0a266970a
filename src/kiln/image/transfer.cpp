// Images in and out: `kiln image import` (a rootfs tarball, a folder, an OCI layout or an OCI
// archive) and `kiln image export` (a rootfs tarball, an OCI archive or an OCI layout).
// Archives from users are hostile: they are read only through the layer code's checks.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/base/unique_fd.hpp"
#include "kiln/image/file_writer.hpp"
#include "kiln/image/images.hpp"

namespace kiln::image {
namespace {

constexpr size_t kTarBlock = 512;

// An uncompressed tar whose first entry is an OCI layout's (skopeo and buildah write them so).
bool looks_like_oci_archive(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  char header[kTarBlock] = {};
  if (!fd.valid() || ::read(fd.get(), header, sizeof header) != static_cast<ssize_t>(kTarBlock) ||
      std::memcmp(header + 257, "ustar", 5) != 0) {
    return false;
  }
  std::string name(header, strnlen(header, 100));
  if (starts_with(name, "./")) {
    name = name.substr(2);
  }
  return starts_with(name, "blobs") || name == "oci-layout" || name == "index.json";
}

Result<SourceFormat> detect(const fs::path& source) {
  std::error_code ec;
  if (fs::is_directory(source, ec)) {
    return fs::exists(source / "oci-layout", ec) ? SourceFormat::kOciDir : SourceFormat::kDirectory;
  }
  if (!fs::is_regular_file(source, ec)) {
    return make_error(ErrorCode::kNotFound, "{}: no such file or folder", source.string());
  }
  return looks_like_oci_archive(source) ? SourceFormat::kOciArchive : SourceFormat::kRootfsTar;
}

fs::path blob_path(const fs::path& layout, const store::Digest& digest) {
  return layout / "blobs" / "sha256" / digest.hex();
}

// The manifest to import: the one named `ref` (ref.name annotation), or the only one.
Result<store::Descriptor> pick_manifest(const store::Index& index, const std::string& ref) {
  std::vector<std::string> names;
  for (const store::Descriptor& d : index.manifests) {
    std::string name = d.annotation(store::annotation::kRefName);
    names.push_back(name.empty() ? d.digest.str() : name);
    if (!ref.empty() && name == ref) {
      return d;
    }
  }
  if (ref.empty() && index.manifests.size() == 1) {
    return index.manifests.front();
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "{}: the layout holds {} (choose one with --oci-ref)",
                    ref.empty() ? "no --oci-ref given" : "no image named '" + ref + "'",
                    names.empty() ? std::string("no images") : join(names, ", "));
}

// Reads a blob of another layout after checking it against its descriptor: a regular file (a
// link is refused), exactly the descriptor's size (checked before a byte is read, so a size of
// 10^15 costs nothing), with the descriptor's digest. `keep` gets the bytes when given.
Status check_layout_blob(const fs::path& layout,
                         const store::Descriptor& blob,
                         std::string_view what,
                         std::string* keep = nullptr) {
  fs::path path = blob_path(layout, blob.digest);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    return errno_error(
        errno, fmt::format("the {} {}: opening {}", what, blob.digest.str(), path.string()));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error(ErrorCode::kCorruption,
                      "the {} {}: {} is not a regular file",
                      what,
                      blob.digest.str(),
                      path.string());
  }
  if (static_cast<uint64_t>(st.st_size) != blob.size) {
    return make_error(ErrorCode::kCorruption,
                      "the {} {} is {} bytes, but its descriptor says {}",
                      what,
                      blob.digest.str(),
                      st.st_size,
                      blob.size);
  }
  store::DigestHasher hasher;
  uint64_t total = 0;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return errno_error(errno, fmt::format("reading {}", path.string()));
    }
    if (n == 0) {
      break;
    }
    std::string_view chunk(buf, static_cast<size_t>(n));
    hasher.update(chunk);
    total += chunk.size();
    if (keep != nullptr) {
      keep->append(chunk);
    }
  }
  store::Digest actual = hasher.finish();
  if (total != blob.size || actual != blob.digest) {
    return make_error(ErrorCode::kCorruption,
                      "the {}'s bytes ({} bytes) have the digest {}, not the {} of its descriptor",
                      what,
                      total,
                      actual.str(),
                      blob.digest.str());
  }
  return ok_status();
}

// Copies a blob of another layout into the store, checking it against its digest again.
Status copy_blob(store::ImageStore& store, const fs::path& from, const store::Digest& digest) {
  if (store.blobs().has(digest)) {
    return ok_status();
  }
  UniqueFd fd(::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    return errno_error(errno, fmt::format("opening {}", from.string()));
  }
  auto writer = KILN_TRY(store.blobs().writer());
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return errno_error(errno, fmt::format("reading {}", from.string()));
    }
    if (n == 0) {
      break;
    }
    KILN_TRY(writer->write(std::string_view(buf, static_cast<size_t>(n))));
  }
  KILN_TRY_CTX(writer->commit(digest), fmt::format("importing {}", from.string()));
  return ok_status();
}

Status copy_file_to(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    return make_error(
        ErrorCode::kIo, "copying {} to {}: {}", from.string(), to.string(), ec.message());
  }
  return ok_status();
}

}  // namespace

Result<store::ImageVersion> Images::import_oci_layout(const fs::path& layout,
                                                      const ImageName& name,
                                                      const std::string& oci_ref) {
  KILN_TRY(store::check_oci_layout(KILN_TRY(read_file(layout / "oci-layout")),
                                   (layout / "oci-layout").string()));
  store::Index index = KILN_TRY(store::index_from_json(KILN_TRY(read_file(layout / "index.json")),
                                                       (layout / "index.json").string()));
  store::Descriptor chosen = KILN_TRY(pick_manifest(index, oci_ref));
  // Every blob is checked against its descriptor (size, then digest of the bytes) before
  // anything is copied: a refused import leaves nothing in the store.
  std::string manifest_text;
  KILN_TRY_CTX(check_layout_blob(layout, chosen, "manifest", &manifest_text), "importing");
  store::Manifest manifest =
      KILN_TRY(store::manifest_from_json(manifest_text, chosen.digest.str()));
  std::string config_text;
  KILN_TRY_CTX(check_layout_blob(layout, manifest.config, "config", &config_text), "importing");
  store::ImageConfig config =
      KILN_TRY(store::image_config_from_json(config_text, manifest.config.digest.str()));
  if (config.diff_ids.size() != manifest.layers.size()) {
    return make_error(ErrorCode::kCorruption,
                      "{}: {} layers but {} diff_ids",
                      chosen.digest.str(),
                      manifest.layers.size(),
                      config.diff_ids.size());
  }
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    KILN_TRY_CTX(check_layout_blob(layout, manifest.layers[i], fmt::format("layer {}", i + 1)),
                 "importing");
  }
  store::ImageRecord record;
  record.name = name.name;
  record.version = name.version;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const store::Descriptor& layer = manifest.layers[i];
    KILN_TRY(copy_blob(*store_, blob_path(layout, layer.digest), layer.digest));
    record.layers.push_back(store::Descriptor{layer.media_type, layer.digest, layer.size, {}, {}});
    record.diff_ids.push_back(config.diff_ids[i]);
    record.created_by.push_back("kiln image import " + layout.filename().string());
  }
  record.architecture = config.architecture;
  return store_->add_image(record);
}

Result<store::ImageVersion> Images::import(const fs::path& source,
                                           SourceFormat format,
                                           const ImageName& name,
                                           const std::string& oci_ref) {
  if (format == SourceFormat::kAuto) {
    format = KILN_TRY(detect(source));
  }
  std::string created_by = "kiln image import " + source.filename().string();
  switch (format) {
    case SourceFormat::kDirectory: {
      auto writer = KILN_TRY(store_->blobs().writer());
      store::LayerInfo layer =
          KILN_TRY(store::write_layer_from_tree(source, layer_format, *writer));
      return add_single_layer(name, layer, created_by, std::nullopt);
    }
    case SourceFormat::kRootfsTar: {
      auto writer = KILN_TRY(store_->blobs().writer());
      store::LayerInfo layer =
          KILN_TRY(store::normalize_rootfs_archive(source, layer_format, *writer));
      return add_single_layer(name, layer, created_by, std::nullopt);
    }
    case SourceFormat::kOciDir:
      return import_oci_layout(source, name, oci_ref);
    case SourceFormat::kOciArchive: {
      // Unpacked with the hostile-archive checks, then read as a layout.
      TempDir work = KILN_TRY(TempDir::create("kiln-import-"));
      KILN_TRY(store::unpack_layer(source, "", work.path(), store::UnpackOptions{}));
      return import_oci_layout(work.path(), name, oci_ref);
    }
    case SourceFormat::kAuto:
      break;
  }
  return make_error(ErrorCode::kInternal, "unhandled source format");
}

namespace {

// An OCI layout at `out` holding `image` alone, named by its ref.name.
Status write_oci_layout(store::ImageStore& store,
                        const store::ImageVersion& image,
                        const fs::path& out) {
  std::error_code ec;
  fs::create_directories(out / "blobs" / "sha256", ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "creating {}: {}", out.string(), ec.message());
  }
  store::Manifest manifest = KILN_TRY(store.manifest(image.manifest.digest));
  std::vector<store::Digest> blobs{image.manifest.digest, manifest.config.digest};
  for (const store::Descriptor& layer : manifest.layers) {
    blobs.push_back(layer.digest);
  }
  for (const store::Digest& d : blobs) {
    KILN_TRY(copy_file_to(store.blobs().path(d), blob_path(out, d)));
  }
  store::Index index;
  store::Descriptor entry = image.manifest;
  index.manifests.push_back(entry);
  KILN_TRY(write_file(out / "index.json", store::to_json(index)));
  return write_file(out / "oci-layout", store::oci_layout_json());
}

// A tar of the folder `dir` written to `out` (entries relative to `dir`).
Status tar_folder(const fs::path& dir, const fs::path& out) {
  auto writer = KILN_TRY(FileWriter::create(out));
  KILN_TRY(store::write_layer_from_tree(dir, store::LayerFormat::kUncompressed, *writer));
  return ok_status();
}

}  // namespace

Status Images::export_image(const store::ImageVersion& image,
                            ExportFormat format,
                            const fs::path& out) {
  switch (format) {
    case ExportFormat::kOciDir:
      if (std::error_code ec; fs::exists(out, ec) && !fs::is_empty(out, ec)) {
        return make_error(ErrorCode::kAlreadyExists, "{} exists and is not empty", out.string());
      }
      return write_oci_layout(*store_, image, out);
    case ExportFormat::kOciArchive: {
      TempDir work = KILN_TRY(TempDir::create("kiln-export-"));
      KILN_TRY(write_oci_layout(*store_, image, work.path() / "layout"));
      return tar_folder(work.path() / "layout", out);
    }
    case ExportFormat::kRootfsTar: {
      TempDir work = KILN_TRY(TempDir::create("kiln-export-"));
      store::Manifest manifest = KILN_TRY(store_->manifest(image.manifest.digest));
      for (const store::Descriptor& layer : manifest.layers) {
        KILN_TRY(store::unpack_layer(store_->blobs().path(layer.digest),
                                     layer.media_type,
                                     work.path(),
                                     store::UnpackOptions{}));
      }
      return tar_folder(work.path(), out);
    }
  }
  return make_error(ErrorCode::kInternal, "unhandled export format");
}

}  // namespace kiln::image
