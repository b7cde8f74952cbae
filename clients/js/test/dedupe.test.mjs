// Per-user emitter events: acks sent, resent events (same id) delivered to handlers once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RecentIds } from "../hub-client.js";
import { FakeHub, sleep, until } from "../support/fake_hub.mjs";

test("RecentIds remembers a bounded window of ids", () => {
  const ids = new RecentIds(3);
  assert.equal(ids.add("a", 1), true);
  assert.equal(ids.add("a", 2), false);
  assert.equal(ids.get("a"), 1);
  ids.add("b");
  ids.add("c");
  ids.add("d");
  assert.equal(ids.has("a"), false);
  assert.equal(ids.size, 3);
  assert.ok(ids.has("d"));
});

test("a user event is acked; its resends are acked again and not delivered again", async () => {
  const hub = new FakeHub();
  const client = hub.client({ auth: { user: "alice" } });
  const got = [];
  client.on("job_done", (data, meta) => got.push([data, meta]));
  try {
    await client.waitFor("connect");
    assert.deepEqual(hub.session.auths, [{ user: "alice" }]);
    hub.event(["job_done", { job: 7 }, { id: "boot-1" }], { ackId: 5 });
    await until(() => hub.packets("435").length === 1, "the ack");
    hub.event(["job_done", { job: 7 }, { id: "boot-1" }], { ackId: 6 });
    hub.event(["job_done", { job: 8 }, { id: "boot-2" }]);
    await until(() => hub.packets("436").length === 1, "the second ack");
    await until(() => got.length === 2, "the second event");
    assert.deepEqual(got, [
      [{ job: 7 }, { id: "boot-1" }],
      [{ job: 8 }, { id: "boot-2" }],
    ]);
    assert.deepEqual(hub.packets("43"), ["435[]", "436[]"]);
    assert.equal(client.stats.duplicates, 1);
  } finally {
    client.close();
  }
});

test("the ack waits for an async handler; a resend meanwhile is acked after it too", async () => {
  const hub = new FakeHub();
  const client = hub.client();
  let finish;
  let calls = 0;
  client.on("save", () => {
    calls++;
    return new Promise((resolve) => {
      finish = resolve;
    });
  });
  try {
    await client.waitFor("connect");
    hub.event(["save", 1, { id: "b-9" }], { ackId: 1 });
    await until(() => calls === 1, "the handler");
    hub.event(["save", 1, { id: "b-9" }], { ackId: 2 });
    await sleep(30);
    assert.deepEqual(hub.packets("43"), []);
    finish();
    await until(() => hub.packets("43").length === 2, "both acks");
    assert.deepEqual(hub.packets("43"), ["431[]", "432[]"]);
    assert.equal(calls, 1);
  } finally {
    client.close();
  }
});

test("an ack of a session that ended is not sent to the next one", async () => {
  const hub = new FakeHub();
  const client = hub.client();
  let finish;
  client.on("slow", () => new Promise((resolve) => (finish = resolve)));
  try {
    await client.waitFor("connect");
    hub.event(["slow", 1, { id: "b-1" }], { ackId: 3 });
    await until(() => finish !== undefined, "the handler");
    hub.down();
    await client.waitFor("disconnect");
    hub.up();
    await client.waitFor("connect");
    finish();
    await sleep(30);
    assert.deepEqual(hub.packets("43"), []);
    // The hub sends it again to the new session: acked at once, not delivered again.
    hub.event(["slow", 1, { id: "b-1" }], { ackId: 0 });
    await until(() => hub.packets("43").length === 1, "the ack");
    assert.deepEqual(hub.packets("43"), ["430[]"]);
  } finally {
    client.close();
  }
});

test("broadcasts are not mistaken for user events; userEvents: false turns recognition off", async () => {
  const hub = new FakeHub();
  const client = hub.client();
  const plain = hub.client({ userEvents: false });
  const got = [];
  const raw = [];
  client.on("news", (...args) => got.push(args));
  plain.on("news", (...args) => raw.push(args));
  try {
    await client.waitFor("connect");
    await plain.waitFor("connect");
    const [first, second] = hub.sessions;
    hub.event(["news", { n: 1 }, { id: "x", other: 1 }], { session: first });
    hub.event(["news", { n: 1 }, { id: "x", other: 1 }], { session: first });
    hub.event(["news", { n: 2 }, { id: "x" }], { session: second });
    hub.event(["news", { n: 2 }, { id: "x" }], { session: second });
    await until(() => got.length === 2 && raw.length === 2, "the events");
    assert.equal(client.stats.duplicates, 0);
    assert.equal(plain.stats.duplicates, 0);
  } finally {
    client.close();
    plain.close();
  }
});

test("plain events with an ack id get an ack callback as their last argument", async () => {
  const hub = new FakeHub();
  const client = hub.client();
  client.on("question", (text, answer) => answer(text.toUpperCase(), 42));
  try {
    await client.waitFor("connect");
    hub.event(["question", "why"], { ackId: 8 });
    await until(() => hub.packets("43").length === 1, "the answer");
    assert.deepEqual(hub.packets("43"), ['438["WHY",42]']);
  } finally {
    client.close();
  }
});
