# engram export / import: a lossless JSON Lines round trip, and agent transcripts in the OpenAI
# chat format imported, completed, learnt from and recalled.

$ engram demo > /dev/null && engram episode start --task "still open" --tag a --tag b --complexity simple > /dev/null && engram export --out all.jsonl
exported 4 episode(s) to all.jsonl

$ engram --db second.db import all.jsonl
imported 4 episode(s), skipped 0 existing, rejected 0

# Exported again from the second store: the same bytes, ids, step numbers and timestamps.
$ engram --db second.db export | sort > again.jsonl && sort all.jsonl | cmp - again.jsonl && echo identical
identical

$ engram --db second.db import all.jsonl 2>&1 | sed 's/episode [0-9a-f-]*/episode ID/'
line 1: episode ID already exists, skipped
line 2: episode ID already exists, skipped
line 3: episode ID already exists, skipped
line 4: episode ID already exists, skipped
imported 0 episode(s), skipped 4 existing, rejected 0

$ printf '%s\n' 'not json' '{"task":"no id","steps":[{"tool":""}]}' '{"task":"fine"}' > bad.jsonl && engram --db third.db import bad.jsonl
line 1: not valid JSON: parse error at line 1, column 2: syntax error while parsing value - invalid literal; last read: 'no'
line 2: steps[0]: tool is empty
imported 1 episode(s), skipped 0 existing, rejected 2
error: 2 record(s) rejected
[exit 1]

$ engram export --format csv
error: format must be jsonl, got "csv"
[exit 2]

$ engram import all.jsonl --format yaml
error: format must be jsonl, openai-chat, claude-code or swe-agent, got "yaml"
[exit 2]

$ engram import missing.jsonl
error: cannot read missing.jsonl
[exit 1]

# Transcripts: two attempts at booking a flight (one recovers from a tool error), one failed
# refund, and bad records reported by index.
$ engram --db chats.db import $TRANSCRIPT_DIR/data/chats.json --format openai-chat
conversations[3]: the conversation has no user message
conversations[4]: messages[1]: tool reply to unknown tool_call_id "zz"
imported 3 episode(s), skipped 0 existing, rejected 2
error: 2 record(s) rejected
[exit 1]

$ engram --db chats.db episode list
ID                                    STATUS     OUTCOME          STARTED                   TASK
{{uuid}}  completed  failure          {{ts}}  Refund order 1234
{{uuid}}  completed  success          {{ts}}  I need a flight to Oslo from Paris next Friday
{{uuid}}  completed  success          {{ts}}  Book a flight from Paris to Oslo on May 3

# Recall finds the past attempts at booking, and the fix for the date format.
$ engram --db chats.db recall "book a flight to Oslo" --json | grep '"task"' | sort
      "task": "Book a flight from Paris to Oslo on May 3",
      "task": "I need a flight to Oslo from Paris next Friday",

$ engram --db chats.db recall "book a flight to Oslo" | grep -A1 -E "^(Recommended|Pitfalls)"
Recommended tool sequence: llm > search_flights > llm > book (in 2 of them, {{*}} success).
What worked:
--
Pitfalls and fixes:
- search_flights failing with "error: date must be <path>": recovered by llm > search_flights (1 episode(s), {{*}} success).

$ engram --db chats.db recall "refund an old order" --json | grep -E '"(task|warning)"'
      "task": "Refund order 1234",
      "warning": true,

# JSON Lines are read as they come; a bad line is reported by its number, blank lines counted.
$ printf '\n\n%s\n\n%s\n' '{"messages":[{"role":"user","content":"Tag the release"}]}' '{"messages":[{"role":"tool","content":"x","tool_call_id":"c1"}]}' | engram --db streamed.db import - --format openai-chat
line 5: messages[0]: tool reply to unknown tool_call_id "c1"
imported 1 episode(s), skipped 0 existing, rejected 1
error: 1 record(s) rejected
[exit 1]

# JSON Lines of transcripts work too, one conversation a line.
$ printf '%s\n' '[{"role":"user","content":"Rename the repo"},{"role":"assistant","content":"Done"}]' '{"messages":[{"role":"user","content":"Archive it"}],"outcome":{"kind":"abstained","summary":"no rights"}}' | engram --db lines.db import - --format openai-chat --json
{
  "imported": 2,
  "skipped": 0,
  "rejected": 0,
  "problems": []
}

# Nothing in a transcript is dropped: the user's later turns are steps in their place, the
# system message is the episode's system_prompt.
$ printf '%s\n' '{"messages":[{"role":"system","content":"You are a travel agent."},{"role":"user","content":"Change my flight"},{"role":"assistant","content":"Your user id?"},{"role":"user","content":"mia_li_3668"},{"role":"assistant","content":null,"tool_calls":[{"id":"g","type":"function","function":{"name":"get_user","arguments":"{}"}}]},{"role":"tool","tool_call_id":"g","content":"ok"},{"role":"user","content":"No, the other flight"}],"reward":1}' | engram --db turns.db import - --format openai-chat
imported 1 episode(s), skipped 0 existing, rejected 0

$ engram --db turns.db export | grep -o -e '"tool":"[a-z_]*","action":"[a-z_ {}]*"' -e '"system_prompt":"[^"]*"'
"system_prompt":"You are a travel agent."
"tool":"llm","action":"reply"
"tool":"user","action":"reply"
"tool":"llm","action":"call get_user"
"tool":"get_user","action":"{}"
"tool":"user","action":"reply"
