// The client in Node while its hub restarts (the test stops it and starts another on the
// same port when this prints {"step": "restart"}):
//   `node_restart.mjs HUB_URL {"mode": ..., "key": API_KEY}`
// Before: joins "stay", gets a broadcast. While the hub is away: three emits wait in the
// offline queue (join q1, join q2, leave q1). After the reconnect (not recovered: another
// process) the client joins "stay" again on its own, then flushes the queue in order, so
// it gets what is published to "stay" and "q2" but not to "q1".
import { STEP_MS, api, connect, run, sleep, tell, transportOptions, until, watch } from "./common.mjs";

run("node_restart", async (url, [json]) => {
  const { mode, key } = JSON.parse(json);
  const client = connect(url, { ...transportOptions(mode), reconnectionDelay: 200, reconnectionDelayMax: 800 });
  const seen = watch(client);
  const news = [];
  client.on("news", (data) => news.push(data.n));
  try {
    await client.waitFor("connect", undefined, STEP_MS);
    const firstId = client.id;
    await client.join("stay");
    await api(url, key, "/api/publish", { event: "news", data: { n: 1 }, room: "stay" });
    await until(() => news.length === 1, "the first broadcast", STEP_MS);

    tell({ step: "restart" });
    await until(() => !client.connected, "the disconnect", STEP_MS);
    const offline = [
      client.emitWithAck("join", "q1", { timeout: 30000 }),
      client.join("q2", { timeout: 30000 }),
      client.emitWithAck("leave", "q1", { timeout: 30000 }),
    ];
    const queued = client.queued;
    await until(() => seen.connects.length === 2, "the reconnect", 30000);
    const { transport: _, ...back } = seen.connects[1];
    const acks = await Promise.all(offline);
    await until(() => seen.rejoins.length === 1, "the rejoin", STEP_MS);

    for (const [n, room] of [[2, "stay"], [3, "q1"], [4, "q2"]]) {
      await api(url, key, "/api/publish", { event: "news", data: { n }, room });
    }
    await until(() => news.length >= 3, "the broadcasts after the restart", STEP_MS);
    await sleep(200); // what should not come has had time to
    return {
      firstId,
      back,
      sameId: back.id === firstId,
      queued,
      acks,
      news,
      rooms: [...client.rooms].sort(),
      reconnects: client.reconnects,
      transport: client.transport,
      seen,
    };
  } finally {
    client.close();
  }
});
