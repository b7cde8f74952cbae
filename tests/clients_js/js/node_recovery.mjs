// Connection state recovery in Node through a fault proxy that cuts the connection:
//   `node_recovery.mjs PROXY_URL {"mode", "key", "hub": HUB_URL, "control": PORT, "user"}`
// Joined and holding an offset, the client is cut; while it is away the test's broadcasts
// (straight to the hub) and an acked user event are sent. It comes back with its pid and
// offset: same sid, `recovered`, the missed broadcasts in order before "connect", the user
// event after it.
import { proxyCommand } from "../../interop/js/recovery_proxy.mjs";
import { STEP_MS, api, connect, run, transportOptions, until, watch } from "./common.mjs";

run("node_recovery", async (url, [json]) => {
  const { mode, key, hub, control, user } = JSON.parse(json);
  const client = connect(url, {
    ...transportOptions(mode),
    auth: { user },
    reconnectionDelay: 1500, // longer than the hub's ping interval + timeout (polling)
    randomizationFactor: 0,
  });
  const seen = watch(client);
  const order = [];
  const news = [];
  const jobs = [];
  client.on("news", (data, offset) => {
    news.push([data.n, offset]);
    order.push(`news ${data.n}`);
  });
  client.on("job", (data, meta) => {
    jobs.push([data, meta]);
    order.push("job");
  });
  client.on("connect", (info) => order.push(`connect ${info.recovered}`));
  try {
    await client.waitFor("connect", undefined, STEP_MS);
    const first = { id: client.id, pid: client.pid, recovered: client.recovered };
    await client.join("rec");
    await api(hub, key, "/api/publish", { event: "news", data: { n: 1 }, room: "rec" });
    await until(() => news.length === 1, "the first broadcast", STEP_MS);
    const offsetBefore = client.offset;

    const cut = await proxyCommand(control, "cut");
    await until(() => !client.connected, "the cut to be noticed", STEP_MS);
    const published = [];
    for (const n of [2, 3, 4]) {
      published.push(await api(hub, key, "/api/publish", { event: "news", data: { n }, room: "rec" }));
    }
    const job = await api(hub, key, `/api/users/${user}/emit`, { event: "job", data: { j: 1 }, ack: true });
    await until(() => seen.connects.length === 2, "the reconnect", 20000);
    const { transport: _, ...back } = seen.connects[1];
    await until(() => news.length === 4 && jobs.length === 1, "the missed events", STEP_MS);
    return {
      first,
      back,
      id: client.id,
      pid: client.pid,
      offsetBefore,
      offsetAfter: client.offset,
      cut,
      published,
      job,
      news,
      jobs,
      order,
      transport: client.transport,
      seen,
    };
  } finally {
    client.close();
  }
});
