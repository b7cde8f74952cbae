// The recovery stream scenario (recovery_stream.mjs) with the official browser bundle
// (socket.io-client/dist/socket.io.min.js) in headless Chromium, driven by playwright-core.
//   `recovery_browser.mjs URL OPTIONS_JSON`: the options of recovery_node.mjs plus `cdp`,
//   the DevTools WebSocket URL of a Chromium the test started (and stops, by its PID).
// The page is about:blank with the bundle added as a script tag: no web server.
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { run } from "./lib.mjs";
import { proxyCommand } from "./recovery_proxy.mjs";
import { streamScenario } from "./recovery_stream.mjs";

const BUNDLE = fileURLToPath(
  new URL("./node_modules/socket.io-client/dist/socket.io.min.js", import.meta.url),
);

const cutters = {
  engine: "async (socket) => { socket.io.engine.close(); return 'engine.close()'; }",
  proxy: "() => window.cutProxy()",
};

run("recovery_browser", async (url, [json]) => {
  const { cdp, ...opts } = JSON.parse(json);
  if (!(opts.mode in cutters)) throw new Error(`unknown mode ${opts.mode}`);
  const browser = await chromium.connectOverCDP(cdp, { timeout: 10000 });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const pageErrors = [];
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    await page.setContent("<!doctype html><title>recovery</title>");
    await page.addScriptTag({ path: BUNDLE });
    if (opts.mode === "proxy") {
      await page.exposeFunction("cutProxy", () => proxyCommand(opts.control, "cut"));
    }
    const scenario = `(${streamScenario.toString()})(io, ${JSON.stringify({ ...opts, url })}, ${cutters[opts.mode]})`;
    const result = await page.evaluate(scenario);
    const userAgent = await page.evaluate(() => navigator.userAgent);
    await context.close();
    return { browserVersion: browser.version(), userAgent, pageErrors, ...result };
  } finally {
    await browser.close(); // connected over CDP: this disconnects, the test stops Chromium
  }
});
