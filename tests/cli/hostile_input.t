# Input meant to break engram: JSON nested without end, numbers beyond any range, counts that
# would overflow a sum. Each is refused with its reason (or, for the sums, held at the most an
# integer holds); nothing crashes, and the good lines beside a bad one are kept.

$ engram episode start --task "Hostile input"
{{uuid:ID}}

# 64 levels of objects and arrays (the step, its parameters, 62 arrays) are read; 65 are not.
$ printf '{"tool":"ok","parameters":{"a":%s%s}}\n{"tool":"deep","parameters":{"a":%s%s}}\n' "$(printf '%62s' | tr ' ' '[')" "$(printf '%62s' | tr ' ' ']')" "$(printf '%63s' | tr ' ' '[')" "$(printf '%63s' | tr ' ' ']')" | engram episode log-steps $ID
error: line 2: nested deeper than 64 levels (objects and arrays together), the limit
logged 1 step(s) to {{uuid}}: steps 1-1
error: 1 of 2 line(s) rejected
[exit 1]

# 70,000 levels (140 KB, within the parameters' limit) on every reader: refused, no crash.
$ printf '%70000s\n' | tr ' ' '[' > deep.json && wc -c < deep.json
70001

$ (printf '{"tool":"x","parameters":{"a":'; cat deep.json) | engram episode log-steps $ID
error: line 1: nested deeper than 64 levels (objects and arrays together), the limit
no steps logged to {{uuid}}
error: 1 of 1 line(s) rejected
[exit 1]

$ engram episode log-step $ID --tool x --action y --parameters "$(cat deep.json)"
error: parameters is nested deeper than 64 levels (objects and arrays together), the limit
[exit 1]

$ (printf '{"messages":[{"role":"user","content":"hi"}],"metadata":{"a":'; cat deep.json) | engram import - --format openai-chat
line 1: nested deeper than 64 levels (objects and arrays together), the limit
imported 0 episode(s), skipped 0 existing, rejected 1
error: 1 record(s) rejected
[exit 1]

$ (printf '{"jsonrpc":"2.0","id":'; cat deep.json) | engram mcp
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the message is nested deeper than 64 levels (objects and arrays together), the limit"}}

# Numbers: 1e400 is named with its field; latency and tokens are integers from 0 to 2^53 - 1.
$ printf '%s\n' '{"tool":"a","latency_ms":1e400}' '{"tool":"b","latency_ms":9007199254740992}' '{"tool":"c","tokens":9223372036854775807}' '{"tool":"d","latency_ms":-1}' '{"tool":"e","tokens":2.5}' '{"tool":"f","latency_ms":9007199254740991,"tokens":9007199254740991}' | engram episode log-steps $ID
error: line 1: out of range at latency_ms: the number 1e400 is beyond ±1.7976931348623157e+308
error: line 2: latency_ms must be an integer from 0 to 9007199254740991, got 9007199254740992
error: line 3: tokens must be an integer from 0 to 9007199254740991 or null, got 9223372036854775807
error: line 4: latency_ms must be an integer from 0 to 9007199254740991, got -1
error: line 5: tokens must be an integer from 0 to 9007199254740991 or null, got 2.5
logged 1 step(s) to {{uuid}}: steps 2-2
error: 5 of 6 line(s) rejected
[exit 1]

# One such line among 2,100: the other 2,099 are stored, in order.
$ engram episode start --task "Many lines"
{{uuid:MANY}}

$ seq 1 2100 | awk '{ if ($1 == 1537) print "{\"tool\":\"t\",\"latency_ms\":1e400}"; else print "{\"tool\":\"t\",\"action\":\"" $1 "\"}" }' | engram episode log-steps $MANY
error: line 1537: out of range at latency_ms: the number 1e400 is beyond ±1.7976931348623157e+308
logged 2099 step(s) to {{uuid}}: steps 1-2099
error: 1 of 2100 line(s) rejected
[exit 1]

$ engram episode show $MANY --json | grep -c '"tool": "t"'
2099

$ (printf '%s\n' '{"messages":[{"role":"user","content":"big"}],"metadata":{"n":1e400}}' '{"messages":[{"role":"user","content":"fine"}]}') | engram import - --format openai-chat
line 1: out of range at n: the number 1e400 is beyond ±1.7976931348623157e+308
imported 1 episode(s), skipped 0 existing, rejected 1
error: 1 record(s) rejected
[exit 1]

# Sums over the largest counts stop at the largest 64-bit integer, never negative.
$ engram episode start --task "Big sums"
{{uuid:BIG}}

$ seq 1 1100 | awk '{ print "{\"tool\":\"huge\",\"latency_ms\":9007199254740991,\"tokens\":9007199254740991}" }' | engram episode log-steps $BIG
logged 1100 step(s) to {{uuid}}: steps 1-1100

$ engram episode complete $BIG --outcome success > /dev/null && engram --json stats | grep -E '"tokens_total": (9223372036854775807|-)' | sort -u
{{*}}"tokens_total": 9223372036854775807,

$ engram --json pattern list --type tool_sequence | grep -E '"mean_(latency_ms|tokens)": -' | wc -l
0

# A line over 64 MiB is refused by its size, unread; the lines around it are read.
$ engram episode start --task "Huge lines"
{{uuid:HUGE}}

$ (echo '{"tool":"before"}'; printf '{"tool":"x","observation":"'; head -c 67108864 /dev/zero | tr '\0' 'a'; echo '"}'; echo '{"tool":"after"}') | engram episode log-steps $HUGE
error: line 2: the line is 67108893 bytes, limit 67108864 bytes
logged 2 step(s) to {{uuid}}: steps 1-2
error: 1 of 3 line(s) rejected
[exit 1]

$ (printf '{"messages":[{"role":"user","content":"'; head -c 67108864 /dev/zero | tr '\0' 'a'; echo '"}]}'; echo '{"messages":[{"role":"user","content":"small"}]}') | engram import - --format openai-chat
line 1: the line is 67108907 bytes, limit 67108864 bytes
imported 1 episode(s), skipped 0 existing, rejected 1
error: 1 record(s) rejected
[exit 1]

$ (printf '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"'; head -c 67108864 /dev/zero | tr '\0' 'a'; echo '"}}'; echo '{"jsonrpc":"2.0","id":2,"method":"ping"}') | engram mcp
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the message is 67108924 bytes, limit 67108864 bytes"}}
{"jsonrpc":"2.0","id":2,"result":{}}

# Bytes that are not UTF-8, quoted by the parser's message, are escaped in it: the JSON output
# of log-steps and import and an MCP reply stay JSON (they aborted the process before).
$ printf '{"tool":"\377"}\n' | engram --json episode log-steps $ID | python3 -c 'import json, sys; print(json.load(sys.stdin)["rejected"][0]["error"][-18:])'
error: line 1: not valid JSON: parse error at line 1, column 10: syntax error while parsing value - invalid string: ill-formed UTF-8 byte; last read: '"\xFF'
error: 1 of 1 line(s) rejected
last read: '"\xFF'

$ printf '{"messages":[{"role":"user","content":"\377"}]}\n' | engram --json import - --format openai-chat | python3 -c 'import json, sys; print(json.load(sys.stdin)["problems"][0]["error"][-18:])'
error: 1 record(s) rejected
last read: '"\xFF'

$ printf '{"jsonrpc":"2.0","id":"\377"}\n' | engram mcp | python3 -c 'import json, sys; print(json.load(sys.stdin)["error"]["code"])'
-32700

# Members of the wrong type where a string is read: an error reply, not an abort.
$ printf '%s\n' '{"jsonrpc":1,"id":1,"method":"ping"}' '{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":5}}' | engram mcp | python3 -c 'import json, sys; [print(json.loads(l).get("error", {}).get("code"), "protocolVersion" in json.loads(l).get("result", {})) for l in sys.stdin]'
-32600 False
None True
