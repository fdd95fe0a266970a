#!/usr/bin/env bash
# build_bench.sh KILN [--runs N] [--base busybox|debian-12] [--example]: `kiln build` of a recipe
# with two ExecuteBash steps, a test phase and one local distribution, against `buildah bud
# --isolation chroot` of a Containerfile with the same two RUN steps on the same base rootfs
# (kiln's managed parent, exported as an OCI archive for buildah). Prints medians, the ratio
# kiln/buildah (target: at most 1.0) and one JSON line. With --example it also times `kiln build`
# of examples/golden-nginx to AVAILABLE (the Debian example; network needed).
# Needs root, bubblewrap, busybox and buildah; prints "skipped" and exits 0 without them.
set -euo pipefail
KILN=$(realpath "$1")
shift
RUNS=5
BASE=busybox
EXAMPLE=0
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --base) BASE=$2; shift 2 ;;
    --example) EXAMPLE=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
SOURCE=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ] || ! command -v bwrap >/dev/null || ! command -v buildah >/dev/null; then
  echo "skipped: needs root, bubblewrap and buildah (apt-get install buildah)"
  exit 0
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/kiln-build-bench.XXXXXX")
trap 'buildah --root "$W/buildah" --runroot "$W/buildah-run" rm --all >/dev/null 2>&1 || true; rm -rf "$W"' EXIT
ROOT=$W/root

# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

# The same two steps for both tools.
STEP1='mkdir -p /opt/app && head -c 1048576 /dev/zero > /opt/app/data.bin'
STEP2='echo "version=1" > /etc/app.conf && ls /opt/app > /opt/app/listing'

mkdir -p "$W/recipe" "$W/context"
cat >"$W/recipe/app.yaml" <<EOF
name: app
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Data
        action: ExecuteBash
        inputs:
          commands:
            - $STEP1
      - name: Config
        action: ExecuteBash
        inputs:
          commands:
            - $STEP2
  - name: test
    steps:
      - name: Check
        action: ExecuteBash
        inputs:
          commands:
            - grep -q version=1 /etc/app.conf
EOF
cat >"$W/recipe/recipe.yaml" <<EOF
name: bench-app
semanticVersion: 1.0.x
parentImage: $BASE
components:
  - path: app.yaml
EOF
cat >"$W/recipe/distribution.yaml" <<EOF
name: bench-one-region
distributions:
  - region: bench-region
EOF

# The base, once (not timed): kiln's managed parent, exported for buildah.
echo "preparing the base image ($BASE) ..."
"$KILN" --root "$ROOT" component run "$W/recipe/app.yaml" --image "$BASE" --phases build -q >/dev/null
"$KILN" --root "$ROOT" image export "$BASE/x.x.x" --format oci-archive --output "$W/base.tar" >/dev/null
cat >"$W/context/Containerfile" <<EOF
FROM oci-archive:$W/base.tar
RUN $STEP1
RUN $STEP2
EOF
BUILDAH=(buildah --root "$W/buildah" --runroot "$W/buildah-run" --storage-driver overlay)
"${BUILDAH[@]}" pull "oci-archive:$W/base.tar" >/dev/null 2>&1 || true

kiln_times=()
buildah_times=()
for i in $(seq 1 "$RUNS"); do
  t0=$(now)
  "$KILN" --root "$ROOT" build "$W/recipe/recipe.yaml" --distribution "$W/recipe/distribution.yaml" \
    >/dev/null 2>"$W/kiln.err" || { cat "$W/kiln.err" >&2; exit 1; }
  t1=$(now)
  "${BUILDAH[@]}" bud --isolation chroot --layers=false -t "bench-app:$i" -f "$W/context/Containerfile" \
    "$W/context" >/dev/null 2>"$W/buildah.err" || { cat "$W/buildah.err" >&2; exit 1; }
  t2=$(now)
  kiln_times+=("$(calc "$t1 - $t0")")
  buildah_times+=("$(calc "$t2 - $t1")")
  printf 'run %d: kiln build %.3f s, buildah bud %.3f s\n' "$i" "${kiln_times[-1]}" "${buildah_times[-1]}"
done
k=$(printf '%s\n' "${kiln_times[@]}" | median)
b=$(printf '%s\n' "${buildah_times[@]}" | median)
ratio=$(calc "$k / $b")
verdict=MISS
if awk "BEGIN { exit !($ratio <= 1.0) }"; then verdict=PASS; fi
printf '\nbase %s, %d runs, TMPDIR file system: %s\n' "$BASE" "$RUNS" "$(stat -f -c %T "$W")"
printf 'kiln build (build + test + 1 distribution): median %.3f s\n' "$k"
printf 'buildah bud --isolation chroot (2 RUN):      median %.3f s\n' "$b"
printf 'ratio kiln/buildah: %.2f  (target <= 1.0: %s)\n' "$ratio" "$verdict"

example=null
if [ "$EXAMPLE" = 1 ]; then
  ex=$SOURCE/examples/golden-nginx
  # A root of its own: the first build bootstraps Debian, the second finds it cached.
  t0=$(now)
  "$KILN" --root "$W/example-root" build "$ex/recipe.yaml" --infrastructure "$ex/infrastructure.yaml" \
    --distribution "$ex/distribution.yaml" >/dev/null 2>"$W/example.err" ||
    { cat "$W/example.err" >&2; exit 1; }
  t1=$(now)
  "$KILN" --root "$W/example-root" build "$ex/recipe.yaml" --infrastructure "$ex/infrastructure.yaml" \
    --distribution "$ex/distribution.yaml" >/dev/null 2>"$W/example.err" ||
    { cat "$W/example.err" >&2; exit 1; }
  t2=$(now)
  cold=$(calc "$t1 - $t0")
  warm=$(calc "$t2 - $t1")
  printf 'golden-nginx to AVAILABLE: %.1f s with the Debian bootstrap, %.1f s with the parent cached\n' "$cold" "$warm"
  example=$(printf '{"cold_s": %.3f, "warm_s": %.3f}' "$cold" "$warm")
fi
printf '{"bench": "build", "base": "%s", "runs": %d, "kiln_s": %.3f, "buildah_s": %.3f, "ratio": %.3f, "example": %s}\n' \
  "$BASE" "$RUNS" "$k" "$b" "$ratio" "$example"
