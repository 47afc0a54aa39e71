# engram stats: per-tool counts, success rates, exact nearest-rank percentiles, tokens.

$ engram episode start --task "Run the test suite" --domain cli
{{uuid:A}}

$ for i in 1 2 3 4 5 6 7 8 9 10; do printf '{"tool":"cargo","action":"test %s","latency_ms":%s,"success":%s}\n' $i $((i*100)) $([ $i -le 8 ] && echo true || echo false); done | engram episode log-steps $A
logged 10 step(s) to {{uuid}}: steps 1-10

$ printf '%s\n' '{"tool":"claude","action":"explain","latency_ms":2000,"tokens":700}' '{"tool":"claude","action":"fix","latency_ms":3000,"tokens":300}' | engram episode log-steps $A
logged 2 step(s) to {{uuid}}: steps 11-12

$ engram episode complete $A --outcome success > /dev/null && engram episode start --task "Open" --domain web
{{uuid:B}}

$ engram stats
12 steps, 2 episodes (completed 1, open 1); outcomes: success 1

tool               calls  success   p50 ms   p95 ms   p99 ms   max ms     tokens     mean
cargo                 10    80.0%      500     1000     1000     1000          0      0.0
claude                 2   100.0%     2000     3000     3000     3000       1000    500.0

slowest steps
      3000 ms  {{uuid}} step 12   claude fix
      2000 ms  {{uuid}} step 11   claude explain
      1000 ms  {{uuid}} step 10   cargo test 10
       900 ms  {{uuid}} step 9    cargo test 9
       800 ms  {{uuid}} step 8    cargo test 8
       700 ms  {{uuid}} step 7    cargo test 7
       600 ms  {{uuid}} step 6    cargo test 6
       500 ms  {{uuid}} step 5    cargo test 5
       400 ms  {{uuid}} step 4    cargo test 4
       300 ms  {{uuid}} step 3    cargo test 3

$ engram stats --tool claude --json | python3 -c "import json,sys; d=json.load(sys.stdin); t=d.pop('timeline'); print(json.dumps(d, indent=2)); print(d['bucket'], len(t), sum(b['steps'] for b in t), sum(b['tokens'] for b in t), sum(b['episodes'] for b in t))"
{
  "steps": 2,
  "tools": [
    {
      "tool": "claude",
      "calls": 2,
      "success_rate": 1.0,
      "latency_p50_ms": 2000,
      "latency_p95_ms": 3000,
      "latency_p99_ms": 3000,
      "latency_max_ms": 3000,
      "tokens_total": 1000,
      "tokens_mean": 500.0,
      "latency_histogram": [
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        1,
        1,
        0,
        0,
        0,
        0,
        0
      ]
    }
  ],
  "episodes_by_status": {
    "completed": 1,
    "open": 1
  },
  "outcomes": {
    "success": 1
  },
  "slowest_steps": [
    {
      "episode_id": "{{uuid}}",
      "step_number": 12,
      "tool": "claude",
      "action": "fix",
      "latency_ms": 3000
    },
    {
      "episode_id": "{{uuid}}",
      "step_number": 11,
      "tool": "claude",
      "action": "explain",
      "latency_ms": 2000
    }
  ],
  "latency_bounds_ms": [
    1,
    2,
    5,
    10,
    20,
    50,
    100,
    200,
    500,
    1000,
    2000,
    5000,
    10000,
    20000,
    50000,
    100000
  ],
  "bucket": "minute"
}
minute {{int}} 2 1000 2

$ engram stats --domain web
0 steps, 1 episodes (open 1); outcomes: none

$ engram stats --since 2200-01-01
0 steps, 0 episodes (none); outcomes: none

$ engram stats --since 2999-01-01
error: since year must be 1678 to 2261, got "2999-01-01T00:00:00Z"
[exit 1]

$ engram stats --since yesterday
error: since must be an RFC 3339 timestamp like {{ts}}, got "yesterday"
[exit 1]
