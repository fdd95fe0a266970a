// Components (reference 3.2): CreateComponent with auto-versioning, managed components, lookups
// with wildcards, lists and deletion.

#include <set>

#include "kiln/base/file.hpp"
#include "kiln/base/hash.hpp"
#include "kiln/document/parser.hpp"
#include "kiln/state/catalog_impl.hpp"
#include "kiln/state/request.hpp"

namespace kiln::state {
namespace {

using catalog::ImageBuilderArn;
using catalog::ResourceType;
using catalog::SemanticVersion;

constexpr size_t kMaxDocumentSize = 16000;

Status check_platform(const std::string& platform) {
  if (platform == "Windows" || platform == "macOS") {
    return request::invalid("platform", fmt::format("{}: kiln builds Linux images", platform));
  }
  if (platform != "Linux") {
    return request::invalid("platform", fmt::format("\"{}\" is not Linux", platform));
  }
  return ok_status();
}

// Parses and validates the document; every diagnostic, with its source line, in the error.
Result<document::Document> parse_component_document(const std::string& data,
                                                    const std::string& name) {
  document::ParseResult parsed = document::parse_document(data, name);
  if (parsed.document) {
    return std::move(*parsed.document);
  }
  std::string message = fmt::format("invalid data: the component document has {} problem{}",
                                    parsed.diagnostics.size(),
                                    parsed.diagnostics.size() == 1 ? "" : "s");
  for (const document::Diagnostic& diagnostic : parsed.diagnostics) {
    message += "\n" + document::format_diagnostic_with_source(diagnostic, data);
  }
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

std::string component_type(const document::Document& doc) {
  for (const document::Phase& phase : doc.phases) {
    if (phase.name == "build" || phase.name == "validate") {
      return "BUILD";
    }
  }
  return "TEST";
}

// AWS's ComponentParameterDetail for each parameter the document declares.
Json parameter_details(const document::Document& doc) {
  Json out = Json::array();
  for (const document::Parameter& parameter : doc.parameters) {
    Json detail = {{"name", parameter.name}, {"type", parameter.type}};
    if (parameter.default_value) {
      detail["defaultValue"] = Json::array({*parameter.default_value});
    }
    if (!parameter.description.empty()) {
      detail["description"] = parameter.description;
    }
    out.push_back(std::move(detail));
  }
  return out;
}

Status check_component_request(const Json& request) {
  KILN_TRY(request::check_create_members(request, "CreateComponent", ResourceType::kComponent));
  if (request.contains("uri")) {
    return request::invalid("uri",
                            "kiln does not fetch component documents: give the document as data");
  }
  if (request.contains("kmsKeyId")) {
    return request::invalid("kmsKeyId", "kiln does not encrypt components");
  }
  KILN_TRY(request::optional_string(request, "description", 1, 1024));
  KILN_TRY(request::optional_string(request, "changeDescription", 1, 1024));
  KILN_TRY(request::optional_string_list(request, "supportedOsVersions", 1, 25));
  KILN_TRY(request::optional_tags(request, "tags"));
  return ok_status();
}

// ComponentVersion (list_components): the version ARN and the members AWS lists.
Json component_version_summary(const Json& component) {
  Result<ImageBuilderArn> arn = ImageBuilderArn::parse(component.value("arn", ""));
  Json out;
  out["arn"] = component.value("arn", "");
  if (arn.ok()) {
    arn->build.reset();
    out["arn"] = arn->str();
  }
  for (const char* member : {"name",
                             "version",
                             "description",
                             "platform",
                             "supportedOsVersions",
                             "type",
                             "owner",
                             "dateCreated"}) {
    request::copy_member(out, component, member);
  }
  return out;
}

// ComponentSummary (list_component_build_versions).
Json component_summary(const Json& component) {
  Json out;
  for (const char* member : {"arn",
                             "name",
                             "version",
                             "platform",
                             "supportedOsVersions",
                             "state",
                             "type",
                             "owner",
                             "description",
                             "changeDescription",
                             "dateCreated",
                             "tags"}) {
    request::copy_member(out, component, member);
  }
  return out;
}

}  // namespace

Result<Created> Catalog::Impl::add_component(const Json& request, std::string_view owner) {
  KILN_TRY(check_component_request(request));
  std::string name = KILN_TRY(request::required_string(request, "name", 1, 128));
  KILN_TRY_CTX(catalog::validate_name(name), "invalid name");
  std::string version_text = KILN_TRY(request::required_string(request, "semanticVersion", 1, 64));
  SemanticVersion version =
      KILN_TRY_CTX(SemanticVersion::parse(version_text), "invalid semanticVersion");
  std::string platform = KILN_TRY(request::required_string(request, "platform", 1, 16));
  KILN_TRY(check_platform(platform));
  std::string data = KILN_TRY(request::required_string(request, "data", 1, kMaxDocumentSize));
  document::Document doc = KILN_TRY(parse_component_document(data, name));

  std::string arn_name = catalog::arn_name(name);
  std::string sha = hash_hex(HashAlgorithm::kSha256, data);
  Statement newest = KILN_TRY(db.prepare(
      "SELECT arn, data_sha256 FROM components WHERE owner = ? AND name = ? AND major = ? AND "
      "minor = ? AND patch = ? ORDER BY build DESC LIMIT 1"));
  newest.bind_all(std::string(owner), arn_name, version.major, version.minor, version.patch);
  if (KILN_TRY(newest.step()) && newest.column_text(1) == sha) {
    return Created{newest.column_text(0), false};
  }
  uint32_t build = KILN_TRY(next_build("component", std::string(owner), arn_name, version, 1));
  std::string arn = make_arn(ResourceType::kComponent, name, version, build, owner).str();

  Json component;
  component["arn"] = arn;
  component["name"] = name;
  component["version"] = version.str();
  request::copy_member(component, request, "description");
  request::copy_member(component, request, "changeDescription");
  component["type"] = component_type(doc);
  component["platform"] = platform;
  request::copy_member(component, request, "supportedOsVersions");
  component["owner"] = std::string(owner);
  component["data"] = data;
  component["encrypted"] = false;
  component["dateCreated"] = now();
  component["tags"] = request.value("tags", Json::object());
  component["state"] = {{"status", "ACTIVE"}};
  Json parameters = parameter_details(doc);
  if (!parameters.empty()) {
    component["parameters"] = std::move(parameters);
  }

  Statement insert = KILN_TRY(db.prepare(
      "INSERT INTO components (arn, owner, name, major, minor, patch, build, type, platform, "
      "status, data_sha256, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?)"));
  insert.bind_all(arn,
                  std::string(owner),
                  arn_name,
                  version.major,
                  version.minor,
                  version.patch,
                  build,
                  component["type"].get<std::string>(),
                  platform,
                  sha,
                  component.dump());
  KILN_TRY(insert.run());
  return Created{arn, true};
}

Result<Created> Catalog::create_component(const Json& request) {
  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  Created created = KILN_TRY(impl_->add_component(request, impl_->account.account_id));
  KILN_TRY(txn.commit());
  return created;
}

Status Catalog::sync_managed_components(const std::filesystem::path& dir) {
  std::filesystem::path index = dir / "managed.json";
  std::string text = KILN_TRY(read_file(index));
  Json managed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (managed.is_discarded() || !managed.is_object() || !managed.contains("components") ||
      !managed["components"].is_array()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: expected {{\"components\": [{{name, semanticVersion, file, ...}}]}}",
                      index.string());
  }
  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  for (const Json& entry : managed["components"]) {
    std::string where = fmt::format("{}: component {}", index.string(), entry.dump());
    KILN_TRY_CTX(
        request::check_members(
            entry,
            "managed component",
            {"name", "semanticVersion", "description", "file", "platform", "supportedOsVersions"}),
        where);
    std::string file = KILN_TRY_CTX(request::required_string(entry, "file", 1, 4096), where);
    Json component_request = entry;
    component_request.erase("file");
    component_request["data"] = KILN_TRY_CTX(read_file(dir / file), where);
    KILN_TRY_CTX(impl_->add_component(component_request, kManagedOwner), where);
  }
  return txn.commit();
}

Result<Json> Catalog::get_component(std::string_view arn) const {
  return impl_->find_component(arn);
}

Result<std::vector<Json>> Catalog::list_components(const ListQuery& query) const {
  std::vector<request::Filter> filters =
      KILN_TRY(request::parse_filters(query.filters, {"name", "platform", "type", "version"}));
  std::optional<std::string> owner =
      KILN_TRY(request::query_owner(query, impl_->account.account_id));
  if (!owner) {
    return std::vector<Json>();
  }
  std::vector<Json> components = KILN_TRY(impl_->documents(
      "SELECT arn, document FROM components c WHERE owner = ?1 AND build = (SELECT MAX(build) "
      "FROM components d WHERE d.owner = c.owner AND d.name = c.name AND d.major = c.major AND "
      "d.minor = c.minor AND d.patch = c.patch) ORDER BY name, major, minor, patch",
      *owner));
  std::vector<Json> out;
  for (const Json& component : components) {
    if (request::matches(filters, component)) {
      out.push_back(component_version_summary(component));
    }
  }
  return out;
}

Result<std::vector<Json>> Catalog::list_component_build_versions(std::string_view text) const {
  ImageBuilderArn arn = KILN_TRY(impl_->parse_arn(text, ResourceType::kComponent));
  if (!arn.version || !arn.version->is_exact() || arn.build) {
    return request::invalid("componentVersionArn",
                            fmt::format("\"{}\": expected a version ARN (…/<name>/<x.y.z>)", text));
  }
  std::string owner = KILN_TRY(impl_->owner_of(arn, /*managed=*/true));
  SemanticVersion version = *arn.version->exact_version();
  Statement stmt = KILN_TRY(impl_->db.prepare(
      "SELECT arn, document FROM components WHERE owner = ? AND name = ? AND major = ? AND "
      "minor = ? AND patch = ? ORDER BY build DESC"));
  stmt.bind_all(owner, arn.name, version.major, version.minor, version.patch);
  std::vector<Json> out;
  while (KILN_TRY(stmt.step())) {
    Json component = KILN_TRY(parse_stored(stmt.column_text(1), stmt.column_text(0)));
    out.push_back(component_summary(component));
  }
  return out;
}

Status Catalog::delete_component(std::string_view text) {
  ImageBuilderArn arn = KILN_TRY(impl_->parse_arn(text, ResourceType::kComponent));
  if (!arn.build) {
    return request::invalid("componentBuildVersionArn",
                            fmt::format("\"{}\": expected a build version ARN", text));
  }
  if (arn.account == kManagedOwner) {
    return make_error(ErrorCode::kPermissionDenied,
                      "{}: managed components come with kiln and cannot be deleted",
                      text);
  }
  KILN_TRY(impl_->owner_of(arn, /*managed=*/false));
  std::string key = arn.str();
  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  KILN_TRY(impl_->find_by_arn("components", key));
  Statement users =
      KILN_TRY(impl_->db.prepare("SELECT recipe_arn FROM recipe_components WHERE component_arn = ? "
                                 "ORDER BY recipe_arn LIMIT 1"));
  users.bind_all(key);
  if (KILN_TRY(users.step())) {
    return make_error(ErrorCode::kConflict,
                      "cannot delete component {}: image recipe {} uses it",
                      key,
                      users.column_text(0));
  }
  Statement erase = KILN_TRY(impl_->db.prepare("DELETE FROM components WHERE arn = ?"));
  erase.bind_all(key);
  KILN_TRY(erase.run());
  return txn.commit();
}

}  // namespace kiln::state
