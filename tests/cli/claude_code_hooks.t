# engram hook claude-code: a Claude Code session recorded event by event, each event its own
# process as Claude Code runs hooks. Timing notes go to $XDG_RUNTIME_DIR (here, the test's folder).

$ printf '#!/bin/sh\nXDG_RUNTIME_DIR=$PWD exec engram hook claude-code "$@"\n' > hook && chmod +x hook && echo ready
ready

$ echo '{"session_id":"sess-1","transcript_path":"/home/u/.claude/projects/p/sess-1.jsonl","cwd":"/work/parser","hook_event_name":"SessionStart","source":"startup"}' | ./hook; echo "exit $?"
exit 0

# The first prompt is the task; nothing is stored yet to give back.
$ echo '{"session_id":"sess-1","cwd":"/work/parser","hook_event_name":"UserPromptSubmit","prompt":"Fix the failing tokenizer test in the parser crate"}' | ./hook; echo "exit $?"
exit 0

# Two tool calls at once (parallel Read and Grep), each a pair of Pre and Post events, then a
# failing Bash call and a passing one.
$ for call in 'toolu_01Read|Read|{"file_path":"/work/parser/src/tokenizer.rs"}|{"type":"text","file":{"filePath":"/work/parser/src/tokenizer.rs","content":"fn next_token() {}"}}' 'toolu_02Grep|Grep|{"pattern":"fn next_token","path":"/work/parser/src"}|{"mode":"content","content":"src/tokenizer.rs:1:fn next_token() {}","numLines":1}'; do (id=${call%%|*}; rest=${call#*|}; tool=${rest%%|*}; rest=${rest#*|}; input=${rest%%|*}; response=${rest#*|}; echo "{\"session_id\":\"sess-1\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"$tool\",\"tool_use_id\":\"$id\",\"tool_input\":$input}" | ./hook; sleep 0.3; echo "{\"session_id\":\"sess-1\",\"hook_event_name\":\"PostToolUse\",\"tool_name\":\"$tool\",\"tool_use_id\":\"$id\",\"tool_input\":$input,\"tool_response\":$response}" | ./hook) & done; wait; echo done
done

$ echo '{"session_id":"sess-1","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"toolu_03","tool_input":{"command":"cargo test -p parser tokenizer","description":"Run the tokenizer tests"}}' | ./hook && echo '{"session_id":"sess-1","hook_event_name":"PostToolUseFailure","tool_name":"Bash","tool_use_id":"toolu_03","tool_input":{"command":"cargo test -p parser tokenizer","description":"Run the tokenizer tests"},"error":"Command exited with non-zero status code 101","is_interrupt":false}' | ./hook; echo "exit $?"
exit 0

$ echo '{"session_id":"sess-1","hook_event_name":"PostToolUse","tool_name":"Edit","tool_use_id":"toolu_04","tool_input":{"file_path":"/work/parser/src/tokenizer.rs","old_string":"fn next_token() {}","new_string":"fn next_token() -> Token { Token::Eof }"},"tool_response":{"filePath":"/work/parser/src/tokenizer.rs"}}' | ./hook && echo '{"session_id":"sess-1","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"toolu_05","tool_input":{"command":"cargo test -p parser tokenizer"},"tool_response":{"stdout":"test result: ok. 12 passed","stderr":"","interrupted":false,"isImage":false}}' | ./hook && echo '{"session_id":"sess-1","hook_event_name":"PostToolUse","tool_name":"mcp__github__create_pull_request","tool_use_id":"toolu_06","tool_input":{"title":"Fix tokenizer"},"tool_response":[{"type":"text","text":"PR #7 opened"}]}' | ./hook; echo "exit $?"
exit 0

# A later prompt is a step; Stop flushes; SessionEnd completes the episode.
$ echo '{"session_id":"sess-1","hook_event_name":"UserPromptSubmit","prompt":"Thanks, that is all"}' | ./hook && echo '{"session_id":"sess-1","hook_event_name":"Stop","stop_hook_active":false}' | ./hook && echo '{"session_id":"sess-1","hook_event_name":"SessionEnd","reason":"prompt_input_exit"}' | ./hook; echo "exit $?"
exit 0

$ engram episode list
ID                                    STATUS     OUTCOME          STARTED                   TASK
{{uuid:ID}}  completed  success          {{ts}}  Fix the failing tokenizer test in the parser crate

$ engram episode show $ID --json | python3 -c 'import json, sys; e = json.load(sys.stdin); print(e["metadata"]); print(e["outcome"]["summary"]); [print(s["step_number"], s["tool"], s["success"], s["action"], "|", s["observation"][:40], "|", s["metadata"]) for s in e["steps"]]' | sed 's/toolu_0[12]\(Read\|Grep\)/toolu_PARALLEL/'
{'cwd': '/work/parser', 'session_id': 'sess-1', 'transcript_path': '/home/u/.claude/projects/p/sess-1.jsonl'}
session ended (prompt_input_exit); 6 tool call(s), 1 failed
...
3 Bash False cargo test -p parser tokenizer | Command exited with non-zero status code | {'tool_use_id': 'toolu_03'}
4 Edit True /work/parser/src/tokenizer.rs | {"filePath":"/work/parser/src/tokenizer. | {'tool_use_id': 'toolu_04'}
5 Bash True cargo test -p parser tokenizer | test result: ok. 12 passed | {'tool_use_id': 'toolu_05'}
6 mcp__github__create_pull_request True {"title":"Fix tokenizer"} | PR #7 opened | {'tool_use_id': 'toolu_06'}
7 user True reply | Thanks, that is all | {}

# The parallel calls: both kept, each timed from its PreToolUse, in whichever order they ended.
$ engram episode show $ID --json | python3 -c 'import json, sys; e = json.load(sys.stdin); [print(s["tool"], s["success"], s["action"], "|", s["observation"], "|", "timed" if s["latency_ms"] >= 250 else "untimed") for s in sorted(e["steps"][:2], key=lambda s: s["tool"])]'
Grep True fn next_token in /work/parser/src | src/tokenizer.rs:1:fn next_token() {} | timed
Read True /work/parser/src/tokenizer.rs | fn next_token() {} | timed

# A new session on a similar task starts with what the first one learnt.
$ echo '{"session_id":"sess-2","cwd":"/work/parser","hook_event_name":"UserPromptSubmit","prompt":"The tokenizer test fails again in the parser crate"}' | ./hook | python3 -c 'import json, sys; o = json.load(sys.stdin)["hookSpecificOutput"]; print(o["hookEventName"]); print(o["additionalContext"])'
UserPromptSubmit
{{*}}
...

$ echo '{"session_id":"sess-3","hook_event_name":"UserPromptSubmit","prompt":"The tokenizer test fails again in the parser crate"}' | ./hook --no-recall; echo "exit $?"
exit 0

# Nothing relevant stored: nothing given back.
$ echo '{"session_id":"sess-4","hook_event_name":"UserPromptSubmit","prompt":"Write a haiku about autumn leaves"}' | ./hook; echo "exit $?"
exit 0

# A session that ends before any prompt or step leaves nothing behind.
$ echo '{"session_id":"sess-5","hook_event_name":"SessionStart","source":"startup"}' | ./hook && echo '{"session_id":"sess-5","hook_event_name":"SessionEnd","reason":"clear"}' | ./hook && engram episode list | grep -c 'Claude Code session'
0
[exit 1]

# It never gets in the agent's way: a malformed event, a store it cannot open, a bad flag all
# exit 0 with one line on stderr.
$ echo 'not json' | ./hook; echo "exit $?"
engram hook: the event is not valid JSON: parse error at line 1, column 2: syntax error while parsing value - invalid literal; last read: 'no'
exit 0

$ echo '{"hook_event_name":"PostToolUse","tool_name":"Bash"}' | ./hook; echo "exit $?"
engram hook: session_id is missing
exit 0

$ echo '{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Bash"}' | engram --db /nonexistent/folder/engram.db hook claude-code; echo "exit $?"
engram hook: {{*}}
exit 0

$ echo '{}' | engram hook claude-code --budget 0; echo "exit $?"
engram hook: {{*}}
exit 0

# The settings block, with this binary's absolute path and the database made absolute.
$ engram --db sessions.db hook claude-code --print-config | python3 -c 'import json, sys; h = json.load(sys.stdin)["hooks"]; print(sorted(h)); c = h["PostToolUse"][0]; print(c["matcher"], c["hooks"][0]["type"], c["hooks"][0]["timeout"]); cmd = c["hooks"][0]["command"].split(" "); print(cmd[0].startswith("/") and cmd[0].endswith("/engram"), cmd[1:3] == ["--db", "sqlite://" + __import__("os").getcwd() + "/sessions.db"], cmd[3:])'
['PostToolUse', 'PostToolUseFailure', 'PreToolUse', 'SessionEnd', 'SessionStart', 'Stop', 'UserPromptSubmit']
* command 10
True True ['hook', 'claude-code']

# Parallel tool calls run hooks as concurrent processes on one SQLite file: every step kept,
# numbered 1 to 24 in arrival order.
$ for i in $(seq 24); do (echo "{\"session_id\":\"sess-6\",\"hook_event_name\":\"PostToolUse\",\"tool_name\":\"Read\",\"tool_use_id\":\"toolu_$i\",\"tool_input\":{\"file_path\":\"/f$i\"},\"tool_response\":\"x\"}" | ./hook) & done; wait; engram episode list --json | python3 -c 'import json, sys; print([e["id"] for e in json.load(sys.stdin)["episodes"] if e["task"] == "Claude Code session sess-6"][0])' > six && engram episode show $(cat six) --json | python3 -c 'import json, sys; s = json.load(sys.stdin)["steps"]; print(len(s), [x["step_number"] for x in s] == list(range(1, 25)), len({x["action"] for x in s}))'
24 True 24

# A resumed session (claude --resume) whose episode was completed goes on in a new one.
$ echo '{"session_id":"sess-1","hook_event_name":"SessionStart","source":"resume"}' | ./hook && echo '{"session_id":"sess-1","hook_event_name":"UserPromptSubmit","prompt":"Now make the lexer test pass too"}' | ./hook --no-recall && echo '{"session_id":"sess-1","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"toolu_20","tool_input":{"command":"cargo test lexer"},"tool_response":{"stdout":"ok"}}' | ./hook && engram episode list --status open | grep -c "Now make the lexer test pass too"
1

# A prompt with a NUL character (which no store keeps) is stored with U+FFFD in its place.
$ printf '%s\n' '{"session_id":"sess-7","hook_event_name":"UserPromptSubmit","prompt":"Explain the \u0000 byte"}' | ./hook; engram episode list | grep -c 'Explain the � byte'
1
