// Stays connected across several server pings: `heartbeat.mjs URL WAIT_MS`.
import { ack, connect, connected, record, run, sleep } from "./lib.mjs";

run("heartbeat", async (url, [waitMs]) => {
  const socket = await connected(connect(url, "/test", { auth: { token: "secret" } }));
  let pings = 0;
  socket.io.on("ping", () => {
    pings += 1;
  });
  const disconnects = record(socket, "disconnect");
  await sleep(Number(waitMs));
  const connectedAfter = socket.connected;
  const echoed = connectedAfter ? await ack(socket, "echo", "alive") : null;
  return { pings, disconnects, connectedAfter, echoed };
});
