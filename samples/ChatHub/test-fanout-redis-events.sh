#!/usr/bin/env bash
# Three ChatHub instances on ports 1337, 2337 and 3337 sharing one Redis, as in ServiceStack's Chat demo.
# Starts a local redis-server on 6379 if none answers there, builds the sample, prints the URLs, and on
# Ctrl-C stops everything it started (and nothing else).
#   --cluster   a local Redis Cluster instead: three masters on 7000-7002 (started, and created, if none answers there)
set -euo pipefail
cd "$(dirname "$0")"

redis_port=6379
cluster_ports=(7000 7001 7002)
use_cluster=false
[ "${1:-}" = "--cluster" ] && use_cluster=true
pids=()
cleanup() {
    trap - INT TERM EXIT
    echo
    echo "Stopping..."
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

up() { (exec 3<>/dev/tcp/127.0.0.1/$1 && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; }
redis_up() { up "$redis_port"; }
need_redis() { command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install -y redis-server)." >&2; exit 1; }; }

if $use_cluster; then
    endpoints=""
    started=false
    for port in "${cluster_ports[@]}"; do
        endpoints+="${endpoints:+,}127.0.0.1:$port"
        up "$port" && continue
        need_redis
        dir=/tmp/chathub-cluster-$port
        rm -rf "$dir" && mkdir -p "$dir"
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --cluster-enabled yes \
            --cluster-config-file "$dir/nodes.conf" --dir "$dir" >"$dir/redis.log" 2>&1 &
        pids+=($!)
        started=true
    done
    for port in "${cluster_ports[@]}"; do
        for _ in $(seq 50); do up "$port" && break; sleep 0.1; done
        up "$port" || { echo "redis-server on $port did not start (see /tmp/chathub-cluster-$port/redis.log)." >&2; exit 1; }
    done
    if $started; then
        redis-cli --cluster create ${endpoints//,/ } --cluster-yes >/tmp/chathub-cluster-create.log 2>&1 \
            || { echo "redis-cli --cluster create failed (see /tmp/chathub-cluster-create.log)." >&2; exit 1; }
        echo "Created a Redis Cluster of three masters: $endpoints"
    else
        echo "Using the Redis Cluster already running on $endpoints"
    fi
    for port in "${cluster_ports[@]}"; do
        for _ in $(seq 100); do redis-cli -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break; sleep 0.1; done
    done
    redis="$endpoints"
elif redis_up; then
    echo "Using the redis-server already running on 127.0.0.1:$redis_port"
else
    need_redis
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/tmp/chathub-redis.log 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do redis_up && break; sleep 0.1; done
    redis_up || { echo "redis-server did not start (see /tmp/chathub-redis.log)." >&2; exit 1; }
    echo "Started redis-server on 127.0.0.1:$redis_port"
fi
redis=${redis:-127.0.0.1:$redis_port}

dotnet build -c Release -nologo -v q . >/dev/null
dll=bin/Release/net10.0/ChatHub.dll
for port in 1337 2337 3337; do
    dotnet "$dll" --port "$port" --redis "$redis" --background "/img/port-$port.svg" &
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
