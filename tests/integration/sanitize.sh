#!/usr/bin/env bash
# share/sanitize.sh, the cleanup run in a build instance before its snapshot, tried on a fake
# root filesystem in a temporary folder (KILN_SANITIZE_ROOT): what each section removes, what it
# keeps, the skip_cleanup_* markers, symbolic links that point out of the root, and busybox's sh.
# Usage: sanitize.sh <kiln-toe binary> <source dir> [<build dir>] (the binary is not used).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh" "$@"

SANITIZE=$SRC/share/sanitize.sh
WORKDIR=/var/tmp/build

# put PATH [CONTENT]: a file in the fake root with some content.
put() {
  mkdir -p "$(dirname "$ROOT$1")"
  printf '%s\n' "${2:-content of $1}" >"$ROOT$1"
}

# make_root: a fake root $ROOT with a file for every section, and some that must stay.
make_root() {
  ROOT=$T/root
  mkdir -p "$ROOT$WORKDIR"
  # cloud-init
  put /var/lib/cloud/instances/i-0123/user-data.txt
  put /var/lib/cloud/data/instance-id i-0123
  put /var/lib/cloud/sem/config_scripts_per_once.once
  put /var/lib/cloud/handlers/handler.py
  ln -s /var/lib/cloud/instances/i-0123 "$ROOT/var/lib/cloud/instance"
  put /var/lib/cloud/scripts/per-boot/keep.sh
  put /var/log/cloud-init.log
  put /var/log/cloud-init-output.log
  # instance identity
  put /etc/machine-id 0123456789abcdef0123456789abcdef
  put /var/lib/dbus/machine-id 0123456789abcdef0123456789abcdef
  put /var/lib/systemd/random-seed
  put /var/lib/urandom/random-seed
  put /var/lib/dhcp/dhclient.eth0.leases
  put /etc/hostname keep-me
  # SSH
  put /etc/ssh/ssh_host_ed25519_key
  put /etc/ssh/ssh_host_ed25519_key.pub
  put /etc/ssh/ssh_host_rsa_key
  put /etc/ssh/sshd_config
  put /root/.ssh/authorized_keys "ssh-ed25519 AAAA root@builder"
  put /root/.ssh/known_hosts
  put /home/alice/.ssh/authorized_keys "ssh-ed25519 AAAA alice"
  put /home/alice/.ssh/id_ed25519
  put /home/bob/.ssh/authorized_keys2 "ssh-rsa AAAA bob"
  # logs
  put /var/log/syslog "current syslog"
  put /var/log/syslog.1
  put /var/log/syslog.2.gz
  put /var/log/apt/history.log
  put /var/log/apt/history.log.1.gz
  put /var/log/journal/0123/system.journal
  put "/var/log/my app.log"
  mkdir -p "$ROOT/var/log/private"
  : >"$ROOT/var/log/empty.log"
  # TOE folders
  put "$WORKDIR/TOE_2024-01-02_03-04-05_UTC-0_run1/console.log"
  put "$WORKDIR/TOE_2024-01-02_03-04-05_UTC-0_run1/detailedoutput.json"
  put "$WORKDIR/TOE_2024-01-03_03-04-05_UTC-0_run2/application.log"
  put "$WORKDIR/component.yaml"
  # SSM agent logs
  put /var/log/amazon/ssm/amazon-ssm-agent.log
  put /var/log/amazon/ssm/errors.log.1
  put /var/log/amazon/ssm/audits/amazon-ssm-agent-audit-2024-01-02
  put /var/log/amazon/other.log
}

# sanitize [SHELL]: runs the script on $ROOT; stdout in $OUT, stderr in $ERR, exit code in $RC.
sanitize() {
  local shell=${1:-sh}
  OUT=$T/.stdout
  ERR=$T/.stderr
  RC=0
  KILN_SANITIZE_ROOT=$ROOT timeout 60 "$shell" "$SANITIZE" "$WORKDIR" >"$OUT" 2>"$ERR" || RC=$?
}

assert_empty_file() {
  [ -f "$ROOT$1" ] || fail "$1: expected an (emptied) file, it does not exist"
  [ ! -s "$ROOT$1" ] || fail "$1: expected to be emptied, it holds [$(head -c 80 "$ROOT$1")]"
}

assert_kept() {
  local p
  for p in "$@"; do
    [ -s "$ROOT$p" ] || fail "$p: expected to be kept with its content"
  done
}

assert_gone() {
  local p
  for p in "$@"; do
    assert_absent "$ROOT$p" "$p"
  done
}

# The checks of each section, one function for "cleaned" and one for "kept".
cloudinit_cleaned() {
  assert_gone /var/lib/cloud/instances /var/lib/cloud/instance /var/lib/cloud/data \
    /var/lib/cloud/sem /var/lib/cloud/handlers /var/log/cloud-init.log /var/log/cloud-init-output.log
  assert_kept /var/lib/cloud/scripts/per-boot/keep.sh
}
cloudinit_kept() {
  assert_kept /var/lib/cloud/instances/i-0123/user-data.txt /var/lib/cloud/data/instance-id \
    /var/lib/cloud/sem/config_scripts_per_once.once
  [ -L "$ROOT/var/lib/cloud/instance" ] || fail "the /var/lib/cloud/instance link was removed"
}
instance_cleaned() {
  assert_empty_file /etc/machine-id
  assert_gone /var/lib/dbus/machine-id /var/lib/systemd/random-seed /var/lib/urandom/random-seed \
    /var/lib/dhcp/dhclient.eth0.leases
  assert_kept /etc/hostname
}
instance_kept() {
  assert_kept /etc/machine-id /var/lib/dbus/machine-id /var/lib/systemd/random-seed \
    /var/lib/dhcp/dhclient.eth0.leases
}
ssh_cleaned() {
  assert_gone /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_rsa_key \
    /root/.ssh/authorized_keys /home/alice/.ssh/authorized_keys /home/bob/.ssh/authorized_keys2
  assert_kept /etc/ssh/sshd_config /root/.ssh/known_hosts /home/alice/.ssh/id_ed25519
}
ssh_kept() {
  assert_kept /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_rsa_key /root/.ssh/authorized_keys \
    /home/alice/.ssh/authorized_keys /home/bob/.ssh/authorized_keys2
}
logs_cleaned() {
  assert_empty_file /var/log/syslog
  assert_empty_file /var/log/apt/history.log
  assert_empty_file "/var/log/my app.log"
  assert_empty_file /var/log/empty.log
  assert_gone /var/log/syslog.1 /var/log/syslog.2.gz /var/log/apt/history.log.1.gz \
    /var/log/journal/0123/system.journal
  assert_exists "$ROOT/var/log/private" "the folder /var/log/private"
  assert_empty_file /var/log/amazon/other.log
}
logs_kept() {
  assert_kept /var/log/syslog /var/log/syslog.1 /var/log/syslog.2.gz /var/log/apt/history.log \
    /var/log/journal/0123/system.journal "/var/log/my app.log" /var/log/amazon/other.log
}
toe_cleaned() {
  assert_gone "$WORKDIR/TOE_2024-01-02_03-04-05_UTC-0_run1" "$WORKDIR/TOE_2024-01-03_03-04-05_UTC-0_run2"
  assert_kept "$WORKDIR/component.yaml"
}
toe_kept() {
  assert_kept "$WORKDIR/TOE_2024-01-02_03-04-05_UTC-0_run1/console.log" \
    "$WORKDIR/TOE_2024-01-03_03-04-05_UTC-0_run2/application.log"
}
ssm_cleaned() {
  assert_exists "$ROOT/var/log/amazon/ssm" "the folder /var/log/amazon/ssm"
  assert_gone /var/log/amazon/ssm/amazon-ssm-agent.log /var/log/amazon/ssm/errors.log.1 \
    /var/log/amazon/ssm/audits
}
ssm_kept() {
  assert_kept /var/log/amazon/ssm/amazon-ssm-agent.log /var/log/amazon/ssm/errors.log.1 \
    /var/log/amazon/ssm/audits/amazon-ssm-agent-audit-2024-01-02
}

SECTIONS="cloudinit instance ssh logs toe ssm"

marker_of() {
  case $1 in
    cloudinit) echo skip_cleanup_cloudinit_files ;;
    instance) echo skip_cleanup_instance_files ;;
    ssh) echo skip_cleanup_ssh_files ;;
    logs) echo skip_cleanup_instance_log_files ;;
    toe) echo skip_cleanup_toe_files ;;
    ssm) echo skip_cleanup_ssm_log_files ;;
  esac
}

assert_succeeded() {
  if [ "$RC" != 0 ]; then
    show_output
    fail "sanitize.sh exit code: expected 0, got $RC"
  fi
  if [ -s "$ERR" ]; then
    show_output
    fail "sanitize.sh wrote to stderr"
  fi
}

# ---- tests ----------------------------------------------------------------------------------

cleans_every_section() {
  make_root
  sanitize sh
  assert_succeeded
  local s
  for s in $SECTIONS; do "${s}_cleaned"; done
  assert_eq 6 "$(grep -c '^sanitize: .*: done (' "$OUT")" "lines saying a section was done"
  assert_contains "$OUT" "sanitize: SSH host keys and authorized_keys: done (6 removed or emptied)"
  assert_contains "$OUT" "sanitize: TOE folders: done (2 removed or emptied)"
}

# skip_one SECTION: the marker of SECTION keeps that section, every other one is cleaned.
skip_one() {
  local skipped=$1 marker s
  make_root
  marker=$(marker_of "$skipped")
  : >"$ROOT$WORKDIR/$marker"
  sanitize sh
  assert_succeeded
  for s in $SECTIONS; do
    if [ "$s" = "$skipped" ]; then "${s}_kept"; else "${s}_cleaned"; fi
  done
  assert_contains "$OUT" "skipped ($marker present)"
  assert_eq 1 "$(grep -c 'skipped' "$OUT")" "lines saying a section was skipped"
  assert_eq 5 "$(grep -c ': done (' "$OUT")" "lines saying a section was done"
  assert_exists "$ROOT$WORKDIR/$marker" "the marker file"
}

every_marker_keeps_everything() {
  make_root
  local s
  for s in $SECTIONS; do : >"$ROOT$WORKDIR/$(marker_of "$s")"; done
  sanitize sh
  assert_succeeded
  for s in $SECTIONS; do "${s}_kept"; done
  assert_eq 6 "$(grep -c 'skipped' "$OUT")" "lines saying a section was skipped"
}

empty_root_is_not_an_error() {
  ROOT=$T/empty
  mkdir -p "$ROOT"
  sanitize sh
  assert_succeeded
  assert_eq 6 "$(grep -c ': done (0 removed or emptied)' "$OUT")" "sections done with nothing to do"
  # Nothing is created either: an absent machine-id stays absent.
  assert_eq "" "$(find "$ROOT" -mindepth 1)" "what the run left in an empty root"
}

runs_twice() {
  make_root
  sanitize sh
  assert_succeeded
  sanitize sh
  assert_succeeded
  assert_contains "$OUT" "sanitize: SSH host keys and authorized_keys: done (0 removed or emptied)"
}

# Links inside the root that point to absolute paths must never reach the host's files.
links_are_not_followed() {
  make_root
  local outside=$T/outside
  mkdir -p "$outside"
  echo host-machine-id >"$outside/machine-id"
  echo host-log >"$outside/log"
  echo host-key >"$outside/key"
  rm -f "$ROOT/etc/machine-id" "$ROOT/var/lib/dbus/machine-id"
  ln -s "$outside/machine-id" "$ROOT/etc/machine-id"
  ln -s "$outside/machine-id" "$ROOT/var/lib/dbus/machine-id"
  ln -s "$outside/log" "$ROOT/var/log/linked.log"
  ln -s "$outside/key" "$ROOT/etc/ssh/ssh_host_linked_key"
  sanitize sh
  assert_succeeded
  assert_file_eq "$outside/machine-id" host-machine-id
  assert_file_eq "$outside/log" host-log
  assert_file_eq "$outside/key" host-key
  assert_gone /var/lib/dbus/machine-id /etc/ssh/ssh_host_linked_key
}

with_busybox_sh() {
  [ -x /bin/busybox ] || skip "needs /bin/busybox (Debian busybox or busybox-static)"
  # Only busybox's applets on PATH, as in a busybox image.
  local bin=$T/bb
  mkdir -p "$bin"
  local applet
  for applet in sh find rm wc tr head cat sed mkdir shred; do
    ln -sf /bin/busybox "$bin/$applet"
  done
  make_root
  OUT=$T/.stdout
  ERR=$T/.stderr
  RC=0
  timeout 60 env KILN_SANITIZE_ROOT="$ROOT" PATH="$bin" /bin/busybox sh "$SANITIZE" "$WORKDIR" >"$OUT" 2>"$ERR" || RC=$?
  assert_succeeded
  local s
  for s in $SECTIONS; do "${s}_cleaned"; done
}

usage_errors() {
  RC=0
  sh "$SANITIZE" >"$T/out" 2>"$T/err" || RC=$?
  assert_eq 2 "$RC" "exit code without a working directory"
  assert_contains "$T/err" "usage: sh sanitize.sh WORKING_DIRECTORY"
  RC=0
  KILN_SANITIZE_ROOT=$T/missing sh "$SANITIZE" /tmp >"$T/out" 2>"$T/err" || RC=$?
  assert_eq 2 "$RC" "exit code with a missing KILN_SANITIZE_ROOT"
}

shellcheck_clean() {
  command -v shellcheck >/dev/null || skip "needs shellcheck"
  shellcheck -s sh "$SANITIZE" || fail "shellcheck finds problems in share/sanitize.sh"
}

run_test cleans_every_section cleans_every_section
for section in $SECTIONS; do
  run_test "skip_$section" skip_one "$section"
done
run_test every_marker_keeps_everything every_marker_keeps_everything
run_test empty_root_is_not_an_error empty_root_is_not_an_error
run_test runs_twice runs_twice
run_test links_are_not_followed links_are_not_followed
run_test with_busybox_sh with_busybox_sh
run_test usage_errors usage_errors
run_test shellcheck_clean shellcheck_clean
finish
