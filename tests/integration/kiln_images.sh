#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031,SC2119,SC2016,SC2012,SC2094  # functions run by run_kiln_test; $T per test
# The image store through the real `kiln` binary: bootstrap, list/get and version wildcards,
# import of folders, tarballs (plain, gzip, zstd), OCI layouts and archives, export read back by
# skopeo and umoci, hostile tarballs, delete and gc, and a crash in the middle of an import.
# Needs root, bwrap, nsenter and busybox; exits 77 (skipped) without them.
# Usage: kiln_images.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/kiln_lib.sh" "$@"
kiln_require_privileged

HOSTILE=$DATA/hostile/make_hostile.py

# ---- helpers --------------------------------------------------------------------------------

# export_rootfs REF TAR: `kiln image export REF --format rootfs-tar --output TAR`.
export_rootfs() {
  kiln_ok image export "$1" --format rootfs-tar --output "$2"
  assert_exists "$2" "the rootfs tar of $1"
}

# tree_list DIR: the entries below DIR, one per line, relative, sorted (the form of tar_list).
tree_list() {
  (cd "$1" && find . -mindepth 1 | sed 's|^\./||' | sort)
}

# assert_same_list EXPECTED_FILE GOT_FILE WHAT: two listings are equal, else the diff.
assert_same_list() {
  if ! diff -u "$1" "$2" >"$T/.diff"; then
    sed 's/^/    | /' "$T/.diff" | head -40 >&2
    fail "$3: expected the entries of $1, got those of $2 (diff above)"
  fi
}

# assert_same_tree EXPECTED_DIR GOT_DIR WHAT: same entries, contents, link targets and modes.
assert_same_tree() {
  assert_same_list <(tree_list "$1") <(tree_list "$2") "$3 (entries)"
  if ! diff -r --no-dereference "$1" "$2" >"$T/.diff" 2>&1; then
    sed 's/^/    | /' "$T/.diff" | head -40 >&2
    fail "$3: expected the same contents as $1 (diff above)"
  fi
  local modes_a modes_b
  modes_a=$(cd "$1" && find . -mindepth 1 ! -type l -printf '%p %m\n' | sort)
  modes_b=$(cd "$2" && find . -mindepth 1 ! -type l -printf '%p %m\n' | sort)
  if [ "$modes_a" != "$modes_b" ]; then
    diff <(echo "$modes_a") <(echo "$modes_b") | sed 's/^/    | /' | head -20 >&2
    fail "$3: expected the same modes as $1 (diff above)"
  fi
}

# make_tree DIR: a small root filesystem with a static busybox (so it can be launched), nested
# folders, an empty folder, a symlink, a hard link, a file with spaces and unusual modes.
make_tree() {
  local d=$1
  mkdir -p "$d/bin" "$d/etc" "$d/data/nested/deeper" "$d/data/empty" "$d/tmp" "$d/root"
  cp "$(command -v busybox)" "$d/bin/busybox"
  ln -s busybox "$d/bin/sh"
  ln -s busybox "$d/bin/cat"
  ln -s busybox "$d/bin/ls"
  echo "imported" >"$d/etc/marker"
  printf 'line one\nline two\n' >"$d/data/nested/deeper/file.txt"
  echo "spaced" >"$d/data/with space.txt"
  echo "secret" >"$d/data/private"
  chmod 0600 "$d/data/private"
  echo "script" >"$d/data/run.sh"
  chmod 0750 "$d/data/run.sh"
  chmod 1777 "$d/tmp"
  ln -s nested/deeper/file.txt "$d/data/link"
  ln "$d/data/private" "$d/data/hardlink"
  head -c 300000 /dev/urandom >"$d/data/random.bin"
}

# unpack TAR DIR: extracts a rootfs tar export as root would (owners, modes, links kept).
unpack() {
  mkdir -p "$2"
  tar -xpf "$1" -C "$2" --numeric-owner || fail "tar -xf $1 failed"
}

# ---- bootstrap, list, get -------------------------------------------------------------------

test_bootstrap_list_get() {
  bootstrap_busybox busybox 1.0.0
  assert_match '^busybox/1\.0\.0/1[[:space:]]+arn:aws:imagebuilder:local:000000000000:image/busybox/1\.0\.0/1[[:space:]]+sha256:[0-9a-f]{64}$' \
    "$(stdout_text)" "what kiln image bootstrap prints"

  kiln_ok image list --json
  cp "$OUT" "$T/list1.json"
  assert_eq 1 "$(json_get "$T/list1.json" . | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" \
    "number of images in image list --json"
  assert_json "$T/list1.json" 0.name busybox
  assert_json "$T/list1.json" 0.version 1.0.0
  assert_json "$T/list1.json" 0.build 1
  assert_json "$T/list1.json" 0.ref busybox/1.0.0/1
  assert_json "$T/list1.json" 0.arn arn:aws:imagebuilder:local:000000000000:image/busybox/1.0.0/1
  assert_json "$T/list1.json" 0.parent ""
  assert_match '^sha256:[0-9a-f]{64}$' "$(json_get "$T/list1.json" 0.manifest)" "image list manifest"
  assert_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}' "$(json_get "$T/list1.json" 0.created)" \
    "image list created"
  assert_eq 1 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))[0]["layers"]))' "$T/list1.json")" \
    "number of layers of a bootstrapped image"
  assert_json "$T/list1.json" 0.layers.0.mediaType application/vnd.oci.image.layer.v1.tar+zstd
  local size
  size=$(json_get "$T/list1.json" 0.size)
  assert_eq "$(json_get "$T/list1.json" 0.layers.0.size)" "$size" "image size = its one layer's size"
  [ "$size" -gt 100000 ] || fail "image size: expected more than 100000 bytes (a busybox), got $size"

  # The text form names the image and its manifest.
  kiln_ok image list
  assert_contains "$OUT" "busybox/1.0.0/1" "image list"
  assert_contains "$OUT" "$(json_get "$T/list1.json" 0.manifest)" "image list"

  # get: the same object as list's entry.
  kiln_ok image get busybox/1.0.0
  assert_eq "$(json_get "$T/list1.json" 0)" "$(json_get "$OUT" .)" "image get busybox/1.0.0 vs its list entry"
  kiln_ok image get arn:aws:imagebuilder:local:000000000000:image/busybox/1.0.0/1
  assert_json "$OUT" ref busybox/1.0.0/1

  # The manifest is a blob of the store, and the store is an OCI layout.
  local manifest
  manifest=$(json_get "$T/list1.json" 0.manifest)
  assert_exists "$ROOT/store/blobs/sha256/${manifest#sha256:}" "the manifest blob"
  assert_eq '{"imageLayoutVersion":"1.0.0"}' "$(json_get "$ROOT/store/oci-layout" .)" "store/oci-layout"

  # Wildcards pick the newest match.
  bootstrap_busybox busybox 1.2.0
  assert_eq 1.2.0 "$(image_field busybox/1.x.x version)" "busybox/1.x.x resolves to version"
  assert_eq 1.2.0 "$(image_field busybox/x.x.x version)" "busybox/x.x.x resolves to version"
  assert_eq 1.0.0 "$(image_field busybox/1.0.x version)" "busybox/1.0.x resolves to version"
  assert_eq 1.2.0 "$(image_field arn:aws:imagebuilder:local:000000000000:image/busybox version)" \
    "a versionless ARN resolves to version"
  assert_eq 1.2.0 "$(image_field arn:aws:imagebuilder:local:000000000000:image/busybox/1.x.x version)" \
    "the ARN .../busybox/1.x.x resolves to version"
  kiln_fails image get busybox/x.2.x
  assert_eq 2 "$RC" "exit code of image get busybox/x.2.x (invalid wildcard)"
  kiln_fails image get busybox/2.x.x
  assert_eq 3 "$RC" "exit code of image get busybox/2.x.x (no such image)"
  kiln_fails image get nothing/1.0.0
  assert_eq 3 "$RC" "exit code of image get nothing/1.0.0"
  assert_contains "$ERR" "nothing" "the error of image get nothing/1.0.0"

  # A second bootstrap of the same version is build 2, and the newest build is the default.
  bootstrap_busybox busybox 1.0.0
  assert_match '^busybox/1\.0\.0/2[[:space:]]' "$(stdout_text)" "the second bootstrap of busybox 1.0.0"
  assert_eq 2 "$(image_field busybox/1.0.0 build)" "build of busybox/1.0.0"
  assert_eq 1 "$(image_field busybox/1.0.0/1 build)" "build of busybox/1.0.0/1"
  assert_eq 2 "$(image_field busybox/1.0.x build)" "build of busybox/1.0.x"
  assert_eq 1.2.0 "$(image_field busybox/1.x.x version)" "busybox/1.x.x after a new 1.0.0 build"

  kiln_ok image list --json
  assert_eq "busybox/1.0.0/1 busybox/1.0.0/2 busybox/1.2.0/1" \
    "$(python3 -c 'import json,sys; print(" ".join(sorted(e["ref"] for e in json.load(open(sys.argv[1])))))' "$OUT")" \
    "the refs in image list --json"
  kiln_ok image list busybox --json
  assert_eq 3 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT")" \
    "number of images in image list busybox"
  kiln_ok image list other --json
  assert_eq 0 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT")" \
    "number of images in image list other"

  # Independent tools read the store: skopeo directly on <root>/store.
  if command -v skopeo >/dev/null; then
    local inspect
    inspect=$(skopeo inspect "oci:$ROOT/store:busybox/1.2.0/1" 2>&1) ||
      fail "skopeo inspect oci:$ROOT/store:busybox/1.2.0/1: expected success, got: $inspect"
    echo "$inspect" >"$T/inspect.json"
    assert_json "$T/inspect.json" Architecture amd64
    assert_json "$T/inspect.json" Os linux
    assert_json "$T/inspect.json" Digest "$(image_field busybox/1.2.0/1 manifest)"
    assert_json "$T/inspect.json" Labels null
  else
    echo "    (skopeo missing: skipped skopeo inspect on the store)" >&2
  fi
  assert_verify_clean
}

# A bootstrapped busybox runs.
test_bootstrap_launches() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  sh_in "$ID" 'busybox | head -n 1'
  assert_match '^BusyBox v' "$(stdout_text)" "busybox's banner in the instance"
  sh_in "$ID" 'cat /etc/os-release'
  assert_contains "$OUT" "ID=busybox" "/etc/os-release of a bootstrapped busybox"
}

# Concurrent writers get distinct build numbers, and the index loses none of them.
test_concurrent_builds() {
  local i pids=""
  for i in 1 2 3 4 5 6; do
    "$KILN" --root "$ROOT" image bootstrap busybox --name busybox --version 1.0.0 \
      </dev/null >"$T/bootstrap$i.out" 2>"$T/bootstrap$i.err" &
    pids="$pids $!"
  done
  BG_PIDS="$BG_PIDS $pids"
  local pid failed=0
  for pid in $pids; do
    wait "$pid" || failed=$((failed + 1))
  done
  [ "$failed" = 0 ] || { cat "$T"/bootstrap*.err >&2; fail "$failed of 6 concurrent bootstraps failed"; }
  kiln_ok image list busybox --json
  assert_eq "1 2 3 4 5 6" \
    "$(python3 -c 'import json,sys; print(" ".join(str(b) for b in sorted(e["build"] for e in json.load(open(sys.argv[1])))))' "$OUT")" \
    "the builds of 6 concurrent bootstraps of busybox 1.0.0"
  assert_eq "1 2 3 4 5 6" "$(cut -f1 "$T"/bootstrap*.out | sed 's|.*/||' | sort -n | tr '\n' ' ' | sed 's/ $//')" \
    "the builds the 6 concurrent bootstraps printed"
  assert_verify_clean
}

# Names: AWS's rule, and two names sharing an ARN cannot both be in one store.
test_names() {
  bootstrap_busybox "Web Server" 1.0.0
  assert_eq arn:aws:imagebuilder:local:000000000000:image/web-server/1.0.0/1 "$(image_field "Web Server/1.0.0" arn)" \
    "the ARN of 'Web Server'"
  assert_eq "Web Server" "$(image_field arn:aws:imagebuilder:local:000000000000:image/web-server/1.0.0/1 name)" \
    "the name found by the ARN .../web-server/1.0.0/1"
  local other
  # Same ARN (web-server) or same ref.name (Web_Server) as "Web Server".
  for other in "web server" web-server WEB-SERVER Web_Server; do
    kiln_fails image bootstrap busybox --name "$other" --version 1.0.1
    kiln_fails image get "$other/1.0.1"
  done
  for other in ab " leading-space" "a/b" "with.dot" "$(printf 'x%.0s' $(seq 1 129))"; do
    kiln_fails image bootstrap busybox --name "$other" --version 1.0.0
    assert_eq 2 "$RC" "exit code of bootstrap --name '$other' (invalid name)"
  done
  for other in 1.0 1.0.0.0 v1.0.0 1.x.0 -1.0.0; do
    kiln_fails image bootstrap busybox --name valid-name --version "$other"
    assert_eq 2 "$RC" "exit code of bootstrap --version '$other' (invalid version)"
  done
  kiln_ok image list --json
  assert_eq 1 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT")" \
    "images after the refused names"
  assert_verify_clean
}

# `store verify` finds what is wrong (so that a clean verify elsewhere means something).
test_verify_detects() {
  bootstrap_busybox busybox 1.0.0
  assert_verify_clean
  local layer manifest
  layer=$(image_field busybox/1.0.0 layers.0.digest)
  layer=${layer#sha256:}
  manifest=$(image_field busybox/1.0.0 manifest)
  manifest=${manifest#sha256:}
  cp -p "$ROOT/store/blobs/sha256/$layer" "$T/layer.saved"

  # A changed byte.
  chmod u+w "$ROOT/store/blobs/sha256/$layer"
  printf 'X' | dd of="$ROOT/store/blobs/sha256/$layer" bs=1 seek=100 conv=notrunc status=none
  kiln store verify
  assert_eq 1 "$RC" "exit code of store verify with a corrupted layer"
  assert_contains "$OUT" "$layer" "store verify with a corrupted layer"
  cp -p "$T/layer.saved" "$ROOT/store/blobs/sha256/$layer"
  assert_verify_clean "with the layer restored"

  # A missing blob.
  mv "$ROOT/store/blobs/sha256/$layer" "$T/layer.moved"
  kiln store verify
  assert_eq 1 "$RC" "exit code of store verify with a missing layer"
  assert_contains "$OUT" "$layer" "store verify with a missing layer"
  # gc does not make it worse, and launch fails cleanly.
  kiln instance launch busybox/1.0.0
  [ "$RC" != 0 ] || fail "launch of an image whose layer is missing: expected to fail, got 0"
  assert_eq 0 "$(count_entries "$ROOT/instances")" "instances after a failed launch"
  mv "$T/layer.moved" "$ROOT/store/blobs/sha256/$layer"
  assert_verify_clean "with the layer back"

  # A stray file in blobs/sha256.
  echo stray >"$ROOT/store/blobs/sha256/not-a-digest"
  kiln store verify
  assert_eq 1 "$RC" "exit code of store verify with a stray file in blobs/sha256"
  assert_contains "$OUT" "not-a-digest" "store verify with a stray file"
  rm "$ROOT/store/blobs/sha256/not-a-digest"

  # An index naming a manifest that does not exist.
  cp -p "$ROOT/store/index.json" "$T/index.saved"
  sed -i "s/$manifest/$(printf '%064d' 0)/" "$ROOT/store/index.json"
  kiln store verify
  assert_eq 1 "$RC" "exit code of store verify with an index naming a missing manifest"
  assert_contains "$OUT" "$(printf '%064d' 0)" "store verify with an index naming a missing manifest"
  cp -p "$T/index.saved" "$ROOT/store/index.json"

  # An index that does not parse: verify says so, gc refuses and removes nothing.
  local blobs
  blobs=$(count_files "$ROOT/store/blobs/sha256")
  echo '{"schemaVersion": 2, "manifests": [' >"$ROOT/store/index.json"
  kiln store verify
  assert_eq 1 "$RC" "exit code of store verify with an index that does not parse"
  kiln_fails store gc --grace 0
  assert_eq "$blobs" "$(count_files "$ROOT/store/blobs/sha256")" "blobs after gc with an unparsable index"
  cp -p "$T/index.saved" "$ROOT/store/index.json"
  assert_verify_clean "with the index restored"
}

# gc with a manifest it cannot read (its blob lost) must remove nothing: it cannot tell what that
# manifest keeps alive (docs/formats/store.md, "gc refuses to remove anything when index.json or a
# manifest or config it reaches cannot be read").
test_gc_missing_manifest() {
  bootstrap_busybox busybox 1.0.0
  local manifest blobs
  manifest=$(image_field busybox/1.0.0 manifest)
  rm "$ROOT/store/blobs/sha256/${manifest#sha256:}"
  blobs=$(count_files "$ROOT/store/blobs/sha256")
  kiln store gc --grace 0
  local gc_rc=$RC gc_out
  gc_out=$(cat "$OUT" "$ERR" | tr '\n' ' ')
  assert_eq "$blobs" "$(count_files "$ROOT/store/blobs/sha256")" \
    "blobs (the config and layer of the lost manifest) after gc --grace 0 [gc said: $gc_out]"
  [ "$gc_rc" != 0 ] || fail "store gc with a manifest it cannot read: expected to refuse (non-zero exit), got 0 [$gc_out]"
}

# Index entries written by another tool are kept, not listed, and what they reach survives gc.
test_foreign_entries() {
  command -v skopeo >/dev/null || skip "needs skopeo"
  bootstrap_busybox busybox 1.0.0
  make_tree "$T/tree"
  kiln_ok image import "$T/tree" --name tree --version 1.0.0
  kiln_ok image export tree/1.0.0 --format oci-archive --output "$T/tree.tar"
  kiln_ok image delete tree/1.0.0/1
  skopeo copy -q "oci-archive:$T/tree.tar" "oci:$ROOT/store:foreign" >"$T/skopeo.log" 2>&1 ||
    { show_file "$T/skopeo.log"; fail "skopeo copy into kiln's store failed"; }
  kiln_ok image list --json
  assert_eq busybox/1.0.0/1 \
    "$(python3 -c 'import json,sys; print(" ".join(e["ref"] for e in json.load(open(sys.argv[1]))))' "$OUT")" \
    "the images kiln lists with a foreign entry in the index"
  assert_verify_clean "with a foreign entry"
  kiln_ok store gc --grace 0
  skopeo inspect "oci:$ROOT/store:foreign" >/dev/null 2>"$T/skopeo.err" ||
    { show_file "$T/skopeo.err"; fail "skopeo inspect of the foreign entry after kiln's gc failed"; }
  # kiln rewrites the index: the foreign entry stays.
  bootstrap_busybox busybox 1.0.1
  kiln_ok store gc --grace 0
  assert_contains "$ROOT/store/index.json" '"org.opencontainers.image.ref.name":"foreign"' \
    "index.json after kiln rewrote it" 2>/dev/null ||
    python3 - "$ROOT/store/index.json" <<'PY' || fail "index.json lost the foreign entry when kiln rewrote it"
import json, sys
index = json.load(open(sys.argv[1]))
names = [m.get("annotations", {}).get("org.opencontainers.image.ref.name") for m in index["manifests"]]
sys.exit(0 if "foreign" in names else 1)
PY
  skopeo copy -q "oci:$ROOT/store:foreign" "oci:$T/out:foreign" >"$T/skopeo.log" 2>&1 ||
    { show_file "$T/skopeo.log"; fail "skopeo copy of the foreign entry after kiln's rewrite and gc failed"; }
  assert_verify_clean "at the end"
}

# Deleting a parent keeps its children whole.
test_delete_parent() {
  bootstrap_busybox busybox 1.0.0
  launch busybox/1.0.0
  sh_in "$ID" 'echo child >/root/child'
  kiln_ok instance stop "$ID"
  kiln_ok instance snapshot "$ID" --name child --version 1.0.0
  kiln_ok instance terminate "$ID"
  kiln_ok image delete busybox/1.0.0/1
  kiln_ok store gc --grace 0
  assert_verify_clean "after deleting the parent and gc"
  launch child/1.0.0
  sh_in "$ID" 'cat /root/child && test -x /bin/busybox && echo has-busybox'
  assert_stdout "$(printf 'child\nhas-busybox')" "the child after its parent was deleted and collected"
  kiln_ok image export child/1.0.0 --format rootfs-tar --output "$T/child.tar"
  tar_list "$T/child.tar" >"$T/child.list"
  assert_contains "$T/child.list" "bin/busybox" "the export of the child"
  # The child records its parent's digest, even though gc removed that manifest.
  assert_match '^sha256:' "$(image_field child/1.0.0 parent)" "the parent of the child"
}

# ---- imports --------------------------------------------------------------------------------

test_import_folder() {
  make_tree "$T/tree"
  kiln_ok image import "$T/tree" --name folder --version 1.0.0
  assert_match '^folder/1\.0\.0/1[[:space:]]' "$(stdout_text)" "what kiln image import prints"
  export_rootfs folder/1.0.0 "$T/out.tar"
  unpack "$T/out.tar" "$T/out"
  assert_same_tree "$T/tree" "$T/out" "the folder import exported as rootfs-tar"
  # The hard link stays a hard link.
  assert_eq "$(stat -c %i "$T/out/data/private")" "$(stat -c %i "$T/out/data/hardlink")" \
    "inode of data/hardlink vs data/private after import and export"

  # An explicit --source-format dir gives the same layer.
  kiln_ok image import "$T/tree" --name folder --version 1.0.1 --source-format dir
  assert_eq "$(image_field folder/1.0.0 layers.0.digest)" "$(image_field folder/1.0.1 layers.0.digest)" \
    "layer digest of the same folder imported twice"

  # And it runs, with its own files.
  launch folder/1.0.0
  in_instance "$ID" /bin/cat /etc/marker
  assert_stdout imported "/etc/marker in an instance of the imported folder"
  in_instance "$ID" /bin/cat "/data/with space.txt"
  assert_stdout spaced
  in_instance "$ID" /bin/cat /data/link
  assert_stdout "$(printf 'line one\nline two')" "/data/link (a symlink) in the instance"
  assert_verify_clean
}

# import_tar_as NAME VERSION TARBALL: imports TARBALL, exports it, compares with $T/tree.
import_tar_as() {
  local name=$1 version=$2 tarball=$3
  kiln_ok image import "$tarball" --name "$name" --version "$version"
  local out=$T/out-$name-$version
  export_rootfs "$name/$version" "$out.tar"
  unpack "$out.tar" "$out"
  assert_same_tree "$T/tree" "$out" "$(basename "$tarball") imported and exported as rootfs-tar"
}

test_import_tarballs() {
  make_tree "$T/tree"
  tar -C "$T/tree" --numeric-owner -cf "$T/rootfs.tar" .
  tar -C "$T/tree" --numeric-owner -czf "$T/rootfs.tar.gz" .
  tar -C "$T/tree" --numeric-owner --zstd -cf "$T/rootfs.tar.zst" .
  # Entries without "./": tar's other common form.
  (cd "$T/tree" && tar --numeric-owner -cf "$T/bare.tar" -- *)
  import_tar_as plain 1.0.0 "$T/rootfs.tar"
  import_tar_as gzipped 1.0.0 "$T/rootfs.tar.gz"
  import_tar_as zstd 1.0.0 "$T/rootfs.tar.zst"
  import_tar_as bare 1.0.0 "$T/bare.tar"
  kiln_ok image import "$T/rootfs.tar.gz" --name explicit --version 1.0.0 --source-format rootfs-tar

  # The same tree is the same layer, however it was compressed.
  local digest
  digest=$(image_field plain/1.0.0 layers.0.digest)
  assert_eq "$digest" "$(image_field gzipped/1.0.0 layers.0.digest)" "layer of the gzip tarball vs the plain one"
  assert_eq "$digest" "$(image_field zstd/1.0.0 layers.0.digest)" "layer of the zstd tarball vs the plain one"

  # An imported tarball runs.
  launch zstd/1.0.0
  in_instance "$ID" /bin/cat /data/nested/deeper/file.txt
  assert_stdout "$(printf 'line one\nline two')" "a file of the zstd tarball in an instance"
  in_instance "$ID" /bin/sh -c 'stat -c %a /data/run.sh /data/private /tmp'
  assert_stdout "$(printf '750\n600\n1777')" "modes in an instance of an imported tarball"

  # Not an archive: refused, nothing added.
  head -c 5000 /dev/urandom >"$T/garbage.tar"
  kiln_fails image import "$T/garbage.tar" --name garbage --version 1.0.0
  kiln_fails image import "$T/does-not-exist.tar" --name missing --version 1.0.0
  kiln_fails image get garbage/1.0.0
  assert_verify_clean
}

test_import_oci() {
  bootstrap_busybox busybox 1.0.0
  export_rootfs busybox/1.0.0 "$T/original.tar"
  tar_list "$T/original.tar" >"$T/original.list"

  kiln_ok image export busybox/1.0.0 --format oci-dir --output "$T/layout"
  assert_exists "$T/layout/oci-layout" "oci-layout of the oci-dir export"
  assert_exists "$T/layout/index.json" "index.json of the oci-dir export"
  kiln_ok image export busybox/1.0.0 --format oci-archive --output "$T/image.tar"
  tar -tf "$T/image.tar" | sed 's|^\./||' >"$T/archive.list"
  assert_contains "$T/archive.list" "oci-layout" "the entries of the oci-archive export"
  assert_contains "$T/archive.list" "index.json" "the entries of the oci-archive export"

  kiln_ok image import "$T/layout" --name from-layout --version 1.0.0
  kiln_ok image import "$T/image.tar" --name from-archive --version 1.0.0
  kiln_ok image import "$T/image.tar" --name explicit-archive --version 1.0.0 --source-format oci-archive
  kiln_ok image import "$T/layout" --name explicit-layout --version 1.0.0 --source-format oci-dir

  local ref
  for ref in from-layout/1.0.0 from-archive/1.0.0 explicit-archive/1.0.0 explicit-layout/1.0.0; do
    export_rootfs "$ref" "$T/again.tar"
    tar_list "$T/again.tar" >"$T/again.list"
    assert_same_list "$T/original.list" "$T/again.list" "entries of $ref (re-imported export)"
    # Same layers: the re-imported image shares the original's blobs.
    assert_eq "$(image_field busybox/1.0.0 layers)" "$(image_field "$ref" layers)" "layers of $ref"
  done

  launch from-archive/1.0.0
  sh_in "$ID" 'cat /etc/os-release'
  assert_contains "$OUT" "ID=busybox" "/etc/os-release in an instance of the re-imported archive"

  # A layout with several images needs --oci-ref to pick one.
  if command -v skopeo >/dev/null; then
    skopeo copy -q "oci-archive:$T/image.tar" "oci:$T/multi:first" >"$T/skopeo.log" 2>&1 ||
      { show_file "$T/skopeo.log"; fail "skopeo copy to $T/multi:first failed"; }
    bootstrap_busybox busybox 2.0.0
    kiln_ok image export busybox/2.0.0 --format oci-archive --output "$T/image2.tar"
    skopeo copy -q "oci-archive:$T/image2.tar" "oci:$T/multi:second" >"$T/skopeo.log" 2>&1 ||
      { show_file "$T/skopeo.log"; fail "skopeo copy to $T/multi:second failed"; }
    kiln_ok image import "$T/multi" --name picked --version 1.0.0 --oci-ref second
    assert_eq "$(image_field busybox/2.0.0 layers)" "$(image_field picked/1.0.0 layers)" \
      "layers of the image picked with --oci-ref second"
    kiln_fails image import "$T/multi" --name picked --version 1.0.1 --oci-ref third
    kiln_fails image get picked/1.0.1
  else
    echo "    (skopeo missing: skipped the --oci-ref checks)" >&2
  fi
  assert_verify_clean
}

# An OCI layout written by another tool, with a second layer of whiteouts: a removed file, an
# opaque folder, a removed folder.
test_import_oci_whiteouts() {
  make_tree "$T/tree"
  tar -C "$T/tree" --numeric-owner -cf "$T/base.tar" .
  mkdir -p "$T/upper/data/nested" "$T/upper/etc" "$T/upper/data/empty"
  : >"$T/upper/data/.wh.private"
  : >"$T/upper/data/nested/.wh..wh..opq"
  echo "fresh" >"$T/upper/data/nested/only"
  : >"$T/upper/data/.wh.empty"
  rmdir "$T/upper/data/empty"
  echo "added" >"$T/upper/etc/added"
  tar -C "$T/upper" --numeric-owner -cf "$T/upper.tar" .
  python3 "$SRC/tests/integration/make_oci_layout.py" "$T/layout" foreign "$T/base.tar" "$T/upper.tar" \
    >/dev/null || fail "make_oci_layout.py failed"

  kiln_ok image import "$T/layout" --name foreign --version 1.0.0 --oci-ref foreign
  kiln_ok image get foreign/1.0.0
  assert_eq 2 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["layers"]))' "$OUT")" \
    "layers of the imported two-layer OCI image"
  export_rootfs foreign/1.0.0 "$T/out.tar"
  tar_list "$T/out.tar" >"$T/out.list"
  assert_not_contains "$T/out.list" ".wh." "the rootfs export of the image with whiteouts"
  assert_contains "$T/out.list" "etc/added" "the rootfs export of the image with whiteouts"
  assert_contains "$T/out.list" "data/nested/only" "the rootfs export of the image with whiteouts"
  local gone
  for gone in data/private data/nested/deeper data/empty; do
    if grep -qx -- "$gone" "$T/out.list"; then
      fail "the rootfs export of the image with whiteouts: expected no $gone (whited out), it is there"
    fi
  done
  assert_contains "$T/out.list" "data/hardlink" "the rootfs export (the hard link to a removed file stays)"

  launch foreign/1.0.0
  in_instance "$ID" /bin/sh -c 'ls -A /data/nested; test -e /data/private || echo no-private; test -e /data/empty || echo no-empty; cat /etc/added /data/hardlink'
  assert_stdout "$(printf 'only\nno-private\nno-empty\nadded\nsecret')" "whiteouts seen in an instance"
  sh_in "$ID" 'find / -xdev -name ".wh.*" | head -n 3'
  assert_stdout "" "whiteout files visible in the instance"
  assert_verify_clean
}

# Overlay attributes smuggled in an archive are not applied: a layer whose folder carries
# trusted.overlay.opaque=y (a PAX xattr record) must not hide the lower layer's files, and
# a trusted.overlay.redirect must not make a folder show another one.
test_import_overlay_xattrs() {
  python3 - "$T" <<'PY' || fail "writing the layers with overlay xattrs failed"
import io, sys, tarfile
t = sys.argv[1]
def add(tar, name, kind="file", data=b"", xattrs=None):
    info = tarfile.TarInfo(name)
    if kind == "dir":
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    else:
        info.size, info.mode = len(data), 0o644
    if xattrs:
        info.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
    tar.addfile(info, io.BytesIO(data) if kind == "file" else None)
with tarfile.open(t + "/lower.tar", "w", format=tarfile.PAX_FORMAT) as tar:
    add(tar, "keep", "dir")
    add(tar, "keep/lower.txt", data=b"lower\n")
    add(tar, "secret", "dir")
    add(tar, "secret/hidden.txt", data=b"hidden\n")
with tarfile.open(t + "/upper.tar", "w", format=tarfile.PAX_FORMAT) as tar:
    add(tar, "keep", "dir", xattrs={"trusted.overlay.opaque": "y"})
    add(tar, "keep/upper.txt", data=b"upper\n")
    add(tar, "shown", "dir", xattrs={"trusted.overlay.redirect": "/secret"})
    add(tar, "plain.txt", data=b"plain\n", xattrs={"user.kiln-test": "kept"})
PY
  bootstrap_busybox busybox 1.0.0
  kiln_ok image export busybox/1.0.0 --format rootfs-tar --output "$T/busybox.tar"
  python3 "$SRC/tests/integration/make_oci_layout.py" "$T/layout" smuggled \
    "$T/busybox.tar" "$T/lower.tar" "$T/upper.tar" >/dev/null || fail "make_oci_layout.py failed"
  kiln_ok image import "$T/layout" --name smuggled --version 1.0.0
  launch smuggled/1.0.0
  sh_in "$ID" 'ls /keep | sort | tr "\n" " "'
  assert_stdout "lower.txt upper.txt " "/keep (its upper folder carried trusted.overlay.opaque=y)"
  sh_in "$ID" 'ls -A /shown | tr "\n" " "'
  assert_stdout "" "/shown (its upper folder carried trusted.overlay.redirect=/secret)"
  # Snapshotting it keeps the lower files too.
  sh_in "$ID" 'echo more >/keep/more.txt'
  kiln_ok instance stop "$ID"
  kiln_ok instance snapshot "$ID" --name smuggled-child --version 1.0.0
  launch smuggled-child/1.0.0
  sh_in "$ID" 'ls /keep | sort | tr "\n" " "'
  assert_stdout "lower.txt more.txt upper.txt " "/keep in a snapshot of the smuggled image"
  assert_verify_clean
}

# Hostile layers inside OCI layouts (which kiln may copy as they are): refused at import or at
# unpack (launch), with the entry named, and nothing written outside.
test_hostile_oci_layers() {
  local outside=$T/outside
  mkdir -p "$outside" "$T/hostile"
  python3 "$HOSTILE" "$T/hostile" "$outside" >"$T/cases" || fail "make_hostile.py failed"
  local passwd_before
  passwd_before=$(sha256sum /etc/passwd)
  local case entry name
  while read -r case entry; do
    name="oci-${case//_/-}"
    rm -rf "$T/layout"
    python3 "$SRC/tests/integration/make_oci_layout.py" "$T/layout" "$case" "$T/hostile/$case.tar" \
      >/dev/null || fail "make_oci_layout.py $case failed"
    kiln image import "$T/layout" --name "$name" --version 1.0.0
    local where="import"
    if [ "$RC" = 0 ]; then
      # Accepted as blobs: unpacking it for an instance must refuse it (or keep it harmless).
      where="launch"
      kiln instance launch "$name/1.0.0"
      if [ "$RC" = 0 ]; then
        local id
        id=$(tr -s ' \t\n' '\n' <"$OUT" | grep . | tail -n 1)
        kiln_ok instance terminate "$id"
      fi
    fi
    if [ "$RC" -ge 128 ]; then
      show_output
      fail "hostile OCI layer $case: expected an error at $where, kiln died of signal $((RC - 128))"
    fi
    if [ "$entry" = "-" ]; then
      [ "$RC" = 0 ] || { show_output; fail "hostile OCI layer $case: expected success at $where, got exit $RC"; }
    else
      [ "$RC" != 0 ] || fail "hostile OCI layer $case: expected import or launch to refuse entry $entry, both succeeded"
      if ! grep -qF -- "$entry" "$ERR"; then
        show_output
        fail "hostile OCI layer $case: expected the error of $where to name the entry [$entry], got [$(tr '\n' ' ' <"$ERR")]"
      fi
    fi
    [ -z "$(ls -A "$outside")" ] ||
      fail "hostile OCI layer $case: expected nothing in $outside, found: $(ls -A "$outside" | tr '\n' ' ')"
    local escaped
    escaped=$(find "$T" "$ROOT" -name evil 2>/dev/null | grep -v "^$ROOT/layers/[0-9a-f]\{64\}/" || true)
    [ -z "$escaped" ] || fail "hostile OCI layer $case: expected no 'evil' outside an unpacked layer, found: $escaped"
    assert_absent /abs/evil "hostile OCI layer $case: /abs/evil"
    assert_eq "$passwd_before" "$(sha256sum /etc/passwd)" "hostile OCI layer $case: sha256 of /etc/passwd"
    assert_verify_clean "after hostile OCI layer $case"
  done <"$T/cases"
  # Compressed hostile tarballs are refused the same way.
  gzip -c "$T/hostile/dotdot.tar" >"$T/dotdot.tar.gz"
  zstd -q -c "$T/hostile/symlink_escape.tar" >"$T/symlink_escape.tar.zst"
  kiln_fails image import "$T/dotdot.tar.gz" --name gz-dotdot --version 1.0.0
  assert_contains "$ERR" "../evil" "the error of importing a gzipped dotdot tarball"
  kiln_fails image import "$T/symlink_escape.tar.zst" --name zst-escape --version 1.0.0
  assert_contains "$ERR" "link/evil" "the error of importing a zstd symlink_escape tarball"
  [ -z "$(ls -A "$outside")" ] || fail "expected nothing in $outside at the end"
  kiln_ok store gc --grace 0
  assert_eq 0 "$(count_entries "$ROOT/layers/tmp")" "entries in layers/tmp after gc"
  assert_verify_clean "at the end"
}

# ---- export read by independent tools ------------------------------------------------------

test_export_oci_tools() {
  bootstrap_busybox busybox 1.0.0
  local manifest
  manifest=$(image_field busybox/1.0.0 manifest)
  kiln_ok image export busybox/1.0.0 --format oci-archive --output "$T/image.tar"
  kiln_ok image export busybox/1.0.0 --format oci-dir --output "$T/layout"

  if command -v skopeo >/dev/null; then
    skopeo inspect "oci-archive:$T/image.tar" >"$T/inspect.json" 2>"$T/skopeo.err" ||
      { show_file "$T/skopeo.err"; fail "skopeo inspect oci-archive:$T/image.tar failed"; }
    assert_json "$T/inspect.json" Digest "$manifest"
    assert_json "$T/inspect.json" Os linux
    assert_eq 1 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["Layers"]))' "$T/inspect.json")" \
      "number of layers skopeo sees in the oci-archive"
    assert_json "$T/inspect.json" Layers.0 "$(image_field busybox/1.0.0 layers.0.digest)"

    skopeo copy -q "oci-archive:$T/image.tar" "oci:$T/copied:tag" >"$T/skopeo.log" 2>&1 ||
      { show_file "$T/skopeo.log"; fail "skopeo copy oci-archive:$T/image.tar oci:$T/copied:tag failed"; }
    skopeo inspect "oci:$T/copied:tag" >"$T/copied.json" 2>"$T/skopeo.err" ||
      { show_file "$T/skopeo.err"; fail "skopeo inspect oci:$T/copied:tag failed"; }
    assert_json "$T/copied.json" Layers "$(json_get "$T/inspect.json" Layers)"
    # And skopeo's copy imports back into kiln.
    kiln_ok image import "$T/copied" --name copied --version 1.0.0 --oci-ref tag
    assert_eq "$(image_field busybox/1.0.0 layers)" "$(image_field copied/1.0.0 layers)" \
      "layers of skopeo's copy imported back"

    skopeo inspect "oci:$T/layout" >"$T/layout.json" 2>"$T/skopeo.err" ||
      skopeo inspect "oci:$T/layout:busybox/1.0.0/1" >"$T/layout.json" 2>"$T/skopeo.err" ||
      { show_file "$T/skopeo.err"; fail "skopeo inspect on the oci-dir export $T/layout failed"; }
    assert_json "$T/layout.json" Digest "$manifest"
  else
    echo "    (skopeo missing: skipped the skopeo checks)" >&2
  fi

  if command -v umoci >/dev/null; then
    umoci ls --layout "$T/layout" >"$T/umoci.out" 2>"$T/umoci.err" ||
      { show_file "$T/umoci.err"; fail "umoci ls --layout $T/layout failed"; }
    [ -s "$T/umoci.out" ] || fail "umoci ls --layout $T/layout: expected a tag, got nothing"
    local tag
    tag=$(head -n 1 "$T/umoci.out")
    umoci stat --image "$T/layout:$tag" >"$T/umoci-stat.out" 2>"$T/umoci.err" ||
      { show_file "$T/umoci.err"; fail "umoci stat --image $T/layout:$tag failed"; }
    assert_contains "$T/umoci-stat.out" "kiln image bootstrap busybox" "umoci stat's history"
    umoci ls --layout "$ROOT/store" >"$T/umoci-store.out" 2>"$T/umoci.err" ||
      { show_file "$T/umoci.err"; fail "umoci ls --layout $ROOT/store failed"; }
    assert_contains "$T/umoci-store.out" "busybox/1.0.0/1" "umoci ls --layout of kiln's store"
  else
    echo "    (umoci missing: skipped the umoci checks)" >&2
  fi

  # The rootfs-tar export is a plain tar of the tree (no whiteouts, no ./.. tricks).
  export_rootfs busybox/1.0.0 "$T/rootfs.tar"
  tar_list "$T/rootfs.tar" >"$T/rootfs.list"
  assert_contains "$T/rootfs.list" "bin/busybox" "the rootfs-tar export"
  assert_contains "$T/rootfs.list" "etc/os-release" "the rootfs-tar export"
  assert_not_contains "$T/rootfs.list" ".wh." "the rootfs-tar export"
  # An existing file is replaced; a non-empty folder is not exported into.
  echo old >"$T/again.tar"
  export_rootfs busybox/1.0.0 "$T/again.tar"
  cmp -s "$T/rootfs.tar" "$T/again.tar" || fail "a rootfs-tar export over an existing file: expected the same bytes as a fresh export"
  mkdir -p "$T/full" && echo precious >"$T/full/keep"
  kiln_fails image export busybox/1.0.0 --format oci-dir --output "$T/full"
  assert_eq keep "$(ls -A "$T/full")" "a non-empty folder after an oci-dir export into it was refused"
  kiln_fails image export busybox/1.0.0 --format qcow2 --output "$T/x.qcow2"
  assert_absent "$T/x.qcow2" "the output of an export in an unknown format"
  kiln_fails image export busybox/9.0.0 --format rootfs-tar --output "$T/x.tar"
  assert_absent "$T/x.tar" "the output of an export of a missing image"
}

# --layer-compression gzip: new layers are gzip, readable by every tool, mixed with zstd ones.
test_layer_compression_gzip() {
  kiln_ok --layer-compression gzip image bootstrap busybox --name busybox --version 1.0.0
  assert_eq application/vnd.oci.image.layer.v1.tar+gzip "$(image_field busybox/1.0.0 layers.0.mediaType)" \
    "mediaType of a layer made with --layer-compression gzip"
  local digest
  digest=$(image_field busybox/1.0.0 layers.0.digest)
  gzip -t <"$ROOT/store/blobs/sha256/${digest#sha256:}" ||
    fail "the gzip layer blob $digest: expected a valid gzip stream (gzip -t failed)"
  kiln_ok image bootstrap busybox --name busybox --version 1.0.1
  assert_eq application/vnd.oci.image.layer.v1.tar+zstd "$(image_field busybox/1.0.1 layers.0.mediaType)" \
    "mediaType of a layer made without --layer-compression"
  kiln_fails --layer-compression lz4 image bootstrap busybox --name busybox --version 1.0.2
  assert_eq 2 "$RC" "exit code of --layer-compression lz4"

  # A zstd child on a gzip parent.
  launch busybox/1.0.0
  sh_in "$ID" 'echo child >/root/child'
  kiln_ok instance stop "$ID"
  kiln_ok instance snapshot "$ID" --name child --version 1.0.0
  assert_eq "application/vnd.oci.image.layer.v1.tar+gzip application/vnd.oci.image.layer.v1.tar+zstd" \
    "$(image_field child/1.0.0 layers | python3 -c 'import json,sys; print(" ".join(l["mediaType"] for l in json.load(sys.stdin)))')" \
    "the layers' mediaTypes of a snapshot of a gzip image"
  launch child/1.0.0
  in_instance "$ID" /bin/cat /root/child
  assert_stdout child "/root/child in the snapshot of a gzip image"

  kiln_ok image export busybox/1.0.0 --format oci-archive --output "$T/gzip.tar"
  kiln_ok image import "$T/gzip.tar" --name reimported --version 1.0.0
  assert_eq "$(image_field busybox/1.0.0 layers)" "$(image_field reimported/1.0.0 layers)" \
    "layers of a re-imported gzip image"
  if command -v skopeo >/dev/null; then
    skopeo copy -q "oci-archive:$T/gzip.tar" "oci:$T/copied:gz" >"$T/skopeo.log" 2>&1 ||
      { show_file "$T/skopeo.log"; fail "skopeo copy of the gzip image failed"; }
    skopeo inspect "oci:$ROOT/store:child/1.0.0/1" >"$T/child.json" 2>"$T/skopeo.err" ||
      { show_file "$T/skopeo.err"; fail "skopeo inspect of the mixed gzip/zstd image in the store failed"; }
  fi
  if command -v umoci >/dev/null; then
    # umoci unpacks gzip layers (it may not know zstd): the whole rootfs comes out.
    umoci unpack --image "$ROOT/store:busybox/1.0.0/1" "$T/bundle" >"$T/umoci.log" 2>&1 ||
      { show_file "$T/umoci.log"; fail "umoci unpack of the gzip image from kiln's store failed"; }
    assert_exists "$T/bundle/rootfs/bin/busybox" "bin/busybox unpacked by umoci"
  fi
  assert_verify_clean
}

# ---- hostile archives -----------------------------------------------------------------------

test_hostile_tarballs() {
  local outside=$T/outside
  mkdir -p "$outside" "$T/hostile"
  python3 "$HOSTILE" "$T/hostile" "$outside" >"$T/cases" || fail "make_hostile.py failed"
  [ -s "$T/cases" ] || fail "make_hostile.py printed no case"
  local passwd_before
  passwd_before=$(sha256sum /etc/passwd)
  bootstrap_busybox busybox 1.0.0

  local case entry n=0 refused=0
  while read -r case entry; do
    n=$((n + 1))
    kiln image import "$T/hostile/$case.tar" --name "hostile-${case//_/-}" --version 1.0.0
    if [ "$entry" = "-" ]; then
      if [ "$RC" != 0 ]; then
        show_output
        fail "hostile case $case: expected the import to succeed harmlessly, got exit $RC"
      fi
    else
      if [ "$RC" = 0 ]; then
        show_output
        fail "hostile case $case: expected the import to be refused (entry $entry), it succeeded"
      fi
      if [ "$RC" -ge 128 ]; then
        show_output
        fail "hostile case $case: expected an error, kiln died of signal $((RC - 128))"
      fi
      if ! grep -qF -- "$entry" "$ERR"; then
        show_output
        fail "hostile case $case: expected the error to name the entry [$entry], got [$(tr '\n' ' ' <"$ERR")]"
      fi
      refused=$((refused + 1))
      kiln_fails image get "hostile-${case//_/-}/1.0.0"
    fi
    # Nothing outside the target, whatever the case.
    if [ -n "$(ls -A "$outside")" ]; then
      fail "hostile case $case: expected nothing in $outside, found: $(ls -A "$outside" | tr '\n' ' ')"
    fi
    local escaped
    escaped=$(find "$T" "$ROOT" -name evil -o -name victim -newer "$T/cases" 2>/dev/null |
      grep -v "^$ROOT/layers/[0-9a-f]\{64\}/" || true)
    if [ -n "$escaped" ]; then
      fail "hostile case $case: expected no 'evil' or 'victim' outside an unpacked layer, found: $escaped"
    fi
    assert_absent /abs/evil "hostile case $case: /abs/evil"
    assert_eq "$passwd_before" "$(sha256sum /etc/passwd)" "hostile case $case: sha256 of /etc/passwd"
    assert_verify_clean "after hostile case $case"
  done <"$T/cases"
  [ "$n" -ge 10 ] || fail "make_hostile.py: expected at least 10 cases, got $n"

  # The harmless case: the file replaced the symlink inside the image.
  if grep -q '^symlink_overwrite -$' "$T/cases"; then
    export_rootfs hostile-symlink-overwrite/1.0.0 "$T/overwrite.tar"
    unpack "$T/overwrite.tar" "$T/overwrite"
    if [ ! -f "$T/overwrite/victim" ] || [ -L "$T/overwrite/victim" ]; then
      fail "symlink_overwrite: expected victim to be a regular file in the image, got: $(ls -l "$T/overwrite/victim" 2>&1)"
    fi
    assert_file_eq "$T/overwrite/victim" replaced
  fi

  # Only the harmless case added an image.
  kiln_ok image list --json
  assert_eq $((1 + n - refused)) "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT")" \
    "number of images after the hostile imports ($refused refused)"
  # gc leaves nothing half-unpacked behind.
  kiln_ok store gc --grace 0
  assert_eq 0 "$(count_entries "$ROOT/layers/tmp")" "entries in layers/tmp after gc"
  assert_eq 0 "$(count_entries "$ROOT/store/tmp")" "entries in store/tmp after gc"
  assert_verify_clean "after the hostile imports and gc"
  [ -z "$(ls -A "$outside")" ] || fail "expected nothing in $outside at the end"
}

# ---- delete and gc --------------------------------------------------------------------------

test_delete_gc() {
  bootstrap_busybox busybox 1.0.0
  local blobs0 layers0
  blobs0=$(count_files "$ROOT/store/blobs/sha256")
  layers0=$(count_entries "$ROOT/layers")
  make_tree "$T/tree"
  kiln_ok image import "$T/tree" --name other --version 1.0.0
  # Layers are unpacked when first launched.
  launch other/1.0.0
  in_instance "$ID" /bin/cat /etc/marker
  kiln_ok instance terminate "$ID"
  local blobs1 layers1
  blobs1=$(count_files "$ROOT/store/blobs/sha256")
  layers1=$(count_entries "$ROOT/layers")
  assert_eq $((blobs0 + 3)) "$blobs1" "blobs after importing a folder (a layer, a config, a manifest)"
  [ "$layers1" -gt "$layers0" ] ||
    fail "entries in layers/ after an import: expected more than $layers0, got $layers1"

  # delete needs a build number.
  kiln_fails image delete other/1.0.0
  kiln_ok image get other/1.0.0/1
  kiln_ok image delete other/1.0.0/1
  assert_contains "$OUT" "other/1.0.0/1" "what kiln image delete prints"
  kiln_fails image get other/1.0.0/1
  assert_eq 3 "$RC" "exit code of image get of a deleted image"
  kiln_fails image delete other/1.0.0/1
  assert_eq 3 "$RC" "exit code of deleting a deleted image"
  assert_verify_clean "after delete"

  # gc with the default grace keeps the young blobs; with --grace 0 it frees them.
  kiln_ok store gc
  assert_eq "$blobs1" "$(count_files "$ROOT/store/blobs/sha256")" "blobs after gc with the default grace (1 h)"
  kiln_ok store gc --grace 0
  assert_match '^removed 3 blobs' "$(stdout_text)" "what store gc --grace 0 prints"
  assert_eq "$blobs0" "$(count_files "$ROOT/store/blobs/sha256")" "blobs after gc --grace 0"
  assert_eq "$layers0" "$(count_entries "$ROOT/layers")" "entries in layers/ after gc --grace 0"
  assert_verify_clean "after gc"
  # A second gc finds nothing.
  kiln_ok store gc --grace 0
  assert_match '^removed 0 blobs \(0 bytes\), 0 temporary files, 0 unpacked layers' "$(stdout_text)" \
    "what a second store gc prints"

  # What is left still works.
  launch busybox/1.0.0
  in_instance "$ID" /bin/true

  # An instance keeps its layers even when its image is deleted.
  kiln_ok image delete busybox/1.0.0/1
  kiln_ok store gc --grace 0
  in_instance "$ID" /bin/sh -c 'cat /etc/os-release >/dev/null'
  kiln_ok instance reboot "$ID"
  in_instance "$ID" /bin/true
  assert_verify_clean "after deleting the running instance's image and gc"
  kiln_ok instance terminate "$ID"
  kiln_ok store gc --grace 0
  assert_eq 0 "$(count_files "$ROOT/store/blobs/sha256")" "blobs after deleting every image and gc"
  assert_eq 0 "$(find "$ROOT/layers" -mindepth 1 -maxdepth 1 ! -name tmp | wc -l)" \
    "unpacked layers after deleting every image and gc"
  assert_verify_clean "with no image left"
}

# ---- crash in the middle of a write ---------------------------------------------------------

# big_tree DIR MB: MB megabytes of random data in 4 MB files (incompressible), in subfolders.
big_tree() {
  local dir=$1 mb=$2 i
  for ((i = 0; i < mb / 4; i++)); do
    mkdir -p "$dir/part$((i % 5))"
    head -c $((4 << 20)) /dev/urandom >"$dir/part$((i % 5))/file$i.bin"
  done
}

# start_import NAME: `kiln image import $T/big` in the background; its pid in $IMPORT_PID.
start_import() {
  "$KILN" --root "$ROOT" image import "$T/big" --name "$1" --version 1.0.0 \
    </dev/null >"$T/import.out" 2>"$T/import.err" &
  IMPORT_PID=$!
  BG_PIDS="$BG_PIDS $IMPORT_PID"
}

# kill_import: kill -9 the background import and reap it.
kill_import() {
  kill -KILL "$IMPORT_PID" 2>/dev/null || true
  IMPORT_STATUS=0
  wait "$IMPORT_PID" 2>/dev/null || IMPORT_STATUS=$?
  # Nothing it started goes on writing.
  assert_no_process "image import $T/big" 2
}

# writes_in_progress: something is being written in store/tmp or layers/tmp.
writes_in_progress() {
  [ "$(count_entries "$ROOT/store/tmp")" -gt 0 ] || [ "$(count_entries "$ROOT/layers/tmp")" -gt 0 ]
}

test_crash_mid_write() {
  bootstrap_busybox busybox 1.0.0
  big_tree "$T/big" 200
  kiln_ok store gc --grace 0

  # Killed while it writes: as soon as a temporary file in store/tmp or layers/tmp has data
  # (at most 30 s), kill -9.
  start_import crashed
  local hundredths=3000
  until [ -n "$(find "$ROOT/store/tmp" "$ROOT/layers/tmp" -mindepth 1 -type f -size +0 2>/dev/null | head -n 1)" ]; do
    hundredths=$((hundredths - 1))
    kill -0 "$IMPORT_PID" 2>/dev/null || fail "the import ended before it was seen writing: $(cat "$T/import.err")"
    [ "$hundredths" -gt 0 ] || fail "the import wrote nothing in store/tmp or layers/tmp within 30 s"
    sleep 0.01
  done
  kill_import
  [ "$IMPORT_STATUS" = 137 ] ||
    fail "the import of 200 MB ended (exit $IMPORT_STATUS) before kill -9 reached it; the crash was not simulated"
  assert_verify_clean "after kill -9 of an import"
  kiln_fails image get crashed/1.0.0
  assert_eq 3 "$RC" "exit code of image get of the killed import"
  writes_in_progress ||
    echo "    (note: the killed import left nothing in store/tmp or layers/tmp)" >&2
  kiln_ok store gc --grace 0
  assert_eq 0 "$(count_entries "$ROOT/store/tmp")" "entries in store/tmp after gc --grace 0"
  assert_eq 0 "$(count_entries "$ROOT/layers/tmp")" "entries in layers/tmp after gc --grace 0"
  assert_verify_clean "after gc of the crash's leftovers"

  # Kills at other moments: whatever the moment, verify is clean and the image is whole or absent.
  local delay
  for delay in 0.05 0.1 0.2 0.3 0.4 0.6; do
    echo "$delay" >"$T/big/round"  # a new layer each time, not one already stored
    start_import "late-${delay//./-}"
    sleep "$delay"
    kill_import
    echo "    (kill -9 after ${delay}s: the import $([ "$IMPORT_STATUS" = 137 ] && echo "was killed" || echo "had ended, exit $IMPORT_STATUS"))" >&2
    assert_verify_clean "after kill -9 of an import at ${delay}s"
    kiln image get "late-${delay//./-}/1.0.0"
    if [ "$RC" = 0 ]; then
      # It finished before the kill: it must be whole.
      export_rootfs "late-${delay//./-}/1.0.0" "$T/late.tar"
      assert_eq 50 "$(tar -tf "$T/late.tar" | grep -c 'file[0-9]*\.bin$')" \
        "files in the image whose import finished before the kill at ${delay}s"
      rm -f "$T/late.tar"
    else
      assert_eq 3 "$RC" "exit code of image get of the import killed at ${delay}s"
    fi
  done
  kiln_ok store gc --grace 0
  assert_eq 0 "$(count_entries "$ROOT/store/tmp")" "entries in store/tmp after the last gc"
  assert_verify_clean "after the last gc"

  # The store still takes the same import, whole.
  kiln_ok image import "$T/big" --name survived --version 1.0.0
  export_rootfs survived/1.0.0 "$T/survived.tar"
  assert_eq 50 "$(tar -tf "$T/survived.tar" | grep -c 'file[0-9]*\.bin$')" "files in the image imported after the crashes"
  assert_verify_clean "after a whole import"
}

# gc running again and again while an import writes. With a grace period the import's fresh
# blobs are protected: it must succeed, whole. With --grace 0 nothing is protected: the import
# ends whole or with an error, and never leaves a reference to a missing blob.
test_gc_during_import() {
  bootstrap_busybox busybox 1.0.0
  big_tree "$T/big" 120
  local round grace
  for round in 1 2 3 4; do
    grace=$([ "$round" -le 2 ] && echo 60 || echo 0)
    echo "$round" >"$T/big/round"  # a new layer each round, not one already stored
    start_import "racing$round"
    local gcs=0
    while kill -0 "$IMPORT_PID" 2>/dev/null; do
      kiln store gc --grace "$grace"
      [ "$RC" = 0 ] || { show_output; fail "store gc --grace $grace during an import: expected exit 0, got $RC"; }
      gcs=$((gcs + 1))
    done
    local import_rc=0
    wait "$IMPORT_PID" || import_rc=$?
    echo "    (round $round: $gcs runs of gc --grace $grace during the import; it exited $import_rc)" >&2
    assert_verify_clean "after an import raced by $gcs runs of gc --grace $grace"
    if [ "$grace" != 0 ]; then
      [ "$import_rc" = 0 ] ||
        fail "an import raced by gc --grace $grace: expected success (its blobs are young), got exit $import_rc: $(cat "$T/import.err")"
    fi
    kiln image get "racing$round/1.0.0"
    if [ "$import_rc" = 0 ]; then
      assert_eq 0 "$RC" "exit code of image get of an import that succeeded"
      kiln_ok image export "racing$round/1.0.0" --format rootfs-tar --output "$T/racing.tar"
      assert_eq 30 "$(tar -tf "$T/racing.tar" | grep -c 'file[0-9]*\.bin$')" \
        "files in the image imported while gc ran"
      rm -f "$T/racing.tar"
    else
      assert_eq 3 "$RC" "exit code of image get of an import that failed (exit $import_rc)"
      [ -s "$T/import.err" ] || fail "the import that failed while gc ran printed no error"
    fi
    kiln_ok store gc --grace 0
    assert_verify_clean "after gc following round $round"
  done
}

run_kiln_test bootstrap_list_get test_bootstrap_list_get
run_kiln_test bootstrap_launches test_bootstrap_launches
run_kiln_test concurrent_builds test_concurrent_builds
run_kiln_test names test_names
run_kiln_test verify_detects test_verify_detects
run_kiln_test gc_missing_manifest test_gc_missing_manifest
run_kiln_test foreign_entries test_foreign_entries
run_kiln_test delete_parent test_delete_parent
run_kiln_test import_folder test_import_folder
run_kiln_test import_tarballs test_import_tarballs
run_kiln_test import_oci test_import_oci
run_kiln_test import_oci_whiteouts test_import_oci_whiteouts
run_kiln_test import_overlay_xattrs test_import_overlay_xattrs
run_kiln_test export_oci_tools test_export_oci_tools
run_kiln_test layer_compression_gzip test_layer_compression_gzip
run_kiln_test hostile_tarballs test_hostile_tarballs
run_kiln_test hostile_oci_layers test_hostile_oci_layers
run_kiln_test delete_gc test_delete_gc
run_kiln_test crash_mid_write test_crash_mid_write
run_kiln_test gc_during_import test_gc_during_import
finish
