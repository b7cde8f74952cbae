// What the JavaScript client's scenarios share: the client itself (the repository's file),
// the `ws` package and playwright-core from the interop tests' node_modules, the scenario
// runner of the interop kit (lib.mjs: watchdog, one JSON result line), and the HTTP API.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export { run, sleep, waitFor as until } from "../../interop/js/lib.mjs";
export * from "../../../clients/js/hub-client.js";

const require = createRequire(new URL("../../interop/js/package.json", import.meta.url));
export const WebSocket = require("ws");
export const CLIENT_FILE = fileURLToPath(new URL("../../../clients/js/hub-client.js", import.meta.url));
export const STEP_MS = 10000;

export function playwright() {
  return require("playwright-core");
}

/**
 * Run `body({ page, wait, pageErrors, consoleErrors })` on a fresh page of the Chromium at
 * `cdp`, opened at `pageUrl`; what it returns is returned. The page's errors and console
 * errors are collected; the context is closed and the CDP connection dropped (the test
 * stops Chromium itself) whatever happens.
 */
export async function withPage(cdp, pageUrl, body) {
  const browser = await playwright().chromium.connectOverCDP(cdp, { timeout: 10000 });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const pageErrors = [];
    const consoleErrors = [];
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    page.on("console", (msg) => {
      if (msg.type() === "error") consoleErrors.push(msg.text());
    });
    await page.goto(pageUrl, { timeout: 10000 });
    const wait = (fn, arg, timeout = STEP_MS) => page.waitForFunction(fn, arg, { timeout, polling: 20 });
    const result = await body({ page, wait, pageErrors, consoleErrors });
    await context.close();
    return result;
  } finally {
    await browser.close();
  }
}

/**
 * Client options for a transport mode in Node: "polling" (no WebSocket: Node 20 has none,
 * so long-polling over fetch), "websocket" (the `ws` package, WebSocket only) or
 * "upgrade" (the `ws` package: long-polling first, then the upgrade).
 */
export function transportOptions(mode) {
  if (mode === "polling") return {};
  if (mode === "websocket") return { WebSocket, transports: ["websocket"] };
  if (mode === "upgrade") return { WebSocket };
  throw new Error(`unknown transport mode ${mode}`);
}

/** POSTs `body` (JSON) to the hub's HTTP API at `path` with the test key; the JSON answer. */
export async function api(url, key, path, body) {
  const response = await fetch(url + path, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

export async function stats(url, key) {
  const response = await fetch(`${url}/api/stats`, { headers: { Authorization: `Bearer ${key}` } });
  return response.json();
}

/** Prints one message line for the test (a step it must act on). */
export function tell(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

/** Records the client's own events: connect, disconnect, reconnecting, errors, drops... */
export function watch(client) {
  const seen = { connects: [], disconnects: [], reconnecting: [], errors: [], drops: [], rejoins: [], upgrades: [] };
  client.on("connect", (info) => seen.connects.push({ ...info, transport: client.transport }));
  client.on("disconnect", (reason) => seen.disconnects.push(reason));
  client.on("reconnecting", (info) => seen.reconnecting.push(info));
  client.on("error", (error, info) => seen.errors.push({ message: error.message, event: info.event }));
  client.on("drop", (info) => seen.drops.push(info));
  client.on("rejoin", (info) => seen.rejoins.push(info));
  client.on("upgrade", (name) => seen.upgrades.push(name));
  return seen;
}

/** Calls async `probe` every 50 ms until it returns a truthy value (returned); bounded. */
export async function eventually(probe, what, ms = STEP_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves once `socket` is connected (at once if it already is); bounded. */
export function connected(socket, ms = STEP_MS) {
  return socket.connected ? Promise.resolve() : socket.waitFor("connect", undefined, ms);
}
