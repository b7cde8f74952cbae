// One namespace connection attempt: `refused.mjs URL NAMESPACE wrong|none|ok`; reports
// the connect_error's message and data (or the connection), then whether it stayed down.
import { connect, outcome, run, sleep } from "./lib.mjs";

const AUTH = { wrong: { token: "wrong" }, ok: { token: "secret" }, none: undefined };

run("refused", async (url, [nsp, mode]) => {
  if (!(mode in AUTH)) throw new Error(`unknown auth mode ${mode}`);
  const socket = connect(url, nsp, AUTH[mode] ? { auth: AUTH[mode] } : {});
  const result = await outcome(socket);
  await sleep(200);
  return { ...result, connectedAfter: socket.connected };
});
