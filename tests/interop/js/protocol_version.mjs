// Reports the installed client's protocol numbers (a guard that this really is 4.x / EIO 4).
import { protocol } from "socket.io-client";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { version } = require("socket.io-client/package.json");
process.stdout.write(JSON.stringify({ scenario: "protocol_version", version, protocol }) + "\n");
