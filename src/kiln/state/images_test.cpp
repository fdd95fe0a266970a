#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kiln/state/state_testing.hpp"

namespace kiln::state {
namespace {

using testing::CatalogTest;
using ::testing::HasSubstr;

std::string create(Catalog& catalog, const Json& request, uint32_t min_build = 1) {
  Result<Created> created = catalog.create_image(request, min_build);
  EXPECT_TRUE(created.ok()) << created.error().message;
  return created.ok() ? created->arn : std::string();
}

TEST_F(CatalogTest, CreatesAPendingImageWithCopiesOfItsResources) {
  Json request = image_request("Web Server");
  request["distributionConfigurationArn"] = add_distribution("dist");
  request["tags"] = {{"k", "v"}};
  std::string image = create(*catalog_, request);
  EXPECT_EQ(image, arn("image/web-server/1.0.0/1"));
  Result<Json> got = catalog_->get_image(image);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->value("type", ""), "AMI");
  EXPECT_EQ(got->value("name", ""), "Web Server");
  EXPECT_EQ(got->value("version", ""), "1.0.0");
  EXPECT_EQ(got->value("platform", ""), "Linux");
  EXPECT_EQ((*got)["state"], Json({{"status", "PENDING"}}));
  EXPECT_EQ((*got)["imageRecipe"],
            catalog_->get_image_recipe(request["imageRecipeArn"].get<std::string>()).value());
  EXPECT_EQ((*got)["infrastructureConfiguration"],
            catalog_
                ->get_infrastructure_configuration(
                    request["infrastructureConfigurationArn"].get<std::string>())
                .value());
  EXPECT_EQ((*got)["distributionConfiguration"].value("name", ""), "dist");
  EXPECT_EQ((*got)["imageTestsConfiguration"], Json({{"imageTestsEnabled", true}}));
  EXPECT_EQ(got->value("dateCreated", ""), "2020-01-27T20:43:30.306Z");
  EXPECT_EQ(got->value("buildType", ""), "USER_INITIATED");
  EXPECT_EQ(got->value("imageSource", ""), "CUSTOM");
  EXPECT_EQ((*got)["outputResources"], Json({{"amis", Json::array()}}));
  EXPECT_EQ((*got)["tags"], Json({{"k", "v"}}));

  request["imageTestsConfiguration"] = {{"imageTestsEnabled", false}, {"timeoutMinutes", 90}};
  Result<Json> second = catalog_->get_image(create(*catalog_, request));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)["imageTestsConfiguration"],
            Json({{"imageTestsEnabled", false}, {"timeoutMinutes", 90}}));
}

// A builder records itself in the transaction that creates the image: there is no moment in
// which the image exists without it (a kiln build killed then would leave a PENDING image that
// recovery takes for a daemon's queued one).
TEST_F(CatalogTest, AnImageIsBornWithItsKilnMembers) {
  Json builder = {{"builder", {{"pid", 4242}, {"startTime", 77}}}};
  Result<Json> got =
      catalog_->get_image(catalog_->create_image(image_request("stamped"), 1, builder).value().arn);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ((*got)["kiln"], builder);
  EXPECT_EQ((*got)["state"], Json({{"status", "PENDING"}}));
  Result<Json> plain = catalog_->get_image(create(*catalog_, image_request("plain")));
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->contains("kiln"));
}

TEST_F(CatalogTest, ImageRequestErrors) {
  Json request = image_request();
  struct Case {
    const char* member;
    Json value;
    ErrorCode code;
    const char* message;
  };
  const Case cases[] = {
      {"imageRecipeArn", arn("image-recipe/none/1.0.0"), ErrorCode::kNotFound, "imageRecipeArn"},
      {"infrastructureConfigurationArn",
       arn("infrastructure-configuration/none"),
       ErrorCode::kNotFound,
       "infrastructureConfigurationArn"},
      {"distributionConfigurationArn",
       arn("distribution-configuration/none"),
       ErrorCode::kNotFound,
       "distributionConfigurationArn"},
      {"containerRecipeArn", "x", ErrorCode::kInvalidArgument, "container"},
      {"imageTestsConfiguration",
       {{"timeoutMinutes", 5}},
       ErrorCode::kInvalidArgument,
       "timeoutMinutes"},
      {"enhancedImageMetadataEnabled", "yes", ErrorCode::kInvalidArgument, "enhanced"},
  };
  for (const Case& c : cases) {
    Json bad = request;
    bad[c.member] = c.value;
    Result<Created> created = catalog_->create_image(bad);
    ASSERT_FALSE(created.ok()) << c.member;
    EXPECT_EQ(created.error().code, c.code) << created.error().message;
    EXPECT_THAT(created.error().message, HasSubstr(c.message));
  }
  Json missing = request;
  missing.erase("imageRecipeArn");
  EXPECT_EQ(catalog_->create_image(missing).error().code, ErrorCode::kInvalidArgument);
  // Nothing was created, and no build number was used up.
  EXPECT_EQ(create(*catalog_, request), arn("image/web/1.0.0/1"));
}

TEST_F(CatalogTest, BuildNumbersCountUpAndRespectMinBuild) {
  Json request = image_request();
  EXPECT_EQ(create(*catalog_, request), arn("image/web/1.0.0/1"));
  EXPECT_EQ(create(*catalog_, request), arn("image/web/1.0.0/2"));
  EXPECT_EQ(create(*catalog_, request, 10), arn("image/web/1.0.0/10"));
  EXPECT_EQ(create(*catalog_, request, 5), arn("image/web/1.0.0/11"));
  EXPECT_EQ(create(*catalog_, request, 0), arn("image/web/1.0.0/12"));
  // A deleted build's number is not handed out again.
  ASSERT_TRUE(catalog_->set_image_status(arn("image/web/1.0.0/12"), ImageStatus::kCancelled).ok());
  ASSERT_TRUE(catalog_->delete_image(arn("image/web/1.0.0/12")).ok());
  EXPECT_EQ(create(*catalog_, request), arn("image/web/1.0.0/13"));
  // Another recipe version counts from 1.
  std::string recipe = add_recipe("web", "1.1.0", {arn("component/hello/1.0.0/1")});
  request["imageRecipeArn"] = recipe;
  EXPECT_EQ(create(*catalog_, request), arn("image/web/1.1.0/1"));
  // A wildcard recipe ARN takes the newest recipe.
  request["imageRecipeArn"] = arn("image-recipe/web/1.x.x");
  EXPECT_EQ(create(*catalog_, request), arn("image/web/1.1.0/2"));
}

TEST_F(CatalogTest, StatusChangesFollowTheTransitions) {
  std::string image = create(*catalog_, image_request());
  Result<Json> building = catalog_->set_image_status(image, ImageStatus::kBuilding);
  ASSERT_TRUE(building.ok()) << building.error().message;
  EXPECT_EQ((*building)["state"], Json({{"status", "BUILDING"}}));
  Result<Json> back = catalog_->set_image_status(image, ImageStatus::kCreating);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code, ErrorCode::kConflict);
  EXPECT_THAT(back.error().message, HasSubstr("BUILDING"));
  EXPECT_THAT(back.error().message, HasSubstr("CREATING"));
  Result<Json> failed = catalog_->set_image_status(image, ImageStatus::kFailed, "step Say failed");
  ASSERT_TRUE(failed.ok());
  Result<Json> stored = catalog_->get_image(image);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ((*stored)["state"], Json({{"status", "FAILED"}, {"reason", "step Say failed"}}));
  EXPECT_EQ(catalog_->set_image_status(image, ImageStatus::kAvailable).error().code,
            ErrorCode::kConflict);
  EXPECT_EQ(catalog_->set_image_status(arn("image/web/1.0.0/9"), ImageStatus::kFailed).error().code,
            ErrorCode::kNotFound);
}

TEST_F(CatalogTest, UpdateImageChangesEverythingButItsState) {
  std::string image = create(*catalog_, image_request());
  Result<Json> updated = catalog_->update_image(image, [](Json& doc) {
    doc["outputResources"]["amis"].push_back({{"region", "local"}, {"image", "sha256:abc"}});
  });
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  Result<Json> stored = catalog_->get_image(image);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ((*stored)["outputResources"]["amis"][0].value("image", ""), "sha256:abc");
  Result<Json> state_change =
      catalog_->update_image(image, [](Json& doc) { doc["state"]["status"] = "AVAILABLE"; });
  ASSERT_FALSE(state_change.ok());
  EXPECT_THAT(state_change.error().message, HasSubstr("state"));
  EXPECT_EQ((*catalog_->get_image(image))["state"].value("status", ""), "PENDING");
}

TEST_F(CatalogTest, DeleteImageOnlyInATerminalStatus) {
  std::string image = create(*catalog_, image_request());
  Status refused = catalog_->delete_image(image);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(catalog_->set_image_status(image, ImageStatus::kAvailable).ok());
  EXPECT_TRUE(catalog_->delete_image(image).ok());
  EXPECT_EQ(catalog_->get_image(image).error().code, ErrorCode::kNotFound);
}

TEST_F(CatalogTest, ImagesWithStatusOldestFirst) {
  Json request = image_request();
  std::string first = create(*catalog_, request);
  clock_.advance_ms(1000);
  std::string second = create(*catalog_, request);
  clock_.advance_ms(1000);
  std::string third = create(*catalog_, request);
  ASSERT_TRUE(catalog_->set_image_status(first, ImageStatus::kBuilding).ok());
  ASSERT_TRUE(catalog_->set_image_status(second, ImageStatus::kAvailable).ok());
  auto arns = [&](const std::vector<ImageStatus>& statuses) {
    std::vector<std::string> out;
    Result<std::vector<Json>> images = catalog_->images_with_status(statuses);
    EXPECT_TRUE(images.ok());
    for (const Json& image : images.value_or(std::vector<Json>())) {
      out.push_back(image.value("arn", ""));
    }
    return out;
  };
  EXPECT_EQ(arns({ImageStatus::kPending, ImageStatus::kBuilding}),
            (std::vector<std::string>{first, third}));
  EXPECT_EQ(arns({ImageStatus::kAvailable}), std::vector<std::string>{second});
  EXPECT_EQ(arns({}), (std::vector<std::string>{first, second, third}));
  EXPECT_TRUE(arns({ImageStatus::kDeleted}).empty());
}

TEST_F(CatalogTest, ListsImagesAndTheirBuilds) {
  Json request = image_request();
  create(*catalog_, request);
  create(*catalog_, request);
  Json other = image_request("database");
  create(*catalog_, other);
  Result<std::vector<Json>> images = catalog_->list_images(ListQuery{});
  ASSERT_TRUE(images.ok()) << images.error().message;
  ASSERT_EQ(images->size(), 2u);
  Json expected = Json::parse(R"({
    "arn": "arn:aws:imagebuilder:local:123456789012:image/web/1.0.0", "name": "web",
    "type": "AMI", "version": "1.0.0", "platform": "Linux", "owner": "123456789012",
    "dateCreated": "2020-01-27T20:43:30.306Z", "buildType": "USER_INITIATED",
    "imageSource": "CUSTOM"})");
  EXPECT_EQ((*images)[1], expected) << (*images)[1].dump(2);

  ListQuery query;
  query.filters = Json::parse(R"([{"name": "name", "values": ["database"]}])");
  Result<std::vector<Json>> filtered = catalog_->list_images(query);
  ASSERT_TRUE(filtered.ok());
  ASSERT_EQ(filtered->size(), 1u);
  EXPECT_EQ((*filtered)[0].value("name", ""), "database");
  query.filters = Json::parse(R"([{"name": "osVersion", "values": ["Debian 12"]}])");
  EXPECT_TRUE(catalog_->list_images(query).value_or(std::vector<Json>{{}}).empty());
  query.filters = Json::parse(R"([{"name": "parentImage", "values": ["x"]}])");
  EXPECT_EQ(catalog_->list_images(query).error().code, ErrorCode::kInvalidArgument);

  Result<std::vector<Json>> builds = catalog_->list_image_build_versions(arn("image/web/1.0.0"));
  ASSERT_TRUE(builds.ok()) << builds.error().message;
  ASSERT_EQ(builds->size(), 2u);
  EXPECT_EQ((*builds)[0].value("arn", ""), arn("image/web/1.0.0/2"));
  EXPECT_EQ((*builds)[0]["state"].value("status", ""), "PENDING");
  EXPECT_TRUE((*builds)[0].contains("outputResources"));
  EXPECT_FALSE((*builds)[0].contains("imageRecipe"));
  EXPECT_EQ(catalog_->list_image_build_versions(arn("image/web/1.0.0/2")).error().code,
            ErrorCode::kInvalidArgument);
  // get_image with a version ARN: the newest build.
  EXPECT_EQ(catalog_->get_image(arn("image/web/1.0.0"))->value("arn", ""),
            arn("image/web/1.0.0/2"));
}

}  // namespace
}  // namespace kiln::state
