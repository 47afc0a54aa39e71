// An agent instrumented with the official OpenTelemetry JS SDK sends its GenAI spans to engram
// serve, once through the protobuf exporter and once through the JSON exporter, each behind the
// SDK's batch processor as deployed agents run it, then span by span through its simple processor;
// each run is read back over the HTTP API and every mapped field checked. Usage: node client.mjs ENGRAM WORKDIR [DB DB].
import { context, trace, SpanStatusCode } from "@opentelemetry/api";
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { withEngramServing } from "../serve_engram.mjs";
import { writeFileSync } from "node:fs";
import assert from "node:assert/strict";
import path from "node:path";

const [engram, workdir, protobufDb, jsonDb] = process.argv.slice(2);
const token = "otel-test-token";

// A realistic agent run: an invoke_agent root, two model calls, two tool calls (one failing).
function runAgent(tracer, conversation) {
  const t0 = Date.now() - 10_000;
  const at = (ms) => new Date(t0 + ms);
  const root = tracer.startSpan("invoke_agent travel", {
    startTime: at(0),
    attributes: { "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "travel",
                  "gen_ai.conversation.id": conversation },
  });
  const parent = trace.setSpan(context.active(), root);
  const span = (name, start, end, attributes, error) => {
    const s = tracer.startSpan(name, { startTime: at(start), attributes }, parent);
    if (error) {
      s.setAttribute("error.type", "HTTPError");
      s.setStatus({ code: SpanStatusCode.ERROR, message: error });
    }
    s.end(at(end));
    return s.spanContext().spanId;
  };
  const ids = [];
  ids.push(span("chat gpt-4o", 100, 900, {
    "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.system": "openai",
    "gen_ai.conversation.id": conversation,
    "gen_ai.usage.input_tokens": 812, "gen_ai.usage.output_tokens": 41,
    "gen_ai.input.messages": JSON.stringify([
      { role: "system", parts: [{ type: "text", content: "You book flights." }] },
      { role: "user", parts: [{ type: "text", content: "Book a flight from SFO to Paris for Friday" }] }]),
    "gen_ai.output.messages": JSON.stringify([
      { role: "assistant", parts: [{ type: "tool_call", id: "call_1", name: "search_flights" }] }]),
  }));
  ids.push(span("execute_tool search_flights", 950, 1350, {
    "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search_flights",
    "gen_ai.tool.call.id": "call_1",
    "gen_ai.tool.call.arguments": JSON.stringify({ from: "SFO", to: "CDG", day: "friday" }),
    "gen_ai.tool.call.result": "AF83 departs 15:40, 1 seat left",
  }));
  ids.push(span("execute_tool book_flight", 1400, 3400, {
    "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "book_flight",
    "gen_ai.tool.call.id": "call_2", "gen_ai.tool.call.arguments": JSON.stringify({ flight: "AF83" }),
  }, "payment gateway returned 502"));
  ids.push(span("chat gpt-4o", 3500, 4100, {
    "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
    "gen_ai.usage.input_tokens": 960, "gen_ai.usage.output_tokens": 25,
    "gen_ai.output.messages": JSON.stringify([
      { role: "assistant", parts: [{ type: "text", content: "The booking failed; try again later." }] }]),
  }));
  root.end(at(4200));
  return { traceId: root.spanContext().traceId, ids, startedAt: at(0).toISOString(), endedAt: at(4200).toISOString() };
}

async function check(port, run, conversation, how) {
  const get = async (p) => {
    const r = await fetch(`http://127.0.0.1:${port}${p}`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, `${how}: GET ${p}`);
    return r.json();
  };
  const list = await get("/v1/episodes");
  const found = list.episodes.filter((e) => e.metadata["otel.trace_id"] === run.traceId);
  assert.equal(found.length, 1, `${how}: one episode for the trace`);
  // The root completes the episode once no span of it has arrived for a while (2 s).
  let e = await get(`/v1/episodes/${found[0].id}`);
  for (let i = 0; i < 100 && e.status !== "completed"; ++i) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    e = await get(`/v1/episodes/${found[0].id}`);
  }
  assert.equal(e.task, "Book a flight from SFO to Paris for Friday", how);
  assert.equal(e.status, "completed", how);
  assert.equal(e.outcome.kind, "success", how);
  assert.equal(e.metadata["gen_ai.conversation.id"], conversation, how);
  assert.equal(e.metadata["gen_ai.agent.name"], "travel", how);
  assert.equal(e.metadata["service.name"], "travel-agent", how);
  assert.deepEqual(e.steps.map((s) => s.tool), ["llm", "search_flights", "book_flight", "llm"], how);
  assert.deepEqual(e.steps.map((s) => s.metadata["otel.span_id"]), run.ids, how);
  for (const s of e.steps) assert.equal(s.metadata["otel.trace_id"], run.traceId, how);
  assert.equal(e.context.domain, "travel-agent", how);
  // The run's own times, the root span's, not when its export arrived.
  assert.equal(e.started_at, run.startedAt, how);
  assert.equal(e.ended_at, run.endedAt, how);
  assert.deepEqual(e.context.tags, ["travel"], how);
  const [chat, search, book, last] = e.steps;
  assert.equal(chat.action, "gpt-4o");
  assert.equal(chat.tokens, 853);
  assert.equal(chat.latency_ms, 800);
  assert.equal(chat.metadata["gen_ai.provider.name"], "openai");
  assert.equal(search.action, '{"day":"friday","from":"SFO","to":"CDG"}');
  assert.deepEqual(search.parameters, { from: "SFO", to: "CDG", day: "friday" });
  assert.equal(search.observation, "AF83 departs 15:40, 1 seat left");
  assert.equal(search.success, true);
  assert.equal(search.tokens, null);
  assert.equal(search.metadata["gen_ai.tool.call.id"], "call_1");
  assert.equal(book.success, false);
  assert.equal(book.observation, "payment gateway returned 502");
  assert.equal(book.latency_ms, 2000);
  assert.equal(last.observation, "The booking failed; try again later.");
  assert.equal(last.tokens, 985);
  assert.ok(e.reflection, `${how}: learnt from`);
  console.log(`${how}: episode ${e.id}, ${e.steps.length} steps, every field as sent`);
}

async function sendOnce(how, db, makeExporter, Processor = BatchSpanProcessor) {
  const tokenFile = path.join(workdir, "token");
  writeFileSync(tokenFile, token, { mode: 0o600 });
  await withEngramServing(engram, ["--db", db, "serve", "--token-file", tokenFile], async (port) => {
    const exporter = makeExporter(`http://127.0.0.1:${port}/v1/traces`, { Authorization: `Bearer ${token}` });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": "travel-agent" }),
      spanProcessors: [new Processor(exporter)],
    });
    const conversation = `conv-${how}`;
    const run = runAgent(provider.getTracer("travel-agent"), conversation);
    await provider.forceFlush();
    await provider.shutdown();
    await check(port, run, conversation, how);
  });
}

const deadline = setTimeout(() => { console.error("timed out after 300 s"); process.exit(1); }, 300_000);
try {
  await sendOnce("protobuf", protobufDb ?? path.join(workdir, "protobuf.db"),
                 (url, headers) => new ProtobufExporter({ url, headers }));
  await sendOnce("json", jsonDb ?? path.join(workdir, "json.db"),
                 (url, headers) => new JsonExporter({ url, headers }));
  // The simple processor exports each span as it ends, the root last and on its own: the
  // episode is put together from five exports.
  await sendOnce("protobuf-span-by-span", protobufDb ?? path.join(workdir, "protobuf.db"),
                 (url, headers) => new ProtobufExporter({ url, headers }), SimpleSpanProcessor);
} finally {
  clearTimeout(deadline);
}
