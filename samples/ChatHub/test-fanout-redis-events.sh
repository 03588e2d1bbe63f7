#!/usr/bin/env bash
# Three ChatHub instances on ports 1337, 2337 and 3337 sharing one Redis, as in ServiceStack's Chat demo.
# Starts a local redis-server on 6379 if none answers there, builds the sample, prints the URLs, and on
# Ctrl-C stops everything it started (and nothing else).
set -euo pipefail
cd "$(dirname "$0")"

redis_port=6379
pids=()
cleanup() {
    trap - INT TERM EXIT
    echo
    echo "Stopping..."
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

redis_up() { (exec 3<>/dev/tcp/127.0.0.1/$redis_port && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; }

if redis_up; then
    echo "Using the redis-server already running on 127.0.0.1:$redis_port"
else
    command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install -y redis-server)." >&2; exit 1; }
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/tmp/chathub-redis.log 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do redis_up && break; sleep 0.1; done
    redis_up || { echo "redis-server did not start (see /tmp/chathub-redis.log)." >&2; exit 1; }
    echo "Started redis-server on 127.0.0.1:$redis_port"
fi

dotnet build -c Release -nologo -v q . >/dev/null
dll=bin/Release/net10.0/ChatHub.dll
for port in 1337 2337 3337; do
    dotnet "$dll" --port "$port" --redis "127.0.0.1:$redis_port" --background "/img/port-$port.svg" &
    pids+=($!)
done

sleep 2
echo
echo "Open each in its own browser window and chat across instances:"
for port in 1337 2337 3337; do
    echo "  http://127.0.0.1:$port/                 (SignalR)"
    echo "  http://127.0.0.1:$port/?transport=sse   (ServiceStack SSE client)"
done
echo "Ctrl-C stops all of them."
wait
