// Binary data (Buffers inside the arguments) on /test; the case is argv[3]:
//   echo       bytes 0..255, nested and listed buffers, text, echoed back by the server
//   big        one 70,000-byte buffer (64-bit WebSocket length) echoed back
//   empty      a zero-length buffer echoed back
//   roundtrip  server->client question carrying bytes, client acks with bytes, server
//              sends the acked bytes back in an event
import { ack, connect, connected, next, run, toBuffer } from "./lib.mjs";

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const BIG = Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 7) % 251));

const cases = {
  async echo(socket) {
    const echoed = await ack(
      socket,
      "echo",
      ALL_BYTES,
      { label: "nested", blob: Buffer.from("hello"), list: [Buffer.from([0]), Buffer.from([1, 2])] },
      "text",
    );
    return { echoed, firstIsBuffer: Buffer.isBuffer(echoed[0]) };
  },
  async big(socket) {
    const [echoed] = await ack(socket, "echo", BIG);
    const got = toBuffer(echoed);
    return { length: got.length, equal: got.equals(BIG) };
  },
  async empty(socket) {
    const echoed = await ack(socket, "echo", Buffer.alloc(0), "after");
    return { echoed };
  },
  async roundtrip(socket) {
    const questions = [];
    socket.on("question", (question, callback) => {
      questions.push(question);
      callback(Buffer.from(toBuffer(question.blob)).reverse(), { also: Buffer.from("ack-bin") });
    });
    const answer = next(socket, "answer");
    const started = await ack(socket, "ask", { blob: Buffer.from([1, 2, 3, 250]) });
    const [answered] = await answer;
    return { started, questions, answered };
  },
};

run("binary", async (url, [which]) => {
  if (!(which in cases)) throw new Error(`unknown case ${which}`);
  const socket = await connected(connect(url, "/test", { auth: { token: "secret" } }));
  return { case: which, ...(await cases[which](socket)) };
});
