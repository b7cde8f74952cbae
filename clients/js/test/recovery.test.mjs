// Connection state recovery as Socket.IO does it: pid and offset sent back, `recovered`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeHub, until } from "../support/fake_hub.mjs";

test("offsets are tracked, sent back with the pid, and the same sid means recovered", async () => {
  const hub = new FakeHub({ pid: "P1" });
  const client = hub.client({ auth: { token: "t" } });
  const got = [];
  const order = [];
  client.on("news", (data, offset) => {
    got.push([data, offset]);
    order.push(`news ${data}`);
  });
  client.on("connect", (info) => order.push(`connect ${info.recovered}`));
  try {
    await client.waitFor("connect");
    assert.equal(client.pid, "P1");
    assert.equal(client.recovered, false);
    const sid = client.id;
    hub.event(["news", 1, "boot-1"]);
    hub.event(["news", 2, "boot-2"]);
    await until(() => got.length === 2, "two events");
    assert.equal(client.offset, "boot-2");
    // An event with an ack id or a user event carries no offset.
    hub.event(["news", 3, "not-an-offset"], { ackId: 1 });
    hub.event(["job", 4, { id: "b-1" }]);
    await until(() => got.length === 3, "three events");
    assert.equal(client.offset, "boot-2");

    hub.recoverSid = sid;
    hub.onPacket = (packet, session) => {
      // Missed events come before the CONNECT reply, as the hub sends them.
      if (packet.startsWith("40")) hub.send('42["news",5,"boot-5"]', session);
      hub.defaultReply(packet, session);
    };
    hub.down();
    await client.waitFor("disconnect");
    hub.up();
    await client.waitFor("connect");
    assert.deepEqual(hub.session.auths, [{ pid: "P1", offset: "boot-2", token: "t" }]);
    assert.equal(client.recovered, true);
    assert.equal(client.id, sid);
    assert.equal(client.offset, "boot-5");
    assert.deepEqual(order.slice(-2), ["news 5", "connect true"]);
  } finally {
    client.close();
  }
});

test("another sid back is a fresh session: rooms of join() are joined again, with the offset", async () => {
  const hub = new FakeHub({ pid: "P1" });
  const client = hub.client();
  hub.onPacket = (packet, session) => {
    const join = /^42(\d+)\["join",(.*)\]$/.exec(packet);
    if (join) hub.send(`43${join[1]}[{"ok":true,"room":"r","replayed":0,"complete":false}]`, session);
    else hub.defaultReply(packet, session);
  };
  const rejoined = [];
  client.on("rejoin", (info) => rejoined.push(info));
  try {
    await client.waitFor("connect");
    assert.deepEqual(await client.join("r"), { ok: true, room: "r", replayed: 0, complete: false });
    assert.deepEqual([...client.rooms], ["r"]);
    hub.event(["news", 1, "old-7"]);
    await until(() => client.offset === "old-7", "the offset");
    hub.down();
    await client.waitFor("disconnect");
    hub.up();
    const [info] = await client.waitFor("connect");
    assert.equal(info.recovered, false);
    assert.equal(client.offset, null); // the next recovery starts from this session's join
    await until(() => rejoined.length === 1, "the rejoin");
    assert.deepEqual(rejoined, [{ room: "r", ok: true, replayed: 0, complete: false }]);
    const joins = hub.packets("42").filter((packet) => packet.includes('"join"'));
    assert.match(joins[1], /^42\d+\["join","r","old-7"\]$/);
  } finally {
    client.close();
  }
});

test("join/leave/replay refusals reject with the hub's reason", async () => {
  const hub = new FakeHub();
  hub.onPacket = (packet, session) => {
    const call = /^42(\d+)\["(\w+)"/.exec(packet);
    if (call) hub.send(`43${call[1]}[{"ok":false,"error":"${call[2]} takes a room name"}]`, session);
    else hub.defaultReply(packet, session);
  };
  const client = hub.client();
  try {
    await assert.rejects(client.join(""), { name: "HubError", message: "join refused: join takes a room name" });
    await assert.rejects(client.replay(""), /replay refused/);
    await assert.rejects(client.leave(""), /leave refused/);
    assert.equal(client.rooms.size, 0);
  } finally {
    client.close();
  }
});

test("close() forgets the pid: the next connect starts afresh", async () => {
  const hub = new FakeHub({ pid: "P1" });
  const client = hub.client();
  await client.waitFor("connect");
  client.close();
  assert.equal(client.pid, null);
  client.connect();
  await client.waitFor("connect");
  assert.deepEqual(hub.session.auths, [null]);
  client.close();
});
