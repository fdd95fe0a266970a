// The `kiln` command line: global options, the command groups and their verbs, and the hidden
// helper verbs kiln runs in processes of its own.

#include <cstdio>
#include <cstdlib>

#include "kiln/cli/verbs.hpp"

#ifndef KILN_VERSION
#define KILN_VERSION "0.0.0"
#endif
#ifndef KILN_BUILD_LIBEXEC
#define KILN_BUILD_LIBEXEC ""
#endif

namespace kiln::cli {
namespace {

// `kiln __instance-run FOLDER [OWNER_PID]`: the privileged half of starting an instance (with
// OWNER_PID, its parent: the instance dies with it; `__instance-net FOLDER PID` its network,
// `__instance-enter` an exec).
int instance_run(const std::string& folder, const instance::Helpers& helpers, pid_t owner) {
  Status failed = instance::run_sandbox(folder, helpers, owner);
  std::fprintf(stderr, "kiln: error: starting the sandbox: %s\n", failed.error().message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Helper verbs kiln runs itself in processes of their own (not for users, not in the help).
  if (argc >= 3 && std::string_view(argv[1]) == "__instance-run") {
    pid_t owner = argc >= 4 ? static_cast<pid_t>(std::atoi(argv[3])) : 0;
    return instance_run(argv[2], instance::find_helpers(KILN_BUILD_LIBEXEC), owner);
  }
  if (argc == 4 && std::string_view(argv[1]) == "__instance-net") {
    Status connected = instance::connect_network(argv[2], static_cast<pid_t>(std::atoi(argv[3])));
    if (!connected) {
      std::fprintf(stderr, "kiln: error: %s\n", connected.error().message.c_str());
      return 1;
    }
    return 0;
  }
  if (argc >= 6 && std::string_view(argv[1]) == "__instance-enter") {
    std::vector<std::string> command(argv + 5, argv + argc);
    std::optional<instance::Network> network = instance::network_from_name(argv[4]);
    if (!network) {
      std::fprintf(stderr, "kiln: error: entering the instance: unknown network %s\n", argv[4]);
      return 125;
    }
    Result<int> code = instance::enter_instance(
        argv[2], static_cast<pid_t>(std::atoi(argv[3])), *network, command);
    if (!code) {
      std::fprintf(
          stderr, "kiln: error: entering the instance: %s\n", code.error().message.c_str());
      return 125;
    }
    return *code;
  }

  CLI::App app{"kiln: bakes golden server images on your own machines", "kiln"};
  app.set_version_flag("--version", std::string("kiln ") + KILN_VERSION);
  app.require_subcommand(1);
  std::string root_flag;
  std::string compression = "zstd";
  app.add_option("--layer-compression",
                 compression,
                 "How new layers are compressed: zstd (default, both cores) or gzip (for "
                 "registries that want it)")
      ->check(CLI::IsMember({"zstd", "gzip"}));
  app.add_option("--root",
                 root_flag,
                 "Where kiln keeps everything (default: $KILN_ROOT, "
                 "/var/lib/kiln as root, ~/.local/share/kiln otherwise)");

  std::vector<Verb> verbs;
  CLI::App* image = app.add_subcommand("image", "Images: bootstrap, import, export, list");
  image->require_subcommand(1);
  for (auto add : {add_image_bootstrap,
                   add_image_import,
                   add_image_export,
                   add_image_list,
                   add_image_get,
                   add_image_delete}) {
    verbs.push_back(add(*image));
  }
  CLI::App* instance = app.add_subcommand("instance", "Instances: machines made from an image");
  instance->require_subcommand(1);
  for (auto add : {add_instance_launch,
                   add_instance_exec,
                   add_instance_shell,
                   add_instance_cp,
                   add_instance_snapshot,
                   add_instance_list}) {
    verbs.push_back(add(*instance));
  }
  for (Verb& verb : add_instance_lifecycle(*instance)) {
    verbs.push_back(std::move(verb));
  }

  CLI::App* store = app.add_subcommand("store", "The image store: verify, gc");
  store->require_subcommand(1);
  for (auto add : {add_store_verify, add_store_gc}) {
    verbs.push_back(add(*store));
  }
  verbs.push_back(add_build(app));
  verbs.push_back(add_serve(app));
  CLI::App* component =
      app.add_subcommand("component", "Components: run one on a throwaway instance");
  component->require_subcommand(1);
  verbs.push_back(add_component_run(*component));
  for (Verb& verb : add_resource_verbs(app)) {
    verbs.push_back(std::move(verb));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  Context context{resolve_root(root_flag), instance::find_helpers(KILN_BUILD_LIBEXEC)};
  context.layer_format =
      compression == "gzip" ? store::LayerFormat::kGzip : store::LayerFormat::kZstd;
  for (Verb& verb : verbs) {
    if (verb.command->parsed()) {
      return verb.run(context);
    }
  }
  return 2;
}

}  // namespace kiln::cli
