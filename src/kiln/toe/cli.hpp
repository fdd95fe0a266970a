#pragma once

// The kiln-toe command line: `run` and `validate` with awstoe's flags.

namespace kiln::toe {

// Parses argv, runs the command, prints its output and returns the process exit code.
int cli_main(int argc, char** argv);

}  // namespace kiln::toe
