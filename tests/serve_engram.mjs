// `engram serve` on a free loopback port for the npm SDK clients (tests/*/client.mjs): started
// with `args`, its port read from the banner it prints.
import { spawn } from "node:child_process";
import assert from "node:assert/strict";

// Runs `body(port)` against a server started so, then stops it and checks it exits cleanly.
export async function withEngramServing(engram, args, body) {
  const { server, exited, port } = await serveEngram(engram, args);
  try {
    await body(port);
  } finally {
    server.kill("SIGTERM");
  }
  const { code } = await exited;
  assert.equal(code, 0, "engram serve did not exit cleanly on SIGTERM");
}

async function serveEngram(engram, args) {
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
