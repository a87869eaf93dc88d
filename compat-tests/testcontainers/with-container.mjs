// Runs one command against Krill in a fresh KrillContainer: starts the container, runs the command
// with BOOTSTRAP set to the container's address (so another client's scenario runs unchanged),
// stops the container, and exits with the command's status.
//
//   node with-container.mjs COMMAND [ARG]...
import { spawn } from "node:child_process";
import { startKrill } from "./lib.mjs";

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  console.log("FAIL: usage: with-container.mjs COMMAND [ARG]...");
  process.exit(2);
}

let status = 1;
let started;
try {
  ({ started } = await startKrill());
  status = await new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: "inherit",
      env: { ...process.env, BOOTSTRAP: started.getBootstrapServers() },
    });
    child.once("error", (err) => {
      console.log(`FAIL: cannot run ${command}: ${err.message}`);
      resolve(1);
    });
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
} catch (err) {
  console.log(`FAIL: ${err instanceof Error ? err.message : String(err)}`.split("\n")[0]);
} finally {
  await started?.stop().catch((err) => console.error(`stop failed: ${err}`));
}
process.exit(status);
