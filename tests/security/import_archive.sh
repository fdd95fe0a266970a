#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031  # functions run by run_kiln_test; $T per test
# `kiln image import` of a hostile OCI archive: every descriptor (the index's manifest entry, the
# config, each layer) must match the bytes it names, in size and digest. A config digest naming
# a blob the store already has (with other bytes in the archive), a size of 10^15 on the
# manifest entry or the config, a layer whose size is wrong: each is refused with a clear error,
# and nothing of it is left in the store (no index entry, no new blob).
# Usage: import_archive.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/../integration/kiln_lib.sh" "$@"
kiln_require_privileged

# make_archive TAMPER [ARGS]: an OCI archive $T/image.tar of one small layer, with one thing
# changed by tamper.py (see below).
make_archive() {
  rm -rf "$T/layout" "$T/image.tar" "$T/tree"
  mkdir -p "$T/tree/etc"
  echo "imported" >"$T/tree/etc/marker"
  tar -C "$T/tree" -cf "$T/layer.tar" .
  python3 "$SRC/tests/integration/make_oci_layout.py" "$T/layout" hostile "$T/layer.tar" \
    >/dev/null || fail "make_oci_layout.py failed"
  python3 - "$T/layout" "$@" <<'EOF'
import hashlib, json, os, sys
layout, what = sys.argv[1], sys.argv[2]
blobs = os.path.join(layout, "blobs", "sha256")
def read(d): return open(os.path.join(blobs, d.split(":")[1]), "rb").read()
def put(data, name=None):
    name = name or "sha256:" + hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, name.split(":")[1]), "wb").write(data)
    return name
index = json.load(open(os.path.join(layout, "index.json")))
entry = index["manifests"][0]
manifest = json.loads(read(entry["digest"]))
if what == "huge-manifest-size":
    entry["size"] = 10**15
elif what == "huge-config-size":
    manifest["config"]["size"] = 10**15
elif what == "huge-layer-size":
    manifest["layers"][0]["size"] = 10**15
elif what == "config-digest-of-store-blob":
    # The config's bytes under the name of a blob the store already has (another image's config).
    config = read(manifest["config"]["digest"])
    manifest["config"]["digest"] = put(config, sys.argv[3])
elif what == "config-digest-wrong":
    config = read(manifest["config"]["digest"])
    manifest["config"]["digest"] = put(config, "sha256:" + "ab" * 32)
elif what != "none":
    sys.exit("unknown tampering " + what)
if what != "huge-manifest-size":
    data = json.dumps(manifest).encode()
    entry["digest"] = put(data)
    entry["size"] = len(data)
json.dump(index, open(os.path.join(layout, "index.json"), "w"))
EOF
  tar -C "$T/layout" -cf "$T/image.tar" oci-layout index.json blobs
}

# blob_count: blobs in the store.
blob_count() {
  count_files "$ROOT/store/blobs/sha256"
}

# refused WHAT EXPECTED_TEXT: the import of $T/image.tar fails with EXPECTED_TEXT in its error
# and leaves the store as it was.
refused() {
  local before
  before=$(blob_count)
  kiln_fails image import "$T/image.tar" --name hostile --version 1.0.0
  assert_contains "$ERR" "$2" "the error for $1"
  kiln_ok image list
  assert_not_contains "$OUT" "hostile" "kiln image list after the refused import ($1)"
  assert_eq "$before" "$(blob_count)" "blobs in the store after the refused import ($1)"
  assert_verify_clean "after the refused import ($1)"
}

test_sound_archive_imports() {
  make_archive none
  kiln_ok image import "$T/image.tar" --name sound --version 1.0.0
  assert_verify_clean "after a sound import"
}

test_huge_manifest_size() {
  bootstrap_busybox base 1.0.0
  make_archive huge-manifest-size
  refused "a manifest entry of 10^15 bytes" "descriptor says 1000000000000000"
}

test_huge_config_size() {
  bootstrap_busybox base 1.0.0
  make_archive huge-config-size
  refused "a config of 10^15 bytes" "descriptor says 1000000000000000"
}

test_huge_layer_size() {
  bootstrap_busybox base 1.0.0
  make_archive huge-layer-size
  refused "a layer of 10^15 bytes" "descriptor says 1000000000000000"
}

test_config_digest_of_a_store_blob() {
  bootstrap_busybox base 1.0.0
  local manifest config
  manifest=$(image_field base/1.0.0 manifest)
  config=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"])' \
    "$ROOT/store/blobs/sha256/${manifest#sha256:}")
  make_archive config-digest-of-store-blob "$config"
  refused "a config digest naming another image's config" "have the digest"
}

test_config_digest_wrong() {
  bootstrap_busybox base 1.0.0
  make_archive config-digest-wrong
  refused "a config under a wrong digest" "have the digest"
}

run_kiln_test "a sound OCI archive imports" test_sound_archive_imports
run_kiln_test "a manifest entry claiming 10^15 bytes is refused" test_huge_manifest_size
run_kiln_test "a config claiming 10^15 bytes is refused" test_huge_config_size
run_kiln_test "a layer claiming 10^15 bytes is refused, no blob left" test_huge_layer_size
run_kiln_test "a config digest naming a blob of the store is refused" test_config_digest_of_a_store_blob
run_kiln_test "a config whose bytes do not match its digest is refused" test_config_digest_wrong
finish
