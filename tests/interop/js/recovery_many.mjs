// Many official Node clients, all through the fault proxy, all cut at once while a stream
// is broadcast to their room; every one must reconnect, recover, and have every event.
//   `recovery_many.mjs PROXY_URL OPTIONS_JSON` with options
//   {clients, count, interval, cutAfter, room, control (proxy control port),
//    direct (hub URL), recutMs?, timeout?}
// The stream is started through a control client connected to the hub directly. With
// `recutMs`, the proxy cuts again that long after the first cut: in the middle of the
// reconnection storm, so some handshakes and replays are cut too. `timeout` is the
// clients' connect timeout (ms, default 10000).
//
// Two behaviours of the official client (4.8) matter for the re-cut, and are measured:
// - events that arrive before the CONNECT reply wait in `socket.receiveBuffer`, which is
//   not cleared when that attempt's connection dies; the next recovery sends them again
//   (from the same offset), so they are handed to the app twice. `buffered` records the
//   buffer's length at each disconnect.
// - a connection that dies after the WebSocket upgrade but before the Engine.IO open
//   packet is noticed by the Manager only at its connect timeout.
import { io } from "socket.io-client";
import { ack, connect, connected, run, sleep, track, waitFor } from "./lib.mjs";
import { proxyCommand } from "./recovery_proxy.mjs";

/** Duplicates, order of first arrivals, missing events; the stale-buffer allowance. */
function summarize(client, count) {
  const seen = new Set();
  let duplicates = 0;
  let outOfOrder = 0; // first arrivals that are not in order
  let previous = -1;
  for (const n of client.received) {
    if (seen.has(n)) {
      duplicates += 1;
      continue;
    }
    seen.add(n);
    if (n <= previous) outOfOrder += 1;
    previous = n;
  }
  const missing = [];
  for (let n = 0; n < count; n += 1) if (!seen.has(n)) missing.push(n);
  const staleBuffered = client.disconnects.reduce((sum, d) => sum + (d.buffered ?? 0), 0);
  return { duplicates, outOfOrder, missing, staleBuffered };
}

run("recovery_many", async (url, [json]) => {
  const opts = JSON.parse(json);
  const t0 = Date.now();
  const since = () => Date.now() - t0;
  const clients = [];
  for (let i = 0; i < opts.clients; i += 1) {
    const socket = track(
      io(url, {
        transports: ["websocket"],
        forceNew: true,
        timeout: opts.timeout ?? 10000,
        reconnectionDelay: 100,
        reconnectionDelayMax: 400,
        randomizationFactor: 0.5,
      }),
    );
    const client = { socket, received: [], malformed: 0, connects: [], disconnects: [], manager: [] };
    socket.on("tick", (...args) => {
      const offset = args.pop();
      if (typeof offset !== "string" || args.length !== 1) client.malformed += 1;
      client.received.push(args[0]?.n);
    });
    socket.on("connect", () =>
      client.connects.push({
        id: socket.id,
        recovered: socket.recovered === true,
        at: client.received.length,
        t: since(),
      }),
    );
    socket.on("disconnect", (reason) =>
      client.disconnects.push({
        reason,
        at: client.received.length,
        buffered: socket.receiveBuffer?.length ?? null,
        t: since(),
      }),
    );
    socket.io.on("reconnect_attempt", (n) => client.manager.push(["attempt", n, since()]));
    socket.io.on("reconnect_error", (err) => client.manager.push(["error", String(err?.message), since()]));
    socket.io.on("open", () => client.manager.push(["open", since()]));
    clients.push(client);
  }
  await waitFor(() => clients.every((c) => c.socket.connected), "every client to connect", 20000);
  const connectMs = since();
  const joined = await Promise.all(clients.map((c) => ack(c.socket, "join", opts.room)));
  const control = await connected(connect(opts.direct, "/"));
  const started = await ack(control, "stream", { room: opts.room, count: opts.count, interval: opts.interval });
  await waitFor(
    () => clients.every((c) => c.received.length >= opts.cutAfter),
    `every client to get ${opts.cutAfter} events`,
    15000,
  );
  const receivedAtCut = clients.map((c) => c.received.length);
  const cut = await proxyCommand(opts.control, "cut");
  const cutAt = Date.now();
  let recut = null;
  if (opts.recutMs) {
    await sleep(opts.recutMs);
    const reconnectedBefore = clients.filter((c) => c.connects.length >= 2).length;
    recut = { reconnectedBefore, ...(await proxyCommand(opts.control, "cut")) };
  }
  const reconnected = await waitFor(
    () => clients.every((c) => c.connects.length >= 2 && c.socket.connected),
    "every client to reconnect",
    20000,
  ).then(() => true, () => false);
  const reconnectMs = Date.now() - cutAt;
  const complete = await waitFor(
    () => clients.every((c) => new Set(c.received).size >= opts.count),
    "every client to get every event",
    20000,
  ).then(() => true, () => false);
  await sleep(300); // duplicates would arrive now
  const proxyStats = await proxyCommand(opts.control, "stats");

  const totals = {
    recovered: 0, // clients whose every reconnect was recovered, sid unchanged
    exact: 0, // clients with every event exactly once, in order
    noLoss: 0, // clients with every event, first arrivals in order
    unexplainedDuplicates: 0, // clients with more duplicates than stale-buffered events
    duplicates: 0,
    staleBuffered: 0,
    replayed: 0, // events between the first cut's disconnect and the next connect
    malformed: 0,
  };
  const reasons = {};
  const problems = [];
  for (const [index, client] of clients.entries()) {
    const s = summarize(client, opts.count);
    const first = client.connects[0];
    const again = client.connects.slice(1);
    const recovered = again.length > 0 && again.every((c) => c.recovered && c.id === first.id);
    const noLoss = s.missing.length === 0 && s.outOfOrder === 0;
    const exact = noLoss && s.duplicates === 0;
    totals.recovered += recovered ? 1 : 0;
    totals.exact += exact ? 1 : 0;
    totals.noLoss += noLoss ? 1 : 0;
    totals.unexplainedDuplicates += s.duplicates > s.staleBuffered ? 1 : 0;
    totals.duplicates += s.duplicates;
    totals.staleBuffered += s.staleBuffered;
    totals.malformed += client.malformed;
    const gone = client.disconnects[0];
    if (gone && again.length) totals.replayed += again[0].at - gone.at;
    for (const d of client.disconnects) reasons[d.reason] = (reasons[d.reason] ?? 0) + 1;
    if ((!exact || !recovered || client.malformed) && problems.length < 5) {
      problems.push({
        index,
        connects: client.connects,
        disconnects: client.disconnects,
        manager: client.manager.slice(0, 20),
        received: client.received.length,
        malformed: client.malformed,
        ...s,
        missing: s.missing.slice(0, 20),
        missingCount: s.missing.length,
      });
    }
  }
  return {
    clients: clients.length,
    connectMs,
    joinedAll: joined.every((answer) => answer[0] === true),
    started,
    receivedAtCut: { min: Math.min(...receivedAtCut), max: Math.max(...receivedAtCut) },
    cut,
    recut,
    reconnected,
    reconnectMs,
    complete,
    ...totals,
    reasons,
    problems,
    proxyStats,
  };
});
