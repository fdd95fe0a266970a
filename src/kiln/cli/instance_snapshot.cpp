// kiln instance snapshot ID --name N --version X.Y.Z: the instance's writable layer as a new
// image whose parent is the instance's image.

#include "kiln/cli/verbs.hpp"

namespace kiln::cli {

Verb add_instance_snapshot(CLI::App& group) {
  struct Args {
    std::string id;
    std::string name;
    std::string version;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = group.add_subcommand(
      "snapshot", "Save an instance's changes as a new image (stop it first for consistency)");
  cmd->add_option("id", args->id, "Instance id (i-...)")->required();
  cmd->add_option("--name", args->name, "Image name")->required();
  cmd->add_option("--version", args->version, "Image version x.y.z")->required();
  return {cmd, [args](Context& context) {
            Result<image::ImageName> name = image_name(args->name, args->version);
            Result<image::Images*> images = context.images();
            if (!name || !images) {
              return report(!name ? name.error() : images.error());
            }
            Result<instance::InstanceRecord> record = context.instances().get(args->id);
            if (!record) {
              return report(record.error());
            }
            Result<store::ImageVersion> parent = (*images)->by_manifest(record->image_digest);
            if (!parent) {
              return report(parent.error().with_context("the instance's image"));
            }
            // upper() mounts the instance's disk again if the host restarted since launch.
            Result<std::filesystem::path> upper = context.instances().upper(args->id);
            if (!upper) {
              return report(upper.error());
            }
            Result<store::ImageVersion> made =
                (*images)->snapshot(*upper, *parent, *name, "kiln instance snapshot " + args->id);
            if (!made) {
              return report(made.error().with_context("snapshot of " + args->id));
            }
            print_image(*made);
            return 0;
          }};
}

}  // namespace kiln::cli
