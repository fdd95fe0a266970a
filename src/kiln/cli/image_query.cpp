// kiln image list [NAME] | get REF | delete REF: what the store holds.

#include "kiln/cli/verbs.hpp"

namespace kiln::cli {
namespace {

store::Json image_json(image::Images& images, const store::ImageVersion& v) {
  store::Json j{{"name", v.name},
                {"version", v.version.str()},
                {"build", v.build},
                {"arn", v.arn},
                {"ref", v.str()},
                {"manifest", v.manifest.digest.str()},
                {"created", v.created},
                {"parent", v.parent ? v.parent->str() : ""}};
  if (auto manifest = images.store().manifest(v.manifest.digest); manifest) {
    store::Json layers = store::Json::array();
    uint64_t size = 0;
    for (const store::Descriptor& l : manifest->layers) {
      layers.push_back(
          store::Json{{"digest", l.digest.str()}, {"size", l.size}, {"mediaType", l.media_type}});
      size += l.size;
    }
    j["layers"] = layers;
    j["size"] = size;
  }
  return j;
}

}  // namespace

Verb add_image_list(CLI::App& group) {
  auto name = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = group.add_subcommand("list", "List images");
  cmd->add_option("name", *name, "Only images of this name");
  cmd->add_flag("--json", *json, "Print JSON");
  return {cmd, [name, json](Context& context) {
            Result<image::Images*> images = context.images();
            if (!images) {
              return report(images.error());
            }
            auto all = (*images)->store().list(
                name->empty() ? std::nullopt : std::optional<std::string_view>(*name));
            if (!all) {
              return report(all.error());
            }
            store::Json out = store::Json::array();
            for (const store::ImageVersion& v : *all) {
              if (*json) {
                out.push_back(image_json(**images, v));
              } else {
                std::printf("%-40s %-24s %s\n",
                            v.str().c_str(),
                            v.created.c_str(),
                            v.manifest.digest.str().c_str());
              }
            }
            if (*json) {
              std::printf("%s\n", out.dump(2).c_str());
            }
            return 0;
          }};
}

Verb add_image_get(CLI::App& group) {
  auto ref = std::make_shared<std::string>();
  CLI::App* cmd = group.add_subcommand("get", "Show an image as JSON");
  cmd->add_option("ref", *ref, "ARN or name/x.y.z[/build] (x wildcards)")->required();
  return {cmd, [ref](Context& context) {
            Result<image::Images*> images = context.images();
            if (!images) {
              return report(images.error());
            }
            Result<store::ImageVersion> found = (*images)->store().resolve(*ref);
            if (!found) {
              return report(found.error());
            }
            std::printf("%s\n", image_json(**images, *found).dump(2).c_str());
            return 0;
          }};
}

Verb add_image_delete(CLI::App& group) {
  auto ref = std::make_shared<std::string>();
  CLI::App* cmd = group.add_subcommand("delete", "Delete an image version (space is freed by gc)");
  cmd->add_option("ref", *ref, "ARN or name/x.y.z/build")->required();
  return {cmd, [ref](Context& context) {
            Result<image::Images*> images = context.images();
            if (!images) {
              return report(images.error());
            }
            Result<catalog::ImageReference> parsed = catalog::ImageReference::parse(*ref);
            if (!parsed) {
              return report(parsed.error());
            }
            Result<store::ImageVersion> removed = (*images)->store().remove_image(*parsed);
            if (!removed) {
              return report(removed.error());
            }
            std::printf("deleted %s\n", removed->str().c_str());
            return 0;
          }};
}

}  // namespace kiln::cli
