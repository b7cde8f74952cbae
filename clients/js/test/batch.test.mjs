// Batches of a user emitter (`hub:batch`): unpacked, dispatched one by one, in order.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BATCH_EVENT, unpackUserEvents } from "../hub-client.js";
import { FakeHub, until } from "../support/fake_hub.mjs";

test("unpackUserEvents reads batches and single user events", () => {
  assert.deepEqual(
    unpackUserEvents(BATCH_EVENT, [
      [
        { event: "progress", data: { pct: 41 }, id: "b-18" },
        { event: "log", data: "line", id: "b-19" },
        { event: "bare", id: "b-20" },
      ],
    ]),
    [
      { event: "progress", args: [{ pct: 41 }, { id: "b-18" }] },
      { event: "log", args: ["line", { id: "b-19" }] },
      { event: "bare", args: [null, { id: "b-20" }] },
    ],
  );
  assert.deepEqual(unpackUserEvents("job", [null, { id: "b-1" }]), [{ event: "job", args: [null, { id: "b-1" }] }]);
  assert.equal(unpackUserEvents("job", [{ a: 1 }]), null);
  assert.equal(unpackUserEvents("job", [{ a: 1 }, "offset"]), null);
  assert.equal(unpackUserEvents("job", [1, { id: 5 }]), null);
  assert.equal(unpackUserEvents("job", [1, { id: "x" }, "more"]), null);
  assert.equal(unpackUserEvents(BATCH_EVENT, ["not a list"]), null);
});

test("each event of a batch reaches its own handlers in order; duplicates inside are dropped", async () => {
  const hub = new FakeHub();
  const client = hub.client();
  const seen = [];
  client.on("progress", (data, meta) => seen.push(["progress", data.pct, meta.id]));
  client.on("log", (data, meta) => seen.push(["log", data, meta.id]));
  let batches = 0;
  client.on(BATCH_EVENT, () => batches++);
  try {
    await client.waitFor("connect");
    hub.event([
      BATCH_EVENT,
      [
        { event: "progress", data: { pct: 1 }, id: "b-1" },
        { event: "log", data: "one", id: "b-2" },
        { event: "progress", data: { pct: 2 }, id: "b-3" },
      ],
    ]);
    hub.event([BATCH_EVENT, [{ event: "log", data: "one", id: "b-2" }, { event: "log", data: "two", id: "b-4" }]]);
    await until(() => seen.length === 4, "four events");
    assert.deepEqual(seen, [
      ["progress", 1, "b-1"],
      ["log", "one", "b-2"],
      ["progress", 2, "b-3"],
      ["log", "two", "b-4"],
    ]);
    assert.equal(batches, 0); // the batch itself is not an event of its own
    assert.equal(client.stats.duplicates, 1);
    assert.deepEqual(hub.packets("43"), []); // batches ask for no ack
  } finally {
    client.close();
  }
});

test("waitFor sees the unpacked events and their predicate", async () => {
  const hub = new FakeHub();
  const client = hub.client();
  try {
    await client.waitFor("connect");
    const waiting = client.waitFor("progress", (data) => data.pct >= 50, 1000);
    hub.event([BATCH_EVENT, [10, 50, 90].map((pct, i) => ({ event: "progress", data: { pct }, id: `b-${i}` }))]);
    assert.deepEqual(await waiting, [{ pct: 50 }, { id: "b-1" }]);
    await assert.rejects(client.waitFor("never", undefined, 30), { name: "TimeoutError" });
    const throwing = client.waitFor("progress", () => {
      throw new Error("bad predicate");
    });
    hub.event(["progress", { pct: 1 }, { id: "b-7" }]);
    await assert.rejects(throwing, /bad predicate/);
  } finally {
    client.close();
  }
});
