// What the node scenarios share: sleeping, polling a list of observations, and notifying a channel
// through the test app's /test/notify endpoint.
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `items` until one matches; throws naming `what` and listing `describe` of what was seen. */
export async function waitIn(items, what, match, describe, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        const found = items.find(match);
        if (found) return found;
        await sleep(20);
    }
    throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(items.map(describe))}`);
}

export async function notify(server, channel, selector, json) {
    const res = await fetch(`${server}/test/notify`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ channel, selector, json }),
    });
    if (!res.ok) throw new Error(`notify failed: ${res.status} ${await res.text()}`);
}
