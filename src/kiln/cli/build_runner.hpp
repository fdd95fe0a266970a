#pragma once

// Running an image build from the command line (`kiln build`, `kiln create-image`): the build
// workflow (build/workflow.hpp) with its progress on the terminal or as JSON lines, Ctrl-C
// cancelling it.

#include <string>

#include "kiln/cli/context.hpp"

namespace kiln::cli {

struct BuildOutputOptions {
  bool verbose = false;   // stream every step's output
  bool json = false;      // one JSON event per line on stdout instead of the display
  bool print_arn = true;  // print the ARN on stdout when AVAILABLE (create-image printed it)
};

// Runs the build of `image_arn` (a PENDING image) to its end and prints its ARN; returns 0 when
// it is AVAILABLE (unless options.print_arn is false), 1 when FAILED (the reason on stderr), 130
// when CANCELLED.
int run_image_build(Context& context,
                    const std::string& image_arn,
                    const BuildOutputOptions& options);

}  // namespace kiln::cli
