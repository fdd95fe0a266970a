#!/usr/bin/env bash
# Runs every libFuzzer harness of a build tree for a bounded time (fuzz/README.md).
#
#   fuzz/run.sh <build dir> [seconds per fuzzer, default $KILN_FUZZ_SECONDS or 60] [names...]
#
# Each fuzzer starts from its seeds in fuzz/corpus/<name>/ (never written to) plus what earlier
# runs in the same build tree found (<build dir>/fuzz-corpus/<name>/, kept between runs so
# coverage accumulates on one machine). A crash, a timeout, a leak or an out-of-memory fails the
# run: its input is kept in <build dir>/fuzz-findings/<name>/ (crash-<sha1>, timeout-<sha1>, ...)
# and printed in hex, and the script exits 1 after the other fuzzers ran. Reproduce a finding
# with `<build dir>/fuzz/<name> <file>`.
#
# The seed of libFuzzer's mutations is fixed ($KILN_FUZZ_SEED, default 1; 0 picks one at random):
# a CI run from the seeds explores the inputs a local run of the same length from the same seeds
# explored, so CI fails on a finding in the code, not on the luck of the draw. Run longer, or with
# KILN_FUZZ_SEED=0, to look for new findings.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 <build dir> [seconds] [fuzzer names...]" >&2
  exit 2
fi
build=$(realpath "$1")
seconds=${2:-${KILN_FUZZ_SECONDS:-60}}
shift $(($# >= 2 ? 2 : 1))
src=$(cd "$(dirname "$0")/.." && pwd)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  names=(document_fuzz condition_fuzz layer_fuzz sigv4_fuzz api_request_fuzz)
fi

# Per-harness limits: the longest input, and the time one input may take.
max_len() {
  case $1 in
    layer_fuzz) echo 65536 ;;
    document_fuzz) echo 4096 ;;
    *) echo 8192 ;;
  esac
}

failed=()
for name in "${names[@]}"; do
  binary=$build/fuzz/$name
  seeds=$src/fuzz/corpus/${name%_fuzz}
  [ -x "$binary" ] || { echo "fuzz: $binary is not built (ninja -C $build fuzzers)" >&2; exit 1; }
  [ -d "$seeds" ] || { echo "fuzz: no seeds in $seeds" >&2; exit 1; }
  corpus=$build/fuzz-corpus/$name
  findings=$build/fuzz-findings/$name
  mkdir -p "$corpus" "$findings"
  echo "=== $name: ${seconds}s from $(find "$seeds" -type f | wc -l) seeds and $(find "$corpus" -type f | wc -l) earlier inputs" >&2
  log=$findings/last-run.log
  rc=0
  start=$(date +%s)
  # -detect_leaks stays on: a leak is a finding like a crash.
  (cd "$findings" &&
    "$binary" -seed="${KILN_FUZZ_SEED:-1}" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len="$(max_len "$name")" \
      -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" "$seeds") >"$log" 2>&1 || rc=$?
  end=$(date +%s)
  grep -E '^(#[0-9]+ *DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" >&2 || true
  echo "    $name: exit $rc after $((end - start))s" >&2
  if [ "$rc" -ne 0 ]; then
    failed+=("$name")
    tail -n 60 "$log" >&2
    for f in "$findings"/crash-* "$findings"/timeout-* "$findings"/oom-* "$findings"/leak-* \
      "$findings"/slow-unit-*; do
      [ -f "$f" ] || continue
      echo "    kept input: $f ($(stat -c %s "$f") bytes); first 512 bytes:" >&2
      head -c 512 "$f" | od -An -c | head -n 20 >&2
    done
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs kept in $build/fuzz-findings/)" >&2
  exit 1
fi
echo "fuzz: every fuzzer ran ${seconds}s without a finding" >&2
