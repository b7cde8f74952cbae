// The connection-state-recovery stream scenario, shared by Node (recovery_node.mjs) and
// headless Chromium (recovery_browser.mjs).
//
// `streamScenario` is self-contained: it uses nothing but its parameters and globals that
// both Node and a browser have (setTimeout, Promise, JSON), so the browser runner can ship
// it into a page as source text (Function.prototype.toString).
//
// One official client connects to `opts.url + opts.nsp` (reconnection on, short delay),
// joins `opts.room` and asks the recovery app to broadcast `opts.count` "tick" events
// ({n}) to it, one every `opts.interval` seconds. Each time it has received `opts.cutAt[i]`
// events, `cut(socket)` takes its connection down (engine.close() or the fault proxy);
// the client reconnects by itself. It returns what it saw: every n in arrival order, the
// offsets, the connect/disconnect lifecycle with the receive count at each, and anything
// malformed.

export async function streamScenario(io, opts, cut) {
  const STEP_MS = 5000;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  async function waitFor(predicate, what, ms = STEP_MS) {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
      await sleep(5);
    }
  }
  function ack(socket, event, ...args) {
    return new Promise((resolve, reject) => {
      socket.timeout(STEP_MS).emit(event, ...args, (err, ...answer) => {
        if (err) reject(new Error(`no ack for ${event} within ${STEP_MS} ms`));
        else resolve(answer);
      });
    });
  }

  const delay = opts.reconnectionDelay ?? 100;
  const socket = io(opts.url + opts.nsp, {
    transports: ["websocket"],
    forceNew: true,
    timeout: STEP_MS,
    reconnectionDelay: delay,
    reconnectionDelayMax: delay,
    randomizationFactor: 0,
  });
  const received = [];
  const offsets = [];
  const malformed = [];
  const lifecycle = [];
  let connects = 0;
  socket.on("tick", (...args) => {
    const offset = args.length > 1 ? args[args.length - 1] : null;
    if (args.length !== 2 || typeof offset !== "string" || typeof args[0]?.n !== "number") {
      if (malformed.length < 5) malformed.push(args);
    }
    received.push(args[0]?.n ?? null);
    offsets.push(offset);
  });
  socket.on("connect", () => {
    connects += 1;
    lifecycle.push({
      event: "connect",
      id: socket.id,
      recovered: socket.recovered === true,
      received: received.length,
    });
  });
  socket.on("disconnect", (reason) => {
    lifecycle.push({ event: "disconnect", reason, received: received.length });
  });
  socket.on("connect_error", (err) => {
    lifecycle.push({ event: "connect_error", message: String(err && err.message) });
  });

  try {
    await waitFor(() => socket.connected, "the first connect");
    const first = { id: socket.id, recovered: socket.recovered === true };
    const joined = await ack(socket, "join", opts.room);
    const started = await ack(socket, "stream", {
      room: opts.room,
      count: opts.count,
      interval: opts.interval,
    });
    const cuts = [];
    for (const at of opts.cutAt) {
      await waitFor(() => received.length >= at && socket.connected, `${at} events`, 15000);
      const before = connects;
      const atCut = received.length;
      const result = await cut(socket);
      cuts.push({ received: atCut, result });
      await waitFor(() => connects > before && socket.connected, "the reconnect", 15000);
    }
    const streamDone = await waitFor(
      () => received.length >= opts.count,
      `all ${opts.count} events`,
      opts.waitMs ?? 15000,
    ).then(
      () => true,
      () => false,
    );
    await sleep(opts.quietMs ?? 300); // duplicates would arrive now
    const whoami = socket.connected ? (await ack(socket, "whoami"))[0] : null;
    return {
      first,
      joined,
      started,
      cuts,
      streamDone,
      lifecycle: lifecycle.slice(), // a copy: the disconnect below must not show
      received: received.slice(),
      offsetsAllStrings: offsets.every((o) => typeof o === "string"),
      distinctOffsets: new Set(offsets).size,
      malformed,
      last: { id: socket.id, recovered: socket.recovered === true, connected: socket.connected },
      whoami,
    };
  } finally {
    socket.disconnect();
  }
}
