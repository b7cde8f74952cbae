// Handler errors are caught and reported; the connection and the other handlers go on.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeHub, until } from "../support/fake_hub.mjs";

test("a throwing handler is reported on 'error' and the next events still arrive", async () => {
  const hub = new FakeHub();
  const client = hub.client();
  const errors = [];
  const got = [];
  client.on("error", (error, info) => errors.push([error.message, info.kind, info.event, info.args]));
  client.on("news", (data) => {
    if (data.n === 1) throw new Error("boom");
    got.push(data.n);
  });
  client.on("news", (data) => got.push(`second ${data.n}`));
  try {
    await client.waitFor("connect");
    hub.event(["news", { n: 1 }]);
    hub.event(["news", { n: 2 }]);
    await until(() => got.length === 3, "the events");
    assert.deepEqual(got, ["second 1", 2, "second 2"]);
    assert.deepEqual(errors, [["boom", "handler", "news", [{ n: 1 }]]]);
    assert.equal(client.connected, true);
    assert.equal(client.stats.handlerErrors, 1);
  } finally {
    client.close();
  }
});

test("async handlers' rejections, onError, and user events still acked", async () => {
  const hub = new FakeHub();
  const reported = [];
  const client = hub.client({ onError: (error, info) => reported.push(["onError", error.message, info.event]) });
  client.on("error", (error) => reported.push(["event", error.message]));
  client.on("job", async () => {
    throw new Error("async boom");
  });
  try {
    await client.waitFor("connect");
    hub.event(["job", 1, { id: "b-1" }], { ackId: 2 });
    await until(() => hub.packets("43").length === 1, "the ack");
    assert.deepEqual(reported, [
      ["onError", "async boom", "job"],
      ["event", "async boom"],
    ]);
  } finally {
    client.close();
  }
});

test("errors in the client's own events and in error listeners never escape", async () => {
  const hub = new FakeHub();
  const client = hub.client();
  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args.map(String).join(" "));
  try {
    client.on("connect", () => {
      throw new Error("connect listener");
    });
    client.on("error", (error) => {
      throw new Error(`error listener saw ${error.message}`);
    });
    await client.waitFor("connect");
    client.on("x", () => {
      throw new Error("x listener");
    });
    hub.event(["x"]);
    await until(() => logged.length === 2, "two logged errors");
    assert.match(logged[0], /an error listener threw.*error listener saw connect listener/);
    assert.match(logged[1], /error listener saw x listener/);
    assert.equal(client.connected, true);
  } finally {
    console.error = original;
    client.close();
  }
});

test("with no error listener nor onError, errors go to console.error", async () => {
  const hub = new FakeHub();
  const client = hub.client();
  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args);
  try {
    client.on("x", () => {
      throw new Error("unheard");
    });
    await client.waitFor("connect");
    hub.event(["x", 1]);
    await until(() => logged.length === 1, "the log line");
    assert.match(String(logged[0][0]), /listener of "x" threw/);
    assert.equal(logged[0][1].message, "unheard");
  } finally {
    console.error = original;
    client.close();
  }
});

test("a refused connect is a connect_error with the hub's data; no retry", async () => {
  const hub = new FakeHub();
  hub.onPacket = (packet, session) => {
    if (packet.startsWith("40")) hub.send('44{"message":"bad token","data":{"reason":"invalid_token"}}', session);
  };
  const client = hub.client({ auth: { token: "nope" } });
  try {
    const [error] = await client.waitFor("connect_error");
    assert.equal(error.message, "bad token");
    assert.deepEqual(error.data, { reason: "invalid_token" });
    assert.equal(client.active, false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(hub.handshakes, 1);
  } finally {
    client.close();
  }
});
