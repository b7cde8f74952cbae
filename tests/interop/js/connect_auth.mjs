// Connects to /test with an auth payload; reports the socket id and what the server saw.
import { ack, connect, connected, run } from "./lib.mjs";

const AUTH = { token: "secret", user: "ada", tags: ["a", "b"], n: 7, nested: { ok: true } };

run("connect_auth", async (url) => {
  const socket = await connected(connect(url, "/test", { auth: AUTH }));
  const [whoami] = await ack(socket, "whoami");
  const [info] = await ack(socket, "info");
  return { auth: AUTH, id: socket.id, connected: socket.connected, whoami, info };
});
