// When recovery cannot happen, the standalone hub's replay API tells the client what it
// missed, or that it cannot know (the gap). Runs against `python -m hub` with recovery on.
//   `recovery_gap.mjs URL CASE`
//   window   (--recovery 1): recovered within the window; past it a fresh session, and
//            replay / join(room, since) return exactly the missed events, complete
//   history  (--history-events 20): 40 events while away push A's offset out of the
//            history: not recovered, replay is incomplete (the gap) and holds the newest
//   age      (--history-age 1): the events after A's offset aged out: not recovered,
//            replay is incomplete
// Client A (reconnection off) is cut with engine.close() and reconnected by hand;
// client B publishes "news" {n} to the room "feed".
import { ack, connect, connected, outcome, run, sleep, waitFor } from "./lib.mjs";

const QUIET_MS = 250;

async function setup(url) {
  const a = await connected(connect(url, "/"));
  const b = await connected(connect(url, "/"));
  const news = [];
  a.on("news", (...args) => {
    const last = args[args.length - 1];
    news.push({ n: args[0]?.n ?? null, offset: args.length > 1 && typeof last === "string" ? last : null, argc: args.length });
  });
  const joined = await ack(a, "join", "feed");
  const publish = async (n) => (await ack(b, "publish", { room: "feed", event: "news", data: { n } }))[0];
  const got = (n) => waitFor(() => news.some((e) => e.n === n), `A to get news ${n}`);
  return { a, b, news, joined, publish, got, first: { id: a.id } };
}

async function cut(a) {
  a.io.engine.close();
  await waitFor(() => !a.connected, "A to see its disconnect");
}

async function reconnect(a) {
  a.connect();
  const result = await outcome(a);
  return { ...result, recovered: a.recovered === true };
}

const replay = async (a, since, limit) =>
  (await ack(a, "replay", limit === undefined ? { room: "feed", since } : { room: "feed", since, limit }))[0];

const cases = {
  async window(url) {
    const { a, news, joined, publish, got, first } = await setup(url);
    const published = [];
    for (let n = 1; n <= 3; n += 1) published.push(await publish(n));
    await got(3);
    await cut(a);
    published.push(await publish(4));
    const quick = await reconnect(a);
    await got(4);
    const since = news.find((e) => e.n === 4).offset;
    await cut(a);
    for (let n = 5; n <= 7; n += 1) published.push(await publish(n));
    await sleep(1600); // past the 1 s window
    const late = await reconnect(a);
    await sleep(QUIET_MS);
    const beforeReplay = news.length;
    const replayed = await replay(a, since);
    const joinSince = await ack(a, "join", "feed", since);
    await got(7);
    published.push(await publish(8));
    await got(8);
    await sleep(QUIET_MS);
    return { first, joined, published, quick, since, late, beforeReplay, replayed, joinSince, news };
  },

  async history(url) {
    const { a, news, joined, publish, got, first } = await setup(url);
    const published = [];
    for (let n = 1; n <= 3; n += 1) published.push(await publish(n));
    await got(3);
    const since = news[news.length - 1].offset;
    await cut(a);
    for (let n = 4; n <= 43; n += 1) published.push(await publish(n));
    const again = await reconnect(a);
    await sleep(QUIET_MS);
    const beforeReplay = news.length;
    const replayed = await replay(a, since);
    const oldest = await replay(a, null, 5);
    const latest = await replay(a, published[published.length - 1].offset);
    const unknown = await replay(a, "no-such-offset");
    const joinSince = await ack(a, "join", "feed", since);
    await sleep(QUIET_MS);
    return { first, joined, published, since, again, beforeReplay, replayed, oldest, latest, unknown, joinSince, news };
  },

  async age(url) {
    const { a, news, joined, publish, got, first } = await setup(url);
    const published = [await publish(1)];
    await got(1);
    const since = news[0].offset;
    await cut(a);
    published.push(await publish(2));
    await sleep(1500); // 1 and 2 are older than history_age now
    published.push(await publish(3));
    const again = await reconnect(a);
    await sleep(QUIET_MS);
    const beforeReplay = news.length;
    const replayed = await replay(a, since);
    return { first, joined, published, since, again, beforeReplay, replayed, news };
  },
};

run("recovery_gap", async (url, [which]) => {
  if (!(which in cases)) throw new Error(`unknown case ${which}`);
  return { case: which, ...(await cases[which](url)) };
});
