#!/usr/bin/env bash
# Every test, on a fresh machine: install dependencies, build with warnings as errors, check the
# formatting, and run the unit, golden, integration and privileged tests (privileged tests skip
# with exit 77 unless run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${KILN_BUILD_DIR:-build}

scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_WERROR=ON
cmake --build "$build"
cmake --build "$build" --target check-format
ctest --test-dir "$build" --output-on-failure --timeout 600 -j2 "$@"
