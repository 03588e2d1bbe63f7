#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the suite needs on a fresh machine,
# builds, runs every test project, and ends with "N passed, N failed" summed over all of them.
set -uo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

step() { printf '\n==> %s\n' "$*"; }

step "Installing test prerequisites"
if ! scripts/install-prerequisites.sh; then
    echo "Prerequisites could not be installed."
    echo "0 passed, 1 failed"
    exit 1
fi

step "Building ServerEvents.sln"
if ! dotnet build ServerEvents.sln -c Release -warnaserror 2>&1 | tee "$log_dir/build.log" | grep -E 'error|Warn|Build succeeded|Time Elapsed'; then
    :
fi
if ! grep -q 'Build succeeded' "$log_dir/build.log" || grep -qE ' error ' "$log_dir/build.log"; then
    echo "Build failed."
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0
failed=0
for project in tests/*/*.Tests.csproj; do
    name=$(basename "$project" .csproj)
    step "Testing $name"
    out="$log_dir/$name.log"
    dotnet test "$project" -c Release --no-build --blame-hang-timeout 5m 2>&1 | tee "$out"
    summary=$(grep -E '(Passed|Failed)! +- Failed: ' "$out" | tail -1)
    if [ -z "$summary" ]; then
        echo "No test summary from $name: counting the project as one failure."
        failed=$((failed + 1))
        continue
    fi
    p=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")
    f=$(sed -E 's/.*Failed: +([0-9]+),.*/\1/' <<<"$summary")
    passed=$((passed + p))
    failed=$((failed + f))
    # A crashed or hung test host still prints a summary of what ran before it died: that run failed.
    if grep -qE 'Test Run Aborted|test run was aborted' "$out"; then
        echo "The $name test run was aborted (crash or hang): counting it as one failure."
        failed=$((failed + 1))
    fi
done

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
