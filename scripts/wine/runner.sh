#!/usr/bin/env bash
# Runs a Windows exe under Wine: cargo's runner for the x86_64-pc-windows-gnu target
#   CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=scripts/wine/runner.sh \
#     cargo test --target x86_64-pc-windows-gnu --test engine_tcp
# and the scripts' way to start sockdbg.exe (scripts/wine/screenshot.sh).
# Wine 8 lacks ProcessPrng, which Rust's std needs: the test-only bcryptprimitives.dll
# (bcryptprimitives.c, built by build-shim.sh) is put beside the exe, and beside the
# sockdbg.exe that tests in deps/ start, in debug directories only: never beside a release
# build, which is what gets shipped. Wine's own prefix is target/wine-prefix unless
# WINEPREFIX says otherwise; Wine's debug chatter is off unless WINEDEBUG says otherwise.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 PROGRAM.exe [ARGS...]" >&2
  exit 2
fi
exe="$1"
shift
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="$(cd "$(dirname "$exe")" && pwd)"
case "$dir" in
  */release | */release/*)
    echo "runner.sh: not putting the test-only bcryptprimitives.dll beside a release build" \
         "($exe); copy the exe to a test directory, as scripts/wine/screenshot.sh does" >&2
    exit 2 ;;
esac
dll="$("$here/build-shim.sh")"
targets=("$dir")
[ "$(basename "$dir")" = deps ] && targets+=("$(dirname "$dir")")
for d in "${targets[@]}"; do
  [ "$d/bcryptprimitives.dll" -nt "$dll" ] || cp "$dll" "$d/bcryptprimitives.dll"
done
export WINEPREFIX="${WINEPREFIX:-${CARGO_TARGET_DIR:-$root/target}/wine-prefix}"
export WINEDEBUG="${WINEDEBUG:--all}"
# No Mono or Gecko install prompts, no desktop menu entries.
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=;winemenubuilder.exe=d}"
exec wine "$exe" "$@"
