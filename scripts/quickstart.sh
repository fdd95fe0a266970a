#!/usr/bin/env bash
# The main job, end to end on a fresh Debian 12 machine, as root: install dependencies, build
# kiln, and build the example golden image (examples/golden-nginx: Debian 12 with a hardened
# nginx, tested on a fresh instance, distributed to two local regions). Prints the image's ARN
# and where its logs are. KILN_ROOT (default /var/lib/kiln) is where kiln keeps its state.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${KILN_BUILD_DIR:-build}

if [ "$(id -u)" -ne 0 ]; then
  echo "quickstart: building images needs root (namespaces, overlayfs): run it with sudo" >&2
  exit 1
fi
scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_BUILD_TESTS=OFF \
  -DKILN_BUILD_BENCH=OFF
cmake --build "$build" --target kiln kiln-toe-bundle kiln-sandbox-init

kiln="$build/apps/kiln/kiln"
example=examples/golden-nginx
"$kiln" build "$example/recipe.yaml" \
  --infrastructure "$example/infrastructure.yaml" \
  --distribution "$example/distribution.yaml"
echo
"$kiln" list-images --output table
