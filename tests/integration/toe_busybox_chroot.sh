#!/usr/bin/env bash
# The installed kiln-toe (static launcher + bundled loader and libraries) runs in a busybox root
# that has no bash and no C library: `cmake --install`, copy the prefix into the root, chroot.
# Needs root (chroot, mount) and Debian's busybox-static; exits 77 (skipped) without them.
# Usage: toe_busybox_chroot.sh <kiln-toe binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh" "$@"

BUSYBOX=/bin/busybox

if [ "$(id -u)" != 0 ]; then
  echo "skipped: needs root (chroot)" >&2
  exit 77
fi
if ! unshare --mount --propagation private -- true 2>/dev/null || ! chroot / true 2>/dev/null; then
  echo "skipped: root here may not chroot or unshare a mount namespace" >&2
  exit 77
fi
if [ ! -x "$BUSYBOX" ]; then
  echo "skipped: needs $BUSYBOX (Debian package busybox-static)" >&2
  exit 77
fi
if readelf -l "$BUSYBOX" 2>/dev/null | grep -q "program interpreter"; then
  echo "skipped: $BUSYBOX is not statically linked (install busybox-static)" >&2
  exit 77
fi
[ -n "$BUILD" ] || {
  echo "toe_busybox_chroot.sh needs the build directory (third argument)" >&2
  exit 2
}

# make_root: installs kiln into $T/prefix and builds the busybox root $ROOT around it: /bin
# (busybox and its applet links), /tmp, /etc, /opt/kiln (the prefix), /doc.yaml, and /dev/null
# unless WITH_DEV_NULL=0.
make_root() {
  if ! cmake --install "$BUILD" --prefix "$T/prefix" >"$T/install.log" 2>&1; then
    show_file "$T/install.log"
    fail "cmake --install $BUILD --prefix $T/prefix failed"
  fi
  assert_exists "$T/prefix/bin/kiln-toe" "the installed launcher"
  assert_exists "$T/prefix/libexec/kiln/kiln-toe" "the installed program"
  assert_exists "$T/prefix/libexec/kiln/lib/ld-linux-x86-64.so.2" "the bundled loader"
  if readelf -l "$T/prefix/bin/kiln-toe" | grep -q "program interpreter"; then
    fail "the installed launcher bin/kiln-toe is not static"
  fi

  ROOT=$T/root
  mkdir -p "$ROOT/bin" "$ROOT/tmp" "$ROOT/etc" "$ROOT/opt/kiln" "$ROOT/logs"
  chmod 1777 "$ROOT/tmp"
  cp "$BUSYBOX" "$ROOT/bin/busybox"
  # busybox links its applets to where /proc/self/exe says it is: run it inside the root (with
  # a /proc of its own) so that is /bin/busybox there.
  mkdir -p "$ROOT/proc"
  unshare --mount --propagation private -- \
    sh -c 'mount -t proc proc "$1/proc" && chroot "$1" /bin/busybox --install -s /bin' sh "$ROOT" ||
    fail "busybox --install -s /bin in the root failed"
  assert_eq /bin/busybox "$(readlink "$ROOT/bin/sh")" "the target of /bin/sh in the root"
  echo "root:x:0:0:root:/:/bin/sh" >"$ROOT/etc/passwd"
  echo "root:x:0:" >"$ROOT/etc/group"
  cp -a "$T/prefix/." "$ROOT/opt/kiln/"
  cp "$DATA/busybox/doc.yaml" "$ROOT/doc.yaml"
  # Most tests give the root a /dev/null; minimal_root checks a root without /dev.
  if [ "${WITH_DEV_NULL:-1}" = 1 ]; then
    mkdir -p "$ROOT/dev"
    mknod -m 666 "$ROOT/dev/null" c 1 3
  fi
  if [ -e "$ROOT/usr/bin/bash" ] || [ -e "$ROOT/bin/bash" ]; then
    fail "the busybox root has bash"
  fi
}

# in_root COMMAND...: runs COMMAND in the root with a clean environment; $OUT, $ERR and $RC as
# for `toe`. With WITH_PROC=1 a private /proc is mounted in the root for the command.
in_root() {
  OUT=$T/.stdout
  ERR=$T/.stderr
  RC=0
  # The root's own env (busybox) clears the environment, so PATH is the root's.
  local env=(/bin/env -i PATH="${ROOT_PATH:-/bin}" HOME=/)
  if [ "${WITH_PROC:-0}" = 1 ]; then
    mkdir -p "$ROOT/proc"
    # A private mount namespace: the mount goes away with the command, whatever happens.
    timeout -k 5 "$KILN_IT_RUN_TIMEOUT" unshare --mount --propagation private -- \
      sh -c 'mount -t proc proc "$1/proc" && shift && exec "$@"' sh "$ROOT" \
      chroot "$ROOT" "${env[@]}" "$@" >"$OUT" 2>"$ERR" || RC=$?
  else
    rmdir "$ROOT/proc" 2>/dev/null || true
    [ ! -e "$ROOT/proc" ] || fail "$ROOT/proc exists"
    timeout -k 5 "$KILN_IT_RUN_TIMEOUT" chroot "$ROOT" "${env[@]}" "$@" >"$OUT" 2>"$ERR" || RC=$?
  fi
  if [ "$RC" = 124 ]; then
    show_output
    fail "$* did not finish in the root within ${KILN_IT_RUN_TIMEOUT}s"
  fi
}

# check_run: the run in the root succeeded and did what doc.yaml says.
check_run() {
  assert_rc 0 "kiln-toe run in the busybox root"
  assert_json "$OUT" status success
  local log
  log=$(json_get "$OUT" logUrl)
  assert_match '^/logs/TOE_[0-9_-]+_UTC-0_' "$log" "logUrl inside the root"
  assert_file_eq "$ROOT/out/created.txt" from-busybox-sh
  DO=$ROOT$log/detailedoutput.json
  assert_json "$DO" status success
  assert_step build Shell status success
  assert_step validate Check status success
  # There is no bash: ExecuteBash ran the script with sh, and said so.
  assert_contains "$ROOT$log/console.log" "bash not found" "console.log"
}

test_with_proc() {
  make_root
  WITH_PROC=1 in_root /opt/kiln/bin/kiln-toe --version
  assert_rc 0 "kiln-toe --version in the root"
  assert_match '^kiln-toe [0-9]' "$(cat "$OUT")" "--version in the root"
  WITH_PROC=1 in_root /opt/kiln/bin/kiln-toe validate --documents /doc.yaml
  assert_rc 0 "kiln-toe validate in the root"
  WITH_PROC=1 in_root /opt/kiln/bin/kiln-toe run --documents /doc.yaml --log-directory /logs
  check_run
}

test_without_proc() {
  make_root
  # No /proc: the launcher finds itself from argv[0], an absolute path here.
  in_root /opt/kiln/bin/kiln-toe run --documents /doc.yaml --log-directory /logs
  check_run
}

test_without_proc_found_on_path() {
  make_root
  # No /proc and a bare argv[0]: the launcher finds itself on $PATH.
  ROOT_PATH=/opt/kiln/bin:/bin in_root kiln-toe run --documents /doc.yaml --log-directory /logs
  check_run
}

test_minimal_root() {
  # Only /bin, /tmp and /etc: no /dev (so no /dev/null for the steps' stdin) and no /proc.
  WITH_DEV_NULL=0 make_root
  in_root /opt/kiln/bin/kiln-toe run --documents /doc.yaml --log-directory /logs
  check_run
}

run_test with_proc test_with_proc
run_test without_proc test_without_proc
run_test without_proc_found_on_path test_without_proc_found_on_path
run_test minimal_root test_minimal_root
finish
