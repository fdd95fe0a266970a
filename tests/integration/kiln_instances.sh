#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031,SC2119,SC2016,SC2012,SC2094  # functions run by run_kiln_test; $T per test
# Instances through the real `kiln` binary: launch, exec, snapshot, reboot, stop/start,
# terminate, cp (and symlinks planted to make it write on the host), --network none, instances
# outliving kiln, dead instances, and a chain of 45 snapshots.
# Needs root, bwrap, nsenter and busybox; exits 77 (skipped) without them.
# Usage: kiln_instances.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/kiln_lib.sh" "$@"
kiln_require_privileged

# ---- helpers --------------------------------------------------------------------------------

# state_of ID: the instance's state in `kiln instance list --json`.
state_of() {
  instance_field "$1" state
}

# wait_state ID STATE SECONDS: waits until the instance's state is STATE.
wait_state() {
  local id=$1 want=$2 tenths=$(($3 * 10)) got
  while got=$(state_of "$id") && [ "$got" != "$want" ]; do
    tenths=$((tenths - 1))
    if [ "$tenths" -le 0 ]; then
      show_output
      fail "state of $id: expected [$want] within $3 s, got [$got]"
    fi
    sleep 0.1
  done
}

# all_mounts_mentioning TEXT: every mount, in every process's mount namespace, whose line names
# TEXT (a leaked namespace would keep an instance's overlay alive).
all_mounts_mentioning() {
  local f
  for f in /proc/self/mountinfo /proc/[0-9]*/mountinfo; do
    grep -F -- "$1" "$f" 2>/dev/null | sed "s|^|$f: |" || true
  done | sort -u
}

# mounts_besides_disk ID: host mounts naming the instance's folder other than its disk (the one
# mount an instance has on the host, <folder>/disk, from launch to terminate).
mounts_besides_disk() {
  mounts_under "$ROOT/instances/$1" | grep -v -F -- " $ROOT/instances/$1/disk " || true
}

# assert_disk_mounted ID: the instance's disk is mounted on the host at <folder>/disk.
assert_disk_mounted() {
  awk -v p="$ROOT/instances/$1/disk" '$5 == p' /proc/self/mountinfo | grep -q . ||
    fail "the disk of $1 is not mounted at $ROOT/instances/$1/disk"
}

# start_sleeper ID SECONDS: `sleep SECONDS` in the background inside the instance (SECONDS makes
# it unique, to find it with pgrep from the host).
start_sleeper() {
  sh_in "$1" "sleep $2 </dev/null >/dev/null 2>&1 &"
  wait_for_process "sleep $2" 5 || fail "the sleep $2 started in $1 is not seen from the host"
}

unique_seconds() {
  echo $((100000 + RANDOM * 7 + $$ % 1000))
}

# interfaces ID: the network interfaces the instance sees (/proc/net/dev), sorted.
interfaces() {
  in_instance "$1" /bin/cat /proc/net/dev
  awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' "$OUT" | sort | tr '\n' ' ' | sed 's/ $//'
}

# ---- exec -----------------------------------------------------------------------------------

test_exec() {
  bootstrap_busybox busybox 1.0.0
  kiln instance launch busybox/9.x.x
  assert_eq 3 "$RC" "exit code of launching a missing image"
  assert_eq 0 "$(count_entries "$ROOT/instances")" "instances after launching a missing image"
  launch busybox/1.0.0
  assert_eq running "$(state_of "$ID")" "state of a launched instance"
  assert_exists "$ROOT/instances/$ID/instance.json" "the instance's record"
  assert_eq "busybox/1.0.0/1" "$(instance_field "$ID" image)" "image of the instance in instance list"

  in_instance "$ID" /bin/echo hello world
  assert_stdout "hello world" "stdout of exec echo"
  kiln instance exec "$ID" -- /bin/sh -c 'exit 7'
  assert_eq 7 "$RC" "exit code of exec sh -c 'exit 7'"
  kiln instance exec "$ID" -- /bin/false
  assert_eq 1 "$RC" "exit code of exec false"
  kiln instance exec "$ID" -- /bin/sh -c 'echo out; echo err >&2; exit 42'
  assert_eq 42 "$RC" "exit code of exec sh -c 'exit 42'"
  assert_stdout out "stdout of exec"
  assert_contains "$ERR" err "stderr of exec"
  kiln instance exec "$ID" -- /no/such/program
  [ "$RC" != 0 ] || fail "exec /no/such/program: expected a non-zero exit code, got 0"

  # Its own namespaces: hostname is its id, it is PID 1's world, the host's files are not there.
  in_instance "$ID" /bin/hostname
  assert_stdout "$ID" "hostname in the instance"
  sh_in "$ID" 'ls /proc | grep -c "^[0-9]*$"'
  [ "$(stdout_text)" -lt 10 ] || fail "processes seen in the instance: expected a few, got $(stdout_text)"
  kiln instance exec "$ID" -- /bin/sh -c "test -e '$ROOT' || test -e /work || test -e '$KILN'"
  assert_eq 1 "$RC" "exit code of a test for host paths ($ROOT, /work, the kiln binary) in the instance"
  sh_in "$ID" 'echo "$HOME $PATH"'
  assert_match '^/root /' "$(stdout_text)" "HOME and PATH in exec"
  export KILN_IT_SECRET=leaked
  sh_in "$ID" 'env | grep -c "^KILN_IT_SECRET=" || true'
  unset KILN_IT_SECRET
  assert_stdout 0 "the host's environment leaking into exec"

  # The instance's processes are seen as running; the root of the instance is not mounted on the
  # host, only its disk is.
  local init
  init=$(instance_field "$ID" initPid)
  kill -0 "$init" 2>/dev/null || fail "initPid $init of a running instance: expected alive"
  assert_eq "" "$(mounts_besides_disk "$ID")" "host mounts naming the instance's folder"
  assert_disk_mounted "$ID"

  # Errors: an unknown or malformed id.
  kiln instance exec i-0123456789abcdef0 -- /bin/true
  [ "$RC" != 0 ] || fail "exec in an unknown instance: expected to fail, got 0"
  kiln instance exec nonsense -- /bin/true
  [ "$RC" != 0 ] || fail "exec in a malformed id: expected to fail, got 0"

  # shell, fed on stdin.
  RC=0
  printf 'echo shell-says-$((6 * 7))\nexit 5\n' |
    TERM=dumb timeout 30 "$KILN" --root "$ROOT" instance shell "$ID" >"$T/shell.out" 2>"$T/shell.err" || RC=$?
  assert_contains "$T/shell.out" "shell-says-42" "output of instance shell"
  assert_eq 5 "$RC" "exit code of instance shell ending with exit 5"
}

# ---- snapshot -------------------------------------------------------------------------------

test_snapshot() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  local first=$ID
  sh_in "$ID" 'test -f /etc/os-release && test -d /bin && test -d /etc'
  # New files and folders, a changed file, a deleted file, a deleted folder, a folder replaced.
  sh_in "$ID" '
    mkdir -p /data/sub /victim/inner /replaced/old
    echo new >/data/new.txt
    echo nested >/data/sub/nested.txt
    echo keep >/victim/inner/f
    echo old >/replaced/old/f
    ln -s /data/new.txt /data/link
    chmod 0640 /data/new.txt'
  kiln_ok instance stop "$ID"
  assert_eq stopped "$(state_of "$ID")" "state after stop"
  kiln instance exec "$ID" -- /bin/true
  [ "$RC" != 0 ] || fail "exec in a stopped instance: expected to fail, got 0"
  kiln_ok instance snapshot "$ID" --name base --version 1.0.0
  assert_match '^base/1\.0\.0/1[[:space:]]' "$(stdout_text)" "what instance snapshot prints"
  kiln_ok instance terminate "$ID"

  # Second generation: change and delete what the first one made.
  launch base/1.0.0
  sh_in "$ID" '
    echo changed >/data/new.txt
    echo added >/data/added.txt
    rm /etc/os-release
    rm -r /victim
    rm -r /replaced && mkdir -p /replaced && echo fresh >/replaced/only
    rm /data/link'
  kiln_ok instance stop "$ID"
  kiln_ok instance snapshot "$ID" --name snap --version 1.0.0
  kiln_ok instance terminate "$ID"

  # Lineage: parent, layers, history.
  local busybox_manifest base_manifest
  busybox_manifest=$(image_field busybox/1.0.0 manifest)
  base_manifest=$(image_field base/1.0.0 manifest)
  assert_eq "$busybox_manifest" "$(image_field base/1.0.0 parent)" "parent of base/1.0.0"
  assert_eq "$base_manifest" "$(image_field snap/1.0.0 parent)" "parent of snap/1.0.0"
  kiln_ok image get snap/1.0.0
  assert_eq 3 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["layers"]))' "$OUT")" \
    "layers of a snapshot of a snapshot of busybox"
  assert_eq "$(image_field busybox/1.0.0 layers.0.digest)" "$(image_field snap/1.0.0 layers.0.digest)" \
    "first layer of the snapshot (busybox's)"

  # The first snapshot is unchanged by the second instance.
  launch base/1.0.0
  in_instance "$ID" /bin/cat /data/new.txt
  assert_stdout new "/data/new.txt in base/1.0.0"
  sh_in "$ID" 'test -f /etc/os-release && test -f /victim/inner/f && test -f /replaced/old/f && readlink /data/link'
  assert_stdout /data/new.txt "the symlink /data/link in base/1.0.0"
  sh_in "$ID" 'stat -c %a /data/new.txt'
  assert_stdout 640 "the mode of /data/new.txt in base/1.0.0"
  kiln_ok instance terminate "$ID"

  # The second one shows exactly its changes.
  launch snap/1.0.0
  in_instance "$ID" /bin/cat /data/new.txt
  assert_stdout changed "/data/new.txt (changed) in snap/1.0.0"
  in_instance "$ID" /bin/cat /data/added.txt
  assert_stdout added "/data/added.txt (new) in snap/1.0.0"
  in_instance "$ID" /bin/cat /data/sub/nested.txt
  assert_stdout nested "/data/sub/nested.txt (unchanged) in snap/1.0.0"
  local path
  for path in /etc/os-release /victim /data/link /replaced/old; do
    kiln instance exec "$ID" -- /bin/sh -c "test -e $path || test -L $path"
    assert_eq 1 "$RC" "exit code of 'test -e $path' in snap/1.0.0 (deleted)"
  done
  sh_in "$ID" 'ls -A /replaced'
  assert_stdout only "the contents of /replaced (replaced folder) in snap/1.0.0"
  sh_in "$ID" 'ls -A /data | sort | tr "\n" " "'
  assert_stdout "added.txt new.txt sub " "the contents of /data in snap/1.0.0"
  # No whiteout shows through.
  sh_in "$ID" 'find / -xdev -name ".wh.*" 2>/dev/null | head -n 5'
  assert_stdout "" "whiteout files visible in snap/1.0.0"
  # Everything else of busybox is there.
  sh_in "$ID" 'test -x /bin/busybox && test -f /etc/passwd -o -d /etc'

  # The rootfs export agrees.
  kiln_ok image export snap/1.0.0 --format rootfs-tar --output "$T/snap.tar"
  tar_list "$T/snap.tar" >"$T/snap.list"
  assert_contains "$T/snap.list" "data/added.txt" "the rootfs export of snap/1.0.0"
  assert_contains "$T/snap.list" "replaced/only" "the rootfs export of snap/1.0.0"
  local gone
  for gone in etc/os-release victim replaced/old data/link .wh.; do
    assert_not_contains "$T/snap.list" "$gone" "the rootfs export of snap/1.0.0"
  done
  assert_verify_clean
  : "$first"
}

# A snapshot keeps every kind of change: a renamed folder (overlay copies it up), a fifo, hard
# links, setuid, owners, mtimes, long paths, names that are not UTF-8, a file turned folder, a
# file turned symlink.
test_snapshot_file_kinds() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  sh_in "$ID" 'mkdir -p /data/dir/sub && echo x >/data/dir/sub/f && echo a >/data/a && echo gone >/data/gone && echo t >/data/tolink'
  kiln_ok instance stop "$ID"
  kiln_ok instance snapshot "$ID" --name base --version 1.0.0
  kiln_ok instance terminate "$ID"

  launch base/1.0.0
  local long1 long2
  long1=$(printf '%0200d' 0)
  long2=$(printf '%0250d' 1)
  sh_in "$ID" "
    mv /data/dir /data/moved
    mkfifo /data/fifo
    ln /data/a /data/a-hard
    echo h >/data/h1 && ln /data/h1 /data/h2
    touch /data/setuid && chmod 4755 /data/setuid
    touch /data/owned && chown 1234:5678 /data/owned
    touch -d '2001-02-03 04:05:06' /data/old
    mkdir -p /data/$long1/$long1 && echo deep >/data/$long1/$long1/$long2
    echo weird >\"/data/\$(printf 'caf\\351\\377')\"
    rm /data/gone && mkdir /data/gone && echo now-dir >/data/gone/x
    rm /data/tolink && ln -s moved /data/tolink"
  kiln_ok instance stop "$ID"
  kiln_ok instance snapshot "$ID" --name child --version 1.0.0
  kiln_ok instance terminate "$ID"

  launch child/1.0.0
  sh_in "$ID" 'cat /data/moved/sub/f; test -e /data/dir && echo dir-still-there; true'
  assert_stdout x "the renamed folder /data/dir -> /data/moved in the snapshot"
  sh_in "$ID" 'test -p /data/fifo && echo fifo'
  assert_stdout fifo "/data/fifo in the snapshot"
  sh_in "$ID" 'cat /data/a-hard /data/a; [ "$(stat -c %i /data/h1)" = "$(stat -c %i /data/h2)" ] && echo same-inode'
  assert_stdout "$(printf 'a\na\nsame-inode')" "hard links in the snapshot"
  sh_in "$ID" 'stat -c "%a %u:%g" /data/setuid /data/owned; stat -c %Y /data/old'
  assert_stdout "$(printf '4755 0:0\n644 1234:5678\n%s' "$(TZ=UTC date -d '2001-02-03 04:05:06' +%s)")" \
    "modes, owners and mtimes in the snapshot"
  in_instance "$ID" /bin/cat "/data/$long1/$long1/$long2"
  assert_stdout deep "a file at a 700-byte path in the snapshot"
  in_instance "$ID" /bin/cat "/data/$(printf 'caf\351\377')"
  assert_stdout weird "a file named with non-UTF-8 bytes in the snapshot"
  sh_in "$ID" 'cat /data/gone/x; readlink /data/tolink'
  assert_stdout "$(printf 'now-dir\nmoved')" "a file turned folder and a file turned symlink in the snapshot"
  assert_verify_clean
}

# A snapshot killed with -9 in the middle of writing its layer: the store stays clean, no image
# appears, the instance keeps its writable layer, and a new snapshot (of the running instance)
# works.
test_snapshot_crash() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  sh_in "$ID" 'mkdir -p /data && for i in 1 2 3 4 5 6 7 8 9 10; do dd if=/dev/urandom of=/data/big$i bs=1M count=20 2>/dev/null || exit 1; done; echo marker >/data/marker'
  kiln_ok instance stop "$ID"
  "$KILN" --root "$ROOT" instance snapshot "$ID" --name crashed --version 1.0.0 </dev/null >"$T/snap.out" 2>"$T/snap.err" &
  local pid=$!
  BG_PIDS="$BG_PIDS $pid"
  local hundredths=3000
  until [ -n "$(find "$ROOT/store/tmp" -mindepth 1 -type f -size +0 2>/dev/null | head -n 1)" ]; do
    hundredths=$((hundredths - 1))
    kill -0 "$pid" 2>/dev/null || fail "the snapshot ended before it was seen writing: $(cat "$T/snap.err")"
    [ "$hundredths" -gt 0 ] || fail "the snapshot wrote nothing in store/tmp within 30 s"
    sleep 0.01
  done
  kill -KILL "$pid"
  local status=0
  { wait "$pid"; } 2>/dev/null || status=$?
  [ "$status" = 137 ] || fail "the snapshot of 200 MB ended (exit $status) before kill -9 reached it"
  assert_verify_clean "after kill -9 of a snapshot"
  kiln_fails image get crashed/1.0.0
  assert_eq 3 "$RC" "exit code of image get of the killed snapshot"
  kiln_ok store gc --grace 0
  assert_eq 0 "$(count_entries "$ROOT/store/tmp")" "entries in store/tmp after gc"

  kiln_ok instance start "$ID"
  sh_in "$ID" 'cat /data/marker; ls /data | grep -c "^big"'
  assert_stdout "$(printf 'marker\n10')" "the writable layer after a killed snapshot"
  # Snapshot of a running instance.
  kiln_ok instance snapshot "$ID" --name crashed --version 1.0.0
  local first=$ID
  launch crashed/1.0.0
  sh_in "$ID" 'cat /data/marker; ls /data | grep -c "^big"; md5sum /data/big7 | cut -d" " -f1'
  local sum
  sum=$(sed -n 3p "$OUT")
  assert_eq "$(printf 'marker\n10')" "$(head -n 2 "$OUT")" "/data in the snapshot taken after a killed one"
  in_instance "$first" /bin/sh -c 'md5sum /data/big7 | cut -d" " -f1'
  assert_stdout "$sum" "md5 of /data/big7 in the snapshot vs in the instance"
  assert_verify_clean "at the end"
}

# ---- reboot, stop, start --------------------------------------------------------------------

test_reboot() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  sh_in "$ID" 'echo persisted >/root/kept.txt'
  local secs init_before
  secs=$(unique_seconds)
  start_sleeper "$ID" "$secs"
  init_before=$(instance_field "$ID" initPid)

  kiln_ok instance reboot "$ID"
  assert_eq running "$(state_of "$ID")" "state after reboot"
  local init_after
  init_after=$(instance_field "$ID" initPid)
  [ "$init_after" != "$init_before" ] ||
    fail "initPid after reboot: expected a new process, got the same $init_before"
  kill -0 "$init_before" 2>/dev/null && fail "the old init $init_before is still alive after reboot"
  assert_no_process "sleep $secs" 3
  in_instance "$ID" /bin/cat /root/kept.txt
  assert_stdout persisted "/root/kept.txt after reboot"
  sh_in "$ID" 'ps -o pid,args 2>/dev/null || ps'
  assert_not_contains "$OUT" "sleep $secs" "processes in the instance after reboot"

  # stop and start: same, the writable layer is kept.
  start_sleeper "$ID" "$((secs + 1))"
  kiln_ok instance stop "$ID"
  assert_eq stopped "$(state_of "$ID")" "state after stop"
  assert_no_process "sleep $((secs + 1))" 3
  kill -0 "$init_after" 2>/dev/null && fail "init $init_after is still alive after stop"
  kiln_ok instance start "$ID"
  assert_eq running "$(state_of "$ID")" "state after start"
  in_instance "$ID" /bin/cat /root/kept.txt
  assert_stdout persisted "/root/kept.txt after stop and start"
  # Starting a running instance is refused and starts nothing more.
  local init_now
  init_now=$(instance_field "$ID" initPid)
  kiln instance start "$ID"
  assert_eq 1 "$RC" "exit code of start of a running instance"
  assert_contains "$ERR" "already running" "the error of start of a running instance"
  assert_eq "$init_now" "$(instance_field "$ID" initPid)" "initPid after start of a running instance"
  assert_eq 2 "$(pgrep -fc "bwrap.*--hostname $ID")" "bwrap processes of the instance after a second start"
  in_instance "$ID" /bin/true
  # Stopping a stopped instance is harmless.
  kiln_ok instance stop "$ID"
  kiln_ok instance stop "$ID"
  assert_eq stopped "$(state_of "$ID")" "state after two stops"
}

# ---- terminate ------------------------------------------------------------------------------

test_terminate() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  local secs init monitor
  secs=$(unique_seconds)
  start_sleeper "$ID" "$secs"
  init=$(instance_field "$ID" initPid)
  monitor=$(instance_field "$ID" monitorPid)
  assert_eq "" "$(mounts_besides_disk "$ID")" "host mounts naming the instance while it runs"

  kiln_ok instance terminate "$ID"
  assert_contains "$OUT" "$ID" "what instance terminate prints"
  assert_absent "$ROOT/instances/$ID" "the instance's folder after terminate"
  assert_eq "" "$(mounts_under "$ROOT/instances/$ID")" "lines of /proc/self/mountinfo naming $ROOT/instances/$ID"
  assert_eq "" "$(all_mounts_mentioning "$ROOT/instances/$ID")" \
    "mounts naming the terminated instance in any process's namespace"
  assert_no_process "$ID" 3
  assert_no_process "sleep $secs" 3
  kill -0 "$init" 2>/dev/null && fail "initPid $init still alive after terminate"
  kill -0 "$monitor" 2>/dev/null && fail "monitorPid $monitor still alive after terminate"
  kiln_ok instance list --json
  assert_not_contains "$OUT" "$ID" "instance list after terminate"
  kiln instance exec "$ID" -- /bin/true
  [ "$RC" != 0 ] || fail "exec in a terminated instance: expected to fail, got 0"
  kiln instance terminate "$ID"
  [ "$RC" != 0 ] || fail "terminate of a terminated instance: expected to fail, got 0"

  # Several at once, one stopped, one dead.
  launch busybox/1.0.0
  local a=$ID
  launch busybox/1.0.0
  local b=$ID
  launch busybox/1.0.0
  local c=$ID
  kiln_ok instance stop "$b"
  kill -KILL "$(instance_field "$c" initPid)"
  kiln_ok instance terminate "$a" "$b" "$c"
  local id
  for id in "$a" "$b" "$c"; do
    assert_absent "$ROOT/instances/$id" "the folder of $id after terminate"
    assert_no_process "$id" 3
  done
  assert_eq "" "$(all_mounts_mentioning "$ROOT/instances/")" "mounts naming any instance after terminate"
  assert_eq 0 "$(count_entries "$ROOT/instances")" "instances left"

  # After kiln itself was killed: a `kiln instance exec` killed with -9 while its command runs,
  # and the monitor (the `kiln __instance-run` that became bwrap) killed with -9; terminate still
  # leaves no process and no mount.
  launch busybox/1.0.0
  local exec_secs
  exec_secs=$(unique_seconds)
  "$KILN" --root "$ROOT" instance exec "$ID" -- /bin/sleep "$exec_secs" </dev/null >/dev/null 2>&1 &
  local exec_pid=$!
  BG_PIDS="$BG_PIDS $exec_pid"
  wait_for_process "sleep $exec_secs" 5 || fail "the sleep $exec_secs run by kiln instance exec is not seen"
  kill -KILL "$exec_pid"
  wait "$exec_pid" 2>/dev/null || true
  kill -KILL "$(instance_field "$ID" monitorPid)" 2>/dev/null || true
  kiln_ok instance terminate "$ID"
  assert_no_process "sleep $exec_secs" 3
  assert_no_process "$ID" 3
  assert_absent "$ROOT/instances/$ID" "the folder of an instance whose kiln processes were killed"
  assert_eq "" "$(all_mounts_mentioning "$ROOT")" "mounts naming the kiln root at the end"
}

# ---- cp -------------------------------------------------------------------------------------

test_cp() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  mkdir -p "$T/in/tree/sub" "$T/in/tree/empty"
  echo "file content" >"$T/in/file.txt"
  chmod 0640 "$T/in/file.txt"
  echo "a" >"$T/in/tree/a"
  echo "b" >"$T/in/tree/sub/b"
  chmod 0755 "$T/in/tree/sub/b"
  ln -s sub/b "$T/in/tree/link"
  head -c 1000000 /dev/urandom >"$T/in/tree/big.bin"

  # In: a file to a new name, a file into a folder, a folder.
  kiln_ok instance cp "$T/in/file.txt" "$ID:/root/copied.txt"
  in_instance "$ID" /bin/cat /root/copied.txt
  assert_stdout "file content" "/root/copied.txt copied in"
  sh_in "$ID" 'stat -c %a /root/copied.txt'
  assert_stdout 640 "the mode of a file copied in"
  kiln_ok instance cp "$T/in/file.txt" "$ID:/tmp/"
  in_instance "$ID" /bin/cat /tmp/file.txt
  assert_stdout "file content" "/tmp/file.txt (copied into a folder)"
  in_instance "$ID" /bin/mkdir -p /opt
  kiln_ok instance cp "$T/in/tree" "$ID:/opt/tree"
  sh_in "$ID" 'cat /opt/tree/a /opt/tree/sub/b; readlink /opt/tree/link; test -d /opt/tree/empty && echo empty-dir; md5sum /opt/tree/big.bin | cut -d" " -f1'
  assert_stdout "$(printf 'a\nb\nsub/b\nempty-dir\n%s' "$(md5sum <"$T/in/tree/big.bin" | cut -d' ' -f1)")" \
    "the folder copied in"

  # Out: a file, a folder, back to the host.
  sh_in "$ID" 'mkdir -p /srv/out/deep && echo made-inside >/srv/out/deep/x && echo top >/srv/out/top && ln -s deep/x /srv/out/rel'
  kiln_ok instance cp "$ID:/root/copied.txt" "$T/back.txt"
  assert_file_eq "$T/back.txt" "file content"
  kiln_ok instance cp "$ID:/srv/out" "$T/back"
  assert_file_eq "$T/back/deep/x" made-inside
  assert_file_eq "$T/back/top" top
  assert_eq deep/x "$(readlink "$T/back/rel")" "a symlink copied out"
  mkdir "$T/into"
  kiln_ok instance cp "$ID:/srv/out/top" "$T/into"
  assert_file_eq "$T/into/top" top
  kiln_ok instance cp "$ID:/opt/tree" "$T/tree-back"
  if ! diff -r --no-dereference "$T/in/tree" "$T/tree-back" >"$T/.diff" 2>&1; then
    sed 's/^/    | /' "$T/.diff" | head >&2
    fail "a folder copied in and out again: expected the same tree"
  fi
  kiln instance cp "$ID:/no/such/file" "$T/nothing"
  [ "$RC" != 0 ] || fail "cp of a missing file out of the instance: expected to fail, got 0"
  assert_absent "$T/nothing" "the destination of a failed cp"
  kiln instance cp "$T/in/file.txt" "$T/also-host"
  [ "$RC" != 0 ] || fail "cp with no instance side: expected to fail, got 0"
}

test_cp_symlink_escape() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  # Host targets the instance's links will aim at.
  local outside=$T/outside hostfile=$T/hostfile
  mkdir -p "$outside"
  echo "host original" >"$hostfile"
  echo "host secret" >"$T/secret"

  # Links planted inside the instance: to a host file, a host folder, through "..", and a parent
  # folder that is a link. Some also exist inside the instance (same path), some dangle there.
  sh_in "$ID" "
    mkdir -p /root '$(dirname "$outside")' && mkdir -p '$outside'
    ln -s '$hostfile' /root/x
    ln -s '$outside' /root/dirlink
    ln -s ../../../../../../../..'$outside' /root/uplink
    ln -s /etc/hostname /root/h
    ln -s '$T/secret' /root/secret
    mkdir -p /root/real && ln -s '$outside' /root/real/inner"
  local hostname_before
  hostname_before=$(sha256sum /etc/hostname 2>/dev/null || echo none)
  echo "payload" >"$T/payload"
  mkdir -p "$T/payload-dir" && echo "in-dir" >"$T/payload-dir/f"

  local target
  for target in /root/x /root/dirlink /root/dirlink/ /root/dirlink/p /root/uplink/ /root/uplink/p \
    /root/h /root/real/inner/p; do
    kiln instance cp "$T/payload" "$ID:$target"
    if [ "$RC" -ge 128 ]; then
      show_output
      fail "cp into $target: expected success or an error, kiln died of signal $((RC - 128))"
    fi
    assert_file_eq "$hostfile" "host original"
    [ -z "$(ls -A "$outside")" ] ||
      fail "cp into $ID:$target wrote on the host: $outside holds $(ls -A "$outside" | tr '\n' ' ')"
    assert_eq "$hostname_before" "$(sha256sum /etc/hostname 2>/dev/null || echo none)" \
      "sha256 of the host's /etc/hostname after cp into $target"
    kiln instance cp "$T/payload-dir" "$ID:$target"
    [ -z "$(ls -A "$outside")" ] ||
      fail "cp of a folder into $ID:$target wrote on the host: $outside holds $(ls -A "$outside" | tr '\n' ' ')"
    assert_file_eq "$hostfile" "host original"
  done
  # What went through a link to a folder landed inside the instance, in its own $outside.
  sh_in "$ID" "ls -A '$outside' | sort | tr '\n' ' '"
  assert_stdout "p payload payload-dir " "the instance's own $outside after cp through links"
  # A link as the last component is replaced or followed inside the root: either way the file
  # now reads the payload inside the instance.
  sh_in "$ID" 'cat /root/x /root/h'
  assert_stdout "$(printf 'payload\npayload')" "/root/x and /root/h in the instance after cp onto them"

  # Out: a link to a host file is copied as a link (or refused), never as the host's content.
  kiln instance cp "$ID:/root/secret" "$T/got-secret"
  if [ -e "$T/got-secret" ] && [ ! -L "$T/got-secret" ]; then
    assert_not_contains "$T/got-secret" "host secret" "a copy out of a link to a host file"
  fi
  kiln instance cp "$ID:/root/dirlink" "$T/got-dirlink"
  if [ -d "$T/got-dirlink" ] && [ ! -L "$T/got-dirlink" ]; then
    [ ! -e "$T/got-dirlink/outside-marker" ] || fail "a copy out of a folder link read the host's folder"
  fi
  kiln instance cp "$ID:/root/uplink/../../../..$T/secret" "$T/got-up"
  if [ -f "$T/got-up" ]; then
    assert_not_contains "$T/got-up" "host secret" "a copy out through ../ of the host's $T/secret"
  fi
}

# ---- network --------------------------------------------------------------------------------

test_network_none() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0 --network none
  assert_eq lo "$(interfaces "$ID")" "interfaces in an instance launched with --network none"
  in_instance "$ID" /bin/cat /proc/net/dev
  local host_ifs
  host_ifs=$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/net/dev | sort | tr '\n' ' ' | sed 's/ $//')
  launch busybox/1.0.0 --network host
  assert_eq "$host_ifs" "$(interfaces "$ID")" "interfaces in an instance on the host network (named)"
  # The default, private: its own loopback and the one interface pasta serves, named like the
  # host's outbound interface.
  local uplink
  uplink=$(ip -o route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
  launch busybox/1.0.0
  assert_eq "$(printf '%s\n' lo "$uplink" | sort | tr '\n' ' ' | sed 's/ $//')" "$(interfaces "$ID")" \
    "interfaces in an instance on its private network (default)"
  kiln instance launch busybox/1.0.0 --network bridge
  assert_eq 2 "$RC" "exit code of launch --network bridge (not an option)"
}

# The instance's root must not be able to change the host: the host's network configuration
# (shared by default, but not to be reconfigured), host-wide kernel settings, kernel modules.
test_host_protected() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  local problems=()
  local addr=127.77.$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
  in_instance "$ID" /bin/sh -c 'command -v ip'
  kiln instance exec "$ID" -- /bin/sh -c "ip addr add $addr/32 dev lo"
  if ip addr show dev lo | grep -qF " $addr/"; then
    ip addr del "$addr/32" dev lo || true
    problems+=("an instance (host network) added $addr to the host's lo (exec exit $RC): expected its root unable to reconfigure the host's network")
  fi
  kiln instance exec "$ID" -- /bin/sh -c 'echo 1 >/proc/sys/vm/drop_caches'
  if [ "$RC" = 0 ]; then
    problems+=("an instance wrote the host-wide /proc/sys/vm/drop_caches (exit 0): expected /proc/sys read-only or the write refused")
  fi
  in_instance "$ID" /bin/sh -c 'grep "^CapEff:" /proc/self/status'
  local caps
  caps=$(awk '{print $2}' "$OUT")
  if (((16#$caps >> 16) & 1)); then
    problems+=("a process run by exec has CAP_SYS_MODULE (CapEff $caps): expected it unable to load kernel modules into the host")
  fi
  if [ ${#problems[@]} -gt 0 ]; then
    printf '    | %s\n' "${problems[@]}" >&2
    fail "${#problems[@]} ways for an instance's root to change the host (above)"
  fi
}

# ---- instances outlive kiln -----------------------------------------------------------------

test_later_kiln() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  sh_in "$ID" 'echo from-the-first >/root/note'
  # The launching kiln has exited; the sandbox is not its child, nor in its process group.
  local init
  init=$(instance_field "$ID" initPid)
  local sid
  sid=$(ps -o sid= -p "$init" | tr -d ' ')
  [ "$sid" != "$(ps -o sid= -p $$ | tr -d ' ')" ] || fail "the instance runs in the test's session"
  # A later kiln, given the root by the environment instead of --root, finds it.
  RC=0
  KILN_ROOT=$ROOT timeout 30 "$KILN" instance exec "$ID" -- /bin/cat /root/note >"$T/later.out" 2>"$T/later.err" || RC=$?
  assert_eq 0 "$RC" "exit code of a later kiln (KILN_ROOT) exec"
  assert_file_eq "$T/later.out" from-the-first
  RC=0
  KILN_ROOT=$ROOT timeout 30 "$KILN" instance list >"$T/later.out" 2>"$T/later.err" || RC=$?
  assert_eq 0 "$RC" "exit code of a later kiln (KILN_ROOT) instance list"
  assert_match "$ID +running" "$(cat "$T/later.out")" "instance list of a later kiln"
}

# ---- dead instances -------------------------------------------------------------------------

test_dead_and_start() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  sh_in "$ID" 'echo before-death >/root/kept'
  local secs init
  secs=$(unique_seconds)
  start_sleeper "$ID" "$secs"
  init=$(instance_field "$ID" initPid)
  kill -KILL "$init"
  assert_no_process "sleep $secs" 3
  wait_state "$ID" dead 5
  kiln instance exec "$ID" -- /bin/true
  [ "$RC" != 0 ] || fail "exec in a dead instance: expected to fail, got 0"
  [ -s "$ERR" ] || fail "exec in a dead instance: expected an error message, got none"
  # Its disk stays mounted on the host (the writable layer is kept), nothing else.
  assert_eq "" "$(all_mounts_mentioning "$ROOT/instances/$ID" | grep -v -F -- " $ROOT/instances/$ID/disk " || true)" \
    "mounts naming a dead instance besides its disk"

  kiln_ok instance start "$ID"
  assert_eq running "$(state_of "$ID")" "state after start of a dead instance"
  in_instance "$ID" /bin/cat /root/kept
  assert_stdout before-death "/root/kept after the instance died and was started"
  [ "$(instance_field "$ID" initPid)" != "$init" ] || fail "initPid after start: expected a new one"

  # Killing the monitor (bwrap outside) too: still dead, still startable.
  kill -KILL "$(instance_field "$ID" initPid)" "$(instance_field "$ID" monitorPid)" 2>/dev/null || true
  wait_state "$ID" dead 5
  kiln_ok instance start "$ID"
  in_instance "$ID" /bin/cat /root/kept
  assert_stdout before-death "/root/kept after a second death"
}

# ---- instance types ------------------------------------------------------------------------

# cgroup_dir PID CONTROLLER: the cgroup v1 folder of PID in CONTROLLER's hierarchy, or nothing.
cgroup_dir() {
  local line path
  line=$(grep -E "^[0-9]+:([^:]*,)?$2(,[^:]*)?:" "/proc/$1/cgroup" || true)
  path=${line#*:*:}
  [ -n "$line" ] && [ -d "/sys/fs/cgroup/$2$path" ] && echo "/sys/fs/cgroup/$2$path"
}

test_instance_type() {
  bootstrap_busybox busybox 1.0.0
  kiln instance launch busybox/1.0.0 --type t9.colossal
  assert_eq 2 "$RC" "exit code of launch --type t9.colossal (unknown type)"
  assert_contains "$ERR" "t9.colossal" "the error of an unknown instance type"
  assert_eq 0 "$(count_entries "$ROOT/instances")" "instances after a refused launch"

  launch busybox/1.0.0 --type t3.nano
  in_instance "$ID" /bin/true
  local init memory pids
  init=$(instance_field "$ID" initPid)
  memory=$(cgroup_dir "$init" memory || true)
  pids=$(cgroup_dir "$init" pids || true)
  if [ -z "$memory" ] && [ -z "$pids" ]; then
    echo "    (no cgroup v1 memory or pids hierarchy: limits not checked)" >&2
  fi
  if [ -n "$memory" ]; then
    assert_match "/kiln/" "$memory" "the memory cgroup of a t3.nano instance"
    assert_eq $((512 << 20)) "$(cat "$memory/memory.limit_in_bytes")" "memory.limit_in_bytes of a t3.nano"
    # exec joins the same group.
    in_instance "$ID" /bin/cat /proc/self/cgroup
    assert_contains "$OUT" "${memory#/sys/fs/cgroup/memory}" "the cgroups of a process run by exec"
  fi
  if [ -n "$pids" ]; then
    assert_eq 8192 "$(cat "$pids/pids.max")" "pids.max of a t3.nano (2 vCPUs)"
  fi
  kiln_ok instance terminate "$ID"
  [ -z "$memory" ] || assert_absent "$memory" "the memory cgroup after terminate"
  [ -z "$pids" ] || assert_absent "$pids" "the pids cgroup after terminate"
}

# ---- a deep chain of snapshots --------------------------------------------------------------

test_deep_chain() {
  local depth=${KILN_IT_CHAIN_DEPTH:-45}
  bootstrap_busybox chain 1.0.0
  local ref=chain/1.0.0 i started=$SECONDS
  for ((i = 1; i <= depth; i++)); do
    launch "$ref"
    sh_in "$ID" "mkdir -p /chain && echo $i >/chain/f$i"
    kiln_ok instance stop "$ID"
    kiln_ok instance snapshot "$ID" --name chain --version "1.1.$i"
    kiln_ok instance terminate "$ID"
    ref=chain/1.1.$i
  done
  echo "    ($depth launch/write/stop/snapshot/terminate rounds: $((SECONDS - started)) s)" >&2
  kiln_ok image get "$ref"
  assert_eq $((depth + 1)) "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["layers"]))' "$OUT")" \
    "layers of the last image of the chain"
  launch "$ref"
  sh_in "$ID" 'ls /chain | wc -l'
  assert_stdout "$depth" "files in /chain of the last image"
  sh_in "$ID" "cat \$(for i in \$(seq 1 $depth); do echo /chain/f\$i; done) | tr '\n' ' '"
  assert_stdout "$(seq 1 "$depth" | tr '\n' ' ')" "the contents of /chain/f1../chain/f$depth"
  assert_verify_clean "after a chain of $depth snapshots"
  local lowers
  lowers=$(instance_field "$ID" sandbox.lower | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  echo "    (an instance of the $((depth + 1))-layer image has $lowers overlay lower folders)" >&2
  [ "$lowers" -le 40 ] ||
    fail "overlay lower folders of a $((depth + 1))-layer image: expected at most 40 (flattened), got $lowers"
  # gc while it runs keeps what it runs on; a reboot mounts it again.
  kiln_ok store gc --grace 0
  kiln_ok instance reboot "$ID"
  sh_in "$ID" 'ls /chain | wc -l'
  assert_stdout "$depth" "files in /chain after gc and a reboot"
  # A change on top of the flattened chain snapshots too.
  sh_in "$ID" 'rm /chain/f1 && echo top >/chain/top'
  kiln_ok instance stop "$ID"
  kiln_ok instance snapshot "$ID" --name chain --version 2.0.0
  launch chain/2.0.0
  sh_in "$ID" 'ls /chain | wc -l; test -e /chain/f1 && echo f1-present; cat /chain/top'
  assert_stdout "$(printf '%s\ntop' "$depth")" "the chain after deleting f1 and adding top"
  assert_verify_clean "after the chain's last snapshot"

  # Deleting every image of the chain and gc leave no unpacked or flattened layer behind.
  local dir
  for dir in "$ROOT"/instances/i-*; do
    kiln_ok instance terminate "$(basename "$dir")"
  done
  kiln_ok image list --json
  local ref_
  for ref_ in $(python3 -c 'import json,sys; print(" ".join(e["ref"] for e in json.load(open(sys.argv[1]))))' "$OUT"); do
    kiln_ok image delete "$ref_"
  done
  kiln_ok store gc --grace 0
  assert_eq "" "$(find "$ROOT/layers" -mindepth 1 -maxdepth 1 ! -name tmp -printf '%f ')" \
    "folders left in layers/ after deleting every image and gc"
  assert_eq 0 "$(count_files "$ROOT/store/blobs/sha256")" "blobs left after deleting every image and gc"
  assert_verify_clean "after deleting the chain"
}

run_kiln_test exec test_exec
run_kiln_test snapshot test_snapshot
run_kiln_test snapshot_file_kinds test_snapshot_file_kinds
run_kiln_test snapshot_crash test_snapshot_crash
run_kiln_test reboot test_reboot
run_kiln_test terminate test_terminate
run_kiln_test cp test_cp
run_kiln_test cp_symlink_escape test_cp_symlink_escape
run_kiln_test network_none test_network_none
run_kiln_test host_protected test_host_protected
run_kiln_test later_kiln test_later_kiln
run_kiln_test dead_and_start test_dead_and_start
run_kiln_test instance_type test_instance_type
run_kiln_test deep_chain test_deep_chain
finish
