// kiln create-image | get-image | list-images | list-image-build-versions |
// cancel-image-creation | delete-image: AWS's image calls through the resource client
// (reference 3.8).

#include "kiln/base/strings.hpp"
#include "kiln/cli/build_runner.hpp"
#include "kiln/cli/resource_common.hpp"

namespace kiln::cli {
namespace {

// "imageTestsEnabled=false,timeoutMinutes=60" (the AWS CLI's shorthand) or JSON.
Result<Json> parse_structure(const std::string& flag, const std::string& value) {
  std::string text = KILN_TRY(parameter_text(value));
  if (starts_with(trim(text), "{")) {
    Json parsed = Json::parse(text, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      return make_error(ErrorCode::kInvalidArgument, "{}: not a JSON object: {}", flag, text);
    }
    return parsed;
  }
  Json object = Json::object();
  for (const std::string& pair : split(text, ',')) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: expected KEY=VALUE[,KEY=VALUE...], got \"{}\"",
                        flag,
                        pair);
    }
    std::string key = pair.substr(0, eq);
    std::string v = pair.substr(eq + 1);
    if (v == "true" || v == "false") {
      object[key] = v == "true";
    } else if (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos &&
               v.size() < 10) {
      object[key] = std::stoi(v);
    } else {
      object[key] = v;
    }
  }
  return object;
}

Verb add_create_image(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "create-image", "Create an image from a recipe and configurations, and build it");
  auto request =
      std::make_shared<RequestOptions>(cmd, "CreateImage", create_members(ResourceKind::kImage));
  request->add_string("--image-recipe-arn", "The recipe");
  request->add_string("--infrastructure-configuration-arn", "How the build runs");
  request->add_string("--distribution-configuration-arn", "Where the image is copied (optional)");
  auto tests = std::make_shared<std::string>();
  cmd->add_option(
      "--image-tests-configuration", *tests, "imageTestsEnabled=true|false[,timeoutMinutes=N]");
  request->add_bool("--enhanced-image-metadata-enabled", "Stored, not used");
  request->add_map("--tags", "KEY=VALUE,... or a JSON object");
  request->add_json("--workflows", "JSON (stored)");
  request->add_string("--execution-role", "Stored, not used");
  request->add_json("--logging-configuration", "JSON (stored)");
  request->add_json("--image-scanning-configuration", "JSON (stored)");
  auto no_build = std::make_shared<bool>(false);
  cmd->add_flag("--no-build", *no_build, "kiln: only record the image (PENDING); build it later");
  auto no_wait = std::make_shared<bool>(false);
  cmd->add_flag("--no-wait", *no_wait, "kiln, with a daemon: return once the build is queued");
  auto verbose = std::make_shared<bool>(false);
  cmd->add_flag("--verbose", *verbose, "kiln: stream every step's output while building");
  auto output = add_output_option(cmd);
  return {cmd, [request, tests, no_build, no_wait, verbose, output](Context& context) {
            Result<Json> body = request->build();
            if (!body) {
              return report_resource_error(body.error());
            }
            if (!tests->empty()) {
              Result<Json> parsed = parse_structure("--image-tests-configuration", *tests);
              if (!parsed) {
                return report_resource_error(parsed.error());
              }
              (*body)["imageTestsConfiguration"] = *parsed;
            }
            Result<std::unique_ptr<ResourceClient>> client = open_resource_client(context);
            if (!client) {
              return report_resource_error(client.error());
            }
            if ((*client)->builds_locally() ? *no_wait : *no_build) {
              return report(Error{ErrorCode::kInvalidArgument,
                                  (*client)->builds_locally()
                                      ? "--no-wait: only with a daemon (KILN_ENDPOINT)"
                                      : "--no-build: the daemon builds every image it "
                                        "creates (--no-wait returns at once)"});
            }
            Result<Json> response = (*client)->call("CreateImage", *body);
            if (!response) {
              return report(response.error());
            }
            if (*no_build) {
              // Nobody builds it now: unowned, as a never-started image is, so that recovery
              // leaves it PENDING (and a daemon started on this state queues it).
              Result<state::Catalog*> catalog = context.catalog();
              if (!catalog) {
                return report(catalog.error());
              }
              Result<Json> released =
                  (*catalog)->update_image(response->value("imageBuildVersionArn", ""),
                                           [](Json& image) { image.erase("kiln"); });
              if (!released) {
                return report(released.error());
              }
            }
            print_response(*response,
                           output_format(*output, OutputFormat::kJson),
                           arn_text("CreateImage")(*response));
            std::fflush(stdout);
            if (*no_build || *no_wait) {
              return 0;
            }
            BuildOutputOptions options;
            options.verbose = *verbose;
            options.print_arn = false;  // the response above named it
            return follow_image_build(
                context, **client, response->value("imageBuildVersionArn", ""), options);
          }};
}

Verb add_cancel_image_creation(CLI::App& app) {
  auto arn = std::make_shared<std::string>();
  auto token = std::make_shared<std::string>();
  CLI::App* cmd =
      app.add_subcommand("cancel-image-creation", "Cancel an image's build (only before it ended)");
  cmd->add_option("--image-build-version-arn", *arn, "The image")->required();
  cmd->add_option("--client-token", *token, "Idempotency token (a new one when not given)");
  auto output = add_output_option(cmd);
  return {cmd, [arn, token, output](Context& context) {
            Json request = {{"imageBuildVersionArn", *arn}};
            if (!token->empty()) {
              request["clientToken"] = *token;
            }
            return call_and_print(context,
                                  "CancelImageCreation",
                                  request,
                                  output_format(*output, OutputFormat::kJson),
                                  arn_text("CancelImageCreation"));
          }};
}

}  // namespace

std::vector<Verb> add_image_verbs(CLI::App& app) {
  std::vector<Verb> verbs;
  verbs.push_back(add_create_image(app));
  verbs.push_back(add_get_verb(
      app,
      {"get-image",
       "Show an image: its status, the recipe and configurations it was made from, its outputs",
       "--image-build-version-arn",
       "GetImage",
       ResourceKind::kImage}));
  verbs.push_back(add_list_verb(app,
                                {"list-images",
                                 "The newest build of each image version",
                                 "ListImages",
                                 true,
                                 true,
                                 "",
                                 {{"NAME", "/name"},
                                  {"VERSION", "/version"},
                                  {"TYPE", "/type"},
                                  {"CREATED", "/dateCreated"},
                                  {"ARN", "/arn"}}}));
  verbs.push_back(add_list_verb(app,
                                {"list-image-build-versions",
                                 "Every build of one image version, newest first",
                                 "ListImageBuildVersions",
                                 false,
                                 false,
                                 "--image-version-arn",
                                 {{"ARN", "/arn"},
                                  {"STATUS", "/state/status"},
                                  {"CREATED", "/dateCreated"},
                                  {"BUILD TYPE", "/buildType"}}}));
  verbs.push_back(add_cancel_image_creation(app));
  verbs.push_back(add_delete_verb(app,
                                  {"delete-image",
                                   "Delete an image's record (only once its build ended)",
                                   "--image-build-version-arn",
                                   "DeleteImage"}));
  return verbs;
}

std::vector<Verb> add_resource_verbs(CLI::App& app) {
  std::vector<Verb> verbs;
  for (auto* add :
       {&add_component_verbs, &add_recipe_verbs, &add_configuration_verbs, &add_image_verbs}) {
    for (Verb& verb : (*add)(app)) {
      verbs.push_back(std::move(verb));
    }
  }
  return verbs;
}

}  // namespace kiln::cli
