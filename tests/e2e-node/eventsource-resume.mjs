// The npm `eventsource` EventSource reconnects by itself when its stream ends and sends Last-Event-ID; its
// reconnect here goes to the other server, as behind a load balancer, and must bring exactly the 100 events
// published meanwhile, in order, then live ones. Usage: node eventsource-resume.mjs <serverA> <serverB>
// Prints one JSON line per thing observed; exits 1 on any failure.
import { EventSource } from "eventsource";
import { notify, report as log, runScenario, waitIn } from "./scenario.mjs";

const [serverA, serverB] = process.argv.slice(2);
const frames = [];
const requests = [];
const until = (what, match, timeoutMs = 15000) => waitIn(frames, what, match, (f) => f.data.slice(0, 40), timeoutMs);
const notifySeq = (server, seq) => notify(server, "home", "cmd.seq", String(seq));

await runScenario(async () => {
    const source = new EventSource(`${serverA}/event-stream?channels=home`, {
        fetch: (url, init) => {
            requests.push({ url: String(url), lastEventId: new Headers(init.headers).get("Last-Event-ID") });
            return fetch(requests.length === 1 ? url : String(url).replace(serverA, serverB), init);
        },
    });
    source.onmessage = (e) => frames.push({ data: e.data, lastEventId: e.lastEventId });
    const connect = JSON.parse((await until("onConnect", (f) => f.data.startsWith("cmd.onConnect "))).data.slice("cmd.onConnect ".length));
    await until("own onJoin", (f) => f.data.startsWith("home@cmd.onJoin ") && f.data.includes(`"userId":"${connect.userId}"`));
    for (let seq = 0; seq < 5; seq++) await notifySeq(serverA, seq);
    await until("seq 4", (f) => f.data === "home@cmd.seq 4");

    // The server ends the stream; EventSource reconnects after its retry delay, meanwhile 100 events go out.
    const unregister = await fetch(`${serverA}/event-unregister?id=${connect.id}`, { method: "POST" });
    if (!unregister.ok) throw new Error(`unregister: ${unregister.status}`);
    for (let seq = 5; seq < 105; seq++) await notifySeq(serverA, seq);
    const second = await until("second onConnect", (f) => f.data.startsWith("cmd.onConnect ") && !f.data.includes(`"id":"${connect.id}"`), 20000);
    const resumed = JSON.parse(second.data.slice("cmd.onConnect ".length));
    await until("own onJoin after the reconnect", (f) => f.data.startsWith("home@cmd.onJoin ") && f.data.includes(`"userId":"${resumed.userId}"`));
    await notifySeq(serverB, 105);
    await until("seq 105", (f) => f.data === "home@cmd.seq 105");
    source.close();

    log({ type: "requests", requests });
    log({ type: "seqs", seqs: frames.filter((f) => f.data.startsWith("home@cmd.seq ")).map((f) => Number(f.data.slice("home@cmd.seq ".length))) });
    log({ type: "resets", count: frames.filter((f) => f.data.startsWith("cmd.onReset")).length });
});
