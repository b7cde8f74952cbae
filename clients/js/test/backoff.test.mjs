// Reconnect backoff: the delay formula, and what a client does while the hub is away.
import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffDelay } from "../hub-client.js";
import { FakeHub, until } from "../support/fake_hub.mjs";

test("delays double from the initial one up to the maximum", () => {
  const none = () => 0; // no jitter drawn: the base delay itself
  const delays = [1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, { initial: 1000, max: 5000, jitter: 0.5 }, none));
  assert.deepEqual(delays, [1000, 2000, 4000, 5000, 5000, 5000]);
  assert.equal(backoffDelay(3, undefined, none), 4000); // defaults: 1 s initial, 5 s max
  assert.equal(backoffDelay(1000, { initial: 1000, max: 5000 }, none), 5000); // no overflow
  assert.equal(backoffDelay(0, {}, none), 1000); // attempts count from 1
});

test("jitter takes up to its share off, never adds", () => {
  const most = () => 0.999999;
  assert.equal(backoffDelay(1, { initial: 1000, max: 5000, jitter: 0.5 }, most), 500);
  assert.equal(backoffDelay(5, { initial: 1000, max: 5000, jitter: 0.5 }, most), 2500);
  assert.equal(backoffDelay(3, { initial: 100, max: 5000, jitter: 0 }, most), 400);
  for (let attempt = 1; attempt < 20; attempt++) {
    const delay = backoffDelay(attempt, { initial: 1000, max: 5000, jitter: 0.5 });
    const base = Math.min(5000, 1000 * 2 ** (attempt - 1));
    assert.ok(delay >= base / 2 && delay <= base, `${attempt}: ${delay}`);
  }
});

test("reconnecting events report each attempt and its delay; the client comes back", async () => {
  const hub = new FakeHub();
  const client = hub.client({ reconnectionDelay: 20, reconnectionDelayMax: 60, randomizationFactor: 0 });
  const seen = [];
  client.on("reconnecting", (info) => seen.push(info));
  const disconnects = [];
  client.on("disconnect", (reason) => disconnects.push(reason));
  try {
    await client.waitFor("connect");
    hub.down();
    await until(() => seen.length >= 4, "four attempts");
    assert.deepEqual(
      seen.slice(0, 4).map(({ attempt, delay }) => [attempt, delay]),
      [
        [1, 20],
        [2, 40],
        [3, 60],
        [4, 60],
      ],
    );
    assert.equal(disconnects[0], "transport error");
    hub.up();
    const [info] = await client.waitFor("connect");
    assert.equal(info.recovered, false);
    assert.equal(client.connected, true);
    assert.equal(client.reconnects, 1);
  } finally {
    client.close();
  }
});

test("bounded attempts end with reconnect_failed; connect() tries again", async () => {
  const hub = new FakeHub();
  hub.down();
  const client = hub.client({ reconnectionAttempts: 2, reconnectionDelay: 5, reconnectionDelayMax: 5 });
  const errors = [];
  client.on("connect_error", (error) => errors.push(error.message));
  try {
    const [failed] = await client.waitFor("reconnect_failed", undefined, 2000);
    assert.deepEqual(failed, { attempts: 2 });
    assert.equal(errors.length, 3); // the first try and two reconnects
    hub.up();
    client.connect();
    await client.waitFor("connect");
  } finally {
    client.close();
  }
});

test("no reconnection when it is off, nor after close()", async () => {
  const hub = new FakeHub();
  const client = hub.client({ reconnection: false });
  await client.waitFor("connect");
  hub.down();
  await client.waitFor("disconnect");
  let attempts = 0;
  client.on("reconnecting", () => attempts++);
  hub.up();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(attempts, 0);
  assert.equal(hub.handshakes, 1);
  client.close();

  const other = hub.client();
  await other.waitFor("connect");
  other.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(hub.handshakes, 2);
  assert.ok(hub.received.includes("41") && hub.received.includes("1"), hub.received.join(" "));
});
