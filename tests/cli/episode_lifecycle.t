# An episode from start to delete, as an agent harness drives it from a shell.

$ engram episode start --task "Fix the flaky integration test" --type debugging --domain networking --language rust --framework tokio --complexity complex --tag ci --tag flaky
{{uuid:ID}}

$ engram episode log-step $ID --tool cargo --action "test --test integration_test" --latency-ms 31000 --failure --observation "timed out after 30s"
step 1 logged to {{uuid}}

$ engram episode log-step $ID --tool claude --action "explain the hang" --latency-ms 4800 --tokens 1520 --parameters '{"model":"claude-sonnet"}'
step 2 logged to {{uuid}}

# --json prints the step number; global flags go anywhere on the line.
$ engram --json episode log-step $ID --tool cargo --action test --latency-ms 8800 --success --observation "12 passed"
{
  "episode_id": "{{uuid}}",
  "step_number": 3
}

$ engram episode show $ID --json
{
  "id": "{{uuid}}",
  "task": "Fix the flaky integration test",
  "task_type": "debugging",
  "context": {
    "domain": "networking",
    "language": "rust",
    "framework": "tokio",
    "complexity": "complex",
    "tags": [
      "ci",
      "flaky"
    ]
  },
  "status": "open",
  "started_at": "{{ts}}",
  "ended_at": null,
  "outcome": null,
  "reward": null,
  "reflection": null,
  "metadata": {},
  "steps": [
    {
      "step_number": 1,
      "timestamp": "{{ts}}",
      "tool": "cargo",
      "action": "test --test integration_test",
      "latency_ms": 31000,
      "tokens": null,
      "success": false,
      "observation": "timed out after 30s",
      "parameters": {},
      "metadata": {}
    },
    {
      "step_number": 2,
      "timestamp": "{{ts}}",
      "tool": "claude",
      "action": "explain the hang",
      "latency_ms": 4800,
      "tokens": 1520,
      "success": true,
      "observation": "",
      "parameters": {
        "model": "claude-sonnet"
      },
      "metadata": {}
    },
    {
...
    }
  ]
}

$ engram episode show $ID
episode  {{uuid}}  [open]
task     Fix the flaky integration test (debugging)
context  domain=networking language=rust framework=tokio complexity=complex tags=ci,flaky
started  {{ts}}
steps    3 (1 failed, 44600 ms, 1520 tokens)
     1 FAIL cargo        31000ms         test --test integration_test
                                         -> timed out after 30s
     2 ok   claude        4800ms  1520t  explain the hang
     3 ok   cargo         8800ms         test
                                         -> 12 passed

$ engram episode complete $ID --outcome success --summary "permit released in a guard" --artifact tests/integration_test.rs
episode {{uuid}} completed: success (3 steps)

$ engram episode show $ID --json | grep -E '"(status|kind|summary|ended_at)"'
  "status": "completed",
  "ended_at": "{{ts}}",
    "kind": "success",
    "summary": "permit released in a guard",

# Completing twice, and logging to a completed episode, are errors.
$ engram episode complete $ID --outcome failure
error: episode {{uuid}} is already completed
[exit 1]

$ engram episode log-step $ID --tool git --action status
error: episode {{uuid}} is completed: it accepts no more steps
[exit 1]

# An episode with no steps may complete.
$ engram episode start --task "Nothing to do" --json
{
  "id": "{{uuid:EMPTY}}"
}

$ engram episode complete $EMPTY --outcome abstained --json | grep -E '"(status|kind)"|^  "steps"'
  "status": "completed",
    "kind": "abstained",
  "steps": []

$ engram episode delete $EMPTY
episode {{uuid}} deleted

$ engram episode show $EMPTY
error: episode {{uuid}} not found
[exit 1]
