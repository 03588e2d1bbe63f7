// Drives the real @servicestack/client ServerEventsClient (and a plain `eventsource` EventSource) against
// the SSE bridge. Usage: node servicestack-client.mjs <serverA> <serverB>
// Prints one JSON line per thing observed; the xunit test asserts on them. Exits 1 on any failure.
import { ServerEventsClient } from "@servicestack/client";
import { EventSource } from "eventsource";
import { notify, report, runScenario, sleep, waitIn } from "./scenario.mjs";

globalThis.EventSource = EventSource;
// The client styles DOM elements for css.* messages; Node has no DOM, so give it an empty one.
globalThis.document ??= { querySelectorAll: () => [], body: {} };

const [serverA, serverB] = process.argv.slice(2);
const seen = [];
const log = (entry) => { seen.push(entry); report(entry); };
const waitFor = (what, match, timeoutMs) => waitIn(seen, what, match, (s) => s.type, timeoutMs);

const client = new ServerEventsClient(serverA, ["home"], {
    handlers: {
        onConnect: (sub) => log({ type: "onConnect", id: sub.id, userId: sub.userId, displayName: sub.displayName, channels: sub.channels, heartbeatIntervalMs: sub.heartbeatIntervalMs, heartbeatUrl: sub.heartbeatUrl }),
        onJoin: (msg) => log({ type: "onJoin", userId: msg.userId, channel: msg.channel }),
        onLeave: (msg) => log({ type: "onLeave", userId: msg.userId, channel: msg.channel }),
        onUpdate: (msg) => log({ type: "onUpdate", userId: msg.userId, channel: msg.channel, channels: msg.channels }),
        onHeartbeat: (msg) => log({ type: "onHeartbeat", userId: msg.userId }),
        onMessage: (msg) => log({ type: "onMessage", selector: msg.selector, channel: msg.channel }),
        chat: (msg, e) => log({ type: "chat", text: msg.text, channel: e.channel, eventId: e.eventId }),
        announce: (text) => log({ type: "announce", text }),
    },
    receivers: {
        tv: { watch: (url) => log({ type: "tv.watch", url }), off: () => log({ type: "tv.off" }) },
        css: { background: (value) => log({ type: "css.background", value }) },
    },
    onException: (e) => log({ type: "exception", message: String(e && e.message || e) }),
});
client.addListener("customEvent", (e) => log({ type: "trigger.customEvent", body: e.body }));

await runScenario(async () => {
    client.start();
    const connect = await waitFor("onConnect", (s) => s.type === "onConnect");
    await waitFor("own onJoin", (s) => s.type === "onJoin" && s.userId === connect.userId);

    // Messages from the other server, every kind of selector the clients route.
    await notify(serverB, "home", "cmd.chat", JSON.stringify({ text: "hello from B" }));
    await notify(serverB, "home", "cmd.announce", JSON.stringify("Hi all"));
    await notify(serverB, "home", "tv.watch", JSON.stringify("https://youtu.be/518XP8prwZo"));
    await notify(serverB, "home", "tv.off", "");
    await notify(serverB, "home", "css.background", JSON.stringify("#eceff1"));
    await notify(serverB, "home", "trigger.customEvent", JSON.stringify("arg"));
    await waitFor("chat", (s) => s.type === "chat");
    await waitFor("announce", (s) => s.type === "announce");
    await waitFor("tv.watch", (s) => s.type === "tv.watch");
    await waitFor("tv.off", (s) => s.type === "tv.off");
    await waitFor("css.background", (s) => s.type === "css.background");
    await waitFor("trigger.customEvent", (s) => s.type === "trigger.customEvent");

    // The client's own heartbeat timer (interval from onConnect) gets cmd.onHeartbeat back.
    await waitFor("onHeartbeat", (s) => s.type === "onHeartbeat");

    // A plain EventSource on the other server joins the channel and sees raw ServiceStack frames.
    const raw = [];
    const plain = new EventSource(`${serverB}/event-stream?channels=home`);
    plain.onmessage = (e) => raw.push({ data: e.data, lastEventId: e.lastEventId });
    while (!raw.some((r) => r.data.startsWith("cmd.onConnect "))) await sleep(20);
    const plainConnect = JSON.parse(raw.find((r) => r.data.startsWith("cmd.onConnect ")).data.slice("cmd.onConnect ".length));
    log({ type: "plain.onConnect", userId: plainConnect.userId, lastEventId: raw[0].lastEventId });
    await waitFor("onJoin of the plain client", (s) => s.type === "onJoin" && s.userId === plainConnect.userId);
    await notify(serverA, "home", "cmd.chat", JSON.stringify({ text: "to both" }));
    while (!raw.some((r) => r.data.startsWith("home@cmd.chat "))) await sleep(20);
    log({ type: "plain.chat", data: raw.find((r) => r.data.startsWith("home@cmd.chat ")).data });

    // Channel management through the client's own API.
    await client.subscribeToChannels("news");
    await waitFor("onUpdate after subscribe", (s) => s.type === "onUpdate" && s.userId === connect.userId && s.channels === "home,news");
    log({ type: "channels", channels: client.channels });
    await notify(serverB, "news", "cmd.chat", JSON.stringify({ text: "news item" }));
    await waitFor("news chat", (s) => s.type === "chat" && s.channel === "news");
    const subscribers = await client.getChannelSubscribers();
    log({ type: "subscribers", userIds: subscribers.map((u) => u.userId).sort(), channels: subscribers.map((u) => u.channels.join(",")).sort() });
    await client.unsubscribeFromChannels("news");
    await waitFor("onUpdate after unsubscribe", (s) => s.type === "onUpdate" && s.userId === connect.userId && s.channels === "home");

    // The plain client leaves by unregistering through the other server (its stream then ends).
    const unregister = await fetch(`${serverA}/event-unregister?id=${plainConnect.id}`, { method: "POST" });
    log({ type: "plain.unregister", status: unregister.status });
    plain.close();
    await waitFor("onLeave of the plain client", (s) => s.type === "onLeave" && s.userId === plainConnect.userId);

    // stop() closes the stream and unregisters.
    await client.stop();
    const left = await (await fetch(`${serverB}/event-subscribers?channels=home`)).json();
    log({ type: "afterStop", remaining: left.length });
});
