#!/usr/bin/env bash
# Installs every Debian package kiln's build, tests and benchmarks need, plus the npm test servers.
# Safe to run again: apt-get and npm skip what is already there.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang clang-format
  # the sanitizer and libFuzzer runtimes of clang (scripts/test.sh's build-asan tree, fuzz/)
  libclang-rt-14-dev
  # libraries kiln links (docs/DEPENDENCIES.md says why each is there)
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev libcurl4-openssl-dev
  libre2-dev libssl-dev libarchive-dev libzstd-dev zlib1g-dev libsqlite3-dev
  libboost-dev libhowardhinnant-date-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev busybox-static python3
  # commands the tests run (each test that needs one fails in CI when it is missing, never
  # skips): the API's clients, the shell linter, certificates, archives, processes
  curl python3-boto3 python3-botocore shellcheck openssl tar gzip zstd procps iproute2
  # tools the runner drives inside instances; instances and images
  bash coreutils util-linux bubblewrap mmdebstrap e2fsprogs
  # the private network of instances (pasta, docs/DEPENDENCIES.md)
  passt
  # independent OCI tools that check kiln's images in tests
  skopeo umoci
  # the AWS CLI, the API's client in the daemon's tests
  awscli
  # the peer the build benchmark compares with (bench/build_bench.sh)
  buildah
)

export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# Node.js and npm run the test servers; a machine may already have them from another source
# (nodesource's nodejs bundles npm and conflicts with Debian's npm package).
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Test servers from npm (s3rver: a real S3 wire-protocol server on loopback).
here=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x "$here/tests/servers/node_modules/.bin/s3rver" ]; then
  (cd "$here/tests/servers" && npm install --no-audit --no-fund --loglevel=error)
fi
