#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kiln/state/state_testing.hpp"

namespace kiln::state {
namespace {

using testing::build_document;
using testing::CatalogTest;
using testing::component_request;
using ::testing::HasSubstr;
using testing::test_document;

TEST_F(CatalogTest, CreatesAComponentInAwsShape) {
  Json request = component_request("Hello World", "1.2.3", build_document());
  request["description"] = "says hello";
  request["supportedOsVersions"] = {"Debian 12"};
  request["tags"] = {{"team", "web"}};
  Result<Created> created = catalog_->create_component(request);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_TRUE(created->created);
  EXPECT_EQ(created->arn, arn("component/hello-world/1.2.3/1"));
  Result<Json> got = catalog_->get_component(created->arn);
  ASSERT_TRUE(got.ok()) << got.error().message;
  Json expected = Json::parse(R"({
    "arn": "arn:aws:imagebuilder:local:123456789012:component/hello-world/1.2.3/1",
    "name": "Hello World", "version": "1.2.3", "description": "says hello", "type": "BUILD",
    "platform": "Linux", "supportedOsVersions": ["Debian 12"], "owner": "123456789012",
    "data": "", "encrypted": false, "dateCreated": "2020-01-27T20:43:30.306Z",
    "tags": {"team": "web"}, "state": {"status": "ACTIVE"},
    "parameters": [{"name": "Greeting", "type": "string", "defaultValue": ["hello"],
                    "description": "what to say"}]})");
  expected["data"] = build_document();
  EXPECT_EQ(*got, expected) << got->dump(2);
  // AWS's member order.
  EXPECT_EQ(got->begin().key(), "arn");
  EXPECT_FALSE(got->contains("kmsKeyId"));
}

TEST_F(CatalogTest, ComponentTypeIsTestWithoutBuildOrValidatePhase) {
  std::string arn_text = add_component("check", "1.0.0", test_document());
  Result<Json> got = catalog_->get_component(arn_text);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value("type", ""), "TEST");
  EXPECT_FALSE(got->contains("parameters"));
}

TEST_F(CatalogTest, SameDocumentIsIdempotentAndAChangedOneIsANewBuild) {
  EXPECT_EQ(add_component("hello", "1.0.0", build_document("a")), arn("component/hello/1.0.0/1"));
  Result<Created> again =
      catalog_->create_component(component_request("hello", "1.0.0", build_document("a")));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->arn, arn("component/hello/1.0.0/1"));
  EXPECT_EQ(add_component("hello", "1.0.0", build_document("b")), arn("component/hello/1.0.0/2"));
  // Compared with the newest build: going back to "a" is a change again.
  EXPECT_EQ(add_component("hello", "1.0.0", build_document("a")), arn("component/hello/1.0.0/3"));
  // Another version starts at build 1.
  EXPECT_EQ(add_component("hello", "1.0.1", build_document("a")), arn("component/hello/1.0.1/1"));
}

TEST_F(CatalogTest, ComponentRequestErrorsNameTheMember) {
  struct Case {
    const char* member;
    Json value;
    const char* message;
  };
  const Case cases[] = {
      {"platform", "Windows", "kiln builds Linux images"},
      {"platform", "macOS", "kiln builds Linux images"},
      {"platform", "linux", "invalid platform"},
      {"semanticVersion", "1.0.x", "invalid semanticVersion"},
      {"semanticVersion", "1.0", "invalid semanticVersion"},
      {"name", "a", "invalid name"},
      {"description", std::string(1025, 'd'), "invalid description"},
      {"supportedOsVersions", Json::array(), "invalid supportedOsVersions"},
      {"uri", "s3://bucket/doc.yaml", "give the document as data"},
      {"kmsKeyId", "key", "invalid kmsKeyId"},
      {"colour", "blue", "unknown member \"colour\""},
      {"data", 5, "invalid data"},
  };
  for (const Case& c : cases) {
    Json request = component_request("hello", "1.0.0", build_document());
    request[c.member] = c.value;
    Result<Created> created = catalog_->create_component(request);
    ASSERT_FALSE(created.ok()) << c.member << " " << c.value.dump();
    EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(created.error().message, HasSubstr(c.message)) << c.value.dump();
  }
  Json tags;
  for (int i = 0; i < 51; ++i) {
    tags[fmt::format("k{}", i)] = "v";
  }
  Json request = component_request("hello", "1.0.0", build_document());
  request["tags"] = tags;
  EXPECT_THAT(catalog_->create_component(request).error().message, HasSubstr("at most 50 tags"));
  request = component_request("hello", "1.0.0", build_document());
  request.erase("data");
  EXPECT_THAT(catalog_->create_component(request).error().message, HasSubstr("invalid data"));
}

TEST_F(CatalogTest, AnInvalidDocumentListsEveryDiagnostic) {
  std::string bad = R"(name: bad
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: One
        action: NoSuchAction
        inputs: {}
      - name: Two
        action: ExecuteBash
        timeoutSeconds: -5
        inputs:
          commands: ["true"]
)";
  Result<Created> created = catalog_->create_component(component_request("bad", "1.0.0", bad));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument);
  const std::string& message = created.error().message;
  EXPECT_THAT(message, HasSubstr("2 problems")) << message;
  EXPECT_THAT(message, HasSubstr("bad:7:")) << message;
  EXPECT_THAT(message, HasSubstr("NoSuchAction")) << message;
  EXPECT_THAT(message, HasSubstr("bad:11:")) << message;
}

TEST_F(CatalogTest, WildcardArnsResolveToTheNewestVersionThenBuild) {
  add_component("hello", "1.6.8", build_document());
  add_component("hello", "1.7.8", build_document("a"));
  add_component("hello", "1.7.8", build_document("b"));
  add_component("hello", "2.2.4", build_document());
  auto resolved = [&](const std::string& version) {
    Result<Json> got = catalog_->get_component(arn("component/hello/" + version));
    return got.ok() ? got->value("arn", "") : "error: " + got.error().message;
  };
  EXPECT_EQ(resolved("x.x.x"), arn("component/hello/2.2.4/1"));
  EXPECT_EQ(resolved("1.x.x"), arn("component/hello/1.7.8/2"));
  EXPECT_EQ(resolved("1.6.x"), arn("component/hello/1.6.8/1"));
  EXPECT_EQ(resolved("1.7.8"), arn("component/hello/1.7.8/2"));
  EXPECT_EQ(resolved("1.7.8/1"), arn("component/hello/1.7.8/1"));
  Result<Json> versionless = catalog_->get_component(arn("component/hello"));
  ASSERT_TRUE(versionless.ok());
  EXPECT_EQ(versionless->value("version", ""), "2.2.4");
  EXPECT_EQ(catalog_->get_component(arn("component/hello/3.x.x")).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(catalog_->get_component(arn("component/hello/1.7.8/3")).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(catalog_->get_component(arn("component/hello/x.2.x")).error().code,
            ErrorCode::kInvalidArgument);
  // Another account's or region's ARN names nothing here.
  EXPECT_EQ(catalog_->get_component("arn:aws:imagebuilder:local:999999999999:component/hello/x.x.x")
                .error()
                .code,
            ErrorCode::kNotFound);
  EXPECT_EQ(
      catalog_->get_component("arn:aws:imagebuilder:us-east-1:123456789012:component/hello/x.x.x")
          .error()
          .code,
      ErrorCode::kNotFound);
  EXPECT_EQ(catalog_->get_component(arn("image/hello/x.x.x")).error().code,
            ErrorCode::kInvalidArgument);
}

class ManagedComponentsTest : public CatalogTest {
 protected:
  void write_managed(const std::string& update_word) {
    std::filesystem::path folder = dir_->path() / "components";
    std::filesystem::create_directories(folder / "update-linux");
    ASSERT_TRUE(write_file(folder / "update-linux/1.0.0.yaml", build_document(update_word)).ok());
    ASSERT_TRUE(write_file(folder / "check.yaml", testing::test_document()).ok());
    ASSERT_TRUE(write_file(folder / "managed.json", R"({"components": [
      {"name": "update-linux", "semanticVersion": "1.0.0", "description": "Updates Linux",
       "file": "update-linux/1.0.0.yaml", "platform": "Linux"},
      {"name": "reboot-test-linux", "semanticVersion": "1.0.1", "file": "check.yaml",
       "platform": "Linux", "supportedOsVersions": ["Debian"]}]})")
                    .ok());
  }
  std::filesystem::path folder() const { return dir_->path() / "components"; }
};

TEST_F(ManagedComponentsTest, SyncRegistersThemOwnedByAwsAndAnyRegionResolvesThem) {
  write_managed("one");
  ASSERT_TRUE(catalog_->sync_managed_components(folder()).ok());
  const std::string managed = "arn:aws:imagebuilder:local:aws:component/update-linux/1.0.0/1";
  for (const char* text : {"arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x",
                           "arn:aws:imagebuilder:eu-west-1:aws:component/update-linux/1.0.0",
                           "arn:aws:imagebuilder:local:aws:component/update-linux/1.0.0/1"}) {
    Result<Json> got = catalog_->get_component(text);
    ASSERT_TRUE(got.ok()) << text << ": " << got.error().message;
    EXPECT_EQ(got->value("arn", ""), managed);
    EXPECT_EQ(got->value("owner", ""), "aws");
    EXPECT_EQ(got->value("description", ""), "Updates Linux");
  }
  // Not visible as one of ours.
  EXPECT_EQ(catalog_->get_component(arn("component/update-linux/x.x.x")).error().code,
            ErrorCode::kNotFound);
  // Syncing the same files again adds nothing; a changed file is a new build.
  ASSERT_TRUE(catalog_->sync_managed_components(folder()).ok());
  write_managed("two");
  ASSERT_TRUE(catalog_->sync_managed_components(folder()).ok());
  Result<std::vector<Json>> builds = catalog_->list_component_build_versions(
      "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/1.0.0");
  ASSERT_TRUE(builds.ok()) << builds.error().message;
  ASSERT_EQ(builds->size(), 2u);
  EXPECT_EQ((*builds)[0].value("arn", ""),
            "arn:aws:imagebuilder:local:aws:component/update-linux/1.0.0/2");
  // Owner Amazon lists them, Self does not.
  ListQuery amazon;
  amazon.owner = "Amazon";
  EXPECT_EQ(catalog_->list_components(amazon).value_or(std::vector<Json>()).size(), 2u);
  EXPECT_TRUE(catalog_->list_components(ListQuery{}).value_or(std::vector<Json>{{}}).empty());
  // They cannot be deleted.
  EXPECT_EQ(catalog_->delete_component(managed).error().code, ErrorCode::kPermissionDenied);
}

TEST_F(ManagedComponentsTest, ABadEntryStopsTheWholeSync) {
  write_managed("one");
  ASSERT_TRUE(write_file(folder() / "managed.json", R"({"components": [
      {"name": "update-linux", "semanticVersion": "1.0.0", "file": "update-linux/1.0.0.yaml",
       "platform": "Linux"},
      {"name": "missing", "semanticVersion": "1.0.0", "file": "missing.yaml",
       "platform": "Linux"}]})")
                  .ok());
  Status synced = catalog_->sync_managed_components(folder());
  ASSERT_FALSE(synced.ok());
  EXPECT_THAT(synced.error().message, HasSubstr("missing.yaml"));
  EXPECT_EQ(catalog_->get_component("arn:aws:imagebuilder:local:aws:component/update-linux/x.x.x")
                .error()
                .code,
            ErrorCode::kNotFound);
  EXPECT_FALSE(catalog_->sync_managed_components(dir_->path() / "nowhere").ok());
}

TEST_F(CatalogTest, ListsComponentsWithFilters) {
  add_component("hello", "1.0.0", build_document("a"));
  add_component("hello", "1.0.0", build_document("b"));
  add_component("hello", "2.0.0", build_document());
  add_component("check", "1.0.0", test_document());
  Result<std::vector<Json>> all = catalog_->list_components(ListQuery{});
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].value("name", ""), "check");
  // The newest build of each version, named by its version ARN.
  EXPECT_EQ((*all)[1].value("arn", ""), arn("component/hello/1.0.0"));
  EXPECT_EQ((*all)[1].value("version", ""), "1.0.0");
  EXPECT_EQ((*all)[1].value("owner", ""), "123456789012");

  auto names = [&](const char* filters) {
    ListQuery query;
    query.filters = Json::parse(filters);
    Result<std::vector<Json>> listed = catalog_->list_components(query);
    std::string out;
    if (!listed.ok()) {
      return "error: " + listed.error().message;
    }
    for (const Json& component : *listed) {
      out += component.value("name", "") + "/" + component.value("version", "") + " ";
    }
    return out;
  };
  EXPECT_EQ(names(R"([{"name": "type", "values": ["TEST"]}])"), "check/1.0.0 ");
  EXPECT_EQ(names(R"([{"name": "version", "values": ["2.0.0", "9.9.9"]}])"), "hello/2.0.0 ");
  EXPECT_EQ(names(R"([{"name": "name", "values": ["hello"]}, {"name": "version",
                       "values": ["1.0.0"]}])"),
            "hello/1.0.0 ");
  EXPECT_EQ(names(R"([{"name": "platform", "values": ["Windows"]}])"), "");
  EXPECT_THAT(names(R"([{"name": "parentImage", "values": ["x"]}])"),
              HasSubstr("unknown filter \"parentImage\""));
  EXPECT_THAT(names(R"([{"name": "name"}])"), HasSubstr("no values"));
  ListQuery bad_owner;
  bad_owner.owner = "Nobody";
  EXPECT_EQ(catalog_->list_components(bad_owner).error().code, ErrorCode::kInvalidArgument);
  ListQuery shared;
  shared.owner = "Shared";
  EXPECT_TRUE(catalog_->list_components(shared).value_or(std::vector<Json>{{}}).empty());

  Result<std::vector<Json>> builds =
      catalog_->list_component_build_versions(arn("component/hello/1.0.0"));
  ASSERT_TRUE(builds.ok());
  ASSERT_EQ(builds->size(), 2u);
  EXPECT_EQ((*builds)[0].value("arn", ""), arn("component/hello/1.0.0/2"));
  EXPECT_EQ((*builds)[0]["state"].value("status", ""), "ACTIVE");
  EXPECT_EQ(catalog_->list_component_build_versions(arn("component/hello/1.x.x")).error().code,
            ErrorCode::kInvalidArgument);
}

TEST_F(CatalogTest, DeletingAComponentARecipeNamesExactlyIsRefused) {
  std::string exact = add_component("hello", "1.0.0", build_document());
  std::string other = add_component("other", "1.0.0", build_document());
  std::string recipe = add_recipe("web", "1.0.0", {exact, arn("component/other/x.x.x")});
  Status refused = catalog_->delete_component(exact);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_THAT(refused.error().message, HasSubstr(recipe));
  // A wildcard reference does not hold a build.
  EXPECT_TRUE(catalog_->delete_component(other).ok());
  EXPECT_EQ(catalog_->get_component(other).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(catalog_->delete_component(other).error().code, ErrorCode::kNotFound);
  // Once the recipe is gone the component can go.
  ASSERT_TRUE(catalog_->delete_image_recipe(recipe).ok());
  EXPECT_TRUE(catalog_->delete_component(exact).ok());
  EXPECT_EQ(catalog_->delete_component(arn("component/hello/1.0.0")).error().code,
            ErrorCode::kInvalidArgument);
}

TEST_F(CatalogTest, BuildNumbersAreNotReusedAfterADelete) {
  add_component("hello", "1.0.0", build_document("a"));
  std::string second = add_component("hello", "1.0.0", build_document("b"));
  ASSERT_TRUE(catalog_->delete_component(second).ok());
  EXPECT_EQ(add_component("hello", "1.0.0", build_document("c")), arn("component/hello/1.0.0/3"));
}

}  // namespace
}  // namespace kiln::state
