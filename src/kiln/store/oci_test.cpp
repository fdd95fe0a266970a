#include "kiln/store/oci.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kiln::store {
namespace {

Descriptor layer(std::string_view content) {
  Descriptor d;
  d.media_type = std::string(media_type::kLayerTarZstd);
  d.digest = Digest::of(content);
  d.size = content.size();
  return d;
}

Manifest sample_manifest() {
  Manifest m;
  m.config.media_type = std::string(media_type::kImageConfig);
  m.config.digest = Digest::of("config");
  m.config.size = 6;
  m.layers = {layer("one"), layer("two")};
  m.layers[1].media_type = std::string(media_type::kLayerTarGzip);
  m.annotations[std::string(annotation::kImageName)] = "web";
  m.annotations[std::string(annotation::kImageVersion)] = "1.0.0";
  return m;
}

ImageConfig sample_config() {
  ImageConfig c;
  c.created = "2026-11-26T18:00:00Z";
  c.config = Json{{"Env", Json::array({"PATH=/usr/bin"})}, {"Cmd", Json::array({"/bin/sh"})}};
  c.diff_ids = {Digest::of("a"), Digest::of("b")};
  c.history = {HistoryEntry{"2026-11-26T18:00:00Z", "kiln image bootstrap busybox", "", false},
               HistoryEntry{"", "kiln instance snapshot i-1", "a comment", true}};
  return c;
}

TEST(Oci, ManifestRoundTrips) {
  Manifest m = sample_manifest();
  std::string text = to_json(m);
  Result<Manifest> back = manifest_from_json(text, "test");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->config.digest, m.config.digest);
  ASSERT_EQ(back->layers.size(), 2u);
  EXPECT_EQ(back->layers[1].media_type, media_type::kLayerTarGzip);
  EXPECT_EQ(back->layers[0].size, 3u);
  EXPECT_EQ(back->annotations, m.annotations);
  EXPECT_EQ(to_json(*back), text);
}

TEST(Oci, ManifestJsonHasTheOciShape) {
  Json j = Json::parse(to_json(sample_manifest()));
  EXPECT_EQ(j["schemaVersion"], 2);
  EXPECT_EQ(j["mediaType"], media_type::kImageManifest);
  EXPECT_EQ(j["config"]["mediaType"], media_type::kImageConfig);
  EXPECT_EQ(j["config"]["digest"], Digest::of("config").str());
  EXPECT_EQ(j["layers"][0]["size"], 3);
  EXPECT_EQ(j["annotations"]["dev.kiln.image.name"], "web");
  // A fixed key order: the digest of a manifest depends on its bytes.
  EXPECT_EQ(j.begin().key(), "schemaVersion");
}

TEST(Oci, SerializationIsDeterministic) {
  EXPECT_EQ(to_json(sample_manifest()), to_json(sample_manifest()));
  EXPECT_EQ(to_json(sample_config()), to_json(sample_config()));
}

TEST(Oci, ConfigRoundTrips) {
  ImageConfig c = sample_config();
  std::string text = to_json(c);
  Result<ImageConfig> back = image_config_from_json(text, "test");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->architecture, "amd64");
  EXPECT_EQ(back->os, "linux");
  EXPECT_EQ(back->diff_ids, c.diff_ids);
  ASSERT_EQ(back->history.size(), 2u);
  EXPECT_EQ(back->history[0].created_by, "kiln image bootstrap busybox");
  EXPECT_TRUE(back->history[1].empty_layer);
  EXPECT_EQ(back->history[1].comment, "a comment");
  EXPECT_EQ(back->config, c.config);
  EXPECT_EQ(to_json(*back), text);
  Json j = Json::parse(text);
  EXPECT_EQ(j["rootfs"]["type"], "layers");
  EXPECT_EQ(j["rootfs"]["diff_ids"][1], Digest::of("b").str());
}

TEST(Oci, IndexRoundTripsAndKeepsForeignFields) {
  std::string text = R"({"schemaVersion":2,"manifests":[{"mediaType":")" +
                     std::string(media_type::kImageManifest) + R"(","digest":")" +
                     Digest::of("m").str() +
                     R"(","size":10,"platform":{"architecture":"arm64","os":"linux"},)"
                     R"("annotations":{"org.opencontainers.image.ref.name":"other"}}],)"
                     R"("annotations":{"x":"y"},"vendor":{"k":1}})";
  Result<Index> index = index_from_json(text, "index.json");
  ASSERT_TRUE(index.ok()) << index.error().message;
  ASSERT_EQ(index->manifests.size(), 1u);
  EXPECT_EQ(index->manifests[0].annotation(annotation::kRefName), "other");
  EXPECT_EQ(index->manifests[0].annotation("absent"), "");
  Json out = Json::parse(to_json(*index));
  EXPECT_EQ(out["manifests"][0]["platform"]["architecture"], "arm64");
  EXPECT_EQ(out["vendor"]["k"], 1);
  EXPECT_EQ(out["annotations"]["x"], "y");
  EXPECT_EQ(out["mediaType"], media_type::kImageIndex);
}

TEST(Oci, EmptyIndexParses) {
  Result<Index> index = index_from_json(to_json(Index{}), "index.json");
  ASSERT_TRUE(index.ok()) << index.error().message;
  EXPECT_TRUE(index->manifests.empty());
}

TEST(Oci, InvalidUtf8IsReplacedNotThrown) {
  ImageConfig c = sample_config();
  c.history[0].created_by = "bad \xff byte";
  std::string text = to_json(c);
  EXPECT_TRUE(image_config_from_json(text, "test").ok());
}

TEST(Oci, MalformedManifestsAreCorruptionNamingTheSource) {
  std::string good = to_json(sample_manifest());
  std::string digest = Digest::of("config").str();
  for (const std::string& text : std::vector<std::string>{
           std::string(""),
           std::string("not json"),
           std::string("[]"),
           std::string("{\"schemaVersion\":2"),
           std::string(R"({"schemaVersion":1,"config":{},"layers":[]})"),
           std::string(R"({"schemaVersion":"2","layers":[]})"),
           std::string(R"({"schemaVersion":2,"layers":[]})"),
           std::string(R"({"schemaVersion":2,"config":{"mediaType":"x","size":1},"layers":[]})"),
           R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:zz","size":1},)"
           R"("layers":[]})",
           R"({"schemaVersion":2,"config":{"mediaType":"x","digest":")" + digest +
               R"(","size":-1},"layers":[]})",
           R"({"schemaVersion":2,"config":{"mediaType":"x","digest":")" + digest +
               R"(","size":"1"},"layers":[]})",
           R"({"schemaVersion":2,"config":{"mediaType":7,"digest":")" + digest +
               R"(","size":1},"layers":[]})",
           R"({"schemaVersion":2,"config":{"mediaType":"x","digest":")" + digest +
               R"(","size":1},"layers":{}})",
           R"({"schemaVersion":2,"config":{"mediaType":"x","digest":")" + digest +
               R"(","size":1},"layers":[], "annotations":{"a":1}})",
           R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
           R"("config":{"mediaType":"x","digest":")" +
               digest + R"(","size":1},"layers":[]})",
           good.substr(0, good.size() / 2),
       }) {
    Result<Manifest> parsed = manifest_from_json(text, "blob sha256:1234");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kCorruption) << text;
    EXPECT_NE(parsed.error().message.find("blob sha256:1234"), std::string::npos)
        << parsed.error().message;
  }
}

TEST(Oci, MalformedConfigsAreCorruption) {
  std::string id = Digest::of("a").str();
  for (const std::string& text : std::vector<std::string>{
           std::string("{}"),
           std::string(R"({"architecture":"amd64","os":"linux"})"),
           std::string(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"x"}})"),
           std::string(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}})"),
           R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[1]}})",
           R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" + id +
               R"("]},"history":{}})",
           R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" + id +
               R"("]},"history":[{"empty_layer":"yes"}]})",
           R"({"architecture":"amd64","os":"linux","config":[],"rootfs":{"type":"layers",)"
           R"("diff_ids":[]}})",
       }) {
    Result<ImageConfig> parsed = image_config_from_json(text, "config sha256:99");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kCorruption) << text;
    EXPECT_NE(parsed.error().message.find("config sha256:99"), std::string::npos);
  }
}

TEST(Oci, MalformedIndexesAreCorruption) {
  for (const char* text : {"",
                           "{}",
                           R"({"schemaVersion":2})",
                           R"({"schemaVersion":2,"manifests":[{}]})",
                           R"({"schemaVersion":2,"manifests":[1]})",
                           R"({"schemaVersion":3,"manifests":[]})"}) {
    Result<Index> parsed = index_from_json(text, "/store/index.json");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kCorruption) << text;
    EXPECT_NE(parsed.error().message.find("/store/index.json"), std::string::npos);
  }
}

TEST(Oci, LayoutFileIsChecked) {
  EXPECT_TRUE(check_oci_layout(oci_layout_json(), "oci-layout").ok());
  EXPECT_EQ(Json::parse(oci_layout_json())["imageLayoutVersion"], "1.0.0");
  for (const char* text : {"", "{}", R"({"imageLayoutVersion":"2.0.0"})", "[]"}) {
    Status checked = check_oci_layout(text, "oci-layout");
    ASSERT_FALSE(checked.ok()) << text;
    EXPECT_EQ(checked.error().code, ErrorCode::kCorruption);
  }
}

}  // namespace
}  // namespace kiln::store
