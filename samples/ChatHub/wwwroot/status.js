// ChatHub status page: asks /status.json once a second and shows one card per app server, updated in place (a card
// keeps its element while its server reports, so nothing flickers and a test's locator stays valid). A failed request
// is shown, never thrown: the last answer stays on screen, dimmed, and polling goes on.
const POLL_EVERY_MS = 1000;
const GIVE_UP_AFTER_MS = 3000;
// A server whose last report is this far behind the freshest one has missed two reports: it may have stopped, and
// the answering server drops it a little later.
const STALE_AFTER_MS = 3000;
const WINDOW_SECONDS = 60;
const SVG = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);
const cards = new Map(); // serverId → its .server-card
let lastAnswerAt = null;

const count = (n) => (Number.isFinite(n) ? n : 0);
// Oldest first, at most the last WINDOW_SECONDS; anything not a number counts as 0 so the time axis stays aligned.
const seriesOf = (values) => (Array.isArray(values) ? values.slice(-WINDOW_SECONDS).map(count) : []);
const latest = (values) => (values.length ? values[values.length - 1] : 0);
const formatted = (n) => Math.round(n).toLocaleString("en");

// ---- polling ------------------------------------------------------------------------------------

async function poll() {
    try {
        const status = await readStatus();
        lastAnswerAt = Date.now();
        render(status);
    } catch (error) {
        showFailure(error.message);
    } finally {
        // Scheduled after the answer, not on an interval: a slow server never gets a second request on top of the first.
        setTimeout(poll, POLL_EVERY_MS);
    }
}

// /status.json's body, or an Error whose message says in a few words what went wrong.
async function readStatus() {
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), GIVE_UP_AFTER_MS);
    let res;
    try {
        res = await fetch("status.json", { cache: "no-store", signal: abort.signal });
    } catch (error) {
        throw new Error(error.name === "AbortError" ? `no answer within ${GIVE_UP_AFTER_MS / 1000} s` : "the server is unreachable");
    } finally {
        clearTimeout(timeout);
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}${res.statusText ? " " + res.statusText : ""}`);
    const status = await res.json().catch(() => { throw new Error("the answer is not JSON"); });
    if (!Array.isArray(status?.servers)) throw new Error("the answer has no servers list");
    return status;
}

function setPollState(kind, text) {
    $("poll-state").className = `status ${kind}`;
    $("poll-state").textContent = text;
}

function showFailure(reason) {
    setPollState("offline", "status unavailable");
    const since = lastAnswerAt === null
        ? "Nothing received yet"
        : `Showing the answer from ${new Date(lastAnswerAt).toLocaleTimeString()} (${Math.round((Date.now() - lastAnswerAt) / 1000)} s ago)`;
    $("poll-error").textContent = `Cannot read /status.json: ${reason}. ${since}; retrying every second.`;
    $("poll-error").hidden = false;
    $("servers").classList.add("outdated");
}

// ---- rendering ------------------------------------------------------------------------------------

function render(status) {
    const servers = status.servers.filter((s) => typeof s?.serverId === "string")
        .sort((a, b) => String(a.url).localeCompare(String(b.url), "en", { numeric: true }));
    const freshest = Math.max(...servers.map((s) => count(s.updatedAt)));
    const backend = status.backend === "redis" ? "Redis" : "memory";

    $("poll-error").hidden = true;
    $("servers").classList.remove("outdated");
    setPollState("online", `live · ${backend}`);
    $("no-servers").hidden = servers.length > 0;
    // Sent by the server when it could not read the other instances' reports: it then shows only itself.
    $("redis-error").hidden = typeof status.redisError !== "string";
    $("redis-error").textContent = `This instance cannot read Redis (${status.redisError}): other instances are not shown.`;

    const seen = new Set();
    servers.forEach((server, index) => {
        seen.add(server.serverId);
        let card = cards.get(server.serverId);
        if (!card) {
            card = $("server-card").content.firstElementChild.cloneNode(true);
            card.dataset.serverId = server.serverId;
            cards.set(server.serverId, card);
        }
        // Moved only when out of place: moving an element drops the focus from a link inside it.
        const container = $("servers");
        if (container.children[index] !== card) container.insertBefore(card, container.children[index] ?? null);
        fillCard(card, server, server.serverId === status.self, freshest);
    });
    for (const [serverId, card] of cards) {
        if (!seen.has(serverId)) { card.remove(); cards.delete(serverId); }
    }

    const subscriptions = servers.reduce((sum, s) => sum + count(s.subscriptions?.hub) + count(s.subscriptions?.sse), 0);
    const deliveries = servers.reduce((sum, s) => sum + latest(seriesOf(s.deliveriesPerSecond)), 0);
    $("summary").textContent = `${servers.length} app server${servers.length === 1 ? "" : "s"} on the ${backend} back-end · `
        + `${formatted(subscriptions)} subscription${subscriptions === 1 ? "" : "s"} · ${formatted(deliveries)} deliveries/s · updated ${new Date().toLocaleTimeString()}`;
}

function fillCard(card, server, isSelf, freshest) {
    const part = (selector) => card.querySelector(selector);
    card.classList.toggle("self", isSelf);
    part(".self-badge").hidden = !isSelf;

    const link = part(".server-url");
    let url = null;
    try { url = new URL(server.url); } catch { /* shown as text below */ }
    if (url && (url.protocol === "http:" || url.protocol === "https:")) {
        link.href = url.href;
        link.textContent = url.host;
    } else {
        link.removeAttribute("href");
        link.textContent = String(server.url ?? "(no address)");
    }
    part(".server-id").textContent = server.serverId;

    const behind = freshest - count(server.updatedAt);
    const stale = behind > STALE_AFTER_MS;
    card.classList.toggle("stale", stale);
    part(".stale-badge").hidden = !stale;
    part(".stale-badge").textContent = `silent for ${Math.round(behind / 1000)} s`;

    const hub = count(server.subscriptions?.hub);
    const sse = count(server.subscriptions?.sse);
    const subscriptions = part(".subscriptions");
    Object.assign(subscriptions.dataset, { hub, sse, total: hub + sse });
    subscriptions.replaceChildren(big(formatted(hub + sse)), " ", small(`${formatted(hub)} hub · ${formatted(sse)} SSE`));

    const deliveries = seriesOf(server.deliveriesPerSecond);
    const notifies = seriesOf(server.notifiesPerSecond);
    const now = part(".deliveries-now");
    now.dataset.value = latest(deliveries);
    now.replaceChildren(big(formatted(latest(deliveries))), " ", small(`now · ${formatted(latest(notifies))} notifies/s`));

    fillBackend(part(".redis-state"), server.redis);

    const history = seriesOf(server.subscriptionsHistory);
    drawChart(part(".deliveries-chart"), [
        { values: notifies, kind: "notifies" },
        { values: deliveries, kind: "deliveries", area: true },
    ], `${formatted(latest(deliveries))} deliveries/s and ${formatted(latest(notifies))} notifies/s now`);
    drawChart(part(".subscriptions-chart"), [{ values: history, kind: "history", area: true }],
        `${formatted(latest(history))} subscriptions now`);
}

function fillBackend(element, redis) {
    if (!redis) {
        element.dataset.state = "memory";
        element.replaceChildren(big("memory back-end"), " ", small("this server only"));
        return;
    }
    const command = redis.command === "up";
    const pubsub = redis.pubsub === "up";
    const state = command && pubsub ? "up" : !command && !pubsub ? "down" : "degraded";
    element.dataset.state = state;
    const buffered = count(redis.bufferedNotifies);
    // No-break spaces: a narrow card wraps between the parts, not inside one.
    const detail = [`commands ${command ? "up" : "down"}`, `pub/sub ${pubsub ? "up" : "down"}`]
        .concat(buffered > 0 ? [`${formatted(buffered)} notifies buffered`] : [])
        .map((part) => part.replaceAll(" ", "\u00a0")).join(" · ");
    element.replaceChildren(big({ up: "Redis up", down: "Redis down", degraded: "Redis partly down" }[state]), " ", small(detail));
}

function big(text) {
    const b = document.createElement("b");
    b.textContent = text;
    return b;
}

function small(text) {
    const s = document.createElement("small");
    s.textContent = text;
    return s;
}

// ---- charts ---------------------------------------------------------------------------------------

// The next of 1, 2, 5, 10, 20, 50… at or above n: a scale whose top reads as a round number.
function roundUp(n) {
    if (n <= 1) return 1;
    const power = 10 ** Math.floor(Math.log10(n));
    return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= n);
}

function svgElement(name, attributes) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
    return element;
}

// Draws the series in the svg's own viewBox, stretched to the card's width (strokes do not stretch: see status.css).
// The newest second is at the right edge and each second is one step left, so a short history starts part-way across.
function drawChart(svg, series, description) {
    const [, , width, height] = svg.getAttribute("viewBox").split(" ").map(Number);
    const top = roundUp(Math.max(1, ...series.flatMap((s) => s.values)));
    const inset = 2; // so a line at 0 or at the top is not cut in half by the edge
    const x = (i, n) => width - (n - 1 - i) * (width / (WINDOW_SECONDS - 1));
    const y = (v) => height - inset - (v / top) * (height - 2 * inset);

    const parts = [svgElement("title", {})];
    parts[0].textContent = description;
    for (const level of [top, top / 2]) {
        parts.push(svgElement("line", { class: "grid", x1: 0, x2: width, y1: y(level), y2: y(level) }));
    }
    parts.push(svgElement("line", { class: "axis", x1: 0, x2: width, y1: y(0), y2: y(0) }));
    // Areas first, then lines in the order given (the last on top), so no fill hides a line.
    const lines = [];
    for (const { values, kind, area } of series) {
        // One second of history is drawn as a short level line rather than a point nobody can see.
        const drawn = values.length === 1 ? [values[0], values[0]] : values;
        if (drawn.length === 0) continue;
        const points = drawn.map((v, i) => `${x(i, drawn.length).toFixed(1)},${y(v).toFixed(1)}`);
        if (area) {
            parts.push(svgElement("path", { class: `area ${kind}`, d: `M${x(0, drawn.length).toFixed(1)},${y(0)}L${points.join("L")}L${width},${y(0)}Z` }));
        }
        lines.push(svgElement("polyline", { class: `line ${kind}`, points: points.join(" ") }));
    }
    parts.push(...lines);
    svg.replaceChildren(...parts);
    svg.setAttribute("aria-label", description);
    svg.parentElement.querySelector(".y-max").textContent = formatted(top);
}

setPollState("connecting", "loading…");
poll();
