#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031,SC2016  # functions run by run_kiln_test; $T per test
# Host files removed through the writable layer (docs/security.md, "Escapes from an instance",
# item 1). Before the snapshot kiln empties the instance's /tmp and removes its /.kiln from the
# writable layer, on the host, as root. A build step that replaces /tmp (or /.kiln's mount
# points) with a symbolic link to a host folder must not make kiln empty that host folder.
# Usage: upper_links.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/../integration/kiln_lib.sh" "$@"
kiln_require_privileged

test_tmp_link_before_snapshot() {
  mkdir -p "$T/keep/sub"
  echo precious >"$T/keep/precious"
  echo deeper >"$T/keep/sub/file"
  local d=$T/recipe
  mkdir -p "$d"
  cat >"$d/tmp-link.yaml" <<EOF
name: tmp-link
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: ReplaceTmp
        action: ExecuteBash
        inputs:
          commands:
            - rm -rf /tmp
            - ln -s $T/keep /tmp
EOF
  cat >"$d/recipe.yaml" <<'EOF'
name: sec-tmp-link
semanticVersion: 1.0.x
parentImage: busybox
workingDirectory: /root
components:
  - path: tmp-link.yaml
EOF
  kiln build "$d/recipe.yaml"
  # Whatever the build's outcome, the host folder the link named is intact.
  assert_file_eq "$T/keep/precious" precious
  assert_file_eq "$T/keep/sub/file" deeper
}

run_kiln_test tmp_link_before_snapshot test_tmp_link_before_snapshot
finish
