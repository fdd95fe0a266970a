#!/usr/bin/env python3
"""Writes an OCI image layout holding one image made of the given tar files, as another tool
would (python3 stdlib only), for the kiln import tests.

Usage: make_oci_layout.py OUTPUT_DIR REF_NAME LAYER.tar [LAYER.tar ...]

Each LAYER.tar (an uncompressed tar; bottom layer first) becomes a gzip layer
(application/vnd.oci.image.layer.v1.tar+gzip); the config lists the diff-ids (the sha256 of each
uncompressed tar). The index names the manifest with org.opencontainers.image.ref.name REF_NAME.
An existing layout gets the image added to its index.
"""

import gzip
import hashlib
import json
import os
import sys


def put_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest)
    with open(path, "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: make_oci_layout.py OUTPUT_DIR REF_NAME LAYER.tar [LAYER.tar ...]")
    layout, ref, tars = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)

    layers, diff_ids = [], []
    for tar in tars:
        with open(tar, "rb") as f:
            raw = f.read()
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        digest, size = put_blob(layout, gzip.compress(raw, mtime=0))
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                       "digest": digest, "size": size})

    config = {"architecture": "amd64", "os": "linux",
              "config": {"Env": ["PATH=/bin"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids},
              "history": [{"created_by": "make_oci_layout.py " + os.path.basename(t)} for t in tars]}
    config_digest, config_size = put_blob(layout, json.dumps(config).encode())
    manifest = {"schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": config_digest, "size": config_size},
                "layers": layers}
    manifest_digest, manifest_size = put_blob(layout, json.dumps(manifest).encode())

    index_path = os.path.join(layout, "index.json")
    index = {"schemaVersion": 2, "manifests": []}
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
    index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "digest": manifest_digest, "size": manifest_size,
                               "annotations": {"org.opencontainers.image.ref.name": ref}})
    with open(index_path, "w") as f:
        json.dump(index, f)
    print(manifest_digest)


if __name__ == "__main__":
    main()
