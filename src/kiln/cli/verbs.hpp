#pragma once

// Each `kiln` verb lives in a file of its own and registers its subcommand here; main.cpp walks
// the table. A verb's handler runs after parsing and returns the process exit code.

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "kiln/cli/context.hpp"

namespace kiln::cli {

using Handler = std::function<int(Context&)>;

// A verb: its subcommand (added to its group: `image`, `instance` or `store`) and the handler to
// run when the command line chose it.
struct Verb {
  CLI::App* command;
  Handler run;
};

Verb add_instance_launch(CLI::App& group);
Verb add_instance_snapshot(CLI::App& group);
Verb add_instance_cp(CLI::App& group);
Verb add_image_bootstrap(CLI::App& group);
Verb add_image_import(CLI::App& group);
Verb add_image_export(CLI::App& group);
Verb add_image_list(CLI::App& group);
Verb add_image_get(CLI::App& group);
Verb add_image_delete(CLI::App& group);
Verb add_store_verify(CLI::App& group);
Verb add_store_gc(CLI::App& group);
Verb add_instance_exec(CLI::App& group);
Verb add_instance_shell(CLI::App& group);
// stop, start, reboot, terminate (in the order they were added).
std::vector<Verb> add_instance_lifecycle(CLI::App& group);
Verb add_instance_list(CLI::App& group);
// The Image Builder resource verbs at the top level (`kiln create-component`, ...) and
// `kiln region`: resource_*.cpp.
std::vector<Verb> add_resource_verbs(CLI::App& app);
// `kiln build RECIPE` (build.cpp) and `kiln component run DOC` (component_run.cpp).
Verb add_build(CLI::App& app);
// `kiln serve`: the daemon (serve.cpp).
Verb add_serve(CLI::App& app);
Verb add_component_run(CLI::App& group);

// The whole command line: returns the exit code.
int main(int argc, char** argv);

}  // namespace kiln::cli
