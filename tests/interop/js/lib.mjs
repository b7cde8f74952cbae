// Shared helpers for the Node interop scenarios: the official socket.io-client 4.x,
// every wait bounded, one JSON result line on stdout.
//
// Transports: the environment variable HUB_TRANSPORTS picks them for every client made
// here: "websocket" (the default: `transports: ["websocket"]`), "polling"
// (`transports: ["polling"]`) or "default" (no `transports` option: the client's own
// default, long-polling first, then the upgrade to WebSocket). When it is set, the result
// line also carries `engines`: what each Engine.IO connection did (see engineReport).
//
// A scenario is `node SCENARIO.mjs URL [ARGS...]`. It prints exactly one JSON line:
// {"scenario": name, ...what it observed} and exits 0 when it ran to the end, or
// {"scenario": name, "error": "..."} and exits 1 when a step failed or timed out.
// Binary values are written as {"$bin": "<hex>"} so the Python side can compare bytes.

import { io, Manager } from "socket.io-client";

export const STEP_MS = 5000;
export const WATCHDOG_MS = 30000;

const opened = [];

const TRANSPORTS = { websocket: ["websocket"], polling: ["polling"], default: undefined };
export const TRANSPORT_MODE = process.env.HUB_TRANSPORTS || "websocket";
const REPORT_ENGINES = process.env.HUB_TRANSPORTS !== undefined;

/** The common client options: HUB_TRANSPORTS' transports, no reconnection, bounded connect. */
export function clientOptions(extra = {}) {
  if (!(TRANSPORT_MODE in TRANSPORTS)) {
    throw new Error(`HUB_TRANSPORTS=${TRANSPORT_MODE}: expected websocket, polling or default`);
  }
  const transports = TRANSPORTS[TRANSPORT_MODE];
  return {
    ...(transports ? { transports } : {}),
    reconnection: false,
    forceNew: true,
    timeout: STEP_MS,
    ...extra,
  };
}

const engines = [];
const watched = new WeakSet();

/**
 * Records what the Engine.IO connection(s) of Manager `m` do: the transport each opened
 * with, and its "upgrading" / "upgrade" / "upgradeError" events (a Manager opens a new
 * engine when it reconnects: each one is watched from its creation).
 */
export function watchEngines(m) {
  const watch = () => {
    const engine = m.engine;
    if (!engine || watched.has(engine)) return;
    watched.add(engine);
    const seen = { engine, first: engine.transport?.name ?? null, upgrading: [], upgrades: [] };
    seen.upgradeErrors = [];
    engine.on("upgrading", (transport) => seen.upgrading.push(transport.name));
    engine.on("upgrade", (transport) => seen.upgrades.push(transport.name));
    engine.on("upgradeError", (err) => seen.upgradeErrors.push(String(err?.message ?? err)));
    engines.push(seen);
  };
  watch(); // a Manager opens its engine in its constructor (autoConnect)
  m.on("open", watch); // "open" comes before the engine starts probing for the upgrade
  return m;
}

/**
 * Each watched engine: {first, upgrading, upgrades, upgradeErrors, now, state}, where
 * `first` is the transport it opened with and `now` the one it uses at the end.
 */
export function engineReport() {
  return engines.map(({ engine, ...seen }) => ({
    ...seen,
    now: engine.transport?.name ?? null,
    state: engine.readyState,
  }));
}

/** With default transports, waits (bounded) until each open engine's upgrade settled. */
async function settleUpgrades() {
  if (TRANSPORT_MODE !== "default") return;
  const settled = ({ engine, upgrades, upgradeErrors }) =>
    engine.readyState !== "open" || upgrades.length > 0 || upgradeErrors.length > 0;
  try {
    await waitFor(() => engines.every(settled), "the engines' upgrades");
  } catch {
    // reported as is: the test sees an engine that never upgraded
  }
}

/** A new socket (own connection) to `url + nsp`; closed automatically at the end. */
export function connect(url, nsp, extra = {}) {
  const socket = io(url + nsp, clientOptions(extra));
  watchEngines(socket.io);
  opened.push(socket);
  return socket;
}

/** A Manager (one Engine.IO connection) for several namespaces; closed at the end. */
export function manager(url, extra = {}) {
  const m = new Manager(url, clientOptions(extra));
  watchEngines(m);
  opened.push(m);
  return m;
}

export function track(socket) {
  opened.push(socket);
  return socket;
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * How the namespace connection attempt ends: {connected: true, id}, or
 * {connected: false, message, data} for a connect_error, or
 * {connected: false, disconnected: reason} when the connection drops first.
 */
export function outcome(socket, ms = STEP_MS) {
  const settled = new Promise((resolve) => {
    if (socket.connected) {
      resolve({ connected: true, id: socket.id });
      return;
    }
    const listeners = {
      connect: () => done({ connected: true, id: socket.id }),
      connect_error: (err) =>
        done({
          connected: false,
          message: err.message,
          data: err.data === undefined ? null : err.data,
        }),
      disconnect: (reason) => done({ connected: false, disconnected: reason }),
    };
    const done = (result) => {
      for (const [event, listener] of Object.entries(listeners)) socket.off(event, listener);
      resolve(result);
    };
    for (const [event, listener] of Object.entries(listeners)) socket.once(event, listener);
  });
  return withTimeout(settled, ms, `connect or connect_error on ${socket.nsp}`);
}

/** Resolves when connected; rejects with the connect_error message otherwise. */
export async function connected(socket, ms = STEP_MS) {
  const result = await outcome(socket, ms);
  if (!result.connected) {
    throw new Error(`connect_error on ${socket.nsp}: ${result.message} ${JSON.stringify(result.data)}`);
  }
  return socket;
}

/** Emits with an ack request; resolves with ALL the ack's arguments (an array). */
export function ack(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(STEP_MS).emit(event, ...args, (err, ...answer) => {
      if (err) reject(new Error(`no ack for ${event} within ${STEP_MS} ms`));
      else resolve(answer);
    });
  });
}

/** The arguments of the next `event`, bounded. */
export function next(socket, event, ms = STEP_MS) {
  return withTimeout(
    new Promise((resolve) => socket.once(event, (...args) => resolve(args))),
    ms,
    `event ${event} on ${socket.nsp}`,
  );
}

/** Records every `event` on the socket; `.events` is the list of argument arrays. */
export function record(socket, event) {
  const events = [];
  socket.on(event, (...args) => events.push(args));
  return events;
}

/** Polls `predicate` every 10 ms until it holds; rejects after `ms`. */
export async function waitFor(predicate, what, ms = STEP_MS) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isBinary(value) {
  return Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

export function toBuffer(value) {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new Error(`not binary: ${typeof value}`);
}

/** JSON with binary as {"$bin": hex} (and undefined as null). */
export function toJSON(value) {
  return JSON.stringify(value, function replacer(key, v) {
    const original = this[key];
    if (isBinary(original)) return { $bin: toBuffer(original).toString("hex") };
    return v === undefined ? null : v;
  });
}

/** Runs a scenario body under a watchdog and prints its one JSON result line. */
export async function run(name, body) {
  const url = process.argv[2];
  let code = 0;
  let line;
  const watchdog = setTimeout(() => {
    process.stdout.write(toJSON({ scenario: name, error: `watchdog: over ${WATCHDOG_MS} ms` }) + "\n");
    process.exit(3);
  }, WATCHDOG_MS);
  try {
    if (!url) throw new Error(`usage: node ${name}.mjs URL [ARGS...]`);
    // Serialized now: closing the sockets below must not change what was observed.
    const result = { scenario: name, ...(await body(url, process.argv.slice(3))) };
    if (REPORT_ENGINES && engines.length > 0) {
      await settleUpgrades();
      result.transports = TRANSPORT_MODE;
      result.engines = engineReport();
    }
    line = toJSON(result);
  } catch (err) {
    code = 1;
    line = toJSON({ scenario: name, error: String(err && err.stack ? err.stack : err) });
  }
  for (const item of opened.reverse()) {
    try {
      if (typeof item.disconnect === "function") item.disconnect();
      else item._close?.();
    } catch {
      // closing is best effort: the process exits next anyway
    }
  }
  await sleep(50); // lets the DISCONNECT / close frames go out
  clearTimeout(watchdog);
  process.stdout.write(line + "\n");
  process.exit(code);
}
