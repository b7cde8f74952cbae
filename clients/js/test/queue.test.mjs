// The offline emit queue: bounded, ordered, flushed on (re)connect.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BoundedQueue, HubError, TimeoutError } from "../hub-client.js";
import { FakeHub, sleep, until } from "../support/fake_hub.mjs";

test("BoundedQueue keeps order and drops the oldest past its limit", () => {
  const queue = new BoundedQueue(3);
  assert.equal(queue.push(1), undefined);
  queue.push(2);
  queue.push(3);
  assert.equal(queue.push(4), 1);
  assert.equal(queue.size, 3);
  assert.equal(queue.remove(3), true);
  assert.equal(queue.remove(3), false);
  assert.deepEqual(queue.drain(), [2, 4]);
  assert.equal(queue.size, 0);
  const none = new BoundedQueue(0);
  assert.equal(none.push("x"), "x");
  assert.equal(none.size, 0);
});

const events = (hub) => hub.packets("42").map((packet) => JSON.parse(packet.slice(2).replace(/^\d+/, "")));

test("emits made before the first connect go out in order once connected", async () => {
  const hub = new FakeHub();
  const client = hub.client();
  try {
    assert.equal(client.connected, false);
    client.emit("a", 1);
    const acked = client.emitWithAck("b", 2);
    client.emit("c", 3);
    assert.equal(client.queued, 3);
    await client.waitFor("connect");
    assert.equal(client.queued, 0);
    await until(() => events(hub).length === 3, "the flush");
    assert.deepEqual(events(hub), [["a", 1], ["b", 2], ["c", 3]]);
    // The ack of "b": the hub answers ack id 0.
    const ackId = /^42(\d+)/.exec(hub.packets('42')[1])[1];
    hub.send(`43${ackId}[{"ok":true}]`);
    assert.deepEqual(await acked, { ok: true });
  } finally {
    client.close();
  }
});

test("emits made while the hub is away wait and are flushed after the reconnect", async () => {
  const hub = new FakeHub();
  const client = hub.client();
  try {
    await client.waitFor("connect");
    client.emit("before", 0);
    await until(() => events(hub).length === 1, "the first emit");
    hub.down();
    await client.waitFor("disconnect");
    for (let i = 1; i <= 5; i++) assert.equal(client.emit("offline", i), true);
    assert.equal(client.queued, 5);
    assert.equal(events(hub).length, 1);
    hub.up();
    await client.waitFor("connect");
    await until(() => events(hub).length === 6, "the flush");
    assert.deepEqual(events(hub).slice(1), [1, 2, 3, 4, 5].map((i) => ["offline", i]));
    // The flush happens before the connect listeners run: they see an empty queue.
    assert.equal(client.queued, 0);
  } finally {
    client.close();
  }
});

test("a full queue drops its oldest emit, reports it and rejects its ack", async () => {
  const hub = new FakeHub();
  hub.down();
  const client = hub.client({ queueSize: 2 });
  const drops = [];
  client.on("drop", (info) => drops.push(info));
  try {
    const first = client.emitWithAck("one", 1);
    client.emit("two", 2);
    client.emit("three", 3);
    await assert.rejects(first, HubError);
    assert.deepEqual(drops, [{ event: "one", args: [1], reason: "queue_full" }]);
    assert.equal(client.stats.dropped, 1);
    hub.up();
    await client.waitFor("connect");
    await until(() => events(hub).length === 2, "the flush");
    assert.deepEqual(events(hub), [["two", 2], ["three", 3]]);
  } finally {
    client.close();
  }
});

test("queueSize 0 keeps nothing: emit returns false while offline", async () => {
  const hub = new FakeHub();
  hub.down();
  const client = hub.client({ queueSize: 0 });
  try {
    assert.equal(client.emit("lost", 1), false);
    await assert.rejects(client.emitWithAck("lost", 2), HubError);
    assert.equal(client.stats.dropped, 2);
  } finally {
    client.close();
  }
});

test("an ack timeout counts time in the queue and takes the emit out of it", async () => {
  const hub = new FakeHub();
  hub.down();
  const client = hub.client();
  try {
    const started = Date.now();
    await assert.rejects(client.emitWithAck("slow", 1, { timeout: 50 }), TimeoutError);
    assert.ok(Date.now() - started < 1000);
    assert.equal(client.queued, 0);
    hub.up();
    await client.waitFor("connect");
    await sleep(30);
    assert.deepEqual(events(hub), []);
  } finally {
    client.close();
  }
});

test("close() rejects what waits in the queue", async () => {
  const hub = new FakeHub();
  hub.down();
  const client = hub.client();
  const waiting = client.emitWithAck("never", 1);
  client.close();
  await assert.rejects(waiting, /closed/);
  assert.equal(client.queued, 0);
});

test("waiting acks are rejected when the connection drops", async () => {
  const hub = new FakeHub();
  const client = hub.client();
  try {
    await client.waitFor("connect");
    const pending = client.emitWithAck("x", 1, { timeout: 0 });
    await until(() => events(hub).length === 1, "the emit");
    hub.down();
    await assert.rejects(pending, /disconnected \(transport error\)/);
  } finally {
    client.close();
  }
});

test("reserved event names cannot be emitted", async () => {
  const hub = new FakeHub();
  const client = hub.client({ autoConnect: false });
  assert.throws(() => client.emit("connect"), /reserved/);
  await assert.rejects(client.emitWithAck("disconnect"), /reserved/);
  assert.throws(() => client.emit(""), TypeError);
  client.close();
});
