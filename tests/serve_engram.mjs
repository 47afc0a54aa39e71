// `engram serve` on a free loopback port for the npm SDK clients (tests/*/client.mjs): started
// with `args` after the command, its port read from the banner it prints.
import { spawn } from "node:child_process";

export async function serveEngram(engram, args) {
  const server = spawn(engram, [...args, "--listen", "127.0.0.1:0"],
                       { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => server.on("exit", (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/engram serving http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    server.on("exit", () => reject(new Error(`engram serve exited early: ${out}`)));
  });
  return { server, exited, port };
}
