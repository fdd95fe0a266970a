#!/usr/bin/env bash
# bundle-libs.sh PROGRAM LIBDIR: copies PROGRAM's dynamic loader and every shared library it
# loads into LIBDIR, so the program can run with that loader in a root filesystem that lacks them
# (the loader is saved as LIBDIR/ld-linux-x86-64.so.2). Called by `cmake --install`.
set -euo pipefail
program=$1
libdir=$2
mkdir -p "$libdir"
interp=$(readelf -l "$program" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ -n "$interp" ] || { echo "bundle-libs: $program has no program interpreter" >&2; exit 1; }
cp -L "$interp" "$libdir/ld-linux-x86-64.so.2"
# ldd prints "name => /path (addr)" for each library; copy by the name the program asks for.
ldd "$program" | awk '/=> \// { print $1, $3 }' | while read -r name path; do
  cp -L "$path" "$libdir/$name"
done
if ldd "$program" | grep -q "not found"; then
  echo "bundle-libs: a library of $program was not found:" >&2
  ldd "$program" | grep "not found" >&2
  exit 1
fi
