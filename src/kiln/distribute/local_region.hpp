#pragma once

// Distribution to local regions: a region is another image store (an OCI layout folder, on any
// disk or mount). Copying an image there writes only the blobs the target lacks (manifest,
// config and layers, each checked against its digest as it is written), then adds the index entry
// under the same name, version and build, with the region in its ARN. Output names follow AWS's
// amiDistributionConfiguration.name with {{ imagebuilder:buildDate }} and
// {{ imagebuilder:buildVersion }} (reference 3.6); they and the tags are recorded as annotations.

#include <atomic>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/base/time.hpp"
#include "kiln/store/image_store.hpp"

namespace kiln::distribute {

// The annotations a copy adds to its index entry in the target store (docs/formats/store.md,
// "Local regions"); the manifest itself is copied byte for byte.
namespace annotation {
inline constexpr std::string_view kSource = "dev.kiln.distribution.source";  // the source ARN
inline constexpr std::string_view kOutputName = "dev.kiln.distribution.name";
inline constexpr std::string_view kDescription = "dev.kiln.distribution.description";
inline constexpr std::string_view kTagPrefix = "dev.kiln.distribution.tag.";  // + the tag's key
}  // namespace annotation

// Expands {{ imagebuilder:buildDate }} (the build time as AWS writes it,
// "2026-11-26T20-11-05.123Z") and {{ imagebuilder:buildVersion }} (the build number), spaces
// inside the braces allowed; any other {{ imagebuilder:... }} is kInvalidArgument naming it.
Result<std::string> expand_output_name(std::string_view pattern,
                                       SystemTime build_date,
                                       uint32_t build_version);

struct RegionTarget {
  std::string region;                       // the distribution's region name
  std::filesystem::path store;              // the region's store folder (created if missing)
  std::string account_id;                   // for the ARN in the target
  std::string output_name;                  // expanded amiDistributionConfiguration.name ("" none)
  std::string description;                  // amiDistributionConfiguration.description
  std::map<std::string, std::string> tags;  // amiDistributionConfiguration.amiTags
};

struct RegionOutput {
  std::string region;
  std::string arn;              // the image's ARN in that region
  std::string manifest_digest;  // the image's id there
  std::string output_name;
  uint64_t bytes_copied = 0;  // blobs written (those the target already had are not counted)
  size_t blobs_copied = 0;
  size_t blobs_present = 0;
};

// Copies `image` from `source` to `target`; safe to run for several targets at once (each
// target store is locked by its own writers) and to repeat (an image already there with the
// same manifest is reported, not copied again; another manifest under the same name, version
// and build is kConflict). `cancel` stops between blobs (kCancelled).
Result<RegionOutput> copy_to_region(const store::ImageStore& source,
                                    const store::ImageVersion& image,
                                    const RegionTarget& target,
                                    const std::atomic<bool>* cancel = nullptr);

// copy_to_region into a store already open (target.store is not used): for tests that inject
// filesystem faults, and for callers holding the target store.
Result<RegionOutput> copy_to_store(const store::ImageStore& source,
                                   const store::ImageVersion& image,
                                   store::ImageStore& target_store,
                                   const RegionTarget& target,
                                   const std::atomic<bool>* cancel = nullptr);

// Runs copy_to_region for every target on threads of its own; the results in target order, the
// first error if any failed (the others still finish; the regions that failed too are named at
// the end of its message). Two targets with one store folder are kInvalidArgument.
Result<std::vector<RegionOutput>> copy_to_regions(const store::ImageStore& source,
                                                  const store::ImageVersion& image,
                                                  const std::vector<RegionTarget>& targets,
                                                  const std::atomic<bool>* cancel = nullptr);

// Takes `image` back out of the regions of `targets` it reached (its build failed during or after
// distribution): each region's index entry with the image's name, version, build and manifest
// is removed (its blobs stay until gc); a region without it, or without a store, is left alone.
// Returns the regions it was removed from; the first region that could not be cleaned is an
// error, after every other region was tried.
Result<std::vector<std::string>> remove_from_regions(const store::ImageVersion& image,
                                                     const std::vector<RegionTarget>& targets);

}  // namespace kiln::distribute
