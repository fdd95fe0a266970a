// kiln instance list: every instance with its state and image.

#include <cstdio>

#include "kiln/cli/verbs.hpp"

namespace kiln::cli {

Verb add_instance_list(CLI::App& group) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = group.add_subcommand("list", "List instances");
  cmd->add_flag("--json", *json, "Print JSON");
  return {cmd, [json](Context& context) {
            Result<std::vector<instance::InstanceRecord>> all = context.instances().list();
            if (!all) {
              return report(all.error());
            }
            if (*json) {
              instance::Json out = instance::Json::array();
              for (const auto& r : *all) {
                instance::Json j = instance::to_json(r);
                j["state"] = instance::state_name(r.state());
                out.push_back(j);
              }
              std::printf("%s\n", out.dump(2).c_str());
              return 0;
            }
            std::printf("%-20s %-8s %-22s %s\n", "ID", "STATE", "CREATED", "IMAGE");
            for (const auto& r : *all) {
              std::printf("%-20s %-8s %-22s %s\n",
                          r.id.c_str(),
                          std::string(instance::state_name(r.state())).c_str(),
                          r.created.c_str(),
                          r.image.c_str());
            }
            return 0;
          }};
}

}  // namespace kiln::cli
