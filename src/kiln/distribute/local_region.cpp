#include "kiln/distribute/local_region.hpp"

#include <fmt/ranges.h>
#include <time.h>

#include <array>
#include <optional>
#include <set>
#include <system_error>
#include <thread>

#include "kiln/catalog/arn.hpp"

namespace kiln::distribute {
namespace fs = std::filesystem;
namespace {

using store::Descriptor;
using store::Digest;
using store::ImageStore;
using store::ImageVersion;

constexpr std::string_view kPlaceholderPrefix = "imagebuilder:";
constexpr size_t kCopyBufferSize = 1 << 20;

std::string_view trim_spaces(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) {
    return {};
  }
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

// "2026-11-26T20-11-05.123Z": the UTC time as AWS writes it in AMI names.
std::string aws_build_date(SystemTime time) {
  auto millis = std::chrono::floor<std::chrono::milliseconds>(time.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(millis);
  time_t t = static_cast<time_t>(seconds.count());
  struct tm tm {};
  gmtime_r(&t, &tm);
  std::array<char, 32> buffer{};
  strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H-%M-%S", &tm);
  return fmt::format("{}.{:03}Z", buffer.data(), (millis - seconds).count());
}

bool cancelled(const std::atomic<bool>* cancel) {
  return cancel != nullptr && cancel->load();
}

// Copies one blob from `source` to `target` through the target's writer, which checks the
// digest before the blob gets its name. Returns the bytes written.
Result<uint64_t> copy_blob(const store::FsBlobStore& source,
                           store::FsBlobStore& target,
                           const Descriptor& blob,
                           std::string_view what) {
  std::string context = fmt::format("copying the {} {}", what, blob.digest.str());
  std::unique_ptr<store::ReadableFile> in =
      KILN_TRY_CTX(source.filesystem().open(source.path(blob.digest)), context);
  std::unique_ptr<store::BlobWriter> out = KILN_TRY_CTX(target.writer(), context);
  std::string buffer(kCopyBufferSize, '\0');
  for (;;) {
    size_t n = KILN_TRY_CTX(in->read(buffer.data(), buffer.size()), context);
    if (n == 0) {
      break;
    }
    KILN_TRY_CTX(out->write(std::string_view(buffer.data(), n)), context);
  }
  auto [digest, size] = KILN_TRY_CTX(out->commit(blob.digest), context);
  if (size != blob.size) {
    // The content matches the digest, so the descriptor is what is wrong; the blob is sound.
    return make_error(ErrorCode::kCorruption,
                      "{}: it has {} bytes, its descriptor says {}",
                      context,
                      size,
                      blob.size);
  }
  return size;
}

Result<std::string> target_arn(const ImageVersion& image, const RegionTarget& target) {
  catalog::ImageBuilderArn arn = KILN_TRY(catalog::ImageBuilderArn::parse(image.arn));
  arn.region = target.region;
  if (!target.account_id.empty()) {
    arn.account = target.account_id;
  }
  std::string text = arn.str();
  KILN_TRY(catalog::ImageBuilderArn::parse(text));  // checks the region and the account
  return text;
}

store::Annotations output_annotations(const ImageVersion& image, const RegionTarget& target) {
  store::Annotations a;
  a[std::string(annotation::kSource)] = image.arn;
  if (!target.output_name.empty()) {
    a[std::string(annotation::kOutputName)] = target.output_name;
  }
  if (!target.description.empty()) {
    a[std::string(annotation::kDescription)] = target.description;
  }
  for (const auto& [key, value] : target.tags) {
    a[fmt::format("{}{}", annotation::kTagPrefix, key)] = value;
  }
  return a;
}

// Another manifest already under the image's name, version and build: refused before any blob
// is copied (add_manifest checks again under the lock).
Status check_no_conflict(const ImageStore& target, const ImageVersion& image) {
  std::vector<ImageVersion> there = KILN_TRY(target.list(image.name, true));
  for (const ImageVersion& existing : there) {
    if (existing.version == image.version && existing.build == image.build &&
        existing.manifest.digest != image.manifest.digest) {
      return make_error(ErrorCode::kConflict,
                        "{} is already there with the manifest {}",
                        existing.str(),
                        existing.manifest.digest.str());
    }
  }
  return ok_status();
}

Result<RegionOutput> copy_image(const ImageStore& source,
                                const ImageVersion& image,
                                ImageStore& target_store,
                                const RegionTarget& target,
                                const std::atomic<bool>* cancel) {
  RegionOutput output;
  output.region = target.region;
  output.output_name = target.output_name;
  output.arn = KILN_TRY(target_arn(image, target));
  KILN_TRY(check_no_conflict(target_store, image));

  // Children before what names them: layers, the config, the manifest last.
  store::Manifest manifest = KILN_TRY(source.manifest(image.manifest.digest));
  std::vector<std::pair<Descriptor, std::string_view>> blobs;
  for (const Descriptor& layer : manifest.layers) {
    blobs.emplace_back(layer, "layer");
  }
  blobs.emplace_back(manifest.config, "config");
  blobs.emplace_back(image.manifest, "manifest");
  std::set<Digest> seen;
  for (const auto& [blob, what] : blobs) {
    if (cancelled(cancel)) {
      return make_error(ErrorCode::kCancelled, "cancelled");
    }
    if (!seen.insert(blob.digest).second) {
      continue;  // a layer listed twice
    }
    if (target_store.blobs().has(blob.digest)) {
      ++output.blobs_present;
      continue;
    }
    output.bytes_copied += KILN_TRY(copy_blob(source.blobs(), target_store.blobs(), blob, what));
    ++output.blobs_copied;
  }
  if (cancelled(cancel)) {
    return make_error(ErrorCode::kCancelled, "cancelled");
  }

  ImageVersion as = image;
  as.arn = output.arn;
  ImageVersion added =
      KILN_TRY(target_store.add_manifest(image.manifest, as, output_annotations(image, target)));
  output.arn = added.arn;
  output.manifest_digest = added.manifest.digest.str();
  return output;
}

// The folder `path` names, so that two spellings of one folder compare equal.
fs::path folder_key(const fs::path& path) {
  std::error_code error;
  fs::path key = fs::weakly_canonical(path, error);
  if (error) {
    key = path.lexically_normal();
  }
  return key.has_filename() ? key : key.parent_path();
}

std::string copy_context(const ImageVersion& image, const RegionTarget& target) {
  return fmt::format("distributing {} to the region {}", image.str(), target.region);
}

}  // namespace

Result<std::string> expand_output_name(std::string_view pattern,
                                       SystemTime build_date,
                                       uint32_t build_version) {
  std::string out;
  size_t pos = 0;
  while (pos < pattern.size()) {
    size_t open = pattern.find("{{", pos);
    if (open == std::string_view::npos) {
      break;
    }
    size_t close = pattern.find("}}", open + 2);
    std::string_view inside = trim_spaces(pattern.substr(
        open + 2, close == std::string_view::npos ? std::string_view::npos : close - open - 2));
    if (!inside.starts_with(kPlaceholderPrefix)) {
      out.append(pattern.substr(pos, open + 2 - pos));  // not ours: kept as it is
      pos = open + 2;
      continue;
    }
    if (close == std::string_view::npos) {
      return make_error(
          ErrorCode::kInvalidArgument, "the output name \"{}\" has a {{{{ without }}}}", pattern);
    }
    out.append(pattern.substr(pos, open - pos));
    std::string_view name = inside.substr(kPlaceholderPrefix.size());
    if (name == "buildDate") {
      out += aws_build_date(build_date);
    } else if (name == "buildVersion") {
      out += std::to_string(build_version);
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "the output name \"{}\": unknown placeholder {{{{ {} }}}} (there are "
                        "imagebuilder:buildDate and imagebuilder:buildVersion)",
                        pattern,
                        inside);
    }
    pos = close + 2;
  }
  out.append(pattern.substr(std::min(pos, pattern.size())));
  return out;
}

Result<RegionOutput> copy_to_store(const ImageStore& source,
                                   const ImageVersion& image,
                                   ImageStore& target_store,
                                   const RegionTarget& target,
                                   const std::atomic<bool>* cancel) {
  Result<RegionOutput> output = copy_image(source, image, target_store, target, cancel);
  if (!output.ok()) {
    return output.error().with_context(copy_context(image, target));
  }
  return output;
}

Result<RegionOutput> copy_to_region(const ImageStore& source,
                                    const ImageVersion& image,
                                    const RegionTarget& target,
                                    const std::atomic<bool>* cancel) {
  std::string context = copy_context(image, target);
  if (target.store.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: the region has no store folder", context);
  }
  KILN_TRY_CTX(target_arn(image, target), context);  // before the folder is made
  store::RealFilesystem filesystem;
  SystemClock clock;
  std::unique_ptr<ImageStore> target_store =
      KILN_TRY_CTX(ImageStore::open(filesystem, clock, target.store), context);
  return copy_to_store(source, image, *target_store, target, cancel);
}

Result<std::vector<RegionOutput>> copy_to_regions(const ImageStore& source,
                                                  const ImageVersion& image,
                                                  const std::vector<RegionTarget>& targets,
                                                  const std::atomic<bool>* cancel) {
  // One folder is one region: two targets sharing one would give the image two ARNs there.
  std::set<fs::path> folders;
  for (const RegionTarget& target : targets) {
    if (!folders.insert(folder_key(target.store)).second) {
      return make_error(ErrorCode::kInvalidArgument,
                        "distributing {}: two regions share the store {}",
                        image.str(),
                        target.store.string());
    }
  }
  std::vector<std::optional<Result<RegionOutput>>> results(targets.size());
  std::vector<std::thread> threads;
  threads.reserve(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    auto copy = [&, i] { results[i] = copy_to_region(source, image, targets[i], cancel); };
    try {
      threads.emplace_back(copy);
    } catch (const std::system_error&) {
      copy();  // no thread to be had: copy on this one
    }
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  std::vector<RegionOutput> outputs;
  std::optional<Error> first;
  std::vector<std::string> others;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i]->ok()) {
      outputs.push_back(std::move(*results[i]).value());
    } else if (!first) {
      first = results[i]->error();
    } else {
      others.push_back(targets[i].region);
    }
  }
  if (first) {
    if (!others.empty()) {
      first->message += fmt::format(" (the regions {} failed too)", fmt::join(others, ", "));
    }
    return *first;
  }
  return outputs;
}

Result<std::vector<std::string>> remove_from_regions(const ImageVersion& image,
                                                     const std::vector<RegionTarget>& targets) {
  std::vector<std::string> removed;
  std::optional<Error> first;
  for (const RegionTarget& target : targets) {
    std::error_code ec;
    if (target.store.empty() || !fs::exists(target.store / "index.json", ec)) {
      continue;  // never reached: opening it would create a store
    }
    auto clean = [&]() -> Result<bool> {
      store::RealFilesystem filesystem;
      SystemClock clock;
      std::unique_ptr<ImageStore> region =
          KILN_TRY(ImageStore::open(filesystem, clock, target.store));
      for (const ImageVersion& there : KILN_TRY(region->list(image.name, true))) {
        if (there.version == image.version && there.build == image.build &&
            there.manifest.digest == image.manifest.digest) {
          KILN_TRY(region->remove_image(KILN_TRY(catalog::ImageReference::parse(there.str()))));
          return true;
        }
      }
      return false;
    };
    Result<bool> done = clean();
    if (!done) {
      if (!first) {
        first = done.error().with_context(
            fmt::format("removing {} from the region {}", image.str(), target.region));
      }
    } else if (*done) {
      removed.push_back(target.region);
    }
  }
  if (first) {
    return *first;
  }
  return removed;
}

}  // namespace kiln::distribute
