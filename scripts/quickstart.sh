#!/usr/bin/env bash
# The main job, end to end on a fresh machine: install dependencies, build kiln, and run the
# example component with kiln-toe (validate, then run all its phases).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${KILN_BUILD_DIR:-build}

scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_BUILD_TESTS=OFF \
  -DKILN_BUILD_BENCH=OFF
cmake --build "$build" --target kiln-toe-bin

toe="$build/apps/kiln-toe/kiln-toe"
logs=$(mktemp -d /tmp/kiln-quickstart-XXXXXX)
"$toe" validate --documents examples/components/hello-world.yaml
"$toe" run --documents examples/components/hello-world.yaml --parameters Greeting=Hi \
  --log-directory "$logs"
echo
echo "Logs: $(ls -d "$logs"/TOE_*)"
