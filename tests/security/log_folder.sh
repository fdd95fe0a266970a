#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031,SC2016  # functions run by run_kiln_test; $T per test
# Host files written or read through the log folder (docs/security.md, "Escapes from an
# instance", item 1). A build step replaces build.log (in the folder an instance sees at
# /.kiln/logs) and kiln-toe's output files with symbolic links to host files: kiln, root on the
# host, must neither append to nor read those files, and the build's logs must still be there.
# The same for `kiln component run`.
# Usage: log_folder.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/../integration/kiln_lib.sh" "$@"
kiln_require_privileged

# The host files an attacker aims at: $T/victim (kiln would append build.log lines to it) and
# $T/victim.json (kiln would read it as detailedoutput.json: its failure message would become the
# image's reason, a host file's content shown to whoever reads the image).
make_victims() {
  printf 'original victim\n' >"$T/victim"
  printf '%s\n' '{"documents": [{"filePath": "x", "status": "failed", "phases": [],' \
    '"failureMessage": "HOST-SECRET-CONTENT"}]}' >"$T/victim.json"
  cp "$T/victim" "$T/victim.orig"
  cp "$T/victim.json" "$T/victim.json.orig"
}

# write_attack FILE: a component whose build phase replaces build.log and the running kiln-toe's
# output files with links to the victims, then fails with a message on stderr.
write_attack() {
  cat >"$1" <<EOF
name: replace-logs
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Replace
        action: ExecuteBash
        inputs:
          commands:
            - ln -sf $T/victim /.kiln/logs/build.log
            - mkdir -p $T
            - for d in /.kiln/logs/*/TOE_*; do for f in console.log application.log chaining.json; do rm -f "\$d/\$f"; ln -s $T/victim "\$d/\$f"; done; ln -s $T/victim.json "\$d/detailedoutput.json"; done
            - ls -la /.kiln/logs /.kiln/logs/*/TOE_*
      - name: Fail
        action: ExecuteBash
        inputs:
          commands:
            - echo "ssh-ed25519 AAAA-attacker-key" >&2
            - exit 1
EOF
}

assert_victims_unchanged() {
  # the host files build.log and the kiln-toe outputs were linked to
  assert_file_eq "$T/victim" "$(cat "$T/victim.orig")"
  assert_file_eq "$T/victim.json" "$(cat "$T/victim.json.orig")"
}

# assert_host_owned DIR: no symbolic link in the log folder DIR.
assert_host_owned() {
  assert_eq "" "$(find "$1" -type l)" "symbolic links in the log folder $1"
}

test_build_log_link() {
  make_victims
  local d=$T/recipe
  mkdir -p "$d"
  write_attack "$d/attack.yaml"
  cat >"$d/recipe.yaml" <<'EOF'
name: sec-logs
semanticVersion: 1.0.x
parentImage: busybox
components:
  - path: attack.yaml
EOF
  kiln_fails build "$d/recipe.yaml"
  assert_victims_unchanged
  assert_not_contains "$ERR" "HOST-SECRET-CONTENT" "the build's failure reason"
  assert_contains "$ERR" "failed" "the build's failure reason"
  # The build's own logs are there, as kiln wrote them.
  local logs=$ROOT/logs/sec-logs/1.0.0/1
  assert_exists "$logs/build.log" "build.log"
  [ ! -L "$logs/build.log" ] || fail "build.log is a symbolic link"
  assert_contains "$logs/build.log" "status FAILED" "build.log"
  assert_contains "$logs/build.log" "stage build" "build.log"
  assert_match '.' "$(find "$logs/build" -name 'TOE_*' -type d)" "the build stage's kiln-toe folder"
  assert_host_owned "$logs"
  # What could not be copied is said in build.log.
  assert_contains "$logs/build.log" "not copied from the instance" "build.log"
}

test_component_run_link() {
  make_victims
  write_attack "$T/attack.yaml"
  kiln_fails component run "$T/attack.yaml"
  assert_victims_unchanged
  assert_not_contains "$ERR" "HOST-SECRET-CONTENT" "kiln component run's failure"
  local logs
  logs=$(sed -n 's/^logs: //p' "$ERR" | tail -n 1)
  assert_match '.' "$logs" "the log folder kiln component run prints"
  assert_match '.' "$(find "$logs" -name 'TOE_*' -type d)" "the run's kiln-toe folder"
  assert_host_owned "$logs"
}

run_kiln_test build_log_link test_build_log_link
run_kiln_test component_run_link test_component_run_link
finish
