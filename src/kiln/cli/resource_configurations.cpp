// kiln create-/update-/get-/list-/delete-infrastructure-configuration and the same for
// distribution-configuration (reference 3.5, 3.6), and `kiln region set|list`: the local
// regions distributions write to.

#include "kiln/cli/resource_common.hpp"

namespace kiln::cli {
namespace {

std::vector<std::string_view> with_arn(std::vector<std::string_view> members,
                                       std::string_view arn_member) {
  std::vector<std::string_view> out{arn_member};
  for (std::string_view member : members) {
    if (member != "name" && member != "tags") {
      out.push_back(member);
    }
  }
  return out;
}

void infrastructure_flags(RequestOptions& r, bool update) {
  if (update) {
    r.add_string("--infrastructure-configuration-arn", "The configuration to change");
  } else {
    r.add_string("--name", "The configuration's name");
    r.add_map("--tags", "KEY=VALUE,... or a JSON object");
  }
  r.add_string("--description", "What it is for");
  r.add_strings("--instance-types", "EC2 instance types; the first is the build's resource limit");
  r.add_string("--instance-profile-name", "Required by AWS; stored");
  r.add_json("--logging", "JSON: {\"s3Logs\": {\"s3BucketName\": ..., \"s3KeyPrefix\": ...}}");
  r.add_bool("--terminate-instance-on-failure", "Terminate the build instance when it fails");
  r.add_string("--sns-topic-arn", "Notified when a build ends");
  r.add_map("--resource-tags", "Tags of the build instance: KEY=VALUE,... or JSON");
  r.add_strings("--security-group-ids", "Stored, not used");
  r.add_string("--subnet-id", "Stored, not used");
  r.add_string("--key-pair", "Stored, not used");
  r.add_json("--instance-metadata-options", "JSON (stored)");
  r.add_json("--placement", "JSON (stored)");
}

void distribution_flags(RequestOptions& r, bool update) {
  if (update) {
    r.add_string("--distribution-configuration-arn", "The configuration to change");
  } else {
    r.add_string("--name", "The configuration's name");
    r.add_map("--tags", "KEY=VALUE,... or a JSON object");
  }
  r.add_string("--description", "What it is for");
  r.add_json("--distributions", "JSON: [{\"region\": ..., \"amiDistributionConfiguration\": ...}]");
}

std::vector<Verb> infrastructure_verbs(CLI::App& app) {
  const auto& members = create_members(ResourceKind::kInfrastructureConfiguration);
  std::vector<Verb> verbs;
  verbs.push_back(add_request_verb(app,
                                   {"create-infrastructure-configuration",
                                    "Create an infrastructure configuration: how builds run",
                                    "CreateInfrastructureConfiguration",
                                    members,
                                    [](RequestOptions& r) { infrastructure_flags(r, false); }}));
  verbs.push_back(add_request_verb(app,
                                   {"update-infrastructure-configuration",
                                    "Replace an infrastructure configuration's settings",
                                    "UpdateInfrastructureConfiguration",
                                    with_arn(members, "infrastructureConfigurationArn"),
                                    [](RequestOptions& r) { infrastructure_flags(r, true); }}));
  verbs.push_back(add_get_verb(app,
                               {"get-infrastructure-configuration",
                                "Show an infrastructure configuration",
                                "--infrastructure-configuration-arn",
                                "GetInfrastructureConfiguration",
                                ResourceKind::kInfrastructureConfiguration}));
  verbs.push_back(add_list_verb(app,
                                {"list-infrastructure-configurations",
                                 "Infrastructure configurations",
                                 "ListInfrastructureConfigurations",
                                 false,
                                 true,
                                 "",
                                 {{"NAME", "/name"},
                                  {"INSTANCE TYPES", "/instanceTypes"},
                                  {"UPDATED", "/dateUpdated"},
                                  {"ARN", "/arn"}}}));
  verbs.push_back(add_delete_verb(app,
                                  {"delete-infrastructure-configuration",
                                   "Delete an infrastructure configuration",
                                   "--infrastructure-configuration-arn",
                                   "DeleteInfrastructureConfiguration"}));
  return verbs;
}

std::vector<Verb> distribution_verbs(CLI::App& app) {
  const auto& members = create_members(ResourceKind::kDistributionConfiguration);
  std::vector<Verb> verbs;
  verbs.push_back(add_request_verb(
      app,
      {"create-distribution-configuration",
       "Create a distribution configuration: the local regions images are copied to",
       "CreateDistributionConfiguration",
       members,
       [](RequestOptions& r) { distribution_flags(r, false); }}));
  verbs.push_back(add_request_verb(app,
                                   {"update-distribution-configuration",
                                    "Replace a distribution configuration's distributions",
                                    "UpdateDistributionConfiguration",
                                    with_arn(members, "distributionConfigurationArn"),
                                    [](RequestOptions& r) { distribution_flags(r, true); }}));
  verbs.push_back(add_get_verb(app,
                               {"get-distribution-configuration",
                                "Show a distribution configuration",
                                "--distribution-configuration-arn",
                                "GetDistributionConfiguration",
                                ResourceKind::kDistributionConfiguration}));
  verbs.push_back(add_list_verb(app,
                                {"list-distribution-configurations",
                                 "Distribution configurations",
                                 "ListDistributionConfigurations",
                                 false,
                                 true,
                                 "",
                                 {{"NAME", "/name"},
                                  {"REGIONS", "/regions"},
                                  {"CREATED", "/dateCreated"},
                                  {"ARN", "/arn"}}}));
  verbs.push_back(add_delete_verb(app,
                                  {"delete-distribution-configuration",
                                   "Delete a distribution configuration",
                                   "--distribution-configuration-arn",
                                   "DeleteDistributionConfiguration"}));
  return verbs;
}

std::vector<Verb> region_verbs(CLI::App& app) {
  CLI::App* group = app.add_subcommand("region", "Local regions: image stores distributions fill");
  group->require_subcommand(1);
  std::vector<Verb> verbs;

  auto name = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>();
  CLI::App* set = group->add_subcommand("set", "Name a folder as a region's image store");
  set->add_option("name", *name, "The region's name (as distributions name it)")->required();
  set->add_option("dir", *dir, "Its image store folder (created when first written)")->required();
  verbs.push_back(
      {set, [name, dir](Context& context) {
         return with_catalog(context, [&](state::Catalog& catalog) {
           Status done = catalog.set_region(*name, std::filesystem::absolute(*dir));
           if (!done) {
             return report_resource_error(done.error());
           }
           std::printf("%s\t%s\n", name->c_str(), std::filesystem::absolute(*dir).string().c_str());
           return 0;
         });
       }});

  CLI::App* list = group->add_subcommand("list", "The regions set, with their store folders");
  auto output = add_output_option(list);
  verbs.push_back({list, [output](Context& context) {
                     return with_catalog(context, [&](state::Catalog& catalog) {
                       auto regions = catalog.list_regions();
                       if (!regions) {
                         return report_resource_error(regions.error());
                       }
                       Json entries = Json::array();
                       std::vector<std::vector<std::string>> rows;
                       for (const auto& [region, store] : *regions) {
                         entries.push_back({{"name", region}, {"store", store.string()}});
                         rows.push_back({region, store.string()});
                       }
                       print_response(Json{{"regions", entries}},
                                      output_format(*output, OutputFormat::kTable),
                                      format_table({"NAME", "STORE"}, rows));
                       return 0;
                     });
                   }});
  return verbs;
}

}  // namespace

std::vector<Verb> add_configuration_verbs(CLI::App& app) {
  std::vector<Verb> verbs = infrastructure_verbs(app);
  for (auto* more : {&distribution_verbs, &region_verbs}) {
    for (Verb& verb : (*more)(app)) {
      verbs.push_back(std::move(verb));
    }
  }
  return verbs;
}

}  // namespace kiln::cli
