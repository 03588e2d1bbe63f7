// The real @servicestack/client ServerEventsClient resuming without loss. It opens a new EventSource whenever it
// (re)starts, so EventSource's own Last-Event-ID is not sent; the few lines an app adds are `validate` (every
// message passes it: remember its id) and `resolveStreamUrl` (append lastEventId=, and here pick the server, as a
// load balancer would). Usage: node servicestack-resume.mjs <serverA> <serverB> <serverC>
// 1. Cut off on A (stopped), 100 events published, started again on B: exactly the 100, in order, then live ones.
// 2. B becomes unreachable and its stream ends; EventSource's own retries to B fail, the client's heartbeat fails,
//    and it starts over on C: what was published meanwhile arrives once, in order, then live ones. (On one server,
//    nothing is unreachable: EventSource's own reconnect resumes, with Last-Event-ID.)
// Prints one JSON line per thing observed; exits 1 on any failure.
import { ServerEventsClient } from "@servicestack/client";
import { EventSource } from "eventsource";
import { notify, report as log, runScenario, waitIn } from "./scenario.mjs";

// The network, with one server made unreachable in part 2 (as when it dies behind a load balancer).
let unreachable = null;
const network = globalThis.fetch;
globalThis.fetch = (input, init) => String(input.url ?? input).startsWith(unreachable ?? "\0")
    ? Promise.reject(new TypeError(`fetch failed: ${unreachable} is down`))
    : network(input, init);
const streams = [];
globalThis.EventSource = class extends EventSource {
    constructor(url, options) {
        super(url, { ...options, fetch: (u, i) => globalThis.fetch(u, i) });
        streams.push(String(url));
    }
};
globalThis.document ??= { querySelectorAll: () => [], body: {} };

const [serverA, serverB, serverC] = process.argv.slice(2);
const seen = [];
const until = (what, match, timeoutMs = 15000) => waitIn(seen, what, match, (s) => s.type + (s.seq ?? ""), timeoutMs);
const notifySeq = (server, seq) => notify(server, "home", "cmd.seq", String(seq));

let server = serverA;
let lastEventId = null;
const client = new ServerEventsClient(serverA, ["home"], {
    validate: (request) => {
        lastEventId = request.eventId;
        return true;
    },
    resolveStreamUrl: (url) => {
        // The client rebuilds its stream URL from the current stream's: keep the path and query, choose the server.
        const target = server + url.slice(new URL(url).origin.length);
        return lastEventId == null ? target : `${target}&lastEventId=${lastEventId}`;
    },
    handlers: {
        onConnect: (sub) => seen.push({ type: "onConnect", id: sub.id, userId: sub.userId, heartbeatUrl: sub.heartbeatUrl }),
        onJoin: (msg) => seen.push({ type: "onJoin", userId: msg.userId }),
        onReset: (msg) => seen.push({ type: "onReset", lastEventId: msg.lastEventId }),
        seq: (n) => seen.push({ type: "seq", seq: Number(n) }),
    },
    onException: () => {},
});

await runScenario(async () => {
    client.start();
    const first = await until("onConnect", (s) => s.type === "onConnect");
    await until("own onJoin", (s) => s.type === "onJoin" && s.userId === first.userId);
    for (let seq = 0; seq < 5; seq++) await notifySeq(serverA, seq);
    await until("seq 4", (s) => s.seq === 4);

    await client.stop();
    for (let seq = 5; seq < 105; seq++) await notifySeq(seq % 2 ? serverA : serverC, seq);
    server = serverB;
    client.start();
    const second = await until("onConnect on B", (s) => s.type === "onConnect" && s.id !== first.id);
    await until("own onJoin on B", (s) => s.type === "onJoin" && s.userId === second.userId && seen.indexOf(s) > seen.indexOf(second));
    await notifySeq(serverB, 105);
    await until("seq 105", (s) => s.seq === 105);

    server = serverC;
    unreachable = serverB === serverC ? null : serverB;
    const unregister = await fetch(`${serverA}/event-unregister?id=${second.id}`, { method: "POST" });
    if (!unregister.ok) throw new Error(`unregister: ${unregister.status}`);
    for (let seq = 106; seq < 126; seq++) await notifySeq(serverA, seq);
    // EventSource may reconnect by itself first (to B, with Last-Event-ID); the client's heartbeat then fails and
    // it starts over on C.
    const third = await until("onConnect on C", (s) => s.type === "onConnect" && s.heartbeatUrl.startsWith(serverC) && s.id !== first.id && s.id !== second.id, 20000);
    await until("own onJoin on C", (s) => s.type === "onJoin" && s.userId === third.userId && seen.indexOf(s) > seen.indexOf(third));
    await notifySeq(serverC, 126);
    await until("seq 126", (s) => s.seq === 126);
    await client.stop();

    log({ type: "streams", streams });
    log({ type: "seqs", seqs: seen.filter((s) => s.type === "seq").map((s) => s.seq) });
    log({ type: "resets", count: seen.filter((s) => s.type === "onReset").length });
});
