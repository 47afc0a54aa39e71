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
  migrate{{*}}
  mcp{{*}}
  serve{{*}}
  demo{{*}}
...

$ engram episode log-steps --help
Log steps read from stdin, one ExecutionStep JSON a line (JSON Lines)
...
