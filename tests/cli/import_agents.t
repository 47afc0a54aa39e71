# Coding agents' transcripts import whole: SWE-agent trajectories and Claude Code sessions, the
# format told by the file's shape when --format is left out.

# Every one of the 22 real SWE-agent trajectories imports, each as one episode.
$ for f in $TRANSCRIPT_DIR/../data/swe-agent/*.traj; do engram import "$f" || echo "FAILED $f"; done | sort | uniq -c | sed 's/^ *//'
22 imported 1 episode(s), skipped 0 existing, rejected 0

$ engram episode list --limit 100 | grep -c completed
21

$ engram recall "TimeDelta serialization rounds milliseconds down" --k 1 --json | python3 -c 'import json, sys; r = json.load(sys.stdin); print(r["episodes"][0]["task"].splitlines()[0])'
TimeDelta serialization precision

$ engram stats | grep -E "^ *(edit|python|submit) " | awk '{print $1}'
edit
python
submit

# A Claude Code session: the first user text the task, tool uses paired with their results.
$ engram --db cc.db import $TRANSCRIPT_DIR/../data/claude-code/sample_session.jsonl && engram --db cc.db episode list
imported 1 episode(s), skipped 0 existing, rejected 0
ID                                    STATUS     OUTCOME          STARTED                   TASK
{{uuid:CC}}  completed  success          2025-12-24T10:00:00.000Z  Create a hello world function

$ engram --db cc.db episode show $CC --json | python3 -c 'import json, sys; e = json.load(sys.stdin); [print(s["tool"], s["success"], s["latency_ms"], s["action"]) for s in e["steps"]]'
llm True 5000 reply
Write True 5000 /project/hello.py
llm True 5000 reply
Bash True 5000 git add . && git commit -m 'Add hello function'
...

# A session the hook recorded as it ran is in the store already: its transcript is skipped.
$ echo '{"session_id":"test-session-id","hook_event_name":"UserPromptSubmit","prompt":"Create a hello world function"}' | XDG_RUNTIME_DIR=$PWD engram --db hooked.db hook claude-code --no-recall && engram --db hooked.db import $TRANSCRIPT_DIR/../data/claude-code/sample_session.jsonl && engram --db hooked.db episode list | grep -c hello
the session: session test-session-id is recorded already (engram hook claude-code), as episode {{uuid}}, skipped
imported 0 episode(s), skipped 1 existing, rejected 0
1

# A line it cannot use is reported by its number and skipped; the rest of the session imports.
$ printf '%s\n' '{"type":"user","sessionId":"s9","message":{"role":"user","content":"Bump the version"}}' 'not json' '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"nope","content":"x"}]}}' '{"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","id":"t1","name":"Edit","input":{"file_path":"Cargo.toml"}}]}}' '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}}' > broken.jsonl && engram --db broken.db import broken.jsonl
line 2: not valid JSON: parse error at line 1, column 2: syntax error while parsing value - invalid literal; last read: 'no'
line 3: message.content[0]: a tool_result for unknown tool_use_id "nope"
imported 1 episode(s), skipped 0 existing, rejected 2
error: 2 record(s) rejected
[exit 1]

$ engram --db broken.db episode list
ID                                    STATUS     OUTCOME          STARTED                   TASK
{{uuid}}  completed  success          {{ts}}  Bump the version

# The shape read from stdin too; a shape of none of the formats is a clear error.
$ cat $TRANSCRIPT_DIR/../data/swe-agent/function_calling_simple.traj | engram --db stdin.db import -
imported 1 episode(s), skipped 0 existing, rejected 0

$ echo '{"name":"not an episode"}' > other.json && engram import other.json
error: cannot tell the format of other.json from its shape: pass --format jsonl, openai-chat, claude-code or swe-agent
[exit 2]

$ engram import broken.jsonl --format swe-agent
the trajectory: not valid JSON: {{*}}
imported 0 episode(s), skipped 0 existing, rejected 1
error: 1 record(s) rejected
[exit 1]
