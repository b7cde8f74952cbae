// Three sockets on /test: room membership decides who gets a hub.emit broadcast.
//   a joins room-a, b joins room-b, c (no room) triggers the broadcasts:
//   1 -> room-a, 2 -> [room-a, room-b] after a also joined room-b (a must get it once),
//   3 -> room-a after a left both rooms (nobody), 4 -> whole namespace (everyone).
import { ack, connect, connected, record, run, sleep, waitFor } from "./lib.mjs";

const auth = { token: "secret" };
const QUIET_MS = 300;

run("rooms", async (url) => {
  const [a, b, c] = await Promise.all(
    ["a", "b", "c"].map(() => connected(connect(url, "/test", { auth }))),
  );
  const news = { a: record(a, "news"), b: record(b, "news"), c: record(c, "news") };
  const has = (who, n) => news[who].some((args) => args[0] && args[0].n === n);
  const out = {};

  out.joinA = await ack(a, "join", "room-a");
  out.joinB = await ack(b, "join", "room-b");
  out.count1 = await ack(c, "broadcast", { room: "room-a", event: "news", args: [{ n: 1 }, "x"] });
  await waitFor(() => has("a", 1), "a to get news 1");

  out.joinA2 = await ack(a, "join", "room-b");
  const [info] = await ack(a, "info");
  out.roomsA = info.rooms;
  out.count2 = await ack(c, "broadcast", {
    room: ["room-a", "room-b"],
    event: "news",
    args: [{ n: 2 }],
  });
  await waitFor(() => has("a", 2) && has("b", 2), "a and b to get news 2");

  out.leaveA = await ack(a, "leave", "room-a");
  out.leaveA2 = await ack(a, "leave", "room-b");
  out.count3 = await ack(c, "broadcast", { room: "room-a", event: "news", args: [{ n: 3 }] });
  out.count4 = await ack(c, "broadcast", { room: null, event: "news", args: [{ n: 4 }] });
  await waitFor(() => has("a", 4) && has("b", 4) && has("c", 4), "everyone to get news 4");
  await sleep(QUIET_MS);
  return { ...out, news };
});
