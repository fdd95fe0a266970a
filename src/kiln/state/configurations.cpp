// Infrastructure (reference 3.5) and distribution (3.6) configurations: one name, one ARN, a
// document updated in place.

#include <set>

#include "kiln/base/strings.hpp"
#include "kiln/instance/instance_type.hpp"
#include "kiln/instance/sandbox.hpp"
#include "kiln/state/catalog_impl.hpp"
#include "kiln/state/log_location.hpp"
#include "kiln/state/request.hpp"

namespace kiln::state {

using catalog::ImageBuilderArn;
using catalog::ResourceType;

// What differs between the two kinds of configuration.
struct ConfigurationKind {
  std::string_view table;
  ResourceType type;
  std::string_view what;        // "infrastructure configuration"
  std::string_view arn_member;  // of the update request
  std::string_view image_column;
  std::vector<std::string_view> order;    // AWS's member order of the stored object
  std::vector<std::string_view> summary;  // the members of the list call's summary
  std::vector<std::string_view> updatable;
  bool infrastructure;  // which of the content checks applies
};

namespace {

const ConfigurationKind kInfrastructure = {
    "infrastructure_configurations",
    ResourceType::kInfrastructureConfiguration,
    "infrastructure configuration",
    "infrastructureConfigurationArn",
    "infrastructure_arn",
    {"arn",
     "name",
     "description",
     "instanceTypes",
     "instanceProfileName",
     "securityGroupIds",
     "subnetId",
     "logging",
     "keyPair",
     "terminateInstanceOnFailure",
     "snsTopicArn",
     "dateCreated",
     "dateUpdated",
     "resourceTags",
     "instanceMetadataOptions",
     "tags",
     "placement",
     "networkMode"},
    {"arn",
     "name",
     "description",
     "dateCreated",
     "dateUpdated",
     "resourceTags",
     "tags",
     "instanceTypes",
     "instanceProfileName",
     "placement"},
    {"description",
     "instanceTypes",
     "instanceProfileName",
     "securityGroupIds",
     "subnetId",
     "logging",
     "keyPair",
     "terminateInstanceOnFailure",
     "snsTopicArn",
     "resourceTags",
     "instanceMetadataOptions",
     "placement",
     "networkMode"},
    true,
};

const ConfigurationKind kDistribution = {
    "distribution_configurations",
    ResourceType::kDistributionConfiguration,
    "distribution configuration",
    "distributionConfigurationArn",
    "distribution_arn",
    {"arn",
     "name",
     "description",
     "distributions",
     "timeoutMinutes",
     "dateCreated",
     "dateUpdated",
     "tags"},
    {"arn", "name", "description", "dateCreated", "dateUpdated", "tags", "regions"},
    {"description", "distributions", "timeoutMinutes"},
    false,
};

bool is_one_of(std::string_view value, const std::vector<std::string_view>& values) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

Status check_instance_types(const Json& request) {
  KILN_TRY(request::optional_string_list(request, "instanceTypes", 0, 100));
  std::vector<std::string_view> known;
  for (const instance::InstanceType& type : instance::instance_types()) {
    known.push_back(type.name);
  }
  for (const Json& name : request.value("instanceTypes", Json::array())) {
    std::string text = name.get<std::string>();
    if (!is_one_of(text, known)) {
      std::string hint = closest_match(text, known);
      return request::invalid(
          "instanceTypes",
          fmt::format("unknown instance type \"{}\"{}",
                      text,
                      hint.empty() ? std::string() : fmt::format(" (did you mean {}?)", hint)));
    }
  }
  return ok_status();
}

Status check_logging(const Json& request, const std::filesystem::path& log_root) {
  KILN_TRY(request::optional_object(request, "logging"));
  if (!request.contains("logging")) {
    return ok_status();
  }
  const Json& logging = request["logging"];
  KILN_TRY_CTX(request::check_members(logging, "logging", {"s3Logs"}), "invalid logging");
  KILN_TRY_CTX(request::optional_object(logging, "s3Logs"), "invalid logging");
  if (logging.contains("s3Logs")) {
    const Json& s3 = logging["s3Logs"];
    KILN_TRY_CTX(request::check_members(s3, "s3Logs", {"s3BucketName", "s3KeyPrefix"}),
                 "invalid logging");
    KILN_TRY_CTX(request::optional_string(s3, "s3BucketName", 0, 1024), "invalid logging.s3Logs");
    KILN_TRY_CTX(request::optional_string(s3, "s3KeyPrefix", 0, 1024), "invalid logging.s3Logs");
  }
  // A local log folder is a host path the root daemon creates and writes into: only in the
  // operator's log root. With a bucket, the prefix is a key and no path at all.
  if (std::optional<std::string> folder = local_log_folder(request)) {
    KILN_TRY(log_folder_in_root(*folder, log_root));
  }
  return ok_status();
}

Status check_metadata_options(const Json& request) {
  KILN_TRY(request::optional_object(request, "instanceMetadataOptions"));
  if (!request.contains("instanceMetadataOptions")) {
    return ok_status();
  }
  const Json& options = request["instanceMetadataOptions"];
  std::string context = "invalid instanceMetadataOptions";
  KILN_TRY_CTX(request::check_members(
                   options, "instanceMetadataOptions", {"httpTokens", "httpPutResponseHopLimit"}),
               context);
  std::optional<std::string> tokens =
      KILN_TRY_CTX(request::optional_string(options, "httpTokens", 1, 16), context);
  if (tokens && *tokens != "optional" && *tokens != "required") {
    return request::invalid("instanceMetadataOptions.httpTokens", "optional or required");
  }
  KILN_TRY_CTX(request::optional_integer(options, "httpPutResponseHopLimit", 1, 64), context);
  return ok_status();
}

bool valid_region_name(const std::string& region) {
  return !region.empty() && region.size() <= 64 &&
         std::all_of(region.begin(), region.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
         });
}

Status check_ami_distribution(const Json& distribution, std::string_view where) {
  KILN_TRY(request::optional_object(distribution, "amiDistributionConfiguration"));
  if (!distribution.contains("amiDistributionConfiguration")) {
    return ok_status();
  }
  const Json& ami = distribution["amiDistributionConfiguration"];
  std::string context = fmt::format("invalid {}.amiDistributionConfiguration", where);
  KILN_TRY_CTX(
      request::check_members(
          ami,
          "amiDistributionConfiguration",
          {"name", "description", "targetAccountIds", "amiTags", "kmsKeyId", "launchPermission"}),
      context);
  KILN_TRY_CTX(request::optional_string(ami, "name", 1, 127), context);
  KILN_TRY_CTX(request::optional_string(ami, "description", 1, 1024), context);
  KILN_TRY_CTX(request::optional_string_list(ami, "targetAccountIds", 1, 1536), context);
  KILN_TRY_CTX(request::optional_tags(ami, "amiTags"), context);
  KILN_TRY_CTX(request::optional_object(ami, "launchPermission"), context);
  return ok_status();
}

Status check_distributions(const Json& request) {
  if (!request.contains("distributions") || !request["distributions"].is_array() ||
      request["distributions"].empty()) {
    return request::invalid("distributions", "a list of one or more {region, ...}");
  }
  std::set<std::string> regions;
  for (size_t i = 0; i < request["distributions"].size(); ++i) {
    const Json& distribution = request["distributions"][i];
    std::string where = fmt::format("distributions[{}]", i);
    KILN_TRY_CTX(request::check_members(distribution,
                                        where,
                                        {"region",
                                         "amiDistributionConfiguration",
                                         "containerDistributionConfiguration",
                                         "licenseConfigurationArns",
                                         "launchTemplateConfigurations",
                                         "s3ExportConfiguration",
                                         "fastLaunchConfigurations",
                                         "ssmParameterConfigurations"}),
                 "invalid distributions");
    std::string region =
        KILN_TRY_CTX(request::required_string(distribution, "region", 1, 64), "invalid " + where);
    if (!valid_region_name(region)) {
      return request::invalid(where + ".region",
                              fmt::format("\"{}\": a region is [a-z0-9-], 1 to 64", region));
    }
    if (!regions.insert(region).second) {
      return request::invalid(where + ".region",
                              fmt::format("region \"{}\" appears twice", region));
    }
    KILN_TRY(check_ami_distribution(distribution, where));
  }
  return ok_status();
}

// The stored object: `content` (checked members), then the fields the catalog sets.
Json configuration_document(const ConfigurationKind& kind, const Json& content, const Json& extra) {
  Json out;
  for (std::string_view member : kind.order) {
    request::copy_member(out, extra.contains(std::string(member)) ? extra : content, member);
  }
  return out;
}

// The members a request may give, from the stored object (what an update starts from).
Json stored_request(const Json& stored) {
  Json out = stored;
  for (const char* member : {"arn", "dateCreated", "dateUpdated"}) {
    out.erase(member);
  }
  return out;
}

Json summary(const ConfigurationKind& kind, const Json& configuration) {
  Json out;
  for (std::string_view member : kind.summary) {
    if (member == "regions") {
      Json regions = Json::array();
      for (const Json& distribution : configuration.value("distributions", Json::array())) {
        regions.push_back(distribution.value("region", ""));
      }
      out["regions"] = std::move(regions);
    } else {
      request::copy_member(out, configuration, member);
    }
  }
  return out;
}

}  // namespace

Result<Json> Catalog::Impl::infrastructure_content(const Json& request) const {
  KILN_TRY(request::check_create_members(
      request, "CreateInfrastructureConfiguration", ResourceType::kInfrastructureConfiguration));
  std::string name = KILN_TRY(request::required_string(request, "name", 1, 128));
  KILN_TRY_CTX(catalog::validate_name(name), "invalid name");
  KILN_TRY(request::optional_string(request, "description", 1, 1024));
  KILN_TRY(check_instance_types(request));
  KILN_TRY(request::optional_string(request, "instanceProfileName", 1, 256));
  KILN_TRY(request::optional_string_list(request, "securityGroupIds", 0, 100));
  KILN_TRY(request::optional_string(request, "subnetId", 1, 1024));
  KILN_TRY(check_logging(request, log_root));
  KILN_TRY(request::optional_string(request, "keyPair", 1, 1024));
  KILN_TRY(request::optional_bool(request, "terminateInstanceOnFailure"));
  KILN_TRY(request::optional_string(request, "snsTopicArn", 1, 2048));
  KILN_TRY(request::optional_tags(request, "resourceTags", 30));
  KILN_TRY(check_metadata_options(request));
  KILN_TRY(request::optional_object(request, "placement"));
  KILN_TRY(request::optional_tags(request, "tags"));
  // kiln's own member: the instances' network (instance::Network): a private one (the default),
  // none, or the host's, which is only ever given when named.
  KILN_TRY(request::optional_string(request, "networkMode", 1, 16));
  if (std::string mode = request.value("networkMode", "private");
      !instance::network_from_name(mode)) {
    return request::invalid("networkMode", "must be private, none or host, not \"" + mode + "\"");
  }
  Json content = request;
  content.erase("clientToken");
  if (!content.contains("terminateInstanceOnFailure")) {
    content["terminateInstanceOnFailure"] = true;
  }
  if (!content.contains("tags")) {
    content["tags"] = Json::object();
  }
  return content;
}

Result<Json> Catalog::Impl::distribution_content(const Json& request) const {
  KILN_TRY(request::check_create_members(
      request, "CreateDistributionConfiguration", ResourceType::kDistributionConfiguration));
  std::string name = KILN_TRY(request::required_string(request, "name", 1, 128));
  KILN_TRY_CTX(catalog::validate_name(name), "invalid name");
  KILN_TRY(request::optional_string(request, "description", 1, 1024));
  KILN_TRY(check_distributions(request));
  KILN_TRY(request::optional_integer(request, "timeoutMinutes", 30, 720));
  KILN_TRY(request::optional_tags(request, "tags"));
  Json content = request;
  content.erase("clientToken");
  if (!content.contains("tags")) {
    content["tags"] = Json::object();
  }
  return content;
}

Result<Created> Catalog::Impl::create_configuration(const ConfigurationKind& kind,
                                                    const Json& request) {
  Json content = KILN_TRY(kind.infrastructure ? infrastructure_content(request)
                                              : distribution_content(request));
  std::string arn = make_arn(kind.type, content["name"].get<std::string>()).str();
  Json configuration =
      configuration_document(kind, content, {{"arn", arn}, {"dateCreated", now()}});
  Transaction txn = KILN_TRY(Transaction::begin(db));
  Result<Json> existing = find_by_arn(kind.table, arn);
  if (existing.ok()) {
    if (configuration_document(kind, stored_request(*existing), {}) ==
        configuration_document(kind, content, {})) {
      return Created{arn, false};
    }
    return make_error(
        ErrorCode::kAlreadyExists, "{} {} already exists with other content", kind.what, arn);
  }
  if (existing.error().code != ErrorCode::kNotFound) {
    return std::move(existing).error();
  }
  Statement insert = KILN_TRY(db.prepare(
      fmt::format("INSERT INTO {} (arn, owner, name, document) VALUES (?, ?, ?, ?)", kind.table)));
  insert.bind_all(arn,
                  account.account_id,
                  catalog::arn_name(content["name"].get<std::string>()),
                  configuration.dump());
  KILN_TRY(insert.run());
  KILN_TRY(txn.commit());
  return Created{arn, true};
}

Result<std::string> Catalog::Impl::update_configuration(const ConfigurationKind& kind,
                                                        const Json& request) {
  if (!request.is_object()) {
    return request::invalid("request", "expected a JSON object");
  }
  for (const auto& [key, value] : request.items()) {
    if (key != kind.arn_member && key != "clientToken" && !is_one_of(key, kind.updatable)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "Update of a {}: member \"{}\" cannot be updated",
                        kind.what,
                        key);
    }
  }
  std::string text = KILN_TRY(request::required_string(request, kind.arn_member, 1, 2048));
  ImageBuilderArn arn = KILN_TRY(parse_arn(text, kind.type));
  KILN_TRY(owner_of(arn, /*managed=*/false));
  Transaction txn = KILN_TRY(Transaction::begin(db));
  Json stored = KILN_TRY(find_by_arn(kind.table, arn.str()));
  Json merged = stored_request(stored);
  for (std::string_view member : kind.updatable) {
    request::copy_member(merged, request, member);
  }
  Json content =
      KILN_TRY(kind.infrastructure ? infrastructure_content(merged) : distribution_content(merged));
  Json configuration = configuration_document(
      kind,
      content,
      {{"arn", stored["arn"]}, {"dateCreated", stored["dateCreated"]}, {"dateUpdated", now()}});
  Statement update =
      KILN_TRY(db.prepare(fmt::format("UPDATE {} SET document = ? WHERE arn = ?", kind.table)));
  update.bind_all(configuration.dump(), arn.str());
  KILN_TRY(update.run());
  KILN_TRY(txn.commit());
  return arn.str();
}

Result<Json> Catalog::Impl::get_configuration(const ConfigurationKind& kind,
                                              std::string_view text) const {
  ImageBuilderArn arn = KILN_TRY(parse_arn(text, kind.type));
  KILN_TRY(owner_of(arn, /*managed=*/false));
  if (arn.version) {
    return make_error(ErrorCode::kInvalidArgument, "{}: a {} has no version", text, kind.what);
  }
  return find_by_arn(kind.table, arn.str());
}

Result<std::vector<Json>> Catalog::Impl::list_configurations(const ConfigurationKind& kind,
                                                             const ListQuery& query) const {
  std::vector<request::Filter> filters = KILN_TRY(request::parse_filters(query.filters, {"name"}));
  std::optional<std::string> owner = KILN_TRY(request::query_owner(query, account.account_id));
  if (!owner) {
    return std::vector<Json>();
  }
  std::vector<Json> configurations = KILN_TRY(documents(
      fmt::format("SELECT arn, document FROM {} WHERE owner = ? ORDER BY name", kind.table),
      *owner));
  std::vector<Json> out;
  for (const Json& configuration : configurations) {
    if (request::matches(filters, configuration)) {
      out.push_back(summary(kind, configuration));
    }
  }
  return out;
}

Status Catalog::Impl::delete_configuration(const ConfigurationKind& kind, std::string_view text) {
  ImageBuilderArn arn = KILN_TRY(parse_arn(text, kind.type));
  KILN_TRY(owner_of(arn, /*managed=*/false));
  std::string key = arn.str();
  Transaction txn = KILN_TRY(Transaction::begin(db));
  KILN_TRY(find_by_arn(kind.table, key));
  KILN_TRY(check_no_running_image(kind.image_column, key, kind.what));
  KILN_TRY(check_no_pipeline(kind.image_column, key, kind.what));  // the same column names
  Statement erase = KILN_TRY(db.prepare(fmt::format("DELETE FROM {} WHERE arn = ?", kind.table)));
  erase.bind_all(key);
  KILN_TRY(erase.run());
  return txn.commit();
}

Result<Created> Catalog::create_infrastructure_configuration(const Json& request) {
  return impl_->create_configuration(kInfrastructure, request);
}

Result<std::string> Catalog::update_infrastructure_configuration(const Json& request) {
  return impl_->update_configuration(kInfrastructure, request);
}

Result<Json> Catalog::get_infrastructure_configuration(std::string_view arn) const {
  return impl_->get_configuration(kInfrastructure, arn);
}

Result<std::vector<Json>> Catalog::list_infrastructure_configurations(
    const ListQuery& query) const {
  return impl_->list_configurations(kInfrastructure, query);
}

Status Catalog::delete_infrastructure_configuration(std::string_view arn) {
  return impl_->delete_configuration(kInfrastructure, arn);
}

Result<Created> Catalog::create_distribution_configuration(const Json& request) {
  return impl_->create_configuration(kDistribution, request);
}

Result<std::string> Catalog::update_distribution_configuration(const Json& request) {
  return impl_->update_configuration(kDistribution, request);
}

Result<Json> Catalog::get_distribution_configuration(std::string_view arn) const {
  return impl_->get_configuration(kDistribution, arn);
}

Result<std::vector<Json>> Catalog::list_distribution_configurations(const ListQuery& query) const {
  return impl_->list_configurations(kDistribution, query);
}

Status Catalog::delete_distribution_configuration(std::string_view arn) {
  return impl_->delete_configuration(kDistribution, arn);
}

}  // namespace kiln::state
