# Which store the CLI opens, and several processes sharing one SQLite file.

# Without --db or ENGRAM_DB: $XDG_DATA_HOME/engram/engram.db, created on first use.
$ env -u ENGRAM_DB engram episode start --task "Default store" > /dev/null && ls xdg/engram
engram.db

$ env -u ENGRAM_DB engram --json episode list | grep -c '"task": "Default store"'
1

# --db wins over ENGRAM_DB, and goes anywhere on the line.
$ engram episode list --db sqlite://other.db --json
{
  "episodes": [],
  "next_cursor": null
}

# Four processes log to one episode at once: no "database is locked", no gap, no duplicate.
$ engram episode start --task "Shared by processes"
{{uuid:SHARED}}

$ for p in 1 2 3 4; do (seq 1 500 | sed "s/.*/{\"tool\":\"p$p\",\"action\":\"&\"}/" | engram episode log-steps $SHARED > out.$p 2>&1 || echo "process $p failed") & done; wait; cat out.*
logged 500 step(s) to {{uuid}}: steps {{*}}
logged 500 step(s) to {{uuid}}: steps {{*}}
logged 500 step(s) to {{uuid}}: steps {{*}}
logged 500 step(s) to {{uuid}}: steps {{*}}

$ engram episode show $SHARED --json | grep '"step_number"' | sed 's/[^0-9]//g' > numbers && seq 1 2000 | cmp - numbers && echo contiguous
contiguous

# Paging through a list with the cursor.
$ for i in 1 2 3 4 5; do engram episode start --task "page $i" --domain paging > /dev/null; done; engram episode list --domain paging --limit 2 --json | grep -E '"task"|next_cursor'
      "task": "page 5",
      "task": "page 4",
  "next_cursor": "{{uuid:CURSOR}}"

$ engram episode list --domain paging --limit 2 --cursor $CURSOR
ID                                    STATUS     OUTCOME          STARTED                   TASK
{{uuid}}  open       -                {{ts}}  page 3
{{uuid}}  open       -                {{ts}}  page 2
more: --cursor {{uuid}}

$ engram --help
engram: episodic memory for AI agents
...
  episode                     Record and read episodes
  pattern                     Patterns mined across completed episodes
  recall{{*}}
  suggest{{*}}
  stats{{*}}
  export{{*}}
  import{{*}}
  backup{{*}}
  migrate{{*}}
  prune{{*}}
  mcp{{*}}
  serve{{*}}
  hook{{*}}
  demo{{*}}
...

$ engram episode log-steps --help
Log steps read from stdin, one ExecutionStep JSON a line (JSON Lines)
...

# The file may grow no more (ulimit -f, the way a full disk stops writes): log-steps stops at
# the first line the store could not take, says from which line to send again, and exits 1.
# Sent again from there, the episode is whole and in order.
$ engram episode start --task "Until the disk is full" --db sqlite://small.db
{{uuid:SMALL}}

$ for i in $(seq 1 3000); do printf '{"tool":"t%d","observation":"%02000d"}\n' $i 0; done > big.jsonl && wc -l < big.jsonl
3000

$ (trap '' XFSZ; ulimit -f 1500; engram --json episode log-steps $SMALL --db sqlite://small.db < big.jsonl || echo "log-steps exit $?" >&2) > stopped.json; python3 -c 'import json; j = json.load(open("stopped.json")); print(j["logged"] + 1 == j["not_stored_from_line"], j["rejected"], j["store_error"])'
error: line {{*}}: database small.db: disk I/O error
error: stopped at line {{*}}: the store failed; line {{*}} and the lines after it were not stored: send them again from line {{*}}, in order
log-steps exit 1
True [] database small.db: disk I/O error

$ tail -n +$(python3 -c 'import json; print(json.load(open("stopped.json"))["not_stored_from_line"])') big.jsonl | engram --json episode log-steps $SMALL --db sqlite://small.db | grep -c '"rejected": \[\]'
1

$ engram --json episode show $SMALL --db sqlite://small.db | python3 -c 'import json, sys; s = json.load(sys.stdin)["steps"]; print(len(s), all(x["tool"] == "t%d" % x["step_number"] for x in s))'
3000 True
