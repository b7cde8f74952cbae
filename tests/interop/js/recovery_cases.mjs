// Connection state recovery against tests/recovery/recovery_app.py, one case per run:
//   `recovery_cases.mjs URL CASE`
// Client A is the one cut off and reconnected by hand (reconnection off, so every step
// is explicit; `bounce` lets it reconnect by itself); client B broadcasts with the app's
// `emit` event while A is away. Each case returns what A saw.
//   state        transport close, events to A's rooms meanwhile: recovered, same sid,
//                rooms and session.data kept, the missed event before "connect"
//   voluntary    A.disconnect() (client namespace disconnect): not recoverable
//   kick         the server disconnects A (server namespace disconnect): not recoverable
//   off          namespace /off (recovery=0): no pid, no offsets, nothing recovered
//   short        namespace /short (recovery=1.0): recovered at once, not after 1.5 s
//   tiny         namespace /tiny (history_events=20): 10 missed events recovered, 30 not
//   direct       A got a session.emit (string last argument) before the cut
//   noevent      A never got a stored event (so it has no offset) before the cut
//   pingtimeout  A stops answering pings (needs --ping-interval/--ping-timeout 0.3)
//   bounce       the hub shuts down (1001) and serves again while a stream runs
import {
  ack,
  connect,
  connected,
  outcome,
  run,
  sleep,
  waitFor,
} from "./lib.mjs";

const QUIET_MS = 250;

/** Records A's "tick" events as {n, offset, argc} and its lifecycle. */
function observe(socket) {
  const seen = { ticks: [], lifecycle: [] };
  socket.on("tick", (...args) => {
    const last = args[args.length - 1];
    seen.ticks.push({
      n: args[0]?.n ?? null,
      offset: args.length > 1 && typeof last === "string" ? last : null,
      argc: args.length,
      connected: socket.connected,
    });
  });
  socket.on("connect", () =>
    seen.lifecycle.push({ event: "connect", id: socket.id, recovered: socket.recovered === true, ticks: seen.ticks.length }),
  );
  socket.on("disconnect", (reason) =>
    seen.lifecycle.push({ event: "disconnect", reason, ticks: seen.ticks.length }),
  );
  return seen;
}

const ns = (seen) => seen.ticks.map((t) => t.n);

async function setup(url, nsp, rooms, extra = {}) {
  const a = await connected(connect(url, nsp, extra));
  const b = await connected(connect(url, nsp));
  const seen = observe(a);
  for (const room of rooms) await ack(a, "join", room);
  const emit = (room, n) => ack(b, "emit", { room, event: "tick", args: [{ n }] });
  const got = (n) => waitFor(() => ns(seen).includes(n), `A to get tick ${n}`);
  const first = { id: a.id, recovered: a.recovered === true, pid: a._pid ?? null };
  return { a, b, seen, emit, got, first };
}

async function cut(a) {
  a.io.engine.close();
  await waitFor(() => !a.connected, "A to see its disconnect");
}

async function reconnect(a) {
  a.connect();
  const result = await outcome(a);
  return { ...result, recovered: a.recovered === true, pid: a._pid ?? null };
}

/** The app's on_connect/on_disconnect record for these sids. */
async function serverLog(b, ...sids) {
  const [log] = await ack(b, "log");
  return log.filter((entry) => sids.includes(entry.sid));
}

const cases = {
  async state(url) {
    const { a, b, seen, emit, got, first } = await setup(url, "/", ["s1", "s2"]);
    const remembered = await ack(a, "remember", "kept");
    await emit("s1", 1);
    await got(1);
    const before = (await ack(a, "whoami"))[0];
    await cut(a);
    const missed = await emit("s2", 2);
    const again = await reconnect(a);
    await got(2);
    const after = (await ack(a, "whoami"))[0];
    const live = await emit("s1", 3);
    await got(3);
    await sleep(QUIET_MS);
    const log = await serverLog(b, first.id, again.id);
    return { first, remembered, before, missed, again, after, live, ticks: seen.ticks, lifecycle: seen.lifecycle, log };
  },

  async voluntary(url) {
    const { a, b, seen, emit, got, first } = await setup(url, "/", ["v"]);
    await emit("v", 1);
    await got(1);
    a.disconnect();
    await waitFor(() => !a.connected, "A to disconnect");
    await sleep(100); // the server has processed the DISCONNECT
    const missed = await emit("v", 2);
    const again = await reconnect(a);
    await sleep(QUIET_MS);
    const log = await serverLog(b, first.id, again.id);
    return { first, missed, again, ticks: seen.ticks, lifecycle: seen.lifecycle, log };
  },

  async kick(url) {
    const { a, b, seen, emit, got, first } = await setup(url, "/", ["k"]);
    await emit("k", 1);
    await got(1);
    a.emit("kick");
    await waitFor(() => !a.connected, "A to be kicked");
    const missed = await emit("k", 2);
    const again = await reconnect(a);
    await sleep(QUIET_MS);
    const log = await serverLog(b, first.id, again.id);
    return { first, missed, again, ticks: seen.ticks, lifecycle: seen.lifecycle, log };
  },

  async off(url) {
    const { a, b, seen, emit, got, first } = await setup(url, "/off", ["o"]);
    await emit("o", 1);
    await got(1);
    await cut(a);
    const missed = await emit("o", 2);
    const again = await reconnect(a);
    await sleep(QUIET_MS);
    const log = await serverLog(b, first.id, again.id);
    return { first, missed, again, ticks: seen.ticks, lifecycle: seen.lifecycle, log };
  },

  async short(url) {
    const { a, seen, emit, got, first } = await setup(url, "/short", ["w"]);
    await emit("w", 1);
    await got(1);
    await cut(a);
    await emit("w", 2);
    const quick = await reconnect(a);
    await got(2);
    await cut(a);
    const missed = await emit("w", 3);
    await sleep(1500); // past the 1 s window
    const late = await reconnect(a);
    await sleep(QUIET_MS);
    return { first, quick, missed, late, ticks: seen.ticks, lifecycle: seen.lifecycle };
  },

  async tiny(url) {
    const { a, seen, emit, got, first } = await setup(url, "/tiny", ["t"]);
    await emit("t", 0);
    await got(0);
    await cut(a);
    for (let n = 1; n <= 10; n += 1) await emit("t", n);
    const within = await reconnect(a);
    await got(10);
    await cut(a);
    for (let n = 11; n <= 40; n += 1) await emit("t", n);
    const beyond = await reconnect(a);
    await sleep(QUIET_MS);
    return { first, within, beyond, ticks: seen.ticks, lifecycle: seen.lifecycle };
  },

  async direct(url) {
    const { a, b, seen, emit, got, first } = await setup(url, "/", ["d"]);
    const notes = [];
    a.on("note", (...args) => notes.push(args));
    await emit("d", 1);
    await got(1);
    await ack(a, "note", "hello");
    await waitFor(() => notes.length === 1, "A to get its note");
    const lastOffset = a._lastOffset ?? null;
    await cut(a);
    const missed = await emit("d", 2);
    const again = await reconnect(a);
    await sleep(QUIET_MS);
    const log = await serverLog(b, first.id, again.id);
    return { first, notes, lastOffset, missed, again, ticks: seen.ticks, lifecycle: seen.lifecycle, log };
  },

  async noevent(url) {
    const { a, b, seen, emit, got, first } = await setup(url, "/", ["ne"]);
    const lastOffset = a._lastOffset ?? null;
    await cut(a);
    const missed = await emit("ne", 1);
    const again = await reconnect(a);
    await sleep(QUIET_MS);
    const whoami = (await ack(a, "whoami"))[0];
    const log = await serverLog(b, first.id, again.id);
    return { first, lastOffset, missed, again, whoami, ticks: seen.ticks, lifecycle: seen.lifecycle, log };
  },

  async pingtimeout(url) {
    const { a, b, seen, emit, got, first } = await setup(url, "/", ["p"]);
    await emit("p", 1);
    await got(1);
    const engine = a.io.engine;
    const send = engine._sendPacket.bind(engine);
    engine._sendPacket = (type, ...rest) => (type === "pong" ? undefined : send(type, ...rest));
    await waitFor(() => !a.connected, "the server to drop A for its unanswered pings", 5000);
    const missed = await emit("p", 2);
    const again = await reconnect(a);
    await got(2);
    await sleep(QUIET_MS);
    const log = await serverLog(b, first.id, again.id);
    return { first, missed, again, ticks: seen.ticks, lifecycle: seen.lifecycle, log };
  },

  async bounce(url) {
    const options = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 100, randomizationFactor: 0 };
    const a = await connected(connect(url, "/", options));
    const seen = observe(a);
    const first = { id: a.id, recovered: a.recovered === true };
    await ack(a, "join", "bounce");
    const count = 150;
    await ack(a, "stream", { room: "bounce", count, interval: 0.01 });
    await waitFor(() => seen.ticks.length >= 30, "30 events before the bounce");
    const bounced = await ack(a, "bounce", { grace: 0.5, pause: 0.3 });
    await waitFor(() => seen.lifecycle.some((e) => e.event === "disconnect"), "the shutdown", 5000);
    await waitFor(() => a.connected && seen.ticks.length >= count, `all ${count} events`, 10000);
    await sleep(QUIET_MS);
    const last = { id: a.id, recovered: a.recovered === true };
    const log = (await ack(a, "log"))[0].filter((entry) => entry.sid === first.id);
    return { first, bounced, last, count, received: ns(seen), lifecycle: seen.lifecycle, log };
  },
};

run("recovery_cases", async (url, [which]) => {
  if (!(which in cases)) throw new Error(`unknown case ${which}`);
  return { case: which, ...(await cases[which](url)) };
});
