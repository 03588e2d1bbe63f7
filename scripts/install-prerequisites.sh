#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine (idempotent, non-interactive).
set -euo pipefail

if ! command -v dotnet >/dev/null; then
    echo "The .NET SDK (see global.json) must be installed: dotnet is not on PATH." >&2
    exit 1
fi
dotnet --version
