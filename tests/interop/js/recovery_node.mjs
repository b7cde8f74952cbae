// The recovery stream scenario (recovery_stream.mjs) with the official Node client.
//   `recovery_node.mjs URL OPTIONS_JSON`; OPTIONS_JSON is the scenario's `opts` (less url)
//   plus `mode`: "engine" (socket.io.engine.close()) or "proxy" (URL is the fault proxy's,
//   `control` its control port: every connection is cut mid-frame).
import { io } from "socket.io-client";
import { run } from "./lib.mjs";
import { proxyCommand } from "./recovery_proxy.mjs";
import { streamScenario } from "./recovery_stream.mjs";

const cutters = {
  engine: () => async (socket) => {
    socket.io.engine.close();
    return "engine.close()";
  },
  proxy: (opts) => async () => proxyCommand(opts.control, "cut"),
};

run("recovery_node", async (url, [json]) => {
  const opts = JSON.parse(json);
  if (!(opts.mode in cutters)) throw new Error(`unknown mode ${opts.mode}`);
  return streamScenario(io, { ...opts, url }, cutters[opts.mode](opts));
});
