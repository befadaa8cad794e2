#!/usr/bin/env bash
# One idempotent set-up for a fresh clone, run by `npm start` and `npm test` before they start:
# system packages (Debian, as root), npm dependencies, the native addon and the TypeScript build.
# Each step is skipped when its output is already newer than its inputs.
set -euo pipefail
cd "$(dirname "$0")/.."

need_system_packages() {
  ! pkg-config --atleast-version=2.1 libevent_core libevent_extra 2>/dev/null
}

if need_system_packages; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing libevent-dev and pkg-config with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq libevent-dev pkg-config >/dev/null
  else
    echo "bootstrap: libevent 2.1 development files are missing. Install them and run again:" >&2
    echo "  Debian/Ubuntu: sudo apt-get install libevent-dev pkg-config" >&2
    echo "  Fedora/RHEL:   sudo dnf install libevent-devel pkgconf-pkg-config" >&2
    exit 1
  fi
fi

# redis-server: the Redis channel layer's tests start their own (never as a service). Only the
# tests need it, so without root it is a warning (the tests then fail saying how to install it).
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing redis-server with apt-get (for the Redis channel layer's tests)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq redis-server >/dev/null
  else
    echo "bootstrap: redis-server is missing; the Redis channel layer's tests need it:" >&2
    echo "  Debian/Ubuntu: sudo apt-get install redis-server   Fedora/RHEL: sudo dnf install redis" >&2
  fi
fi

newer_than() { # newer_than TARGET SOURCES... : true when TARGET exists and is newer than every source
  local target=$1; shift
  [ -e "$target" ] || return 1
  [ -z "$(find "$@" -newer "$target" -print -quit 2>/dev/null)" ]
}

if ! newer_than node_modules/.package-lock.json package.json; then
  echo "bootstrap: installing npm dependencies (this also builds the addon)"
  npm install --no-audit --no-fund
  touch node_modules/.package-lock.json
elif ! newer_than build/Release/bufferevent.node native binding.gyp; then
  echo "bootstrap: building the native addon"
  npm run build:native
fi

# dist/package.json is written last by build:ts: its age stands for the whole CommonJS build.
if ! newer_than dist/package.json src tsconfig.json tsconfig.build.json scripts/mark-dist-commonjs.mjs; then
  echo "bootstrap: compiling TypeScript"
  npm run --silent build:ts
fi
