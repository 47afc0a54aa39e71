# engram demo, as `make run` shows it to a newcomer.

$ engram demo | grep -E '^(episode|task|outcome|steps)'
episode  {{uuid}}  [completed]
task     Add a --verbose flag to the ripgrep-lite CLI (code_generation)
outcome  success: --verbose prints each file searched
steps    8 (1 failed, 42415 ms, 2950 tokens)
episode  {{uuid}}  [completed]
task     Fix the flaky integration test test_concurrent_downloads (debugging)
outcome  success: permit released in a guard; test passes 50 runs in a row
steps    7 (2 failed, 56470 ms, 2230 tokens)
episode  {{uuid}}  [completed]
task     Write the API reference for the search module (documentation)
outcome  partial_success: search module documented; examples for the glob matcher still missing
steps    5 (1 failed, 43200 ms, 5100 tokens)

$ engram episode list --status completed
ID                                    STATUS     OUTCOME          STARTED                   TASK
{{uuid}}  completed  partial_success  {{ts}}  Write the API reference for the search module
{{uuid}}  completed  success          {{ts}}  Fix the flaky integration test test_concurrent_downloads
{{uuid}}  completed  success          {{ts}}  Add a --verbose flag to the ripgrep-lite CLI

$ engram episode list --outcome partial_success --json | python3 -c "import json,sys; print([(e['task'], e['totals']) for e in json.load(sys.stdin)['episodes']])"
[('Write the API reference for the search module', {'steps': 5, 'failed_steps': 1, 'tokens': 5100})]

$ engram demo --json | grep -c '"step_number"'
20

# The demo ends with a recall for a new task: the past attempt that matches, and a playbook.
$ engram --db demo2.db demo | sed -n '/^A new task/,/^playbook/p' | grep -E '^(A new task| 1\.|playbook)'
A new task: "Add a --quiet flag to the CLI and make sure the build passes" (domain cli, language rust)
 1. {{*}}  Add a --verbose flag to the ripgrep-lite CLI  [success, reward {{*}}]
playbook ({{int}} tokens)
