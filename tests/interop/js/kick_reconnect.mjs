// One Manager carries "/" and "/test"; the server kicks /test (session.disconnect()),
// the client connects /test again over the same Engine.IO connection, "/" stays up.
import { ack, manager, next, outcome, run, track } from "./lib.mjs";

run("kick_reconnect", async (url) => {
  const io = manager(url);
  const root = track(io.socket("/"));
  const test = track(io.socket("/test", { auth: { token: "secret" } }));
  const [rootFirst, testFirst] = await Promise.all([outcome(root), outcome(test)]);
  const engineId = io.engine.id;
  const rootDisconnects = [];
  root.on("disconnect", (reason) => rootDisconnects.push(reason));

  const kicked = next(test, "disconnect");
  test.emit("kick");
  const [kickReason] = await kicked;

  test.connect();
  const testAgain = await outcome(test);
  const echoed = testAgain.connected ? await ack(test, "echo", "back") : null;
  const pong = root.connected ? await ack(root, "ping", "still") : null;
  return {
    rootFirst,
    testFirst,
    kickReason,
    testAgain,
    echoed,
    pong,
    rootDisconnects,
    sameEngine: io.engine.id === engineId,
  };
});
