#!/usr/bin/env bash
# One idempotent set-up for a fresh clone, run by `npm start` and `npm test` before they start:
# system packages (Debian, as root), npm dependencies, the native addon and the TypeScript build.
# Each step is skipped when its output is already newer than its inputs. With --for-tests (npm test)
# it also installs what only the tests need: redis-server and Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
for_tests=false
[ "${1:-}" = "--for-tests" ] && for_tests=true

# zlib's headers are for the benchmark's load generator (bench/build.sh links it with -lz).
need_system_packages() {
  ! pkg-config --atleast-version=2.1 libevent_core libevent_extra 2>/dev/null ||
    ! pkg-config --exists zlib 2>/dev/null
}

if need_system_packages; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing libevent-dev, zlib1g-dev and pkg-config with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq libevent-dev zlib1g-dev pkg-config >/dev/null
  else
    echo "bootstrap: libevent 2.1 or zlib development files are missing. Install them and run again:" >&2
    echo "  Debian/Ubuntu: sudo apt-get install libevent-dev zlib1g-dev pkg-config" >&2
    echo "  Fedora/RHEL:   sudo dnf install libevent-devel zlib-devel pkgconf-pkg-config" >&2
    exit 1
  fi
fi

# What only the tests need: redis-server (the Redis tests start their own, never as a service) and
# chromium (the browser tests drive it through playwright-core). Without root it is a warning; the
# tests that need them then fail saying how to install them.
install_for_tests() { # install_for_tests COMMAND PACKAGE WHY
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing $2 with apt-get ($3)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "$2" >/dev/null
  else
    echo "bootstrap: $2 is missing; $3. Debian/Ubuntu: sudo apt-get install $2" >&2
  fi
}
if $for_tests; then
  install_for_tests redis-server redis-server "the Redis channel layer's tests need it"
  install_for_tests chromium chromium "the browser tests need it"
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
