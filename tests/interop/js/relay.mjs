// The Node half of the mixed-client test: joins /test room "node-room", prints a
// {"ready": true} line, waits for one "news" event, relays its arguments (plus a Buffer
// of its own) to room "py-room" with the `broadcast` trigger, and reports what it saw.
import { ack, connect, connected, next, run } from "./lib.mjs";

run("relay", async (url) => {
  const socket = await connected(connect(url, "/test", { auth: { token: "secret" } }));
  const joined = await ack(socket, "join", "node-room");
  const news = next(socket, "news", 15000);
  process.stdout.write(JSON.stringify({ ready: true }) + "\n");
  const got = await news;
  const count = await ack(socket, "broadcast", {
    room: "py-room",
    event: "relayed",
    args: [...got, Buffer.from("from node")],
  });
  return { joined, got, count };
});
