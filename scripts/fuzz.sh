#!/usr/bin/env bash
# Builds the WebSocket libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined) into build-fuzz/:
# the frame parser, UTF-8 validation, the whole receiving connection (ProtocolSession), and that
# connection with permessage-deflate agreed (inflating, its limits and error codes), and runs
# each for N seconds (default 20) from seeds written by test/ws/write-fuzz-seeds.ts, printing each
# target's execution count. Usage: scripts/fuzz.sh [seconds]. Installs nothing; a crash stops the
# script and leaves its input in build-fuzz/.
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
# shellcheck disable=SC2086
clang++ "${flags[@]}" native/ws/fuzz/connection_fuzz.cc native/ws/protocol_session.cc \
  native/ws/close_frame.cc native/ws/deflate_codec.cc native/ws/zlib_context_pool.cc \
  "${codec[@]}" $libevent -lz -o "$out/connection_fuzz"
# shellcheck disable=SC2086
clang++ "${flags[@]}" native/ws/fuzz/deflate_session_fuzz.cc native/ws/protocol_session.cc \
  native/ws/close_frame.cc native/ws/deflate_codec.cc native/ws/zlib_context_pool.cc \
  "${codec[@]}" $libevent -lz -o "$out/deflate_session_fuzz"

# Fresh seeds every run; what the fuzzer finds accumulates in the corpus directories.
rm -rf "$out/seeds"
npx vite-node test/ws/write-fuzz-seeds.ts "$out/seeds/frame_parser" "$out/seeds/utf8" "$out/seeds/connection" \
  "$out/seeds/deflate_session"
targets=(frame_parser utf8 connection deflate_session)
declare -A executions
for target in "${targets[@]}"; do
  mkdir -p "$out/corpus/$target"
  echo "== ${target}_fuzz for ${seconds}s"
  if ! (cd "$out" && "./${target}_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
    "corpus/$target" "seeds/$target") >"$out/$target.log" 2>&1; then
    tail -40 "$out/$target.log" >&2
    echo "${target}_fuzz failed (the whole output: $out/$target.log)" >&2
    exit 1
  fi
  grep '^stat::' "$out/$target.log"
  executions[$target]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$target.log")
done
echo "== executions in ${seconds}s each"
for target in "${targets[@]}"; do echo "${target}_fuzz: ${executions[$target]}"; done
