#!/usr/bin/env bash
# format.sh [--check]: clang-format every C++ file of kiln in place, or with --check fail (listing
# the files) if any would change. Used by the `format` and `check-format` build targets.
set -euo pipefail
cd "$(dirname "$0")/.."
clang_format=${CLANG_FORMAT:-clang-format}
mapfile -t files < <(find src apps tests bench fuzz -name node_modules -prune -o \
  \( -name '*.cpp' -o -name '*.hpp' \) -print | sort)
if [ "${1:-}" = "--check" ]; then
  "$clang_format" --dry-run --Werror "${files[@]}"
else
  "$clang_format" -i "${files[@]}"
fi
