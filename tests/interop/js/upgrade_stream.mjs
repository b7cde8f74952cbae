// Traffic both ways while a client opens its Engine.IO connection and (with default
// transports) upgrades it from long-polling to WebSocket: nothing may be lost, doubled or
// reordered on the way. Run it with HUB_TRANSPORTS=default (or polling, for a long stream
// over polling alone).
//   c, a websocket-only client (not the one under test), broadcasts numbered "tick"s to
//     the whole /test namespace, one after the other, from before a connects;
//   a, the client under test (HUB_TRANSPORTS' transports), records the ticks it gets and
//     sends numbered echo acks, one after the other, from its connect on;
//   both go on until a has upgraded (default transports) and then got AFTER more ticks, or
//     (polling only) until it got AFTER ticks; then a must get every tick up to the last.
import { io } from "socket.io-client";
import {
  ack,
  clientOptions,
  connect,
  connected,
  next,
  run,
  TRANSPORT_MODE,
  track,
  waitFor,
} from "./lib.mjs";

const auth = { token: "secret" };
const AFTER = 20;
const MAX_TICKS = 5000; // a bound on the stream if a never gets there
const UPGRADE_MS = 10000;

run("upgrade_stream", async (url) => {
  // c is not watched: the scenario's `engines` report is a's alone.
  const c = track(io(`${url}/test`, { ...clientOptions({ auth }), transports: ["websocket"] }));
  await connected(c);

  let stop = false;
  let sent = 0;
  const pump = (async () => {
    while (!stop && sent < MAX_TICKS) {
      const n = sent + 1;
      const [count] = await ack(c, "broadcast", { room: null, event: "tick", args: [n] });
      if (count < 1) throw new Error(`tick ${n} reached ${count} sessions`);
      sent = n;
    }
  })();

  const a = connect(url, "/test", { auth });
  const engine = a.io.engine;
  const ticks = [];
  a.on("tick", (n) => ticks.push(n));
  const echoes = { sent: 0, right: 0, wrong: [] };
  // How many ticks a had got, and echoes it had sent, when its engine emitted "upgrade".
  let upgradedAt = null;
  const upgraded = next(engine, "upgrade", UPGRADE_MS).then(() => {
    upgradedAt = { ticks: ticks.length, echoes: echoes.sent };
  });
  upgraded.catch(() => {}); // awaited below, in default mode only

  await connected(a);
  const transportAtConnect = engine.transport.name;
  const echo = (async () => {
    while (!stop) {
      const i = echoes.sent + 1;
      const answer = await ack(a, "echo", i, { i });
      echoes.sent = i;
      if (answer.length === 2 && answer[0] === i && answer[1].i === i) echoes.right += 1;
      else if (echoes.wrong.length < 10) echoes.wrong.push({ i, answer });
    }
  })();

  try {
    if (TRANSPORT_MODE === "default") {
      await upgraded;
      await waitFor(() => ticks.length >= upgradedAt.ticks + AFTER, `${AFTER} ticks after the upgrade`);
    } else {
      await waitFor(() => ticks.length >= AFTER, `${AFTER} ticks`);
    }
  } finally {
    stop = true;
  }
  await Promise.all([pump, echo]);
  const last = sent;
  await waitFor(() => ticks.includes(last), `a to get the last tick (${last})`);
  return {
    transportAtConnect,
    sent,
    ticks,
    upgradedAt,
    echoes,
    connected: a.connected,
  };
});
