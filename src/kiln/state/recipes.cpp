// Image recipes (reference 3.3): CreateImageRecipe with `x` versions, component checks, lookups,
// lists and deletion.

#include <set>

#include "kiln/base/hash.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/instance/disk_size.hpp"
#include "kiln/state/catalog_impl.hpp"
#include "kiln/state/request.hpp"

namespace kiln::state {
namespace {

using catalog::ImageBuilderArn;
using catalog::ResourceType;
using catalog::SemanticVersion;
using catalog::VersionFilter;

constexpr const char* kDefaultWorkingDirectory = "/tmp";

// The member order of AWS's ImageRecipe.
constexpr const char* kRecipeMembers[] = {"arn",
                                          "type",
                                          "name",
                                          "description",
                                          "platform",
                                          "owner",
                                          "version",
                                          "components",
                                          "parentImage",
                                          "blockDeviceMappings",
                                          "dateCreated",
                                          "tags",
                                          "workingDirectory",
                                          "additionalInstanceConfiguration",
                                          "amiTags"};

Status check_recipe_request(const Json& request) {
  KILN_TRY(request::check_create_members(request, "CreateImageRecipe", ResourceType::kImageRecipe));
  KILN_TRY(request::optional_string(request, "description", 1, 1024));
  KILN_TRY(request::optional_array(request, "blockDeviceMappings"));
  // The root volume's size becomes the build instance's disk: refused now rather than at build.
  if (Result<uint64_t> size =
          instance::root_volume_size(request.value("blockDeviceMappings", Json::array()));
      !size) {
    return request::invalid("blockDeviceMappings", size.error().message);
  }
  KILN_TRY(request::optional_object(request, "additionalInstanceConfiguration"));
  KILN_TRY(request::optional_tags(request, "tags"));
  KILN_TRY(request::optional_tags(request, "amiTags"));
  std::optional<std::string> dir =
      KILN_TRY(request::optional_string(request, "workingDirectory", 1, 1024));
  if (dir && !starts_with(*dir, "/")) {
    return request::invalid("workingDirectory", fmt::format("\"{}\" is not absolute", *dir));
  }
  // A folder inside the instance (sanitize.sh's argument): normal, so that what the recipe says
  // is what is used.
  if (dir && !request::plain_absolute_names(*dir)) {
    return request::invalid(
        "workingDirectory",
        fmt::format("\"{}\": only plain names, without empty, '.' or '..' parts", *dir));
  }
  return ok_status();
}

// The parameter names a component declares.
std::vector<std::string> declared_parameters(const Json& component) {
  std::vector<std::string> names;
  for (const Json& parameter : component.value("parameters", Json::array())) {
    names.push_back(parameter.value("name", ""));
  }
  return names;
}

Status check_component_parameters(const Json& entry,
                                  const Json& component,
                                  std::string_view where) {
  if (!entry.contains("parameters")) {
    return ok_status();
  }
  const Json& parameters = entry["parameters"];
  if (!parameters.is_array()) {
    return request::invalid(fmt::format("{}.parameters", where), "expected a list");
  }
  std::vector<std::string> declared = declared_parameters(component);
  std::set<std::string> seen;
  for (const Json& parameter : parameters) {
    std::string member = fmt::format("{}.parameters", where);
    KILN_TRY_CTX(request::check_members(parameter, "parameter", {"name", "value"}),
                 "invalid " + member);
    std::string name = KILN_TRY(request::required_string(parameter, "name", 1, 256));
    if (std::find(declared.begin(), declared.end(), name) == declared.end()) {
      return request::invalid(
          member,
          fmt::format("component {} declares no parameter \"{}\" (it declares: {})",
                      component.value("arn", ""),
                      name,
                      declared.empty() ? std::string("none") : join(declared, ", ")));
    }
    if (!seen.insert(name).second) {
      return request::invalid(member, fmt::format("parameter \"{}\" given twice", name));
    }
    const Json* value = parameter.contains("value") ? &parameter["value"] : nullptr;
    bool strings = value != nullptr && value->is_array();
    for (size_t i = 0; strings && i < value->size(); ++i) {
      strings = (*value)[i].is_string();
    }
    if (!strings) {
      return request::invalid(member,
                              fmt::format("parameter \"{}\": value is a list of strings", name));
    }
  }
  return ok_status();
}

// ImageRecipeSummary.
Json recipe_summary(const Json& recipe) {
  Json out;
  for (const char* member :
       {"arn", "name", "platform", "owner", "parentImage", "dateCreated", "tags"}) {
    request::copy_member(out, recipe, member);
  }
  return out;
}

// The version a wildcard request gets: the wildcard node one above the newest matching recipe
// (nodes right of it 0), or 0 when there is none.
Result<SemanticVersion> next_version(const VersionFilter& filter,
                                     const std::optional<SemanticVersion>& newest) {
  std::vector<std::string> nodes = split(filter.str(), '.');
  size_t wildcard = 0;
  while (wildcard < nodes.size() && nodes[wildcard] != "x") {
    ++wildcard;
  }
  SemanticVersion out = newest.value_or(SemanticVersion{});
  uint32_t* fields[] = {&out.major, &out.minor, &out.patch};
  for (size_t i = 0; i < wildcard; ++i) {
    *fields[i] = static_cast<uint32_t>(std::stoul(nodes[i]));
  }
  if (newest) {
    if (*fields[wildcard] >= catalog::kMaxVersionNode) {
      return request::invalid("semanticVersion", fmt::format("{}: no version left", filter.str()));
    }
    ++*fields[wildcard];
  } else {
    *fields[wildcard] = 0;
  }
  for (size_t i = wildcard + 1; i < 3; ++i) {
    *fields[i] = 0;
  }
  return out;
}

// The recipe as stored, given its arn, version and dateCreated.
Json recipe_document(const Json& content, const Json& extra) {
  Json recipe;
  for (const char* member : kRecipeMembers) {
    request::copy_member(recipe, extra.contains(member) ? extra : content, member);
  }
  return recipe;
}

// What makes two recipes the same: everything but arn, version and dateCreated.
std::string content_hash(const Json& recipe) {
  Json content;
  for (const char* member : kRecipeMembers) {
    if (std::string_view(member) != "arn" && std::string_view(member) != "version" &&
        std::string_view(member) != "dateCreated") {
      request::copy_member(content, recipe, member);
    }
  }
  return hash_hex(HashAlgorithm::kSha256, content.dump());
}

}  // namespace

Result<Json> Catalog::Impl::recipe_content(const Json& request) const {
  KILN_TRY(check_recipe_request(request));
  std::string name = KILN_TRY(request::required_string(request, "name", 1, 128));
  KILN_TRY_CTX(catalog::validate_name(name), "invalid name");
  std::string parent = KILN_TRY(request::required_string(request, "parentImage", 1, 1024));
  if (!request.contains("components") || !request["components"].is_array() ||
      request["components"].empty() || request["components"].size() > 20) {
    return request::invalid("components", "a list of 1 to 20 {componentArn, parameters}");
  }
  Json components = Json::array();
  bool has_build = false;
  for (size_t i = 0; i < request["components"].size(); ++i) {
    const Json& entry = request["components"][i];
    std::string where = fmt::format("components[{}]", i);
    KILN_TRY_CTX(request::check_members(entry, where, {"componentArn", "parameters"}),
                 "invalid components");
    std::string arn =
        KILN_TRY_CTX(request::required_string(entry, "componentArn", 1, 1024), "invalid " + where);
    Json component = KILN_TRY_CTX(find_component(arn), "invalid " + where + ".componentArn");
    KILN_TRY(check_component_parameters(entry, component, where));
    has_build = has_build || component.value("type", "") == "BUILD";
    components.push_back(entry);
  }
  if (!has_build) {
    return request::invalid("components", "a recipe needs at least one BUILD component");
  }
  Json content;
  content["type"] = "AMI";
  content["name"] = name;
  request::copy_member(content, request, "description");
  content["platform"] = "Linux";
  content["owner"] = account.account_id;
  content["components"] = std::move(components);
  content["parentImage"] = parent;
  request::copy_member(content, request, "blockDeviceMappings");
  content["tags"] = request.value("tags", Json::object());
  content["workingDirectory"] = request.value("workingDirectory", kDefaultWorkingDirectory);
  request::copy_member(content, request, "additionalInstanceConfiguration");
  request::copy_member(content, request, "amiTags");
  return content;
}

Result<Created> Catalog::create_image_recipe(const Json& request) {
  Json content = KILN_TRY(impl_->recipe_content(request));
  std::string version_text = KILN_TRY(request::required_string(request, "semanticVersion", 1, 64));
  VersionFilter filter =
      KILN_TRY_CTX(VersionFilter::parse(version_text), "invalid semanticVersion");
  std::string owner = impl_->account.account_id;
  std::string name = catalog::arn_name(content["name"].get<std::string>());
  std::string sha = content_hash(content);

  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  std::vector<VersionedRow> rows = KILN_TRY(impl_->versioned_rows("image_recipes", owner, name));
  const VersionedRow* newest = nullptr;
  for (const VersionedRow& row : rows) {
    if (filter.matches(row.version)) {
      newest = &row;
      break;
    }
  }
  auto same_content = [&](const VersionedRow& row) { return content_hash(row.document) == sha; };
  if (newest != nullptr && same_content(*newest)) {
    return Created{newest->arn, false};
  }
  if (newest != nullptr && filter.is_exact()) {
    return make_error(ErrorCode::kAlreadyExists,
                      "image recipe {} already exists with other content (create a new version, "
                      "or use an x in semanticVersion)",
                      newest->arn);
  }
  SemanticVersion version =
      filter.is_exact()
          ? *filter.exact_version()
          : KILN_TRY(next_version(
                filter, newest ? std::optional<SemanticVersion>(newest->version) : std::nullopt));
  std::string arn = impl_->make_arn(ResourceType::kImageRecipe, name, version).str();
  Json extra = {{"arn", arn}, {"version", version.str()}, {"dateCreated", impl_->now()}};
  Json recipe = recipe_document(content, extra);
  Statement insert = KILN_TRY(impl_->db.prepare(
      "INSERT INTO image_recipes (arn, owner, name, major, minor, patch, content_sha256, "
      "document) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  insert.bind_all(
      arn, owner, name, version.major, version.minor, version.patch, sha, recipe.dump());
  KILN_TRY(insert.run());
  for (const Json& entry : recipe["components"]) {
    ImageBuilderArn component =
        KILN_TRY(ImageBuilderArn::parse(entry["componentArn"].get<std::string>()));
    Statement uses = KILN_TRY(impl_->db.prepare(
        "INSERT INTO recipe_components (recipe_arn, component_arn) VALUES (?, ?)"));
    uses.bind_all(arn, impl_->canonical_arn(component));
    KILN_TRY(uses.run());
  }
  KILN_TRY(txn.commit());
  return Created{arn, true};
}

Result<Json> Catalog::get_image_recipe(std::string_view text) const {
  ImageBuilderArn arn = KILN_TRY(impl_->parse_arn(text, ResourceType::kImageRecipe));
  std::string owner = KILN_TRY(impl_->owner_of(arn, /*managed=*/false));
  VersionedRow row = KILN_TRY(impl_->resolve("image_recipes", arn, owner, text));
  return std::move(row.document);
}

Result<std::vector<Json>> Catalog::list_image_recipes(const ListQuery& query) const {
  std::vector<request::Filter> filters =
      KILN_TRY(request::parse_filters(query.filters, {"name", "parentImage", "platform"}));
  std::optional<std::string> owner =
      KILN_TRY(request::query_owner(query, impl_->account.account_id));
  if (!owner) {
    return std::vector<Json>();
  }
  std::vector<Json> recipes = KILN_TRY(impl_->documents(
      "SELECT arn, document FROM image_recipes WHERE owner = ? ORDER BY name, major, minor, patch",
      *owner));
  std::vector<Json> out;
  for (const Json& recipe : recipes) {
    if (request::matches(filters, recipe)) {
      out.push_back(recipe_summary(recipe));
    }
  }
  return out;
}

Status Catalog::delete_image_recipe(std::string_view text) {
  ImageBuilderArn arn = KILN_TRY(impl_->parse_arn(text, ResourceType::kImageRecipe));
  if (!arn.version || !arn.version->is_exact()) {
    return request::invalid("imageRecipeArn",
                            fmt::format("\"{}\": expected a version ARN (…/<name>/<x.y.z>)", text));
  }
  KILN_TRY(impl_->owner_of(arn, /*managed=*/false));
  std::string key = arn.str();
  Transaction txn = KILN_TRY(Transaction::begin(impl_->db));
  KILN_TRY(impl_->find_by_arn("image_recipes", key));
  KILN_TRY(impl_->check_no_running_image("recipe_arn", key, "image recipe"));
  KILN_TRY(impl_->check_no_pipeline("recipe_arn", key, "image recipe"));
  for (const char* sql : {"DELETE FROM recipe_components WHERE recipe_arn = ?",
                          "DELETE FROM image_recipes WHERE arn = ?"}) {
    Statement erase = KILN_TRY(impl_->db.prepare(sql));
    erase.bind_all(key);
    KILN_TRY(erase.run());
  }
  return txn.commit();
}

}  // namespace kiln::state
