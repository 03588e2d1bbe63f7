// ChatHub page: one UI, two transports. SignalR (default) receives the single "event" client method;
// ?transport=sse uses ServiceStack's own ServerEventsClient against the SSE bridge. Both feed the same
// handlers, so users of either kind chat together and see each other in the user list.
import { ServerEventsClient } from "./lib/servicestack-client.mjs";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const channels = [...new Set((params.get("channels") || "home").split(",").map((c) => c.trim()).filter(Boolean))];
const transport = params.get("transport") === "sse" ? "sse" : "signalr";
// lastEventId: the id of the last event received over SignalR, sent back on reconnect to get what was missed.
const state = { me: null, channel: channels[0], users: [], lastEventId: null };

function splitFirst(text, separator) {
    const at = text.indexOf(separator);
    return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
}

function setStatus(kind, text) {
    const status = $("status");
    status.className = `status ${kind}`;
    status.textContent = `${text} · ${transport === "sse" ? "SSE" : "SignalR"}`;
}

// ---- rendering ------------------------------------------------------------------------------------

function renderChannels() {
    const nav = $("channels");
    nav.replaceChildren(...channels.map((channel) => {
        const link = document.createElement("a");
        link.href = "#";
        link.textContent = channel;
        link.className = channel === state.channel ? "active" : "";
        link.addEventListener("click", (e) => { e.preventDefault(); state.channel = channel; renderChannels(); refreshUsers(); });
        return link;
    }));
    $("channel-name").textContent = state.channel;
}

function avatarOf(userId) {
    return state.users.find((u) => u.userId === userId)?.profileUrl ?? "";
}

function addMessage(msg, channel) {
    if (!msg.private && channel && !channels.includes(channel)) return;
    const item = document.createElement("li");
    item.className = msg.private ? "private" : "";
    item.dataset.id = msg.id;
    const img = document.createElement("img");
    img.alt = "";
    img.src = avatarOf(msg.fromUserId) || "data:,";
    const body = document.createElement("div");
    const meta = document.createElement("div");
    meta.className = "meta";
    const name = document.createElement("b");
    name.textContent = msg.fromName;
    const time = document.createElement("time");
    time.textContent = new Date().toLocaleTimeString();
    meta.append(name, time, document.createTextNode(msg.private ? " · private" : channel && channels.length > 1 ? ` · #${channel}` : ""));
    const text = document.createElement("div");
    text.className = "text";
    text.innerHTML = msg.message; // HTML-encoded by the server, as in ServiceStack Chat
    body.append(meta, text);
    item.append(img, body);
    $("messages").append(item);
    $("chat").scrollTop = $("chat").scrollHeight;
}

function addNote(text) {
    const item = document.createElement("li");
    item.className = "system";
    item.textContent = text;
    $("messages").append(item);
    $("chat").scrollTop = $("chat").scrollHeight;
}

let refreshRetry = null;
async function refreshUsers() {
    const res = await fetch(`/event-subscribers?channels=${encodeURIComponent(state.channel)}`);
    if (res.status === 429) {
        // Listing is rate-limited per address: one retry when the server says, however many events asked meanwhile.
        refreshRetry ??= setTimeout(() => { refreshRetry = null; refreshUsers(); }, 1000 * (Number(res.headers.get("Retry-After")) || 1));
        return;
    }
    if (!res.ok) return;
    const users = await res.json();
    // One entry per user, however many tabs or transports they use.
    state.users = [...new Map(users.map((u) => [u.userId, u])).values()];
    $("users").replaceChildren(...state.users.map((u) => {
        const item = document.createElement("li");
        item.className = state.me && u.userId === state.me.userId ? "me" : "";
        item.dataset.userId = u.userId;
        const img = document.createElement("img");
        img.alt = "";
        img.src = u.profileUrl;
        const name = document.createElement("span");
        name.textContent = u.displayName;
        item.append(img, name);
        item.addEventListener("click", () => { $("message").value = `@${u.displayName.replace(/\s+/g, "")} `; $("message").focus(); });
        return item;
    }));
}

async function loadHistory() {
    const res = await fetch(`/chathistory?channels=${encodeURIComponent(channels.join(","))}&take=100`);
    if (!res.ok) return;
    const { results } = await res.json();
    $("messages").replaceChildren();
    results.forEach((m) => addMessage(m, m.channel));
}

// ---- what the server sends --------------------------------------------------------------------------

const handlers = {
    onConnect(info) {
        const resuming = state.me !== null && state.lastEventId !== null;
        state.me = info;
        setStatus("online", "connected");
        $("welcome").textContent = `Welcome, ${info.displayName}. You are in ${channels.map((c) => "#" + c).join(", ")}.`;
        // Resuming, the server replays what was missed (or sends onReset): the page keeps what it shows.
        if (resuming) refreshUsers(); else loadHistory().then(refreshUsers);
    },
    onReset() { addNote("missed too much while away: reloading"); loadHistory().then(refreshUsers); },
    onJoin(info) { if (info.userId !== state.me?.userId) addNote(`${info.displayName} joined #${info.channel}`); refreshUsers(); },
    onLeave(info) { addNote(`${info.displayName} left #${info.channel}`); refreshUsers(); },
    onUpdate() { refreshUsers(); },
    onHeartbeat() { },
    chat(msg, channel) { addMessage(msg, msg.channel || channel); },
    announce(text) {
        const banner = $("announce");
        banner.textContent = text;
        banner.hidden = false;
        setTimeout(() => { banner.hidden = true; }, 8000);
    },
};

const tv = {
    watch(url) {
        const youtube = /(?:youtu\.be\/|[?&]v=)([\w-]{6,})/.exec(url || "");
        const frame = document.createElement("iframe");
        frame.allow = "autoplay; encrypted-media";
        frame.src = youtube ? `https://www.youtube.com/embed/${youtube[1]}?autoplay=1` : url;
        $("tv").replaceChildren(frame);
        $("tv").hidden = false;
    },
    off() { $("tv").replaceChildren(); $("tv").hidden = true; },
};

function applyCss(property, value, cssSelector) {
    const targets = cssSelector ? document.querySelectorAll(cssSelector) : [document.body];
    targets.forEach((el) => el.style.setProperty(property, value));
}

// SignalR carries every event as {eventId, channel, selector, json}; route it as ServiceStack's clients do.
function dispatch(selector, channel, body) {
    const [op, target] = splitFirst(selector, ".");
    const [name, cssSelector] = splitFirst(target, "$");
    switch (op) {
        case "cmd": handlers[name]?.(name.startsWith("on") ? { ...body, channel } : body, channel); break;
        case "css": applyCss(name, body, cssSelector); break;
        case "tv": tv[name]?.(body); break;
        case "trigger": document.dispatchEvent(new CustomEvent(name, { detail: body })); break;
        case "document": document[name] = body; break;
    }
}

document.addEventListener("customEvent", (e) => addNote(`customEvent: ${e.detail ?? ""}`));

function hubUrl() {
    const resume = state.lastEventId === null ? "" : `&lastEventId=${state.lastEventId}`;
    return `${location.origin}/hub?channels=${encodeURIComponent(channels.join(","))}${resume}`;
}

async function startSignalR() {
    const hub = new signalR.HubConnectionBuilder()
        .withUrl(hubUrl())
        .withAutomaticReconnect({ nextRetryDelayInMilliseconds: (ctx) => Math.min(10000, 500 * 2 ** ctx.previousRetryCount) })
        .build();
    hub.on("event", (e) => {
        state.lastEventId = e.eventId;
        dispatch(e.selector, e.channel, e.json ? JSON.parse(e.json) : null);
    });
    // Reconnect with the last event id (any instance will do): the missed events come first, then live ones.
    hub.onreconnecting(() => { hub.baseUrl = hubUrl(); setStatus("connecting", "reconnecting…"); });
    hub.onreconnected(() => setStatus("online", "connected"));
    hub.onclose(() => { setStatus("offline", "offline, retrying…"); setTimeout(() => startSignalR(), 3000); });
    try {
        await hub.start();
    } catch {
        setStatus("offline", "offline, retrying…");
        setTimeout(() => startSignalR(), 3000);
    }
}

function startSse() {
    const client = new ServerEventsClient(location.origin, channels, {
        handlers: {
            onConnect: (info) => handlers.onConnect(info),
            onJoin: (info) => handlers.onJoin(info),
            onLeave: (info) => handlers.onLeave(info),
            onUpdate: (info) => handlers.onUpdate(info),
            chat: (msg, e) => handlers.chat(msg, e.channel),
            announce: (text) => handlers.announce(text),
        },
        receivers: { tv, document },
        onException: () => setStatus("connecting", "reconnecting…"),
        onReconnect: () => setStatus("connecting", "reconnecting…"),
    });
    client.addListener("customEvent", (e) => document.dispatchEvent(new CustomEvent("customEvent", { detail: e.body })));
    client.start();
}

// ---- what the user sends ------------------------------------------------------------------------------

async function post(path, fields) {
    const res = await fetch(path, { method: "POST", body: new URLSearchParams(fields) });
    if (!res.ok) {
        const error = await res.json().catch(() => null);
        addNote(error?.responseStatus?.message ?? `${res.status} ${res.statusText}`);
    }
}

$("compose").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("message");
    const text = input.value.trim();
    if (!text || !state.me) return;
    input.value = "";
    const channel = encodeURIComponent(state.channel);
    if (text.startsWith("/")) {
        const [selector, message] = splitFirst(text.slice(1), " ");
        await post(`/channels/${channel}/raw`, { from: state.me.id, selector, message });
    } else if (text.startsWith("@")) {
        const [name, message] = splitFirst(text.slice(1), " ");
        const to = name.toLowerCase() === "me"
            ? state.me
            : state.users.find((u) => u.displayName.replace(/\s+/g, "").toLowerCase() === name.toLowerCase());
        if (!to) { addNote(`No user called ${name} in #${state.channel}.`); return; }
        await post(`/channels/${channel}/chat`, { from: state.me.id, toUserId: to.userId, message, selector: "cmd.chat" });
    } else {
        await post(`/channels/${channel}/chat`, { from: state.me.id, message: text, selector: "cmd.chat" });
    }
});

$("add-channel").addEventListener("submit", (e) => {
    e.preventDefault();
    const name = $("new-channel").value.trim();
    if (!name) return;
    const next = new URLSearchParams(location.search);
    next.set("channels", [...channels.filter((c) => c !== name), name].join(","));
    location.search = next.toString();
});

fetch("/chat-settings").then((r) => r.json()).then((s) => {
    if (s.background) document.body.style.backgroundImage = `url(${s.background})`;
});
renderChannels();
setStatus("connecting", "connecting…");
if (transport === "sse") startSse(); else startSignalR();
