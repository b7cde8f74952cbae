// Talks to tests/recovery/faultproxy.py's control port: one command line, one JSON answer.
import net from "node:net";

/** Sends `command` ("cut", "stats") to the proxy's control port on 127.0.0.1; its JSON answer. */
export function proxyCommand(port, command, ms = 10000) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let data = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`proxy ${command}: no answer within ${ms} ms`));
    }, ms);
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${command}\n`));
    socket.on("data", (chunk) => {
      data += chunk;
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(data));
      } catch (err) {
        reject(new Error(`proxy ${command}: bad answer ${JSON.stringify(data)}`));
      }
    });
  });
}
