#pragma once

// The OCI image-spec (v1.1) documents kiln's store is made of: descriptors, image manifests,
// image configs and the image index (docs/formats/store.md), with JSON to and from them.
//
// to_json() writes compact JSON with a fixed key order, so a value always serializes to the same
// bytes (a manifest's digest depends on them). The *_from_json() functions never throw: bad JSON
// or a field of the wrong type is kCorruption naming `source` (the blob or file it came from).
// Fields kiln does not interpret are kept in `extra` and written back, so rewriting index.json
// keeps what other tools put there.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/store/digest.hpp"

namespace kiln::store {

using Json = nlohmann::ordered_json;

namespace media_type {
inline constexpr std::string_view kImageIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kImageManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kImageConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kLayerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kLayerTarZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
}  // namespace media_type

namespace annotation {
// OCI's own keys.
inline constexpr std::string_view kRefName = "org.opencontainers.image.ref.name";
inline constexpr std::string_view kCreated = "org.opencontainers.image.created";
// kiln's keys, on index entries and on manifests.
inline constexpr std::string_view kImageName = "dev.kiln.image.name";
inline constexpr std::string_view kImageVersion = "dev.kiln.image.version";
inline constexpr std::string_view kImageBuild = "dev.kiln.image.build";
inline constexpr std::string_view kImageArn = "dev.kiln.image.arn";
inline constexpr std::string_view kImageParent = "dev.kiln.image.parent";
// On an index entry only: the image's build has not ended (ImageRecord::incomplete).
inline constexpr std::string_view kImageIncomplete = "dev.kiln.image.incomplete";
}  // namespace annotation

// The "imageLayoutVersion" kiln writes to oci-layout.
inline constexpr std::string_view kImageLayoutVersion = "1.0.0";

using Annotations = std::map<std::string, std::string, std::less<>>;

struct Descriptor {
  std::string media_type;
  Digest digest;
  uint64_t size = 0;
  Annotations annotations;
  Json extra = Json::object();  // platform, urls, artifactType, ...: kept as they were

  // The annotation's value, or "" when absent.
  std::string annotation(std::string_view key) const;
};

struct Manifest {
  std::string media_type = std::string(media_type::kImageManifest);
  Descriptor config;
  std::vector<Descriptor> layers;
  Annotations annotations;
  Json extra = Json::object();  // artifactType, subject, ...
};

struct HistoryEntry {
  std::string created;  // RFC 3339, or "" when unknown
  std::string created_by;
  std::string comment;
  bool empty_layer = false;
};

struct ImageConfig {
  std::string created;  // RFC 3339, or "" when unknown
  std::string architecture = "amd64";
  std::string os = "linux";
  Json config;                   // the execution parameters (Env, Cmd, ...); null when absent
  std::vector<Digest> diff_ids;  // rootfs.diff_ids: sha256 of each layer's uncompressed tar
  std::vector<HistoryEntry> history;
  Json extra = Json::object();  // author, variant, os.version, ...
};

struct Index {
  std::string media_type = std::string(media_type::kImageIndex);
  std::vector<Descriptor> manifests;
  Annotations annotations;
  Json extra = Json::object();
};

Json descriptor_to_json(const Descriptor& descriptor);
std::string to_json(const Manifest& manifest);
std::string to_json(const ImageConfig& config);
std::string to_json(const Index& index);

Result<Manifest> manifest_from_json(std::string_view text, std::string_view source);
Result<ImageConfig> image_config_from_json(std::string_view text, std::string_view source);
Result<Index> index_from_json(std::string_view text, std::string_view source);

// oci-layout's content, and a check of it: kCorruption unless it names a layout version 1.x.
std::string oci_layout_json();
Status check_oci_layout(std::string_view text, std::string_view source);

}  // namespace kiln::store
