// kiln image import PATH --name N --version X.Y.Z: a rootfs tarball, a folder, an OCI layout or
// an OCI archive as a new image. Archives are treated as hostile.

#include "kiln/cli/verbs.hpp"

namespace kiln::cli {

Verb add_image_import(CLI::App& group) {
  struct Args {
    std::string path;
    std::string name;
    std::string version;
    std::string format = "auto";
    std::string oci_ref;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = group.add_subcommand("import", "Import an image from a file or folder");
  cmd->add_option("path", args->path, "rootfs tarball, folder, OCI layout or OCI archive")
      ->required();
  cmd->add_option("--name", args->name, "Image name")->required();
  cmd->add_option("--version", args->version, "Image version x.y.z")->required();
  cmd->add_option(
      "--source-format", args->format, "auto (default), rootfs-tar, dir, oci-dir or oci-archive");
  cmd->add_option("--oci-ref", args->oci_ref, "Which image of an OCI layout (its ref.name)");
  return {cmd, [args](Context& context) {
            Result<image::ImageName> name = image_name(args->name, args->version);
            if (!name) {
              return report(name.error());
            }
            Result<image::SourceFormat> format = image::parse_source_format(args->format);
            Result<image::Images*> images = context.images();
            if (!format || !images) {
              return report(!format ? format.error() : images.error());
            }
            Result<store::ImageVersion> made =
                (*images)->import(args->path, *format, *name, args->oci_ref);
            if (!made) {
              return report(made.error());
            }
            print_image(*made);
            return 0;
          }};
}

}  // namespace kiln::cli
