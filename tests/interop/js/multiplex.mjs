// One Manager (one Engine.IO connection) carrying "/", "/nope" (refused) and "/test".
import { ack, manager, outcome, run, track } from "./lib.mjs";

run("multiplex", async (url) => {
  const io = manager(url);
  const root = track(io.socket("/"));
  const nope = track(io.socket("/nope"));
  const test = track(io.socket("/test", { auth: { token: "secret" } }));
  const [rootResult, nopeResult, testResult] = await Promise.all([
    outcome(root),
    outcome(nope),
    outcome(test),
  ]);
  const pong = await ack(root, "ping", 1, "two");
  const echoed = await ack(test, "echo", "via /test");
  return {
    root: rootResult,
    nope: nopeResult,
    test: testResult,
    pong,
    echoed,
    engineOpen: io.engine.readyState,
  };
});
