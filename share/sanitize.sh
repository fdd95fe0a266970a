#!/bin/sh
# kiln's cleanup of a Linux build instance, run as root inside the instance just before its
# snapshot (the RunSanitizeScript step of a build):
#
#   sh sanitize.sh WORKING_DIRECTORY
#
# It removes what belongs to this one instance and must not end up in the image: cloud-init's
# state, the instance's identity (machine id, random seeds, DHCP leases), SSH host keys and
# authorized_keys, logs, kiln-toe's TOE_* log folders in the working directory, and the SSM
# agent's logs. An empty file named skip_cleanup_<section> in WORKING_DIRECTORY keeps that
# section (the names Image Builder uses):
#
#   skip_cleanup_cloudinit_files  skip_cleanup_instance_files  skip_cleanup_ssh_files
#   skip_cleanup_instance_log_files  skip_cleanup_toe_files  skip_cleanup_ssm_log_files
#
# It prints one line per section. A file that is not there is not an error; a file that is
# there and cannot be removed is (exit 1, after every section ran). POSIX sh: busybox runs it.
#
# KILN_SANITIZE_ROOT (default empty) is put in front of every path, WORKING_DIRECTORY's too, so
# the script can be tried on a folder that looks like a root filesystem. Symbolic links are
# removed, never followed.

# The section functions are called through `section`, which shellcheck cannot follow.
# shellcheck disable=SC2317
set -u

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: sh sanitize.sh WORKING_DIRECTORY" >&2
  exit 2
fi

R=${KILN_SANITIZE_ROOT:-}
# No trailing slash, so "$R/etc" is one path (a root of "/" is the empty prefix).
while [ -n "$R" ] && [ "${R%/}" != "$R" ]; do R=${R%/}; done
if [ -n "$R" ] && [ ! -d "$R" ]; then
  echo "sanitize: KILN_SANITIZE_ROOT $R is not a folder" >&2
  exit 2
fi
WORK=$R$1

errors=0
count=0

# exists PATH: true for anything at PATH, a dangling symbolic link included.
exists() {
  [ -e "$1" ] || [ -L "$1" ]
}

# remove PATH...: removes each path that exists (folders with their content); counts them.
remove() {
  for p in "$@"; do
    exists "$p" || continue
    if rm -rf -- "$p" 2>/dev/null && ! exists "$p"; then
      count=$((count + 1))
    else
      echo "sanitize: cannot remove $p" >&2
      errors=$((errors + 1))
    fi
  done
}

# truncate_file PATH: empties a regular file (a symbolic link is left alone); counts it.
truncate_file() {
  [ -f "$1" ] && [ ! -L "$1" ] || return 0
  if : >"$1" 2>/dev/null; then
    count=$((count + 1))
  else
    echo "sanitize: cannot truncate $1" >&2
    errors=$((errors + 1))
  fi
}

# section MARKER TITLE FUNCTION: runs FUNCTION unless WORKING_DIRECTORY holds MARKER.
section() {
  if exists "$WORK/$1"; then
    echo "sanitize: $2: skipped ($1 present)"
    return 0
  fi
  count=0
  before=$errors
  $3
  if [ "$errors" -eq "$before" ]; then
    echo "sanitize: $2: done ($count removed or emptied)"
  else
    echo "sanitize: $2: done with $((errors - before)) errors ($count removed or emptied)"
  fi
}

clean_cloudinit() {
  # cloud-init's per-instance state, so the image's first boot is a first boot again. Scripts
  # under /var/lib/cloud/scripts are the image's own and stay.
  remove "$R/var/lib/cloud/instance" "$R/var/lib/cloud/instances" "$R/var/lib/cloud/data" \
    "$R/var/lib/cloud/sem" "$R/var/lib/cloud/handlers"
  for f in "$R"/var/log/cloud-init*.log; do remove "$f"; done
}

clean_instance() {
  # An empty machine-id (not a missing one) makes systemd generate a new one at the next boot.
  truncate_file "$R/etc/machine-id"
  remove "$R/var/lib/dbus/machine-id"
  remove "$R/var/lib/systemd/random-seed" "$R/var/lib/urandom/random-seed" "$R/var/lib/random-seed"
  for f in "$R"/var/lib/dhcp/*.leases "$R"/var/lib/dhclient/*.lease* "$R"/var/lib/NetworkManager/*.lease \
    "$R"/var/lib/systemd/network/*.lease; do
    remove "$f"
  done
}

clean_ssh() {
  for f in "$R"/etc/ssh/ssh_host_*; do remove "$f"; done
  for f in "$R"/root/.ssh/authorized_keys "$R"/root/.ssh/authorized_keys2 \
    "$R"/home/*/.ssh/authorized_keys "$R"/home/*/.ssh/authorized_keys2; do
    remove "$f"
  done
}

clean_logs() {
  [ -d "$R/var/log" ] && [ ! -L "$R/var/log" ] || return 0
  # Rotated and archived logs go; current logs are emptied (services expect their files to
  # exist). The SSM agent's logs have a section of their own. Only what -exec did is -printed.
  n=$(find "$R/var/log" -path "$R/var/log/amazon/ssm" -prune -o -type f \
    \( -name '*.gz' -o -name '*.xz' -o -name '*.bz2' -o -name '*.zst' -o -name '*.old' \
    -o -name '*.[0-9]' -o -name '*.journal' -o -name '*.journal~' \) \
    -exec rm -f {} \; -print | wc -l)
  count=$((count + n))
  n=$(find "$R/var/log" -path "$R/var/log/amazon/ssm" -prune -o -type f -size +0 \
    -exec sh -c ': >"$1"' sh {} \; -print | wc -l)
  count=$((count + n))
  left=$(find "$R/var/log" -path "$R/var/log/amazon/ssm" -prune -o -type f \
    \( -size +0 -o -name '*.gz' -o -name '*.[0-9]' \) -print)
  if [ -n "$left" ]; then
    echo "sanitize: cannot remove or empty: $(echo "$left" | tr "\n" " ")" >&2
    errors=$((errors + $(echo "$left" | wc -l)))
  fi
}

clean_toe() {
  # kiln-toe's (and awstoe's) log folders: they hold every command the build ran and its output.
  for d in "$WORK"/TOE_*; do
    exists "$d" || continue
    if [ -d "$d" ] && [ ! -L "$d" ] && command -v shred >/dev/null 2>&1; then
      find "$d" -type f -exec shred -u -- {} \; 2>/dev/null
    fi
    remove "$d"
  done
}

clean_ssm_logs() {
  for f in "$R"/var/log/amazon/ssm/* "$R"/var/log/amazon/ssm/.[!.]*; do remove "$f"; done
}

section skip_cleanup_cloudinit_files "cloud-init files" clean_cloudinit
section skip_cleanup_instance_files "instance files" clean_instance
section skip_cleanup_ssh_files "SSH host keys and authorized_keys" clean_ssh
section skip_cleanup_instance_log_files "instance logs" clean_logs
section skip_cleanup_toe_files "TOE folders" clean_toe
section skip_cleanup_ssm_log_files "SSM agent logs" clean_ssm_logs

if [ "$errors" -gt 0 ]; then
  echo "sanitize: $errors files could not be removed or emptied" >&2
  exit 1
fi
exit 0
