#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031,SC2016  # functions run by run_kiln_test; $T per test
# Issue 9, "Escapes from an instance" item 5: an instance must not fill the host's disk or use up
# its inodes, a build that writes past its disk fails with a clear reason, and sparse files stay
# sparse through layers (a small layer holding a 1 GiB sparse file must not take 1 GiB when an
# instance starts). docs/security/h-disk.md.
# Usage: disk.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/../integration/kiln_lib.sh" "$@"
kiln_require_privileged

# ---- helpers --------------------------------------------------------------------------------

# host_kib PATH: KiB the host's filesystem holds below PATH, not counting what is mounted there
# (an instance's disk counts as the blocks of its image file).
host_kib() {
  du -sxk "$1" | cut -f1
}

# free_kib: free KiB of the filesystem holding $T.
free_kib() {
  df -Pk "$T" | awk 'NR == 2 { print $4 }'
}

# loops_of TEXT: loop devices whose backing file names TEXT.
loops_of() {
  local f
  for f in /sys/block/loop*/loop/backing_file; do
    [ -r "$f" ] || continue
    grep -F -- "$1" "$f" 2>/dev/null || true
  done
}

# assert_nothing_mounted WHAT: nothing of $ROOT is mounted on the host, and no loop device is
# backed by a file of $ROOT that still exists. (A mount namespace made elsewhere while a disk was
# mounted, by another program, holds a copy of it and its loop device, backed by the deleted
# file, until that namespace ends: kiln's own namespaces drop other instances' disks.)
assert_nothing_mounted() {
  assert_eq "" "$(mounts_under "$ROOT/")" "host mounts naming $ROOT $1"
  assert_eq "" "$(loops_of "$ROOT/" | grep -v ' (deleted)$' || true)" \
    "loop devices backed by a file of $ROOT $1"
}

# write_recipe DIR SIZE_GIB COMMANDS...: a busybox recipe whose one build step runs COMMANDS,
# with a root volume of SIZE_GIB.
write_recipe() {
  local dir=$1 size=$2
  shift 2
  mkdir -p "$dir"
  {
    echo "name: writer"
    echo "schemaVersion: 1.0"
    echo "phases:"
    echo "  - name: build"
    echo "    steps:"
    echo "      - name: Write"
    echo "        action: ExecuteBash"
    echo "        inputs:"
    echo "          commands:"
    local c
    for c in "$@"; do
      echo "            - $c"
    done
  } >"$dir/writer.yaml"
  cat >"$dir/recipe.yaml" <<EOF
name: it-disk
semanticVersion: 1.0.x
parentImage: busybox
blockDeviceMappings:
  - deviceName: /dev/xvda
    ebs:
      volumeSize: $size
components:
  - path: writer.yaml
EOF
}

# image_status_and_reason ARN: "<status>|<reason>" of the image.
image_status_and_reason() {
  kiln_ok get-image --image-build-version-arn "$1"
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["image"]["state"]; print(s["status"] + "|" + s.get("reason", ""))' "$OUT"
}

# ---- the tests ------------------------------------------------------------------------------

# An instance with a 64 MiB disk writes 200 MiB: the write fails with ENOSPC inside, the host
# gives it no more than its disk, and terminate leaves no mount and no loop device.
test_instance_cannot_fill_the_host() {
  bootstrap_busybox busybox 1.0.0
  local before_free before_kib
  before_free=$(free_kib)
  launch busybox/1.0.0 --disk-size 64M
  before_kib=$(host_kib "$ROOT/instances/$ID")
  kiln instance exec "$ID" -- /bin/sh -c 'dd if=/dev/urandom of=/root/fill bs=1M count=200 2>&1'
  [ "$RC" != 0 ] || fail "writing 200 MiB on a 64 MiB disk: expected to fail, it succeeded"
  assert_contains "$OUT" "No space left on device" "what dd says past the disk's end"
  local grown
  grown=$(($(host_kib "$ROOT/instances/$ID") - before_kib))
  [ "$grown" -lt $((80 * 1024)) ] ||
    fail "the instance's folder grew by $grown KiB on the host for a 64 MiB disk"
  local used=$((before_free - $(free_kib)))
  [ "$used" -lt $((150 * 1024)) ] ||
    fail "the host's free space went down by $used KiB while the instance wrote 200 MiB"
  # The instance still works, and what it wrote before the disk filled is there.
  sh_in "$ID" 'rm /root/fill && echo still-usable >/root/after'
  in_instance "$ID" /bin/cat /root/after
  assert_stdout still-usable "a file written after the disk was freed"
  kiln_ok instance terminate "$ID"
  assert_absent "$ROOT/instances/$ID" "the instance's folder after terminate"
  assert_nothing_mounted "after terminate"
}

# Memory no process owns: bwrap's /dev is a tmpfs without a size, and what is written to a tmpfs
# stays until the instance ends (neither the OOM killer nor a process's end gives it back). /dev
# is read-only; /dev/shm holds 64 MiB without an instance type and half the memory of one.
test_dev_cannot_take_the_hosts_memory() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0 --disk-size 64M
  kiln instance exec "$ID" -- /bin/sh -c '{ echo x >/dev/filler; } 2>&1'
  [ "$RC" != 0 ] || fail "a file written in /dev: expected to fail, it succeeded"
  assert_contains "$OUT" "Read-only file system" "what the shell says writing in /dev"
  kiln instance exec "$ID" -- /bin/sh -c 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=200 2>&1'
  [ "$RC" != 0 ] || fail "writing 200 MiB to /dev/shm: expected to fail, it succeeded"
  assert_contains "$OUT" "No space left on device" "what dd says past /dev/shm's size"
  in_instance "$ID" /bin/sh -c 'wc -c </dev/shm/fill'
  assert_stdout 67108864 "bytes that fit in /dev/shm"
  # Devices and shared memory still work as on a machine.
  sh_in "$ID" 'echo discarded >/dev/null && head -c 4 /dev/urandom | wc -c'
  assert_stdout 4 "bytes read from /dev/urandom"
  sh_in "$ID" 'stat -c %a /dev/shm'
  assert_stdout 1777 "the mode of /dev/shm"
  kiln_ok instance terminate "$ID"
  launch busybox/1.0.0 --disk-size 64M --type t3.nano
  sh_in "$ID" "df -k /dev/shm | awk 'NR == 2 { print \$2 }'"
  assert_stdout 262144 "KiB of /dev/shm on a t3.nano (512 MiB)"
  kiln_ok instance terminate "$ID"
}

# Inodes: 100,000 empty files use the instance's own inode table, not the host's.
test_instance_cannot_use_up_host_inodes() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0 --disk-size 64M
  kiln instance exec "$ID" -- /bin/sh -c \
    'mkdir /root/many && cd /root/many && i=0; while [ $i -lt 100000 ]; do true >f$i || exit 3; i=$((i + 1)); done'
  assert_eq 3 "$RC" "exit code of creating 100,000 files on a 64 MiB disk (out of inodes)"
  local host_inodes
  host_inodes=$(find "$ROOT/instances/$ID" -xdev | wc -l)
  [ "$host_inodes" -lt 100 ] || fail "$host_inodes host inodes under the instance's folder"
  kiln_ok instance terminate "$ID"
  assert_nothing_mounted "after terminate"
}

# A build whose step writes past the recipe's root volume is FAILED, saying why and what to set;
# the instance is gone and nothing stays mounted. The same recipe writing less is AVAILABLE.
test_build_past_its_volume_fails_clearly() {
  write_recipe "$T/big" 1 'dd if=/dev/zero of=/root/fill bs=1M count=1300'
  kiln build "$T/big/recipe.yaml"
  [ "$RC" != 0 ] || fail "a build writing 1300 MiB on a 1 GiB volume: expected to fail"
  local arn
  arn=$(grep -oh 'arn:aws:imagebuilder:[^ ]*image/it-disk/[0-9.]*/[0-9]*' "$ERR" | head -n 1)
  [ -n "$arn" ] || {
    show_output
    fail "no image ARN in the output of the failed build"
  }
  local got
  got=$(image_status_and_reason "$arn")
  assert_match '^FAILED\|' "$got" "status of the build that filled its disk"
  assert_match "the instance's disk is full \(limit 1 GiB" "$got" "the failure reason"
  assert_match 'blockDeviceMappings' "$got" "the failure reason names the setting"
  assert_eq 0 "$(count_entries "$ROOT/instances")" "instances left after the failed build"
  assert_nothing_mounted "after the failed build"

  write_recipe "$T/small" 1 'dd if=/dev/zero of=/root/fill bs=1M count=100' 'rm /root/fill'
  kiln_ok build "$T/small/recipe.yaml"
  arn=$(tail -n 1 "$OUT")
  got=$(image_status_and_reason "$arn")
  assert_match '^AVAILABLE\|' "$got" "status of a build under its volume"
  assert_nothing_mounted "after the build"
}

# A bad volumeSize is refused with a clear reason, before anything runs.
test_build_refuses_bad_volume_size() {
  write_recipe "$T/bad" 0 'true'
  kiln build "$T/bad/recipe.yaml"
  [ "$RC" != 0 ] || fail "a build with volumeSize 0: expected to fail"
  cat "$OUT" "$ERR" >"$T/all"
  assert_contains "$T/all" "volumeSize" "the error of volumeSize 0"
  assert_nothing_mounted "after the refused build"
}

# A layer of a few kB holding a 1 GiB sparse file: the unpacked layer, an instance of it, a
# snapshot of an instance that made one and the snapshot's own layer all stay small on disk.
test_sparse_files_stay_sparse() {
  mkdir -p "$T/rootfs"
  cp -a "$(command -v busybox)" "$T/rootfs/busybox"
  mkdir -p "$T/rootfs/bin"
  ln -s ../busybox "$T/rootfs/bin/sh"
  ln -s ../busybox "$T/rootfs/bin/dd"
  ln -s ../busybox "$T/rootfs/bin/tail"
  ln -s ../busybox "$T/rootfs/bin/du"
  mkdir -p "$T/rootfs/data" "$T/rootfs/root" "$T/rootfs/tmp"
  truncate -s 1G "$T/rootfs/data/sparse.img"
  printf end | dd of="$T/rootfs/data/sparse.img" bs=1 seek=$(((1 << 30) - 3)) conv=notrunc 2>/dev/null
  tar --sparse -C "$T/rootfs" -cf "$T/rootfs.tar" .
  [ "$(stat -c %s "$T/rootfs.tar")" -lt $((16 * 1024 * 1024)) ] || fail "the test's tarball is not small"
  kiln_ok image import "$T/rootfs.tar" --name sparse --version 1.0.0
  launch sparse/1.0.0 --disk-size 64M
  local kib
  kib=$(du -sk "$ROOT/layers" | cut -f1)
  [ "$kib" -lt $((64 * 1024)) ] || fail "the unpacked layers take $kib KiB for a 1 GiB sparse file"
  kib=$(host_kib "$ROOT/instances/$ID")
  [ "$kib" -lt $((64 * 1024)) ] || fail "the instance takes $kib KiB on the host"
  in_instance "$ID" /bin/tail -c 3 /data/sparse.img
  assert_stdout end "the end of the sparse file in the instance"

  # An instance makes a 1 GiB sparse file of its own: its snapshot's layer is small, and so is
  # that layer unpacked for an instance of the snapshot.
  sh_in "$ID" 'dd if=/dev/zero of=/root/own.img bs=1 count=0 seek=1073741824 2>/dev/null && printf own >>/root/own.img'
  kiln_ok instance stop "$ID"
  kiln_ok instance snapshot "$ID" --name sparse-snap --version 1.0.0
  local layers_before
  layers_before=$(du -sk "$ROOT/layers" | cut -f1)
  launch sparse-snap/1.0.0 --disk-size 64M
  kib=$(($(du -sk "$ROOT/layers" | cut -f1) - layers_before))
  [ "$kib" -lt $((64 * 1024)) ] || fail "the snapshot's layer takes $kib KiB unpacked"
  kib=$(du -sk "$ROOT/store" | cut -f1)
  [ "$kib" -lt $((64 * 1024)) ] || fail "the store takes $kib KiB for two sparse files"
  in_instance "$ID" /bin/tail -c 3 /root/own.img
  assert_stdout own "the end of the instance's own sparse file in its snapshot"
}

run_kiln_test instance_cannot_fill_the_host test_instance_cannot_fill_the_host
run_kiln_test dev_cannot_take_the_hosts_memory test_dev_cannot_take_the_hosts_memory
run_kiln_test instance_cannot_use_up_host_inodes test_instance_cannot_use_up_host_inodes
run_kiln_test build_past_its_volume_fails_clearly test_build_past_its_volume_fails_clearly
run_kiln_test build_refuses_bad_volume_size test_build_refuses_bad_volume_size
run_kiln_test sparse_files_stay_sparse test_sparse_files_stay_sparse
finish
