// kiln instance stop|start|reboot|terminate ID...: the lifecycle verbs, one table row each.

#include "kiln/cli/verbs.hpp"

namespace kiln::cli {
namespace {

using Action = Status (instance::Instances::*)(const std::string&);

struct Lifecycle {
  const char* name;
  const char* description;
  Action action;
};

constexpr Lifecycle kLifecycle[] = {
    {"stop",
     "Stop instances: every process is killed, the writable layer is kept",
     &instance::Instances::stop},
    {"start", "Start stopped instances again", &instance::Instances::start},
    {"reboot",
     "Reboot instances: every process is killed, the writable layer is kept, they start again",
     &instance::Instances::reboot},
    {"terminate",
     "Terminate instances: every process is killed and the writable layer deleted",
     &instance::Instances::terminate},
};

Verb add_lifecycle(CLI::App& group, const Lifecycle& verb) {
  auto ids = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = group.add_subcommand(verb.name, verb.description);
  cmd->add_option("ids", *ids, "Instance ids (i-...)")->required();
  Action action = verb.action;
  return {cmd, [ids, action](Context& context) {
            instance::Instances instances = context.instances();
            return for_each_instance(
                *ids, [&](const std::string& id) { return (instances.*action)(id); });
          }};
}

}  // namespace

std::vector<Verb> add_instance_lifecycle(CLI::App& group) {
  std::vector<Verb> verbs;
  for (const Lifecycle& verb : kLifecycle) {
    verbs.push_back(add_lifecycle(group, verb));
  }
  return verbs;
}

}  // namespace kiln::cli
