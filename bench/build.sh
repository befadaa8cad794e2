#!/bin/sh
# Builds the benchmark's C programs (load generator, reference echo and
# WebSocket servers) into bench/build/. Safe to run repeatedly; always rebuilds (it takes a second).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/build"
flags="-O2 -Wall -Wextra"
libevent_cflags=$(pkg-config --cflags libevent_core)
libevent_libs=$(pkg-config --libs libevent_core)
cc=${CC:-cc}

# shellcheck disable=SC2086 # word splitting of the flag lists is intended
$cc $flags $libevent_cflags -o "$here/build/loadgen" \
    "$here"/loadgen/main.c "$here"/loadgen/tcp_echo.c "$here"/loadgen/stats.c \
    "$here"/loadgen/pattern.c "$here"/loadgen/ws_client.c "$here"/loadgen/ws_echo.c \
    "$here"/loadgen/ws_chat.c "$here"/loadgen/ws_idle.c "$here"/loadgen/ws_deflate.c \
    "$here"/loadgen/ws_handshake.c "$here"/loadgen/options.c "$here"/c-ws/sha1.c \
    $libevent_libs -lz -lm
# shellcheck disable=SC2086
$cc $flags $libevent_cflags -o "$here/build/c-echo" "$here"/c-echo/echo.c $libevent_libs
# shellcheck disable=SC2086
$cc $flags $libevent_cflags -o "$here/build/c-ws-server" "$here"/c-ws/server.c \
    "$here"/c-ws/frame.c "$here"/c-ws/handshake.c "$here"/c-ws/sha1.c "$here"/c-ws/utf8.c $libevent_libs
echo "built $here/build/loadgen $here/build/c-echo $here/build/c-ws-server"
