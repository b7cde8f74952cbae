// Acks both ways on /test: client->server (echo) and server->client (ask -> question -> answer).
import { ack, connect, connected, next, run } from "./lib.mjs";

run("acks", async (url) => {
  const socket = await connected(connect(url, "/test", { auth: { token: "secret" } }));
  const out = {};
  out.echoed = await ack(socket, "echo", "a", 1, { x: [true, null, 2.5] }, ["ünïcødé ☃ 🎉"]);
  out.empty = await ack(socket, "echo");
  out.single = await ack(socket, "echo", "only");
  out.concurrent = await Promise.all(Array.from({ length: 20 }, (_, i) => ack(socket, "echo", i)));

  const questions = [];
  socket.on("question", (question, callback) => {
    questions.push(question);
    callback({ doubled: question.n * 2, by: "node" }, "second");
  });
  const answer = next(socket, "answer");
  out.started = await ack(socket, "ask", { n: 21 });
  [out.answered] = await answer;
  out.questions = questions;
  return out;
});
