#include "kiln/toe/cli.hpp"

int main(int argc, char** argv) {
  return kiln::toe::cli_main(argc, argv);
}
