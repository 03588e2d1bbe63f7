// The Socket.IO 4 peer of the load driver: what a team would run instead of Server Events. A subscriber joins the rooms
// named in its handshake query (?channels=a,b&user=u3); the driver's publisher emits to rooms from inside the server, as
// ours does, and /bench/stats reports the process's CPU time. With --redis=host:port, servers share rooms through
// @socket.io/redis-adapter (Redis pub/sub); without it, the in-memory adapter serves one server.
// Arguments: --port=N (0 = any), --redis=host:port. Prints "bench host listening on <url>" once it accepts connections.
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";

const args = Object.fromEntries(process.argv.slice(2).map(a => a.replace(/^--/, "").split(/=(.*)/s).slice(0, 2)));

// .NET ticks (100 ns since 0001-01-01) of now, with sub-millisecond precision: the driver measures latency against them.
const epochTicks = 621355968000000000n;
const nowTicks = () => epochTicks + BigInt(Math.round((performance.timeOrigin + performance.now()) * 10000));

const http = createServer((req, res) => route(req, res).catch(error => {
  res.writeHead(500, { "content-type": "text/plain" });
  res.end(String(error?.stack ?? error));
}));
const io = new Server(http, { serveClient: false });

if (args.redis) {
  const pub = createClient({ url: `redis://${args.redis}` });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
}

io.on("connection", socket => {
  const { channels, user } = socket.handshake.query;
  const rooms = String(channels ?? "").split(",").filter(Boolean);
  if (user) {
    rooms.push(String(user));
  }
  socket.join(rooms);
});

async function route(req, res) {
  const url = new URL(req.url, "http://localhost");
  if (req.method === "POST" && url.pathname === "/bench/publish") {
    return json(res, await publish(JSON.parse(await body(req))));
  }
  if (req.method === "GET" && url.pathname === "/bench/stats") {
    const cpu = process.cpuUsage();
    const memory = url.searchParams.get("memory") === "true";
    if (memory && global.gc) {
      global.gc();
    }
    const usage = process.memoryUsage();
    return json(res, {
      cpuMs: (cpu.user + cpu.system) / 1000,
      allocatedBytes: 0,
      workingSetBytes: memory ? usage.rss : 0,
      gcHeapBytes: memory ? usage.heapUsed : 0,
      jitMs: 0,
      jitMethods: 0,
    });
  }
  res.writeHead(404);
  res.end();
}

// As the .NET bench host's publisher: notify k goes to target k mod targets with that target's sequence number and the
// publish time. Emits are fire-and-forget in Socket.IO; at max rate the loop yields to I/O after each window of emits.
async function publish({ prefix, targets, count, rate, window, payloadBytes, selector }) {
  const names = Array.from({ length: Math.max(1, targets) }, (_, t) => prefix + t);
  const pad = "x".repeat(Math.max(0, payloadBytes));
  const started = performance.now();
  for (let k = 0; k < count; k++) {
    if (rate > 0) {
      const wait = (k / rate) * 1000 - (performance.now() - started);
      if (wait > 0) {
        await new Promise(resolve => setTimeout(resolve, wait));
      }
    } else if (k % Math.max(1, window) === 0) {
      await new Promise(resolve => setImmediate(resolve));
    }
    const target = names[k % names.length];
    const seq = Math.floor(k / names.length) + 1;
    // The same payload as ours: the selector, then {"seq","ts","pad"} as a JSON string.
    io.to(target).emit("event", { selector, channel: target, json: `{"seq":${seq},"ts":${nowTicks()},"pad":"${pad}"}` });
  }
  return { sent: count, failures: 0, elapsedMs: performance.now() - started };
}

function body(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", c => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function json(res, value) {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

http.listen(Number(args.port ?? 0), "127.0.0.1", () => {
  console.log(`bench host listening on http://127.0.0.1:${http.address().port}`);
});
