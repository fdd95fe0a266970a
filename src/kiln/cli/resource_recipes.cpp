// kiln create-image-recipe | get-image-recipe | list-image-recipes | delete-image-recipe:
// AWS's image recipe calls through the resource client (reference 3.3).

#include "kiln/cli/resource_common.hpp"

namespace kiln::cli {
namespace {

void image_recipe_flags(RequestOptions& request) {
  request.add_string("--name", "The recipe's name");
  request.add_string("--semantic-version", "major.minor.patch, or with x wildcards (1.0.x)");
  request.add_string("--description", "What it makes");
  request.add_string("--parent-image", "The image to start from (an image ARN or name/x.y.z)");
  request.add_json("--components", "JSON: [{\"componentArn\": ...}, ...] (or file://F)");
  request.add_string("--working-directory", "Where the build works inside the instance");
  request.add_json("--block-device-mappings", "JSON (stored; kiln's disks are folders)");
  request.add_json("--additional-instance-configuration", "JSON (stored)");
  request.add_map("--tags", "KEY=VALUE,... or a JSON object");
  request.add_map("--ami-tags", "Tags of the output image: KEY=VALUE,... or JSON");
}

}  // namespace

std::vector<Verb> add_recipe_verbs(CLI::App& app) {
  std::vector<Verb> verbs;
  verbs.push_back(add_request_verb(
      app,
      {"create-image-recipe",
       "Create an image recipe (semanticVersion 1.0.x: the next patch when the content changed)",
       "CreateImageRecipe",
       create_members(ResourceKind::kImageRecipe),
       image_recipe_flags}));
  verbs.push_back(add_get_verb(app,
                               {"get-image-recipe",
                                "Show an image recipe",
                                "--image-recipe-arn",
                                "GetImageRecipe",
                                ResourceKind::kImageRecipe}));
  verbs.push_back(add_list_verb(app,
                                {"list-image-recipes",
                                 "Image recipes",
                                 "ListImageRecipes",
                                 true,
                                 true,
                                 "",
                                 {{"NAME", "/name"},
                                  {"PLATFORM", "/platform"},
                                  {"PARENT", "/parentImage"},
                                  {"CREATED", "/dateCreated"},
                                  {"ARN", "/arn"}}}));
  verbs.push_back(add_delete_verb(app,
                                  {"delete-image-recipe",
                                   "Delete an image recipe",
                                   "--image-recipe-arn",
                                   "DeleteImageRecipe"}));
  return verbs;
}

}  // namespace kiln::cli
