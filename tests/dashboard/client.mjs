// engram's dashboard in a real browser: Debian's headless Chromium driven by puppeteer-core
// through every page of `engram serve` over a store with real content (the demo's episodes, a
// Claude Code session and SWE-agent trajectories imported, an episode receiving steps live, one
// of 10,000 steps). What each page shows is checked against the API, a click goes from the list
// to an episode to a step, a live step appears without a reload, the token is asked once, and no
// error reaches the console. Usage: node client.mjs ENGRAM WORKDIR [DB].
// With ENGRAM_DASHBOARD_SHOTS=DIR it saves a screenshot of each page there (docs/ keeps them).
import puppeteer from "puppeteer-core";
import { execFileSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { withEngramServing } from "../serve_engram.mjs";

const [engram, workdir, dbArg] = process.argv.slice(2);
const db = dbArg || path.join(workdir, "dashboard.db");
const here = path.dirname(fileURLToPath(import.meta.url));
const data = path.join(here, "..", "data");
const token = "dashboard-test-token";
const shots = process.env.ENGRAM_DASHBOARD_SHOTS;
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";

// The store: the demo, a Claude Code session, two SWE-agent trajectories.
const cli = (...args) => execFileSync(engram, ["--db", db, ...args], { encoding: "utf8" });
cli("demo");
cli("import", path.join(data, "claude-code", "sample_session.jsonl"), "--format", "claude-code");
const trajectories = readdirSync(path.join(data, "swe-agent")).filter((f) => f.endsWith(".traj")).slice(0, 2);
for (const t of trajectories) cli("import", path.join(data, "swe-agent", t), "--format", "swe-agent");
const tokenFile = path.join(workdir, "token");
writeFileSync(tokenFile, token, { mode: 0o600 });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

await withEngramServing(engram, ["--db", db, "serve", "--token-file", tokenFile], async (port) => {
  const base = `http://127.0.0.1:${port}`;
  const api = async (p, body, method) => {
    const res = await fetch(base + p, {
      method: method || (body === undefined ? "GET" : "POST"),
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(res.ok, `${p}: ${res.status} ${await res.clone().text()}`);
    return res.json();
  };

  // An episode of 10,000 steps, and one left open to receive steps while the page shows it.
  const big = await api("/v1/episodes", { task: "Crawl and index the whole documentation site", context: { domain: "search" } });
  for (let b = 0; b < 10; ++b) {
    await api(`/v1/episodes/${big.id}/steps`, Array.from({ length: 1000 }, (_, i) => ({
      tool: ["fetch", "parse", "index"][i % 3], action: `page ${b * 1000 + i + 1}`, latency_ms: 20 + (i % 50),
      success: i % 97 !== 0, observation: "ok",
    })));
  }
  await api(`/v1/episodes/${big.id}/complete`, { kind: "success", summary: "indexed 10,000 pages" });
  const live = await api("/v1/episodes", { task: "Upgrade the HTTP client and fix what breaks", context: { domain: "web", language: "python", tags: ["live"] } });
  await api(`/v1/episodes/${live.id}/steps`, [
    { tool: "bash", action: "pip install -U httpx", latency_ms: 4200, observation: "Successfully installed httpx-0.28.1" },
    { tool: "pytest", action: "pytest tests/test_client.py", latency_ms: 9100, success: false, observation: "TypeError: AsyncClient.__init__() got an unexpected keyword argument 'proxies'" },
  ]);

  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"],
    protocolTimeout: 60_000,
  });
  const problems = [];
  let expect401 = false;
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(15_000);
    await page.setViewport({ width: 1280, height: 900 });
    page.on("console", (m) => {
      if (m.type() !== "error" && m.type() !== "warn") return;
      if (expect401 && m.text().includes("401")) return;  // the wrong token, on purpose
      problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (url.protocol !== "data:" && url.host !== `127.0.0.1:${port}`) problems.push(`request beyond the server: ${r.url()}`);
    });
    const shot = async (name) => {
      if (shots) await page.screenshot({ path: path.join(shots, `dashboard-${name}.png`), fullPage: false });
    };
    const text = (sel) => page.$eval(sel, (e) => e.textContent.trim());
    const texts = (sel) => page.$$eval(sel, (es) => es.map((e) => e.textContent.trim()));
    const go = async (hash, ready) => {
      await page.evaluate((h) => { location.hash = h; }, hash);
      await page.waitForSelector(ready);
    };

    // The token: asked before anything is shown, refused when wrong, then kept for the session.
    await page.goto(`${base}/`);
    await page.waitForSelector("#token-dialog[open]");
    expect401 = true;
    await page.type("#token-input", "not-the-token");
    await page.click("#token-form button[type=submit]");
    await page.waitForFunction(() => !document.getElementById("token-error").hidden);
    assert.match(await text("#token-error"), /refused/);
    await page.type("#token-input", token);
    await page.click("#token-form button[type=submit]");
    await page.waitForSelector("#card-episodes");
    expect401 = false;
    await page.reload();
    await page.waitForSelector("#recent tbody tr");
    await page.waitForSelector("#card-episodes");
    assert.equal(await page.$eval("#token-dialog", (d) => d.open), false, "the token is asked again after a reload");

    // Overview: the counts and tools are the API's.
    const stats = await api("/v1/stats");
    const episodes = Object.values(stats.episodes_by_status).reduce((a, b) => a + b, 0);
    assert.equal(await text("#card-episodes"), episodes.toLocaleString("en-US"));
    assert.equal(await text("#card-steps"), stats.steps.toLocaleString("en-US"));
    assert.equal(await text("#card-open"), String(stats.episodes_by_status.open));
    assert.equal((await texts("#busiest tbody tr th, #busiest tbody tr td:first-child"))[0], stats.tools[0].tool);
    const recentTasks = await texts("#recent tbody td.task");
    assert.equal(recentTasks[0], live.task, "the newest episode comes first");
    assert.ok(await page.$("#recent .badge.live"), "the open episode is marked live");
    assert.equal(await page.$$eval("canvas", (cs) => cs.length), 2, "the two charts are drawn");
    await shot("overview");

    // Episodes: newest first, the API's rows, filters, search, paging.
    await go("#/episodes", "#episodes tbody tr");
    const list = await api("/v1/episodes?limit=50");
    assert.deepEqual(await texts("#episodes td.task"), list.episodes.map((e) => e.task));
    const row = await page.$$eval("#episodes tbody tr", (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent.trim())));
    const bigRow = row.find((cells) => cells[0] === big.task);
    const bigFailed = 10 * Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 97 === 0).length;
    assert.equal(bigRow[3], `10,000 (${bigFailed}✕)`, "steps and failed steps of the big episode");
    await shot("episodes");
    await page.select("select[name=outcome]", "partial_success");
    await page.click("form.filters button[type=submit]");
    await page.waitForFunction(() => location.hash.includes("outcome=partial_success") && document.querySelectorAll("#episodes tbody tr").length > 0);
    const partial = await api("/v1/episodes?outcome=partial_success");
    assert.deepEqual(await texts("#episodes td.task"), partial.episodes.map((e) => e.task));
    await go("#/episodes?q=flaky%20integration%20test", "#episodes tbody tr");
    assert.match((await texts("#episodes td.task"))[0], /flaky integration test/);

    // From the list to an episode (keyboard: j then Enter), to a step (a click).
    await go("#/episodes?task_type=debugging", "#episodes tbody tr");
    await page.keyboard.press("j");
    const focused = await page.evaluate(() => document.activeElement.matches("#episodes a.rowlink") && document.activeElement.textContent);
    assert.match(focused, /flaky integration test/);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#episode-task");
    assert.equal(await text("#episode-task"), focused);
    const episodeId = await page.evaluate(() => location.hash.split("/")[2]);
    const full = await api(`/v1/episodes/${episodeId}`);
    assert.equal(await page.$$eval("#steps tr[data-step]", (rs) => rs.length), full.steps.length);
    assert.match(await text("#episode-steps"), new RegExp(`^${full.steps.length}, ${full.steps.filter((s) => !s.success).length} failed`));
    assert.equal(await page.$$eval("#steps tr.failed", (rs) => rs.length), full.steps.filter((s) => !s.success).length);
    await page.waitForSelector("#reflection li a.steplink");
    await page.click("#steps tr[data-step='1']");
    await page.waitForSelector("#step-title");
    assert.match(await text("#step-title"), new RegExp(`^Step 1 · ${full.steps[0].tool}`));
    assert.ok((await text("#step-detail")).includes(full.steps[0].observation), `the step's observation is shown whole: ${await text("#step-detail")} / ${full.steps[0].observation}`);
    // A reflection's step link opens the step it cites.
    const cited = await page.$eval("#reflection a.steplink", (a) => a.getAttribute("href"));
    await page.click("#reflection a.steplink");
    await page.waitForFunction((n) => document.getElementById("step-title")?.textContent.startsWith(`Step ${n} `), {}, cited.split("/").pop());
    assert.ok(await page.$("#episode-patterns tbody tr"), "the patterns it shows are listed");
    await shot("episode");

    // Live: a step logged while the page is open shows within 2 s, without a reload.
    await go(`#/episodes/${live.id}`, "#steps tr[data-step='2']");
    await page.waitForSelector("#suggestions");  // while open, what to do next
    const logged = Date.now();
    await api(`/v1/episodes/${live.id}/steps`, { tool: "edit", action: "replace proxies= with proxy= in client.py", latency_ms: 800 });
    await page.waitForSelector("#steps tr[data-step='3']", { timeout: 2000 });
    const shownAfter = Date.now() - logged;
    assert.ok(shownAfter <= 2000, `the live step took ${shownAfter} ms`);
    await api(`/v1/episodes/${live.id}/steps`, { tool: "pytest", action: "pytest tests/test_client.py", latency_ms: 8700, observation: "12 passed" });
    await page.waitForSelector("#steps tr[data-step='4']", { timeout: 2000 });
    await shot("live");
    await api(`/v1/episodes/${live.id}/complete`, { kind: "success", summary: "client upgraded; tests pass" });
    await page.waitForSelector("#episode-outcome", { timeout: 5000 });
    await page.waitForFunction(() => !document.getElementById("suggestions"));  // closed: none

    // 10,000 steps: all counted, few drawn, the last reachable by scrolling.
    await go(`#/episodes/${big.id}`, "#steps tr[data-step='1']");
    await page.waitForFunction(() => document.getElementById("step-count").textContent === "10,000");
    const drawn = await page.$$eval("#steps tr[data-step]", (rs) => rs.length);
    assert.ok(drawn < 120, `only the rows on screen are drawn, not ${drawn}`);
    await page.$eval(".timeline", (t) => { t.scrollTop = t.scrollHeight; });
    await page.waitForSelector("#steps tr[data-step='10000']");

    // Tools: the stats table, each tool's distribution drawn.
    await go("#/tools", "#tools tbody tr");
    const toolRows = await page.$$eval("#tools tbody tr", (rs) => rs.map((r) => [r.cells[0].textContent, r.cells[1].textContent]));
    const toolStats = (await api("/v1/stats")).tools;
    assert.deepEqual(toolRows, toolStats.map((t) => [t.tool, t.calls.toLocaleString("en-US")]));
    assert.equal(await page.$$eval("#tools canvas", (cs) => cs.length), toolStats.length);
    await shot("tools");

    // Patterns: by type; one opened to its evidence.
    await go("#/patterns", "details.pattern");
    const patterns = (await api("/v1/patterns")).patterns;
    const sequences = patterns.filter((p) => p.type === "tool_sequence");
    assert.equal(await text("#patterns-tool_sequence h2"), `tool sequence (${sequences.length})`);
    await page.click("#patterns-tool_sequence details.pattern summary");
    await page.waitForSelector("#patterns-tool_sequence details[open] tbody tr");
    const evidence = await page.$$eval("#patterns-tool_sequence details[open] tbody tr", (rs) => rs.length);
    assert.equal(evidence, Math.min(sequences[0].evidence.length, 100));
    await shot("patterns");

    // Recall: the ranking, each signal's share, the patterns and the playbook as an agent gets them.
    const task = "Fix a flaky integration test that times out";
    await go(`#/recall?task=${encodeURIComponent(task)}&k=5`, "#playbook");
    const recalled = await api("/v1/recall", { task, k: 5, token_budget: 500 });
    assert.deepEqual(await texts("#recalled td.task a"), recalled.episodes.map((e) => e.task));
    assert.equal(await text("#playbook"), recalled.playbook.trim());
    assert.ok(await page.$("#recall-results canvas"), "the signals' shares are drawn");
    await shot("recall");

    // Narrow and dark: no page wider than the window; dark colours from the system setting.
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
    await page.setViewport({ width: 380, height: 800 });
    for (const hash of ["#/", "#/episodes", `#/episodes/${episodeId}`, "#/tools", "#/patterns", "#/recall"]) {
      await go(hash, "#main h1");
      await sleep(100);
      const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert.ok(scroll <= width + 1, `${hash} is ${scroll}px wide in a ${width}px window`);
    }
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(background, "rgb(255, 255, 255)", "dark mode follows the system setting");
    if (shots) {
      await page.setViewport({ width: 1280, height: 900 });
      await go(`#/episodes/${episodeId}/steps/1`, "#step-title");
      await shot("episode-dark");
    }
  } finally {
    await browser.close();
  }
  assert.deepEqual(problems, [], "the console stays clean");
});
console.log("dashboard: every page checked in Chromium");
