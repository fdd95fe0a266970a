// Image pipelines (reference 3.7, docs/pipelines.md): CreateImagePipeline, UpdateImagePipeline
// (a full replacement, as AWS's), their builds, and the run bookkeeping of the scheduler.

#include <algorithm>
#include <array>

#include "kiln/base/strings.hpp"
#include "kiln/schedule/schedule.hpp"
#include "kiln/state/catalog_impl.hpp"
#include "kiln/state/request.hpp"

namespace kiln::state {
namespace {

using catalog::ImageBuilderArn;
using catalog::ResourceType;

constexpr std::string_view kTable = "image_pipelines";
constexpr std::string_view kDefaultStartCondition =
    "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE";

// AWS's member order of ImagePipeline, then kiln's own (dateLastFired).
constexpr std::array<const char*, 25> kPipelineMembers = {
    "arn",
    "name",
    "description",
    "platform",
    "enhancedImageMetadataEnabled",
    "imageRecipeArn",
    "containerRecipeArn",
    "infrastructureConfigurationArn",
    "distributionConfigurationArn",
    "imageTestsConfiguration",
    "schedule",
    "status",
    "dateCreated",
    "dateUpdated",
    "dateLastRun",
    "lastRunStatus",
    "dateNextRun",
    "tags",
    "imageScanningConfiguration",
    "imageTags",
    "executionRole",
    "workflows",
    "loggingConfiguration",
    "consecutiveFailures",
    "dateLastFired",
};

// The members of a pipeline that come from its Create/Update request (what makes two pipelines
// the same, and what an update replaces).
constexpr std::array<const char*, 17> kRequestMembers = {
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
    "tags",
    "imageScanningConfiguration",
    "imageTags",
    "executionRole",
    "workflows",
    "loggingConfiguration",
    "containerRecipeArn",
};

// UpdateImagePipeline's members besides imagePipelineArn and clientToken (no name, no tags).
constexpr std::array<std::string_view, 14> kUpdateMembers = {
    "description",
    "imageRecipeArn",
    "containerRecipeArn",
    "infrastructureConfigurationArn",
    "distributionConfigurationArn",
    "imageTestsConfiguration",
    "enhancedImageMetadataEnabled",
    "schedule",
    "status",
    "imageScanningConfiguration",
    "workflows",
    "loggingConfiguration",
    "executionRole",
    "imageTags",
};

Json ordered(const Json& pipeline) {
  Json out;
  for (const char* member : kPipelineMembers) {
    request::copy_member(out, pipeline, member);
  }
  return out;
}

Json request_part(const Json& pipeline) {
  Json out;
  for (const char* member : kRequestMembers) {
    request::copy_member(out, pipeline, member);
  }
  return out;
}

Status check_schedule(const Json& request) {
  KILN_TRY(request::optional_object(request, "schedule"));
  if (!request.contains("schedule")) {
    return ok_status();
  }
  const Json& schedule = request["schedule"];
  std::string context = "invalid schedule";
  KILN_TRY_CTX(request::check_members(schedule,
                                      "schedule",
                                      {"scheduleExpression",
                                       "timezone",
                                       "pipelineExecutionStartCondition",
                                       "autoDisablePolicy"}),
               context);
  std::optional<std::string> expression =
      KILN_TRY_CTX(request::optional_string(schedule, "scheduleExpression", 1, 1024), context);
  if (expression) {
    KILN_TRY_CTX(schedule::Schedule::parse(*expression), "invalid schedule.scheduleExpression");
  }
  std::optional<std::string> timezone =
      KILN_TRY_CTX(request::optional_string(schedule, "timezone", 3, 100), context);
  if (timezone) {
    KILN_TRY_CTX(schedule::check_timezone(*timezone), "invalid schedule.timezone");
  }
  std::optional<std::string> condition = KILN_TRY_CTX(
      request::optional_string(schedule, "pipelineExecutionStartCondition", 1, 64), context);
  if (condition && *condition != "EXPRESSION_MATCH_ONLY" && *condition != kDefaultStartCondition) {
    return request::invalid(
        "schedule.pipelineExecutionStartCondition",
        fmt::format(
            "\"{}\" is not EXPRESSION_MATCH_ONLY or {}", *condition, kDefaultStartCondition));
  }
  KILN_TRY_CTX(request::optional_object(schedule, "autoDisablePolicy"), context);
  if (schedule.contains("autoDisablePolicy")) {
    const Json& policy = schedule["autoDisablePolicy"];
    std::string where = "invalid schedule.autoDisablePolicy";
    KILN_TRY_CTX(request::check_members(policy, "autoDisablePolicy", {"failureCount"}), where);
    if (!policy.contains("failureCount")) {
      return request::invalid("schedule.autoDisablePolicy.failureCount", "required");
    }
    KILN_TRY_CTX(request::optional_integer(policy, "failureCount", 1, 10), where);
  }
  return ok_status();
}

// The schedule as stored: timezone (with an expression) and the start condition defaulted.
Json stored_schedule(const Json& request) {
  Json schedule;
  const Json& given = request["schedule"];
  request::copy_member(schedule, given, "scheduleExpression");
  if (given.contains("scheduleExpression")) {
    schedule["timezone"] = given.value("timezone", "UTC");
  } else {
    request::copy_member(schedule, given, "timezone");
  }
  schedule["pipelineExecutionStartCondition"] =
      given.value("pipelineExecutionStartCondition", std::string(kDefaultStartCondition));
  request::copy_member(schedule, given, "autoDisablePolicy");
  return schedule;
}

// Checks a CreateImagePipeline request (or an update made into one) and resolves what it names:
// the stored members that come from the request, with their defaults.
Result<Json> pipeline_content(const Catalog& catalog, const Json& request) {
  KILN_TRY(
      request::check_create_members(request, "CreateImagePipeline", ResourceType::kImagePipeline));
  std::string name = KILN_TRY(request::required_string(request, "name", 1, 128));
  KILN_TRY_CTX(catalog::validate_name(name), "invalid name");
  KILN_TRY(request::optional_string(request, "description", 1, 1024));
  if (request.contains("containerRecipeArn")) {
    return request::invalid("containerRecipeArn", "kiln builds no container images");
  }
  std::string recipe_arn =
      KILN_TRY_CTX(request::required_string(request, "imageRecipeArn", 1, 2048),
                   "an image pipeline builds one image recipe");
  ImageBuilderArn recipe_ref =
      KILN_TRY_CTX(ImageBuilderArn::parse(recipe_arn), "invalid imageRecipeArn");
  if (recipe_ref.type != ResourceType::kImageRecipe || !recipe_ref.version || recipe_ref.build) {
    return request::invalid(
        "imageRecipeArn",
        fmt::format("\"{}\": expected an image recipe version ARN (…:image-recipe/<name>/<x.y.z>, "
                    "x wildcards allowed)",
                    recipe_arn));
  }
  Json recipe = KILN_TRY_CTX(catalog.get_image_recipe(recipe_arn), "invalid imageRecipeArn");
  std::string infrastructure_arn =
      KILN_TRY(request::required_string(request, "infrastructureConfigurationArn", 1, 2048));
  KILN_TRY_CTX(catalog.get_infrastructure_configuration(infrastructure_arn),
               "invalid infrastructureConfigurationArn");
  std::optional<std::string> distribution_arn =
      KILN_TRY(request::optional_string(request, "distributionConfigurationArn", 1, 2048));
  if (distribution_arn) {
    KILN_TRY_CTX(catalog.get_distribution_configuration(*distribution_arn),
                 "invalid distributionConfigurationArn");
  }
  KILN_TRY(check_tests_configuration(request));
  KILN_TRY(request::optional_bool(request, "enhancedImageMetadataEnabled"));
  KILN_TRY(check_schedule(request));
  std::optional<std::string> status = KILN_TRY(request::optional_string(request, "status", 1, 16));
  if (status && *status != "ENABLED" && *status != "DISABLED") {
    return request::invalid("status", fmt::format("\"{}\" is not ENABLED or DISABLED", *status));
  }
  KILN_TRY(request::optional_tags(request, "tags"));
  KILN_TRY(request::optional_tags(request, "imageTags"));
  KILN_TRY(request::optional_object(request, "imageScanningConfiguration"));
  KILN_TRY(request::optional_array(request, "workflows"));
  KILN_TRY(request::optional_string(request, "executionRole", 1, 2048));
  KILN_TRY(request::optional_object(request, "loggingConfiguration"));
  if (request.contains("loggingConfiguration")) {
    const Json& logging = request["loggingConfiguration"];
    std::string context = "invalid loggingConfiguration";
    KILN_TRY_CTX(
        request::check_members(
            logging, "loggingConfiguration", {"imageLogGroupName", "pipelineLogGroupName"}),
        context);
    KILN_TRY_CTX(request::optional_string(logging, "imageLogGroupName", 1, 512), context);
    KILN_TRY_CTX(request::optional_string(logging, "pipelineLogGroupName", 1, 512), context);
  }

  Json content;
  content["name"] = name;
  request::copy_member(content, request, "description");
  content["platform"] = recipe.value("platform", "Linux");
  content["enhancedImageMetadataEnabled"] = request.value("enhancedImageMetadataEnabled", true);
  content["imageRecipeArn"] = recipe_arn;
  content["infrastructureConfigurationArn"] = infrastructure_arn;
  request::copy_member(content, request, "distributionConfigurationArn");
  content["imageTestsConfiguration"] = tests_configuration(request);
  if (request.contains("schedule")) {
    content["schedule"] = stored_schedule(request);
  }
  content["status"] = status.value_or("ENABLED");
  content["tags"] = request.value("tags", Json::object());
  for (const char* member : {"imageScanningConfiguration",
                             "imageTags",
                             "executionRole",
                             "workflows",
                             "loggingConfiguration"}) {
    request::copy_member(content, request, member);
  }
  return content;
}

// Writes the pipeline's row (new or not) from its document.
Status store_pipeline(Database& db, const std::string& owner, const Json& pipeline) {
  Statement upsert = KILN_TRY(db.prepare(
      "INSERT INTO image_pipelines (arn, owner, name, status, recipe_arn, infrastructure_arn, "
      "distribution_arn, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (arn) DO UPDATE "
      "SET status = excluded.status, recipe_arn = excluded.recipe_arn, infrastructure_arn = "
      "excluded.infrastructure_arn, distribution_arn = excluded.distribution_arn, document = "
      "excluded.document"));
  upsert.bind_all(pipeline.value("arn", ""),
                  owner,
                  catalog::arn_name(pipeline.value("name", "")),
                  pipeline.value("status", ""),
                  pipeline.value("imageRecipeArn", ""),
                  pipeline.value("infrastructureConfigurationArn", ""));
  if (pipeline.contains("distributionConfigurationArn")) {
    upsert.bind(7, pipeline.value("distributionConfigurationArn", ""));
  } else {
    upsert.bind_null(7);
  }
  upsert.bind(8, pipeline.dump());
  return upsert.run();
}

// How a build ended, for record_pipeline_result.
bool is_run_result(ImageStatus status) {
  return status == ImageStatus::kAvailable || status == ImageStatus::kFailed ||
         status == ImageStatus::kCancelled;
}

}  // namespace

Result<std::string> Catalog::Impl::pipeline_arn(std::string_view text) const {
  ImageBuilderArn arn = KILN_TRY(parse_arn(text, ResourceType::kImagePipeline));
  KILN_TRY(owner_of(arn, /*managed=*/false));
  if (arn.version) {
    return request::invalid("imagePipelineArn",
                            fmt::format("\"{}\": an image pipeline has no version", text));
  }
  return arn.str();
}

Result<Json> Catalog::Impl::load_pipeline(const std::string& arn) const {
  Result<Json> pipeline = find_by_arn(kTable, arn);
  if (!pipeline.ok() && pipeline.error().code == ErrorCode::kNotFound) {
    return make_error(ErrorCode::kNotFound, "{}: no such image pipeline", arn);
  }
  return pipeline;
}

Status Catalog::Impl::check_no_pipeline(std::string_view column,
                                        const std::string& arn,
                                        std::string_view what) const {
  Statement stmt = KILN_TRY(
      db.prepare(fmt::format("SELECT arn FROM image_pipelines WHERE {} = ? ORDER BY arn", column)));
  stmt.bind_all(arn);
  std::vector<std::string> pipelines;
  while (KILN_TRY(stmt.step())) {
    pipelines.push_back(stmt.column_text(0));
  }
  if (pipelines.empty()) {
    return ok_status();
  }
  return make_error(ErrorCode::kConflict,
                    "Resource dependency error: cannot delete {} {}: it is used by image "
                    "pipeline {}",
                    what,
                    arn,
                    join(pipelines, ", "));
}

Result<Created> Catalog::create_image_pipeline(const Json& request) {
  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  Json content = KILN_TRY(pipeline_content(*this, request));
  std::string name = content["name"].get<std::string>();
  std::string arn = impl_->make_arn(ResourceType::kImagePipeline, name).str();
  Result<Json> existing = impl_->find_by_arn(kTable, arn);
  if (existing.ok()) {
    if (request_part(*existing) == request_part(content)) {
      return Created{arn, false};
    }
    return make_error(
        ErrorCode::kAlreadyExists, "image pipeline {} already exists with other content", arn);
  }
  if (existing.error().code != ErrorCode::kNotFound) {
    return std::move(existing).error();
  }
  Json pipeline = content;
  pipeline["arn"] = arn;
  pipeline["dateCreated"] = impl_->now();
  pipeline["consecutiveFailures"] = 0;
  KILN_TRY(store_pipeline(impl_->db, impl_->account.account_id, ordered(pipeline)));
  KILN_TRY(txn.commit());
  return Created{arn, true};
}

Result<std::string> Catalog::update_image_pipeline(const Json& request) {
  if (!request.is_object()) {
    return request::invalid("request", "expected a JSON object");
  }
  for (const auto& [key, value] : request.items()) {
    if (key != "imagePipelineArn" && key != "clientToken" &&
        std::find(kUpdateMembers.begin(), kUpdateMembers.end(), key) == kUpdateMembers.end()) {
      return make_error(
          ErrorCode::kInvalidArgument, "UpdateImagePipeline: member \"{}\" cannot be updated", key);
    }
  }
  std::string text = KILN_TRY(request::required_string(request, "imagePipelineArn", 1, 2048));
  std::string arn = KILN_TRY(impl_->pipeline_arn(text));
  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  Json stored = KILN_TRY(impl_->load_pipeline(arn));
  // Not a selective update (AWS: "You must specify all of the required properties"): the
  // request is the new configuration; only the name and tags are kept.
  Json replacement = {{"name", stored["name"]}, {"tags", stored["tags"]}};
  for (std::string_view member : kUpdateMembers) {
    request::copy_member(replacement, request, member);
  }
  Json content = KILN_TRY(pipeline_content(*this, replacement));
  Json pipeline = content;
  pipeline["arn"] = arn;
  for (const char* member : {"dateCreated", "lastRunStatus", "dateLastFired"}) {
    request::copy_member(pipeline, stored, member);
  }
  pipeline["dateUpdated"] = impl_->now();
  pipeline["consecutiveFailures"] = 0;  // dateNextRun is the scheduler's to compute again
  KILN_TRY(store_pipeline(impl_->db, impl_->account.account_id, ordered(pipeline)));
  KILN_TRY(txn.commit());
  return arn;
}

Result<Json> Catalog::get_image_pipeline(std::string_view text) const {
  std::string arn = KILN_TRY(impl_->pipeline_arn(text));
  return impl_->load_pipeline(arn);
}

Result<std::vector<Json>> Catalog::list_image_pipelines(const ListQuery& query) const {
  std::vector<request::Filter> filters =
      KILN_TRY(request::parse_filters(query.filters,
                                      {"description",
                                       "distributionConfigurationArn",
                                       "imageRecipeArn",
                                       "infrastructureConfigurationArn",
                                       "name",
                                       "status"}));
  std::optional<std::string> owner =
      KILN_TRY(request::query_owner(query, impl_->account.account_id));
  if (!owner) {
    return std::vector<Json>();
  }
  std::vector<Json> pipelines = KILN_TRY(impl_->documents(
      "SELECT arn, document FROM image_pipelines WHERE owner = ? ORDER BY name", *owner));
  std::vector<Json> out;
  for (Json& pipeline : pipelines) {
    if (request::matches(filters, pipeline)) {
      out.push_back(std::move(pipeline));
    }
  }
  return out;
}

Status Catalog::delete_image_pipeline(std::string_view text) {
  std::string arn = KILN_TRY(impl_->pipeline_arn(text));
  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  KILN_TRY(impl_->load_pipeline(arn));
  Statement running = KILN_TRY(impl_->db.prepare(
      "SELECT arn, status FROM images WHERE source_pipeline_arn = ? AND status IN ('PENDING', "
      "'CREATING', 'BUILDING', 'TESTING', 'DISTRIBUTING', 'INTEGRATING') ORDER BY date_created "
      "LIMIT 1"));
  running.bind_all(arn);
  if (KILN_TRY(running.step())) {
    return make_error(ErrorCode::kConflict,
                      "Resource dependency error: cannot delete image pipeline {}: its image {} "
                      "is {}; cancel it or let it finish first",
                      arn,
                      running.column_text(0),
                      running.column_text(1));
  }
  Statement erase = KILN_TRY(impl_->db.prepare("DELETE FROM image_pipelines WHERE arn = ?"));
  erase.bind_all(arn);
  KILN_TRY(erase.run());
  return txn.commit();
}

Result<Created> Catalog::create_pipeline_image(std::string_view pipeline_arn,
                                               bool scheduled,
                                               uint32_t min_build,
                                               const Json& kiln) {
  std::string arn = KILN_TRY(impl_->pipeline_arn(pipeline_arn));
  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  Json pipeline = KILN_TRY(impl_->load_pipeline(arn));
  // The CreateImage request the pipeline stands for.
  Json request;
  for (const char* member : {"imageRecipeArn",
                             "distributionConfigurationArn",
                             "infrastructureConfigurationArn",
                             "imageTestsConfiguration",
                             "enhancedImageMetadataEnabled",
                             "imageScanningConfiguration",
                             "workflows",
                             "executionRole"}) {
    request::copy_member(request, pipeline, member);
  }
  if (pipeline.contains("imageTags")) {
    request["tags"] = pipeline["imageTags"];
  }
  if (const Json& logging = pipeline.value("loggingConfiguration", Json::object());
      logging.contains("imageLogGroupName")) {
    request["loggingConfiguration"] = {{"logGroupName", logging["imageLogGroupName"]}};
  }
  PipelineBuild source{arn, pipeline.value("name", ""), scheduled};
  Created created = KILN_TRY_CTX(impl_->add_image(*this, request, min_build, &source, kiln),
                                 fmt::format("building image pipeline {}", arn));
  KILN_TRY(txn.commit());
  return created;
}

Result<std::vector<Json>> Catalog::list_image_pipeline_images(std::string_view pipeline_arn,
                                                              const ListQuery& query) const {
  std::vector<request::Filter> filters =
      KILN_TRY(request::parse_filters(query.filters, {"name", "version"}));
  std::string arn = KILN_TRY(impl_->pipeline_arn(pipeline_arn));
  KILN_TRY(impl_->load_pipeline(arn));
  Statement stmt = KILN_TRY(impl_->db.prepare(
      "SELECT arn, owner, document FROM images WHERE source_pipeline_arn = ? ORDER BY "
      "date_created DESC, rowid DESC"));
  stmt.bind_all(arn);
  std::vector<Json> out;
  while (KILN_TRY(stmt.step())) {
    Json image = KILN_TRY(parse_stored(stmt.column_text(2), stmt.column_text(0)));
    if (request::matches(filters, image)) {
      out.push_back(image_summary(image, stmt.column_text(1)));
    }
  }
  return out;
}

Result<Json> Catalog::record_pipeline_result(std::string_view pipeline_arn,
                                             ImageStatus status,
                                             bool scheduled) {
  if (!is_run_result(status)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "a pipeline run ends AVAILABLE, FAILED or CANCELLED, not {}",
                      image_status_name(status));
  }
  std::string arn = KILN_TRY(impl_->pipeline_arn(pipeline_arn));
  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  Json pipeline = KILN_TRY(impl_->load_pipeline(arn));
  pipeline["lastRunStatus"] = image_status_name(status);
  int64_t failures = pipeline.value("consecutiveFailures", int64_t{0});
  if (status == ImageStatus::kAvailable) {
    failures = 0;
  } else if (status == ImageStatus::kFailed && scheduled) {
    ++failures;
    const Json& schedule = pipeline.value("schedule", Json::object());
    const Json& policy = schedule.value("autoDisablePolicy", Json::object());
    if (policy.contains("failureCount") && failures >= policy["failureCount"].get<int64_t>()) {
      pipeline["status"] = "DISABLED";
      pipeline.erase("dateNextRun");
    }
  }
  pipeline["consecutiveFailures"] = failures;
  pipeline = ordered(pipeline);
  KILN_TRY(store_pipeline(impl_->db, impl_->account.account_id, pipeline));
  KILN_TRY(txn.commit());
  return pipeline;
}

Status Catalog::set_pipeline_next_run(std::string_view pipeline_arn,
                                      std::optional<SystemTime> next_run,
                                      std::optional<SystemTime> last_fired) {
  std::string arn = KILN_TRY(impl_->pipeline_arn(pipeline_arn));
  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  Json pipeline = KILN_TRY(impl_->load_pipeline(arn));
  if (next_run) {
    pipeline["dateNextRun"] = format_aws_time(*next_run);
  } else {
    pipeline.erase("dateNextRun");
  }
  if (last_fired) {
    pipeline["dateLastFired"] = format_aws_time(*last_fired);
  }
  KILN_TRY(store_pipeline(impl_->db, impl_->account.account_id, ordered(pipeline)));
  return txn.commit();
}

}  // namespace kiln::state
