// kiln create-image-recipe | get-image-recipe | list-image-recipes | delete-image-recipe:
// AWS's image recipe calls over the catalog (reference 3.3).

#include "kiln/cli/resource_common.hpp"

namespace kiln::cli {
namespace {

Verb add_create_image_recipe(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "create-image-recipe",
      "Create an image recipe (semanticVersion 1.0.x: the next patch when the content changed)");
  auto request = std::make_shared<RequestOptions>(
      cmd, "CreateImageRecipe", create_members(ResourceKind::kImageRecipe));
  request->add_string("--name", "The recipe's name");
  request->add_string("--semantic-version", "major.minor.patch, or with x wildcards (1.0.x)");
  request->add_string("--description", "What it makes");
  request->add_string("--parent-image", "The image to start from (an image ARN or name/x.y.z)");
  request->add_json("--components", "JSON: [{\"componentArn\": ...}, ...] (or file://F)");
  request->add_string("--working-directory", "Where the build works inside the instance");
  request->add_json("--block-device-mappings", "JSON (stored; kiln's disks are folders)");
  request->add_json("--additional-instance-configuration", "JSON (stored)");
  request->add_map("--tags", "KEY=VALUE,... or a JSON object");
  request->add_map("--ami-tags", "Tags of the output image: KEY=VALUE,... or JSON");
  auto output = add_output_option(cmd);
  return {
      cmd, [request, output](Context& context) {
        Result<Json> body = request->build();
        if (!body) {
          return report_resource_error(body.error());
        }
        return with_catalog(context, [&](state::Catalog& catalog) {
          Result<state::Created> created = catalog.create_image_recipe(*body);
          if (!created) {
            return report_resource_error(created.error());
          }
          print_created(
              *body, "imageRecipeArn", created->arn, output_format(*output, OutputFormat::kJson));
          return 0;
        });
      }};
}

}  // namespace

std::vector<Verb> add_recipe_verbs(CLI::App& app) {
  std::vector<Verb> verbs;
  verbs.push_back(add_create_image_recipe(app));
  verbs.push_back(add_get_verb(app,
                               {"get-image-recipe",
                                "Show an image recipe",
                                "--image-recipe-arn",
                                "imageRecipe",
                                ResourceKind::kImageRecipe,
                                [](state::Catalog& catalog, std::string_view arn) {
                                  return catalog.get_image_recipe(arn);
                                }}));
  verbs.push_back(
      add_list_verb(app,
                    {"list-image-recipes",
                     "Image recipes",
                     "imageRecipeSummaryList",
                     true,
                     true,
                     "",
                     {{"NAME", "/name"},
                      {"PLATFORM", "/platform"},
                      {"PARENT", "/parentImage"},
                      {"CREATED", "/dateCreated"},
                      {"ARN", "/arn"}},
                     [](state::Catalog& catalog, const state::ListQuery& query, std::string_view) {
                       return catalog.list_image_recipes(query);
                     }}));
  verbs.push_back(add_delete_verb(app,
                                  {"delete-image-recipe",
                                   "Delete an image recipe",
                                   "--image-recipe-arn",
                                   [](state::Catalog& catalog, std::string_view arn) {
                                     return catalog.delete_image_recipe(arn);
                                   }}));
  return verbs;
}

}  // namespace kiln::cli
