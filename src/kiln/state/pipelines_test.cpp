// Image pipelines, their builds and run bookkeeping, clientToken idempotency, and the migration
// of a schema-1 file to schema 2.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "kiln/state/catalog_impl.hpp"
#include "kiln/state/database.hpp"
#include "kiln/state/state_testing.hpp"

namespace kiln::state {
namespace {

using testing::build_document;
using testing::CatalogTest;
using ::testing::HasSubstr;

// The error code of a failed call; "ok" when it succeeded (so a wrong success fails cleanly).
template <typename T>
std::string code_of(const Result<T>& result) {
  return result.ok() ? "ok" : std::string(error_code_name(result.error().code));
}
std::string name_of(ErrorCode code) {
  return std::string(error_code_name(code));
}

class PipelineTest : public CatalogTest {
 protected:
  // A CreateImagePipeline request over image_request()'s recipe and configuration.
  Json pipeline_request(const std::string& name = "nightly") {
    Json request = image_request();
    request["name"] = name;
    request["clientToken"] = "token-1";
    request["schedule"] = {{"scheduleExpression", "cron(0 3 * * ? *)"}};
    return request;
  }

  std::string create(const Json& request) {
    Result<Created> created = catalog_->create_image_pipeline(request);
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? created->arn : std::string();
  }

  Json get(const std::string& pipeline) {
    Result<Json> got = catalog_->get_image_pipeline(pipeline);
    EXPECT_TRUE(got.ok()) << got.error().message;
    return got.ok() ? *got : Json();
  }

  std::string build(const std::string& pipeline, bool scheduled) {
    Result<Created> created = catalog_->create_pipeline_image(pipeline, scheduled);
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? created->arn : std::string();
  }

  // Moves an image through to `status` (AVAILABLE, FAILED or CANCELLED).
  void finish(const std::string& image, ImageStatus status) {
    if (status == ImageStatus::kAvailable) {
      ASSERT_TRUE(catalog_->set_image_status(image, ImageStatus::kBuilding).ok());
    }
    Result<Json> done = catalog_->set_image_status(image, status);
    ASSERT_TRUE(done.ok()) << done.error().message;
  }

  // A build of the pipeline from start to end, recorded; returns the pipeline afterwards.
  Json run(const std::string& pipeline, bool scheduled, ImageStatus status) {
    std::string image = build(pipeline, scheduled);
    finish(image, status);
    Result<Json> recorded = catalog_->record_pipeline_result(pipeline, status, scheduled);
    EXPECT_TRUE(recorded.ok()) << recorded.error().message;
    EXPECT_EQ(recorded.ok() ? *recorded : Json(), get(pipeline));
    return recorded.ok() ? *recorded : Json();
  }
};

TEST_F(PipelineTest, CreatesAPipelineInAwsShape) {
  Json request = pipeline_request("Nightly Web");
  request["description"] = "every night";
  request["distributionConfigurationArn"] = add_distribution("dist");
  request["tags"] = {{"team", "web"}};
  request["imageTags"] = {{"built-by", "pipeline"}};
  std::string pipeline = create(request);
  EXPECT_EQ(pipeline, arn("image-pipeline/nightly-web"));

  Json got = get(pipeline);
  std::vector<std::string> members;
  for (const auto& [key, value] : got.items()) {
    members.push_back(key);
  }
  EXPECT_THAT(members,
              ::testing::ElementsAre("arn",
                                     "name",
                                     "description",
                                     "platform",
                                     "enhancedImageMetadataEnabled",
                                     "imageRecipeArn",
                                     "infrastructureConfigurationArn",
                                     "distributionConfigurationArn",
                                     "imageTestsConfiguration",
                                     "schedule",
                                     "status",
                                     "dateCreated",
                                     "tags",
                                     "imageTags",
                                     "consecutiveFailures"));
  EXPECT_EQ(got["name"], "Nightly Web");
  EXPECT_EQ(got["platform"], "Linux");
  EXPECT_EQ(got["enhancedImageMetadataEnabled"], true);
  EXPECT_EQ(got["imageRecipeArn"], request["imageRecipeArn"]);
  EXPECT_EQ(got["imageTestsConfiguration"], Json({{"imageTestsEnabled", true}}));
  EXPECT_EQ(got["schedule"],
            Json({{"scheduleExpression", "cron(0 3 * * ? *)"},
                  {"timezone", "UTC"},
                  {"pipelineExecutionStartCondition",
                   "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE"}}));
  EXPECT_EQ(got["status"], "ENABLED");
  EXPECT_EQ(got["dateCreated"], "2020-01-27T20:43:30.306Z");
  EXPECT_EQ(got["consecutiveFailures"], 0);

  // The same request again is the same pipeline; another one under the name is refused.
  Result<Created> again = catalog_->create_image_pipeline(request);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->created);
  request["description"] = "other";
  Result<Created> clash = catalog_->create_image_pipeline(request);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code, ErrorCode::kAlreadyExists);
}

TEST_F(PipelineTest, KeepsAWildcardRecipeArnAndBuildsTheNewestMatch) {
  Json request = pipeline_request();
  request["imageRecipeArn"] = arn("image-recipe/web/1.x.x");
  std::string pipeline = create(request);
  EXPECT_EQ(get(pipeline)["imageRecipeArn"], arn("image-recipe/web/1.x.x"));
  add_recipe(
      "web", "1.2.0", {catalog_->get_component(arn("component/hello/1.0.0")).value()["arn"]});
  Result<Json> image = catalog_->get_image(build(pipeline, false));
  ASSERT_TRUE(image.ok());
  EXPECT_EQ((*image)["version"], "1.2.0");

  request["name"] = "nomatch";
  request["imageRecipeArn"] = arn("image-recipe/web/2.x.x");
  Result<Created> none = catalog_->create_image_pipeline(request);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(none.error().message, HasSubstr("imageRecipeArn"));
}

TEST_F(PipelineTest, RequestErrors) {
  struct Case {
    const char* member;
    Json value;  // null: remove the member
    ErrorCode code;
    const char* message;
  };
  std::vector<Case> cases = {
      {"name", "bad/name", ErrorCode::kInvalidArgument, "invalid name"},
      {"name", nullptr, ErrorCode::kInvalidArgument, "invalid name: required"},
      {"imageRecipeArn", nullptr, ErrorCode::kInvalidArgument, "imageRecipeArn"},
      {"imageRecipeArn",
       "arn:aws:imagebuilder:local:123456789012:image-recipe/nope/1.0.0",
       ErrorCode::kNotFound,
       "image-recipe/nope/1.0.0"},
      {"imageRecipeArn",
       "arn:aws:imagebuilder:local:123456789012:image-recipe/web",
       ErrorCode::kInvalidArgument,
       "version ARN"},
      {"containerRecipeArn",
       "arn:aws:imagebuilder:local:123456789012:container-recipe/c/1.0.0",
       ErrorCode::kInvalidArgument,
       "containerRecipeArn"},
      {"infrastructureConfigurationArn",
       "arn:aws:imagebuilder:local:123456789012:infrastructure-configuration/nope",
       ErrorCode::kNotFound,
       "infrastructure-configuration/nope"},
      {"infrastructureConfigurationArn",
       nullptr,
       ErrorCode::kInvalidArgument,
       "infrastructureConfigurationArn: required"},
      {"distributionConfigurationArn",
       "arn:aws:imagebuilder:local:123456789012:distribution-configuration/nope",
       ErrorCode::kNotFound,
       "distribution-configuration/nope"},
      {"schedule",
       {{"scheduleExpression", "cron(0 3 * * *)"}},
       ErrorCode::kInvalidArgument,
       "schedule.scheduleExpression"},
      {"schedule",
       {{"scheduleExpression", "every day"}},
       ErrorCode::kInvalidArgument,
       "schedule.scheduleExpression"},
      {"schedule",
       {{"scheduleExpression", "rate(1 day)"}, {"timezone", "Mars/Olympus_Mons"}},
       ErrorCode::kInvalidArgument,
       "schedule.timezone"},
      {"schedule",
       {{"scheduleExpression", "rate(1 day)"}, {"pipelineExecutionStartCondition", "ALWAYS"}},
       ErrorCode::kInvalidArgument,
       "pipelineExecutionStartCondition"},
      {"schedule",
       {{"scheduleExpression", "rate(1 day)"}, {"autoDisablePolicy", {{"failureCount", 0}}}},
       ErrorCode::kInvalidArgument,
       "failureCount"},
      {"schedule",
       {{"scheduleExpression", "rate(1 day)"}, {"autoDisablePolicy", {{"failureCount", 11}}}},
       ErrorCode::kInvalidArgument,
       "failureCount"},
      {"schedule",
       {{"scheduleExpression", "rate(1 day)"}, {"autoDisablePolicy", Json::object()}},
       ErrorCode::kInvalidArgument,
       "failureCount: required"},
      {"schedule", {{"cron", "x"}}, ErrorCode::kInvalidArgument, "unknown member \"cron\""},
      {"status", "PAUSED", ErrorCode::kInvalidArgument, "invalid status"},
      {"imageTestsConfiguration",
       {{"timeoutMinutes", 30}},
       ErrorCode::kInvalidArgument,
       "imageTestsConfiguration"},
      {"enhancedImageMetadataEnabled", "yes", ErrorCode::kInvalidArgument, "true or false"},
      {"loggingConfiguration",
       {{"logGroupName", "x"}},
       ErrorCode::kInvalidArgument,
       "loggingConfiguration"},
      {"schedulle", "x", ErrorCode::kInvalidArgument, "unknown member \"schedulle\""},
  };
  for (const Case& c : cases) {
    Json request = pipeline_request();
    if (c.value.is_null()) {
      request.erase(c.member);
    } else {
      request[c.member] = c.value;
    }
    Result<Created> created = catalog_->create_image_pipeline(request);
    ASSERT_FALSE(created.ok()) << c.member << " " << c.value.dump();
    EXPECT_EQ(created.error().code, c.code) << c.member << ": " << created.error().message;
    EXPECT_THAT(created.error().message, HasSubstr(c.message)) << c.value.dump();
  }
  Result<std::vector<Json>> listed = catalog_->list_image_pipelines({});
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());

  // The edges that are fine.
  Json request = pipeline_request("edges");
  request["schedule"] = {{"scheduleExpression", "cron(30 22 ? * tue#2 *)"},
                         {"timezone", "Europe/Paris"},
                         {"pipelineExecutionStartCondition", "EXPRESSION_MATCH_ONLY"},
                         {"autoDisablePolicy", {{"failureCount", 10}}}};
  Json got = get(create(request));
  EXPECT_EQ(got["schedule"], request["schedule"]);
  request["name"] = "one";
  request["schedule"]["autoDisablePolicy"]["failureCount"] = 1;
  create(request);
}

TEST_F(PipelineTest, ListsWithAwsFilters) {
  std::string b = create(pipeline_request("bravo"));
  Json request = pipeline_request("alpha");
  request["status"] = "DISABLED";
  std::string a = create(request);
  Result<std::vector<Json>> all = catalog_->list_image_pipelines({});
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0], get(a));  // whole ImagePipeline objects, by name
  EXPECT_EQ((*all)[1]["arn"], b);

  ListQuery query;
  query.filters = Json::array({{{"name", "status"}, {"values", {"ENABLED"}}}});
  Result<std::vector<Json>> enabled = catalog_->list_image_pipelines(query);
  ASSERT_TRUE(enabled.ok());
  ASSERT_EQ(enabled->size(), 1u);
  EXPECT_EQ((*enabled)[0]["arn"], b);

  query.filters = Json::array({{{"name", "name"}, {"values", {"alpha", "charlie"}}}});
  ASSERT_EQ(catalog_->list_image_pipelines(query)->size(), 1u);

  query.filters = Json::array({{{"name", "owner"}, {"values", {"x"}}}});
  Result<std::vector<Json>> bad = catalog_->list_image_pipelines(query);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);

  query = ListQuery{};
  query.owner = "Amazon";
  EXPECT_TRUE(catalog_->list_image_pipelines(query)->empty());
}

TEST_F(PipelineTest, UpdateReplacesTheConfigurationAndResetsFailures) {
  Json request = pipeline_request();
  request["description"] = "first";
  request["schedule"]["autoDisablePolicy"] = {{"failureCount", 5}};
  std::string pipeline = create(request);
  run(pipeline, true, ImageStatus::kFailed);
  run(pipeline, true, ImageStatus::kFailed);
  ASSERT_TRUE(catalog_->set_pipeline_next_run(pipeline, clock_.time).ok());
  EXPECT_EQ(get(pipeline)["consecutiveFailures"], 2);

  clock_.advance_ms(60000);
  Json update = {{"imagePipelineArn", pipeline},
                 {"imageRecipeArn", request["imageRecipeArn"]},
                 {"infrastructureConfigurationArn", request["infrastructureConfigurationArn"]},
                 {"distributionConfigurationArn", add_distribution("dist")},
                 {"schedule", {{"scheduleExpression", "rate(2 hours)"}}},
                 {"status", "DISABLED"},
                 {"clientToken", "t"}};
  Result<std::string> updated = catalog_->update_image_pipeline(update);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_EQ(*updated, pipeline);
  Json got = get(pipeline);
  EXPECT_EQ(got["name"], "nightly");
  EXPECT_FALSE(got.contains("description"));  // not a selective update, as AWS's
  EXPECT_EQ(got["schedule"]["scheduleExpression"], "rate(2 hours)");
  EXPECT_FALSE(got["schedule"].contains("autoDisablePolicy"));
  EXPECT_EQ(got["status"], "DISABLED");
  EXPECT_EQ(got["distributionConfigurationArn"], update["distributionConfigurationArn"]);
  EXPECT_EQ(got["dateCreated"], "2020-01-27T20:43:30.306Z");
  EXPECT_EQ(got["dateUpdated"], "2020-01-27T20:44:30.306Z");
  EXPECT_EQ(got["consecutiveFailures"], 0);
  EXPECT_EQ(got["lastRunStatus"], "FAILED");
  EXPECT_FALSE(got.contains("dateNextRun"));

  // Errors: no recipe, members that cannot change, bad values, unknown pipeline.
  Json without_recipe = update;
  without_recipe.erase("imageRecipeArn");
  Result<std::string> error = catalog_->update_image_pipeline(without_recipe);
  ASSERT_FALSE(error.ok());
  EXPECT_THAT(error.error().message, HasSubstr("imageRecipeArn"));
  Json without_infrastructure = update;
  without_infrastructure.erase("infrastructureConfigurationArn");
  EXPECT_EQ(code_of(catalog_->update_image_pipeline(without_infrastructure)),
            name_of(ErrorCode::kInvalidArgument));
  Json renamed = update;
  renamed["name"] = "other";
  error = catalog_->update_image_pipeline(renamed);
  ASSERT_FALSE(error.ok());
  EXPECT_THAT(error.error().message, HasSubstr("\"name\" cannot be updated"));
  Json bad_cron = update;
  bad_cron["schedule"]["scheduleExpression"] = "cron(61 * * * ? *)";
  EXPECT_EQ(code_of(catalog_->update_image_pipeline(bad_cron)),
            name_of(ErrorCode::kInvalidArgument));
  EXPECT_EQ(get(pipeline), got);  // a refused update changes nothing
  Json unknown = update;
  unknown["imagePipelineArn"] = arn("image-pipeline/nope");
  EXPECT_EQ(code_of(catalog_->update_image_pipeline(unknown)), name_of(ErrorCode::kNotFound));
}

TEST_F(PipelineTest, BuildsImagesWithTheirSource) {
  Json request = pipeline_request();
  request["imageTestsConfiguration"] = {{"imageTestsEnabled", false}};
  request["imageTags"] = {{"from", "pipeline"}};
  request["tags"] = {{"pipeline-only", "yes"}};
  request["loggingConfiguration"] = {{"imageLogGroupName", "/kiln/images"}};
  std::string pipeline = create(request);
  // A build outside the pipeline takes a number too.
  ASSERT_TRUE(catalog_->create_image(image_request()).ok());

  std::string first = build(pipeline, true);
  std::string second = build(pipeline, false);
  Json builder = {{"builder", {{"pid", 4242}, {"startTime", 77}}}};
  Result<Created> third = catalog_->create_pipeline_image(pipeline, true, 7, builder);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(catalog_->get_image(third->arn).value()["kiln"], builder);
  EXPECT_EQ(first, arn("image/web/1.0.0/2"));
  EXPECT_EQ(second, arn("image/web/1.0.0/3"));
  EXPECT_EQ(third->arn, arn("image/web/1.0.0/7"));

  Json image = catalog_->get_image(first).value();
  EXPECT_EQ(image["sourcePipelineArn"], pipeline);
  EXPECT_EQ(image["sourcePipelineName"], "nightly");
  EXPECT_EQ(image["buildType"], "SCHEDULED");
  EXPECT_EQ(image["state"]["status"], "PENDING");
  EXPECT_EQ(image["imageTestsConfiguration"], Json({{"imageTestsEnabled", false}}));
  EXPECT_EQ(image["tags"], Json({{"from", "pipeline"}}));
  EXPECT_EQ(image["loggingConfiguration"], Json({{"logGroupName", "/kiln/images"}}));
  EXPECT_EQ(image["imageRecipe"]["arn"], request["imageRecipeArn"]);
  std::vector<std::string> members;
  for (const auto& [key, value] : image.items()) {
    members.push_back(key);
  }
  auto at = [&](const char* member) {
    return std::find(members.begin(), members.end(), member) - members.begin();
  };
  EXPECT_LT(at("imageRecipe"), at("sourcePipelineName"));
  EXPECT_LT(at("sourcePipelineArn"), at("infrastructureConfiguration"));
  EXPECT_EQ(catalog_->get_image(second).value()["buildType"], "USER_INITIATED");

  Result<Created> unknown = catalog_->create_pipeline_image(arn("image-pipeline/nope"), false);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST_F(PipelineTest, ListsThePipelinesImagesNewestFirst) {
  std::string pipeline = create(pipeline_request());
  std::string other = create(pipeline_request("other"));
  std::vector<std::string> built;
  for (int i = 0; i < 3; ++i) {
    built.push_back(build(pipeline, i % 2 == 0));
    clock_.advance_ms(1000);
    build(other, false);
  }
  ASSERT_TRUE(catalog_->create_image(image_request()).ok());
  Result<std::vector<Json>> images = catalog_->list_image_pipeline_images(pipeline);
  ASSERT_TRUE(images.ok()) << images.error().message;
  ASSERT_EQ(images->size(), 3u);
  EXPECT_EQ((*images)[0]["arn"], built[2]);
  EXPECT_EQ((*images)[1]["arn"], built[1]);
  EXPECT_EQ((*images)[2]["arn"], built[0]);
  EXPECT_EQ((*images)[0]["owner"], "123456789012");
  EXPECT_EQ((*images)[0]["buildType"], "SCHEDULED");
  EXPECT_FALSE((*images)[0].contains("imageRecipe"));  // summaries

  ListQuery query;
  query.filters = Json::array({{{"name", "version"}, {"values", {"2.0.0"}}}});
  EXPECT_TRUE(catalog_->list_image_pipeline_images(pipeline, query)->empty());
  query.filters = Json::array({{{"name", "status"}, {"values", {"x"}}}});
  EXPECT_EQ(code_of(catalog_->list_image_pipeline_images(pipeline, query)),
            name_of(ErrorCode::kInvalidArgument));
  EXPECT_EQ(code_of(catalog_->list_image_pipeline_images(arn("image-pipeline/nope"))),
            name_of(ErrorCode::kNotFound));
}

TEST_F(PipelineTest, ConsecutiveFailuresFollowAwsRuleAndAutoDisable) {
  Json request = pipeline_request();
  request["schedule"]["autoDisablePolicy"] = {{"failureCount", 3}};
  std::string pipeline = create(request);
  ASSERT_TRUE(catalog_->set_pipeline_next_run(pipeline, clock_.time).ok());

  Json after = run(pipeline, true, ImageStatus::kFailed);  // scheduled failure: 1
  EXPECT_EQ(after["consecutiveFailures"], 1);
  EXPECT_EQ(after["lastRunStatus"], "FAILED");
  after = run(pipeline, true, ImageStatus::kFailed);  // 2
  EXPECT_EQ(after["consecutiveFailures"], 2);
  after = run(pipeline, false, ImageStatus::kFailed);  // a manual failure leaves it
  EXPECT_EQ(after["consecutiveFailures"], 2);
  EXPECT_EQ(after["status"], "ENABLED");
  after = run(pipeline, true, ImageStatus::kCancelled);  // a cancel is no failure
  EXPECT_EQ(after["consecutiveFailures"], 2);
  EXPECT_EQ(after["lastRunStatus"], "CANCELLED");
  after = run(pipeline, false, ImageStatus::kAvailable);  // a manual success resets it
  EXPECT_EQ(after["consecutiveFailures"], 0);
  EXPECT_EQ(after["lastRunStatus"], "AVAILABLE");

  run(pipeline, true, ImageStatus::kFailed);
  after = run(pipeline, true, ImageStatus::kFailed);
  EXPECT_EQ(after["consecutiveFailures"], 2);
  EXPECT_EQ(after["status"], "ENABLED");
  EXPECT_TRUE(after.contains("dateNextRun"));
  after = run(pipeline, true, ImageStatus::kFailed);  // reaches failureCount 3: disabled
  EXPECT_EQ(after["consecutiveFailures"], 3);
  EXPECT_EQ(after["status"], "DISABLED");
  EXPECT_FALSE(after.contains("dateNextRun"));

  // Without a policy the count just grows.
  std::string plain = create(pipeline_request("plain"));
  for (int i = 0; i < 11; ++i) {
    after = run(plain, true, ImageStatus::kFailed);
  }
  EXPECT_EQ(after["consecutiveFailures"], 11);
  EXPECT_EQ(after["status"], "ENABLED");
  after = run(plain, true, ImageStatus::kAvailable);  // a scheduled success resets it
  EXPECT_EQ(after["consecutiveFailures"], 0);

  Result<Json> building = catalog_->record_pipeline_result(plain, ImageStatus::kBuilding, true);
  ASSERT_FALSE(building.ok());
  EXPECT_EQ(building.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(PipelineTest, FailureCountOneDisablesAtTheFirstScheduledFailure) {
  Json request = pipeline_request();
  request["schedule"]["autoDisablePolicy"] = {{"failureCount", 1}};
  std::string pipeline = create(request);
  EXPECT_EQ(run(pipeline, false, ImageStatus::kFailed)["status"], "ENABLED");
  EXPECT_EQ(run(pipeline, true, ImageStatus::kFailed)["status"], "DISABLED");
}

TEST_F(PipelineTest, NextRunAndLastFiredAreStored) {
  std::string pipeline = create(pipeline_request());
  SystemTime next = clock_.time + std::chrono::hours(2);
  ASSERT_TRUE(catalog_->set_pipeline_next_run(pipeline, next, clock_.time).ok());
  Json got = get(pipeline);
  EXPECT_EQ(got["dateNextRun"], "2020-01-27T22:43:30.306Z");
  EXPECT_EQ(got["dateLastFired"], "2020-01-27T20:43:30.306Z");
  EXPECT_FALSE(got.contains("dateLastRun"));
  std::vector<std::string> members;
  for (const auto& [key, value] : got.items()) {
    members.push_back(key);
  }
  EXPECT_EQ(members.back(), "dateLastFired");  // kiln's own member last

  // No next run; the last firing stays when not given.
  ASSERT_TRUE(catalog_->set_pipeline_next_run(pipeline, std::nullopt).ok());
  got = get(pipeline);
  EXPECT_FALSE(got.contains("dateNextRun"));
  EXPECT_EQ(got["dateLastFired"], "2020-01-27T20:43:30.306Z");
  EXPECT_EQ(code_of(catalog_->set_pipeline_next_run(arn("image-pipeline/nope"), next)),
            name_of(ErrorCode::kNotFound));
}

TEST_F(PipelineTest, DeleteWaitsForTheBuildsAndDependenciesWaitForThePipeline) {
  Json request = pipeline_request();
  request["distributionConfigurationArn"] = add_distribution("dist");
  std::string pipeline = create(request);
  std::string image = build(pipeline, false);
  ASSERT_TRUE(catalog_->set_image_status(image, ImageStatus::kBuilding).ok());
  Status refused = catalog_->delete_image_pipeline(pipeline);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_THAT(refused.error().message, HasSubstr("Resource dependency error"));
  EXPECT_THAT(refused.error().message, HasSubstr(image));

  // While the pipeline exists, what it names cannot be deleted.
  finish(image, ImageStatus::kFailed);
  for (const Status& status :
       {catalog_->delete_image_recipe(request["imageRecipeArn"].get<std::string>()),
        catalog_->delete_infrastructure_configuration(
            request["infrastructureConfigurationArn"].get<std::string>()),
        catalog_->delete_distribution_configuration(
            request["distributionConfigurationArn"].get<std::string>())}) {
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, ErrorCode::kConflict);
    EXPECT_THAT(status.error().message, HasSubstr(pipeline));
  }

  Status deleted = catalog_->delete_image_pipeline(pipeline);
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  EXPECT_EQ(code_of(catalog_->get_image_pipeline(pipeline)), name_of(ErrorCode::kNotFound));
  EXPECT_EQ(code_of(catalog_->delete_image_pipeline(pipeline)), name_of(ErrorCode::kNotFound));
  EXPECT_TRUE(catalog_->get_image(image).ok());  // images outlive their pipeline
  EXPECT_TRUE(catalog_
                  ->delete_distribution_configuration(
                      request["distributionConfigurationArn"].get<std::string>())
                  .ok());
  EXPECT_EQ(code_of(catalog_->get_image_pipeline(arn("image-pipeline/nope/1.0.0"))),
            name_of(ErrorCode::kInvalidArgument));
  EXPECT_EQ(code_of(catalog_->get_image_pipeline(arn("image-recipe/web/1.0.0"))),
            name_of(ErrorCode::kInvalidArgument));
}

TEST_F(PipelineTest, ClientTokensReturnTheFirstResponse) {
  Json request = pipeline_request();
  Json response = {{"imagePipelineArn", arn("image-pipeline/nightly")}, {"clientToken", "t1"}};
  Result<std::optional<Json>> none =
      catalog_->idempotent_response("CreateImagePipeline", "t1", request);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(
      catalog_->record_idempotent_response("CreateImagePipeline", "t1", request, response).ok());

  // The same request, members in another order and another clientToken member value.
  Json same;
  std::vector<std::pair<std::string, Json>> items;
  for (const auto& [key, value] : request.items()) {
    items.emplace_back(key, value);
  }
  for (auto it = items.rbegin(); it != items.rend(); ++it) {
    same[it->first] = it->second;
  }
  same["clientToken"] = "t1";
  Result<std::optional<Json>> stored =
      catalog_->idempotent_response("CreateImagePipeline", "t1", same);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ(**stored, response);

  Json different = request;
  different["description"] = "changed";
  Result<std::optional<Json>> mismatch =
      catalog_->idempotent_response("CreateImagePipeline", "t1", different);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, ErrorCode::kConflict);
  EXPECT_THAT(mismatch.error().message, HasSubstr("IdempotentParameterMismatch"));
  EXPECT_EQ(
      code_of(catalog_->record_idempotent_response("CreateImagePipeline", "t1", different, {})),
      name_of(ErrorCode::kConflict));

  // Another operation, the same token: independent.
  Result<std::optional<Json>> other = catalog_->idempotent_response("CreateImage", "t1", different);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
  ASSERT_TRUE(
      catalog_->record_idempotent_response("CreateImage", "t1", different, {{"x", 1}}).ok());
  EXPECT_EQ(catalog_->idempotent_response("CreateImage", "t1", different)->value(),
            Json({{"x", 1}}));
  EXPECT_EQ(catalog_->idempotent_response("CreateImagePipeline", "t1", request)->value(), response);

  // Other processes see it; after 8 hours the token is forgotten.
  std::unique_ptr<Catalog> second = open_catalog();
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->idempotent_response("CreateImagePipeline", "t1", request)->value(), response);
  clock_.advance_ms(8 * 3600 * 1000 + 1);
  Result<std::optional<Json>> expired =
      catalog_->idempotent_response("CreateImagePipeline", "t1", different);
  ASSERT_TRUE(expired.ok());
  EXPECT_FALSE(expired->has_value());
  ASSERT_TRUE(
      catalog_->record_idempotent_response("CreateImagePipeline", "t1", different, {{"y", 2}})
          .ok());
  EXPECT_EQ(catalog_->idempotent_response("CreateImagePipeline", "t1", different)->value(),
            Json({{"y", 2}}));

  EXPECT_EQ(code_of(catalog_->idempotent_response("CreateImage", "", request)),
            name_of(ErrorCode::kInvalidArgument));
  EXPECT_EQ(code_of(catalog_->idempotent_response("CreateImage", std::string(65, 'a'), request)),
            name_of(ErrorCode::kInvalidArgument));
}

TEST_F(PipelineTest, CreateRequestMembersAreAwsOrder) {
  const std::vector<std::string_view>& members =
      create_request_members(catalog::ResourceType::kImagePipeline);
  EXPECT_EQ(members.front(), "name");
  EXPECT_EQ(members.size(), 16u);
  EXPECT_EQ(std::find(members.begin(), members.end(), "clientToken"), members.end());
  EXPECT_NE(std::find(members.begin(), members.end(), "schedule"), members.end());
  EXPECT_NE(std::find(members.begin(), members.end(), "imageTags"), members.end());
}

// A schema-1 file (what kiln wrote before pipelines) opens as schema 2 with its data.
TEST_F(PipelineTest, MigratesASchemaOneFile) {
  catalog_.reset();
  // A file migrated to schema 1 only, with rows written the way kiln 1 wrote them.
  std::filesystem::path file = dir_->path() / "v1.db";
  {
    Result<Database> db = Database::open(file);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(migrate(*db, 1).ok());
    ASSERT_TRUE(db->exec("INSERT INTO infrastructure_configurations (arn, owner, name, document) "
                         "VALUES ('arn:aws:imagebuilder:local:123456789012:infrastructure-"
                         "configuration/small', '123456789012', 'small', '{\"arn\": "
                         "\"arn:aws:imagebuilder:local:123456789012:infrastructure-configuration/"
                         "small\", \"name\": \"small\"}')")
                    .ok());
    ASSERT_TRUE(db->exec("INSERT INTO images (arn, owner, name, major, minor, patch, build, "
                         "status, recipe_arn, infrastructure_arn, date_created, document) VALUES "
                         "('arn:aws:imagebuilder:local:123456789012:image/web/1.0.0/1', "
                         "'123456789012', 'web', 1, 0, 0, 1, 'AVAILABLE', 'r', 'i', "
                         "'2020-01-01T00:00:00.000Z', '{\"arn\": "
                         "\"arn:aws:imagebuilder:local:123456789012:image/web/1.0.0/1\", "
                         "\"name\": \"web\", \"version\": \"1.0.0\", \"state\": {\"status\": "
                         "\"AVAILABLE\"}}')")
                    .ok());
    Result<Statement> columns = db->prepare("SELECT name FROM pragma_table_info('images')");
    ASSERT_TRUE(columns.ok());
    while (columns->step().value_or(false)) {
      EXPECT_NE(columns->column_text(0), "source_pipeline_arn");
    }
  }
  Result<std::unique_ptr<Catalog>> opened = Catalog::open(file, account_, clock_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ((*opened)->schema_version(), 2);
  Result<Json> kept = (*opened)->get_image(arn("image/web/1.0.0/1"));
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_EQ((*kept)["state"]["status"], "AVAILABLE");
  EXPECT_TRUE(
      (*opened)->get_infrastructure_configuration(arn("infrastructure-configuration/small")).ok());
  Result<std::vector<Json>> pipelines = (*opened)->list_image_pipelines({});
  ASSERT_TRUE(pipelines.ok()) << pipelines.error().message;
  EXPECT_TRUE(pipelines->empty());
  Result<std::optional<Json>> token =
      (*opened)->idempotent_response("CreateImage", "t", Json::object());
  ASSERT_TRUE(token.ok()) << token.error().message;
  {
    Result<Database> db = Database::open(file);
    ASSERT_TRUE(db.ok());
    EXPECT_EQ(db->user_version().value_or(-1), 2);
    Result<Statement> tables =
        db->prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')");
    ASSERT_TRUE(tables.ok());
    std::set<std::string> names;
    while (tables->step().value_or(false)) {
      names.insert(tables->column_text(0));
    }
    for (const char* name : {"image_pipelines", "client_tokens", "images_by_pipeline"}) {
      EXPECT_TRUE(names.count(name)) << name;
    }
  }
}

}  // namespace
}  // namespace kiln::state
