// kiln create-component | get-component | list-components | list-component-build-versions |
// delete-component: AWS's component calls through the resource client (reference 3.2).

#include "kiln/base/file.hpp"
#include "kiln/cli/resource_common.hpp"

namespace kiln::cli {
namespace {

Verb add_create_component(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "create-component",
      "Create a component version (again with a changed document: the next build)");
  auto request = std::make_shared<RequestOptions>(
      cmd, "CreateComponent", create_members(ResourceKind::kComponent));
  request->add_string("--name", "The component's name");
  request->add_string("--semantic-version", "Its version, major.minor.patch");
  request->add_string("--platform", "Linux (Windows and macOS are stored, not built)");
  request->add_string("--description", "What it does");
  request->add_string("--change-description", "What changed in this version");
  request->add_strings("--supported-os-versions", "OS versions it supports (prefix matches)");
  request->add_string("--data", "The document itself (or file://DOC.yaml)", true);
  request->add_string("--uri", "Refused: give the document as --data or --file");
  request->add_string("--kms-key-id", "Stored, not used");
  request->add_map("--tags", "KEY=VALUE,... or a JSON object");
  auto file = std::make_shared<std::string>();
  cmd->add_option("--file", *file, "kiln: read the document (data) from this file");
  auto output = add_output_option(cmd);
  return {cmd, [request, file, output](Context& context) {
            Result<Json> built = request->build();
            if (!built) {
              return report_resource_error(built.error());
            }
            Json body = std::move(*built);
            if (!file->empty()) {
              Result<std::string> data = read_file(*file);
              if (!data) {
                return report_resource_error(data.error().with_context("--file " + *file));
              }
              body["data"] = *data;
            }
            return call_and_print(context,
                                  "CreateComponent",
                                  body,
                                  output_format(*output, OutputFormat::kJson),
                                  arn_text("CreateComponent"));
          }};
}

}  // namespace

std::vector<Verb> add_component_verbs(CLI::App& app) {
  std::vector<Verb> verbs;
  verbs.push_back(add_create_component(app));
  verbs.push_back(
      add_get_verb(app,
                   {"get-component",
                    "Show a component (a build version ARN, or a version ARN with x wildcards)",
                    "--component-build-version-arn",
                    "GetComponent",
                    ResourceKind::kComponent}));
  verbs.push_back(add_list_verb(app,
                                {"list-components",
                                 "The newest build of each component version",
                                 "ListComponents",
                                 true,
                                 true,
                                 "",
                                 {{"NAME", "/name"},
                                  {"VERSION", "/version"},
                                  {"TYPE", "/type"},
                                  {"PLATFORM", "/platform"},
                                  {"OWNER", "/owner"},
                                  {"ARN", "/arn"}}}));
  verbs.push_back(add_list_verb(app,
                                {"list-component-build-versions",
                                 "Every build of one component version",
                                 "ListComponentBuildVersions",
                                 false,
                                 false,
                                 "--component-version-arn",
                                 {{"ARN", "/arn"},
                                  {"TYPE", "/type"},
                                  {"STATUS", "/state/status"},
                                  {"CREATED", "/dateCreated"},
                                  {"CHANGE", "/changeDescription"}}}));
  verbs.push_back(add_delete_verb(app,
                                  {"delete-component",
                                   "Delete a component build (refused while a recipe uses it)",
                                   "--component-build-version-arn",
                                   "DeleteComponent"}));
  return verbs;
}

}  // namespace kiln::cli
