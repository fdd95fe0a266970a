// kiln build RECIPE.yaml [--infrastructure FILE] [--distribution FILE]: the one command. Creates
// or updates what the files describe (components given by path, the recipe, the
// configurations), creates the image and runs its build with progress on the terminal.

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "kiln/base/file.hpp"
#include "kiln/build/workflow.hpp"
#include "kiln/catalog/arn.hpp"
#include "kiln/cli/build_runner.hpp"
#include "kiln/cli/output.hpp"
#include "kiln/cli/resource_common.hpp"
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

// Creates the configuration, or updates the one of that name to what the file says.
Result<std::string> put_configuration(ResourceClient& client, bool infra, Json request) {
  std::string kind = infra ? "InfrastructureConfiguration" : "DistributionConfiguration";
  std::string arn_member =
      infra ? "infrastructureConfigurationArn" : "distributionConfigurationArn";
  Result<Json> created = client.call("Create" + kind, request);
  if (created) {
    return created->value(arn_member, "");
  }
  if (created.error().code != ErrorCode::kAlreadyExists) {
    return created.error();
  }
  std::string name = request.value("name", "");
  Json named = KILN_TRY(call_all_pages(
      client, "List" + kind + "s", {{"filters", {{{"name", "name"}, {"values", {name}}}}}}));
  const Json& list = named[result_member("List" + kind + "s")];
  if (list.empty()) {
    return created.error();
  }
  request.erase("name");
  request.erase("tags");
  request[arn_member] = list[0].value("arn", "");
  return KILN_TRY(client.call("Update" + kind, request)).value(arn_member, "");
}

// Components given as `path:` become catalog components (a changed file gets a new build).
Status register_local_components(ResourceClient& client, Json& recipe, const fs::path& base) {
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
    Json created =
        KILN_TRY_CTX(client.call("CreateComponent", request), "component " + file.string());
    Json replaced{{"componentArn", created.value("componentBuildVersionArn", "")}};
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

// While it lives: SIGINT, SIGTERM and SIGHUP (the terminal closed) set g_interrupted (the build
// or the wait then cancels, cleanly); SIGPIPE is ignored, so that a reader that went away
// (`kiln build ... | head -1`) costs only the output: writes fail with EPIPE, which kiln takes
// as nobody watching, and the build goes on to its end (docs/build.md).
class InterruptGuard {
 public:
  InterruptGuard() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    ::sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
    ::sigaction(SIGHUP, &action, &old_hup_);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGPIPE, &ignore, &old_pipe_);
    g_interrupted.store(false);
  }
  ~InterruptGuard() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    ::sigaction(SIGHUP, &old_hup_, nullptr);
    ::sigaction(SIGPIPE, &old_pipe_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  struct sigaction old_hup_ {};
  struct sigaction old_pipe_ {};
};

// How a build ended, wherever it ran.
struct Ending {
  std::string arn;
  state::ImageStatus status = state::ImageStatus::kFailed;
  std::string reason;
  std::string log_location;
  std::string kept_instance;
};

// Prints the end of a build (the ARN on stdout when AVAILABLE, or the reason on stderr; one JSON
// line with --json) and returns the exit code: 0 AVAILABLE, 130 CANCELLED, 1 otherwise.
int finish(const Ending& end, const BuildOutputOptions& options) {
  std::string status(state::image_status_name(end.status));
  if (options.json) {
    Json done{{"event", "done"}, {"arn", end.arn}, {"status", status}};
    if (!end.log_location.empty()) {
      done["logLocation"] = end.log_location;
    }
    if (!end.reason.empty()) {
      done["reason"] = end.reason;
    }
    if (!end.kept_instance.empty()) {
      done["keptInstance"] = end.kept_instance;
    }
    std::printf("%s\n", done.dump().c_str());
  } else {
    if (!end.log_location.empty()) {
      std::fprintf(stderr, "logs: %s\n", end.log_location.c_str());
    }
    if (end.status == state::ImageStatus::kAvailable) {
      if (options.print_arn) {
        std::printf("%s\n", end.arn.c_str());
      }
    } else {
      std::fprintf(stderr, "kiln: %s: %s\n", status.c_str(), end.reason.c_str());
      if (!end.kept_instance.empty()) {
        std::fprintf(stderr,
                     "kiln: the instance %s is kept: kiln instance shell %s\n",
                     end.kept_instance.c_str(),
                     end.kept_instance.c_str());
      }
    }
  }
  switch (end.status) {
    case state::ImageStatus::kAvailable:
      return 0;
    case state::ImageStatus::kCancelled:
      return 130;
    default:
      return 1;
  }
}

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

  Result<build::BuildOutcome> outcome = [&] {
    InterruptGuard interrupts;
    if (!options.json) {
      std::fprintf(stderr, "building %s\n", image_arn.c_str());
    }
    Display display(options);
    return build::run_build(env, image_arn, &g_interrupted, display);
  }();
  if (!outcome) {
    return report(outcome.error().with_context("building " + image_arn));
  }
  // The end is reported even to a reader that went away: the exit code tells how it ended.
  ::signal(SIGPIPE, SIG_IGN);
  return finish({image_arn,
                 outcome->status,
                 outcome->reason,
                 outcome->log_folder.string(),
                 outcome->kept_instance},
                options);
}

int wait_for_image(ResourceClient& client,
                   const std::string& image_arn,
                   const BuildOutputOptions& options) {
  InterruptGuard interrupts;
  auto started = std::chrono::steady_clock::now();
  bool cancel_sent = false;
  std::string shown;
  if (!options.json) {
    std::fprintf(stderr, "the daemon builds %s\n", image_arn.c_str());
  }
  for (;;) {
    if (g_interrupted.load() && !cancel_sent) {
      cancel_sent = true;
      Result<Json> cancelled =
          client.call("CancelImageCreation", {{"imageBuildVersionArn", image_arn}});
      if (!cancelled) {
        report(cancelled.error());
      }
    }
    Result<Json> got = client.call("GetImage", {{"imageBuildVersionArn", image_arn}});
    if (!got) {
      return report(got.error());
    }
    Json state = (*got)["image"].value("state", Json::object());
    std::string status = state.value("status", "");
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (status != shown) {
      shown = status;
      if (options.json) {
        std::printf(
            "%s\n",
            Json{{"event", "status"}, {"elapsed", elapsed}, {"status", status}}.dump().c_str());
        std::fflush(stdout);
      } else {
        std::fprintf(stderr, "[%7.1fs] %s\n", elapsed, status.c_str());
      }
    }
    std::optional<state::ImageStatus> parsed = state::parse_image_status(status);
    if (parsed && state::is_terminal(*parsed)) {
      return finish({image_arn, *parsed, state.value("reason", ""), "", ""}, options);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

int follow_image_build(Context& context,
                       ResourceClient& client,
                       const std::string& image_arn,
                       const BuildOutputOptions& options) {
  return client.builds_locally() ? run_image_build(context, image_arn, options)
                                 : wait_for_image(client, image_arn, options);
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
        Result<std::unique_ptr<ResourceClient>> opened = open_resource_client(context);
        if (!opened) {
          return report_resource_error(opened.error());
        }
        ResourceClient& client = **opened;
        fs::path recipe_file = args->recipe;
        auto prepare = [&]() -> Result<std::string> {
          Json recipe = KILN_TRY(read_request_file(recipe_file));
          KILN_TRY(register_local_components(client, recipe, recipe_file.parent_path()));
          Json made = KILN_TRY_CTX(client.call("CreateImageRecipe", recipe),
                                   "recipe " + recipe_file.string());
          Json infra{{"name", "kiln-default"},
                     {"description", "kiln build's default: no limits, terminate on failure"}};
          if (!args->infrastructure.empty()) {
            infra = KILN_TRY(read_request_file(args->infrastructure));
          }
          if (!infra.contains("instanceProfileName")) {
            infra["instanceProfileName"] = "kiln";  // AWS requires one; kiln does not use it
          }
          Json request{{"imageRecipeArn", made.value("imageRecipeArn", "")},
                       {"infrastructureConfigurationArn",
                        KILN_TRY_CTX(put_configuration(client, true, infra),
                                     "infrastructure configuration")}};
          if (!args->distribution.empty()) {
            Json dist = KILN_TRY(read_request_file(args->distribution));
            request["distributionConfigurationArn"] =
                KILN_TRY_CTX(put_configuration(client, false, dist), "distribution configuration");
          }
          if (args->no_tests) {
            request["imageTestsConfiguration"] = Json{{"imageTestsEnabled", false}};
          }
          return KILN_TRY(client.call("CreateImage", request)).value("imageBuildVersionArn", "");
        };
        Result<std::string> arn = prepare();
        if (!arn) {
          return report(arn.error());
        }
        return follow_image_build(
            context, client, *arn, BuildOutputOptions{args->verbose, args->json, true});
      }};
}

}  // namespace kiln::cli
