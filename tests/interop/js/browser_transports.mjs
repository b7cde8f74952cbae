// The official browser bundle (socket.io-client/dist/socket.io.min.js) in headless Chromium,
// driven by playwright-core, on the transports a page gets by default (long-polling, then
// the upgrade to WebSocket) or held on long-polling.
//   `browser_transports.mjs HUB_URL OPTIONS_JSON`, the options:
//     cdp        the DevTools WebSocket URL of a Chromium the test started (and stops)
//     page       a page of ANOTHER origin that loads the bundle (a static server the test
//                started): its long-polling requests to the hub are cross-origin (CORS)
//     transports "default" (no `transports` option) or "polling" (["polling"])
//     client     more client options (withCredentials, extraHeaders, ...)
//     expect     "connect" (run the whole scenario) or "refusal" (report the connect_error);
//                either way a connect_error ends the page's part with what it saw
// In the page, two sockets on /test: a joins a room, b broadcasts to it (text and binary),
// acks go both ways (binary included), and each engine's transports are recorded.
import { chromium } from "playwright-core";
import { run } from "./lib.mjs";

// Runs in the page: only its argument and the page's globals (io, setTimeout, ...).
async function pageScenario({ url, transports, client, expect }) {
  const STEP_MS = 5000;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  async function waitFor(predicate, what, ms = STEP_MS) {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
      await sleep(5);
    }
  }
  function ack(socket, event, ...args) {
    return new Promise((resolve, reject) => {
      socket.timeout(STEP_MS).emit(event, ...args, (err, ...answer) => {
        if (err) reject(new Error(`no ack for ${event} within ${STEP_MS} ms`));
        else resolve(answer);
      });
    });
  }
  function outcome(socket) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no connect nor connect_error")), STEP_MS);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve({ connected: true, id: socket.id });
      });
      socket.once("connect_error", (err) => {
        clearTimeout(timer);
        resolve({ connected: false, message: String(err && err.message) });
      });
    });
  }
  const bytes = (n, f) => Uint8Array.from({ length: n }, (_, i) => f(i));
  const hex = (value) =>
    Array.from(new Uint8Array(value), (b) => b.toString(16).padStart(2, "0")).join("");
  // JSON with ArrayBuffers / typed arrays as {"$bin": hex}, as lib.mjs writes them.
  const plain = (value) => {
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return { $bin: hex(value) };
    if (Array.isArray(value)) return value.map(plain);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
    }
    return value === undefined ? null : value;
  };

  const engines = [];
  const open = (nsp, extra) => {
    const socket = io(url + nsp, {
      ...(transports === "polling" ? { transports: ["polling"] } : {}),
      reconnection: false,
      forceNew: true,
      timeout: STEP_MS,
      ...client,
      ...extra,
    });
    const engine = socket.io.engine;
    const seen = { engine, first: engine.transport.name, upgrading: [], upgrades: [] };
    seen.upgradeErrors = [];
    engine.on("upgrading", (t) => seen.upgrading.push(t.name));
    engine.on("upgrade", (t) => seen.upgrades.push(t.name));
    engine.on("upgradeError", (err) => seen.upgradeErrors.push(String(err && err.message)));
    engines.push(seen);
    return socket;
  };
  const report = () =>
    engines.map(({ engine, ...seen }) => ({
      ...seen,
      now: engine.transport ? engine.transport.name : null,
      state: engine.readyState,
    }));

  const auth = { token: "secret" };
  const a = open("/test", { auth });
  const b = open("/test", { auth });
  try {
    const outcomes = await Promise.all([outcome(a), outcome(b)]);
    if (expect === "refusal" || !outcomes.every((result) => result.connected)) {
      return { outcomes, engines: report() }; // the test says what it expected
    }
    const transportAtConnect = a.io.engine.transport.name;
    const out = { outcomes, transportAtConnect };

    const news = [];
    a.on("news", (...args) => news.push(args));
    const bNews = [];
    b.on("news", (...args) => bNews.push(args));
    out.joined = await ack(a, "join", "browser-room");
    out.count = await ack(b, "broadcast", {
      room: "browser-room",
      event: "news",
      args: [{ n: 1, blob: bytes(4, (i) => [0, 1, 254, 255][i]) }, "text"],
    });
    await waitFor(() => news.length > 0, "a to get the news");

    const allBytes = bytes(256, (i) => i);
    out.echoed = await ack(a, "echo", allBytes, { nested: bytes(3, (i) => i + 7) }, "é ☃");
    const big = bytes(70000, (i) => (i * 7) % 251);
    const [bigBack] = await ack(b, "echo", big);
    out.bigEqual = hex(bigBack) === hex(big);
    out.bigLength = bigBack.byteLength;

    const questions = [];
    a.on("question", (question, callback) => {
      questions.push(question);
      callback(new Uint8Array(question.blob).slice().reverse(), { by: "browser" });
    });
    const answered = new Promise((resolve) => a.once("answer", resolve));
    out.started = await ack(a, "ask", { blob: bytes(4, (i) => i + 1) });
    out.answered = await Promise.race([answered, sleep(STEP_MS).then(() => "no answer")]);
    out.questions = questions;

    if (transports !== "polling") {
      const settled = (e) => e.upgrades.length > 0 || e.upgradeErrors.length > 0;
      await waitFor(() => engines.every(settled), "the upgrades").catch(() => {});
    }
    // After the upgrade (default transports) the same things still work.
    out.countAfter = await ack(b, "broadcast", {
      room: "browser-room",
      event: "news",
      args: [{ n: 2 }],
    });
    await waitFor(() => news.length > 1, "a to get news 2");
    out.echoedAfter = await ack(b, "echo", bytes(2, (i) => 9 - i), "after");
    out.news = news;
    out.bNews = bNews;
    out.engines = report();
    return plain(out);
  } finally {
    a.disconnect();
    b.disconnect();
  }
}

run("browser_transports", async (url, [json]) => {
  const { cdp, page: pageUrl, transports, client = {}, expect = "connect" } = JSON.parse(json);
  if (!["default", "polling"].includes(transports)) throw new Error(`transports ${transports}?`);
  const browser = await chromium.connectOverCDP(cdp, { timeout: 10000 });
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
    await page.waitForFunction(() => typeof window.io === "function", null, { timeout: 10000 });
    const origin = await page.evaluate(() => window.location.origin);
    const result = await page.evaluate(pageScenario, { url, transports, client, expect });
    await context.close();
    return {
      origin,
      transports,
      browserVersion: browser.version(),
      pageErrors,
      consoleErrors,
      ...result,
    };
  } finally {
    await browser.close(); // connected over CDP: this disconnects, the test stops Chromium
  }
});
