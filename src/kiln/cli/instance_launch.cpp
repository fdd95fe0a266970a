// kiln instance launch REF [--network private|none|host] [--type T] [--disk-size SIZE]: a new
// instance of an image; its id is the last word printed.

#include "kiln/cli/verbs.hpp"

namespace kiln::cli {

Verb add_instance_launch(CLI::App& group) {
  struct Args {
    std::string ref;
    std::string network = "private";
    std::string type;
    std::string disk_size;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = group.add_subcommand("launch", "Launch an instance of an image");
  cmd->add_option("ref", args->ref, "Image: ARN or name/x.y.z[/build] (x wildcards)")->required();
  cmd->add_option("--network",
                  args->network,
                  "private (default: its own network, outbound only, nothing of the host), none, "
                  "or host (the host's network, its loopback services included)")
      ->check(CLI::IsMember({"private", "none", "host"}));
  cmd->add_option("--type",
                  args->type,
                  "Instance type, as EC2 names them (t3.medium, m5.large, ...): its memory, CPUs "
                  "and process limits (default: none)");
  cmd->add_option("--disk-size",
                  args->disk_size,
                  "Size of the instance's disk, its writable layer: 64M, 8G, ... (a bare number "
                  "is GiB; default 8G). Writes past it fail with \"No space left on device\"");
  return {cmd, [args](Context& context) {
            Result<image::Images*> images = context.images();
            if (!images) {
              return report(images.error());
            }
            Result<store::ImageVersion> found = (*images)->store().resolve(args->ref);
            if (!found) {
              return report(found.error());
            }
            Result<std::vector<std::filesystem::path>> lower = (*images)->lower_dirs(*found);
            if (!lower) {
              return report(lower.error());
            }
            instance::LaunchRequest request{
                found->str(),
                found->manifest.digest.str(),
                *lower,
                instance::network_from_name(args->network).value_or(instance::Network::kPrivate)};
            request.instance_type = args->type;
            if (!args->disk_size.empty()) {
              Result<uint64_t> size = instance::parse_disk_size(args->disk_size);
              if (!size) {
                return report(size.error());
              }
              request.disk_size = *size;
            }
            Result<instance::InstanceRecord> launched = context.instances().launch(request);
            if (!launched) {
              return report(launched.error());
            }
            std::printf("launched %s from %s: %s\n",
                        launched->id.c_str(),
                        found->str().c_str(),
                        launched->id.c_str());
            return 0;
          }};
}

}  // namespace kiln::cli
