// Images (reference 3.8): CreateImage with build numbers, statuses and their transitions, lists
// and deletion.

#include "kiln/state/catalog_impl.hpp"
#include "kiln/state/request.hpp"

namespace kiln::state {
namespace {

using catalog::ImageBuilderArn;
using catalog::ResourceType;
using catalog::SemanticVersion;

struct StoredImage {
  Json document;
  ImageStatus status = ImageStatus::kPending;
};

Status check_image_request(const Json& request) {
  KILN_TRY(request::check_create_members(request, "CreateImage", ResourceType::kImage));
  if (request.contains("containerRecipeArn")) {
    return request::invalid("containerRecipeArn", "kiln builds no container images");
  }
  KILN_TRY(check_tests_configuration(request));
  KILN_TRY(request::optional_bool(request, "enhancedImageMetadataEnabled"));
  KILN_TRY(request::optional_object(request, "imageScanningConfiguration"));
  KILN_TRY(request::optional_array(request, "workflows"));
  KILN_TRY(request::optional_string(request, "executionRole", 1, 2048));
  KILN_TRY(request::optional_object(request, "loggingConfiguration"));
  KILN_TRY(request::optional_tags(request, "tags"));
  return ok_status();
}

Result<StoredImage> load_image(Database& db, const std::string& arn) {
  Statement stmt = KILN_TRY(db.prepare("SELECT status, document FROM images WHERE arn = ?"));
  stmt.bind_all(arn);
  if (!KILN_TRY(stmt.step())) {
    return make_error(ErrorCode::kNotFound, "{}: no such image", arn);
  }
  std::optional<ImageStatus> status = parse_image_status(stmt.column_text(0));
  if (!status) {
    return make_error(
        ErrorCode::kCorruption, "{}: unknown stored status \"{}\"", arn, stmt.column_text(0));
  }
  Json document = KILN_TRY(parse_stored(stmt.column_text(1), arn));
  return StoredImage{std::move(document), *status};
}

Status store_image(Database& db, const std::string& arn, const Json& image) {
  Statement update =
      KILN_TRY(db.prepare("UPDATE images SET status = ?, document = ? WHERE arn = ?"));
  update.bind_all(image["state"].value("status", ""), image.dump(), arn);
  return update.run();
}

// ImageVersion (list_images): the version ARN.
Json image_version_summary(const Json& image, const std::string& owner) {
  Json out;
  out["arn"] = image.value("arn", "");
  if (Result<ImageBuilderArn> arn = ImageBuilderArn::parse(image.value("arn", "")); arn.ok()) {
    arn->build.reset();
    out["arn"] = arn->str();
  }
  for (const char* member : {"name", "type", "version", "platform", "osVersion"}) {
    request::copy_member(out, image, member);
  }
  out["owner"] = owner;
  for (const char* member : {"dateCreated", "buildType", "imageSource"}) {
    request::copy_member(out, image, member);
  }
  return out;
}

}  // namespace

Status check_tests_configuration(const Json& request) {
  KILN_TRY(request::optional_object(request, "imageTestsConfiguration"));
  if (request.contains("imageTestsConfiguration")) {
    const Json& tests = request["imageTestsConfiguration"];
    std::string context = "invalid imageTestsConfiguration";
    KILN_TRY_CTX(request::check_members(
                     tests, "imageTestsConfiguration", {"imageTestsEnabled", "timeoutMinutes"}),
                 context);
    KILN_TRY_CTX(request::optional_bool(tests, "imageTestsEnabled"), context);
    KILN_TRY_CTX(request::optional_integer(tests, "timeoutMinutes", 60, 1440), context);
  }
  return ok_status();
}

Json tests_configuration(const Json& request) {
  Json tests = {{"imageTestsEnabled", true}};
  if (request.contains("imageTestsConfiguration")) {
    for (const auto& [key, value] : request["imageTestsConfiguration"].items()) {
      tests[key] = value;
    }
  }
  return tests;
}

Json image_summary(const Json& image, const std::string& owner) {
  Json out;
  for (const char* member : {"arn", "name", "type", "version", "platform", "osVersion", "state"}) {
    request::copy_member(out, image, member);
  }
  out["owner"] = owner;
  for (const char* member :
       {"dateCreated", "outputResources", "tags", "buildType", "imageSource"}) {
    request::copy_member(out, image, member);
  }
  return out;
}

Result<Created> Catalog::create_image(const Json& request, uint32_t min_build, const Json& kiln) {
  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  Created created = KILN_TRY(impl_->add_image(*this, request, min_build, nullptr, kiln));
  KILN_TRY(txn.commit());
  return created;
}

Result<Created> Catalog::Impl::add_image(const Catalog& self,
                                         const Json& request,
                                         uint32_t min_build,
                                         const PipelineBuild* pipeline,
                                         const Json& kiln) {
  KILN_TRY(check_image_request(request));
  std::string recipe_arn = KILN_TRY(request::required_string(request, "imageRecipeArn", 1, 2048));
  std::string infrastructure_arn =
      KILN_TRY(request::required_string(request, "infrastructureConfigurationArn", 1, 2048));
  std::optional<std::string> distribution_arn =
      KILN_TRY(request::optional_string(request, "distributionConfigurationArn", 1, 2048));

  Json recipe = KILN_TRY_CTX(self.get_image_recipe(recipe_arn), "invalid imageRecipeArn");
  Json infrastructure = KILN_TRY_CTX(self.get_infrastructure_configuration(infrastructure_arn),
                                     "invalid infrastructureConfigurationArn");
  std::optional<Json> distribution;
  if (distribution_arn) {
    distribution = KILN_TRY_CTX(self.get_distribution_configuration(*distribution_arn),
                                "invalid distributionConfigurationArn");
  }
  std::string owner = account.account_id;
  std::string name = recipe.value("name", "");
  SemanticVersion version = KILN_TRY(SemanticVersion::parse(recipe.value("version", "")));
  std::string arn_name = catalog::arn_name(name);
  uint32_t build = KILN_TRY(next_build("image", owner, arn_name, version, std::max(min_build, 1u)));
  std::string arn = make_arn(ResourceType::kImage, name, version, build).str();
  std::string date = now();

  Json image;
  image["arn"] = arn;
  image["type"] = "AMI";
  image["name"] = name;
  image["version"] = version.str();
  image["platform"] = "Linux";
  image["enhancedImageMetadataEnabled"] = request.value("enhancedImageMetadataEnabled", true);
  image["state"] = {{"status", image_status_name(ImageStatus::kPending)}};
  image["imageRecipe"] = recipe;
  if (pipeline != nullptr) {
    image["sourcePipelineName"] = pipeline->name;
    image["sourcePipelineArn"] = pipeline->arn;
  }
  image["infrastructureConfiguration"] = infrastructure;
  if (distribution) {
    image["distributionConfiguration"] = *distribution;
  }
  image["imageTestsConfiguration"] = tests_configuration(request);
  image["dateCreated"] = date;
  image["outputResources"] = {{"amis", Json::array()}};
  image["tags"] = request.value("tags", Json::object());
  image["buildType"] = pipeline != nullptr && pipeline->scheduled ? "SCHEDULED" : "USER_INITIATED";
  image["imageSource"] = "CUSTOM";
  for (const char* member :
       {"imageScanningConfiguration", "workflows", "executionRole", "loggingConfiguration"}) {
    request::copy_member(image, request, member);
  }
  if (kiln.is_object() && !kiln.empty()) {
    image["kiln"] = kiln;
  }

  Statement insert = KILN_TRY(db.prepare(
      "INSERT INTO images (arn, owner, name, major, minor, patch, build, status, recipe_arn, "
      "infrastructure_arn, distribution_arn, date_created, document, source_pipeline_arn) VALUES "
      "(?, ?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?, ?, ?, ?)"));
  insert.bind_all(arn,
                  owner,
                  arn_name,
                  version.major,
                  version.minor,
                  version.patch,
                  build,
                  recipe.value("arn", ""),
                  infrastructure.value("arn", ""));
  if (distribution) {
    insert.bind(10, distribution->value("arn", ""));
  } else {
    insert.bind_null(10);
  }
  insert.bind(11, date).bind(12, image.dump());
  if (pipeline != nullptr) {
    insert.bind(13, pipeline->arn);
  } else {
    insert.bind_null(13);
  }
  KILN_TRY(insert.run());
  return Created{arn, true};
}

Result<Json> Catalog::get_image(std::string_view text) const {
  ImageBuilderArn arn = KILN_TRY(impl_->parse_arn(text, ResourceType::kImage));
  std::string owner = KILN_TRY(impl_->owner_of(arn, /*managed=*/false));
  VersionedRow row = KILN_TRY(impl_->resolve("images", arn, owner, text));
  return std::move(row.document);
}

Result<std::vector<Json>> Catalog::list_images(const ListQuery& query) const {
  std::vector<request::Filter> filters = KILN_TRY(
      request::parse_filters(query.filters, {"name", "osVersion", "platform", "type", "version"}));
  std::optional<std::string> owner =
      KILN_TRY(request::query_owner(query, impl_->account.account_id));
  if (!owner) {
    return std::vector<Json>();
  }
  std::vector<Json> images = KILN_TRY(impl_->documents(
      "SELECT arn, document FROM images i WHERE owner = ?1 AND build = (SELECT MAX(build) FROM "
      "images j WHERE j.owner = i.owner AND j.name = i.name AND j.major = i.major AND j.minor = "
      "i.minor AND j.patch = i.patch) ORDER BY name, major, minor, patch",
      *owner));
  std::vector<Json> out;
  for (const Json& image : images) {
    if (request::matches(filters, image)) {
      out.push_back(image_version_summary(image, *owner));
    }
  }
  return out;
}

Result<std::vector<Json>> Catalog::list_image_build_versions(std::string_view text) const {
  ImageBuilderArn arn = KILN_TRY(impl_->parse_arn(text, ResourceType::kImage));
  if (!arn.version || !arn.version->is_exact() || arn.build) {
    return request::invalid("imageVersionArn",
                            fmt::format("\"{}\": expected a version ARN (…/<name>/<x.y.z>)", text));
  }
  std::string owner = KILN_TRY(impl_->owner_of(arn, /*managed=*/false));
  SemanticVersion version = *arn.version->exact_version();
  Statement stmt = KILN_TRY(impl_->db.prepare(
      "SELECT arn, document FROM images WHERE owner = ? AND name = ? AND major = ? AND minor = ? "
      "AND patch = ? ORDER BY build DESC"));
  stmt.bind_all(owner, arn.name, version.major, version.minor, version.patch);
  std::vector<Json> out;
  while (KILN_TRY(stmt.step())) {
    Json image = KILN_TRY(parse_stored(stmt.column_text(1), stmt.column_text(0)));
    out.push_back(image_summary(image, owner));
  }
  return out;
}

Result<std::vector<Json>> Catalog::images_with_status(
    const std::vector<ImageStatus>& statuses) const {
  std::string sql = "SELECT arn, document FROM images";
  for (size_t i = 0; i < statuses.size(); ++i) {
    sql += i == 0 ? " WHERE status IN (?" : ", ?";
  }
  sql += statuses.empty() ? "" : ")";
  sql += " ORDER BY date_created, rowid";
  Statement stmt = KILN_TRY(impl_->db.prepare(sql));
  for (size_t i = 0; i < statuses.size(); ++i) {
    stmt.bind(static_cast<int>(i + 1), image_status_name(statuses[i]));
  }
  std::vector<Json> out;
  while (KILN_TRY(stmt.step())) {
    out.push_back(KILN_TRY(parse_stored(stmt.column_text(1), stmt.column_text(0))));
  }
  return out;
}

Result<Json> Catalog::set_image_status(std::string_view text,
                                       ImageStatus status,
                                       const std::string& reason) {
  ImageBuilderArn arn = KILN_TRY(impl_->parse_arn(text, ResourceType::kImage));
  KILN_TRY(impl_->owner_of(arn, /*managed=*/false));
  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  StoredImage image = KILN_TRY(load_image(impl_->db, arn.str()));
  if (!can_transition(image.status, status)) {
    return make_error(ErrorCode::kConflict,
                      "image {}: cannot go from {} to {}",
                      arn.str(),
                      image_status_name(image.status),
                      image_status_name(status));
  }
  Json state = {{"status", image_status_name(status)}};
  if (!reason.empty()) {
    state["reason"] = reason;
  }
  image.document["state"] = std::move(state);
  KILN_TRY(store_image(impl_->db, arn.str(), image.document));
  KILN_TRY(txn.commit());
  return std::move(image.document);
}

Result<Json> Catalog::update_image(std::string_view text,
                                   const std::function<void(Json&)>& change) {
  ImageBuilderArn arn = KILN_TRY(impl_->parse_arn(text, ResourceType::kImage));
  KILN_TRY(impl_->owner_of(arn, /*managed=*/false));
  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  StoredImage image = KILN_TRY(load_image(impl_->db, arn.str()));
  Json changed = image.document;
  change(changed);
  for (const char* member : {"arn", "name", "version", "state"}) {
    if (!changed.is_object() || changed.value(member, Json()) != image.document[member]) {
      return make_error(ErrorCode::kInvalidArgument,
                        "image {}: update_image may not change {} (set_image_status changes the "
                        "state)",
                        arn.str(),
                        member);
    }
  }
  KILN_TRY(store_image(impl_->db, arn.str(), changed));
  KILN_TRY(txn.commit());
  return changed;
}

Status Catalog::delete_image(std::string_view text) {
  ImageBuilderArn arn = KILN_TRY(impl_->parse_arn(text, ResourceType::kImage));
  KILN_TRY(impl_->owner_of(arn, /*managed=*/false));
  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  StoredImage image = KILN_TRY(load_image(impl_->db, arn.str()));
  if (!is_terminal(image.status)) {
    return make_error(ErrorCode::kConflict,
                      "image {} is {}: cancel it or let it finish before deleting it",
                      arn.str(),
                      image_status_name(image.status));
  }
  Statement erase = KILN_TRY(impl_->db.prepare("DELETE FROM images WHERE arn = ?"));
  erase.bind_all(arn.str());
  KILN_TRY(erase.run());
  return txn.commit();
}

}  // namespace kiln::state
