// kiln image export REF --format rootfs-tar|oci-archive|oci-dir --output PATH.

#include "kiln/cli/verbs.hpp"

namespace kiln::cli {

Verb add_image_export(CLI::App& group) {
  struct Args {
    std::string ref;
    std::string format;
    std::string output;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = group.add_subcommand("export", "Export an image");
  cmd->add_option("ref", args->ref, "Image: ARN or name/x.y.z[/build] (x wildcards)")->required();
  cmd->add_option("--format", args->format, "rootfs-tar, oci-archive or oci-dir")->required();
  cmd->add_option("--output", args->output, "File (or folder for oci-dir) to write")->required();
  return {cmd, [args](Context& context) {
            Result<image::ExportFormat> format = image::parse_export_format(args->format);
            Result<image::Images*> images = context.images();
            if (!format || !images) {
              return report(!format ? format.error() : images.error());
            }
            Result<store::ImageVersion> found = (*images)->store().resolve(args->ref);
            if (!found) {
              return report(found.error());
            }
            Status done = (*images)->export_image(*found, *format, args->output);
            if (!done) {
              return report(done.error().with_context("exporting " + found->str()));
            }
            std::printf("%s\n", args->output.c_str());
            return 0;
          }};
}

}  // namespace kiln::cli
