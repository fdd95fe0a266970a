// kiln image bootstrap busybox|debian|ubuntu --name N --version X.Y.Z: a managed parent image.

#include "kiln/cli/verbs.hpp"

namespace kiln::cli {

Verb add_image_bootstrap(CLI::App& group) {
  struct Args {
    image::BootstrapOptions options;
    std::string name;
    std::string version;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = group.add_subcommand("bootstrap", "Make a base image: busybox, debian, ubuntu");
  cmd->add_option("distribution", args->options.distribution, "busybox, debian or ubuntu")
      ->required();
  cmd->add_option("--name", args->name, "Image name")->required();
  cmd->add_option("--version", args->version, "Image version x.y.z")->required();
  cmd->add_option("--suite", args->options.suite, "debian: bookworm; ubuntu: noble (defaults)");
  cmd->add_option("--mirror", args->options.mirror, "Package archive (default: the official)");
  cmd->add_option("--variant", args->options.variant, "mmdebstrap variant (default minbase)");
  return {cmd, [args](Context& context) {
            Result<image::ImageName> name = image_name(args->name, args->version);
            Result<image::Images*> images = context.images();
            if (!name || !images) {
              return report(!name ? name.error() : images.error());
            }
            Result<store::ImageVersion> made = (*images)->bootstrap(args->options, *name);
            if (!made) {
              return report(made.error());
            }
            print_image(*made);
            return 0;
          }};
}

}  // namespace kiln::cli
