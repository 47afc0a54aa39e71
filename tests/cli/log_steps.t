# engram episode log-steps: JSON Lines on stdin, every valid line kept, every bad one reported
# with its line number.

$ engram episode start --task "Stream steps"
{{uuid:ID}}

$ printf '%s\n' '{"tool":"git","action":"status","latency_ms":35,"success":true,"observation":"clean"}' '{"tool":""}' 'not json' '' '{"tool":"cargo","latency_ms":1.5}' '{"tool":"cargo","latency":5}' '{"tool":"cargo","action":"build","tokens":null,"timestamp":"2026-11-24T16:00:00+01:00"}' '[1]' '{"tool":"claude","tokens":900,"parameters":{"model":"m"},"metadata":{"run":"7"}}' | engram episode log-steps $ID
error: line 2: tool is empty
error: line 3: not valid JSON: parse error at line 1, column 2: syntax error while parsing value - invalid literal; last read: 'no'
error: line 5: latency_ms must be an integer from 0 to 9007199254740991, got 1.5
error: line 6: step has an unknown field "latency" (known: step_number, timestamp, tool, action, latency_ms, tokens, success, observation, parameters, metadata)
error: line 8: step must be a JSON object, got [1]
logged 3 step(s) to {{uuid}}: steps 1-3
error: 5 of 8 line(s) rejected
[exit 1]

$ engram episode show $ID --json | grep -E '"(tool|timestamp|step_number)"'
{{*}}"step_number": 1,
{{*}}"timestamp": "{{ts}}",
{{*}}"tool": "git",
{{*}}"step_number": 2,
{{*}}"timestamp": "2026-11-24T15:00:00.000Z",
{{*}}"tool": "cargo",
{{*}}"step_number": 3,
{{*}}"timestamp": "{{ts}}",
{{*}}"tool": "claude",

$ printf '%s\n' '{"tool":"a"}' '{"tool":"b","success":false,"observation":"boom"}' | engram --json episode log-steps $ID
{
  "episode_id": "{{uuid}}",
  "logged": 2,
  "step_numbers": [
    4,
    5
  ],
  "rejected": []
}

# A NUL character (JSON's \u0000) in a text field is refused on every store; the line after it
# is kept.
$ printf '%s\n' '{"tool":"a","observation":"x\u0000y"}' '{"tool":"b"}' | engram episode log-steps $ID
error: line 1: observation contains a NUL character (U+0000) at offset 1, which engram does not store
logged 1 step(s) to {{uuid}}: steps 6-6
error: 1 of 2 line(s) rejected
[exit 1]

# Invalid UTF-8 inside a line is caught by the JSON reader.
$ printf '{"tool":"x","observation":"\377"}\n' | engram episode log-steps $ID
error: line 1: not valid JSON: parse error at line 1, column 28: syntax error while parsing value - invalid string: ill-formed UTF-8 byte; last read: '"{{*}}'
no steps logged to {{uuid}}
error: 1 of 1 line(s) rejected
[exit 1]

# Lines are parsed 512 at a time: bad lines on either side of a chunk's edge keep their numbers
# and the good ones their order.
$ engram episode start --task "Chunked"
{{uuid:CHUNKED}}

$ seq 1 1300 | awk '{ if ($1 == 512 || $1 == 513 || $1 == 1025 || $1 == 1300) print "{bad"; else if ($1 == 700) print ""; else print "{\"tool\":\"t\",\"action\":\"" $1 "\"}" }' | engram episode log-steps $CHUNKED 2>&1 | cut -c1-24
error: line 512: not val
error: line 513: not val
error: line 1025: not va
error: line 1300: not va
logged 1295 step(s) to {{*}}
error: 4 of 1299 line(s)

$ engram --json episode show $CHUNKED | grep -E '"action": "(511|514|1024|1026|1299)"' | tr -d ' ,'
"action":"511"
"action":"514"
"action":"1024"
"action":"1026"
"action":"1299"

$ engram --json episode show $CHUNKED | grep -c '"step_number": 1295'
1

# A bad episode stops the command at once.
$ echo '{"tool":"a"}' | engram episode log-steps 0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f
error: episode 0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f not found
[exit 1]

# 100,000 steps per episode: exactly the limit fits, the next one does not.
$ engram episode start --task "Long episode"
{{uuid:LONG}}

$ seq 1 100000 | sed 's/.*/{"tool":"bash","action":"step &"}/' | engram episode log-steps $LONG
logged 100000 step(s) to {{uuid}}: steps 1-100000

$ echo '{"tool":"bash","action":"one too many"}' | engram episode log-steps $LONG
error: line 1: episode {{uuid}} has 100000 steps, limit 100000 steps: 1 more do not fit
no steps logged to {{uuid}}
error: 1 of 1 line(s) rejected
[exit 1]

$ engram episode log-step $LONG --tool bash --action "one too many"
error: episode {{uuid}} has 100000 steps, limit 100000 steps: 1 more do not fit
[exit 1]
