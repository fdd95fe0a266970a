// kiln instance exec ID -- COMMAND...: runs a command inside a running instance; its exit code
// is kiln's.

#include "kiln/cli/verbs.hpp"

namespace kiln::cli {

Verb add_instance_exec(CLI::App& group) {
  auto id = std::make_shared<std::string>();
  auto command = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = group.add_subcommand("exec", "Run a command inside a running instance");
  cmd->add_option("id", *id, "Instance id (i-...)")->required();
  cmd->add_option("command", *command, "The command, after --")->required();
  return {cmd, [id, command](Context& context) {
            Result<int> code = context.instances().exec(*id, *command);
            return code ? *code : report(code.error());
          }};
}

}  // namespace kiln::cli
