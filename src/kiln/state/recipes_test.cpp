#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kiln/state/state_testing.hpp"

namespace kiln::state {
namespace {

using testing::build_document;
using testing::CatalogTest;
using ::testing::HasSubstr;
using testing::recipe_request;
using testing::test_document;

class RecipeTest : public CatalogTest {
 protected:
  void SetUp() override {
    CatalogTest::SetUp();
    hello_ = add_component("hello", "1.0.0", build_document());
    check_ = add_component("check", "1.0.0", test_document());
  }
  std::string hello_;
  std::string check_;
};

TEST_F(RecipeTest, CreatesARecipeInAwsShape) {
  Json request = recipe_request("Web Server", "1.0.0", Json::array());
  request["components"] = Json::parse(R"([
      {"componentArn": "arn:aws:imagebuilder:local:123456789012:component/hello/x.x.x",
       "parameters": [{"name": "Greeting", "value": ["hi"]}]},
      {"componentArn": "arn:aws:imagebuilder:local:123456789012:component/check/1.0.0/1"}])");
  request["description"] = "the web server";
  request["blockDeviceMappings"] = Json::parse(R"([{"deviceName": "/dev/xvda"}])");
  Result<Created> created = catalog_->create_image_recipe(request);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_TRUE(created->created);
  EXPECT_EQ(created->arn, arn("image-recipe/web-server/1.0.0"));
  Result<Json> got = catalog_->get_image_recipe(created->arn);
  ASSERT_TRUE(got.ok()) << got.error().message;
  Json expected = Json::parse(R"({
    "arn": "arn:aws:imagebuilder:local:123456789012:image-recipe/web-server/1.0.0",
    "type": "AMI", "name": "Web Server", "description": "the web server", "platform": "Linux",
    "owner": "123456789012", "version": "1.0.0", "components": [], "parentImage": "debian/12.0.0",
    "blockDeviceMappings": [{"deviceName": "/dev/xvda"}],
    "dateCreated": "2020-01-27T20:43:30.306Z", "tags": {}, "workingDirectory": "/tmp"})");
  expected["components"] = request["components"];  // kept as given, wildcards included
  EXPECT_EQ(*got, expected) << got->dump(2);
}

TEST_F(RecipeTest, SameContentIsIdempotentAndOtherContentAlreadyExists) {
  std::string recipe = add_recipe("web", "1.0.0", {hello_});
  Result<Created> again = catalog_->create_image_recipe(recipe_request("web", "1.0.0", {hello_}));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->arn, recipe);
  Result<Created> changed =
      catalog_->create_image_recipe(recipe_request("web", "1.0.0", {hello_, check_}));
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.error().code, ErrorCode::kAlreadyExists);
}

TEST_F(RecipeTest, WildcardVersionsAutoIncrement) {
  auto create = [&](const std::string& version, const Json& components) {
    Result<Created> created =
        catalog_->create_image_recipe(recipe_request("web", version, components));
    if (!created.ok()) {
      return "error: " + created.error().message;
    }
    return created->arn.substr(created->arn.rfind('/') + 1) + (created->created ? "" : " (same)");
  };
  EXPECT_EQ(create("1.0.x", {hello_}), "1.0.0");
  EXPECT_EQ(create("1.0.x", {hello_}), "1.0.0 (same)");
  EXPECT_EQ(create("1.0.x", {hello_, check_}), "1.0.1");
  EXPECT_EQ(create("1.0.x", {check_, hello_}), "1.0.2");
  EXPECT_EQ(create("1.0.x", {check_, hello_}), "1.0.2 (same)");
  EXPECT_EQ(create("1.x.x", {hello_}), "1.1.0");
  EXPECT_EQ(create("1.1.x", {hello_}), "1.1.0 (same)");
  EXPECT_EQ(create("2.x.x", {hello_}), "2.0.0");
  EXPECT_EQ(create("x.x.x", {hello_, check_}), "3.0.0");
  // An exact version among them: 1.0.1 exists with other content.
  EXPECT_THAT(create("1.0.1", {hello_}), HasSubstr("already exists"));
  Result<Created> first = catalog_->create_image_recipe(recipe_request("new", "x.x.x", {hello_}));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->arn, arn("image-recipe/new/0.0.0"));
  // Lookups by wildcard pick the newest.
  Result<Json> newest = catalog_->get_image_recipe(arn("image-recipe/web/1.0.x"));
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(newest->value("version", ""), "1.0.2");
}

TEST_F(RecipeTest, ValidationErrors) {
  struct Case {
    Json request;
    ErrorCode code;
    std::vector<std::string> message;
  };
  Json with_parameter = recipe_request("web", "1.0.0", Json::array());
  with_parameter["components"] = {
      {{"componentArn", hello_}, {"parameters", {{{"name", "Colour"}, {"value", {"red"}}}}}}};
  Json bad_value = with_parameter;
  bad_value["components"][0]["parameters"][0] = {{"name", "Greeting"}, {"value", "hi"}};
  Json twice = with_parameter;
  twice["components"][0]["parameters"] = {{{"name", "Greeting"}, {"value", {"a"}}},
                                          {{"name", "Greeting"}, {"value", {"b"}}}};
  Json relative = recipe_request("web", "1.0.0", {hello_});
  relative["workingDirectory"] = "work";
  Json dotted = recipe_request("web", "1.0.0", {hello_});
  dotted["workingDirectory"] = "/tmp/../etc";
  Json no_parent = recipe_request("web", "1.0.0", {hello_});
  no_parent.erase("parentImage");
  Json too_many = recipe_request("web", "1.0.0", Json::array());
  for (int i = 0; i < 21; ++i) {
    too_many["components"].push_back({{"componentArn", hello_}});
  }
  const Case cases[] = {
      {recipe_request("web", "1.0.0", {arn("component/nothing/1.0.0")}),
       ErrorCode::kNotFound,
       {"components[0].componentArn", "component/nothing/1.0.0"}},
      {with_parameter, ErrorCode::kInvalidArgument, {"\"Colour\"", hello_, "Greeting"}},
      {bad_value, ErrorCode::kInvalidArgument, {"list of strings"}},
      {twice, ErrorCode::kInvalidArgument, {"given twice"}},
      {recipe_request("web", "1.0.0", {check_}),
       ErrorCode::kInvalidArgument,
       {"at least one BUILD component"}},
      {recipe_request("web", "1.0.0", Json::array()), ErrorCode::kInvalidArgument, {"components"}},
      {too_many, ErrorCode::kInvalidArgument, {"1 to 20"}},
      {relative, ErrorCode::kInvalidArgument, {"workingDirectory", "not absolute"}},
      {dotted, ErrorCode::kInvalidArgument, {"workingDirectory", "'..'"}},
      {no_parent, ErrorCode::kInvalidArgument, {"parentImage", "required"}},
      {recipe_request("web", "x.1.x", {hello_}), ErrorCode::kInvalidArgument, {"semanticVersion"}},
      {recipe_request("w", "1.0.0", {hello_}), ErrorCode::kInvalidArgument, {"invalid name"}},
      {recipe_request("web", "1.0.0", {arn("image/hello/1.0.0")}),
       ErrorCode::kInvalidArgument,
       {"components[0].componentArn", "not of a component"}},
  };
  for (const Case& c : cases) {
    Result<Created> created = catalog_->create_image_recipe(c.request);
    ASSERT_FALSE(created.ok()) << c.request.dump();
    EXPECT_EQ(created.error().code, c.code) << created.error().message;
    for (const std::string& part : c.message) {
      EXPECT_THAT(created.error().message, HasSubstr(part));
    }
  }
  EXPECT_TRUE(catalog_->list_image_recipes(ListQuery{}).value_or(std::vector<Json>{{}}).empty());
}

TEST_F(RecipeTest, ManagedComponentsOfAnyRegionCanBeUsed) {
  std::filesystem::path folder = dir_->path() / "managed";
  std::filesystem::create_directories(folder);
  ASSERT_TRUE(write_file(folder / "update.yaml", build_document("update")).ok());
  ASSERT_TRUE(write_file(folder / "managed.json",
                         R"({"components": [{"name": "update-linux", "semanticVersion": "1.0.0",
                             "file": "update.yaml", "platform": "Linux"}]})")
                  .ok());
  ASSERT_TRUE(catalog_->sync_managed_components(folder).ok());
  std::string exact = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/1.0.0/1";
  std::string recipe = add_recipe(
      "web", "1.0.0", {"arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"});
  EXPECT_EQ(recipe, arn("image-recipe/web/1.0.0"));
  add_recipe("pinned", "1.0.0", {exact});
}

TEST_F(RecipeTest, ListsRecipesWithFilters) {
  add_recipe("web", "1.0.0", {hello_});
  add_recipe("web", "1.0.1", {hello_, check_});
  Json other = recipe_request("database", "1.0.0", {hello_});
  other["parentImage"] = "ubuntu/22.4.0";
  ASSERT_TRUE(catalog_->create_image_recipe(other).ok());
  auto listed = [&](const char* filters) {
    ListQuery query;
    query.filters = Json::parse(filters);
    Result<std::vector<Json>> recipes = catalog_->list_image_recipes(query);
    std::string out;
    if (!recipes.ok()) {
      return "error: " + recipes.error().message;
    }
    for (const Json& recipe : *recipes) {
      out += recipe.value("arn", "").substr(arn("image-recipe/").size()) + " ";
    }
    return out;
  };
  EXPECT_EQ(listed("[]"), "database/1.0.0 web/1.0.0 web/1.0.1 ");
  EXPECT_EQ(listed(R"([{"name": "parentImage", "values": ["ubuntu/22.4.0"]}])"), "database/1.0.0 ");
  EXPECT_EQ(listed(R"([{"name": "name", "values": ["web"]}])"), "web/1.0.0 web/1.0.1 ");
  EXPECT_EQ(listed(R"([{"name": "platform", "values": ["Linux"]}])"),
            "database/1.0.0 web/1.0.0 web/1.0.1 ");
  EXPECT_THAT(listed(R"([{"name": "type", "values": ["AMI"]}])"), HasSubstr("unknown filter"));
  Result<std::vector<Json>> all = catalog_->list_image_recipes(ListQuery{});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)[0].value("parentImage", ""), "ubuntu/22.4.0");
  EXPECT_FALSE((*all)[0].contains("components"));
}

}  // namespace
}  // namespace kiln::state
