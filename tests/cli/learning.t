# What engram learns when episodes complete: reward, reflection and patterns.

$ engram episode start --task "Fix the build" --type debugging --domain cli --language rust
{{uuid:A}}

$ printf '%s\n' '{"tool":"cargo","action":"build","latency_ms":8200,"success":false,"observation":"error[E0425]: cannot find value `verbose` in src/search.rs:88:12"}' '{"tool":"claude","action":"fix the missing binding","latency_ms":2100,"tokens":640}' '{"tool":"cargo","action":"build","latency_ms":7900}' | engram episode log-steps $A
logged 3 step(s) to {{uuid}}: steps 1-3

$ engram episode complete $A --outcome success --summary "builds again" --json | grep -A8 '"reward"'
  "reward": {
    "efficiency": null,
    "error_rate": 0.3333,
    "outcome_base": 1.0,
    "recovered_errors": 1,
    "recovery_bonus": 0.05,
    "similar_episodes": 0,
    "total": 0.8833
  },

$ engram episode show $A | grep -E '^(reward|worked|improve|insights)'
reward   0.88 (outcome 1.00, efficiency -, error rate 0.33, recovery +0.05)
worked   `cargo build` failed at step 1 and succeeded at step 3 after `claude fix the missing binding`
improve  step 1 (`cargo build`) took 8200 ms, 45% of the time spent in steps
insights 1 of 3 steps failed, 1 recovered; outcome success
insights `cargo` was the most used tool: 2 of 3 steps, 16100 ms

# A second attempt at the same kind of task is compared with the first, and the patterns merge.
$ engram episode start --task "Fix the build again" --type debugging --domain cli --language rust
{{uuid:B}}

$ printf '%s\n' '{"tool":"cargo","action":"build","latency_ms":9000,"success":false,"observation":"error[E0425]: cannot find value `quiet` in src/main.rs:12:5"}' '{"tool":"claude","action":"fix","latency_ms":1900,"tokens":500}' '{"tool":"cargo","action":"build","latency_ms":8000}' | engram episode log-steps $B > /dev/null && engram episode complete $B --outcome success --json | grep -E '"similar_episodes"'
    "similar_episodes": 1,

$ engram pattern list --type error_recovery
ID                 TYPE            SUPPORT  SUCCESS  PATTERN
{{*}}  error_recovery        2     100%  cargo failing with "error[e<n>]: cannot find value <q> in <path>" -> claude > cargo

$ engram pattern list --type tool_sequence --min-support 2 --json | grep -E '"(support|success_rate)"|"cargo"|"claude"'
          "cargo",
          "claude"
      "support": 2,
      "success_rate": 1.0,
          "cargo",
          "claude",
          "cargo"
      "support": 2,
      "success_rate": 1.0,
          "claude",
          "cargo"
      "support": 2,
      "success_rate": 1.0,

$ engram pattern list --type decision_point --json | grep -A3 '"branches"'
      "branches": {
        "claude": {
          "succeeded": 2,
          "success_rate": 1.0,
...

$ engram --json pattern list --type error_recovery | grep '"id"' | head -1 | sed 's/.*"\(p[0-9a-f]*\)".*/\1/' > id && engram pattern show $(cat id)
pattern  p{{*}}  [error_recovery]
what     cargo failing with "error[e<n>]: cannot find value <q> in <path>" -> claude > cargo
support  2 episodes, 2 occurrences, success rate 100%
cost     {{*}} ms and {{*}} tokens per occurrence
seen     {{ts}} to {{ts}}
evidence {{uuid}}
evidence {{uuid}}

# Bad input.
$ engram pattern show p0000000000000000
error: pattern p0000000000000000 not found
[exit 1]

$ engram pattern list --type sequences
error: type must be one of tool_sequence, error_recovery, decision_point, context, got "sequences"
[exit 1]

$ engram pattern list --min-support 0
error: min_support must be at least 1, got 0
[exit 1]

$ engram pattern list --min-success 2
error: min_success must be between 0 and 1, got 2
[exit 1]

$ engram pattern list --min-success lots
error: min_success must be a number between 0 and 1, got "lots"
[exit 2]
