#include "kiln/image/images.hpp"

#include <unistd.h>

#include <system_error>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"

namespace kiln::image {
namespace {

// A fresh folder under `parent`/tmp for work that becomes visible only by a rename.
Result<TempDir> work_dir(const fs::path& parent) {
  std::error_code ec;
  fs::create_directories(parent / "tmp", ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "creating {}: {}", (parent / "tmp").string(), ec.message());
  }
  return TempDir::create("unpack-", parent / "tmp");
}

// Moves a finished folder into place; another process that finished first wins, which is fine:
// both unpacked the same content-addressed layer.
Result<fs::path> publish(TempDir& work, const fs::path& target) {
  std::error_code ec;
  fs::rename(work.path(), target, ec);
  if (!ec) {
    work.keep();
    return target;
  }
  if (fs::exists(target)) {
    return target;
  }
  return make_error(ErrorCode::kIo, "moving {} into place: {}", target.string(), ec.message());
}

}  // namespace

Result<ExportFormat> parse_export_format(std::string_view text) {
  if (text == "rootfs-tar") {
    return ExportFormat::kRootfsTar;
  }
  if (text == "oci-archive") {
    return ExportFormat::kOciArchive;
  }
  if (text == "oci-dir") {
    return ExportFormat::kOciDir;
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown export format '{}': rootfs-tar, oci-archive or oci-dir",
                    text);
}

Result<SourceFormat> parse_source_format(std::string_view text) {
  if (text.empty() || text == "auto") {
    return SourceFormat::kAuto;
  }
  if (text == "rootfs-tar") {
    return SourceFormat::kRootfsTar;
  }
  if (text == "dir") {
    return SourceFormat::kDirectory;
  }
  if (text == "oci-dir") {
    return SourceFormat::kOciDir;
  }
  if (text == "oci-archive") {
    return SourceFormat::kOciArchive;
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown source format '{}': auto, rootfs-tar, dir, oci-dir or oci-archive",
                    text);
}

Result<std::unique_ptr<Images>> Images::open(const fs::path& root) {
  std::unique_ptr<Images> images(new Images(root));
  images->store_ =
      KILN_TRY(store::ImageStore::open(images->filesystem_, images->clock_, root / "store"));
  std::error_code ec;
  fs::create_directories(images->layer_dir() / "tmp", ec);
  if (ec) {
    return make_error(
        ErrorCode::kIo, "creating {}: {}", images->layer_dir().string(), ec.message());
  }
  return images;
}

Result<store::ImageVersion> Images::by_manifest(const std::string& digest) const {
  for (const store::ImageVersion& v : KILN_TRY(store_->list(std::nullopt, true))) {
    if (v.manifest.digest.str() == digest) {
      return v;
    }
  }
  return make_error(ErrorCode::kNotFound, "no image has manifest {}", digest);
}

Result<fs::path> Images::unpacked(const store::Descriptor& layer, const store::Digest& diff_id) {
  fs::path target = layer_dir() / diff_id.hex();
  std::error_code ec;
  if (fs::exists(target, ec)) {
    return target;
  }
  TempDir work = KILN_TRY(work_dir(layer_dir()));
  store::UnpackOptions options;
  options.as_overlay_lower = true;
  KILN_TRY_CTX(store::unpack_layer(
                   store_->blobs().path(layer.digest), layer.media_type, work.path(), options),
               fmt::format("unpacking layer {}", layer.digest.str()));
  return publish(work, target);
}

Result<fs::path> Images::flattened(const store::Manifest& manifest,
                                   const store::ImageConfig& config) {
  std::string chain;
  for (const store::Digest& d : config.diff_ids) {
    chain += d.str() + "\n";
  }
  fs::path target = layer_dir() / ("flat-" + store::Digest::of(chain).hex());
  std::error_code ec;
  if (fs::exists(target, ec)) {
    return target;
  }
  TempDir work = KILN_TRY(work_dir(layer_dir()));
  // Merge mode applies each layer's whiteouts to the ones below: the result is the image's root.
  for (const store::Descriptor& layer : manifest.layers) {
    KILN_TRY(store::unpack_layer(
        store_->blobs().path(layer.digest), layer.media_type, work.path(), store::UnpackOptions{}));
  }
  return publish(work, target);
}

Result<std::vector<fs::path>> Images::lower_dirs(const store::ImageVersion& image) {
  store::Manifest manifest = KILN_TRY(store_->manifest(image.manifest.digest));
  store::ImageConfig config = KILN_TRY(store_->config(manifest));
  if (config.diff_ids.size() != manifest.layers.size()) {
    return make_error(ErrorCode::kCorruption,
                      "image {}: {} layers but {} diff_ids",
                      image.str(),
                      manifest.layers.size(),
                      config.diff_ids.size());
  }
  if (manifest.layers.size() > kMaxOverlayLayers) {
    return std::vector<fs::path>{KILN_TRY(flattened(manifest, config))};
  }
  std::vector<fs::path> lower;
  for (size_t i = manifest.layers.size(); i-- > 0;) {  // top-most first
    lower.push_back(KILN_TRY(unpacked(manifest.layers[i], config.diff_ids[i])));
  }
  return lower;
}

Result<store::ImageVersion> Images::add_single_layer(const ImageName& name,
                                                     const store::LayerInfo& layer,
                                                     const std::string& created_by,
                                                     const std::optional<store::Digest>& parent,
                                                     bool incomplete) {
  store::ImageRecord record;
  record.incomplete = incomplete;
  record.name = name.name;
  record.version = name.version;
  record.parent = parent;
  record.build = name.build;
  record.region = name.region;
  record.account = name.account;
  record.layers.push_back(store::Descriptor{layer.media_type, layer.digest, layer.size, {}, {}});
  record.diff_ids.push_back(layer.diff_id);
  record.created_by.push_back(created_by);
  return store_->add_image(record);
}

Result<store::ImageVersion> Images::snapshot(const fs::path& upper,
                                             const store::ImageVersion& parent,
                                             const ImageName& name,
                                             const std::string& created_by,
                                             bool incomplete) {
  auto writer = KILN_TRY(store_->blobs().writer());
  store::LayerInfo layer = KILN_TRY(store::write_layer_from_upper(upper, layer_format, *writer));
  return add_single_layer(name, layer, created_by, parent.manifest.digest, incomplete);
}

Result<LayerPrune> Images::prune_layers(const std::set<store::Digest>& live_diff_ids,
                                        const std::set<fs::path>& in_use) {
  LayerPrune prune;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(layer_dir(), ec)) {
    std::string name = entry.path().filename().string();
    Result<store::Digest> digest = store::Digest::parse("sha256:" + name);
    bool live =
        (digest.ok() && live_diff_ids.count(*digest) != 0) || in_use.count(entry.path()) != 0;
    // Flattened chains are cheap to rebuild: removed with the rest; tmp holds dead work.
    if (!live) {
      fs::remove_all(entry.path(), ec);
      if (name != "tmp") {
        prune.removed.push_back(entry.path());
      }
    }
  }
  fs::create_directories(layer_dir() / "tmp", ec);
  return prune;
}

}  // namespace kiln::image
