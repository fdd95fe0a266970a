// kiln instance shell ID: an interactive shell inside a running instance, for debugging (bash if
// the image has it, else sh).

#include <cstdlib>

#include "kiln/cli/verbs.hpp"

namespace kiln::cli {

Verb add_instance_shell(CLI::App& group) {
  auto id = std::make_shared<std::string>();
  CLI::App* cmd = group.add_subcommand("shell", "Open an interactive shell inside an instance");
  cmd->add_option("id", *id, "Instance id (i-...)")->required();
  return {cmd, [id](Context& context) {
            const char* term = std::getenv("TERM");
            Result<int> code = context.instances().exec(
                *id,
                {"/bin/sh",
                 "-c",
                 "if command -v bash >/dev/null 2>&1; then exec bash -l; fi; exec sh -l"},
                term != nullptr ? term : "");
            return code ? *code : report(code.error());
          }};
}

}  // namespace kiln::cli
