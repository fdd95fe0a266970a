#include "kiln/distribute/local_region.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kiln/base/file.hpp"

namespace kiln::distribute {
namespace {

namespace fs = std::filesystem;
using store::Descriptor;
using store::Digest;
using store::ImageRecord;
using store::ImageStore;
using store::ImageVersion;

class FixedClock final : public Clock {
 public:
  SystemTime now() const override { return SystemTime(std::chrono::seconds(1795716000)); }
};

// Sets `cancel` once the target store has `after` new blobs: cancels a copy between two blobs.
class CancellingFilesystem final : public store::Filesystem {
 public:
  CancellingFilesystem(store::Filesystem& base, std::atomic<bool>& cancel, int after)
      : base_(base), cancel_(cancel), after_(after) {}

  Result<std::unique_ptr<store::WritableFile>> create_temp(const fs::path& dir,
                                                           std::string_view prefix) override {
    return base_.create_temp(dir, prefix);
  }
  Status rename(const fs::path& from, const fs::path& to) override {
    Status renamed = base_.rename(from, to);
    if (to.parent_path().filename() == "sha256" && --after_ == 0) {
      cancel_ = true;
    }
    return renamed;
  }
  Status sync_dir(const fs::path& dir) override { return base_.sync_dir(dir); }
  Status remove(const fs::path& path) override { return base_.remove(path); }
  Status create_directories(const fs::path& dir) override { return base_.create_directories(dir); }
  Result<std::unique_ptr<store::ReadableFile>> open(const fs::path& path) const override {
    return base_.open(path);
  }
  Result<std::vector<std::string>> list(const fs::path& dir) const override {
    return base_.list(dir);
  }
  Result<store::FileInfo> stat(const fs::path& path) const override { return base_.stat(path); }
  Result<std::unique_ptr<store::FileLock>> lock(const fs::path& path) override {
    return base_.lock(path);
  }

 private:
  store::Filesystem& base_;
  std::atomic<bool>& cancel_;
  int after_;
};

class LocalRegionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("kiln-distribute-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
    source_ = open_store(dir_->path() / "source");
  }

  std::unique_ptr<ImageStore> open_store(const fs::path& path) {
    Result<std::unique_ptr<ImageStore>> store = ImageStore::open(real_, clock_, path);
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(store).value() : nullptr;
  }

  fs::path region_dir(const std::string& region) const { return dir_->path() / "regions" / region; }

  RegionTarget target(const std::string& region) const {
    RegionTarget t;
    t.region = region;
    t.store = region_dir(region);
    t.account_id = "123456789012";
    t.output_name = "web 2026-11-26T18-00-00.000Z";
    t.description = "the web server";
    t.tags = {{"team", "web"}, {"Cost Center", "42"}};
    return t;
  }

  // An image of one new layer (whose content is `content`) on `parent`, in `store`.
  ImageVersion add(ImageStore& store,
                   const std::string& name,
                   const char* ver,
                   const std::string& content,
                   std::optional<Digest> parent = std::nullopt,
                   std::optional<uint32_t> build = std::nullopt) {
    Digest digest = store.blobs().put(content).value();
    Descriptor layer;
    layer.media_type = std::string(store::media_type::kLayerTar);
    layer.digest = digest;
    layer.size = content.size();
    ImageRecord r;
    r.name = name;
    r.version = catalog::SemanticVersion::parse(ver).value();
    r.parent = std::move(parent);
    r.layers = {layer};
    r.diff_ids = {digest};
    r.created_by = {"test layer " + content};
    r.build = build;
    Result<ImageVersion> added = store.add_image(r);
    EXPECT_TRUE(added.ok()) << added.error().message;
    return added.ok() ? *added : ImageVersion{};
  }

  ImageVersion add(const std::string& name,
                   const char* ver,
                   const std::string& content,
                   std::optional<Digest> parent = std::nullopt) {
    return add(*source_, name, ver, content, std::move(parent));
  }

  // The size of every blob of `image` in the source store, manifest included.
  uint64_t image_bytes(const ImageVersion& image) {
    store::Manifest manifest = source_->manifest(image.manifest.digest).value();
    uint64_t total = image.manifest.size + manifest.config.size;
    for (const Descriptor& layer : manifest.layers) {
      total += layer.size;
    }
    return total;
  }

  std::vector<std::string> problems(const ImageStore& store) {
    Result<store::VerifyReport> report = store.verify();
    EXPECT_TRUE(report.ok());
    return report.ok() ? report->problems : std::vector<std::string>{"verify failed"};
  }

  size_t blob_count(const ImageStore& store) { return store.blobs().list().value().size(); }

  store::RealFilesystem real_;
  FixedClock clock_;
  std::optional<TempDir> dir_;
  std::unique_ptr<ImageStore> source_;
};

// --- copy_to_region --------------------------------------------------------------------------

TEST_F(LocalRegionTest, CopiesToAnEmptyRegion) {
  ImageVersion image = add("web", "1.2.0", "base layer");
  ASSERT_FALSE(fs::exists(region_dir("us-west-2")));

  Result<RegionOutput> output = copy_to_region(*source_, image, target("us-west-2"));
  ASSERT_TRUE(output.ok()) << output.error().message;
  EXPECT_EQ(output->region, "us-west-2");
  EXPECT_EQ(output->arn, "arn:aws:imagebuilder:us-west-2:123456789012:image/web/1.2.0/1");
  EXPECT_EQ(output->manifest_digest, image.manifest.digest.str());
  EXPECT_EQ(output->output_name, "web 2026-11-26T18-00-00.000Z");
  EXPECT_EQ(output->blobs_copied, 3u);  // layer, config, manifest
  EXPECT_EQ(output->blobs_present, 0u);
  EXPECT_EQ(output->bytes_copied, image_bytes(image));

  std::unique_ptr<ImageStore> region = open_store(region_dir("us-west-2"));
  EXPECT_TRUE(problems(*region).empty());
  std::vector<ImageVersion> there = region->list().value();
  ASSERT_EQ(there.size(), 1u);
  const ImageVersion& copy = there[0];
  EXPECT_EQ(copy.str(), "web/1.2.0/1");
  EXPECT_EQ(copy.arn, output->arn);
  EXPECT_EQ(copy.created, image.created);
  EXPECT_EQ(copy.manifest.digest, image.manifest.digest);
  EXPECT_EQ(copy.manifest.annotation("dev.kiln.distribution.name"), output->output_name);
  EXPECT_EQ(copy.manifest.annotation("dev.kiln.distribution.description"), "the web server");
  EXPECT_EQ(copy.manifest.annotation("dev.kiln.distribution.tag.team"), "web");
  EXPECT_EQ(copy.manifest.annotation("dev.kiln.distribution.tag.Cost Center"), "42");
  EXPECT_EQ(copy.manifest.annotation("dev.kiln.distribution.source"), image.arn);
  EXPECT_EQ(copy.manifest.annotation("org.opencontainers.image.ref.name"), "web/1.2.0/1");
  // Resolvable by its regional ARN; the manifest is byte for byte the source's.
  EXPECT_EQ(region->resolve(output->arn).value().manifest.digest, image.manifest.digest);
  EXPECT_EQ(read_file(region->blobs().path(image.manifest.digest)).value(),
            read_file(source_->blobs().path(image.manifest.digest)).value());
  EXPECT_TRUE(fs::is_empty(region_dir("us-west-2") / "tmp"));
}

TEST_F(LocalRegionTest, EmptyAccountKeepsTheSourceAccountAndEmptyFieldsAddNoAnnotation) {
  ImageVersion image = add("web", "1.0.0", "layer");
  RegionTarget t = target("eu-west-1");
  t.account_id.clear();
  t.output_name.clear();
  t.description.clear();
  t.tags.clear();
  RegionOutput output = copy_to_region(*source_, image, t).value();
  EXPECT_EQ(output.arn, "arn:aws:imagebuilder:eu-west-1:000000000000:image/web/1.0.0/1");
  ImageVersion copy = open_store(region_dir("eu-west-1"))->list().value().at(0);
  EXPECT_FALSE(copy.manifest.annotations.contains("dev.kiln.distribution.name"));
  EXPECT_FALSE(copy.manifest.annotations.contains("dev.kiln.distribution.description"));
}

TEST_F(LocalRegionTest, AChildCopiesOnlyTheBlobsItsParentDidNotBring) {
  ImageVersion base = add("base", "1.0.0", "base layer");
  ImageVersion child = add("app", "2.0.0", "app layer", base.manifest.digest);
  ASSERT_TRUE(copy_to_region(*source_, base, target("us-east-1")).ok());

  Result<RegionOutput> output = copy_to_region(*source_, child, target("us-east-1"));
  ASSERT_TRUE(output.ok()) << output.error().message;
  EXPECT_EQ(output->blobs_copied, 3u);   // the app layer, config, manifest
  EXPECT_EQ(output->blobs_present, 1u);  // the base layer
  store::Manifest manifest = source_->manifest(child.manifest.digest).value();
  EXPECT_EQ(output->bytes_copied,
            image_bytes(child) - manifest.layers[0].size);  // all but the base layer

  std::unique_ptr<ImageStore> region = open_store(region_dir("us-east-1"));
  EXPECT_TRUE(problems(*region).empty());
  EXPECT_EQ(region->list().value().size(), 2u);
  EXPECT_EQ(region->resolve("app/2.0.0/1").value().parent, base.manifest.digest);
}

TEST_F(LocalRegionTest, AChildCopiedWithoutItsParentIsWhole) {
  ImageVersion base = add("base", "1.0.0", "base layer");
  ImageVersion child = add("app", "2.0.0", "app layer", base.manifest.digest);
  RegionOutput output = copy_to_region(*source_, child, target("us-east-2")).value();
  EXPECT_EQ(output.blobs_copied, 4u);  // two layers, config, manifest
  std::unique_ptr<ImageStore> region = open_store(region_dir("us-east-2"));
  EXPECT_TRUE(problems(*region).empty());
  ImageVersion copy = region->resolve("app/2.0.0/1").value();
  EXPECT_EQ(copy.parent, base.manifest.digest);  // lineage, though not in this store
  EXPECT_FALSE(region->blobs().has(base.manifest.digest));
  EXPECT_EQ(region->manifest(copy.manifest.digest).value().layers.size(), 2u);
}

TEST_F(LocalRegionTest, RepeatingACopyChangesNothing) {
  ImageVersion image = add("web", "1.0.0", "layer");
  RegionOutput first = copy_to_region(*source_, image, target("us-west-2")).value();
  std::string index = read_file(region_dir("us-west-2") / "index.json").value();

  Result<RegionOutput> again = copy_to_region(*source_, image, target("us-west-2"));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->blobs_copied, 0u);
  EXPECT_EQ(again->blobs_present, 3u);
  EXPECT_EQ(again->bytes_copied, 0u);
  EXPECT_EQ(again->arn, first.arn);
  EXPECT_EQ(again->manifest_digest, first.manifest_digest);
  EXPECT_EQ(read_file(region_dir("us-west-2") / "index.json").value(), index);
}

TEST_F(LocalRegionTest, AnotherManifestUnderTheSameBuildIsAConflict) {
  ImageVersion image = add("web", "1.0.0", "layer");
  ASSERT_TRUE(copy_to_region(*source_, image, target("us-west-2")).ok());
  std::string index = read_file(region_dir("us-west-2") / "index.json").value();

  // Another store's web/1.0.0/1, with other content.
  std::unique_ptr<ImageStore> other = open_store(dir_->path() / "other");
  ImageVersion impostor = add(*other, "web", "1.0.0", "other layer");
  ASSERT_EQ(impostor.str(), image.str());
  std::unique_ptr<ImageStore> region = open_store(region_dir("us-west-2"));
  size_t blobs = blob_count(*region);

  Result<RegionOutput> output = copy_to_region(*other, impostor, target("us-west-2"));
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().code, ErrorCode::kConflict);
  EXPECT_NE(output.error().message.find("us-west-2"), std::string::npos) << output.error().message;
  EXPECT_EQ(read_file(region_dir("us-west-2") / "index.json").value(), index);
  EXPECT_EQ(blob_count(*region), blobs) << "nothing copied for a conflicting image";
}

TEST_F(LocalRegionTest, OneFolderUnderTwoRegionNamesIsAConflict) {
  ImageVersion image = add("web", "1.0.0", "layer");
  ASSERT_TRUE(copy_to_region(*source_, image, target("us-west-2")).ok());
  RegionTarget renamed = target("us-west-2");
  renamed.region = "eu-central-1";
  Result<RegionOutput> output = copy_to_region(*source_, image, renamed);
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().code, ErrorCode::kConflict);
}

TEST_F(LocalRegionTest, ACorruptSourceBlobIsNotCopied) {
  ImageVersion image = add("web", "1.0.0", "layer content");
  Digest layer = source_->manifest(image.manifest.digest).value().layers.at(0).digest;
  ASSERT_TRUE(write_file(source_->blobs().path(layer), "LAYER CONTENT").ok());  // same size

  Result<RegionOutput> output = copy_to_region(*source_, image, target("us-west-2"));
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().code, ErrorCode::kCorruption);
  const std::string& message = output.error().message;
  EXPECT_NE(message.find("us-west-2"), std::string::npos) << message;
  EXPECT_NE(message.find(layer.str() + " is corrupt"), std::string::npos) << message;

  std::unique_ptr<ImageStore> region = open_store(region_dir("us-west-2"));
  EXPECT_TRUE(region->list().value().empty());
  EXPECT_EQ(blob_count(*region), 0u);
  EXPECT_TRUE(fs::is_empty(region_dir("us-west-2") / "tmp"));
  EXPECT_TRUE(problems(*region).empty());
}

TEST_F(LocalRegionTest, AnInvalidRegionNameIsRefused) {
  ImageVersion image = add("web", "1.0.0", "layer");
  Result<RegionOutput> output = copy_to_region(*source_, image, target("Not A Region"));
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(output.error().message.find("Not A Region"), std::string::npos);
}

// --- cancellation ----------------------------------------------------------------------------

TEST_F(LocalRegionTest, ACancelledCopyCopiesNothing) {
  ImageVersion image = add("web", "1.0.0", "layer");
  std::atomic<bool> cancel{true};
  Result<RegionOutput> output = copy_to_region(*source_, image, target("us-west-2"), &cancel);
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().code, ErrorCode::kCancelled);
  std::unique_ptr<ImageStore> region = open_store(region_dir("us-west-2"));
  EXPECT_EQ(blob_count(*region), 0u);
  EXPECT_TRUE(region->list().value().empty());
}

TEST_F(LocalRegionTest, CancellingStopsBetweenBlobsAndIndexesNothing) {
  ImageVersion base = add("base", "1.0.0", "base layer");
  ImageVersion child = add("app", "1.0.0", "app layer", base.manifest.digest);
  ASSERT_TRUE(open_store(region_dir("us-west-2")));  // the layout, written without the hook
  std::atomic<bool> cancel{false};
  CancellingFilesystem hooked(real_, cancel, 1);  // cancels once the first blob is in place
  std::unique_ptr<ImageStore> region =
      ImageStore::open(hooked, clock_, region_dir("us-west-2")).value();

  Result<RegionOutput> output =
      copy_to_store(*source_, child, *region, target("us-west-2"), &cancel);
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().code, ErrorCode::kCancelled);
  EXPECT_NE(output.error().message.find("us-west-2"), std::string::npos);
  EXPECT_EQ(blob_count(*region), 1u);
  EXPECT_TRUE(region->list().value().empty());
  EXPECT_TRUE(problems(*region).empty());

  // Resuming copies the rest.
  RegionOutput resumed = copy_to_region(*source_, child, target("us-west-2")).value();
  EXPECT_EQ(resumed.blobs_present, 1u);
  EXPECT_EQ(resumed.blobs_copied, 3u);
}

// --- crash safety ----------------------------------------------------------------------------

TEST_F(LocalRegionTest, ACrashAtAnyStepLeavesTheRegionSound) {
  ImageVersion image = add("web", "1.0.0", "layer");
  // Count the operations of one whole copy.
  uint64_t total = 0;
  {
    fs::path dir = dir_->path() / "count";
    ASSERT_TRUE(open_store(dir));
    store::FaultyFilesystem counting(real_);
    std::unique_ptr<ImageStore> region = ImageStore::open(counting, clock_, dir).value();
    ASSERT_TRUE(copy_to_store(*source_, image, *region, target("us-west-2")).ok());
    total = counting.count();
  }
  ASSERT_GT(total, 5u);
  for (uint64_t n = 1; n <= total; ++n) {
    SCOPED_TRACE(n);
    fs::path dir = dir_->path() / fmt::format("crash-{}", n);
    ASSERT_TRUE(open_store(dir));
    {
      store::FaultyFilesystem crashing(real_, n, store::FaultyFilesystem::Mode::kCrash);
      std::unique_ptr<ImageStore> region = ImageStore::open(crashing, clock_, dir).value();
      Result<RegionOutput> output = copy_to_store(*source_, image, *region, target("us-west-2"));
      EXPECT_FALSE(output.ok());
    }
    std::unique_ptr<ImageStore> region = open_store(dir);
    EXPECT_TRUE(problems(*region).empty());
    size_t listed = region->list().value().size();
    EXPECT_LE(listed, 1u);
    // A retry finishes the copy.
    RegionTarget t = target("us-west-2");
    t.store = dir;
    ASSERT_TRUE(copy_to_region(*source_, image, t).ok());
    EXPECT_TRUE(problems(*region).empty());
    EXPECT_EQ(region->list().value().size(), 1u);
  }
}

// --- copy_to_regions -------------------------------------------------------------------------

TEST_F(LocalRegionTest, CopiesToSeveralRegionsAtOnce) {
  ImageVersion base = add("base", "1.0.0", "base layer");
  ImageVersion image = add("web", "1.0.0", "web layer", base.manifest.digest);
  std::vector<RegionTarget> targets = {target("us-west-2"), target("eu-west-1")};
  targets[1].account_id = "210987654321";

  Result<std::vector<RegionOutput>> outputs = copy_to_regions(*source_, image, targets);
  ASSERT_TRUE(outputs.ok()) << outputs.error().message;
  ASSERT_EQ(outputs->size(), 2u);
  EXPECT_EQ((*outputs)[0].arn, "arn:aws:imagebuilder:us-west-2:123456789012:image/web/1.0.0/1");
  EXPECT_EQ((*outputs)[1].arn, "arn:aws:imagebuilder:eu-west-1:210987654321:image/web/1.0.0/1");
  for (const RegionOutput& output : *outputs) {
    EXPECT_EQ(output.blobs_copied, 4u);
    std::unique_ptr<ImageStore> region = open_store(region_dir(output.region));
    EXPECT_TRUE(problems(*region).empty());
    EXPECT_EQ(region->list().value().at(0).arn, output.arn);
  }
}

TEST_F(LocalRegionTest, AFailingRegionIsNamedAndTheOthersStillFinish) {
  ImageVersion image = add("web", "1.0.0", "layer");
  std::vector<RegionTarget> targets = {
      target("us-west-2"), target("Bad Region"), target("BAD_TOO")};
  Result<std::vector<RegionOutput>> outputs = copy_to_regions(*source_, image, targets);
  ASSERT_FALSE(outputs.ok());
  EXPECT_EQ(outputs.error().code, ErrorCode::kInvalidArgument);
  const std::string& message = outputs.error().message;
  EXPECT_NE(message.find("to the region Bad Region"), std::string::npos) << message;
  EXPECT_NE(message.find("BAD_TOO failed too"), std::string::npos) << message;
  std::unique_ptr<ImageStore> region = open_store(region_dir("us-west-2"));
  EXPECT_EQ(region->list().value().size(), 1u);
}

TEST_F(LocalRegionTest, TwoRegionsCannotShareAFolder) {
  ImageVersion image = add("web", "1.0.0", "layer");
  std::vector<RegionTarget> targets = {target("us-west-2"), target("eu-west-1")};
  targets[1].store = targets[0].store / ".";
  Result<std::vector<RegionOutput>> outputs = copy_to_regions(*source_, image, targets);
  ASSERT_FALSE(outputs.ok());
  EXPECT_EQ(outputs.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(region_dir("us-west-2")));
}

TEST_F(LocalRegionTest, CancellingSeveralRegionsCancelsEach) {
  ImageVersion image = add("web", "1.0.0", "layer");
  std::atomic<bool> cancel{true};
  Result<std::vector<RegionOutput>> outputs =
      copy_to_regions(*source_, image, {target("us-west-2"), target("eu-west-1")}, &cancel);
  ASSERT_FALSE(outputs.ok());
  EXPECT_EQ(outputs.error().code, ErrorCode::kCancelled);
  EXPECT_NE(outputs.error().message.find("eu-west-1 failed too"), std::string::npos);
}

// --- expand_output_name ----------------------------------------------------------------------

SystemTime at(int64_t seconds, int64_t millis) {
  return SystemTime(std::chrono::seconds(seconds)) + std::chrono::milliseconds(millis);
}

std::string expanded(std::string_view pattern, SystemTime date = at(1795716000, 123)) {
  Result<std::string> name = expand_output_name(pattern, date, 7);
  return name.ok() ? *name : "error: " + name.error().message;
}

TEST(ExpandOutputNameTest, ExpandsBuildDateAndBuildVersion) {
  EXPECT_EQ(expanded("web {{ imagebuilder:buildDate }}"), "web 2026-11-26T18-00-00.123Z");
  EXPECT_EQ(expanded("web-{{imagebuilder:buildVersion}}"), "web-7");
  EXPECT_EQ(expanded("{{   imagebuilder:buildVersion   }}/{{imagebuilder:buildDate}}"),
            "7/2026-11-26T18-00-00.123Z");
  EXPECT_EQ(expanded("a {{ imagebuilder:buildVersion }} b {{ imagebuilder:buildVersion }}"),
            "a 7 b 7");
}

TEST(ExpandOutputNameTest, FormatsTheDateInUtcWithMilliseconds) {
  EXPECT_EQ(expanded("{{ imagebuilder:buildDate }}", at(1795716000 + 2 * 3600 + 11 * 60 + 5, 7)),
            "2026-11-26T20-11-05.007Z");
  EXPECT_EQ(expanded("{{ imagebuilder:buildDate }}", at(0, 0)), "1970-01-01T00-00-00.000Z");
}

TEST(ExpandOutputNameTest, KeepsTextWithoutPlaceholders) {
  EXPECT_EQ(expanded(""), "");
  EXPECT_EQ(expanded("plain name"), "plain name");
  EXPECT_EQ(expanded("{{ other:thing }} and {single}"), "{{ other:thing }} and {single}");
  EXPECT_EQ(expanded("{{ not closed"), "{{ not closed");
}

TEST(ExpandOutputNameTest, RefusesUnknownAndUnclosedPlaceholders) {
  Result<std::string> unknown = expand_output_name("web {{ imagebuilder:buildId }}", {}, 1);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(unknown.error().message.find("imagebuilder:buildId"), std::string::npos)
      << unknown.error().message;
  Result<std::string> unclosed = expand_output_name("web {{ imagebuilder:buildDate", {}, 1);
  ASSERT_FALSE(unclosed.ok());
  EXPECT_EQ(unclosed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(expand_output_name("{{ imagebuilder:BuildDate }}", {}, 1).error().code,
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::distribute
