// A hub simulated behind a fake `fetch`: the client's long-polling transport talks to it
// with no network. Each handshake opens a session; a GET takes what the session has
// buffered or waits for it; a POST hands the client's packets to `onPacket` (by default a
// CONNECT is answered `40{"sid": ...}`). `down()` makes the hub unreachable (requests
// fail, the waiting GET too), `up()` brings it back.
import { connect, decodePayload, encodePayload } from "../hub-client.js";

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` every 5 ms; rejects after `ms`. */
export async function until(predicate, what = "the condition", ms = 2000) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

function response(status, body) {
  return { ok: status >= 200 && status < 300, status, text: async () => body };
}

export class FakeHub {
  constructor({ pingInterval = 25000, pingTimeout = 20000, pid = null } = {}) {
    this.pingInterval = pingInterval;
    this.pingTimeout = pingTimeout;
    this.pid = pid; // set: CONNECT replies carry a pid (recovery on)
    this.sessions = [];
    this.received = []; // every client packet, as text ("40{...}", "42[...]", "3", ...)
    this.handshakes = 0;
    this.reachable = true;
    this.sidCounter = 0;
    this.onPacket = (packet, session) => this.defaultReply(packet, session);
    this.fetch = (url, init = {}) => this._fetch(new URL(url), init);
  }

  get session() {
    return this.sessions[this.sessions.length - 1];
  }

  /** A client of this hub (long-polling over the fake fetch); options as for connect(). */
  client(options = {}) {
    return connect("http://hub.test", { fetch: this.fetch, reconnectionDelay: 10, reconnectionDelayMax: 40, ...options });
  }

  defaultReply(packet, session) {
    const match = /^40(\/[^,]*,)?(.*)$/.exec(packet);
    if (!match) return;
    const nsp = match[1] || "";
    const auth = match[2] ? JSON.parse(match[2]) : null;
    session.auths.push(auth);
    let sid = `nsp-sid-${++this.sidCounter}`;
    if (this.pid && auth && auth.pid === this.pid && this.recoverSid) sid = this.recoverSid;
    const reply = this.pid ? { sid, pid: this.pid } : { sid };
    this.send(`40${nsp}${JSON.stringify(reply)}`, session);
  }

  /** Queues Engine.IO packets (text) for the client of `session` (the latest by default). */
  send(packet, session = this.session) {
    session.outbox.push(packet);
    session.wake();
  }

  /** Sends a Socket.IO EVENT `42[...]` (`ackId` adds an ack id). */
  event(args, { ackId = null, session = this.session } = {}) {
    this.send(`42${ackId === null ? "" : ackId}${JSON.stringify(args)}`, session);
  }

  packets(prefix) {
    return this.received.filter((packet) => packet.startsWith(prefix));
  }

  down() {
    this.reachable = false;
    for (const session of this.sessions) session.kill();
  }

  up() {
    this.reachable = true;
  }

  async _fetch(url, init) {
    await sleep(0);
    if (!this.reachable) throw new TypeError("fetch failed: connection refused");
    const sid = url.searchParams.get("sid");
    const method = init.method || "GET";
    if (!sid) {
      this.handshakes++;
      const session = this._open();
      const open = { sid: session.sid, upgrades: [], pingInterval: this.pingInterval, pingTimeout: this.pingTimeout, maxPayload: 1000000 };
      return response(200, `0${JSON.stringify(open)}`);
    }
    const session = this.sessions.find((item) => item.sid === sid && item.alive);
    if (!session) return response(400, '{"code":1,"message":"Session ID unknown"}');
    if (method === "POST") {
      for (const packet of decodePayload(init.body)) {
        const text = typeof packet.data === "string" ? packet.type + packet.data : packet.data;
        this.received.push(text);
        if (text === "1") session.kill();
        else this.onPacket(text, session);
      }
      return response(200, "ok");
    }
    const body = await session.take(init.signal);
    return response(200, body);
  }

  _open() {
    const session = {
      sid: `eio-${this.sessions.length + 1}`,
      outbox: [],
      auths: [],
      alive: true,
      waiter: null,
      wake() {
        if (this.waiter) this.waiter();
      },
      kill() {
        this.alive = false;
        this.wake();
      },
      take(signal) {
        return new Promise((resolve, reject) => {
          const settle = () => {
            if (!this.alive) {
              this.waiter = null;
              reject(new TypeError("fetch failed: other side closed"));
            } else if (this.outbox.length) {
              this.waiter = null;
              resolve(encodePayload(this.outbox.splice(0)));
            }
          };
          this.waiter = settle;
          signal?.addEventListener("abort", () => {
            this.waiter = null;
            reject(new DOMException("aborted", "AbortError"));
          });
          settle();
        });
      },
    };
    this.sessions.push(session);
    return session;
  }
}
