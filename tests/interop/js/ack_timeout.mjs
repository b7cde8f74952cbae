// A client that never acks the server's question: the app's session.call must time out.
import { ack, connect, connected, next, run } from "./lib.mjs";

run("ack_timeout", async (url) => {
  const socket = await connected(connect(url, "/test", { auth: { token: "secret" } }));
  const questions = [];
  socket.on("question", (question) => questions.push(question)); // no callback call
  const answer = next(socket, "answer", 8000);
  const started = await ack(socket, "ask", { n: 1 }, 0.3);
  const [answered] = await answer;
  const after = await ack(socket, "echo", "still here");
  return { started, questions, answered, after };
});
