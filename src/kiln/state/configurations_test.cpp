#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kiln/state/log_location.hpp"
#include "kiln/state/state_testing.hpp"

namespace kiln::state {
namespace {

using testing::CatalogTest;
using testing::distribution_request;
using ::testing::HasSubstr;
using testing::infrastructure_request;
namespace fs = std::filesystem;

TEST_F(CatalogTest, CreatesAnInfrastructureConfiguration) {
  catalog_->set_log_root("/var/log/kiln");  // the local log folder below is the log root
  Json request = infrastructure_request("Small Builds");
  request["logging"] = {{"s3Logs", {{"s3BucketName", ""}, {"s3KeyPrefix", "/var/log/kiln"}}}};
  request["instanceMetadataOptions"] = {{"httpTokens", "required"}};
  request["resourceTags"] = {{"purpose", "build"}};
  Result<Created> created = catalog_->create_infrastructure_configuration(request);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->arn, arn("infrastructure-configuration/small-builds"));
  Result<Json> got = catalog_->get_infrastructure_configuration(created->arn);
  ASSERT_TRUE(got.ok()) << got.error().message;
  Json expected = Json::parse(R"({
    "arn": "arn:aws:imagebuilder:local:123456789012:infrastructure-configuration/small-builds",
    "name": "Small Builds", "instanceTypes": ["t3.micro"],
    "logging": {"s3Logs": {"s3BucketName": "", "s3KeyPrefix": "/var/log/kiln"}},
    "terminateInstanceOnFailure": true, "dateCreated": "2020-01-27T20:43:30.306Z",
    "resourceTags": {"purpose": "build"}, "instanceMetadataOptions": {"httpTokens": "required"},
    "tags": {}})");
  EXPECT_EQ(*got, expected) << got->dump(2);

  // The same request again is idempotent; another with the same name is refused.
  Result<Created> again = catalog_->create_infrastructure_configuration(request);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  request["terminateInstanceOnFailure"] = false;
  EXPECT_EQ(catalog_->create_infrastructure_configuration(request).error().code,
            ErrorCode::kAlreadyExists);
}

TEST_F(CatalogTest, InfrastructureRequestErrors) {
  struct Case {
    const char* member;
    Json value;
    const char* message;
  };
  const Case cases[] = {
      {"instanceTypes", {"t3.mikro"}, "unknown instance type \"t3.mikro\""},
      {"instanceTypes", "t3.micro", "invalid instanceTypes"},
      {"terminateInstanceOnFailure", "yes", "invalid terminateInstanceOnFailure"},
      {"instanceMetadataOptions", {{"httpTokens", "sometimes"}}, "optional or required"},
      {"instanceMetadataOptions", {{"httpPutResponseHopLimit", 65}}, "httpPutResponseHopLimit"},
      {"logging", {{"cloudWatch", {}}}, "unknown member \"cloudWatch\""},
      {"name", "x", "invalid name"},
      {"networkMode", "bridge", "must be private, none or host"},
      {"networkMode", "Host", "must be private, none or host"},
      {"netwrokMode", "none", "unknown member \"netwrokMode\""},
  };
  for (const Case& c : cases) {
    Json request = infrastructure_request("small");
    request[c.member] = c.value;
    Result<Created> created = catalog_->create_infrastructure_configuration(request);
    ASSERT_FALSE(created.ok()) << c.value.dump();
    EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(created.error().message, HasSubstr(c.message));
  }
}

Json with_logs(Json request, const std::string& bucket, const std::string& prefix) {
  request["logging"] = {{"s3Logs", {{"s3BucketName", bucket}, {"s3KeyPrefix", prefix}}}};
  return request;
}

TEST_F(CatalogTest, ALocalLogFolderMustBeInTheLogRoot) {
  // The default log root: "logs" beside the catalog file.
  fs::path root = dir_->path() / "logs";
  EXPECT_EQ(catalog_->log_root(), root);
  for (const std::string& outside : {std::string("/etc/kiln-pwn"),
                                     std::string("/"),
                                     root.string() + "/../etc",
                                     root.string() + "/./a",
                                     root.string() + "//a",
                                     root.string() + "-other/a",
                                     dir_->path().string()}) {
    Result<Created> created = catalog_->create_infrastructure_configuration(
        with_logs(infrastructure_request("outside"), "", outside));
    ASSERT_FALSE(created.ok()) << outside;
    EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument) << outside;
    EXPECT_THAT(created.error().message, HasSubstr("logging.s3Logs.s3KeyPrefix")) << outside;
  }
  EXPECT_FALSE(fs::exists("/etc/kiln-pwn"));
  // In the root: the root itself, a folder to be made, with or without a trailing '/'.
  for (const std::string& inside :
       {root.string(), root.string() + "/", root.string() + "/team-a/nightly"}) {
    Result<Created> created = catalog_->create_infrastructure_configuration(
        with_logs(infrastructure_request("inside"), "", inside));
    ASSERT_TRUE(created.ok()) << inside << ": " << created.error().message;
    ASSERT_TRUE(catalog_->delete_infrastructure_configuration(created->arn).ok());
  }
  // Not through a symbolic link, even one in the root.
  fs::create_directories(root);
  fs::create_symlink("/etc", root / "link");
  Result<Created> linked = catalog_->create_infrastructure_configuration(
      with_logs(infrastructure_request("linked"), "", (root / "link" / "kiln").string()));
  ASSERT_FALSE(linked.ok());
  EXPECT_THAT(linked.error().message, HasSubstr("symbolic link"));

  // With a bucket the prefix is an S3 key, never a path: any text is fine, nothing is checked
  // on the host. Without a bucket, a relative prefix names no folder (the root is used).
  EXPECT_TRUE(catalog_
                  ->create_infrastructure_configuration(
                      with_logs(infrastructure_request("key"), "logs-bucket", "/etc/kiln-pwn"))
                  .ok());
  EXPECT_TRUE(catalog_
                  ->create_infrastructure_configuration(
                      with_logs(infrastructure_request("relative"), "", "etc/kiln-pwn"))
                  .ok());

  // An update is checked the same way.
  std::string config = catalog_
                           ->create_infrastructure_configuration(
                               with_logs(infrastructure_request("updated"), "", root.string()))
                           .value()
                           .arn;
  Result<std::string> updated = catalog_->update_infrastructure_configuration(
      {{"infrastructureConfigurationArn", config},
       {"logging", {{"s3Logs", {{"s3KeyPrefix", "/etc/kiln-pwn"}}}}}});
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.error().code, ErrorCode::kInvalidArgument);

  // The operator's log root (kiln serve --log-root) moves the boundary.
  catalog_->set_log_root("/srv/kiln-logs");
  EXPECT_TRUE(catalog_
                  ->create_infrastructure_configuration(
                      with_logs(infrastructure_request("srv"), "", "/srv/kiln-logs/x"))
                  .ok());
  EXPECT_FALSE(catalog_
                   ->create_infrastructure_configuration(
                       with_logs(infrastructure_request("old-root"), "", root.string()))
                   .ok());
}

TEST(LogLocationTest, LocalLogFolderOfAConfiguration) {
  EXPECT_EQ(local_log_folder(Json::object()), std::nullopt);
  EXPECT_EQ(local_log_folder(with_logs(Json::object(), "", "/var/log/x")), "/var/log/x");
  EXPECT_EQ(local_log_folder(with_logs(Json::object(), "bucket", "/var/log/x")), std::nullopt);
  EXPECT_EQ(local_log_folder(with_logs(Json::object(), "", "var/log/x")), std::nullopt);
  EXPECT_EQ(local_log_folder(Json{{"logging", {{"s3Logs", {{"s3KeyPrefix", "/a"}}}}}}), "/a");
  EXPECT_EQ(local_log_folder(Json{{"logging", {{"s3Logs", {{"s3KeyPrefix", 7}}}}}}), std::nullopt);
}

TEST(LogLocationTest, FolderInRootIsRelative) {
  EXPECT_EQ(log_folder_in_root("/l/a/b", "/l").value(), fs::path("a/b"));
  EXPECT_EQ(log_folder_in_root("/l", "/l").value(), fs::path());
  EXPECT_FALSE(log_folder_in_root("/l/a/../../etc", "/l").ok());
  EXPECT_FALSE(log_folder_in_root("/lx", "/l").ok());
  EXPECT_FALSE(log_folder_in_root("relative", "/l").ok());
  EXPECT_FALSE(log_folder_in_root("/l/a", "relative-root").ok());
}

TEST_F(CatalogTest, NetworkModeIsKilnsOwnMember) {
  Json request = infrastructure_request("offline");
  request["networkMode"] = "none";
  Result<Created> created = catalog_->create_infrastructure_configuration(request);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(catalog_->get_infrastructure_configuration(created->arn)->value("networkMode", ""),
            "none");
  for (const char* mode : {"private", "host"}) {
    request = infrastructure_request(std::string("net-") + mode);
    request["networkMode"] = mode;
    created = catalog_->create_infrastructure_configuration(request);
    ASSERT_TRUE(created.ok()) << created.error().message;
  }
}

TEST_F(CatalogTest, UpdatingAnInfrastructureConfigurationReplacesTheGivenMembers) {
  Json request = infrastructure_request("small");
  request["description"] = "before";
  request["keyPair"] = "builder";
  std::string config = catalog_->create_infrastructure_configuration(request)->arn;
  clock_.advance_ms(60000);
  Result<std::string> updated =
      catalog_->update_infrastructure_configuration({{"infrastructureConfigurationArn", config},
                                                     {"description", "after"},
                                                     {"instanceTypes", {"m5.large"}},
                                                     {"clientToken", "t"}});
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_EQ(*updated, config);
  Result<Json> got = catalog_->get_infrastructure_configuration(config);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value("description", ""), "after");
  EXPECT_EQ((*got)["instanceTypes"], Json({"m5.large"}));
  EXPECT_EQ(got->value("keyPair", ""), "builder");
  EXPECT_EQ(got->value("dateCreated", ""), "2020-01-27T20:43:30.306Z");
  EXPECT_EQ(got->value("dateUpdated", ""), "2020-01-27T20:44:30.306Z");

  EXPECT_THAT(catalog_
                  ->update_infrastructure_configuration(
                      {{"infrastructureConfigurationArn", config}, {"name", "other"}})
                  .error()
                  .message,
              HasSubstr("\"name\" cannot be updated"));
  EXPECT_EQ(catalog_
                ->update_infrastructure_configuration(
                    {{"infrastructureConfigurationArn", config}, {"keyPair", 7}})
                .error()
                .code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(catalog_
                ->update_infrastructure_configuration(
                    {{"infrastructureConfigurationArn", arn("infrastructure-configuration/none")},
                     {"description", "x"}})
                .error()
                .code,
            ErrorCode::kNotFound);
}

TEST_F(CatalogTest, CreatesAndUpdatesADistributionConfiguration) {
  Json request = distribution_request("to-backup", {"local", "eu-backup"});
  request["timeoutMinutes"] = 60;
  Result<Created> created = catalog_->create_distribution_configuration(request);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->arn, arn("distribution-configuration/to-backup"));
  Result<Json> got = catalog_->get_distribution_configuration(created->arn);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["distributions"][1]["amiDistributionConfiguration"].value("name", ""),
            "web-{{ imagebuilder:buildDate }}");
  EXPECT_EQ(got->value("timeoutMinutes", 0), 60);

  Result<std::string> updated =
      catalog_->update_distribution_configuration({{"distributionConfigurationArn", created->arn},
                                                   {"distributions", {{{"region", "archive"}}}}});
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  Result<std::vector<Json>> listed = catalog_->list_distribution_configurations(ListQuery{});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0]["regions"], Json({"archive"}));
  EXPECT_EQ((*listed)[0].value("timeoutMinutes", 0), 0);  // not a summary member
  EXPECT_EQ(catalog_
                ->update_distribution_configuration(
                    {{"distributionConfigurationArn", created->arn},
                     {"distributions", {{{"region", "a"}}, {{"region", "a"}}}}})
                .error()
                .code,
            ErrorCode::kInvalidArgument);
}

TEST_F(CatalogTest, DistributionRequestErrors) {
  struct Case {
    Json distributions;
    const char* message;
  };
  const Case cases[] = {
      {Json::array({"local", "local"}), "appears twice"},
      {Json::array({"Local Region"}), "region"},
      {Json::array(), "distributions"},
  };
  for (const Case& c : cases) {
    Result<Created> created = catalog_->create_distribution_configuration(
        distribution_request("dist-1", c.distributions));
    ASSERT_FALSE(created.ok()) << c.distributions.dump();
    EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(created.error().message, HasSubstr(c.message));
  }
  Json long_name = distribution_request("dist-1", {"local"});
  long_name["distributions"][0]["amiDistributionConfiguration"]["name"] = std::string(128, 'n');
  EXPECT_THAT(catalog_->create_distribution_configuration(long_name).error().message,
              HasSubstr("amiDistributionConfiguration"));
  Json timeout = distribution_request("dist-1", {"local"});
  timeout["timeoutMinutes"] = 10;
  EXPECT_THAT(catalog_->create_distribution_configuration(timeout).error().message,
              HasSubstr("timeoutMinutes"));
  Json no_region = distribution_request("dist-1", {"local"});
  no_region["distributions"][0].erase("region");
  EXPECT_THAT(catalog_->create_distribution_configuration(no_region).error().message,
              HasSubstr("region"));
}

TEST_F(CatalogTest, ListsConfigurationsByName) {
  add_infrastructure("small");
  add_infrastructure("large");
  ListQuery query;
  query.filters = Json::parse(R"([{"name": "name", "values": ["large", "huge"]}])");
  Result<std::vector<Json>> listed = catalog_->list_infrastructure_configurations(query);
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].value("arn", ""), arn("infrastructure-configuration/large"));
  EXPECT_EQ((*listed)[0]["instanceTypes"], Json({"t3.micro"}));
  EXPECT_EQ(catalog_->list_infrastructure_configurations(ListQuery{})->size(), 2u);
  query.filters = Json::parse(R"([{"name": "platform", "values": ["Linux"]}])");
  EXPECT_EQ(catalog_->list_infrastructure_configurations(query).error().code,
            ErrorCode::kInvalidArgument);
}

TEST_F(CatalogTest, DeletingConfigurationsInUseByARunningImageIsRefused) {
  Json request = image_request();
  std::string distribution = add_distribution("dist");
  request["distributionConfigurationArn"] = distribution;
  std::string image = catalog_->create_image(request)->arn;
  std::string infrastructure = request["infrastructureConfigurationArn"];
  std::string recipe = request["imageRecipeArn"];
  for (const Status& refused : {catalog_->delete_infrastructure_configuration(infrastructure),
                                catalog_->delete_distribution_configuration(distribution),
                                catalog_->delete_image_recipe(recipe)}) {
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
    EXPECT_THAT(refused.error().message, HasSubstr(image));
  }
  ASSERT_TRUE(catalog_->set_image_status(image, ImageStatus::kFailed, "broken").ok());
  EXPECT_TRUE(catalog_->delete_infrastructure_configuration(infrastructure).ok());
  EXPECT_TRUE(catalog_->delete_distribution_configuration(distribution).ok());
  EXPECT_TRUE(catalog_->delete_image_recipe(recipe).ok());
  EXPECT_EQ(catalog_->get_infrastructure_configuration(infrastructure).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(catalog_->delete_distribution_configuration(distribution).error().code,
            ErrorCode::kNotFound);
  // The image keeps its copies.
  Result<Json> kept = catalog_->get_image(image);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ((*kept)["infrastructureConfiguration"].value("arn", ""), infrastructure);
}

}  // namespace
}  // namespace kiln::state
