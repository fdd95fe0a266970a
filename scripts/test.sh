#!/usr/bin/env bash
# Every test, on a fresh machine (CI runs exactly this: .ci/run):
#   1. install dependencies (scripts/install-deps.sh);
#   2. build with warnings as errors, check the formatting, run every ctest test (unit, golden,
#      integration, privileged, security; privileged ones exit 77, skipped, unless run as root);
#   3. the sanitizer tree: a clang build (build-asan) of the unit tests and the fuzzers with
#      AddressSanitizer, UndefinedBehaviorSanitizer and libFuzzer's coverage instrumentation, the
#      unit tests run there (ctest -L unit);
#   4. every fuzzer for a bounded time (fuzz/run.sh, $KILN_FUZZ_SECONDS each, default 60).
#
# No silent skips: under CI (CI=true) or as root, a test that ctest reports as skipped fails the
# run unless it is on the allow-list below. Locally, KILN_ALLOW_SKIPS=1 lets skips pass (they are
# still listed). Arguments go to the first ctest (e.g. `scripts/test.sh -L unit`).
#
# Environment: KILN_BUILD_DIR (build), KILN_ASAN_BUILD_DIR (build-asan), KILN_FUZZ_SECONDS (60),
# KILN_TEST_STEPS (a comma-separated subset of build,sanitize,fuzz; default all three).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${KILN_BUILD_DIR:-build}
asan=${KILN_ASAN_BUILD_DIR:-build-asan}
steps=${KILN_TEST_STEPS:-build,sanitize,fuzz}

# Tests that may skip even in CI, each with the reason it cannot run on a CI machine. A ctest
# name (a regular expression matched against the whole name). Keep it short: every entry is a
# test CI never runs. Everything else runs on Debian 12 as root with install-deps.sh.
allowed_skips=(
  # The refusal a user without root gets; CI runs as root (the root side is LayerTest's others).
  'LayerTest\.LowerModeWhiteoutWithoutRootIsAnError'
)

enforce_skips=0
if { [ "${CI:-}" = true ] || [ "$(id -u)" = 0 ]; } && [ "${KILN_ALLOW_SKIPS:-0}" != 1 ]; then
  enforce_skips=1
fi

timings=()
step_start() {
  step_name=$1
  step_began=$(date +%s)
  echo "=== $step_name" >&2
}
step_end() {
  timings+=("$(printf '%-44s %5ds' "$step_name" $(($(date +%s) - step_began)))")
}
print_timings() {
  echo "=== time per step" >&2
  printf '    %s\n' "${timings[@]}" >&2
}
trap print_timings EXIT

# run_ctest LOG ARGS...: ctest with ARGS, its output also in LOG; then the skip check.
run_ctest() {
  local log=$1
  shift
  local rc=0
  ctest "$@" 2>&1 | tee "$log" || rc=$?
  check_skips "$log"
  return "$rc"
}

# check_skips LOG: lists the tests ctest's summary reports as skipped (or disabled) and fails when
# one is not allowed and skips are enforced.
check_skips() {
  local log=$1 line name allowed pattern
  local refused=()
  while IFS= read -r line; do
    name=$(sed -E 's/^[[:space:]]*[0-9]+ - (.*) \((Skipped|Disabled)\)[[:space:]]*$/\1/' <<<"$line")
    allowed=0
    for pattern in "${allowed_skips[@]}"; do
      [[ $name =~ ^($pattern)$ ]] && allowed=1
    done
    if [ "$allowed" = 1 ]; then
      echo "    skipped (allowed): $name" >&2
    else
      echo "    SKIPPED: $name" >&2
      refused+=("$name")
    fi
  done < <(grep -E '^[[:space:]]*[0-9]+ - .* \((Skipped|Disabled)\)[[:space:]]*$' "$log" || true)
  if [ ${#refused[@]} -gt 0 ]; then
    if [ "$enforce_skips" = 1 ]; then
      echo "FAILED: ${#refused[@]} test(s) skipped that CI must run (see the SKIPPED lines; the" \
        "reason is in the test's output above). Install what they need (scripts/install-deps.sh)" \
        "or, if one truly cannot run on a CI machine, add it to allowed_skips in $0." >&2
      return 1
    fi
    echo "    (${#refused[@]} skipped; allowed outside CI)" >&2
  fi
}

step_start "install dependencies"
scripts/install-deps.sh
step_end

if [[ ,$steps, == *,build,* ]]; then
  step_start "build ($build)"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_WERROR=ON
  cmake --build "$build"
  cmake --build "$build" --target check-format
  step_end
  step_start "ctest ($build)"
  run_ctest "$build/ctest.log" --test-dir "$build" --output-on-failure --timeout 600 -j2 "$@"
  step_end
fi

if [[ ,$steps, == *,sanitize,* ]] || [[ ,$steps, == *,fuzz,* ]]; then
  # One clang tree for both: the unit tests under ASan and UBSan, and the fuzzers, share the
  # instrumented libraries (cmake/Sanitizers.cmake). -O1 and line tables only: fast to build,
  # still readable stack traces; assertions stay on.
  step_start "sanitizer build ($asan)"
  CC=clang CXX=clang++ cmake -S . -B "$asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
    -DKILN_BUILD_FUZZ=ON -DKILN_BUILD_BENCH=OFF
  cmake --build "$asan" --target unit-tests fuzzers
  step_end
fi

if [[ ,$steps, == *,sanitize,* ]]; then
  step_start "unit tests under ASan+UBSan ($asan)"
  # halt_on_error: the first finding fails the test; detect_leaks: a leak is a finding.
  ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    run_ctest "$asan/ctest.log" --test-dir "$asan" -L unit --output-on-failure --timeout 900 -j2
  step_end
fi

if [[ ,$steps, == *,fuzz,* ]]; then
  step_start "fuzzers, ${KILN_FUZZ_SECONDS:-60}s each ($asan)"
  fuzz/run.sh "$asan" "${KILN_FUZZ_SECONDS:-60}"
  step_end
fi
