#pragma once

// Images over one root folder: the store, the cache of unpacked layers instances run on, and the
// ways images come in (bootstrap, import, snapshot) and go out (export). The `kiln image` and
// `kiln instance` verbs use this; docs/formats/store.md describes what it writes.

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/base/time.hpp"
#include "kiln/catalog/version.hpp"
#include "kiln/store/filesystem.hpp"
#include "kiln/store/image_store.hpp"
#include "kiln/store/layer.hpp"

namespace kiln::image {

namespace fs = std::filesystem;

// What a new image is called.
struct ImageName {
  std::string name;
  catalog::SemanticVersion version;
  std::optional<uint32_t> build = {};  // default: 1 + the highest build of name/version
  std::string region = "local";        // of the image's ARN
  std::string account = "000000000000";
};

enum class ExportFormat { kRootfsTar, kOciArchive, kOciDir };
Result<ExportFormat> parse_export_format(std::string_view text);

enum class SourceFormat { kAuto, kRootfsTar, kDirectory, kOciDir, kOciArchive };
Result<SourceFormat> parse_source_format(std::string_view text);

struct BootstrapOptions {
  std::string distribution;  // "busybox", "debian", "ubuntu"
  std::string suite;         // debian: bookworm (default); ubuntu: noble (default)
  std::string mirror;        // default: the distribution's own archive
  std::string variant = "minbase";
};

struct LayerPrune {
  std::vector<fs::path> removed;
};

class Images {
 public:
  // Opens (creating if needed) <root>/store and <root>/layers.
  static Result<std::unique_ptr<Images>> open(const fs::path& root);

  store::ImageStore& store() { return *store_; }
  const fs::path& root() const { return root_; }

  // The unpacked layer folders of `image` for an overlay, top-most first, unpacking what the
  // cache lacks; a chain deeper than overlayfs takes is flattened once into one cached folder.
  Result<std::vector<fs::path>> lower_dirs(const store::ImageVersion& image);

  // The image version whose manifest has `digest`.
  Result<store::ImageVersion> by_manifest(const std::string& digest) const;

  Result<store::ImageVersion> bootstrap(const BootstrapOptions& options, const ImageName& name);
  Result<store::ImageVersion> import(const fs::path& source,
                                     SourceFormat format,
                                     const ImageName& name,
                                     const std::string& oci_ref = "");
  Status export_image(const store::ImageVersion& image, ExportFormat format, const fs::path& out);
  // A new image: `parent` plus the instance's writable layer `upper` as one layer; a build's
  // snapshot is `incomplete` until its build ends (store::ImageRecord::incomplete).
  Result<store::ImageVersion> snapshot(const fs::path& upper,
                                       const store::ImageVersion& parent,
                                       const ImageName& name,
                                       const std::string& created_by,
                                       bool incomplete = false);

  // Removes unpacked layers no image uses any more and no instance runs on (`in_use`).
  Result<LayerPrune> prune_layers(const std::set<store::Digest>& live_diff_ids,
                                  const std::set<fs::path>& in_use);

  store::LayerFormat layer_format = store::LayerFormat::kZstd;

 private:
  explicit Images(fs::path root) : root_(std::move(root)) {}
  fs::path layer_dir() const { return root_ / "layers"; }
  Result<fs::path> unpacked(const store::Descriptor& layer, const store::Digest& diff_id);
  Result<fs::path> flattened(const store::Manifest& manifest, const store::ImageConfig& config);
  Result<store::ImageVersion> add_single_layer(const ImageName& name,
                                               const store::LayerInfo& layer,
                                               const std::string& created_by,
                                               const std::optional<store::Digest>& parent,
                                               bool incomplete = false);
  Result<store::ImageVersion> import_oci_layout(const fs::path& layout,
                                                const ImageName& name,
                                                const std::string& oci_ref);

  fs::path root_;
  store::RealFilesystem filesystem_;  // before store_: the store uses them
  SystemClock clock_;
  std::unique_ptr<store::ImageStore> store_;
};

// The most layers instances stack directly; deeper chains are flattened.
inline constexpr size_t kMaxOverlayLayers = 40;

}  // namespace kiln::image
