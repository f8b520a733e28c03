#!/usr/bin/env bash
# Builds the test-only bcryptprimitives.dll (see bcryptprimitives.c) with mingw into
# target/wine-shim/, unless it is already newer than its source; prints its path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${CARGO_TARGET_DIR:-$root/target}/wine-shim"
dll="$out/bcryptprimitives.dll"
if [ ! -f "$dll" ] || [ "$here/bcryptprimitives.c" -nt "$dll" ]; then
  mkdir -p "$out"
  x86_64-w64-mingw32-gcc -O2 -shared -s -o "$dll.tmp" "$here/bcryptprimitives.c" -ladvapi32
  mv "$dll.tmp" "$dll"
fi
echo "$dll"
