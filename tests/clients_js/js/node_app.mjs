// The client in Node against the interop tests' hub application (tests/interop/app.py):
//   `node_app.mjs HUB_URL {"mode": "polling"|"websocket"|"upgrade"}`
// Two namespaces on one connection ("/" and "/test" with auth {token}), a refused one,
// binary both ways (every byte value, nested, Buffers and ArrayBuffers), the server
// calling the client (an ack callback), and a namespace kicked by the server while the
// other one stays connected.
import { STEP_MS, connect, connected, run, transportOptions, until } from "./common.mjs";

const hex = (value) => Buffer.from(value instanceof ArrayBuffer ? value : value.buffer).toString("hex");

run("node_app", async (url, [json]) => {
  const { mode } = JSON.parse(json);
  const client = connect(url, { ...transportOptions(mode), reconnection: false });
  const test = client.of("/test", { auth: { token: "secret" } });
  const refused = connect(`${url}/test`, { ...transportOptions(mode), auth: { token: "wrong" } });
  const refusedOutcome = refused.waitFor("connect_error", undefined, STEP_MS);
  const disconnects = [];
  test.on("disconnect", (reason) => disconnects.push(reason));
  try {
    await connected(client);
    await connected(test);
    const [refusal] = await refusedOutcome;
    const pong = await client._call("ping", [1, "two"], STEP_MS);
    const whoami = await test.emitWithAck("whoami");
    const info = await test.emitWithAck("info");

    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const echoed = await test._call("echo", [all, { nested: [Buffer.from([7, 8, 9])] }, "é ☃"], STEP_MS);
    const big = Uint8Array.from({ length: 70000 }, (_, i) => (i * 7) % 251);
    const bigBack = await test.emitWithAck("echo", big.buffer);

    const questions = [];
    test.on("question", (question, ack) => {
      questions.push(hex(question.blob));
      ack(Uint8Array.from(new Uint8Array(question.blob)).reverse(), { by: "node" });
    });
    const answered = test.waitFor("answer", undefined, STEP_MS);
    await test.emitWithAck("ask", { blob: Uint8Array.from([1, 2, 3, 4]) });
    const [answer] = await answered;

    test.emit("kick");
    await until(() => disconnects.length === 1, "the kick", STEP_MS);
    const stillThere = await client._call("ping", ["after"], STEP_MS);
    return {
      transport: client.transport,
      sameConnection: client.io === test.io,
      refusal: { message: refusal.message, data: refusal.data },
      refusedActive: refused.active,
      pong,
      whoami,
      info,
      echoed: [hex(echoed[0]), hex(echoed[1].nested[0]), echoed[2]],
      echoedTypes: [echoed[0] instanceof ArrayBuffer, echoed[1].nested[0] instanceof ArrayBuffer],
      bigEqual: hex(bigBack) === hex(big),
      questions,
      answer: { ok: answer.ok, answer: [hex(answer.answer[0]), answer.answer[1]] },
      disconnects,
      testActive: test.active,
      stillThere,
      rootConnected: client.connected,
    };
  } finally {
    refused.close();
    client.close();
  }
});
