// The client in headless Chromium, loaded from the hub's own URL by a page of another
// origin, while its hub restarts (the test stops it and starts another on the same port
// when this prints {"step": "restart"}):
//   `browser_restart.mjs HUB_URL {"cdp": DEVTOOLS_URL, "page": PAGE_URL, "key": API_KEY}`
// The page imports HUB_URL/client/hub-client.js (a cross-origin module: CORS), connects
// with the default transports (long-polling, then the upgrade to WebSocket), joins a
// room and gets a broadcast. While the hub is away three emits wait in the offline queue;
// after the reconnect the room is joined again and the queue flushed in order.
import { STEP_MS, api, run, sleep, tell, withPage } from "./common.mjs";

run("browser_restart", async (url, [json]) => {
  const { cdp, page: pageUrl, key } = JSON.parse(json);
  return withPage(cdp, pageUrl, async ({ page, wait, pageErrors, consoleErrors }) => {

    const loaded = await page.evaluate(async ({ url, STEP_MS }) => {
      const mod = await import(`${url}/client/hub-client.js`);
      const client = mod.connect(url, { reconnectionDelay: 200, reconnectionDelayMax: 800 });
      const t = (window.t = { client, news: [], connects: [], disconnects: [], reconnecting: [], rejoins: [] });
      client.on("news", (data) => t.news.push(data.n));
      client.on("connect", (info) => t.connects.push({ ...info, transport: client.transport }));
      client.on("disconnect", (reason) => t.disconnects.push(reason));
      client.on("reconnecting", (info) => t.reconnecting.push(info));
      client.on("rejoin", (info) => t.rejoins.push(info));
      await client.waitFor("connect", undefined, STEP_MS);
      const joined = await client.join("stay");
      return { version: mod.VERSION, origin: location.origin, joined, exports: Object.keys(mod).sort() };
    }, { url, STEP_MS });
    await api(url, key, "/api/publish", { event: "news", data: { n: 1 }, room: "stay" });
    await wait(() => window.t.news.length === 1);
    await wait(() => window.t.client.transport === "websocket"); // the upgrade is done
    const beforeRestart = await page.evaluate(() => ({ id: window.t.client.id, transport: window.t.client.transport }));

    tell({ step: "restart" });
    await wait(() => !window.t.client.connected);
    const queued = await page.evaluate(() => {
      const { client } = window.t;
      window.t.acks = null;
      Promise.all([
        client.emitWithAck("join", "q1", { timeout: 30000 }),
        client.join("q2", { timeout: 30000 }),
        client.emitWithAck("leave", "q1", { timeout: 30000 }),
      ]).then(
        (acks) => (window.t.acks = acks),
        (error) => (window.t.acks = String(error)),
      );
      return client.queued;
    });
    await wait(() => window.t.acks !== null && window.t.rejoins.length === 1, null, 30000);
    for (const [n, room] of [[2, "stay"], [3, "q1"], [4, "q2"]]) {
      await api(url, key, "/api/publish", { event: "news", data: { n }, room });
    }
    await wait(() => window.t.news.length >= 3);
    await sleep(200); // what should not come has had time to
    await wait(() => window.t.client.transport === "websocket"); // upgraded again
    const seen = await page.evaluate(() => {
      const { client, ...rest } = window.t;
      const out = JSON.parse(JSON.stringify({ ...rest, queuedAfter: client.queued, reconnects: client.reconnects, transport: client.transport }));
      client.close();
      return out;
    });
    return { loaded, beforeRestart, queued, pageErrors, consoleErrors, ...seen };
  });
});
