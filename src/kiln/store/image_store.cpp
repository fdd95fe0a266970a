#include "kiln/store/image_store.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "kiln/base/strings.hpp"

namespace kiln::store {
namespace fs = std::filesystem;
namespace {

using catalog::ImageReference;
using catalog::SemanticVersion;

// An index (or nested index) deeper than this is not something kiln or skopeo writes.
constexpr int kMaxIndexDepth = 8;

std::string ref_component(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), ' ', '_');
  return out;
}

std::string image_arn(const ImageRecord& record, uint32_t build) {
  catalog::ImageBuilderArn arn;
  arn.region = record.region;
  arn.account = record.account;
  arn.type = catalog::ResourceType::kImage;
  arn.name = catalog::arn_name(record.name);
  arn.version = catalog::VersionFilter::exact(record.version);
  arn.build = build;
  return arn.str();
}

Status validate_record(const ImageRecord& record) {
  KILN_TRY(catalog::validate_name(record.name));
  if (record.layers.size() != record.diff_ids.size() ||
      record.layers.size() != record.created_by.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{} layers need as many diff_ids and history entries (got {} and {})",
                      record.layers.size(),
                      record.diff_ids.size(),
                      record.created_by.size());
  }
  if (record.layers.empty() && !record.parent) {
    return make_error(ErrorCode::kInvalidArgument, "an image without a parent needs a layer");
  }
  // The ARN must parse back: this checks the region and the account.
  KILN_TRY(catalog::ImageBuilderArn::parse(image_arn(record, 1)));
  return ok_status();
}

bool is_kiln_entry(const Descriptor& entry) {
  return entry.annotations.contains(annotation::kImageName);
}

Result<ImageVersion> version_of(const Descriptor& entry) {
  ImageVersion image;
  image.name = entry.annotation(annotation::kImageName);
  KILN_TRY(catalog::validate_name(image.name));
  image.version = KILN_TRY(SemanticVersion::parse(entry.annotation(annotation::kImageVersion)));
  image.build = KILN_TRY(catalog::parse_build_number(entry.annotation(annotation::kImageBuild)));
  std::string parent = entry.annotation(annotation::kImageParent);
  if (!parent.empty()) {
    image.parent = KILN_TRY(Digest::parse(parent));
  }
  image.arn = entry.annotation(annotation::kImageArn);
  image.created = entry.annotation(annotation::kCreated);
  image.incomplete = entry.annotation(annotation::kImageIncomplete) == "true";
  image.manifest = entry;
  return image;
}

auto sort_key(const ImageVersion& image) {
  return std::tie(image.name, image.version, image.build);
}

// kiln's entries of `index`; malformed ones are left out (verify() reports them).
std::vector<ImageVersion> kiln_versions(const Index& index) {
  std::vector<ImageVersion> out;
  for (const Descriptor& entry : index.manifests) {
    if (!is_kiln_entry(entry)) {
      continue;
    }
    Result<ImageVersion> image = version_of(entry);
    if (image.ok()) {
      out.push_back(std::move(image).value());
    }
  }
  std::sort(out.begin(), out.end(), [](const ImageVersion& a, const ImageVersion& b) {
    return sort_key(a) < sort_key(b);
  });
  return out;
}

// Two names that are different but would share an ARN or a ref.name.
bool names_collide(std::string_view a, std::string_view b) {
  return a != b &&
         (catalog::arn_name(a) == catalog::arn_name(b) || ref_component(a) == ref_component(b));
}

Status check_name_is_free(const Index& index, std::string_view name) {
  for (const ImageVersion& image : kiln_versions(index)) {
    if (names_collide(image.name, name)) {
      return make_error(ErrorCode::kConflict,
                        "the name \"{}\" is too close to the existing image \"{}\": they would "
                        "share an ARN or an OCI reference",
                        name,
                        image.name);
    }
  }
  return ok_status();
}

uint32_t next_build(const Index& index, std::string_view name, const SemanticVersion& version) {
  uint32_t highest = 0;
  for (const ImageVersion& image : kiln_versions(index)) {
    if (image.name == name && image.version == version) {
      highest = std::max(highest, image.build);
    }
  }
  return highest + 1;
}

Annotations image_annotations(const ImageVersion& image) {
  Annotations a;
  a[std::string(annotation::kImageName)] = image.name;
  a[std::string(annotation::kImageVersion)] = image.version.str();
  a[std::string(annotation::kImageBuild)] = std::to_string(image.build);
  a[std::string(annotation::kImageArn)] = image.arn;
  if (image.parent) {
    a[std::string(annotation::kImageParent)] = image.parent->str();
  }
  a[std::string(annotation::kCreated)] = image.created;
  return a;
}

struct ParentImage {
  Manifest manifest;
  ImageConfig config;
};

ImageConfig child_config(const std::optional<ParentImage>& parent,
                         const ImageRecord& record,
                         const std::string& created) {
  ImageConfig config;
  if (parent) {
    config = parent->config;
  } else {
    config.architecture = record.architecture;
  }
  config.created = created;
  for (size_t i = 0; i < record.layers.size(); ++i) {
    config.diff_ids.push_back(record.diff_ids[i]);
    config.history.push_back(HistoryEntry{created, record.created_by[i], "", false});
  }
  return config;
}

Manifest child_manifest(const std::optional<ParentImage>& parent,
                        const ImageRecord& record,
                        Descriptor config,
                        Annotations annotations) {
  Manifest manifest;
  manifest.config = std::move(config);
  if (parent) {
    manifest.layers = parent->manifest.layers;
  }
  manifest.layers.insert(manifest.layers.end(), record.layers.begin(), record.layers.end());
  manifest.annotations = std::move(annotations);
  return manifest;
}

bool arn_names_image(const catalog::ImageBuilderArn& ref, const ImageVersion& image) {
  Result<catalog::ImageBuilderArn> arn = catalog::ImageBuilderArn::parse(image.arn);
  return arn.ok() && arn->partition == ref.partition && arn->region == ref.region &&
         arn->account == ref.account && arn->name == ref.name;
}

bool ref_names_image(const ImageReference& ref, const ImageVersion& image) {
  bool same_name = ref.arn ? arn_names_image(*ref.arn, image) : image.name == ref.name;
  return same_name && ref.version.matches(image.version) &&
         (!ref.build || *ref.build == image.build);
}

Error no_match(const ImageReference& ref, const std::vector<ImageVersion>& images) {
  std::vector<std::string> builds;
  for (const ImageVersion& image : images) {
    if (image.name == ref.name || (ref.arn && arn_names_image(*ref.arn, image))) {
      builds.push_back(fmt::format("{}/{}", image.version.str(), image.build));
    }
  }
  if (builds.empty()) {
    return make_error(ErrorCode::kNotFound, "no image matches {}", ref.str());
  }
  return make_error(
      ErrorCode::kNotFound, "no image matches {} (there are {})", ref.str(), join(builds, ", "));
}

// --- verify ----------------------------------------------------------------------------------

// Checks blobs and index entries, adding each problem to the report.
class Verifier {
 public:
  Verifier(const FsBlobStore& blobs, VerifyReport& report) : blobs_(blobs), report_(report) {}

  // Hashes every blob; an error only when the blob folder cannot be listed.
  Status check_blobs() {
    std::vector<std::string> names = KILN_TRY(blobs_.filesystem().list(blobs_.blob_dir()));
    for (const std::string& name : names) {
      Result<Digest> digest = Digest::parse("sha256:" + name);
      if (!digest.ok()) {
        problem(fmt::format("unexpected file blobs/sha256/{}", name));
        continue;
      }
      ++report_.blobs_checked;
      Result<uint64_t> size = blobs_.check(*digest);
      if (size.ok()) {
        sizes_[*digest] = *size;
      } else {
        damaged_.insert(*digest);
        problem(size.error().message);
      }
    }
    return ok_status();
  }

  void check_entry(const Descriptor& entry, const std::string& owner, int depth) {
    if (depth > kMaxIndexDepth) {
      problem(fmt::format("{}: indexes nested deeper than {}", owner, kMaxIndexDepth));
    } else if (entry.media_type == media_type::kImageIndex) {
      check_nested_index(entry, owner, depth);
    } else {
      check_manifest(entry, owner);
    }
  }

  void problem(std::string text) { report_.problems.push_back(std::move(text)); }

 private:
  // Whether the blob is there, intact and of the described size (problems reported once).
  bool present(const Descriptor& d, std::string_view what, const std::string& owner) {
    if (damaged_.contains(d.digest)) {
      return false;  // already reported by check_blobs
    }
    auto it = sizes_.find(d.digest);
    if (it == sizes_.end()) {
      problem(fmt::format("{}: {} {} is missing", owner, what, d.digest.str()));
      return false;
    }
    if (it->second != d.size) {
      problem(fmt::format("{}: {} {} has {} bytes, the descriptor says {}",
                          owner,
                          what,
                          d.digest.str(),
                          it->second,
                          d.size));
    }
    return true;
  }

  // The blob's content, or nothing (and a problem) when it cannot be read.
  std::optional<std::string> read(const Digest& digest) {
    Result<std::string> text = blobs_.read(digest);
    if (!text.ok()) {
      problem(text.error().message);
      return std::nullopt;
    }
    return std::move(text).value();
  }

  template <typename T>
  std::optional<T> parsed(Result<T> result) {
    if (!result.ok()) {
      problem(result.error().message);
      return std::nullopt;
    }
    return std::move(result).value();
  }

  void check_manifest(const Descriptor& entry, const std::string& owner) {
    std::optional<std::string> text;
    if (present(entry, "manifest", owner)) {
      text = read(entry.digest);
    }
    auto manifest =
        text ? parsed(manifest_from_json(*text, "manifest " + entry.digest.str())) : std::nullopt;
    if (!manifest) {
      return;
    }
    for (const Descriptor& layer : manifest->layers) {
      present(layer, "layer", owner);
    }
    if (present(manifest->config, "config", owner)) {
      check_config(*manifest, owner);
    }
  }

  void check_config(const Manifest& manifest, const std::string& owner) {
    std::optional<std::string> text = read(manifest.config.digest);
    auto config =
        text ? parsed(image_config_from_json(*text, "config " + manifest.config.digest.str()))
             : std::nullopt;
    if (config && config->diff_ids.size() != manifest.layers.size()) {
      problem(fmt::format("{}: the config lists {} diff_ids for {} layers",
                          owner,
                          config->diff_ids.size(),
                          manifest.layers.size()));
    }
  }

  void check_nested_index(const Descriptor& entry, const std::string& owner, int depth) {
    std::optional<std::string> text;
    if (present(entry, "index", owner)) {
      text = read(entry.digest);
    }
    auto index =
        text ? parsed(index_from_json(*text, "index " + entry.digest.str())) : std::nullopt;
    for (size_t i = 0; index && i < index->manifests.size(); ++i) {
      check_entry(index->manifests[i], owner, depth + 1);
    }
  }

  const FsBlobStore& blobs_;
  VerifyReport& report_;
  std::map<Digest, uint64_t> sizes_;  // intact blobs and their sizes
  std::set<Digest> damaged_;
};

}  // namespace

namespace {

// --- gc --------------------------------------------------------------------------------------

bool is_manifest_or_index(std::string_view type) {
  return type == media_type::kImageManifest || type == media_type::kImageIndex ||
         type == "application/vnd.docker.distribution.manifest.v2+json" ||
         type == "application/vnd.docker.distribution.manifest.list.v2+json";
}

struct Reference {
  std::string media_type;
  std::string digest;
};

// Every descriptor ({"mediaType": ..., "digest": ...}) anywhere in `j`: whatever the manifest
// or index format, nothing it points to is missed.
void collect_references(const Json& j, std::vector<Reference>& out) {
  if (j.is_object()) {
    auto digest = j.find("digest");
    auto type = j.find("mediaType");
    if (digest != j.end() && digest->is_string()) {
      bool typed = type != j.end() && type->is_string();
      out.push_back(Reference{typed ? type->get<std::string>() : "", digest->get<std::string>()});
    }
  }
  if (j.is_object() || j.is_array()) {
    for (const Json& child : j) {
      collect_references(child, out);
    }
  }
}

// The blobs the index reaches, and the diff-ids of the images it lists.
class Marker {
 public:
  explicit Marker(const ImageStore& store) : store_(store) {}

  Status mark(std::string_view type, const Digest& digest, int depth) {
    if (!live.insert(digest).second || !is_manifest_or_index(type)) {
      return ok_status();  // already seen, or a leaf (a missing leaf has nothing to follow)
    }
    if (!store_.blobs().has(digest)) {
      // What a missing manifest referenced is unknown: collecting now could free blobs it needs.
      return make_error(ErrorCode::kCorruption, "{} {} is missing", type, digest.str());
    }
    if (depth > kMaxIndexDepth) {
      return make_error(ErrorCode::kCorruption, "indexes nested deeper than {}", kMaxIndexDepth);
    }
    std::string text = KILN_TRY(store_.blobs().read(digest));
    Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return make_error(ErrorCode::kCorruption, "{} {} is not JSON", type, digest.str());
    }
    std::vector<Reference> refs;
    collect_references(j, refs);
    for (const Reference& ref : refs) {
      Digest child = KILN_TRY(Digest::parse(ref.digest));
      KILN_TRY(mark(ref.media_type, child, depth + 1));
    }
    if (type == media_type::kImageManifest) {
      KILN_TRY(mark_diff_ids(text, digest));
    }
    return ok_status();
  }

  std::set<Digest> live;
  std::set<Digest> diff_ids;

 private:
  Status mark_diff_ids(std::string_view text, const Digest& digest) {
    Manifest manifest = KILN_TRY(manifest_from_json(text, "manifest " + digest.str()));
    if (!store_.blobs().has(manifest.config.digest)) {
      return ok_status();
    }
    ImageConfig config = KILN_TRY(store_.config(manifest));
    diff_ids.insert(config.diff_ids.begin(), config.diff_ids.end());
    return ok_status();
  }

  const ImageStore& store_;
};

// Whether `path` was last changed at or before `cutoff` (a file that vanished is not).
bool older_than(const Filesystem& fs, const fs::path& path, SystemTime cutoff) {
  Result<FileInfo> info = fs.stat(path);
  return info.ok() && !info->is_directory && info->modified <= cutoff;
}

Status remove_unreachable(FsBlobStore& blobs,
                          const std::set<Digest>& live,
                          SystemTime cutoff,
                          GcReport& report) {
  std::vector<Digest> all = KILN_TRY(blobs.list());
  for (const Digest& digest : all) {
    if (live.contains(digest) || !older_than(blobs.filesystem(), blobs.path(digest), cutoff)) {
      continue;
    }
    Result<FileInfo> info = blobs.filesystem().stat(blobs.path(digest));
    KILN_TRY(blobs.remove(digest));
    report.removed_blobs.push_back(digest);
    report.bytes_freed += info.ok() ? info->size : 0;
  }
  return ok_status();
}

Status remove_temp_files(FsBlobStore& blobs, SystemTime cutoff, GcReport& report) {
  Filesystem& fs = blobs.filesystem();
  std::vector<std::string> names = KILN_TRY(fs.list(blobs.temp_dir()));
  for (const std::string& name : names) {
    fs::path path = blobs.temp_dir() / name;
    if (!older_than(fs, path, cutoff)) {
      continue;
    }
    Result<FileInfo> info = fs.stat(path);
    KILN_TRY(fs.remove(path));
    report.removed_temp_files.push_back(name);
    report.bytes_freed += info.ok() ? info->size : 0;
  }
  return ok_status();
}

// --- add_image -------------------------------------------------------------------------------

Status check_blob(const FsBlobStore& blobs, const Descriptor& blob, std::string_view what) {
  Result<FileInfo> info = blobs.filesystem().stat(blobs.path(blob.digest));
  if (!info.ok()) {
    return make_error(ErrorCode::kNotFound, "{} {} is not in the store", what, blob.digest.str());
  }
  if (info->size != blob.size) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{} {} has {} bytes, its descriptor says {}",
                      what,
                      blob.digest.str(),
                      info->size,
                      blob.size);
  }
  return ok_status();
}

Status check_layers(const FsBlobStore& blobs, const std::vector<Descriptor>& layers) {
  for (const Descriptor& layer : layers) {
    KILN_TRY(check_blob(blobs, layer, "layer"));
  }
  return ok_status();
}

Result<std::optional<ParentImage>> load_parent(const ImageStore& store,
                                               const std::optional<Digest>& digest) {
  if (!digest) {
    return std::optional<ParentImage>();
  }
  if (!store.blobs().has(*digest)) {
    return make_error(
        ErrorCode::kNotFound, "the parent image {} is not in the store", digest->str());
  }
  ParentImage parent;
  parent.manifest = KILN_TRY(store.manifest(*digest));
  parent.config = KILN_TRY(store.config(parent.manifest));
  if (parent.config.diff_ids.size() != parent.manifest.layers.size()) {
    return make_error(ErrorCode::kCorruption,
                      "the parent image {} lists {} diff_ids for {} layers",
                      digest->str(),
                      parent.config.diff_ids.size(),
                      parent.manifest.layers.size());
  }
  KILN_TRY_CTX(check_layers(store.blobs(), parent.manifest.layers),
               fmt::format("the parent image {}", digest->str()));
  return std::optional<ParentImage>(std::move(parent));
}

Descriptor descriptor_of(std::string_view type, const Digest& digest, size_t size) {
  Descriptor d;
  d.media_type = std::string(type);
  d.digest = digest;
  d.size = size;
  return d;
}

bool exists(const Filesystem& fs, const fs::path& path) {
  return fs.stat(path).ok();
}

// --- add_manifest ----------------------------------------------------------------------------

Status check_version_to_index(const ImageVersion& image, const Annotations& extra) {
  KILN_TRY(catalog::validate_name(image.name));
  catalog::ImageBuilderArn arn = KILN_TRY(catalog::ImageBuilderArn::parse(image.arn));
  if (image.build == 0 || arn.type != catalog::ResourceType::kImage ||
      arn.name != catalog::arn_name(image.name) ||
      arn.version != catalog::VersionFilter::exact(image.version) || arn.build != image.build) {
    return make_error(
        ErrorCode::kInvalidArgument, "{} is not the ARN of the image {}", image.arn, image.str());
  }
  for (const auto& [key, value] : extra) {
    if (key.starts_with("dev.kiln.image.") || key == annotation::kRefName ||
        key == annotation::kCreated) {
      return make_error(ErrorCode::kInvalidArgument, "the annotation {} is kiln's own", key);
    }
  }
  return ok_status();
}

// The manifest, its config and its layers are in the store (and the manifest and config intact).
Status check_manifest_blobs(const ImageStore& store, const Descriptor& descriptor) {
  if (descriptor.media_type != media_type::kImageManifest) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{} is a {}, not an image manifest",
                      descriptor.digest.str(),
                      descriptor.media_type);
  }
  KILN_TRY(check_blob(store.blobs(), descriptor, "manifest"));
  Manifest manifest = KILN_TRY(store.manifest(descriptor.digest));
  KILN_TRY(check_blob(store.blobs(), manifest.config, "config"));
  ImageConfig config = KILN_TRY(store.config(manifest));
  if (config.diff_ids.size() != manifest.layers.size()) {
    return make_error(ErrorCode::kCorruption,
                      "the manifest {} has {} layers, its config {} diff_ids",
                      descriptor.digest.str(),
                      manifest.layers.size(),
                      config.diff_ids.size());
  }
  return check_layers(store.blobs(), manifest.layers);
}

}  // namespace

// --- ImageVersion ----------------------------------------------------------------------------

std::string ImageVersion::str() const {
  return fmt::format("{}/{}/{}", name, version.str(), build);
}

std::string ImageVersion::ref_name() const {
  return fmt::format("{}/{}/{}", ref_component(name), version.str(), build);
}

// --- ImageStore ------------------------------------------------------------------------------

ImageStore::ImageStore(Filesystem& fs, const Clock& clock, fs::path dir)
    : fs_(fs), clock_(clock), dir_(std::move(dir)), blobs_(fs, dir_) {}

Result<std::unique_ptr<ImageStore>> ImageStore::open(Filesystem& fs,
                                                     const Clock& clock,
                                                     fs::path dir) {
  std::unique_ptr<ImageStore> store(new ImageStore(fs, clock, std::move(dir)));
  std::string context = fmt::format("opening the image store {}", store->dir_.string());
  KILN_TRY_CTX(store->create_layout(), context);
  std::string layout = KILN_TRY_CTX(read_whole_file(fs, store->layout_path()), context);
  KILN_TRY_CTX(check_oci_layout(layout, store->layout_path().string()), context);
  return store;
}

Status ImageStore::create_layout() {
  if (exists(fs_, layout_path()) && exists(fs_, index_path()) && exists(fs_, blobs_.blob_dir()) &&
      exists(fs_, blobs_.temp_dir())) {
    return ok_status();  // complete: opening a store never writes to it
  }
  KILN_TRY(blobs_.create());
  // The new folders' names survive a crash once their parents are synced.
  KILN_TRY(fs_.sync_dir(dir_ / "blobs"));
  KILN_TRY(fs_.sync_dir(dir_));
  // Under the lock, so that two processes creating the store do not replace each other's index.
  std::unique_ptr<FileLock> lock = KILN_TRY(fs_.lock(lock_path()));
  if (!exists(fs_, layout_path())) {
    KILN_TRY(replace_file(fs_, blobs_.temp_dir(), layout_path(), oci_layout_json()));
  }
  if (!exists(fs_, index_path())) {
    KILN_TRY(write_index(Index{}));
  }
  return ok_status();
}

Result<Index> ImageStore::read_index() const {
  std::string text = KILN_TRY(read_whole_file(fs_, index_path()));
  return index_from_json(text, index_path().string());
}

Status ImageStore::write_index(const Index& index) {
  return replace_file(fs_, blobs_.temp_dir(), index_path(), to_json(index));
}

Result<ImageVersion> ImageStore::add_image(const ImageRecord& record) {
  std::string context = fmt::format("adding the image {}/{}", record.name, record.version.str());
  KILN_TRY_CTX(validate_record(record), context);
  // The lock is held from reading the index to replacing it, so concurrent adds get distinct
  // builds, and gc (which takes it too) cannot remove a blob between the checks and the index.
  std::unique_ptr<FileLock> lock = KILN_TRY_CTX(fs_.lock(lock_path()), context);
  Index index = KILN_TRY_CTX(read_index(), context);
  KILN_TRY_CTX(check_name_is_free(index, record.name), context);
  std::optional<ParentImage> parent = KILN_TRY_CTX(load_parent(*this, record.parent), context);
  KILN_TRY_CTX(check_layers(blobs_, record.layers), context);

  ImageVersion image;
  image.name = record.name;
  image.version = record.version;
  image.build = next_build(index, record.name, record.version);
  if (record.build) {
    if (*record.build < image.build) {
      for (const ImageVersion& existing : kiln_versions(index)) {
        if (existing.name == record.name && existing.version == record.version &&
            existing.build == *record.build) {
          return make_error(ErrorCode::kAlreadyExists, "{}: {} exists", context, existing.str());
        }
      }
    }
    image.build = *record.build;
  }
  image.parent = record.parent;
  image.arn = image_arn(record, image.build);
  image.created = format_rfc3339_utc(record.created.value_or(clock_.now()));
  Annotations annotations = image_annotations(image);

  std::string config = to_json(child_config(parent, record, image.created));
  Digest config_digest = KILN_TRY_CTX(blobs_.put(config), context);
  std::string manifest =
      to_json(child_manifest(parent,
                             record,
                             descriptor_of(media_type::kImageConfig, config_digest, config.size()),
                             annotations));
  Digest manifest_digest = KILN_TRY_CTX(blobs_.put(manifest), context);

  image.manifest = descriptor_of(media_type::kImageManifest, manifest_digest, manifest.size());
  image.manifest.annotations = std::move(annotations);
  image.manifest.annotations[std::string(annotation::kRefName)] = image.ref_name();
  if (record.incomplete) {
    // On the index entry only: the manifest (and its digest) stay what the finished image has.
    image.manifest.annotations[std::string(annotation::kImageIncomplete)] = "true";
    image.incomplete = true;
  }
  index.manifests.push_back(image.manifest);
  KILN_TRY_CTX(write_index(index), context);
  return image;
}

Result<ImageVersion> ImageStore::add_manifest(const Descriptor& manifest,
                                              const ImageVersion& as,
                                              const Annotations& extra) {
  std::string context = fmt::format("indexing {} as {}", manifest.digest.str(), as.str());
  KILN_TRY_CTX(check_version_to_index(as, extra), context);
  ImageVersion image = as;
  if (image.created.empty()) {
    image.created = format_rfc3339_utc(clock_.now());
  }
  image.manifest = descriptor_of(media_type::kImageManifest, manifest.digest, manifest.size);
  image.manifest.annotations = extra;
  image.manifest.annotations.merge(image_annotations(image));
  image.manifest.annotations[std::string(annotation::kRefName)] = image.ref_name();
  // Under the lock from the checks to the new index, as in add_image.
  std::unique_ptr<FileLock> lock = KILN_TRY_CTX(fs_.lock(lock_path()), context);
  Index index = KILN_TRY_CTX(read_index(), context);
  KILN_TRY_CTX(check_name_is_free(index, image.name), context);
  for (const ImageVersion& existing : kiln_versions(index)) {
    if (sort_key(existing) != sort_key(image)) {
      continue;
    }
    if (existing.manifest.digest == manifest.digest && existing.arn == image.arn) {
      return existing;  // a repeat: nothing to change
    }
    return make_error(ErrorCode::kConflict,
                      "{}: {} is already in the store as {} with the manifest {}",
                      context,
                      existing.str(),
                      existing.arn,
                      existing.manifest.digest.str());
  }
  KILN_TRY_CTX(check_manifest_blobs(*this, manifest), context);
  index.manifests.push_back(image.manifest);
  KILN_TRY_CTX(write_index(index), context);
  return image;
}

Result<std::vector<ImageVersion>> ImageStore::list(std::optional<std::string_view> name,
                                                   bool include_incomplete) const {
  Index index = KILN_TRY(read_index());
  std::vector<ImageVersion> images = kiln_versions(index);
  std::erase_if(images, [&](const ImageVersion& image) {
    return (name && image.name != *name) || (image.incomplete && !include_incomplete);
  });
  return images;
}

Result<ImageVersion> ImageStore::resolve(const ImageReference& ref) const {
  std::vector<ImageVersion> images = KILN_TRY(list());
  const ImageVersion* best = nullptr;
  for (const ImageVersion& image : images) {
    if (ref_names_image(ref, image) && (best == nullptr || sort_key(*best) < sort_key(image))) {
      best = &image;
    }
  }
  if (best == nullptr) {
    return no_match(ref, images);
  }
  return *best;
}

Result<ImageVersion> ImageStore::resolve(std::string_view ref) const {
  ImageReference parsed = KILN_TRY(ImageReference::parse(ref));
  return resolve(parsed);
}

Result<Manifest> ImageStore::manifest(const Digest& digest) const {
  std::string text = KILN_TRY(blobs_.read(digest));
  return manifest_from_json(text, "manifest " + digest.str());
}

Result<ImageConfig> ImageStore::config(const Manifest& manifest) const {
  std::string text = KILN_TRY(blobs_.read(manifest.config.digest));
  return image_config_from_json(text, "config " + manifest.config.digest.str());
}

Result<ImageVersion> ImageStore::remove_image(const ImageReference& ref) {
  if (!ref.version.is_exact() || !ref.build) {
    return make_error(ErrorCode::kInvalidArgument,
                      "deleting {} needs one build, as in name/1.0.0/1 or a build version ARN",
                      ref.str());
  }
  std::string context = fmt::format("deleting the image {}", ref.str());
  std::unique_ptr<FileLock> lock = KILN_TRY_CTX(fs_.lock(lock_path()), context);
  Index index = KILN_TRY_CTX(read_index(), context);
  for (auto it = index.manifests.begin(); it != index.manifests.end(); ++it) {
    Result<ImageVersion> image = is_kiln_entry(*it) ? version_of(*it) : Error{};
    if (image.ok() && ref_names_image(ref, *image)) {
      index.manifests.erase(it);
      KILN_TRY_CTX(write_index(index), context);
      return image;
    }
  }
  return no_match(ref, kiln_versions(index));
}

Status ImageStore::mark_complete(const ImageReference& ref) {
  if (!ref.version.is_exact() || !ref.build) {
    return make_error(ErrorCode::kInvalidArgument, "{}: one build is needed", ref.str());
  }
  std::string context = fmt::format("completing the image {}", ref.str());
  std::unique_ptr<FileLock> lock = KILN_TRY_CTX(fs_.lock(lock_path()), context);
  Index index = KILN_TRY_CTX(read_index(), context);
  for (Descriptor& entry : index.manifests) {
    Result<ImageVersion> image = is_kiln_entry(entry) ? version_of(entry) : Error{};
    if (image.ok() && ref_names_image(ref, *image)) {
      if (entry.annotations.erase(std::string(annotation::kImageIncomplete)) == 0) {
        return ok_status();
      }
      KILN_TRY_CTX(write_index(index), context);
      return ok_status();
    }
  }
  return no_match(ref, kiln_versions(index));
}

Result<VerifyReport> ImageStore::verify() const {
  VerifyReport report;
  Verifier verifier(blobs_, report);
  Result<std::string> layout = read_whole_file(fs_, layout_path());
  Status layout_ok =
      layout.ok() ? check_oci_layout(*layout, layout_path().string()) : Status(layout.error());
  if (!layout_ok.ok()) {
    verifier.problem(layout_ok.error().message);
  }
  KILN_TRY_CTX(verifier.check_blobs(), "verifying the image store");
  Result<Index> index = read_index();
  if (!index.ok()) {
    verifier.problem(index.error().message);
    return report;
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < index->manifests.size(); ++i) {
    const Descriptor& entry = index->manifests[i];
    std::string owner = fmt::format("index entry {}", i);
    if (is_kiln_entry(entry)) {
      Result<ImageVersion> image = version_of(entry);
      if (!image.ok()) {
        verifier.problem(fmt::format("{}: {}", owner, image.error().message));
      } else if (!seen.insert(image->str()).second) {
        verifier.problem(fmt::format("{} is listed twice in the index", image->str()));
      }
      owner = image.ok() ? image->str() : owner;
    }
    ++report.images;
    verifier.check_entry(entry, owner, 0);
  }
  return report;
}

Result<GcReport> ImageStore::gc(const GcOptions& options) {
  std::unique_ptr<FileLock> lock = KILN_TRY_CTX(fs_.lock(lock_path()), "collecting garbage");
  Index index = KILN_TRY_CTX(read_index(), "collecting garbage");
  Marker marker(*this);
  for (const Descriptor& entry : index.manifests) {
    KILN_TRY_CTX(marker.mark(entry.media_type, entry.digest, 0),
                 "collecting garbage: cannot tell what the index references (run verify)");
  }
  GcReport report;
  report.live_diff_ids = std::move(marker.diff_ids);
  SystemTime cutoff = clock_.now() - options.grace;
  KILN_TRY_CTX(remove_unreachable(blobs_, marker.live, cutoff, report), "collecting garbage");
  KILN_TRY_CTX(remove_temp_files(blobs_, cutoff, report), "collecting garbage");
  return report;
}

}  // namespace kiln::store
