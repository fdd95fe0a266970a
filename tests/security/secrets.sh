#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031,SC2016  # functions run by run_kiln_test; $T per test
# kiln's own secrets (docs/security.md): a build step reads the environment and command line of
# every process it can see in its instance (/proc/*/environ, /proc/*/cmdline: the sandbox's
# PID 1, its init, pasta, kiln-toe, ...). kiln's environment (KILN_SECRET_ACCESS_KEY, the API
# secret of kiln serve, and anything else kiln was started with) must be in none of them, for a
# `kiln build` and for a build that `kiln serve` runs.
# Needs root, bwrap, busybox and pasta (Debian passt).
# Usage: secrets.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/../integration/kiln_lib.sh" "$@"
kiln_require_privileged
export KILN_COMPONENTS_DIR=$SRC/components
unset KILN_ENDPOINT
KEY_ID=AKIDKILNLEAKTEST0001
# The values the step looks for are written so that its own command lines do not hold them.
SECRET=LEAK_VALUE_0001

# write_recipe: $T/recipe.yaml, a busybox image whose build step fails when it finds a secret.
write_recipe() {
  cat >"$T/snoop.yaml" <<'EOF'
name: snoop
description: Looks for kiln's secrets in every process the instance can see.
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Snoop
        action: ExecuteBash
        inputs:
          commands:
            - |
              readable=0
              found=""
              for p in /proc/[0-9]*; do
                echo "visible: ${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
                if [ -r "$p/environ" ] && cat "$p/environ" >/dev/null 2>&1; then
                  readable=$((readable + 1))
                fi
                for f in "$p/environ" "$p/cmdline"; do
                  if tr '\0' '\n' <"$f" 2>/dev/null | grep -E 'KILN_SECRE[T]|LEAK_VALU[E]_|AKIDKILNLEA[K]'; then
                    found="$found $f"
                  fi
                done
              done
              echo "readable environments: $readable" >&2
              if [ -n "$found" ]; then
                echo "kiln's secrets are visible in:$found" >&2
                exit 1
              fi
              if [ "$readable" = 0 ]; then
                echo "no environment was readable: the check proves nothing" >&2
                exit 2
              fi
EOF
  cat >"$T/recipe.yaml" <<'EOF'
name: snoop
semanticVersion: 1.0.0
parentImage: busybox
components:
  - path: snoop.yaml
EOF
}

# assert_built: the last kiln build succeeded: the step found no secret (its stderr, in the
# failure reason kiln prints, names where it found one).
assert_built() {
  if [ "$RC" != 0 ]; then
    show_output
    fail "the snooping build failed (a secret found, or the build broke)"
  fi
}

test_kiln_build() {
  write_recipe
  KILN_SECRET_ACCESS_KEY=$SECRET KILN_SECRET_TEST=LEAK_VALUE_0002 KILN_ACCESS_KEY_ID=$KEY_ID \
    kiln build "$T/recipe.yaml"
  assert_built
}

test_kiln_serve() {
  write_recipe
  KILN_SECRET_TEST=LEAK_VALUE_0003 start_kiln_daemon "$T/daemon-root"
  trap 'stop_kiln_daemon; _kiln_cleanup' EXIT
  KILN_ENDPOINT=http://127.0.0.1:$PORT KILN_ACCESS_KEY_ID=$KEY_ID KILN_SECRET_ACCESS_KEY=$SECRET \
    ROOT=$T/client-root kiln build "$T/recipe.yaml"
  assert_built
}

run_kiln_test kiln_build test_kiln_build
run_kiln_test kiln_serve test_kiln_serve
finish
