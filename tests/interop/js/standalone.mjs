// The standalone `python -m hub` default namespace: join, publish, receive, leave.
//   `standalone.mjs URL basic|binary`
import { ack, connect, connected, record, run, sleep, waitFor } from "./lib.mjs";

const QUIET_MS = 300;

const cases = {
  async basic(a, b, news, has) {
    const out = {};
    out.joinA = await ack(a, "join", "lobby");
    out.joinB = await ack(b, "join", "other");
    out.pub1 = await ack(b, "publish", { room: "lobby", event: "news", data: { n: 1, text: "héllo" } });
    await waitFor(() => has("a", 1), "a to get news 1");
    out.pub2 = await ack(b, "publish", { room: ["lobby", "other"], event: "news", data: { n: 2 } });
    await waitFor(() => has("a", 2) && has("b", 2), "a and b to get news 2");
    out.pub3 = await ack(a, "publish", { room: null, event: "news", data: { n: 3 } });
    await waitFor(() => has("a", 3) && has("b", 3), "a and b to get news 3");
    out.leaveA = await ack(a, "leave", "lobby");
    out.pub4 = await ack(b, "publish", { room: "lobby", event: "news", data: { n: 4 } });
    await sleep(QUIET_MS);
    return out;
  },
  async binary(a, b, news, has) {
    const out = {};
    out.joinA = await ack(a, "join", "lobby");
    const blob = Buffer.from([0, 1, 2, 255]);
    out.pub = await ack(b, "publish", { room: "lobby", event: "news", data: { n: 1, blob } });
    await waitFor(() => has("a", 1), "a to get the binary news");
    return out;
  },
};

run("standalone", async (url, [which]) => {
  if (!(which in cases)) throw new Error(`unknown case ${which}`);
  const [a, b] = await Promise.all([connected(connect(url, "/")), connected(connect(url, "/"))]);
  const news = { a: record(a, "news"), b: record(b, "news") };
  const has = (who, n) => news[who].some((args) => args[0] && args[0].n === n);
  return { case: which, ...(await cases[which](a, b, news, has)), news };
});
