// hub-client.js: the hub's own JavaScript client, one dependency-free ES module.
//
// It speaks Engine.IO v4 / Socket.IO v5 itself, in browsers and in Node >= 18: over
// WebSocket (the global one, or the `WebSocket` option, e.g. the `ws` package), and over
// Engine.IO long-polling with `fetch`, upgrading to WebSocket when it can. On top of the
// protocol it adds what a dashboard needs from the hub:
//   - reconnection with exponential backoff and jitter, its delays observable;
//   - a bounded, ordered offline queue of emits, flushed on reconnect;
//   - connection state recovery (`pid` + `offset`, `recovered`), and the standalone hub's
//     rooms (`join` with `since`, `leave`, `replay`), rejoined after a fresh reconnect;
//   - per-user emitter events: batches unpacked, acks sent, resent events delivered once;
//   - handler errors caught and reported, never ending the connection.
//
//   import { connect } from "http://127.0.0.1:8765/client/hub-client.js";
//   const hub = connect("http://127.0.0.1:8765", { auth: { user: "alice" } });
//   hub.on("job_done", (data, meta) => console.log(data));
//   await hub.join("project:42");

export const VERSION = "1.0.0";

// --- Engine.IO v4 and Socket.IO v5 codecs -----------------------------------------------

/** Engine.IO packet types (the first character of a text packet). */
export const EIO = Object.freeze({
  OPEN: "0",
  CLOSE: "1",
  PING: "2",
  PONG: "3",
  MESSAGE: "4",
  UPGRADE: "5",
  NOOP: "6",
});

/** Socket.IO packet types. */
export const SIO = Object.freeze({
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
});

/** The record separator between the packets of a long-polling body. */
export const RECORD_SEPARATOR = "\x1e";

/** How a user emitter sends several events in one frame. */
export const BATCH_EVENT = "hub:batch";

/** Event names a client may not emit: Socket.IO keeps them for itself. */
export const RESERVED_EVENTS = Object.freeze(
  new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]),
);

/** Events this client emits itself (do not use these names for your own events). */
export const LOCAL_EVENTS = Object.freeze(
  new Set([
    "connect",
    "connect_error",
    "disconnect",
    "reconnecting",
    "reconnect_failed",
    "upgrade",
    "rejoin",
    "drop",
    "error",
  ]),
);

const BINARY_TYPES = new Set([SIO.BINARY_EVENT, SIO.BINARY_ACK]);

/** An error of the protocol: a packet this client cannot read. */
export class ProtocolError extends Error {
  constructor(message) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** A wait that ran out of time (an ack, `waitFor`, a connection attempt). */
export class TimeoutError extends Error {
  constructor(message) {
    super(message);
    this.name = "TimeoutError";
  }
}

/** A request the hub refused (`{"ok": false, "error": ...}`), or a dropped emit. */
export class HubError extends Error {
  constructor(message, reply) {
    super(message);
    this.name = "HubError";
    this.reply = reply;
  }
}

/** True for the values that travel as binary attachments. */
export function isBinary(value) {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function toBytes(value) {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function toArrayBuffer(value) {
  if (value instanceof ArrayBuffer) return value;
  const bytes = toBytes(value);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

/** Base64 of bytes (an ArrayBuffer or a view). */
export function toBase64(value) {
  const bytes = toBytes(value);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** The ArrayBuffer a base64 string holds. */
export function fromBase64(text) {
  const decoded = atob(text);
  const bytes = new Uint8Array(decoded.length);
  for (let i = 0; i < decoded.length; i++) bytes[i] = decoded.charCodeAt(i);
  return bytes.buffer;
}

function isPlainObject(value) {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function liftBinary(value, attachments) {
  if (isBinary(value)) {
    attachments.push(toBytes(value));
    return { _placeholder: true, num: attachments.length - 1 };
  }
  if (Array.isArray(value)) return value.map((item) => liftBinary(item, attachments));
  if (isPlainObject(value)) {
    const out = {};
    for (const [key, item] of Object.entries(value)) out[key] = liftBinary(item, attachments);
    return out;
  }
  return value;
}

function restoreBinary(value, attachments) {
  if (Array.isArray(value)) return value.map((item) => restoreBinary(item, attachments));
  if (value && typeof value === "object") {
    if (value._placeholder === true && Object.keys(value).length === 2) {
      const num = value.num;
      if (!Number.isInteger(num) || num < 0 || num >= attachments.length) {
        throw new ProtocolError("binary placeholder out of range");
      }
      return attachments[num];
    }
    const out = {};
    for (const [key, item] of Object.entries(value)) out[key] = restoreBinary(item, attachments);
    return out;
  }
  return value;
}

/**
 * A Socket.IO packet `{type, nsp, id, data}` as its text (without the Engine.IO "4") and
 * its binary attachments (Uint8Arrays), in wire order. Binary values anywhere in an EVENT
 * or ACK make it a BINARY_EVENT / BINARY_ACK.
 */
export function encodePacket({ type, nsp = "/", id = null, data }) {
  const attachments = [];
  const lifted = data === undefined ? undefined : liftBinary(data, attachments);
  let packetType = type;
  if (attachments.length) {
    if (type === SIO.EVENT) packetType = SIO.BINARY_EVENT;
    else if (type === SIO.ACK) packetType = SIO.BINARY_ACK;
    else if (!BINARY_TYPES.has(type)) throw new TypeError("only events and acks carry binary data");
  }
  let text = String(packetType);
  if (BINARY_TYPES.has(packetType)) text += `${attachments.length}-`;
  if (nsp && nsp !== "/") text += `${nsp},`;
  if (id !== null && id !== undefined) text += String(id);
  if (lifted !== undefined) text += JSON.stringify(lifted);
  return { text, attachments };
}

function parseText(text) {
  if (!text) throw new ProtocolError("empty socket.io packet");
  const type = Number(text[0]);
  if (!(text[0] >= "0" && text[0] <= "6")) {
    throw new ProtocolError(`unknown socket.io packet type ${JSON.stringify(text[0])}`);
  }
  let i = 1;
  let attachments = 0;
  if (BINARY_TYPES.has(type)) {
    const dash = text.indexOf("-", i);
    const digits = dash === -1 ? "" : text.slice(i, dash);
    if (!/^\d{1,4}$/.test(digits)) throw new ProtocolError("bad attachment count");
    attachments = Number(digits);
    i = dash + 1;
  }
  let nsp = "/";
  if (text[i] === "/") {
    const comma = text.indexOf(",", i);
    const stop = comma === -1 ? text.length : comma;
    nsp = text.slice(i, stop);
    i = stop + 1;
  }
  let id = null;
  const start = i;
  while (i < text.length && text[i] >= "0" && text[i] <= "9") i++;
  if (i > start) {
    if (i - start > 15) throw new ProtocolError("ack id too long");
    id = Number(text.slice(start, i));
  }
  let data;
  if (i < text.length) {
    try {
      data = JSON.parse(text.slice(i));
    } catch (error) {
      throw new ProtocolError(`invalid JSON payload: ${error.message}`);
    }
  }
  const packet = { type, nsp, id, data };
  validate(packet);
  return { packet, attachments };
}

function validate(packet) {
  const { type, data } = packet;
  let ok;
  if (type === SIO.CONNECT) ok = isPlainObject(data) && typeof data.sid === "string";
  else if (type === SIO.DISCONNECT) ok = data === undefined;
  else if (type === SIO.CONNECT_ERROR) ok = typeof data === "string" || isPlainObject(data);
  else if (type === SIO.EVENT || type === SIO.BINARY_EVENT) {
    ok = Array.isArray(data) && data.length > 0 && typeof data[0] === "string";
  } else ok = Array.isArray(data) && packet.id !== null; // ACK, BINARY_ACK
  if (!ok) throw new ProtocolError(`invalid socket.io packet of type ${type}`);
}

/**
 * Decodes the Engine.IO MESSAGE payloads of one connection, in order: `add(message)`
 * returns a complete packet `{type, nsp, id, data}`, or null while binary attachments
 * are still due. Binary attachments come back as ArrayBuffers.
 */
export class PacketDecoder {
  constructor() {
    this.reset();
  }

  reset() {
    this._pending = null;
    this._expected = 0;
    this._attachments = [];
  }

  add(message) {
    if (typeof message === "string") {
      if (this._pending) throw new ProtocolError("text packet while binary attachments were due");
      const { packet, attachments } = parseText(message);
      if (attachments === 0) {
        if (BINARY_TYPES.has(packet.type)) packet.type -= 3; // BINARY_EVENT -> EVENT, ...
        return packet;
      }
      this._pending = packet;
      this._expected = attachments;
      return null;
    }
    if (!this._pending) throw new ProtocolError("binary attachment without a packet announcing it");
    this._attachments.push(toArrayBuffer(message));
    if (this._attachments.length < this._expected) return null;
    const packet = this._pending;
    packet.data = restoreBinary(packet.data, this._attachments);
    packet.type -= 3;
    this.reset();
    return packet;
  }
}

/** One Engine.IO packet of a WebSocket message: `{type, data}` (data: string or ArrayBuffer). */
export function decodeEnginePacket(message) {
  if (typeof message !== "string") return { type: EIO.MESSAGE, data: toArrayBuffer(message) };
  if (!message || !(message[0] >= "0" && message[0] <= "6")) {
    throw new ProtocolError(`bad engine.io packet ${JSON.stringify(message.slice(0, 20))}`);
  }
  return { type: message[0], data: message.slice(1) };
}

/** A long-polling body as its Engine.IO packets; binary ones are written `b<base64>`. */
export function decodePayload(body) {
  if (body === "") return [];
  return body.split(RECORD_SEPARATOR).map((part) => {
    if (part[0] === "b") {
      try {
        return { type: EIO.MESSAGE, data: fromBase64(part.slice(1)) };
      } catch {
        throw new ProtocolError("bad base64 in a binary polling packet");
      }
    }
    return decodeEnginePacket(part);
  });
}

/** Engine.IO packets (text strings such as "4...", or binary data) as one polling body. */
export function encodePayload(packets) {
  return packets.map((p) => (typeof p === "string" ? p : `b${toBase64(p)}`)).join(RECORD_SEPARATOR);
}

// --- Reconnect backoff, the offline queue, the de-duplication window --------------------

/**
 * The delay before reconnect attempt `attempt` (1, 2, ...), in ms:
 * min(max, initial * 2^(attempt - 1)) * (1 - jitter * random()), so in
 * [base * (1 - jitter), base] and never above `max`.
 */
export function backoffDelay(
  attempt,
  { initial = 1000, max = 5000, jitter = 0.5 } = {},
  random = Math.random,
) {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 52);
  const base = Math.min(max, initial * 2 ** exponent);
  const spread = Math.min(Math.max(jitter, 0), 1);
  return Math.round(base * (1 - spread * random()));
}

/**
 * A bounded FIFO: `push` returns the item it had to drop to stay within `limit` (the
 * oldest, or the new one itself when the limit is 0), or undefined.
 */
export class BoundedQueue {
  constructor(limit) {
    this.limit = Math.max(0, limit);
    this.items = [];
  }

  get size() {
    return this.items.length;
  }

  push(item) {
    if (this.limit === 0) return item;
    this.items.push(item);
    return this.items.length > this.limit ? this.items.shift() : undefined;
  }

  remove(item) {
    const index = this.items.indexOf(item);
    if (index === -1) return false;
    this.items.splice(index, 1);
    return true;
  }

  drain() {
    const items = this.items;
    this.items = [];
    return items;
  }
}

/** A bounded map of recently seen ids (the oldest forgotten first). */
export class RecentIds {
  constructor(limit = 1000) {
    this.limit = Math.max(1, limit);
    this.map = new Map();
  }

  get size() {
    return this.map.size;
  }

  has(id) {
    return this.map.has(id);
  }

  get(id) {
    return this.map.get(id);
  }

  /** Remembers `id` (with `value`); false if it was already there. */
  add(id, value = true) {
    if (this.map.has(id)) return false;
    this.map.set(id, value);
    while (this.map.size > this.limit) this.map.delete(this.map.keys().next().value);
    return true;
  }
}

/**
 * The events one Socket.IO event carries when it comes from a user emitter:
 * `[{event, args: [data, meta]}]` (several for a `hub:batch`), or null for any other
 * event. A user emitter's event is `[name, data, {"id": "<boot>-<n>"}]`.
 */
export function unpackUserEvents(event, args) {
  if (event === BATCH_EVENT && args.length === 1 && Array.isArray(args[0])) {
    return args[0]
      .filter((item) => isPlainObject(item) && typeof item.event === "string")
      .map((item) => {
        const meta = typeof item.id === "string" ? { id: item.id } : {};
        return { event: item.event, args: [item.data === undefined ? null : item.data, meta] };
      });
  }
  if (args.length === 2 && isUserMeta(args[1])) return [{ event, args }];
  return null;
}

function isUserMeta(value) {
  return isPlainObject(value) && typeof value.id === "string" && Object.keys(value).length === 1;
}

// --- Options --------------------------------------------------------------------------

/** The options and their defaults (see the README). */
export const DEFAULTS = Object.freeze({
  path: "/socket.io/",
  namespace: undefined, // else the URL's path, else "/"
  auth: undefined, // an object, or a (possibly async) function returning one, sent on every connect
  query: undefined, // extra query parameters of the Engine.IO requests
  transports: undefined, // ["polling", "websocket"] with a WebSocket, else ["polling"]
  upgrade: true, // from long-polling to WebSocket when both are allowed
  WebSocket: undefined, // a WebSocket constructor; else the global one
  fetch: undefined, // a fetch function; else the global one
  extraHeaders: undefined, // headers of the polling requests (Node; in browsers, CORS permitting)
  withCredentials: false, // polling requests send cookies cross-origin
  autoConnect: true,
  timeout: 10000, // ms for the Engine.IO handshake
  reconnection: true,
  reconnectionAttempts: Infinity,
  reconnectionDelay: 1000,
  reconnectionDelayMax: 5000,
  randomizationFactor: 0.5,
  ackTimeout: 10000, // ms emitWithAck waits (0: forever)
  waitTimeout: 10000, // ms waitFor waits by default
  queueSize: 100, // emits kept while offline (0: none)
  dedupeSize: 1000, // user event ids remembered to drop resends
  userEvents: true, // recognize user emitter events and batches
  rejoin: true, // join the rooms of join() again after a reconnect that was not recovered
  onError: undefined, // (error, info) for handler errors, besides the "error" event
});

function resolveOptions(options) {
  const merged = { ...DEFAULTS, ...options };
  for (const [key, value] of Object.entries(options || {})) {
    if (value === undefined) merged[key] = DEFAULTS[key];
  }
  return merged;
}

// --- Transports ---------------------------------------------------------------------------

function queryString(params) {
  return Object.entries(params)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join("&");
}

/**
 * Engine.IO over one WebSocket. Calls `events.open()`, `events.message(raw)` (string or
 * ArrayBuffer) and `events.close(reason, error)` (once).
 */
class WebSocketTransport {
  constructor(url, WebSocketClass, events) {
    this.name = "websocket";
    this.writable = false;
    this.events = events;
    this.closed = false;
    const ws = new WebSocketClass(url);
    this.ws = ws;
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      if (this.closed) return;
      this.writable = true;
      this.events.open?.();
    };
    ws.onmessage = (event) => {
      if (this.closed) return;
      const data = event.data;
      this.events.message(typeof data === "string" ? data : toArrayBuffer(data));
    };
    ws.onerror = (event) => this._end("transport error", event?.error || new Error("websocket error"));
    ws.onclose = (event) => {
      this._end("transport close", new Error(`websocket closed (${event?.code ?? "?"})`));
    };
  }

  send(packets) {
    for (const packet of packets) this.ws.send(packet);
  }

  _end(reason, error) {
    if (this.closed) return;
    this.closed = true;
    this.writable = false;
    this.events.close(reason, error);
  }

  /** Closes it, sending `last` first; no `close` callback follows. */
  close(last = []) {
    if (this.closed) return;
    this.closed = true;
    this.writable = false;
    try {
      if (this.ws.readyState === 1) this.send(last);
      this.ws.close(1000);
    } catch {
      // closing is best effort
    }
  }
}

/**
 * Engine.IO long-polling with fetch: one GET waiting for the server's packets at a time,
 * one POST carrying the client's at a time. Same callbacks as WebSocketTransport, plus
 * `events.drain()` when a POST finished.
 */
class PollingTransport {
  constructor(url, options, events) {
    this.name = "polling";
    this.url = url;
    this.sid = null;
    this.fetch = options.fetch;
    this.headers = options.extraHeaders || {};
    this.credentials = options.withCredentials ? "include" : "same-origin";
    this.maxPayload = 1000000;
    this.events = events;
    this.closed = false;
    this.writable = false;
    this.polling = null; // the GET under way
    this.posting = null; // the POST under way
    this.paused = false;
    this.abort = new AbortController();
    this._count = 0;
  }

  _url() {
    const stamp = `${Date.now().toString(36)}.${(this._count++).toString(36)}`;
    return `${this.url}&t=${stamp}${this.sid ? `&sid=${encodeURIComponent(this.sid)}` : ""}`;
  }

  async _request(method, body, signal = this.abort.signal) {
    const init = { method, headers: { ...this.headers }, credentials: this.credentials };
    if (signal) init.signal = signal;
    if (body !== undefined) {
      init.body = body;
      init.headers["Content-Type"] = "text/plain;charset=UTF-8";
    }
    const response = await this.fetch(this._url(), init);
    const text = await response.text();
    if (!response.ok) {
      const error = new Error(`${method} ${response.status}: ${text.slice(0, 200)}`);
      error.status = response.status;
      throw error;
    }
    return text;
  }

  /** The handshake GET; its packets go to `events.message`, the first being OPEN. */
  open() {
    this.polling = this._request("GET").then(
      (body) => {
        this.polling = null;
        this._deliver(body);
      },
      (error) => this._fail(error),
    );
  }

  /** Called once the OPEN packet gave the session id: starts sending and polling. */
  started(sid, maxPayload) {
    this.sid = sid;
    if (maxPayload) this.maxPayload = maxPayload;
    this.writable = true;
    this._poll();
  }

  _deliver(body) {
    if (this.closed) return;
    let packets;
    try {
      packets = decodePayload(body);
    } catch (error) {
      this._end("parse error", error);
      return;
    }
    for (const packet of packets) {
      if (this.closed) return;
      this.events.message(packet);
    }
  }

  _poll() {
    if (this.closed || this.paused || this.polling || !this.sid) return;
    this.polling = this._request("GET").then(
      (body) => {
        this.polling = null;
        this._deliver(body);
        if (this._onIdle && !this.posting) this._onIdle();
        this._poll();
      },
      (error) => this._fail(error),
    );
  }

  send(packets) {
    if (!packets.length) return;
    // Bodies within the hub's maxPayload (a packet larger than it goes alone).
    let size = 0;
    let count = 0;
    for (const packet of packets) {
      const length =
        typeof packet === "string" ? packet.length * 3 : Math.ceil(packet.byteLength / 3) * 4 + 1;
      if (count > 0 && size + length + 1 > this.maxPayload) break;
      size += length + 1;
      count++;
    }
    const body = encodePayload(packets.slice(0, count));
    const rest = packets.slice(count);
    this.writable = false;
    this.posting = this._request("POST", body).then(
      () => {
        this.posting = null;
        if (this.closed) return;
        if (rest.length) {
          this.send(rest);
          return;
        }
        if (this.paused) {
          if (this._onIdle && !this.polling) this._onIdle();
          return;
        }
        this.writable = true;
        this.events.drain();
      },
      (error) => this._fail(error),
    );
  }

  /** Stops polling and sending; resolves once no request is under way. */
  pause() {
    this.paused = true;
    this.writable = false;
    return new Promise((resolve) => {
      this._onIdle = () => {
        this._onIdle = null;
        resolve();
      };
      if (!this.polling && !this.posting) this._onIdle();
    });
  }

  resume() {
    this.paused = false;
    this._onIdle = null;
    if (this.closed) return;
    if (!this.posting) {
      this.writable = true;
      this.events.drain();
    }
    this._poll();
  }

  _fail(error) {
    if (this.closed) return;
    this._end("transport error", error);
  }

  _end(reason, error) {
    if (this.closed) return;
    this.closed = true;
    this.writable = false;
    this.abort.abort();
    this.events.close(reason, error);
  }

  /** Closes it, POSTing `last` first when the session is open; no `close` callback follows. */
  close(last = []) {
    if (this.closed) return;
    this.closed = true;
    this.writable = false;
    if (this.polling || !this.posting) this.abort.abort();
    if (this.sid && last.length) {
      // Its own signal: the GET's abort must not cancel the last words.
      const send = () => this._request("POST", encodePayload(last), null).catch(() => {});
      if (this.posting) this.posting.finally(send);
      else send();
    }
  }
}

// --- Event listeners ------------------------------------------------------------------------

class Listeners {
  constructor() {
    this._map = new Map();
    this._any = [];
  }

  on(event, listener) {
    if (typeof listener !== "function") throw new TypeError("a listener must be a function");
    const list = this._map.get(event);
    if (list) list.push(listener);
    else this._map.set(event, [listener]);
  }

  off(event, listener) {
    if (event === undefined) {
      this._map.clear();
      return;
    }
    if (listener === undefined) {
      this._map.delete(event);
      return;
    }
    const list = this._map.get(event);
    if (!list) return;
    const index = list.findIndex((item) => item === listener || item.listener === listener);
    if (index !== -1) list.splice(index, 1);
    if (!list.length) this._map.delete(event);
  }

  get(event) {
    const list = this._map.get(event);
    return list ? list.slice() : [];
  }
}

// --- One namespace ----------------------------------------------------------------------------

/**
 * A namespace of the hub, on a connection shared with the other namespaces of its client.
 * `HubClient` is the one of the URL; `client.of("/other")` gives others.
 */
export class HubSocket {
  constructor(connection, nsp, options) {
    this.io = connection;
    this.nsp = nsp;
    this.options = options;
    this.id = null; // the namespace session's sid while connected
    this.pid = null; // the recovery id, when the hub's recovery is on
    this.offset = null; // the offset of the last stored event received
    this.recovered = false; // the last connect resumed the previous session
    this.connected = false;
    this.active = false; // wants to be connected (connect() called, close() not)
    this.stats = { received: 0, duplicates: 0, acked: 0, dropped: 0, handlerErrors: 0 };
    this._rooms = new Set();
    this._listeners = new Listeners();
    this._any = [];
    this._queue = new BoundedQueue(options.queueSize);
    this._seen = new RecentIds(options.dedupeSize);
    this._acks = new Map(); // ack id -> waiting emit
    this._nextAck = 0;
    this._received = []; // events that came before the CONNECT reply (recovery)
    this._generation = 0; // bumps with each namespace session: acks of older ones are dropped
    this._connecting = false;
    this._lastSid = null;
  }

  /** The rooms joined with join() (rejoined after a reconnect that was not recovered). */
  get rooms() {
    return new Set(this._rooms);
  }

  /** How many emits wait in the offline queue. */
  get queued() {
    return this._queue.size;
  }

  /** The transport in use ("websocket", "polling") or null. */
  get transport() {
    return this.io.transport ? this.io.transport.name : null;
  }

  // Listeners

  on(event, listener) {
    this._listeners.on(event, listener);
    return this;
  }

  once(event, listener) {
    const wrapper = (...args) => {
      this._listeners.off(event, wrapper);
      return listener.apply(this, args);
    };
    wrapper.listener = listener;
    this._listeners.on(event, wrapper);
    return this;
  }

  /** Removes `listener`, or every listener of `event`, or every listener. */
  off(event, listener) {
    this._listeners.off(event, listener);
    return this;
  }

  /** `listener(event, ...args)` for every event from the hub. */
  onAny(listener) {
    this._any.push(listener);
    return this;
  }

  offAny(listener) {
    this._any = listener === undefined ? [] : this._any.filter((item) => item !== listener);
    return this;
  }

  listeners(event) {
    return this._listeners.get(event);
  }

  /**
   * Resolves with the arguments (an array) of the first `event` for which
   * `predicate(...args)` is true; rejects with a TimeoutError after `timeout` ms.
   */
  waitFor(event, predicate = () => true, timeout = this.options.waitTimeout) {
    return new Promise((resolve, reject) => {
      let timer = null;
      const listener = (...args) => {
        let matched;
        try {
          matched = predicate(...args);
        } catch (error) {
          done();
          reject(error);
          return;
        }
        if (matched) {
          done();
          resolve(args);
        }
      };
      const done = () => {
        clearTimeout(timer);
        this._listeners.off(event, listener);
      };
      this._listeners.on(event, listener);
      if (timeout > 0 && Number.isFinite(timeout)) {
        timer = setTimeout(() => {
          done();
          reject(new TimeoutError(`no ${event} within ${timeout} ms`));
        }, timeout);
      }
    });
  }

  // Connecting

  /** Connects this namespace (and the connection, when it is closed). */
  connect() {
    this.active = true;
    this.io._want(this);
    return this;
  }

  /** Leaves the namespace: a DISCONNECT to the hub; the queue and waiting acks are dropped. */
  close() {
    const wasConnected = this.connected;
    if (wasConnected) this.io._sendPacket({ type: SIO.DISCONNECT, nsp: this.nsp });
    this.active = false;
    this.pid = null;
    this._lastSid = null;
    this._clearQueue(new HubError("the client was closed"));
    if (wasConnected || this._connecting) this._onClose("io client disconnect");
    this.io._release(this);
    return this;
  }

  disconnect() {
    return this.close();
  }

  async _sendConnect(epoch) {
    if (this._connecting || this.connected) return;
    this._connecting = true;
    let auth = this.options.auth;
    try {
      if (typeof auth === "function") auth = await auth();
    } catch (error) {
      this._connecting = false;
      this._fire("connect_error", [error]);
      return;
    }
    if (!this._connecting || epoch !== this.io.epoch || this.io.state !== "open") {
      this._connecting = false;
      return;
    }
    let data = auth === undefined || auth === null ? undefined : { ...auth };
    if (this.pid) data = { pid: this.pid, ...(this.offset === null ? {} : { offset: this.offset }), ...data };
    this.io._sendPacket({ type: SIO.CONNECT, nsp: this.nsp, data });
  }

  _onPacket(packet) {
    switch (packet.type) {
      case SIO.CONNECT:
        if (this.connected || !this.active) break; // a reply nobody waits for any more
        this._onConnect(packet.data.sid, typeof packet.data.pid === "string" ? packet.data.pid : null);
        break;
      case SIO.CONNECT_ERROR: {
        const body = packet.data;
        const error = new Error(typeof body === "string" ? body : String(body.message));
        error.data = typeof body === "string" ? undefined : body.data;
        this._connecting = false;
        this._received = [];
        this.active = false; // refused: connect() again (with other auth) to retry
        this._fire("connect_error", [error]);
        this.io._release(this);
        break;
      }
      case SIO.EVENT:
        if (this.connected) this._onEvent(packet);
        else if (this._connecting) this._received.push(packet);
        break;
      case SIO.ACK: {
        const waiting = this._acks.get(packet.id);
        if (waiting) {
          this._acks.delete(packet.id);
          clearTimeout(waiting.timer);
          waiting.resolve(packet.data);
        }
        break;
      }
      case SIO.DISCONNECT:
        this.active = false;
        this._onClose("io server disconnect");
        this.io._release(this);
        break;
      default:
        break;
    }
  }

  _onConnect(sid, pid) {
    const recovered = Boolean(pid && this.pid && pid === this.pid && sid === this._lastSid);
    this.id = sid;
    this._lastSid = sid;
    this.pid = pid;
    this.recovered = recovered;
    this.connected = true;
    this._connecting = false;
    this._generation++;
    // What the hub sent before its CONNECT reply (the missed events of a recovery) first.
    const received = this._received;
    this._received = [];
    for (const packet of received) this._onEvent(packet);
    if (!recovered) {
      // A fresh session: the old offset is not where it starts (the hub resumes a session
      // that never got a stored event from where it joined), but where the rooms of
      // join() are replayed from.
      const since = this.offset;
      this.offset = null;
      if (this.options.rejoin) this._rejoin(since);
    }
    for (const item of this._queue.drain()) this._send(item);
    this._fire("connect", [{ id: sid, recovered }]);
  }

  _onClose(reason) {
    this._connecting = false;
    this._received = [];
    const wasConnected = this.connected;
    this.connected = false;
    this.id = null;
    for (const waiting of this._acks.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(new HubError(`disconnected (${reason}) before the ack came`));
    }
    this._acks.clear();
    if (wasConnected) this._fire("disconnect", [reason]);
  }

  _rejoin(since) {
    for (const room of this._rooms) {
      const args = since === null ? [room] : [room, since];
      this._call("join", args, this.options.ackTimeout).then(
        ([reply]) => this._fire("rejoin", [{ room, ...(isPlainObject(reply) ? reply : { reply }) }]),
        (error) => this._fire("rejoin", [{ room, ok: false, error: error.message }]),
      );
    }
  }

  // Receiving

  _onEvent(packet) {
    const [event, ...args] = packet.data;
    this.stats.received++;
    if (this.pid && packet.id === null && args.length && typeof args[args.length - 1] === "string") {
      this.offset = args[args.length - 1];
    }
    const users = this.options.userEvents ? unpackUserEvents(event, args) : null;
    if (users) {
      const settled = users.map((item) => this._onUserEvent(item.event, item.args));
      if (packet.id !== null) {
        const ack = this._acker(packet.id);
        Promise.all(settled).then(() => ack());
      }
      return;
    }
    if (packet.id !== null) args.push(this._acker(packet.id));
    this._dispatch(event, args);
  }

  /** Delivers one user emitter event once; resolves when its handlers are done. */
  _onUserEvent(event, args) {
    const id = args[1].id;
    if (id !== undefined) {
      const earlier = this._seen.get(id);
      if (earlier) {
        this.stats.duplicates++;
        return earlier; // acked again once the first delivery is done
      }
    }
    const done = Promise.allSettled(this._dispatch(event, args)).then(() => undefined);
    if (id !== undefined) this._seen.add(id, done);
    return done;
  }

  /** An ack callback for ack id `id` of the current session (a later session drops it). */
  _acker(id) {
    const generation = this._generation;
    let sent = false;
    return (...args) => {
      if (sent || generation !== this._generation || !this.connected) return false;
      sent = true;
      this.stats.acked++;
      this.io._sendPacket({ type: SIO.ACK, nsp: this.nsp, id, data: args });
      return true;
    };
  }

  /** Calls the listeners of a hub event; returns what they returned (promises awaited by acks). */
  _dispatch(event, args) {
    const results = [];
    for (const listener of this._any.slice()) {
      results.push(this._invoke(listener, [event, ...args], event, args));
    }
    for (const listener of this._listeners.get(event)) {
      results.push(this._invoke(listener, args, event, args));
    }
    return results;
  }

  _invoke(listener, callArgs, event, args) {
    try {
      const result = listener.apply(this, callArgs);
      if (result && typeof result.then === "function") {
        return Promise.resolve(result).catch((error) => this._handlerError(error, event, args));
      }
      return result;
    } catch (error) {
      this._handlerError(error, event, args);
      return undefined;
    }
  }

  _handlerError(error, event, args) {
    this.stats.handlerErrors++;
    this._reportError(error, { kind: "handler", event, args, namespace: this.nsp });
  }

  _reportError(error, info) {
    const listeners = this._listeners.get("error");
    let reported = false;
    if (typeof this.options.onError === "function") {
      reported = true;
      try {
        this.options.onError(error, info);
      } catch (inner) {
        console.error("hub-client: onError threw", inner);
      }
    }
    for (const listener of listeners) {
      reported = true;
      try {
        listener.call(this, error, info);
      } catch (inner) {
        console.error("hub-client: an error listener threw", inner);
      }
    }
    if (!reported) console.error(`hub-client: a listener of ${JSON.stringify(info.event)} threw`, error);
  }

  /** Calls the client's own listeners (connect, disconnect, reconnecting, ...). */
  _fire(event, args) {
    for (const listener of this._listeners.get(event)) {
      try {
        const result = listener.apply(this, args);
        if (result && typeof result.then === "function") {
          const info = { kind: "handler", event, args, namespace: this.nsp };
          Promise.resolve(result).catch((error) => this._reportError(error, info));
        }
      } catch (error) {
        if (event === "error") console.error("hub-client: an error listener threw", error);
        else this._reportError(error, { kind: "handler", event, args, namespace: this.nsp });
      }
    }
  }

  // Sending

  /**
   * Sends `event(...args)`; a trailing function is called with the hub's ack. While not
   * connected the emit waits in the offline queue. Returns false if it was dropped.
   */
  emit(event, ...args) {
    checkEventName(event);
    let callback = null;
    if (args.length && typeof args[args.length - 1] === "function") callback = args.pop();
    const item = { event, args };
    if (callback) {
      item.resolve = (answer) => callback(...answer);
      item.reject = () => {};
    }
    return this._submit(item);
  }

  /**
   * Sends `event(...args)` and resolves with the hub's ack (its first argument). A
   * trailing `{timeout}` (ms) overrides `ackTimeout`; it counts from the call, time in
   * the offline queue included. Rejects with a TimeoutError, or a HubError when the
   * emit was dropped or the connection ended before the ack.
   */
  emitWithAck(event, ...args) {
    let timeout = this.options.ackTimeout;
    const last = args[args.length - 1];
    if (isPlainObject(last) && Object.keys(last).length === 1 && "timeout" in last) {
      args.pop();
      if (last.timeout !== undefined) timeout = last.timeout;
    }
    try {
      checkEventName(event);
    } catch (error) {
      return Promise.reject(error);
    }
    return this._call(event, args, timeout).then((answer) => answer[0]);
  }

  _call(event, args, timeout) {
    return new Promise((resolve, reject) => {
      const item = { event, args, resolve, reject, timer: null };
      if (timeout > 0 && Number.isFinite(timeout)) {
        item.timer = setTimeout(() => {
          this._queue.remove(item);
          if (item.id !== undefined) this._acks.delete(item.id);
          reject(new TimeoutError(`no ack for ${event} within ${timeout} ms`));
        }, timeout);
      }
      this._submit(item);
    });
  }

  _submit(item) {
    if (this.connected) {
      this._send(item);
      return true;
    }
    const dropped = this._queue.push(item);
    if (dropped) {
      this._drop(dropped, "queue_full");
      return dropped !== item;
    }
    return true;
  }

  _send(item) {
    const packet = { type: SIO.EVENT, nsp: this.nsp, data: [item.event, ...item.args] };
    if (item.resolve) {
      item.id = this._nextAck++;
      packet.id = item.id;
      this._acks.set(item.id, item);
    }
    this.io._sendPacket(packet);
  }

  _drop(item, reason) {
    this.stats.dropped++;
    clearTimeout(item.timer);
    if (item.reject) item.reject(new HubError(`${item.event} dropped from the offline queue (${reason})`));
    this._fire("drop", [{ event: item.event, args: item.args, reason }]);
  }

  _clearQueue(error) {
    for (const item of this._queue.drain()) {
      clearTimeout(item.timer);
      if (item.reject) item.reject(error);
    }
  }

  // The standalone hub's default namespace: rooms and history

  /**
   * Joins `room`; with `since` (an offset) the hub first sends the room's stored events
   * after it. Resolves with the ack (`{ok, room, replayed?, complete?}`); a refusal
   * rejects with a HubError. The room is joined again after a reconnect that was not
   * recovered (option `rejoin`).
   */
  async join(room, { since, timeout } = {}) {
    const args = since === undefined ? [room] : [room, since];
    const reply = await this._call("join", args, timeout ?? this.options.ackTimeout).then((a) => a[0]);
    checkReply("join", reply);
    this._rooms.add(room);
    return reply;
  }

  async leave(room, { timeout } = {}) {
    this._rooms.delete(room);
    const reply = await this._call("leave", [room], timeout ?? this.options.ackTimeout).then((a) => a[0]);
    checkReply("leave", reply);
    return reply;
  }

  /** The room's stored events after `since`: `{ok, events: [{offset, event, args}], complete}`. */
  async replay(room, { since = null, limit, timeout } = {}) {
    const request = { room, since };
    if (limit !== undefined) request.limit = limit;
    const reply = await this._call("replay", [request], timeout ?? this.options.ackTimeout).then((a) => a[0]);
    checkReply("replay", reply);
    return reply;
  }
}

function checkEventName(event) {
  if (typeof event !== "string" || !event) throw new TypeError("an event name is a non-empty string");
  if (RESERVED_EVENTS.has(event)) throw new Error(`${JSON.stringify(event)} is a reserved event name`);
}

function checkReply(what, reply) {
  if (!isPlainObject(reply) || reply.ok !== true) {
    const why = isPlainObject(reply) && reply.error ? reply.error : JSON.stringify(reply);
    throw new HubError(`${what} refused: ${why}`, reply);
  }
}

// --- The connection (Engine.IO session, transports, reconnection) -----------------------------

class Connection {
  constructor(base, options) {
    this.base = base; // "http://host:port"
    this.options = options;
    this.sockets = new Map();
    this.state = "closed"; // "opening" | "open" | "closed"
    this.transport = null;
    this.sid = null;
    this.epoch = 0;
    this.attempt = 0;
    this.reconnects = 0;
    this._writeBuffer = [];
    this._decoder = new PacketDecoder();
    this._timers = { open: null, ping: null, reconnect: null, probe: null };
    this._probe = null;
    this._closedByUser = false;
    this.WebSocket = options.WebSocket || globalThis.WebSocket;
    const fetchFn = options.fetch || globalThis.fetch;
    this.fetch = fetchFn ? fetchFn.bind(globalThis) : null;
    const allowed = options.transports || (this.WebSocket ? ["polling", "websocket"] : ["polling"]);
    const usable = { websocket: Boolean(this.WebSocket), polling: Boolean(this.fetch) };
    this.transports = allowed.filter((name) => usable[name] === true);
    if (!this.transports.length) {
      const names = JSON.stringify(allowed);
      throw new Error(`no usable transport among ${names}: pass a WebSocket or fetch option`);
    }
  }

  socket(nsp, options) {
    let socket = this.sockets.get(nsp);
    if (!socket) {
      socket = new HubSocket(this, nsp, options);
      this.sockets.set(nsp, socket);
    }
    return socket;
  }

  _each(callback) {
    for (const socket of [...this.sockets.values()]) callback(socket);
  }

  _fireAll(event, args) {
    this._each((socket) => socket._fire(event, args));
  }

  /** A socket wants to be connected. */
  _want(socket) {
    if (!this.sockets.has(socket.nsp)) this.sockets.set(socket.nsp, socket);
    this._closedByUser = false;
    if (this.state === "open") socket._sendConnect(this.epoch);
    else if (this.state === "closed" && !this._timers.reconnect) this._open();
  }

  /** A socket no longer wants to be connected: the connection closes once none does. */
  _release(socket) {
    if (socket !== this.root && this.sockets.get(socket.nsp) === socket && !socket.active) {
      this.sockets.delete(socket.nsp);
    }
    if ([...this.sockets.values()].some((item) => item.active)) return;
    this.close();
  }

  _endpoint(transport) {
    const query = { ...(this.options.query || {}), EIO: "4", transport };
    let url = `${this.base}${this.options.path}?${queryString(query)}`;
    if (transport === "websocket") url = url.replace(/^http/, "ws");
    return url;
  }

  _open(transports = this.transports) {
    this.state = "opening";
    const epoch = ++this.epoch;
    this._decoder.reset();
    this._writeBuffer = [];
    clearTimeout(this._timers.open);
    this._timers.open = setTimeout(() => {
      if (epoch === this.epoch && this.state === "opening") {
        this._onOpenFailed(new TimeoutError(`no handshake within ${this.options.timeout} ms`));
      }
    }, this.options.timeout);
    const name = transports[0];
    const fallback = transports.slice(1).filter((item) => item !== name);
    const events = {
      message: (raw) => this._onRaw(transport, raw),
      drain: () => this._flush(),
      close: (reason, error) => {
        if (transport !== this.transport) return;
        if (this.state === "opening") {
          // A WebSocket that cannot open falls back to long-polling at once.
          if (name === "websocket" && fallback.includes("polling")) {
            this._open(["polling", ...fallback.filter((item) => item !== "polling")]);
            return;
          }
          this._onOpenFailed(error);
        } else this._onClose(reason, error);
      },
    };
    let transport;
    try {
      const endpoint = this._endpoint(name);
      if (name === "websocket") transport = new WebSocketTransport(endpoint, this.WebSocket, events);
      else transport = new PollingTransport(endpoint, { ...this.options, fetch: this.fetch }, events);
    } catch (error) {
      this.transport = null;
      this._onOpenFailed(error);
      return;
    }
    this.transport = transport;
    if (name === "polling") transport.open();
  }

  _onRaw(transport, raw) {
    if (transport !== this.transport) return;
    let packet;
    try {
      packet = typeof raw === "object" && raw !== null && "type" in raw ? raw : decodeEnginePacket(raw);
    } catch (error) {
      this._onClose("parse error", error);
      return;
    }
    this._onEnginePacket(packet);
  }

  _onEnginePacket(packet) {
    this._resetPingTimer();
    switch (packet.type) {
      case EIO.OPEN:
        this._onHandshake(packet.data);
        break;
      case EIO.CLOSE:
        this._onClose("transport close", new Error("the hub closed the session"));
        break;
      case EIO.PING:
        this._sendEngine([EIO.PONG]);
        break;
      case EIO.MESSAGE:
        this._onMessage(packet.data);
        break;
      default:
        break; // NOOP, PONG
    }
  }

  _onHandshake(text) {
    if (this.state !== "opening") return;
    let handshake;
    try {
      handshake = JSON.parse(text);
      if (typeof handshake.sid !== "string") throw new Error("no sid");
    } catch (error) {
      this._onOpenFailed(new ProtocolError(`bad handshake: ${error.message}`));
      return;
    }
    clearTimeout(this._timers.open);
    this.sid = handshake.sid;
    this.pingInterval = handshake.pingInterval || 25000;
    this.pingTimeout = handshake.pingTimeout || 20000;
    this.maxPayload = handshake.maxPayload || 1000000;
    this.state = "open";
    if (this.attempt > 0) this.reconnects++;
    this.attempt = 0;
    this._resetPingTimer();
    if (this.transport.name === "polling") this.transport.started(this.sid, this.maxPayload);
    const epoch = this.epoch;
    this._each((socket) => {
      if (socket.active) socket._sendConnect(epoch);
    });
    if (
      this.transport.name === "polling" &&
      this.options.upgrade &&
      this.transports.includes("websocket") &&
      Array.isArray(handshake.upgrades) &&
      handshake.upgrades.includes("websocket")
    ) {
      this._upgrade();
    }
  }

  _resetPingTimer() {
    if (this.state !== "open") return;
    clearTimeout(this._timers.ping);
    const epoch = this.epoch;
    this._timers.ping = setTimeout(() => {
      if (epoch === this.epoch) this._onClose("ping timeout", new TimeoutError("no ping from the hub"));
    }, this.pingInterval + this.pingTimeout);
  }

  /** Probes a WebSocket for this session; once it answers, moves the session to it. */
  _upgrade() {
    const polling = this.transport;
    const epoch = this.epoch;
    let probe;
    const give_up = () => {
      clearTimeout(this._timers.probe);
      if (this._probe === probe) this._probe = null;
      probe.close();
      if (epoch === this.epoch && this.transport === polling && polling.paused) polling.resume();
    };
    const events = {
      open: () => probe.send(["2probe"]),
      message: (raw) => {
        if (this._probe !== probe) {
          this._onRaw(probe, raw);
          return;
        }
        if (raw !== "3probe") return;
        polling.pause().then(() => {
          if (epoch !== this.epoch || this.transport !== polling || probe.closed) {
            give_up();
            return;
          }
          clearTimeout(this._timers.probe);
          this._probe = null;
          probe.send([EIO.UPGRADE]);
          this.transport = probe;
          polling.close();
          this._flush();
          this._fireAll("upgrade", ["websocket"]);
        });
      },
      close: (reason, error) => {
        if (this._probe === probe) give_up();
        else if (probe === this.transport) this._onClose(reason, error);
      },
    };
    try {
      const endpoint = `${this._endpoint("websocket")}&sid=${encodeURIComponent(this.sid)}`;
      probe = new WebSocketTransport(endpoint, this.WebSocket, events);
    } catch {
      return;
    }
    this._probe = probe;
    this._timers.probe = setTimeout(give_up, 10000);
  }

  _onMessage(data) {
    let packet;
    try {
      packet = this._decoder.add(data);
    } catch (error) {
      this._onClose("parse error", error);
      return;
    }
    if (!packet) return;
    const socket = this.sockets.get(packet.nsp);
    if (socket) socket._onPacket(packet);
  }

  _sendPacket(packet) {
    const { text, attachments } = encodePacket(packet);
    this._sendEngine([EIO.MESSAGE + text, ...attachments]);
  }

  _sendEngine(packets) {
    if (this.state !== "open") return;
    this._writeBuffer.push(...packets);
    this._flush();
  }

  _flush() {
    const transport = this.transport;
    if (this.state !== "open" || !transport || !transport.writable || !this._writeBuffer.length) {
      return;
    }
    const packets = this._writeBuffer;
    this._writeBuffer = [];
    this.transport.send(packets);
  }

  _clearTimers() {
    for (const key of Object.keys(this._timers)) {
      clearTimeout(this._timers[key]);
      this._timers[key] = null;
    }
  }

  _dropTransports(last = []) {
    if (this._probe) {
      this._probe.close();
      this._probe = null;
    }
    if (this.transport) this.transport.close(last);
    this.transport = null;
  }

  _onOpenFailed(error) {
    if (this.state === "closed") return;
    this._dropTransports();
    this._clearTimers();
    this.state = "closed";
    this.epoch++;
    const failure = error instanceof Error ? error : new Error(String(error));
    this._each((socket) => {
      socket._onClose("transport error");
      if (socket.active) socket._fire("connect_error", [failure]);
    });
    this._scheduleReconnect(failure);
  }

  _onClose(reason, error) {
    if (this.state === "closed") return;
    if (this.state === "opening") {
      this._onOpenFailed(error || new Error(reason));
      return;
    }
    this._dropTransports();
    this._clearTimers();
    this.state = "closed";
    this.epoch++;
    this._writeBuffer = [];
    this._each((socket) => socket._onClose(reason));
    this._scheduleReconnect(error);
  }

  _scheduleReconnect(error) {
    if (this._closedByUser || !this.options.reconnection) return;
    if (![...this.sockets.values()].some((socket) => socket.active)) return;
    if (this.attempt >= this.options.reconnectionAttempts) {
      this.attempt = 0;
      this._each((socket) => {
        const info = { attempts: this.options.reconnectionAttempts };
        if (socket.active) socket._fire("reconnect_failed", [info]);
      });
      return;
    }
    this.attempt++;
    const delay = backoffDelay(this.attempt, {
      initial: this.options.reconnectionDelay,
      max: this.options.reconnectionDelayMax,
      jitter: this.options.randomizationFactor,
    });
    const info = { attempt: this.attempt, delay, error: error ? error.message : undefined };
    this._timers.reconnect = setTimeout(() => {
      this._timers.reconnect = null;
      if (!this._closedByUser && this.state === "closed") this._open();
    }, delay);
    this._each((socket) => {
      if (socket.active) socket._fire("reconnecting", [info]);
    });
  }

  /** Ends everything: DISCONNECT for each namespace, the Engine.IO close, no reconnect. */
  close() {
    this._closedByUser = true;
    const last = [];
    if (this.state === "open") {
      for (const socket of this.sockets.values()) {
        if (!socket.connected) continue;
        last.push(EIO.MESSAGE + encodePacket({ type: SIO.DISCONNECT, nsp: socket.nsp }).text);
      }
      last.push(EIO.CLOSE);
    }
    const packets = this._writeBuffer.concat(last);
    this._writeBuffer = [];
    this._dropTransports(packets);
    this._clearTimers();
    this.state = "closed";
    this.epoch++;
    this._each((socket) => {
      socket.active = false;
      socket.pid = null;
      socket._clearQueue(new HubError("the client was closed"));
      socket._onClose("io client disconnect");
    });
  }
}

// --- The client -----------------------------------------------------------------------------

function parseUrl(url) {
  const location = globalThis.location;
  const base = typeof location === "object" && location ? location.href : undefined;
  const parsed = new URL(url ?? base, base);
  const protocol = { "ws:": "http:", "wss:": "https:" }[parsed.protocol] || parsed.protocol;
  if (protocol !== "http:" && protocol !== "https:") {
    throw new TypeError(`not an http(s) or ws(s) URL: ${url}`);
  }
  const nsp = parsed.pathname && parsed.pathname !== "/" ? parsed.pathname : "/";
  return { base: `${protocol}//${parsed.host}`, nsp };
}

/**
 * The client of one hub: the namespace of its URL (or `options.namespace`), on a
 * connection other namespaces may share (`of`). Connects at once unless
 * `autoConnect: false`.
 */
export class HubClient extends HubSocket {
  constructor(url, options = {}) {
    const resolved = resolveOptions(options);
    const { base, nsp } = parseUrl(url);
    const connection = new Connection(base, resolved);
    super(connection, resolved.namespace || nsp, resolved);
    connection.root = this;
    connection.sockets.set(this.nsp, this);
    if (resolved.autoConnect) this.connect();
  }

  /** Another namespace on the same connection; `options` may set its own `auth`, queue... */
  of(nsp, options = {}) {
    const name = nsp.startsWith("/") ? nsp : `/${nsp}`;
    const existing = this.io.sockets.get(name);
    if (existing) return existing;
    const socket = this.io.socket(name, resolveOptions({ ...this.options, namespace: name, ...options }));
    if (options.autoConnect ?? this.options.autoConnect) socket.connect();
    return socket;
  }

  /** Closes every namespace and the connection; no reconnect follows. */
  close() {
    this.io.close();
    return this;
  }

  /** Connections opened after retries (a lost connection, a failed first try). */
  get reconnects() {
    return this.io.reconnects;
  }
}

/** `new HubClient(url, options)`: connects at once unless `autoConnect: false`. */
export function connect(url, options = {}) {
  return new HubClient(url, options);
}

export default connect;
