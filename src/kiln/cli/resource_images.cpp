// kiln create-image | get-image | list-images | list-image-build-versions |
// cancel-image-creation | delete-image: AWS's image calls over the catalog (reference 3.8).

#include "kiln/base/strings.hpp"
#include "kiln/build/workflow.hpp"
#include "kiln/catalog/arn.hpp"
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

// The first build number the image may take: after every build of the recipe's name and
// version already in the image store (builds the catalog may not know of).
uint32_t first_free_build(Context& context, state::Catalog& catalog, const Json& request) {
  if (!request.contains("imageRecipeArn") || !request["imageRecipeArn"].is_string()) {
    return 1;
  }
  Result<Json> recipe = catalog.get_image_recipe(request["imageRecipeArn"].get<std::string>());
  Result<image::Images*> images = context.images();
  if (!recipe || !images) {
    return 1;  // the catalog says what is wrong with the recipe
  }
  return build::first_free_build(
      (*images)->store(), recipe->value("name", ""), recipe->value("version", ""));
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
  auto verbose = std::make_shared<bool>(false);
  cmd->add_flag("--verbose", *verbose, "kiln: stream every step's output while building");
  auto output = add_output_option(cmd);
  return {cmd, [request, tests, no_build, verbose, output](Context& context) {
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
            OutputFormat format = output_format(*output, OutputFormat::kJson);
            std::string arn;
            int code = with_catalog(context, [&](state::Catalog& catalog) {
              Result<state::Created> created =
                  catalog.create_image(*body, first_free_build(context, catalog, *body));
              if (!created) {
                return report_resource_error(created.error());
              }
              arn = created->arn;
              print_created(*body, "imageBuildVersionArn", arn, format);
              std::fflush(stdout);
              return 0;
            });
            if (code != 0 || *no_build) {
              return code;
            }
            BuildOutputOptions options;
            options.verbose = *verbose;
            options.print_arn = false;  // the response above named it
            return run_image_build(context, arn, options);
          }};
}

Verb add_cancel_image_creation(CLI::App& app) {
  auto arn = std::make_shared<std::string>();
  auto token = std::make_shared<std::string>();
  CLI::App* cmd =
      app.add_subcommand("cancel-image-creation", "Cancel an image's build (only before it ended)");
  cmd->add_option("--image-build-version-arn", *arn, "The image")->required();
  cmd->add_option("--client-token", *token, "Idempotency token (accepted, not used)");
  auto output = add_output_option(cmd);
  return {cmd, [arn, token, output](Context& context) {
            return with_catalog(context, [&](state::Catalog& catalog) {
              Result<Json> image = catalog.get_image(*arn);
              if (!image) {
                return report_resource_error(image.error());
              }
              std::string status =
                  image->contains("state") ? (*image)["state"].value("status", "") : std::string();
              std::optional<state::ImageStatus> current = state::parse_image_status(status);
              if (current && state::is_terminal(*current)) {
                return report_resource_error(make_error(
                    ErrorCode::kConflict,
                    "the image {} is {}: only an image still being built can be cancelled",
                    *arn,
                    status));
              }
              Result<Json> updated = catalog.set_image_status(
                  *arn, state::ImageStatus::kCancelled, "Cancelled by cancel-image-creation");
              if (!updated) {
                return report_resource_error(updated.error());
              }
              Json request = {{"clientToken", token->empty() ? new_request_id() : *token}};
              print_created(request,
                            "imageBuildVersionArn",
                            updated->value("arn", *arn),
                            output_format(*output, OutputFormat::kJson));
              return 0;
            });
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
       "image",
       ResourceKind::kImage,
       [](state::Catalog& catalog, std::string_view arn) { return catalog.get_image(arn); }}));
  verbs.push_back(
      add_list_verb(app,
                    {"list-images",
                     "The newest build of each image version",
                     "imageVersionList",
                     true,
                     true,
                     "",
                     {{"NAME", "/name"},
                      {"VERSION", "/version"},
                      {"TYPE", "/type"},
                      {"CREATED", "/dateCreated"},
                      {"ARN", "/arn"}},
                     [](state::Catalog& catalog, const state::ListQuery& query, std::string_view) {
                       return catalog.list_images(query);
                     }}));
  verbs.push_back(
      add_list_verb(app,
                    {"list-image-build-versions",
                     "Every build of one image version, newest first",
                     "imageSummaryList",
                     false,
                     false,
                     "--image-version-arn",
                     {{"ARN", "/arn"},
                      {"STATUS", "/state/status"},
                      {"CREATED", "/dateCreated"},
                      {"BUILD TYPE", "/buildType"}},
                     [](state::Catalog& catalog, const state::ListQuery&, std::string_view arn) {
                       return catalog.list_image_build_versions(arn);
                     }}));
  verbs.push_back(add_cancel_image_creation(app));
  verbs.push_back(add_delete_verb(
      app,
      {"delete-image",
       "Delete an image's record (only once its build ended)",
       "--image-build-version-arn",
       [](state::Catalog& catalog, std::string_view arn) { return catalog.delete_image(arn); }}));
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
