#include "kiln/store/image_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/os/process.hpp"

namespace kiln::store {
namespace {

namespace fs = std::filesystem;
using catalog::ImageReference;
using catalog::SemanticVersion;

// --- a minimal ustar writer: enough for OCI tools to unpack a layer ---------------------------

void put_field(std::string& header, size_t offset, std::string_view value) {
  header.replace(offset, value.size(), value);
}

std::string octal(uint64_t value, size_t width) {
  std::string digits = fmt::format("{:o}", value);
  return std::string(width - 1 - digits.size(), '0') + digits;  // then the NUL already there
}

std::string tar_header(const std::string& name, uint64_t size) {
  std::string header(512, '\0');
  put_field(header, 0, name);
  put_field(header, 100, octal(0644, 8));
  put_field(header, 108, octal(0, 8));
  put_field(header, 116, octal(0, 8));
  put_field(header, 124, octal(size, 12));
  put_field(header, 136, octal(1700000000, 12));
  put_field(header, 148, std::string(8, ' '));
  header[156] = '0';
  put_field(header, 257, std::string("ustar\0", 6));
  put_field(header, 263, "00");
  unsigned sum = 0;
  for (char c : header) {
    sum += static_cast<unsigned char>(c);
  }
  put_field(header, 148, octal(sum, 7));
  return header;
}

std::string make_tar(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string out;
  for (const auto& [name, content] : files) {
    out += tar_header(name, content.size());
    out += content;
    out += std::string((512 - content.size() % 512) % 512, '\0');
  }
  return out + std::string(1024, '\0');
}

// --- fixture ---------------------------------------------------------------------------------

class SettableClock final : public Clock {
 public:
  SystemTime now() const override { return now_; }
  SystemTime now_ = std::chrono::system_clock::now();
};

SemanticVersion version(const char* text) {
  return SemanticVersion::parse(text).value();
}

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("kiln-image-store-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
    Result<std::unique_ptr<ImageStore>> store = ImageStore::open(real_, clock_, store_dir());
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
  }

  fs::path store_dir() const { return dir_->path() / "store"; }

  // Writes a layer holding one file and returns its descriptor.
  Descriptor put_layer(const std::string& file, const std::string& content) {
    std::string tar = make_tar({{file, content}});
    std::unique_ptr<BlobWriter> writer = store_->blobs().writer().value();
    EXPECT_TRUE(writer->write(tar).ok());
    auto [digest, size] = writer->commit().value();
    Descriptor d;
    d.media_type = std::string(media_type::kLayerTar);
    d.digest = digest;
    d.size = size;
    return d;
  }

  ImageRecord record(const std::string& name,
                     const char* ver,
                     std::optional<Digest> parent = std::nullopt) {
    ImageRecord r;
    r.name = name;
    r.version = version(ver);
    r.parent = std::move(parent);
    Descriptor layer = put_layer(fmt::format("file-{}", ++layers_), name + " " + ver + "\n");
    r.layers = {layer};
    r.diff_ids = {layer.digest};  // uncompressed: the diff-id is the blob's digest
    r.created_by = {fmt::format("test layer {}", layers_)};
    return r;
  }

  ImageVersion add(const std::string& name,
                   const char* ver,
                   std::optional<Digest> parent = std::nullopt) {
    Result<ImageVersion> added = store_->add_image(record(name, ver, std::move(parent)));
    EXPECT_TRUE(added.ok()) << added.error().message;
    return added.ok() ? *added : ImageVersion{};
  }

  std::string resolved(std::string_view ref) {
    Result<ImageVersion> image = store_->resolve(ref);
    return image.ok() ? image->str() : "error: " + image.error().message;
  }

  std::vector<std::string> listed(std::optional<std::string_view> name = {}) {
    std::vector<std::string> out;
    std::vector<ImageVersion> images = store_->list(name).value();
    for (const ImageVersion& image : images) {
      out.push_back(image.str());
    }
    return out;
  }

  // gc() as if every file were old enough.
  Result<GcReport> collect() {
    clock_.now_ = std::chrono::system_clock::now() + std::chrono::seconds(1);
    return store_->gc(GcOptions{std::chrono::seconds(0)});
  }

  size_t blob_count() const { return store_->blobs().list().value().size(); }

  std::vector<std::string> problems() { return store_->verify().value().problems; }

  RealFilesystem real_;
  SettableClock clock_;
  std::optional<TempDir> dir_;
  std::unique_ptr<ImageStore> store_;
  int layers_ = 0;
};

// --- layout ----------------------------------------------------------------------------------

TEST_F(ImageStoreTest, OpenCreatesTheLayout) {
  EXPECT_TRUE(fs::is_directory(store_dir() / "blobs" / "sha256"));
  EXPECT_TRUE(fs::is_directory(store_dir() / "tmp"));
  EXPECT_TRUE(fs::exists(store_dir() / "lock"));
  EXPECT_EQ(Json::parse(read_file(store_dir() / "oci-layout").value())["imageLayoutVersion"],
            "1.0.0");
  Json index = Json::parse(read_file(store_dir() / "index.json").value());
  EXPECT_EQ(index["schemaVersion"], 2);
  EXPECT_TRUE(index["manifests"].empty());
  EXPECT_TRUE(fs::is_empty(store_dir() / "tmp"));
}

TEST_F(ImageStoreTest, OpeningACompleteStoreWritesNothing) {
  FaultyFilesystem counting(real_);
  ASSERT_TRUE(ImageStore::open(counting, clock_, store_dir()).ok());
  EXPECT_EQ(counting.count(), 0u);
}

TEST_F(ImageStoreTest, OpenRefusesAnotherLayoutVersion) {
  ASSERT_TRUE(write_file(store_dir() / "oci-layout", R"({"imageLayoutVersion":"2.0.0"})").ok());
  Result<std::unique_ptr<ImageStore>> store = ImageStore::open(real_, clock_, store_dir());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kCorruption);
}

// --- add_image -------------------------------------------------------------------------------

TEST_F(ImageStoreTest, AddImageWritesConfigManifestAndIndexEntry) {
  clock_.now_ = SystemTime(std::chrono::seconds(1795716000));  // 2026-11-26T18:00:00Z
  ImageRecord r = record("web-server", "1.2.0");
  ImageVersion image = store_->add_image(r).value();
  EXPECT_EQ(image.str(), "web-server/1.2.0/1");
  EXPECT_EQ(image.ref_name(), "web-server/1.2.0/1");
  EXPECT_EQ(image.arn, "arn:aws:imagebuilder:local:000000000000:image/web-server/1.2.0/1");
  EXPECT_EQ(image.created, "2026-11-26T18:00:00Z");
  EXPECT_FALSE(image.parent.has_value());

  Manifest manifest = store_->manifest(image.manifest.digest).value();
  ASSERT_EQ(manifest.layers.size(), 1u);
  EXPECT_EQ(manifest.layers[0].digest, r.layers[0].digest);
  EXPECT_EQ(manifest.annotations.at("dev.kiln.image.name"), "web-server");
  EXPECT_EQ(manifest.annotations.at("dev.kiln.image.version"), "1.2.0");
  EXPECT_EQ(manifest.annotations.at("dev.kiln.image.build"), "1");
  EXPECT_EQ(manifest.annotations.at("dev.kiln.image.arn"), image.arn);
  EXPECT_EQ(manifest.annotations.at("org.opencontainers.image.created"), image.created);
  EXPECT_FALSE(manifest.annotations.contains("dev.kiln.image.parent"));

  ImageConfig config = store_->config(manifest).value();
  EXPECT_EQ(config.architecture, "amd64");
  EXPECT_EQ(config.os, "linux");
  EXPECT_EQ(config.diff_ids, r.diff_ids);
  ASSERT_EQ(config.history.size(), 1u);
  EXPECT_EQ(config.history[0].created_by, r.created_by[0]);

  Json index = Json::parse(read_file(store_dir() / "index.json").value());
  ASSERT_EQ(index["manifests"].size(), 1u);
  const Json& entry = index["manifests"][0];
  EXPECT_EQ(entry["mediaType"], media_type::kImageManifest);
  EXPECT_EQ(entry["digest"], image.manifest.digest.str());
  EXPECT_EQ(entry["annotations"]["org.opencontainers.image.ref.name"], "web-server/1.2.0/1");
  EXPECT_EQ(entry["annotations"]["dev.kiln.image.build"], "1");
  EXPECT_TRUE(fs::is_empty(store_dir() / "tmp"));
  EXPECT_TRUE(problems().empty());
}

TEST_F(ImageStoreTest, ChildHasItsParentsLayersThenItsOwn) {
  ImageVersion base = add("base", "1.0.0");
  ImageRecord r = record("app", "2.0.0", base.manifest.digest);
  ImageVersion child = store_->add_image(r).value();
  EXPECT_EQ(child.parent, base.manifest.digest);

  Manifest base_manifest = store_->manifest(base.manifest.digest).value();
  Manifest manifest = store_->manifest(child.manifest.digest).value();
  ASSERT_EQ(manifest.layers.size(), 2u);
  EXPECT_EQ(manifest.layers[0].digest, base_manifest.layers[0].digest);
  EXPECT_EQ(manifest.layers[1].digest, r.layers[0].digest);
  EXPECT_EQ(manifest.annotations.at("dev.kiln.image.parent"), base.manifest.digest.str());

  ImageConfig config = store_->config(manifest).value();
  ASSERT_EQ(config.diff_ids.size(), 2u);
  EXPECT_EQ(config.diff_ids[1], r.diff_ids[0]);
  ASSERT_EQ(config.history.size(), 2u);
  EXPECT_EQ(config.history[0].created_by, "test layer 1");
  EXPECT_EQ(config.history[1].created_by, "test layer 2");
  EXPECT_TRUE(problems().empty());
}

TEST_F(ImageStoreTest, AChildWithoutNewLayersIsAllowed) {
  ImageVersion base = add("base", "1.0.0");
  ImageRecord r;
  r.name = "retag";
  r.version = version("1.0.0");
  r.parent = base.manifest.digest;
  ImageVersion child = store_->add_image(r).value();
  EXPECT_EQ(store_->manifest(child.manifest.digest).value().layers.size(), 1u);
}

TEST_F(ImageStoreTest, BuildNumbersCountUpPerNameAndVersion) {
  EXPECT_EQ(add("web", "1.0.0").build, 1u);
  EXPECT_EQ(add("web", "1.0.0").build, 2u);
  EXPECT_EQ(add("web", "1.0.0").build, 3u);
  EXPECT_EQ(add("web", "1.1.0").build, 1u);
  EXPECT_EQ(add("other", "1.0.0").build, 1u);
}

TEST_F(ImageStoreTest, AddRefusesALayerNotInTheStore) {
  ImageRecord r = record("web", "1.0.0");
  r.layers[0].digest = Digest::of("never written");
  size_t blobs = blob_count();
  Result<ImageVersion> added = store_->add_image(r);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().code, ErrorCode::kNotFound);
  EXPECT_NE(added.error().message.find(Digest::of("never written").str()), std::string::npos);
  EXPECT_EQ(blob_count(), blobs) << "no config or manifest written";
  EXPECT_TRUE(listed().empty());
}

TEST_F(ImageStoreTest, AddRefusesALayerOfAnotherSize) {
  ImageRecord r = record("web", "1.0.0");
  r.layers[0].size += 1;
  EXPECT_EQ(store_->add_image(r).error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ImageStoreTest, AddRefusesAParentNotInTheStore) {
  ImageRecord r = record("web", "1.0.0", Digest::of("no such manifest"));
  EXPECT_EQ(store_->add_image(r).error().code, ErrorCode::kNotFound);
}

TEST_F(ImageStoreTest, AddRefusesInvalidRecords) {
  ImageRecord bad_name = record("a/b", "1.0.0");
  EXPECT_EQ(store_->add_image(bad_name).error().code, ErrorCode::kInvalidArgument);
  ImageRecord short_name = record("ab", "1.0.0");
  EXPECT_EQ(store_->add_image(short_name).error().code, ErrorCode::kInvalidArgument);
  ImageRecord counts = record("web", "1.0.0");
  counts.diff_ids.clear();
  EXPECT_EQ(store_->add_image(counts).error().code, ErrorCode::kInvalidArgument);
  ImageRecord empty = record("web", "1.0.0");
  empty.layers.clear();
  empty.diff_ids.clear();
  empty.created_by.clear();
  EXPECT_EQ(store_->add_image(empty).error().code, ErrorCode::kInvalidArgument);
  ImageRecord region = record("web", "1.0.0");
  region.region = "Not A Region";
  EXPECT_EQ(store_->add_image(region).error().code, ErrorCode::kInvalidArgument);
  ImageRecord account = record("web", "1.0.0");
  account.account = "42";
  EXPECT_EQ(store_->add_image(account).error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(listed().empty());
}

TEST_F(ImageStoreTest, NamesThatWouldShareAnArnOrAReferenceConflict) {
  add("web server", "1.0.0");
  EXPECT_EQ(store_->add_image(record("web_server", "1.0.0")).error().code, ErrorCode::kConflict);
  EXPECT_EQ(store_->add_image(record("Web Server", "1.0.0")).error().code, ErrorCode::kConflict);
  EXPECT_EQ(store_->add_image(record("web-server", "1.0.0")).error().code, ErrorCode::kConflict);
  EXPECT_EQ(add("web server", "1.0.0").build, 2u);
}

TEST_F(ImageStoreTest, SpacesBecomeUnderscoresInTheRefNameAndDashesInTheArn) {
  ImageVersion image = add("Web Server", "1.0.0");
  EXPECT_EQ(image.ref_name(), "Web_Server/1.0.0/1");
  EXPECT_EQ(image.arn, "arn:aws:imagebuilder:local:000000000000:image/web-server/1.0.0/1");
  EXPECT_EQ(image.manifest.annotation(annotation::kRefName), "Web_Server/1.0.0/1");
}

TEST_F(ImageStoreTest, RecordsTheArnRegionAndAccount) {
  ImageRecord r = record("web", "1.0.0");
  r.region = "eu-west-1";
  r.account = "123456789012";
  EXPECT_EQ(store_->add_image(r).value().arn,
            "arn:aws:imagebuilder:eu-west-1:123456789012:image/web/1.0.0/1");
}

// --- add_manifest ----------------------------------------------------------------------------

class AddManifestTest : public ImageStoreTest {
 protected:
  void SetUp() override {
    ImageStoreTest::SetUp();
    target_ = ImageStore::open(real_, clock_, dir_->path() / "target").value();
  }

  // Copies the manifest of `image`, its config and its layers to the target store.
  void copy_blobs(const ImageVersion& image) {
    Manifest manifest = store_->manifest(image.manifest.digest).value();
    std::vector<Digest> digests = {image.manifest.digest, manifest.config.digest};
    for (const Descriptor& layer : manifest.layers) {
      digests.push_back(layer.digest);
    }
    for (const Digest& digest : digests) {
      EXPECT_EQ(target_->blobs().put(store_->blobs().read(digest).value()).value(), digest);
    }
  }

  // `image` as the target indexes it: region eu-west-1.
  ImageVersion as(const ImageVersion& image) {
    ImageVersion out = image;
    out.arn = fmt::format("arn:aws:imagebuilder:eu-west-1:123456789012:image/{}/{}/{}",
                          catalog::arn_name(image.name),
                          image.version.str(),
                          image.build);
    return out;
  }

  std::string target_index() { return read_file(dir_->path() / "target" / "index.json").value(); }

  std::unique_ptr<ImageStore> target_;
};

TEST_F(AddManifestTest, IndexesAManifestCopiedFromAnotherStore) {
  ImageVersion image = add("web server", "1.2.0");
  copy_blobs(image);
  Result<ImageVersion> added =
      target_->add_manifest(image.manifest, as(image), {{"dev.kiln.distribution.name", "web"}});
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_EQ(added->str(), "web server/1.2.0/1");
  EXPECT_EQ(added->arn, "arn:aws:imagebuilder:eu-west-1:123456789012:image/web-server/1.2.0/1");
  EXPECT_EQ(added->created, image.created);
  EXPECT_EQ(added->manifest.digest, image.manifest.digest);
  EXPECT_EQ(added->manifest.size, image.manifest.size);
  EXPECT_EQ(added->manifest.annotation(annotation::kRefName), "web_server/1.2.0/1");
  EXPECT_EQ(added->manifest.annotation("dev.kiln.distribution.name"), "web");

  std::vector<ImageVersion> listed = target_->list().value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].arn, added->arn);
  EXPECT_EQ(listed[0].manifest.annotations, added->manifest.annotations);
  EXPECT_EQ(target_->resolve(added->arn).value().str(), "web server/1.2.0/1");
  EXPECT_TRUE(target_->verify().value().ok());
}

TEST_F(AddManifestTest, AnEmptyCreatedIsTheStoresClock) {
  clock_.now_ = SystemTime(std::chrono::seconds(1795716000));
  ImageVersion image = add("web", "1.0.0");
  copy_blobs(image);
  ImageVersion version = as(image);
  version.created.clear();
  EXPECT_EQ(target_->add_manifest(image.manifest, version).value().created, "2026-11-26T18:00:00Z");
}

TEST_F(AddManifestTest, AChildNeedsNotItsParentsManifest) {
  ImageVersion base = add("base", "1.0.0");
  ImageVersion child = add("app", "1.0.0", base.manifest.digest);
  copy_blobs(child);
  ImageVersion added = target_->add_manifest(child.manifest, as(child)).value();
  EXPECT_EQ(added.parent, base.manifest.digest);
  EXPECT_FALSE(target_->blobs().has(base.manifest.digest));
  EXPECT_TRUE(target_->verify().value().ok());
}

TEST_F(AddManifestTest, ARepeatReturnsTheEntryAndChangesNothing) {
  ImageVersion image = add("web", "1.0.0");
  copy_blobs(image);
  ImageVersion first = target_->add_manifest(image.manifest, as(image), {{"a", "1"}}).value();
  std::string index = target_index();
  Result<ImageVersion> again = target_->add_manifest(image.manifest, as(image), {{"a", "2"}});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->manifest.annotation("a"), "1");
  EXPECT_EQ(again->arn, first.arn);
  EXPECT_EQ(target_index(), index);
}

TEST_F(AddManifestTest, AnotherManifestOrArnUnderTheSameBuildIsAConflict) {
  ImageVersion image = add("web", "1.0.0");
  ImageVersion other = add("web", "1.0.0");  // web/1.0.0/2
  copy_blobs(image);
  copy_blobs(other);
  ASSERT_TRUE(target_->add_manifest(image.manifest, as(image)).ok());
  std::string index = target_index();

  ImageVersion impostor = as(other);
  impostor.build = 1;
  impostor.arn = as(image).arn;
  Result<ImageVersion> added = target_->add_manifest(other.manifest, impostor);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().code, ErrorCode::kConflict);
  EXPECT_NE(added.error().message.find(image.manifest.digest.str()), std::string::npos)
      << added.error().message;

  ImageVersion elsewhere = as(image);
  elsewhere.arn = image.arn;  // the same image with the region "local"
  EXPECT_EQ(target_->add_manifest(image.manifest, elsewhere).error().code, ErrorCode::kConflict);
  ImageVersion close_name = as(image);
  close_name.name = "WEB";
  EXPECT_EQ(target_->add_manifest(image.manifest, close_name).error().code, ErrorCode::kConflict);
  EXPECT_EQ(target_index(), index);
}

TEST_F(AddManifestTest, EveryBlobMustBeThere) {
  ImageVersion base = add("base", "1.0.0");
  ImageVersion child = add("app", "1.0.0", base.manifest.digest);
  Manifest manifest = store_->manifest(child.manifest.digest).value();
  copy_blobs(child);
  std::string index = target_index();
  std::vector<std::pair<Digest, std::string>> blobs = {{child.manifest.digest, "manifest"},
                                                       {manifest.config.digest, "config"},
                                                       {manifest.layers[0].digest, "layer"},
                                                       {manifest.layers[1].digest, "layer"}};
  for (const auto& [digest, what] : blobs) {
    SCOPED_TRACE(what);
    fs::path path = target_->blobs().path(digest);
    fs::rename(path, dir_->path() / "aside");
    Result<ImageVersion> added = target_->add_manifest(child.manifest, as(child));
    ASSERT_FALSE(added.ok());
    EXPECT_EQ(added.error().code, ErrorCode::kNotFound);
    EXPECT_NE(added.error().message.find(what + " " + digest.str()), std::string::npos)
        << added.error().message;
    EXPECT_EQ(target_index(), index);
    fs::rename(dir_->path() / "aside", path);
  }
  Descriptor wrong_size = child.manifest;
  wrong_size.size += 1;
  EXPECT_EQ(target_->add_manifest(wrong_size, as(child)).error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(target_->add_manifest(child.manifest, as(child)).ok());
}

TEST_F(AddManifestTest, RefusesAnArnOfAnotherImageAndKilnsOwnAnnotations) {
  ImageVersion image = add("web", "1.0.0");
  copy_blobs(image);
  ImageVersion wrong_build = as(image);
  wrong_build.build = 2;
  EXPECT_EQ(target_->add_manifest(image.manifest, wrong_build).error().code,
            ErrorCode::kInvalidArgument);
  ImageVersion wrong_name = as(image);
  wrong_name.arn = "arn:aws:imagebuilder:eu-west-1:123456789012:image/other/1.0.0/1";
  EXPECT_EQ(target_->add_manifest(image.manifest, wrong_name).error().code,
            ErrorCode::kInvalidArgument);
  ImageVersion bad_region = as(image);
  bad_region.arn = "arn:aws:imagebuilder:Bad Region:123456789012:image/web/1.0.0/1";
  EXPECT_EQ(target_->add_manifest(image.manifest, bad_region).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(target_->add_manifest(image.manifest, as(image), {{"dev.kiln.image.parent", "x"}})
                .error()
                .code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      target_->add_manifest(image.manifest, as(image), {{"org.opencontainers.image.ref.name", "x"}})
          .error()
          .code,
      ErrorCode::kInvalidArgument);
  EXPECT_TRUE(target_->list().value().empty());
}

// --- list and resolve ------------------------------------------------------------------------

TEST_F(ImageStoreTest, ListIsSortedAndFiltersByName) {
  add("zeta", "1.0.0");
  add("alpha", "1.10.0");
  add("alpha", "1.9.0");
  add("alpha", "1.9.0");
  EXPECT_EQ(listed(),
            (std::vector<std::string>{
                "alpha/1.9.0/1", "alpha/1.9.0/2", "alpha/1.10.0/1", "zeta/1.0.0/1"}));
  EXPECT_EQ(listed("zeta"), std::vector<std::string>{"zeta/1.0.0/1"});
  EXPECT_TRUE(listed("nothing").empty());
}

// AWS's example: with 2.2.4, 1.7.8 and 1.6.8, x.x.x is 2.2.4, 1.x.x is 1.7.8, 1.6.x is 1.6.8.
TEST_F(ImageStoreTest, ResolvePicksTheNewestMatchingVersionThenTheNewestBuild) {
  add("web", "1.6.8");
  add("web", "2.2.4");
  add("web", "1.7.8");
  add("web", "1.7.8");
  EXPECT_EQ(resolved("web/x.x.x"), "web/2.2.4/1");
  EXPECT_EQ(resolved("web/1.x.x"), "web/1.7.8/2");
  EXPECT_EQ(resolved("web/1.6.x"), "web/1.6.8/1");
  EXPECT_EQ(resolved("web/1.7.8"), "web/1.7.8/2");
  EXPECT_EQ(resolved("web/1.7.8/1"), "web/1.7.8/1");
}

TEST_F(ImageStoreTest, ResolveReportsWhatIsThereWhenNothingMatches) {
  add("web", "1.0.0");
  Result<ImageVersion> none = store_->resolve("web/3.x.x");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  EXPECT_NE(none.error().message.find("web/3.x.x"), std::string::npos);
  EXPECT_NE(none.error().message.find("1.0.0/1"), std::string::npos) << none.error().message;
  EXPECT_EQ(store_->resolve("web/1.0.0/2").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->resolve("other/1.0.0").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->resolve("web/x.2.x").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->resolve("web/1.x.8").error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ImageStoreTest, ResolvesArns) {
  add("Web Server", "1.0.0");
  add("Web Server", "1.1.0");
  EXPECT_EQ(resolved("arn:aws:imagebuilder:local:000000000000:image/web-server/1.0.0/1"),
            "Web Server/1.0.0/1");
  EXPECT_EQ(resolved("arn:aws:imagebuilder:local:000000000000:image/web-server/1.x.x"),
            "Web Server/1.1.0/1");
  EXPECT_EQ(resolved("arn:aws:imagebuilder:local:000000000000:image/web-server"),
            "Web Server/1.1.0/1");
  EXPECT_EQ(store_->resolve("arn:aws:imagebuilder:us-east-1:000000000000:image/web-server/1.0.0")
                .error()
                .code,
            ErrorCode::kNotFound);
  EXPECT_EQ(store_->resolve("arn:aws:imagebuilder:local:123456789012:image/web-server/1.0.0")
                .error()
                .code,
            ErrorCode::kNotFound);
}

// --- remove ----------------------------------------------------------------------------------

TEST_F(ImageStoreTest, RemoveNeedsOneBuild) {
  add("web", "1.0.0");
  for (const char* ref : {"web/1.0.0", "web/1.x.x"}) {
    ImageReference parsed = ImageReference::parse(ref).value();
    EXPECT_EQ(store_->remove_image(parsed).error().code, ErrorCode::kInvalidArgument) << ref;
  }
  EXPECT_EQ(listed().size(), 1u);
}

TEST_F(ImageStoreTest, RemoveDropsTheIndexEntryAndGcFreesItsBlobs) {
  add("web", "1.0.0");
  add("web", "1.0.0");
  size_t blobs = blob_count();
  ImageVersion removed = store_->remove_image(ImageReference::parse("web/1.0.0/1").value()).value();
  EXPECT_EQ(removed.str(), "web/1.0.0/1");
  EXPECT_EQ(listed(), std::vector<std::string>{"web/1.0.0/2"});
  EXPECT_EQ(blob_count(), blobs) << "blobs stay until gc";
  EXPECT_EQ(store_->remove_image(ImageReference::parse("web/1.0.0/1").value()).error().code,
            ErrorCode::kNotFound);
  GcReport gc = collect().value();
  EXPECT_EQ(gc.removed_blobs.size(), 3u) << "layer, config and manifest of web/1.0.0/1";
  EXPECT_FALSE(store_->blobs().has(removed.manifest.digest));
  EXPECT_TRUE(problems().empty());
}

TEST_F(ImageStoreTest, RemoveByArn) {
  add("web", "1.0.0");
  ImageReference arn =
      ImageReference::parse("arn:aws:imagebuilder:local:000000000000:image/web/1.0.0/1").value();
  ASSERT_TRUE(store_->remove_image(arn).ok());
  EXPECT_TRUE(listed().empty());
}

TEST_F(ImageStoreTest, RemovingAParentKeepsItsChildWhole) {
  ImageVersion base = add("base", "1.0.0");
  ImageVersion child = add("app", "1.0.0", base.manifest.digest);
  ASSERT_TRUE(store_->remove_image(ImageReference::parse("base/1.0.0/1").value()).ok());
  GcReport gc = collect().value();
  EXPECT_EQ(gc.removed_blobs.size(), 2u) << "the base's manifest and config; its layer is shared";
  EXPECT_TRUE(problems().empty());
  EXPECT_EQ(resolved("app/1.0.0"), "app/1.0.0/1");
  Manifest manifest = store_->manifest(child.manifest.digest).value();
  for (const Descriptor& layer : manifest.layers) {
    EXPECT_TRUE(store_->blobs().has(layer.digest));
  }
}

// --- verify ----------------------------------------------------------------------------------

TEST_F(ImageStoreTest, VerifyFindsNothingWrongInASoundStore) {
  ImageVersion base = add("base", "1.0.0");
  add("app", "1.0.0", base.manifest.digest);
  VerifyReport report = store_->verify().value();
  EXPECT_TRUE(report.ok()) << join(report.problems, "\n");
  EXPECT_EQ(report.images, 2u);
  EXPECT_EQ(report.blobs_checked, 6u);
}

TEST_F(ImageStoreTest, VerifyReportsACorruptBlob) {
  ImageVersion image = add("web", "1.0.0");
  Digest layer = store_->manifest(image.manifest.digest).value().layers[0].digest;
  std::string tar = read_file(store_->blobs().path(layer)).value();
  tar[600] ^= 1;
  ASSERT_TRUE(write_file(store_->blobs().path(layer), tar).ok());
  std::vector<std::string> found = problems();
  ASSERT_EQ(found.size(), 1u) << join(found, "\n");
  EXPECT_NE(found[0].find(layer.str()), std::string::npos);
  EXPECT_NE(found[0].find("corrupt"), std::string::npos);
}

TEST_F(ImageStoreTest, VerifyReportsMissingBlobs) {
  ImageVersion image = add("web", "1.0.0");
  Manifest manifest = store_->manifest(image.manifest.digest).value();
  ASSERT_TRUE(store_->blobs().remove(manifest.layers[0].digest).ok());
  ASSERT_TRUE(store_->blobs().remove(manifest.config.digest).ok());
  std::vector<std::string> found = problems();
  ASSERT_EQ(found.size(), 2u) << join(found, "\n");
  EXPECT_EQ(found[0], "web/1.0.0/1: layer " + manifest.layers[0].digest.str() + " is missing");
  EXPECT_EQ(found[1], "web/1.0.0/1: config " + manifest.config.digest.str() + " is missing");
  ASSERT_TRUE(store_->blobs().remove(image.manifest.digest).ok());
  found = problems();
  ASSERT_EQ(found.size(), 1u) << join(found, "\n");
  EXPECT_EQ(found[0], "web/1.0.0/1: manifest " + image.manifest.digest.str() + " is missing");
}

TEST_F(ImageStoreTest, VerifyReportsAnUnreadableIndex) {
  add("web", "1.0.0");
  ASSERT_TRUE(write_file(store_dir() / "index.json", "{broken").ok());
  std::vector<std::string> found = problems();
  ASSERT_EQ(found.size(), 1u) << join(found, "\n");
  EXPECT_NE(found[0].find("index.json"), std::string::npos);
}

TEST_F(ImageStoreTest, VerifyReportsStrayFilesWrongSizesAndDuplicates) {
  ImageVersion image = add("web", "1.0.0");
  ASSERT_TRUE(write_file(store_->blobs().blob_dir() / "stray", "x").ok());
  Index index = index_from_json(read_file(store_dir() / "index.json").value(), "").value();
  index.manifests.push_back(index.manifests[0]);
  index.manifests[1].size += 1;
  ASSERT_TRUE(write_file(store_dir() / "index.json", to_json(index)).ok());
  std::vector<std::string> found = problems();
  ASSERT_EQ(found.size(), 3u) << join(found, "\n");
  EXPECT_EQ(found[0], "unexpected file blobs/sha256/stray");
  EXPECT_EQ(found[1], "web/1.0.0/1 is listed twice in the index");
  EXPECT_NE(found[2].find("the descriptor says"), std::string::npos);
}

TEST_F(ImageStoreTest, VerifyReportsAMissingLayoutFile) {
  ASSERT_TRUE(fs::remove(store_dir() / "oci-layout"));
  std::vector<std::string> found = problems();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("oci-layout"), std::string::npos);
}

// --- gc --------------------------------------------------------------------------------------

TEST_F(ImageStoreTest, GcRemovesUnreferencedBlobsAndTemporaryFiles) {
  ImageVersion base = add("base", "1.0.0");
  ImageVersion child = add("app", "1.0.0", base.manifest.digest);
  Digest orphan = store_->blobs().put("nobody uses me").value();
  ASSERT_TRUE(write_file(store_dir() / "tmp" / "blob.leftover", "half a blob").ok());
  GcReport gc = collect().value();
  EXPECT_EQ(gc.removed_blobs, std::vector<Digest>{orphan});
  EXPECT_EQ(gc.removed_temp_files, std::vector<std::string>{"blob.leftover"});
  EXPECT_EQ(gc.bytes_freed, 14u + 11u);
  EXPECT_FALSE(store_->blobs().has(orphan));
  EXPECT_TRUE(fs::is_empty(store_dir() / "tmp"));
  ImageConfig config = store_->config(store_->manifest(child.manifest.digest).value()).value();
  std::set<Digest> expected(config.diff_ids.begin(), config.diff_ids.end());
  EXPECT_EQ(gc.live_diff_ids, expected);
  EXPECT_EQ(gc.live_diff_ids.size(), 2u);
  EXPECT_TRUE(problems().empty());
  EXPECT_EQ(listed().size(), 2u);
}

TEST_F(ImageStoreTest, GcKeepsYoungFilesWithinTheGracePeriod) {
  Digest orphan = store_->blobs().put("just written").value();
  ASSERT_TRUE(write_file(store_dir() / "tmp" / "blob.inflight", "being written").ok());
  GcReport young = store_->gc(GcOptions{std::chrono::hours(1)}).value();
  EXPECT_TRUE(young.removed_blobs.empty());
  EXPECT_TRUE(young.removed_temp_files.empty());
  EXPECT_TRUE(store_->blobs().has(orphan));
  clock_.now_ += std::chrono::hours(2);
  GcReport old = store_->gc(GcOptions{std::chrono::hours(1)}).value();
  EXPECT_EQ(old.removed_blobs, std::vector<Digest>{orphan});
  EXPECT_EQ(old.removed_temp_files.size(), 1u);
}

TEST_F(ImageStoreTest, EntriesOfOtherToolsAreKeptButNotListed) {
  // What `skopeo copy ... oci:<store>:foreign` adds: an entry with only a ref.name.
  ImageVersion ours = add("web", "1.0.0");
  Manifest manifest = store_->manifest(ours.manifest.digest).value();
  manifest.annotations.clear();
  std::string text = to_json(manifest);
  Digest foreign = store_->blobs().put(text).value();
  Index index = index_from_json(read_file(store_dir() / "index.json").value(), "").value();
  Descriptor entry;
  entry.media_type = std::string(media_type::kImageManifest);
  entry.digest = foreign;
  entry.size = text.size();
  entry.annotations[std::string(annotation::kRefName)] = "foreign";
  entry.extra["platform"] = Json{{"architecture", "amd64"}, {"os", "linux"}};
  index.manifests.push_back(entry);
  ASSERT_TRUE(write_file(store_dir() / "index.json", to_json(index)).ok());

  ASSERT_TRUE(store_->remove_image(ImageReference::parse("web/1.0.0/1").value()).ok());
  add("other", "1.0.0");
  EXPECT_EQ(listed(), std::vector<std::string>{"other/1.0.0/1"});
  GcReport gc = collect().value();
  EXPECT_TRUE(store_->blobs().has(foreign));
  EXPECT_TRUE(store_->blobs().has(manifest.config.digest));
  EXPECT_TRUE(store_->blobs().has(manifest.layers[0].digest));
  EXPECT_EQ(gc.removed_blobs, std::vector<Digest>{ours.manifest.digest});
  Json written = Json::parse(read_file(store_dir() / "index.json").value());
  EXPECT_EQ(written["manifests"][0]["platform"]["architecture"], "amd64");
  EXPECT_TRUE(problems().empty());
}

TEST_F(ImageStoreTest, GcStopsWhenAManifestCannotBeRead) {
  ImageVersion image = add("web", "1.0.0");
  Digest orphan = store_->blobs().put("unreferenced").value();
  ASSERT_TRUE(write_file(store_->blobs().path(image.manifest.digest), "garbage").ok());
  Result<GcReport> gc = collect();
  ASSERT_FALSE(gc.ok());
  EXPECT_EQ(gc.error().code, ErrorCode::kCorruption);
  EXPECT_TRUE(store_->blobs().has(orphan)) << "nothing removed";
}

TEST_F(ImageStoreTest, GcStopsWhenTheIndexCannotBeRead) {
  Digest orphan = store_->blobs().put("unreferenced").value();
  ASSERT_TRUE(write_file(store_dir() / "index.json", "[").ok());
  EXPECT_EQ(collect().error().code, ErrorCode::kCorruption);
  EXPECT_TRUE(store_->blobs().has(orphan));
}

// --- concurrency -----------------------------------------------------------------------------

TEST_F(ImageStoreTest, ConcurrentAddsGetDistinctBuilds) {
  constexpr int kPerThread = 8;
  std::vector<ImageRecord> records[2];
  for (auto& list : records) {
    for (int i = 0; i < kPerThread; ++i) {
      list.push_back(record("web", "1.0.0"));
    }
  }
  std::vector<uint32_t> builds[2];
  auto run = [&](int t) {
    // Each thread has its own store object, as two processes would.
    std::unique_ptr<ImageStore> store = ImageStore::open(real_, clock_, store_dir()).value();
    for (const ImageRecord& r : records[t]) {
      Result<ImageVersion> added = store->add_image(r);
      builds[t].push_back(added.ok() ? added->build : 0);
    }
  };
  std::thread first(run, 0);
  std::thread second(run, 1);
  first.join();
  second.join();
  std::vector<uint32_t> all = builds[0];
  all.insert(all.end(), builds[1].begin(), builds[1].end());
  std::sort(all.begin(), all.end());
  std::vector<uint32_t> expected;
  for (uint32_t b = 1; b <= 2 * kPerThread; ++b) {
    expected.push_back(b);
  }
  EXPECT_EQ(all, expected);
  EXPECT_EQ(listed().size(), 2u * kPerThread);
  EXPECT_TRUE(problems().empty());
}

// --- independent OCI tools -------------------------------------------------------------------

class OciToolsTest : public ImageStoreTest {
 protected:
  // Runs a tool; its output, or a failure naming its stderr.
  std::string run(const std::vector<std::string>& argv) {
    os::ProcessSpec spec;
    spec.argv = argv;
    Result<os::ProcessResult> result =
        os::run_process(spec, std::chrono::steady_clock::now() + std::chrono::minutes(2));
    if (!result.ok()) {
      ADD_FAILURE() << argv[0] << ": " << result.error().message;
      return "";
    }
    EXPECT_EQ(result->exit_code, 0) << join(argv, " ") << "\n" << result->stderr_text;
    return result->stdout_text;
  }

  // base (hello.txt) and its child app (adds world.txt).
  void add_images() {
    Descriptor hello = put_layer("hello.txt", "hello\n");
    ImageRecord base;
    base.name = "base";
    base.version = version("1.0.0");
    base.layers = {hello};
    base.diff_ids = {hello.digest};
    base.created_by = {"test base"};
    base_ = store_->add_image(base).value();
    Descriptor world = put_layer("world.txt", "world\n");
    ImageRecord app = base;
    app.name = "web server";
    app.parent = base_.manifest.digest;
    app.layers = {world};
    app.diff_ids = {world.digest};
    app.created_by = {"test app"};
    app_ = store_->add_image(app).value();
  }

  ImageVersion base_;
  ImageVersion app_;
};

TEST_F(OciToolsTest, SkopeoInspectsAndCopiesImages) {
  if (!os::find_program("skopeo")) {
    GTEST_SKIP() << "skopeo is not installed";
  }
  add_images();
  std::string image = "oci:" + store_dir().string() + ":" + app_.ref_name();
  Json inspected = Json::parse(run({"skopeo", "inspect", image}), nullptr, false);
  ASSERT_TRUE(inspected.is_object());
  EXPECT_EQ(inspected["Digest"], app_.manifest.digest.str());
  EXPECT_EQ(inspected["Architecture"], "amd64");
  EXPECT_EQ(inspected["Os"], "linux");
  ASSERT_EQ(inspected["Layers"].size(), 2u);

  Json config = Json::parse(run({"skopeo", "inspect", "--config", image}), nullptr, false);
  ASSERT_TRUE(config.is_object());
  EXPECT_EQ(config["history"][1]["created_by"], "test app");

  fs::path copy = dir_->path() / "copy";
  run({"skopeo", "--insecure-policy", "copy", image, "oci:" + copy.string() + ":copied"});
  Json copied =
      Json::parse(run({"skopeo", "inspect", "oci:" + copy.string() + ":copied"}), nullptr, false);
  ASSERT_TRUE(copied.is_object());
  EXPECT_EQ(copied["Layers"].size(), 2u) << "(skopeo compresses uncompressed layers)";
}

TEST_F(OciToolsTest, UmociListsAndUnpacksImages) {
  if (!os::find_program("umoci")) {
    GTEST_SKIP() << "umoci is not installed";
  }
  add_images();
  std::string tags = run({"umoci", "ls", "--layout", store_dir().string()});
  EXPECT_NE(tags.find(base_.ref_name()), std::string::npos) << tags;
  EXPECT_NE(tags.find(app_.ref_name()), std::string::npos) << tags;

  fs::path bundle = dir_->path() / "bundle";
  run({"umoci",
       "unpack",
       "--rootless",
       "--image",
       store_dir().string() + ":" + app_.ref_name(),
       bundle.string()});
  EXPECT_EQ(read_file(bundle / "rootfs" / "hello.txt").value_or("missing"), "hello\n");
  EXPECT_EQ(read_file(bundle / "rootfs" / "world.txt").value_or("missing"), "world\n");
  EXPECT_TRUE(problems().empty()) << "the tools changed nothing kiln checks";
}

}  // namespace
}  // namespace kiln::store
