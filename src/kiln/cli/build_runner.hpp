#pragma once

// Running an image build from the command line (`kiln build`, `kiln create-image`): the build
// workflow (build/workflow.hpp) with its progress on the terminal or as JSON lines, Ctrl-C
// cancelling it.

#include <string>

#include "kiln/cli/context.hpp"
#include "kiln/cli/resource_client.hpp"

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

// The same for an image a daemon builds: polls GetImage every 0.5 s, printing each status change
// on stderr, until the image ends (the same exit codes). Ctrl-C asks the daemon to cancel it.
// Step-level progress is only shown by run_image_build.
int wait_for_image(ResourceClient& client,
                   const std::string& image_arn,
                   const BuildOutputOptions& options);

// run_image_build when `client` builds locally (embedded), else wait_for_image.
int follow_image_build(Context& context,
                       ResourceClient& client,
                       const std::string& image_arn,
                       const BuildOutputOptions& options);

}  // namespace kiln::cli
