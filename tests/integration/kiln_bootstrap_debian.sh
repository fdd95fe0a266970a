#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031,SC2119,SC2016,SC2012,SC2094  # functions run by run_kiln_test; $T per test
# `kiln image bootstrap debian` with mmdebstrap from the Debian archive, then an instance of it.
# Needs root, bwrap, nsenter, busybox, mmdebstrap and the network (the mirror, by default
# http://deb.debian.org/debian, or $KILN_IT_DEBIAN_MIRROR); exits 77 (skipped) without them.
# Usage: kiln_bootstrap_debian.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/kiln_lib.sh" "$@"
kiln_require_privileged

MIRROR=${KILN_IT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm

if ! command -v mmdebstrap >/dev/null 2>&1; then
  echo "skipped: needs mmdebstrap (Debian package mmdebstrap)" >&2
  exit 77
fi
if ! command -v curl >/dev/null 2>&1; then
  echo "skipped: needs curl to check that $MIRROR is reachable" >&2
  exit 77
fi
if ! curl -sfI --connect-timeout 5 -m 10 "$MIRROR/dists/$SUITE/Release" >/dev/null 2>&1; then
  echo "skipped: $MIRROR/dists/$SUITE/Release is not reachable" >&2
  exit 77
fi

# mmdebstrap takes minutes, not seconds.
KILN_IT_RUN_TIMEOUT=${KILN_IT_DEBIAN_TIMEOUT:-900}

test_bootstrap_debian() {
  local started=$SECONDS
  kiln_ok image bootstrap debian --name debian --version 12.0.0 --suite "$SUITE" --mirror "$MIRROR"
  echo "    (bootstrap debian $SUITE: $((SECONDS - started)) s)" >&2
  assert_match '^debian/12\.0\.0/1[[:space:]]' "$(stdout_text)" "what kiln image bootstrap debian prints"
  assert_eq "debian/12.0.0/1" "$(image_field debian/12.x.x ref)" "debian/12.x.x resolves to"
  local size
  size=$(image_field debian/12.0.0 size)
  [ "$size" -gt 10000000 ] || fail "size of the debian image: expected more than 10 MB, got $size"

  started=$SECONDS
  launch debian/12.0.0
  in_instance "$ID" cat /etc/debian_version
  assert_match '^12(\.[0-9]+)?$' "$(stdout_text)" "/etc/debian_version in the instance"
  in_instance "$ID" apt-get --version
  assert_match '^apt [0-9]' "$(head -n 1 "$OUT")" "the first line of apt-get --version"
  in_instance "$ID" /bin/sh -c '. /etc/os-release && echo "$ID $VERSION_CODENAME"'
  assert_stdout "debian $SUITE" "ID and VERSION_CODENAME of /etc/os-release"
  # The private network by default: the archive is reachable from inside through pasta, names
  # resolved by the host's resolver (apt-get update works).
  in_instance "$ID" apt-get -q update
  in_instance "$ID" /bin/sh -c 'ls /var/lib/apt/lists | grep -c _Packages'
  [ "$(stdout_text)" -ge 1 ] || fail "Packages lists after apt-get update: expected at least 1, got $(stdout_text)"
  echo "    (launch, exec and apt-get update: $((SECONDS - started)) s)" >&2

  # A snapshot of the updated instance is a child of debian/12.0.0.
  kiln_ok instance stop "$ID"
  kiln_ok instance snapshot "$ID" --name debian-updated --version 12.0.0
  assert_eq "$(image_field debian/12.0.0 manifest)" "$(image_field debian-updated/12.0.0 parent)" \
    "parent of the snapshot"
  assert_verify_clean
}

run_kiln_test bootstrap_debian test_bootstrap_debian
finish
