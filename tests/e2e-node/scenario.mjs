// What the node scenarios share: printing observations, running the scenario to an exit code, sleeping,
// polling a list of observations, and notifying a channel through the test app's /test/notify endpoint.
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Prints one observation as a JSON line: the xunit test reads these. */
export const report = (entry) => console.log(JSON.stringify(entry));

/** Runs the scenario; ends with a "done" line and exit code 0, or a "failed" line and exit code 1. */
export async function runScenario(body) {
    try {
        await body();
        report({ type: "done" });
        process.exit(0);
    } catch (e) {
        report({ type: "failed", message: String((e && e.stack) || e) });
        process.exit(1);
    }
}

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
