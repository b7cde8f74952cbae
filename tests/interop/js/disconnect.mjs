// b leaves /test in one of four ways; the app's on_disconnect tells the room "watchers"
// (where a is) with b's sid and the reason. `disconnect.mjs URL MODE`:
//   namespace  b.disconnect()             (client DISCONNECT packet)
//   transport  b.io.engine.close()        (the WebSocket closes, no DISCONNECT)
//   frozen     b stops answering pings    (needs a hub with short ping settings)
//   kick       b emits "kick": the server disconnects it (session.disconnect())
import { ack, connect, connected, next, run } from "./lib.mjs";

const auth = { token: "secret" };

function freezeHeartbeat(socket) {
  const engine = socket.io.engine;
  const send = engine._sendPacket.bind(engine);
  engine._sendPacket = (type, ...rest) => (type === "pong" ? undefined : send(type, ...rest));
}

const modes = {
  namespace: (b) => b.disconnect(),
  transport: (b) => b.io.engine.close(),
  frozen: (b) => freezeHeartbeat(b),
  kick: (b) => b.emit("kick"),
};

run("disconnect", async (url, [mode]) => {
  if (!(mode in modes)) throw new Error(`unknown mode ${mode}`);
  const a = await connected(connect(url, "/test", { auth }));
  const joined = await ack(a, "join", "watchers");
  const b = await connected(connect(url, "/test", { auth }));
  const leftId = b.id;
  const left = next(a, "peer_left", 10000);
  const bGone = next(b, "disconnect", 10000);
  modes[mode](b);
  const [peerLeft] = await left;
  const [bReason] = await bGone;
  return { mode, joined, leftId, peerLeft, bReason, bActive: b.active };
});
