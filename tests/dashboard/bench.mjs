// The dashboard at scale, timed in Debian's headless Chromium (make bench, or
// ENGRAM_BENCH_ONLY=dashboard make bench): the Episodes page's first screen over 100,000
// episodes, and an episode of 10,000 steps opening, each against the 1 s the dashboard is held
// to. Each figure is the median of several cold page loads (a new tab, the page and its scripts
// fetched again, then the API). Usage: node bench.mjs ENGRAM WORKDIR [DB].
import puppeteer from "puppeteer-core";
import { execFileSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import path from "node:path";
import { withEngramServing } from "../serve_engram.mjs";

const [engram, workdir, dbArg] = process.argv.slice(2);
const db = dbArg || path.join(workdir, "bench.db");
const episodes = Number(process.env.ENGRAM_BENCH_DASHBOARD_EPISODES || 100_000);
const bigSteps = 10_000;
const runs = 7;
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";

// The store, through engram import: `episodes` completed episodes of 4 steps each (newest last),
// and one of 10,000 steps.
const file = path.join(workdir, "episodes.jsonl");
const out = createWriteStream(file);
const t0 = Date.UTC(2026, 0, 1);
const iso = (ms) => new Date(ms).toISOString();
// A UUIDv7 of that time, n its random part: ids in time order, as engram's own.
function uuid7(ms, n) {
  const t = ms.toString(16).padStart(12, "0");
  const r = n.toString(16).padStart(15, "0");
  return `${t.slice(0, 8)}-${t.slice(8)}-7${r.slice(0, 3)}-8${r.slice(3, 6)}-${r.slice(6).padStart(12, "0")}`;
}
const tools = ["bash", "pytest", "edit", "llm", "git"];
function episode(n, steps) {
  const start = t0 + n * 60_000;
  return {
    id: uuid7(start, n), task: `Task ${n}: fix the failing check in module ${n % 97}`, task_type: "debugging",
    context: { domain: `d${n % 7}`, language: "python", tags: [`t${n % 5}`] },
    status: "completed", started_at: iso(start), ended_at: iso(start + steps * 500 + 1000),
    outcome: { kind: n % 4 ? "success" : "failure", summary: "" },
    steps: Array.from({ length: steps }, (_, i) => ({
      step_number: i + 1, timestamp: iso(start + i * 500), tool: tools[i % tools.length],
      action: `${tools[i % tools.length]} action ${i + 1}`, latency_ms: 100 + ((n + i) % 400),
      tokens: i % 5 === 3 ? 800 : null, success: (n + i) % 9 !== 0, observation: "done",
      parameters: {}, metadata: {},
    })),
    metadata: {},
  };
}
for (let n = 0; n < episodes; ++n) {
  const line = JSON.stringify(episode(n, 4));
  if (!out.write(`${line}\n`)) await new Promise((r) => out.once("drain", r));
}
const big = episode(episodes, bigSteps);
big.task = "The one with 10,000 steps";
out.write(`${JSON.stringify(big)}\n`);
await new Promise((r) => out.end(r));
const imported = Date.now();
execFileSync(engram, ["--db", db, "import", file, "--format", "jsonl"], { stdio: ["ignore", "ignore", "inherit"] });
const importSeconds = (Date.now() - imported) / 1000;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await withEngramServing(engram, ["--db", db, "serve"], async (port) => {
  const base = `http://127.0.0.1:${port}`;
  const list = await (await fetch(`${base}/v1/episodes${"?"}limit=1`)).json();
  const bigId = list.episodes[0].id;
  const browser = await puppeteer.launch({ executablePath: chromium, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"] });
  // Milliseconds from opening `hash` in a new tab until `ready` holds, then until `done` does.
  async function time(hash, ready, done) {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.setCacheEnabled(false);
    const start = Date.now();
    await page.goto(`${base}/${hash}`);
    await page.waitForFunction(ready, { polling: "raf", timeout: 60_000 });
    const first = Date.now() - start;
    if (done) await page.waitForFunction(done, { polling: 50, timeout: 60_000 });
    const all = Date.now() - start;
    await page.close();
    return [first, all];
  }
  const rows = [];
  const measure = async (name, hash, ready, done) => {
    const firsts = [], alls = [];
    for (let i = 0; i < runs; ++i) {
      const [first, all] = await time(hash, ready, done);
      firsts.push(first);
      alls.push(all);
    }
    rows.push([name, median(firsts), Math.max(...firsts), done ? median(alls) : null]);
  };
  try {
    await measure(`Episodes, first screen (${episodes.toLocaleString("en-US")} episodes)`, "#/episodes",
      () => document.querySelectorAll("#episodes tbody tr").length >= 50);
    await measure("Episodes filtered (outcome failure, domain d3), first screen", "#/episodes?outcome=failure&domain=d3",
      () => document.querySelectorAll("#episodes tbody tr").length >= 50);
    await measure(`Overview: the latest episodes; then the counts and charts over ${(episodes * 4 + bigSteps).toLocaleString("en-US")} steps`, "#/",
      () => document.querySelectorAll("#recent tbody tr").length > 0,
      () => document.querySelectorAll("#overview-stats canvas").length === 2);
    await measure(`Episode of ${bigSteps.toLocaleString("en-US")} steps, first screen of its timeline`, `#/episodes/${bigId}`,
      () => document.querySelectorAll("#steps tr[data-step]").length >= 20,
      () => document.getElementById("step-count")?.textContent === "10,000");
  } finally {
    await browser.close();
  }
  console.log(`\n| dashboard in headless Chromium, cold page load (median of ${runs}) | median | max | the rest loaded | target | met |`);
  console.log("|---|---:|---:|---:|---|---|");
  for (const [name, med, max, all] of rows) {
    console.log(`| ${name} | ${med} ms | ${max} ms | ${all === null ? "" : `${all} ms`} | < 1,000 ms | ${med < 1000 ? "yes" : "NO"} |`);
  }
  console.log(`\n(store built by engram import in ${importSeconds.toFixed(1)} s)`);
});
