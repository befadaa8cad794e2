#!/usr/bin/env bash
# `npm run test:asan`: builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer in
# build-asan/ (the normal build is left alone) and runs the native-heavy tests against it. Node itself
# is not instrumented, so the sanitizer runtimes are preloaded; leak detection is off because Node
# keeps allocations until exit by design (the binding's leak tests count fds and live objects instead).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=build-asan
mkdir -p "$work"
rm -rf "$work/native" && cp -r native binding.gyp "$work/"
ln -sfn "$root/node_modules" "$work/node_modules"
# node-gyp is on PATH inside npm scripts (npm's bundled copy).
(cd "$work" && BUFFEREVENT_SANITIZE=1 node-gyp configure >/dev/null && node-gyp build -j 2 >/dev/null)
asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
export BUFFEREVENT_ADDON_PATH="$root/$work/build/Release/bufferevent.node"
export LD_PRELOAD="$asan $ubsan"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_odr_violation=0:allow_user_segv_handler=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
native_heavy=(test/bufferevent test/fast-paths test/stream test/evbuffer test/event test/listener test/integrity
  test/leaks test/pair test/filter test/kinds test/loop test/ws test/websocket test/rate-limit)
if [ $# -gt 0 ]; then native_heavy=("$@"); fi
npx vitest run "${native_heavy[@]}"
