// The client in Node against a standalone hub, on one transport mode:
//   `node_basics.mjs HUB_URL {"mode": "polling"|"websocket"|"upgrade", "key": API_KEY, "user": ID}`
// It connects as a user, joins a room, gets a broadcast published through the HTTP API,
// replays the room, gets user emitter events (acked, batched, one resent while its async
// handler runs: delivered once), and sees a throwing handler reported, not fatal.
import { STEP_MS, api, connect, eventually, run, sleep, stats, transportOptions, until, watch } from "./common.mjs";

run("node_basics", async (url, [json]) => {
  const { mode, key, user } = JSON.parse(json);
  const room = `room-${mode}`;
  const client = connect(url, { ...transportOptions(mode), auth: { user }, reconnection: false });
  const seen = watch(client);
  const news = [];
  const jobs = [];
  const logs = [];
  let slowCalls = 0;
  client.on("news", (...args) => news.push(args));
  client.on("job", (data, meta) => jobs.push([data, meta]));
  client.on("log", (data) => {
    logs.push(data);
    if (data === "boom") throw new Error("a handler failed");
  });
  client.on("slow_job", async () => {
    slowCalls++;
    await sleep(800); // the hub (ack timeout 0.3 s) resends meanwhile
  });
  try {
    const [connected] = await client.waitFor("connect", undefined, STEP_MS);
    const joined = await client.join(room);
    const published = await api(url, key, "/api/publish", { event: "news", data: { n: 1 }, room });
    await until(() => news.length === 1, "the broadcast", STEP_MS);
    const replayed = await client.replay(room, { since: null });
    const limited = await client.emitWithAck("replay", { room, since: null, limit: 1 }, { timeout: STEP_MS });

    const job = await api(url, key, `/api/users/${user}/emit`, { event: "job", data: { j: 1 }, ack: true });
    for (const line of ["a", "boom", "c"]) {
      await api(url, key, `/api/users/${user}/emit`, { event: "log", data: line, batch: true });
    }
    await until(() => jobs.length === 1 && logs.length === 3, "the user events", STEP_MS);

    await api(url, key, `/api/users/${user}/emit`, { event: "slow_job", data: { s: 1 }, ack: true });
    const figures = await eventually(async () => {
      const mine = (await stats(url, key)).emitter.users[user];
      return mine && mine.acked === 2 && mine.pending === 0 && mine;
    }, "the hub to count both acks");
    return {
      connected,
      transport: client.transport,
      joined,
      published,
      news,
      replayed,
      limited,
      job,
      jobs,
      logs,
      slowCalls,
      figures,
      stats: client.stats,
      seen,
    };
  } finally {
    client.close();
  }
});
