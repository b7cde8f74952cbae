// Transport choice: long-polling without a WebSocket, the fall back when one cannot open.
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "../hub-client.js";
import { FakeHub } from "../support/fake_hub.mjs";

/** A WebSocket whose connection always fails, as behind a proxy that blocks them. */
class BlockedWebSocket {
  static opened = [];
  constructor(url) {
    BlockedWebSocket.opened.push(url);
    this.readyState = 0;
    setTimeout(() => {
      this.readyState = 3;
      this.onerror?.({});
      this.onclose?.({ code: 1006 });
    }, 5);
  }
  send() {
    throw new Error("not open");
  }
  close() {}
}

test("without a WebSocket the client long-polls", async () => {
  const hub = new FakeHub();
  const client = hub.client();
  try {
    await client.waitFor("connect");
    assert.equal(client.transport, "polling");
  } finally {
    client.close();
  }
});

test("a WebSocket that cannot open falls back to long-polling at once", async () => {
  const hub = new FakeHub();
  const errors = [];
  const client = hub.client({ WebSocket: BlockedWebSocket, transports: ["websocket", "polling"] });
  client.on("connect_error", (error) => errors.push(error));
  try {
    await client.waitFor("connect");
    assert.equal(client.transport, "polling");
    assert.deepEqual(BlockedWebSocket.opened, ["ws://hub.test/socket.io/?EIO=4&transport=websocket"]);
    assert.deepEqual(errors, []);
  } finally {
    client.close();
  }
});

test("query options and the path reach the requests", async () => {
  const hub = new FakeHub();
  const urls = [];
  const fetch = (url, init) => {
    urls.push(url);
    return hub.fetch(url, init);
  };
  const client = connect("http://hub.test", { fetch, path: "/events/", query: { app: "dash" } });
  try {
    await client.waitFor("connect");
    assert.match(urls[0], /^http:\/\/hub\.test\/events\/\?app=dash&EIO=4&transport=polling&t=/);
  } finally {
    client.close();
  }
});

test("no usable transport is an error at once; ws:// URLs and namespaces in the URL", () => {
  if (!globalThis.WebSocket) { // Node 20 has none (Node 22 has)
    assert.throws(() => connect("http://hub.test", { transports: ["websocket"], autoConnect: false }), /no usable transport/);
  }
  const hub = new FakeHub();
  const client = connect("ws://hub.test/dash", { fetch: hub.fetch, autoConnect: false });
  assert.equal(client.nsp, "/dash");
  assert.equal(client.io.base, "http://hub.test");
  assert.throws(() => connect("ftp://hub.test"), /not an http/);
});
