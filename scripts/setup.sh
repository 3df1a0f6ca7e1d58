#!/usr/bin/env bash
# Sets up a fresh machine that has Node >= 20.19 and npm: pnpm 10.34.9 and the workspace's
# dependencies; with --with-chromium also Debian's chromium, which the browser tests
# (examples/todo-web) drive through playwright-core. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  npm install -g "pnpm@$PNPM_VERSION"
fi

if [ "${1:-}" = "--with-chromium" ] && [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

pnpm install --frozen-lockfile
