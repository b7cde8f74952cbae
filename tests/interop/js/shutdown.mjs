// A server shutdown seen by a connected client: `shutdown.mjs URL HUB_PID`.
// The client connects the default namespace of `python -m hub` (with default transports
// it waits until its connection upgraded), then sends SIGTERM to HUB_PID, the hub the test
// started, and reports the reason of its "disconnect" and the transport it was on.
import { connect, connected, next, run, TRANSPORT_MODE, waitFor } from "./lib.mjs";

run("shutdown", async (url, [pid]) => {
  const socket = await connected(connect(url, "/"));
  const engine = socket.io.engine;
  if (TRANSPORT_MODE === "default") {
    await waitFor(() => engine.transport.name === "websocket", "the upgrade");
  }
  const transport = engine.transport.name;
  const gone = next(socket, "disconnect", 15000);
  process.kill(Number(pid), "SIGTERM");
  const [reason] = await gone;
  return { transport, reason, connectedAfter: socket.connected };
});
