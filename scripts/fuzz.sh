#!/usr/bin/env bash
# Builds the WebSocket codec's libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined) into
# build-fuzz/ and runs each for N seconds (default 20) from seeds made of test/ws/fixtures.ts.
# Usage: scripts/fuzz.sh [seconds]. Installs nothing; a crash leaves its input in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
if ! command -v clang++ >/dev/null; then
  echo "clang++ not found; install it with: apt-get install -y clang" >&2
  exit 2
fi
out=build-fuzz
mkdir -p "$out"
flags=(-std=c++20 -g -O1 -Wall -Wextra -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
libevent=$(pkg-config --cflags --libs libevent_core)
codec=(native/ws/utf8.cc native/ws/message_tracker.cc native/ws/frame_parser.cc)
# shellcheck disable=SC2086
clang++ "${flags[@]}" native/ws/fuzz/frame_parser_fuzz.cc "${codec[@]}" $libevent -o "$out/frame_parser_fuzz"
clang++ "${flags[@]}" native/ws/fuzz/utf8_fuzz.cc native/ws/utf8.cc -o "$out/utf8_fuzz"

# Fresh seeds every run; what the fuzzer finds accumulates in the corpus directories.
npx vite-node test/ws/write-fuzz-seeds.ts "$out/seeds/frame_parser" "$out/seeds/utf8"
for target in frame_parser utf8; do
  mkdir -p "$out/corpus/$target"
  echo "== ${target}_fuzz for ${seconds}s"
  (cd "$out" && "./${target}_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
    "corpus/$target" "seeds/$target")
done
