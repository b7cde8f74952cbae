// Connection state recovery in headless Chromium through a fault proxy:
//   `browser_recovery.mjs PROXY_URL {"cdp", "page", "key", "hub": HUB_URL, "control", "user"}`
// The page (another origin) imports HUB_URL/client/hub-client.js and connects through the
// proxy as a user, with the default transports. It gets a batch of user events (unpacked,
// in order), joins a room and gets a broadcast. The proxy cuts it; while it is away the
// test publishes to the room and sends an acked user event. It comes back recovered: same
// sid, the missed broadcasts before "connect", then the user event.
import { proxyCommand } from "../../interop/js/recovery_proxy.mjs";
import { STEP_MS, api, run, withPage } from "./common.mjs";

run("browser_recovery", async (url, [json]) => {
  const { cdp, page: pageUrl, key, hub, control, user } = JSON.parse(json);
  return withPage(cdp, pageUrl, async ({ page, wait, pageErrors, consoleErrors }) => {

    const first = await page.evaluate(async ({ url, hub, user, STEP_MS }) => {
      const { connect } = await import(`${hub}/client/hub-client.js`);
      const client = connect(url, { auth: { user }, reconnectionDelay: 1000, randomizationFactor: 0 });
      const t = (window.t = { client, order: [], news: [], logs: [], jobs: [], errors: [] });
      client.on("news", (data, offset) => {
        t.news.push([data.n, offset]);
        t.order.push(`news ${data.n}`);
      });
      client.on("log", (data, meta) => t.logs.push([data, meta.id]));
      client.on("job", (data, meta) => {
        t.jobs.push([data, meta]);
        t.order.push("job");
      });
      client.on("connect", (info) => t.order.push(`connect ${info.recovered}`));
      client.on("error", (error) => t.errors.push(error.message));
      await client.waitFor("connect", undefined, STEP_MS);
      await client.join("rec");
      return { id: client.id, pid: client.pid, recovered: client.recovered };
    }, { url, hub, user, STEP_MS });

    for (const line of ["one", "two", "three"]) {
      await api(hub, key, `/api/users/${user}/emit`, { event: "log", data: line, batch: true });
    }
    await api(hub, key, "/api/publish", { event: "news", data: { n: 1 }, room: "rec" });
    await wait(() => window.t.news.length === 1 && window.t.logs.length === 3);
    await wait(() => window.t.client.transport === "websocket"); // the upgrade is done
    const offsetBefore = await page.evaluate(() => window.t.client.offset);

    const cut = await proxyCommand(control, "cut");
    await wait(() => !window.t.client.connected);
    const published = [];
    for (const n of [2, 3, 4]) {
      published.push(await api(hub, key, "/api/publish", { event: "news", data: { n }, room: "rec" }));
    }
    const job = await api(hub, key, `/api/users/${user}/emit`, { event: "job", data: { j: 1 }, ack: true });
    await wait(() => window.t.client.connected && window.t.jobs.length === 1 && window.t.news.length === 4, null, 20000);
    const seen = await page.evaluate(() => {
      const { client, ...rest } = window.t;
      const out = JSON.parse(JSON.stringify({ ...rest, id: client.id, pid: client.pid, recovered: client.recovered, offset: client.offset }));
      client.close();
      return out;
    });
    return { first, offsetBefore, cut, published, job, pageErrors, consoleErrors, ...seen };
  });
});
