// engram's MCP server driven by the official MCP TypeScript SDK: over stdio (engram mcp) and
// over Streamable HTTP (engram serve), a full episode of 1,000 steps logged in bursts, every
// reply checked. Usage: node client.mjs /path/to/engram WORKDIR [STDIO_DB HTTP_DB]; the stores
// default to SQLite files in WORKDIR.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { withEngramServing } from "../serve_engram.mjs";
import assert from "node:assert/strict";
import path from "node:path";

const [engram, workdir, stdioDb, httpDb] = process.argv.slice(2);
const TOOLS = ["start_episode", "log_step", "log_steps", "complete_episode", "get_episode",
               "list_episodes", "recall", "suggest_next_step", "list_patterns", "stats"];

function ok(result, what) {
  assert.equal(result.isError, false, `${what}: ${JSON.stringify(result.content)}`);
  assert.ok(result.structuredContent, `${what}: no structuredContent`);
  return result.structuredContent;
}

async function exercise(client, label, store) {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name), TOOLS);
  for (const t of tools) {
    assert.equal(t.inputSchema.type, "object", t.name);
    assert.ok(t.outputSchema, `${t.name} has no outputSchema`);
    assert.ok(t.description.length > 40, t.name);
  }
  const started = ok(await client.callTool({
    name: "start_episode",
    arguments: { task: `Fix the flaky upload test (${label})`, task_type: "debugging",
                 context: { domain: "web", language: "python", tags: ["ci"] } },
  }), "start_episode");
  const id = started.episode_id;
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

  // 1,000 steps in bursts of 50; every tenth a failing test run, recovered by the next one.
  for (let burst = 0; burst < 20; ++burst) {
    const steps = [];
    for (let i = 0; i < 50; ++i) {
      const n = burst * 50 + i;
      const test = n % 10 === 0 || n % 10 === 5;
      steps.push({
        tool: test ? "pytest" : "edit",
        action: test ? "pytest tests/test_upload.py" : `edit src/upload.py hunk ${n}`,
        success: !(n % 10 === 0),
        observation: n % 10 === 0 ? "AssertionError: upload timed out after 5s" : "ok",
        latency_ms: test ? 900 : 20,
        tokens: test ? null : 150,
      });
    }
    const logged = ok(await client.callTool({ name: "log_steps", arguments: { episode_id: id, steps } }),
                      "log_steps");
    assert.deepEqual(logged.step_numbers, steps.map((_, i) => burst * 50 + i + 1));
  }
  const one = ok(await client.callTool({
    name: "log_step", arguments: { episode_id: id, tool: "git", action: "commit -am fix", latency_ms: 40 },
  }), "log_step");
  assert.equal(one.step_number, 1001);

  const done = ok(await client.callTool({
    name: "complete_episode", arguments: { episode_id: id, kind: "success", summary: "timeout raised" },
  }), "complete_episode");
  assert.equal(done.status, "completed");
  assert.equal(typeof done.reward.total, "number");
  assert.ok(done.reflection.worked.length > 0);

  const shown = ok(await client.callTool({ name: "get_episode", arguments: { episode_id: id } }),
                   "get_episode");
  assert.equal(shown.steps.length, 1001);
  assert.equal(shown.steps[1000].tool, "git");

  const listed = ok(await client.callTool({ name: "list_episodes", arguments: { status: "completed" } }),
                    "list_episodes");
  assert.ok(listed.episodes.some((e) => e.id === id));

  const recalled = ok(await client.callTool({
    name: "recall", arguments: { task: `flaky upload test (${label})`, context: { domain: "web" }, k: 3 },
  }), "recall");
  assert.equal(recalled.episodes[0].id, id);
  assert.ok(recalled.playbook.length > 0);

  // A new attempt at the task: after a failing pytest run, the edit that followed it before.
  const again = ok(await client.callTool({
    name: "start_episode", arguments: { task: `Fix the flaky upload test (${label}) again` },
  }), "start_episode").episode_id;
  ok(await client.callTool({
    name: "log_step",
    arguments: { episode_id: again, tool: "pytest", success: false,
                 observation: "AssertionError: upload timed out after 5s" },
  }), "log_step");
  const suggested = ok(await client.callTool({
    name: "suggest_next_step", arguments: { episode_id: again, k: 2 },
  }), "suggest_next_step");
  assert.ok(suggested.suggestions.length >= 1 && suggested.suggestions.length <= 2);
  assert.equal(suggested.suggestions[0].tool, "edit");
  assert.ok(suggested.suggestions[0].support >= 1);
  assert.match(suggested.suggestions[0].why, /followed pytest/);
  const badK = await client.callTool({ name: "suggest_next_step", arguments: { episode_id: again, k: 0 } });
  assert.equal(badK.isError, true);
  assert.match(badK.content[0].text, /k must be 1 to 20, got 0/);

  const patterns = ok(await client.callTool({ name: "list_patterns", arguments: { type: "error_recovery" } }),
                      "list_patterns");
  assert.ok(patterns.patterns.length >= 1);
  const stats = ok(await client.callTool({ name: "stats", arguments: { tool: "pytest" } }), "stats");
  assert.ok(stats);

  // Wrong values are tool errors an agent can read; an unknown tool is a protocol error.
  const bad = await client.callTool({ name: "log_step", arguments: { episode_id: "abc", tool: "git" } });
  assert.equal(bad.isError, true);
  assert.match(bad.content[0].text, /malformed/);
  const twice = await client.callTool({ name: "complete_episode", arguments: { episode_id: id, kind: "success" } });
  assert.equal(twice.isError, true);
  assert.match(twice.content[0].text, /already completed/);
  await assert.rejects(client.callTool({ name: "no_such_tool", arguments: {} }), /-32602|unknown tool/i);
  await client.ping();
  console.log(`${label} on ${store}: 10 tools listed, 1,001 steps logged, completed, recalled, suggested: ok`);
}

async function overStdio() {
  const client = new Client({ name: "engram-sdk-test", version: "1.0.0" });
  const transport = new StdioClientTransport({
    command: engram, args: ["--db", stdioDb ?? path.join(workdir, "stdio.db"), "mcp"], stderr: "inherit",
  });
  await client.connect(transport);
  await exercise(client, "stdio", stdioDb ?? "SQLite");
  await client.close();
}

async function overHttp() {
  await withEngramServing(engram, ["--db", httpDb ?? path.join(workdir, "http.db"), "serve"],
                          async (port) => {
    const client = new Client({ name: "engram-sdk-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
    await exercise(client, "streamable-http", httpDb ?? "SQLite");
    await client.close();
  });
}

const deadline = setTimeout(() => { console.error("timed out after 300 s"); process.exit(1); }, 300_000);
try {
  await overStdio();
  await overHttp();
} catch (e) {
  console.error(e);
  process.exit(1);
}
clearTimeout(deadline);
