#include "kiln/cli/verbs.hpp"

int main(int argc, char** argv) {
  return kiln::cli::main(argc, argv);
}
