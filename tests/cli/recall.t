# engram recall: past attempts at a task, why each was chosen, and a playbook.

$ engram episode start --task "Fix the flaky integration test in the downloader" --domain networking --language rust
{{uuid:A}}

$ printf '%s\n' '{"tool":"cargo","action":"test --test integration","latency_ms":31000,"success":false,"observation":"test downloads_parallel ... timed out after 30s"}' '{"tool":"claude","action":"explain the hang","latency_ms":4000,"tokens":900}' '{"tool":"cargo","action":"test --test integration","latency_ms":8000}' | engram episode log-steps $A > /dev/null && engram episode complete $A --outcome success --summary "permit released in a guard" > /dev/null && echo done
done

$ engram episode start --task "Fix the flaky integration test with a retry loop" --domain networking --language rust
{{uuid:B}}

$ printf '%s\n' '{"tool":"cargo","action":"test --test integration","latency_ms":31000,"success":false,"observation":"test downloads_parallel ... timed out after 30s"}' '{"tool":"cargo","action":"test --test integration","latency_ms":31000,"success":false,"observation":"test downloads_parallel ... timed out after 31s"}' | engram episode log-steps $B > /dev/null && engram episode complete $B --outcome failure --summary "retries hid nothing" > /dev/null && echo done
done

$ engram episode start --task "Write release notes" --domain docs
{{uuid:C}}

$ engram episode log-step $C --tool git --action "log v1.0..HEAD" > /dev/null && engram episode complete $C --outcome success > /dev/null && echo done
done

$ engram recall "flaky integration test" --domain networking
 1. {{*}}  Fix the flaky integration test in the downloader  [success, reward {{*}}]
      {{uuid}}  why: context 0.20, outcome {{*}}, recency 0.10, text 0.60
      - `cargo test --test integration` failed at step 1 and succeeded at step 3 after `claude explain the hang`
 2. {{*}}  WARNING Fix the flaky integration test with a retry loop  [failure, reward 0.00]
      {{uuid}}  why: context 0.20, outcome 0.00, recency {{*}}, text {{*}}
      - `cargo` failed 2 times (steps 1, 2)
      - the same error occurred 2 times (steps 1, 2): test downloads_parallel ... timed out after <n>s
      - step 1 (`cargo test --test integration`) took 31000 ms, 50% of the time spent in steps

patterns that apply
{{*}}  tool_sequence   in 1 here, {{*}} success  cargo > claude > cargo
{{*}}  error_recovery  in 1 here, {{*}} success  cargo failing with "test downloads_parallel ... timed out after <n>s" -> claude > cargo
...

playbook ({{int}} tokens)
From 2 similar past episode(s): 1 succeeded, 1 failed.
What worked:
- "Fix the flaky integration test in the downloader" (success, reward {{*}}: permit released in a guard): `cargo test --test integration` failed at step 1 and succeeded at step 3 after `claude explain the hang`
Pitfalls and fixes:
- cargo failing with "test downloads_parallel ... timed out after <n>s": recovered by claude > cargo (1 episode(s), {{*}} success).
- Failed before: "Fix the flaky integration test with a retry loop" (failure, reward 0.00: retries hid nothing): `cargo` failed 2 times (steps 1, 2); the same error occurred 2 times (steps 1, 2): test downloads_parallel ... timed out after <n>s

# --json: the shape of docs/design.md section 5; the playbook fits the budget.
$ engram recall "release notes" --k 1 --json | head -12
{
  "episodes": [
    {
      "id": "{{uuid}}",
      "task": "Write release notes",
      "score": {{*}},
      "why": {
        "context": 0.0,
        "outcome": {{*}},
        "recency": 0.1,
        "text": 0.6
      },

$ engram recall "flaky test" --budget 20 --json | grep -E '"playbook'
  "playbook": "From 2 similar past episode(s): 1 succeeded, 1 failed.\n",
  "playbook_tokens": 14

$ engram recall "quantum chromodynamics"
no past episodes match; complete some episodes first

$ engram recall ""
error: task is empty
[exit 1]

$ engram recall "flaky" --k 0
error: k must be 1 to 100, got 0
[exit 1]

$ engram recall "flaky" --k many
error: k must be an integer >= 1, got "many"
[exit 2]

$ engram recall "flaky" --budget 100001
error: token_budget must be 0 to 100000, got 100001
[exit 1]
