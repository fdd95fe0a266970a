// kiln build RECIPE.yaml [--infrastructure FILE] [--distribution FILE]: the one command. Creates
// or updates what the files describe (components given by path, the recipe, the
// configurations), creates the image and runs its build with progress on the terminal.

#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "kiln/base/file.hpp"
#include "kiln/build/workflow.hpp"
#include "kiln/catalog/arn.hpp"
#include "kiln/cli/build_runner.hpp"
#include "kiln/cli/output.hpp"
#include "kiln/cli/verbs.hpp"

#ifndef KILN_BUILD_TOE_BUNDLE
#define KILN_BUILD_TOE_BUNDLE ""
#endif
#ifndef KILN_SOURCE_SHARE_DIR
#define KILN_SOURCE_SHARE_DIR ""
#endif

namespace kiln::cli {
namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
}

Result<Json> read_request_file(const fs::path& path) {
  std::string text = KILN_TRY_CTX(read_file(path), "reading " + path.string());
  Json request = KILN_TRY_CTX(yaml_to_json(text), path.string());
  if (!request.is_object()) {
    return make_error(
        ErrorCode::kInvalidArgument, "{}: must be a mapping of members", path.string());
  }
  return request;
}

// The ARN a configuration named `name` has (configurations are not versioned).
std::string configuration_arn(const state::Account& account,
                              catalog::ResourceType type,
                              const std::string& name) {
  catalog::ImageBuilderArn arn;
  arn.partition = account.partition;
  arn.region = account.region;
  arn.account = account.account_id;
  arn.type = type;
  arn.name = catalog::arn_name(name);
  return arn.str();
}

// Creates the configuration, or updates the one of that name to what the file says.
Result<std::string> put_configuration(state::Catalog& catalog,
                                      catalog::ResourceType type,
                                      Json request) {
  bool infra = type == catalog::ResourceType::kInfrastructureConfiguration;
  Result<state::Created> created = infra ? catalog.create_infrastructure_configuration(request)
                                         : catalog.create_distribution_configuration(request);
  if (created) {
    return created->arn;
  }
  if (created.error().code != ErrorCode::kAlreadyExists) {
    return created.error();
  }
  std::string arn = configuration_arn(catalog.account(), type, request.value("name", ""));
  request.erase("name");
  request.erase("tags");
  request[infra ? "infrastructureConfigurationArn" : "distributionConfigurationArn"] = arn;
  return infra ? catalog.update_infrastructure_configuration(request)
               : catalog.update_distribution_configuration(request);
}

// Components given as `path:` become catalog components (a changed file gets a new build).
Status register_local_components(state::Catalog& catalog, Json& recipe, const fs::path& base) {
  if (!recipe.contains("components") || !recipe["components"].is_array()) {
    return ok_status();
  }
  for (Json& entry : recipe["components"]) {
    if (!entry.is_object() || !entry.contains("path")) {
      continue;
    }
    fs::path file = base / entry["path"].get<std::string>();
    std::string data = KILN_TRY_CTX(read_file(file), "component " + file.string());
    Json document = KILN_TRY_CTX(yaml_to_json(data), file.string());
    std::string name = entry.value("name", document.is_object() ? document.value("name", "") : "");
    if (name.empty()) {
      name = file.stem().string();
    }
    Json request{{"name", name},
                 {"semanticVersion", entry.value("semanticVersion", "1.0.0")},
                 {"platform", "Linux"},
                 {"data", data}};
    if (document.is_object() && document.contains("description")) {
      request["description"] = document["description"];
    }
    state::Created created =
        KILN_TRY_CTX(catalog.create_component(request), "component " + file.string());
    Json replaced{{"componentArn", created.arn}};
    if (entry.contains("parameters")) {
      replaced["parameters"] = entry["parameters"];
    }
    entry = std::move(replaced);
  }
  return ok_status();
}

// --- Progress ---------------------------------------------------------------------------------

std::string short_component(const std::string& arn) {
  Result<catalog::ImageBuilderArn> parsed = catalog::ImageBuilderArn::parse(arn);
  return parsed ? parsed->name : arn;
}

class Display {
 public:
  explicit Display(const BuildOutputOptions& options)
      : options_(options), tty_(::isatty(STDERR_FILENO) == 1) {}

  void operator()(const build::Event& e) {
    if (options_.json) {
      print_json(e);
      return;
    }
    switch (e.kind) {
      case build::Event::Kind::kStatus:
        clear();
        std::fprintf(stderr, "[%7.1fs] %s\n", e.elapsed, e.status.c_str());
        break;
      case build::Event::Kind::kStage:
        clear();
        std::fprintf(stderr, "[%7.1fs]   %s\n", e.elapsed, e.stage.c_str());
        break;
      case build::Event::Kind::kStep:
        if (e.step_status.empty()) {
          if (tty_) {
            clear();
            std::string line = fmt::format("[{:7.1f}s]     {} {} {} ...",
                                           e.elapsed,
                                           short_component(e.component),
                                           e.phase,
                                           e.step);
            std::fprintf(stderr, "%s", line.c_str());
            status_shown_ = true;
          }
        } else {
          clear();
          std::fprintf(stderr,
                       "[%7.1fs]     %s %s %s: %s%s%s\n",
                       e.elapsed,
                       short_component(e.component).c_str(),
                       e.phase.c_str(),
                       e.step.c_str(),
                       e.step_status.c_str(),
                       e.text.empty() ? "" : ": ",
                       e.text.c_str());
        }
        break;
      case build::Event::Kind::kOutput:
        if (options_.verbose) {
          clear();
          std::fwrite(e.text.data(), 1, e.text.size(), stderr);
        }
        break;
      case build::Event::Kind::kNote:
        if (!e.text.empty()) {
          clear();
          std::fprintf(stderr, "[%7.1fs]     %s\n", e.elapsed, e.text.c_str());
        }
        break;
    }
    std::fflush(stderr);
  }

 private:
  void clear() {
    if (status_shown_) {
      std::fprintf(stderr, "\r\033[K");
      status_shown_ = false;
    }
  }
  static void print_json(const build::Event& e) {
    static constexpr const char* kKinds[] = {"status", "stage", "step", "output", "note"};
    Json j{{"event", kKinds[static_cast<int>(e.kind)]}, {"elapsed", e.elapsed}};
    auto put = [&](const char* key, const std::string& value) {
      if (!value.empty()) {
        j[key] = value;
      }
    };
    put("stage", e.stage);
    put("status", e.status);
    put("reason", e.reason);
    put("component", e.component);
    put("phase", e.phase);
    put("step", e.step);
    put("stepStatus", e.step_status);
    put("text", e.text);
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
  }

  BuildOutputOptions options_;
  bool tty_;
  bool status_shown_ = false;
};

}  // namespace

int run_image_build(Context& context,
                    const std::string& image_arn,
                    const BuildOutputOptions& options) {
  Result<image::Images*> images = context.images();
  Result<state::Catalog*> catalog = context.catalog();
  if (!images || !catalog) {
    return report(!images ? images.error() : catalog.error());
  }
  Result<build::ToeBundle> toe = build::find_toe_bundle(KILN_BUILD_TOE_BUNDLE);
  if (!toe) {
    return report(toe.error());
  }
  build::BuildEnvironment env;
  env.root = context.root;
  env.images = *images;
  env.helpers = context.helpers;
  env.catalog = *catalog;
  env.toe = *toe;
  env.share_dir = build::find_share_dir(KILN_SOURCE_SHARE_DIR);

  struct sigaction action {};
  action.sa_handler = on_interrupt;
  ::sigemptyset(&action.sa_mask);
  struct sigaction old_int {};
  struct sigaction old_term {};
  ::sigaction(SIGINT, &action, &old_int);
  ::sigaction(SIGTERM, &action, &old_term);
  g_interrupted.store(false);

  if (!options.json) {
    std::fprintf(stderr, "building %s\n", image_arn.c_str());
  }
  Display display(options);
  Result<build::BuildOutcome> outcome = build::run_build(env, image_arn, &g_interrupted, display);
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  if (!outcome) {
    return report(outcome.error().with_context("building " + image_arn));
  }
  if (options.json) {
    Json done{{"event", "done"},
              {"arn", image_arn},
              {"status", state::image_status_name(outcome->status)},
              {"logLocation", outcome->log_folder.string()}};
    if (!outcome->reason.empty()) {
      done["reason"] = outcome->reason;
    }
    if (!outcome->kept_instance.empty()) {
      done["keptInstance"] = outcome->kept_instance;
    }
    std::printf("%s\n", done.dump().c_str());
  } else {
    std::fprintf(stderr, "logs: %s\n", outcome->log_folder.string().c_str());
    if (outcome->status == state::ImageStatus::kAvailable) {
      if (options.print_arn) {
        std::printf("%s\n", image_arn.c_str());
      }
    } else {
      std::fprintf(stderr,
                   "kiln: %s: %s\n",
                   std::string(state::image_status_name(outcome->status)).c_str(),
                   outcome->reason.c_str());
      if (!outcome->kept_instance.empty()) {
        std::fprintf(stderr,
                     "kiln: the instance %s is kept: kiln instance shell %s\n",
                     outcome->kept_instance.c_str(),
                     outcome->kept_instance.c_str());
      }
    }
  }
  switch (outcome->status) {
    case state::ImageStatus::kAvailable:
      return 0;
    case state::ImageStatus::kCancelled:
      return 130;
    default:
      return 1;
  }
}

Verb add_build(CLI::App& app) {
  struct Args {
    std::string recipe;
    std::string infrastructure;
    std::string distribution;
    bool verbose = false;
    bool json = false;
    bool no_tests = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "build", "Build a recipe into a tested, distributed image (creates what the files describe)");
  cmd->add_option("recipe", args->recipe, "Recipe file (CreateImageRecipe members, YAML or JSON)")
      ->required();
  cmd->add_option("--infrastructure",
                  args->infrastructure,
                  "Infrastructure configuration file (CreateInfrastructureConfiguration members)");
  cmd->add_option("--distribution",
                  args->distribution,
                  "Distribution configuration file (CreateDistributionConfiguration members)");
  cmd->add_flag("--verbose,-v", args->verbose, "Stream every step's output");
  cmd->add_flag("--json", args->json, "Print one JSON event per line instead of the display");
  cmd->add_flag("--no-tests", args->no_tests, "Skip the test stage (imageTestsEnabled: false)");
  return {
      cmd, [args](Context& context) {
        Result<state::Catalog*> opened = context.catalog();
        Result<image::Images*> images = context.images();
        if (!opened || !images) {
          return report(!opened ? opened.error() : images.error());
        }
        state::Catalog& catalog = **opened;
        fs::path recipe_file = args->recipe;
        auto prepare = [&]() -> Result<std::string> {
          Json recipe = KILN_TRY(read_request_file(recipe_file));
          KILN_TRY(register_local_components(catalog, recipe, recipe_file.parent_path()));
          state::Created made =
              KILN_TRY_CTX(catalog.create_image_recipe(recipe), "recipe " + recipe_file.string());
          Json infra{{"name", "kiln-default"},
                     {"description", "kiln build's default: no limits, terminate on failure"}};
          if (!args->infrastructure.empty()) {
            infra = KILN_TRY(read_request_file(args->infrastructure));
          }
          std::string infra_arn =
              KILN_TRY_CTX(put_configuration(
                               catalog, catalog::ResourceType::kInfrastructureConfiguration, infra),
                           "infrastructure configuration");
          Json request{{"imageRecipeArn", made.arn}, {"infrastructureConfigurationArn", infra_arn}};
          if (!args->distribution.empty()) {
            Json dist = KILN_TRY(read_request_file(args->distribution));
            request["distributionConfigurationArn"] = KILN_TRY_CTX(
                put_configuration(catalog, catalog::ResourceType::kDistributionConfiguration, dist),
                "distribution configuration");
          }
          if (args->no_tests) {
            request["imageTestsConfiguration"] = Json{{"imageTestsEnabled", false}};
          }
          Json stored = KILN_TRY(catalog.get_image_recipe(made.arn));
          state::Created image = KILN_TRY(catalog.create_image(
              request,
              build::first_free_build(
                  (*images)->store(), stored.value("name", ""), stored.value("version", ""))));
          return image.arn;
        };
        Result<std::string> arn = prepare();
        if (!arn) {
          return report_resource_error(arn.error());
        }
        return run_image_build(context, *arn, BuildOutputOptions{args->verbose, args->json, true});
      }};
}

}  // namespace kiln::cli
