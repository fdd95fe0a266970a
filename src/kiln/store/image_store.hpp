#pragma once

// The image store: an OCI image layout (docs/formats/store.md) whose index lists kiln's image
// versions. An image version is one manifest (its parent's layers plus its own), named by
// name/x.y.z/build and an ARN, recorded as an index entry with dev.kiln.* annotations.
//
// Writers of index.json (add_image, add_manifest, remove_image, gc) hold an flock on <store>/lock,
// so processes and threads may share one store; readers read index.json without the lock (it is
// only ever replaced by rename, so they see the old or the new one). An ImageStore object is
// thread-safe.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/base/time.hpp"
#include "kiln/catalog/arn.hpp"
#include "kiln/catalog/version.hpp"
#include "kiln/store/filesystem.hpp"
#include "kiln/store/fs_blob_store.hpp"
#include "kiln/store/oci.hpp"

namespace kiln::store {

// What add_image records: a new image version made of its parent's layers plus `layers`.
struct ImageRecord {
  std::string name;  // AWS's name rule (catalog::validate_name)
  catalog::SemanticVersion version;
  std::optional<Digest> parent;         // the parent image's manifest digest; none for a base image
  std::vector<Descriptor> layers;       // the new layers, in order, already committed as blobs
  std::vector<Digest> diff_ids;         // one per new layer: sha256 of its uncompressed tar
  std::vector<std::string> created_by;  // one per new layer: what made it (the history entry)
  std::optional<SystemTime> created;    // default: the store's clock
  std::string region = "local";         // of the image's ARN
  std::string account = "000000000000";
  std::string architecture = "amd64";  // for a base image; a child keeps its parent's
  // The build number to record; kAlreadyExists if name/version has it. Default: 1 + the highest.
  std::optional<uint32_t> build;
  // A build's snapshot before the build ends (tests, distribution): indexed, so that its blobs
  // are kept and its build number taken, but neither listed nor resolved until
  // mark_complete(); recovery removes it when its build was interrupted.
  bool incomplete = false;
};

// An image version as the index records it.
struct ImageVersion {
  std::string name;
  catalog::SemanticVersion version;
  uint32_t build = 0;
  Descriptor manifest;  // the index entry: manifest digest, size and annotations
  std::optional<Digest> parent;
  std::string arn;
  std::string created;      // RFC 3339 UTC
  bool incomplete = false;  // ImageRecord::incomplete, until mark_complete()

  // "web-server/1.2.0/3".
  std::string str() const;
  // org.opencontainers.image.ref.name: str() with spaces in the name as '_'.
  std::string ref_name() const;
};

struct VerifyReport {
  std::vector<std::string> problems;  // one line each; empty when the store is sound
  size_t blobs_checked = 0;
  size_t images = 0;  // index entries checked
  bool ok() const { return problems.empty(); }
};

struct GcOptions {
  // Blobs and temporary files younger than this are kept even when nothing references them: a
  // writer may be about to reference them (a layer written, its image not yet added).
  std::chrono::seconds grace = std::chrono::hours(1);
};

struct GcReport {
  std::vector<Digest> removed_blobs;
  std::vector<std::string> removed_temp_files;  // names in <store>/tmp
  uint64_t bytes_freed = 0;
  // The diff-ids of every layer an indexed image uses: unpacked layers not in this set may go.
  std::set<Digest> live_diff_ids;
};

class ImageStore {
 public:
  // Opens the OCI layout at `dir` (<root>/store), creating what is missing of it (folders,
  // oci-layout, an empty index.json). An existing, complete layout is not written to. `fs` and
  // `clock` must outlive the store.
  static Result<std::unique_ptr<ImageStore>> open(Filesystem& fs,
                                                  const Clock& clock,
                                                  std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }
  // Where layers are written before add_image references them.
  FsBlobStore& blobs() { return blobs_; }
  const FsBlobStore& blobs() const { return blobs_; }

  // Writes the config and manifest blobs, then adds the index entry (docs/formats/store.md,
  // "Crash safety"); the build number is 1 + the highest build of name/version. Every layer
  // (and the parent's manifest and config) must be in the store: kNotFound otherwise. Another
  // name with the same ARN or ref.name form ("a b" and "a_b", "Web" and "web") is kConflict.
  // On an error the index holds the old state or, when only the final folder sync failed, the
  // new one.
  Result<ImageVersion> add_image(const ImageRecord& record);

  // Indexes a manifest already in the store's blobs (one copied from another store) as the image
  // version `as` names: its name, version, build, ARN, parent and created (`as.manifest` is not
  // used; "" created means the store's clock). The manifest (digest and size of `manifest`), its
  // config and every layer must be present: kNotFound otherwise; the parent's manifest need not
  // be (the manifest lists every layer). The index entry gets `extra` annotations besides kiln's
  // (which `extra` may not hold: kInvalidArgument). The same manifest with the same ARN already
  // indexed under name/version/build is returned as it is (its annotations unchanged); another
  // manifest or ARN there is kConflict, as is a name too close to another (add_image).
  Result<ImageVersion> add_manifest(const Descriptor& manifest,
                                    const ImageVersion& as,
                                    const Annotations& extra = {});

  // kiln's image versions in the index, sorted by name, version and build; only those named
  // `name` when given. Index entries without kiln annotations (put there by other tools) are
  // left out, and so are incomplete ones (a build not ended) unless `include_incomplete`.
  Result<std::vector<ImageVersion>> list(std::optional<std::string_view> name = {},
                                         bool include_incomplete = false) const;

  // The newest image version matching `ref` (newest version the filter matches, then the
  // highest build, or the build `ref` names); incomplete ones are never offered. kNotFound when
  // none does.
  Result<ImageVersion> resolve(const catalog::ImageReference& ref) const;
  Result<ImageVersion> resolve(std::string_view ref) const;

  Result<Manifest> manifest(const Digest& digest) const;
  Result<ImageConfig> config(const Manifest& manifest) const;

  // Removes the index entry `ref` names, which must be one build ("web/1.0.0/2"): blobs stay
  // until gc(). A child of the removed image stays whole (its manifest lists every layer it
  // needs); its parent annotation then names a manifest gc may remove. Returns what was removed.
  Result<ImageVersion> remove_image(const catalog::ImageReference& ref);

  // The build of the incomplete image `ref` (one build) ended well: it is listed from now on.
  Status mark_complete(const catalog::ImageReference& ref);

  // Checks every blob's digest, oci-layout, index.json, and that every manifest the index lists
  // and every config and layer they name exist with the recorded size. An error only when the
  // store cannot be read at all; every problem found is in the report.
  Result<VerifyReport> verify() const;

  // Removes blobs no indexed manifest reaches and leftovers in tmp/ (both only when older than
  // options.grace). Stops without removing anything when an indexed manifest or config cannot be
  // read (kCorruption: run verify()).
  Result<GcReport> gc(const GcOptions& options = {});

 private:
  ImageStore(Filesystem& fs, const Clock& clock, std::filesystem::path dir);

  std::filesystem::path index_path() const { return dir_ / "index.json"; }
  std::filesystem::path layout_path() const { return dir_ / "oci-layout"; }
  std::filesystem::path lock_path() const { return dir_ / "lock"; }

  Status create_layout();
  Result<Index> read_index() const;
  Status write_index(const Index& index);

  Filesystem& fs_;
  const Clock& clock_;
  std::filesystem::path dir_;
  FsBlobStore blobs_;
};

}  // namespace kiln::store
