#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine (idempotent, non-interactive):
# the .NET SDK must already be there; redis-server, node and chromium come from Debian's packages, the
# end-to-end tests' npm packages from the lock file.
set -euo pipefail

if ! command -v dotnet >/dev/null; then
    echo "The .NET SDK (see global.json) must be installed: dotnet is not on PATH." >&2
    exit 1
fi
echo "dotnet $(dotnet --version)"

apt_install() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "${APT_UPDATED:-}" ]; then
        $sudo apt-get update -qq
        APT_UPDATED=1
    fi
    $sudo apt-get install -y -qq "$@" >/dev/null
}

if ! command -v redis-server >/dev/null; then
    echo "Installing redis-server from Debian packages..."
    apt_install redis-server
fi
echo "$(redis-server --version | cut -d' ' -f1-3)"

# Node runs the real npm clients (@servicestack/client, eventsource) in the end-to-end tests.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "Installing nodejs and npm from Debian packages..."
    apt_install nodejs npm
fi
echo "node $(node --version)"
# Exactly the locked versions; quiet unless it fails.
npm ci --prefix tests/e2e-node --no-audit --no-fund --loglevel=error
echo "npm packages for tests/e2e-node installed"
# The Socket.IO server the benchmark measures beside ours (benchmarks/socketio-peer), also run at toy size by the tests.
npm ci --prefix benchmarks/socketio-peer --no-audit --no-fund --loglevel=error
echo "npm packages for benchmarks/socketio-peer installed"

# The sample's browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
if ! command -v chromium >/dev/null; then
    echo "Installing chromium from Debian packages..."
    apt_install chromium
fi
echo "$(chromium --version 2>/dev/null | head -1)"
